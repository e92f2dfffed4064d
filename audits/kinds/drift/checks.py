"""Performance decay and fairness drift, judged with uncertainty on both sides.

Pure functions, no Django. Each check is run at the level the review gives it
(its share of the review's error budget, see probe.py) and breaches only when
the change is beyond what sampling noise on *both* sides can explain: the
reference figure was itself measured on a finite evaluation set, and the batch
figure on a finite batch.

Lower confidence bounds for a sum of independent proportions
    theta = sum_k c_k p_k (c_k = +1 or -1) gets the MOVER lower bound
        L = theta_hat - sqrt(sum_k (c_k p_hat_k - bound_k)^2),
    where bound_k is the Wilson score bound of c_k p_k on the side that lowers
    theta, at the same one-sided level (G. Y. Zou & A. Donner, "Construction of
    confidence limits about effect measures: A general approach", Statistics in
    Medicine 27(10), 2008; for two proportions this is R. G. Newcombe's hybrid
    score interval, "Interval estimation for the difference between independent
    proportions: comparison of eleven methods", Statistics in Medicine 17(8),
    1998, method 10). Its coverage is close to nominal, not exact: the
    simulations in tests/kinds/drift/test_checks.py and the drift benchmark
    measure the false-breach rate it actually gives.

Performance decay (accuracy)
    breach when the lower bound of (reference accuracy - batch accuracy), at the
    check's level, exceeds ``drop_max``.

Fairness drift (per sensitive feature and metric)
    A gap is max - min over groups of a rate: the selection rate for
    demographic parity; the true and false positive rates for equalized odds,
    whose gap is the larger of the two (fairlearn's *_difference metrics with
    agg="worst_case"). The check breaches when, for some ordered pair of groups
    (g, h) and rate r, the bound
        lower( b[g, r] - b[h, r] - (a[i, s] - a[j, s]) ) > max_increase
    holds against *every* audited ordered pair (i, j) and rate s (b: batch,
    a: audited). Why that is a level-a test: if the gap grew by at most
    max_increase, then b[g, r] - b[h, r] <= gap(b) <= a[i*, s*] - a[j*, s*] +
    max_increase for the pair (i*, j*, s*) that attains the true audited gap, a
    fixed pair; so a breach needs one of the k(k - 1) R contrasts against that
    pair to miss, and each is run at a / (k(k - 1) R) (Bonferroni).
    Only groups with at least ``min_group_count`` rows in each rate's
    denominator on both sides take part; with fewer than two such groups the
    check says "insufficient data" and can neither pass nor breach.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import stats

FAIRNESS_METRICS = ("demographic_parity_difference", "equalized_odds_difference")
# The rates each metric's gap is taken over: (name, numerator cells, denominator cells).
RATES = {
    "demographic_parity_difference": (("selection_rate", ("fp", "tp"), ("tn", "fp", "fn", "tp")),),
    "equalized_odds_difference": (("tpr", ("tp",), ("fn", "tp")), ("fpr", ("fp",), ("tn", "fp"))),
}
CELLS = ("tn", "fp", "fn", "tp")

INSUFFICIENT = "insufficient_data"
TESTED = "tested"


def wilson_bounds(k, n, *, alpha):
    """One-sided 1 - alpha Wilson score bounds (lower, upper) for k successes in n trials
    (arrays allowed). E. B. Wilson, "Probable inference, the law of succession, and
    statistical inference", JASA 22(158), 1927. The two-sided 1 - 2 alpha interval is the
    same pair, as statsmodels' proportion_confint(k, n, 2 * alpha, method="wilson")."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.isf(alpha)
    centre = (k + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * np.sqrt(k * (n - k) / n + z * z / 4)
    # Exactly 0 at k = 0 and 1 at k = n, and on the right side of k / n, where rounding
    # would otherwise leave a bound a hair beyond its estimate.
    p = k / n
    low = np.where(k == 0, 0.0, np.minimum(centre - half, p))
    high = np.where(k == n, 1.0, np.maximum(centre + half, p))
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def mover_lower(terms, *, alpha):
    """MOVER lower bound of sum(sign * p) over independent proportions.

    ``terms`` is a list of (sign, k, n); sign +1 or -1. See the module docstring.
    """
    estimate, spread = 0.0, 0.0
    for sign, k, n in terms:
        p = k / n
        low, high = wilson_bounds(k, n, alpha=alpha)
        # The side of p's interval that lowers the sum: its lower bound for +p, its upper for -p.
        gap = p - float(low) if sign > 0 else float(high) - p
        estimate += sign * p
        spread += gap * gap
    return estimate - float(np.sqrt(spread))


def performance_decay(*, correct, n, reference_correct=None, reference_n=None,
                      reference_accuracy=None, drop_max, level, min_rows):
    """Accuracy drop from the reference (evaluation) set to the labelled batch.

    ``reference_correct``/``reference_n`` are the audited accuracy's counts. A
    bare ``reference_accuracy`` without its row count is shown but cannot be
    judged: its uncertainty is unknown. ``level`` is this check's share of the
    review's error budget.
    """
    accuracy = correct / n if n else None
    reference = reference_correct / reference_n if reference_n else reference_accuracy
    out = {
        "metric": "accuracy", "n": int(n), "reference_n": None if reference_n is None else int(reference_n),
        "reference": reference, "current": accuracy,
        "drop": None if accuracy is None or reference is None else reference - accuracy,
        "drop_max": float(drop_max), "level": float(level), "drop_lower_bound": None,
        "status": TESTED, "breach": False,
    }
    if reference_n is None or n < min_rows or reference_n < min_rows:
        out["status"] = INSUFFICIENT
        return out
    lower = mover_lower([(+1, reference_correct, reference_n), (-1, correct, n)], alpha=level)
    out.update(drop_lower_bound=lower, breach=bool(lower > drop_max))
    return out


def fairness_change(*, audited, current, metrics, max_increase, level, min_group_count):
    """Per sensitive feature and metric: has the gap grown by more than ``max_increase``?

    ``audited`` and ``current`` map feature -> group -> confusion cells
    {"tn", "fp", "fn", "tp"}. Every (feature, metric) pair is one check at ``level``.
    """
    results = []
    for feature in audited:
        if feature not in current:
            continue
        for metric in metrics:
            results.append(_gap_check(feature, metric, audited[feature], current[feature],
                                      max_increase=max_increase, level=level,
                                      min_group_count=min_group_count))
    return {
        "metrics": results,
        "max_increase": float(max_increase),
        "min_group_count": int(min_group_count),
        "level": float(level),
        "breach": any(c["breach"] for c in results),
    }


def fairness_testable_count(*, audited, current, metrics, min_group_count, max_increase=None):
    """How many of ``fairness_change``'s checks have two groups to compare (the review
    splits its budget over tested checks only)."""
    return sum(len(_eligible(audited[f], current[f], RATES[m], min_group_count)) >= 2
               for f in audited if f in current for m in metrics)


def _eligible(before, after, rates, min_group_count):
    """Groups with at least min_group_count rows in every rate's denominator, on both sides."""
    return [g for g in before if g in after and all(
        _total(before[g], den) >= min_group_count and _total(after[g], den) >= min_group_count
        for _, _, den in rates)]


def _gap_check(feature, metric, before, after, *, max_increase, level, min_group_count):
    rates = RATES[metric]
    groups = _eligible(before, after, rates, min_group_count)
    left_out = sorted((set(before) | set(after)) - set(groups), key=str)
    entry = {
        "metric": f"{metric} ({feature})", "feature": feature, "name": metric,
        "groups": groups, "groups_left_out": left_out,
        "audited": _gap(before, groups, rates), "current": _gap(after, groups, rates),
        "change": None, "change_lower_bound": None, "status": TESTED, "breach": False,
    }
    if len(groups) < 2:
        entry["status"] = INSUFFICIENT
        return entry
    entry["change"] = entry["current"] - entry["audited"]
    pairs = np.array(list(itertools.permutations(range(len(groups)), 2)))
    per_contrast = level / (len(pairs) * len(rates))
    # Every contrast b[g] - b[h] - (a[i] - a[j]) at once: the batch pairs down, the audited across.
    b_est, b_spread = _pair_terms(after, groups, rates, pairs, alpha=per_contrast, subtracted=False)
    a_est, a_spread = _pair_terms(before, groups, rates, pairs, alpha=per_contrast, subtracted=True)
    lower = b_est[:, None] - a_est[None, :] - np.sqrt(b_spread[:, None] + a_spread[None, :])
    bound = float(np.max(np.min(lower, axis=1)))
    entry.update(change_lower_bound=bound, breach=bool(bound > max_increase))
    return entry


def _pair_terms(side, groups, rates, pairs, *, alpha, subtracted):
    """Per (ordered pair, rate): the estimate p[g] - p[h] and the MOVER spread on the side
    that lowers the contrast: (p[g] - lower[g])^2 + (upper[h] - p[h])^2 when p[g] - p[h] is
    added, (upper[g] - p[g])^2 + (p[h] - lower[h])^2 when it is subtracted."""
    estimates, spreads = [], []
    for _, num, den in rates:
        k = np.array([_total(side[g], num) for g in groups], dtype=float)
        n = np.array([_total(side[g], den) for g in groups], dtype=float)
        p = k / n
        low, high = wilson_bounds(k, n, alpha=alpha)
        g, h = pairs[:, 0], pairs[:, 1]
        estimates.append(p[g] - p[h])
        if subtracted:
            spreads.append((high[g] - p[g]) ** 2 + (p[h] - low[h]) ** 2)
        else:
            spreads.append((p[g] - low[g]) ** 2 + (high[h] - p[h]) ** 2)
    return np.concatenate(estimates), np.concatenate(spreads)


def _total(cells, names):
    return sum(int(cells.get(name, 0)) for name in names)


def _gap(side, groups, rates):
    if len(groups) < 2:
        return None
    worst = 0.0
    for _, num, den in rates:
        values = [_total(side[g], num) / _total(side[g], den) for g in groups]
        worst = max(worst, max(values) - min(values))
    return float(worst)
