"""Confidence intervals with coverage that follows from a union bound, not from an approximation.

Per group, a rate (accuracy, selection rate, TPR, FPR, precision) is x successes out of n
trials; its interval is the Clopper–Pearson exact interval (Clopper & Pearson 1934,
Biometrika 26(4):404–413): lower = Beta(t; x, n - x + 1) quantile, upper = Beta(1 - t; x + 1,
n - x) quantile, so each side misses the true rate with probability at most t for every true
rate and every n. It always contains x / n, is 0 at x = 0 and 1 at x = n. Conditional on n it
is exact, so it holds as well when n (the group's size, its positives, its positive decisions)
is itself random.

A disparity over k groups is a function of the k rates; its interval is the range that
function takes over the per-group intervals (the projection of simultaneous intervals; the
Bonferroni inequality makes them simultaneous: Casella & Berger, Statistical Inference, 2nd
ed., section 11.2.1, and Hsu, Multiple Comparisons, 1996, section 1.3.5). With L_g <= p_g <=
U_g for all g:

    difference D = max p - min p  in  [max(0, max L - min U), max U - min L]
    ratio      R = min p / max p  in  [min L / max U, min(1, min U / max L)]

Each bound is wrong only when some group's own bound is: D's upper bound only when the
highest group's U or the lowest group's L misses (2 one-sided events), D's lower bound when
any of the 2k one-sided bounds misses; the other way round for R. So a bound whose failure
needs one of 2 events uses t = side / 2 and one that needs one of 2k uses t = side / (2k),
where side is the probability allowed on that side; both sides together miss with
probability at most miss = 2 * side. Equalized odds combine two such disparities (TPR and
FPR, max of the differences, min of the ratios), so each gets half of each side. Because
every per-group interval contains its estimate, every combined interval contains the
disparity's estimate, stays in [0, 1] and reaches 0 (difference) or 1 (ratio) when the
groups' intervals overlap.

Calibration error (ECE, 10 score bins) of one group is judged given its scores: the bin
weights n_b / n and mean scores are as observed, the unknown is each bin's positive rate
pi_b, whose Clopper–Pearson interval (Bonferroni over the group's occupied bins) bounds the
bin's gap |mean score - pi_b| and so the weighted sum, the "consistency bars" idea of
Broecker & Smith (2007, Weather and Forecasting 22(3):651–661). Labels in a bin with
different scores form a Poisson-binomial count, whose far tails are lighter than the
binomial's (Hoeffding 1956, Ann. Math. Statist. 27(3):713–721, Theorem 4), so the binomial
interval stays conservative there.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaincinv

from audits.kinds.fairness.probe.counts import ECE, FAIRLEARN_DISPARITIES, METRICS

RATE_PARTS = {  # metric -> (numerator cells, denominator cells); cell index = 2 * y_true + y_pred
    "accuracy": ((0, 3), (0, 1, 2, 3)),
    "selection_rate": ((1, 3), (0, 1, 2, 3)),
    "tpr": ((3,), (2, 3)),
    "fpr": ((1,), (0, 1)),
    "precision": ((3,), (1, 3)),
}
EQUALIZED_ODDS = ("tpr", "fpr")
DEMOGRAPHIC_PARITY = {
    "demographic_parity_difference": "selection_rate_difference",
    "demographic_parity_ratio": "selection_rate_ratio",
}


def clopper_pearson(x, n, tail):
    """One-sided bounds (lower, upper), each missing the true rate with probability <= tail.
    NaN where n = 0. Broadcasts over x, n and tail."""
    x, n = np.asarray(x, dtype=np.float64), np.asarray(n, dtype=np.float64)
    tail = np.asarray(tail, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        # The guards keep the Beta shapes positive where the bound is 0 or 1 anyway.
        low = np.where(x > 0, betaincinv(np.maximum(x, 1), np.maximum(n - x + 1, 1), tail), 0.0)
        high = np.where(x < n, betaincinv(x + 1, np.maximum(n - x, 1), 1 - tail), 1.0)
    empty = n <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def rate_counts(cells, metric):
    """(successes, trials) of a rate from confusion cells (..., 4)."""
    numerator, denominator = RATE_PARTS[metric]
    return cells[..., list(numerator)].sum(-1), cells[..., list(denominator)].sum(-1)


def rate_interval(cells, metric, *, tail):
    return clopper_pearson(*rate_counts(cells, metric), tail)


def ece_interval(ece_sums, *, miss):
    """Bounds on each group's ECE, (..., k, bins, 3) -> two (..., k) arrays, that are both
    right with probability >= 1 - miss: each occupied bin gets miss / bins, split in two tails."""
    count, score_sum, y_sum = np.moveaxis(np.asarray(ece_sums, dtype=np.float64), -1, 0)
    occupied = np.maximum((count > 0).sum(-1, keepdims=True), 1)
    low_pi, high_pi = clopper_pearson(y_sum, count, miss / (2 * occupied))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = score_sum / count
        weight = count / count.sum(-1, keepdims=True)
    # |mean score - pi| over pi in [low_pi, high_pi]: its distance to the interval, and its farthest end.
    near = np.maximum(0.0, np.maximum(mean_score - high_pi, low_pi - mean_score))
    far = np.maximum(np.abs(mean_score - low_pi), np.abs(mean_score - high_pi))
    used = count > 0
    low = np.where(used, weight * near, 0.0).sum(-1)
    high = np.minimum(np.where(used, weight * far, 0.0).sum(-1), 1.0)
    empty = count.sum(-1) <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def group_interval(cells, ece_sums, metric, *, tail):
    """Per-group bounds on a metric, each side wrong with probability <= tail."""
    if metric == ECE:
        return ece_interval(ece_sums, miss=np.asarray(tail)[..., np.newaxis])
    return rate_interval(cells, metric, tail=tail)


def disparity_bounds(bounds, include, *, kind):
    """Combine per-group bounds into bounds on the difference or the ratio over the included
    groups. ``bounds(events)`` returns the per-group (lower, upper) whose one-sided tails are
    the side's budget divided by ``events``: 2 for the bound that only the top or the bottom
    group can break, 2k for the one that any group can (see the module docstring)."""
    include = np.asarray(include, dtype=bool)
    k = include.sum(-1)
    pair, every = bounds(2), bounds(2 * np.maximum(k, 1)[..., np.newaxis])

    def high_of(a):
        return np.where(include, a, -np.inf).max(-1)

    def low_of(a):
        return np.where(include, a, np.inf).min(-1)

    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "difference":
            low = np.maximum(0.0, high_of(every[0]) - low_of(every[1]))
            high = high_of(pair[1]) - low_of(pair[0])
        else:
            low = low_of(pair[0]) / high_of(pair[1])
            top = high_of(every[0])
            high = np.where(top > 0, np.minimum(1.0, low_of(every[1]) / top), 1.0)
    few = k < 2
    return np.where(few, np.nan, low), np.where(few, np.nan, high)


def metric_disparity(cells, ece_sums, include, metric, kind, *, side):
    """Bounds on one metric's difference or ratio, each side wrong with probability <= side."""
    def bounds(events):
        return group_interval(cells, ece_sums, metric, tail=side / events)

    return disparity_bounds(bounds, include, kind=kind)


def named_interval(cells, ece_sums, include, name, *, miss):
    """The interval of one disparity by its threshold name (``demographic_parity_difference``,
    ``accuracy_ratio``, ...), both sides together wrong with probability <= miss."""
    side = miss / 2
    if name in ("equalized_odds_difference", "equalized_odds_ratio"):
        # The worse of two disparities: each gets half of each side.
        kind = name.rpartition("_")[2]
        tpr, fpr = (metric_disparity(cells, ece_sums, include[m], m, kind, side=side / 2) for m in EQUALIZED_ODDS)
        worse = np.maximum if kind == "difference" else np.minimum
        return worse(tpr[0], fpr[0]), worse(tpr[1], fpr[1])
    metric, _, kind = DEMOGRAPHIC_PARITY.get(name, name).rpartition("_")
    return metric_disparity(cells, ece_sums, include[metric], metric, kind, side=side)


def disparity_intervals(cells, ece_sums, include, *, miss):
    """Every disparity's interval at total miss probability ``miss``, shaped like the point
    estimates: {metric: {"difference": (lo, hi), "ratio": (lo, hi)},
    "demographic_parity_difference": (lo, hi), ...}."""
    metrics = METRICS + ((ECE,) if ece_sums is not None else ())
    out = {metric: {kind: named_interval(cells, ece_sums, include, f"{metric}_{kind}", miss=miss)
                    for kind in ("difference", "ratio")} for metric in metrics}
    for name in FAIRLEARN_DISPARITIES:
        out[name] = named_interval(cells, ece_sums, include, name, miss=miss)
    return out


def impact_ratio_intervals(cells, include, *, miss):
    """Four-fifths impact ratio p_g / max p over the included groups: lower L_g / max U is wrong
    only if g's L or the top group's U is (2 events); upper U_g / max L only if g's U or any
    included L is (k + 1 events). Unbounded above (inf) for a group whose upper bound has
    nothing above 0 to compare with."""
    side = miss / 2
    k = max(int(np.asarray(include).sum()), 1)
    pair_low, pair_high = rate_interval(cells, "selection_rate", tail=side / 2)
    all_low, all_high = rate_interval(cells, "selection_rate", tail=side / (k + 1))
    if not np.asarray(include).any():
        nan = np.full(len(cells), np.nan)
        return nan, nan
    with np.errstate(invalid="ignore", divide="ignore"):
        low = pair_low / pair_high[include].max()
        top = all_low[include].max()
        high = all_high / top if top > 0 else np.full(len(cells), np.inf)
    # A compared group cannot exceed the top rate; a group left out (too few rows) can.
    return low, np.where(include, np.minimum(high, 1.0), high)
