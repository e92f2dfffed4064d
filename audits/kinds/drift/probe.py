"""Drift review: compare a production batch with the reference (training) data.

Pure functions, no Django. ``drift_review`` is the entry point; every statistic
is computed by a small primitive below it so tests can check each one against
scipy or a hand-computed value. Performance decay and fairness drift live in
``checks.py`` beside this module.

One error budget per review
    A review runs m checks: one test per feature with enough batch values, one
    for the model's output, one for accuracy on labelled batch rows (or, on a
    batch without labels, one for the accuracy estimated from the model's
    calibrated scores, cbpe.py), and one per sensitive feature and fairness
    metric. The review's budget ``alpha``
    (default 0.01) is split evenly: each check is judged at alpha / m
    (Bonferroni), so the chance that a batch drawn from the reference
    distribution breaches anywhere is at most the sum of the checks' own
    false-breach rates, at most alpha when each holds its level, whatever the
    dependence between checks (C. E. Bonferroni, 1936; any multiple-testing
    text, e.g. J. C. Hsu, *Multiple Comparisons*, Chapman & Hall 1996). The KS
    tests hold their level exactly (scipy's exact distribution) or
    asymptotically; the chi-square and the accuracy and fairness bounds to the
    accuracy of their approximations, which tests/benchmarks/
    bench_verdicts_drift.py measures (BENCHMARKS.md, "Verdicts: drift"). A feature's
    "adjusted p-value" is min(1, m * p); it drifts when that is below alpha AND
    its PSI is at least moderate (an effect-size floor: with a million rows a
    negligible shift is "significant"). PSI alone never breaches: at 100 rows
    its sampling noise alone reaches the "major" band. Benjamini-Hochberg, the
    earlier default, controls the false discovery rate, not the chance of a
    false breach, and is no longer accepted.

Minimum evidence
    A batch with fewer than ``min_batch_rows`` rows, a feature with fewer than
    that many values in the batch, accuracy on fewer labelled rows, and a
    fairness gap over groups smaller than ``min_group_count`` say "insufficient
    data": they are reported, never a breach, and spend none of the budget.

Numeric features
    * PSI on reference-quantile bins: the ``psi_bins - 1`` inner edges are the
      reference quantiles at ``1/psi_bins, ..., (psi_bins-1)/psi_bins``, taken
      as observed values (numpy ``method="inverted_cdf"``: the smallest value
      whose ECDF reaches q, so integer-valued features get no phantom edges
      between two values), deduplicated; the outer edges are open (-inf, +inf)
      so batch values outside the reference range land in the end bins. Bins
      are right-closed: ``(e[i-1], e[i]]``, so the bin ending at the q-quantile
      holds at least a q share of the reference.
    * Two-sample Kolmogorov-Smirnov statistic (``ks_statistic``, equal to
      ``scipy.stats.ks_2samp``'s) and a test of correct size. Without ties the
      p-value is scipy's (two-sided, ``method="auto"``). With ties (integer
      ages, counts, durations) that p-value is far too conservative: it assumes
      a continuous distribution, and ties can only lower the statistic
      (0.6% rejections at 0.05 for Poisson(2) samples of 300). There the test
      breaks ties at random: rows are ranked by (value, an independent uniform
      key), and the KS test runs on those ranks. Under the null hypothesis the
      batch's ranks are then a uniformly random subset of 1..n+m, exactly the
      continuous case, so scipy's exact / asymptotic p-value has its nominal
      size (randomised ranks for ties: J. Hajek, Z. Sidak & P. K. Sen, *Theory
      of Rank Tests*, 2nd ed., Academic Press 1999, on ties; W. J. Conover,
      *Practical Nonparametric Statistics*, 3rd ed., Wiley 1999, on KS being
      conservative for discrete data). The key comes from the review's
      ``seed``, so a review is reproducible. ``test`` names which was used.
    * Wasserstein-1 distance, equal to ``scipy.stats.wasserstein_distance``,
      and the same divided by the reference standard deviation (unit-free,
      what Evidently calls "normed"), ``None`` when that deviation is 0.
    Each column is sorted once; KS, Wasserstein and the PSI bins all read the
    sorted arrays, which is what makes a million rows cheap.

Categorical features
    * Chi-square *contingency* test on the 2 x K table of reference and batch
      counts (``scipy.stats.chi2_contingency``, no Yates correction). We use the
      contingency test rather than goodness-of-fit against the reference
      proportions because the reference is itself a sample, and because a
      category unseen in the reference would make a goodness-of-fit statistic
      infinite. Sparse categories make the chi-square approximation liberal
      (7.9% rejections at 0.05 for 40 Zipf categories and a batch of 100), so
      categories whose expected count in either row would be below 5
      (W. G. Cochran, "Some methods for strengthening the common chi-square
      tests", Biometrics 10(4), 1954) are merged, rarest first, into one
      "(rare)" column until every expected count is at least 5. The merge
      reads only the pooled counts, which the null hypothesis leaves fixed,
      so it does not bias the test. ``merged_categories`` names them; with
      fewer than two columns left there is nothing to test (p-value None).
    * PSI over the union of categories (unmerged).
    * Jensen-Shannon distance, base 2, equal to
      ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
    * Categories present in the batch but not in the reference are reported by
      name in ``unseen_categories``.

PSI and empty bins
    PSI = sum_i (c_i - r_i) * ln((c_i + eps) / (r_i + eps)) with
    eps = ``PSI_EPSILON`` = 1e-4 added to both proportions inside the log, so
    an empty bin on either side gives a large but finite term. (Adding eps to
    the difference too would cancel, so the difference is left as is.)

Missing values
    NaN and +-inf in numeric columns, and NaN/None in categorical columns, are
    left out of the distributions; their fractions are reported per feature.
    A feature with no values at all in a batch of at least ``min_batch_rows``
    rows is a breach: that is a broken pipeline, not sampling noise.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from audits.kinds.drift import cbpe, checks
from audits.kinds.drift.checks import FAIRNESS_METRICS, INSUFFICIENT, TESTED
from audits.kinds.drift.rule import DEFAULT_ALPHA, MIN_BATCH_ROWS, MIN_GROUP_COUNT  # noqa: F401 - the probe's defaults

PSI_EPSILON = 1e-4
# scipy.stats.ks_2samp(method="auto") is exact up to this size, asymptotic above.
KS_EXACT_MAX_N = 10_000
# Categorical overlays keep the most frequent categories; the rest are summed
# into one "(other)" bar so the stored JSON stays small for high cardinality.
OVERLAY_MAX_CATEGORIES = 30
OVERLAY_OTHER = "(other)"
RARE = "(rare)"
MIN_EXPECTED = 5  # Cochran's rule for the chi-square approximation
# The review's family-wise rule; p-value adjustments offered as primitives.
CORRECTIONS = ("bonferroni",)
ADJUSTMENTS = ("benjamini-hochberg", "bonferroni")
NO_VALUES = "no_values"

ERR_NOT_DATAFRAME = "{name} must be a pandas DataFrame."
ERR_NO_FEATURES = "Give at least one column in numeric or categorical."
ERR_MISSING_COLUMN = "Column '{column}' is missing from {name}."
ERR_OVERLAP = "Columns listed as both numeric and categorical: {columns}."
ERR_DUPLICATE_COLUMN = "Column '{column}' is listed more than once."
ERR_NOT_NUMERIC = "Column '{column}' is listed as numeric but holds non-numeric values."
ERR_EMPTY_REFERENCE = "Column '{column}' has no non-missing values in the reference."
ERR_PSI_BINS = "psi_bins must be an integer >= 2, got {value!r}."
ERR_ALPHA = "alpha must be a number strictly between 0 and 1, got {value!r}."
ERR_CORRECTION = (
    "correction must be one of {choices}, got {value!r}: a review's breach must control the "
    "chance of any false breach (family-wise), which the false discovery rate does not."
)
ERR_ADJUSTMENT = "method must be one of {choices}, got {value!r}."
ERR_PSI_BANDS = "psi_bands must be two numbers 0 < moderate < major, got {value!r}."
ERR_MIN_ROWS = "{name} must be an integer >= 1, got {value!r}."
ERR_SEED = "seed must be an integer >= 0, got {value!r}."
ERR_PREDICTIONS_PAIR = "reference_predictions needs current_predictions."
ERR_PREDICTIONS_1D = "{name} must be one-dimensional (one prediction per row)."
ERR_LABELS_NEED_PREDICTIONS = "current_labels needs current_predictions."
ERR_LABELS_LENGTH = (
    "current_labels has {n_labels} rows but current_predictions has {n_predictions}."
)
ERR_REFERENCE_ACCURACY = "reference_accuracy must be between 0 and 1, got {value!r}."
ERR_REFERENCE_ROWS = "reference_accuracy_rows must be an integer >= 1 or None, got {value!r}."
ERR_DROP_MAX = "performance_drop_max must be a number >= 0, got {value!r}."
ERR_ESTIMATE = ("performance_estimate must be cbpe.performance_estimate's answer: a dict with numbers "
                "estimate, low, high, variance and n.")
ERR_FAIRNESS = (
    'fairness_drift must be a dict {"audited": {feature: {group: {"tn", "fp", "fn", "tp"}}}, '
    '"current": {same}, "metrics": [names], "max_increase": number >= 0}; metrics are '
    + ", ".join(FAIRNESS_METRICS) + "."
)


# ---------------------------------------------------------------- primitives


def psi_from_proportions(reference, current, *, epsilon=PSI_EPSILON):
    """Population stability index of two proportion vectors over the same bins."""
    r = np.asarray(reference, dtype=float)
    c = np.asarray(current, dtype=float)
    return float(np.sum((c - r) * np.log((c + epsilon) / (r + epsilon))))


def psi_band(psi, *, bands=(0.1, 0.25)):
    """'stable' below bands[0], 'moderate' up to bands[1], 'major' from bands[1]."""
    if psi is None:
        return None
    if psi >= bands[1]:
        return "major"
    return "moderate" if psi >= bands[0] else "stable"


def quantile_edges(sorted_reference, *, bins):
    """Deduplicated inner edges: observed reference quantiles at 1/bins .. (bins-1)/bins."""
    qs = np.arange(1, bins) / bins
    return np.unique(np.quantile(sorted_reference, qs, method="inverted_cdf"))


def binned_proportions(sorted_values, edges):
    """Proportions in the right-closed bins (-inf, e0], (e0, e1], ..., (ek, inf)."""
    n = len(sorted_values)
    at_or_below = np.searchsorted(sorted_values, edges, side="right")
    counts = np.diff(np.concatenate(([0], at_or_below, [n])))
    return counts / n


def ks_statistic_sorted(a, b):
    """Two-sided KS statistic of two *sorted* samples, as scipy's ks_2samp.

    The ECDF difference is a right-continuous step function, so its largest
    absolute value is reached at a data point; inside a run of ties only the
    last element matters, so we evaluate each sample at its tie-group ends and
    look up the other sample's ECDF with one searchsorted of sorted queries.
    """
    n, m = len(a), len(b)
    best = 0.0
    for own, other, n_own, n_other in ((a, b, n, m), (b, a, m, n)):
        ends = np.flatnonzero(np.append(own[1:] != own[:-1], True))
        cdf_own = (ends + 1) / n_own
        cdf_other = np.searchsorted(other, own[ends], side="right") / n_other
        best = max(best, float(np.max(np.abs(cdf_own - cdf_other))))
    return best


def ks_pvalue(statistic, a, b):
    """P-value as scipy.stats.ks_2samp(method="auto") computes it.

    Small samples use scipy's exact distribution (calling ks_2samp itself is
    cheap there); large ones use the same asymptotic formula scipy uses,
    ``kstwo.sf(D, round(n*m/(n+m)))``, without re-sorting a million rows.
    """
    n, m = len(a), len(b)
    if max(n, m) <= KS_EXACT_MAX_N:
        return float(stats.ks_2samp(a, b).pvalue)
    big, small = sorted([float(n), float(m)], reverse=True)
    en = big * small / (big + small)
    return float(np.clip(stats.kstwo.sf(statistic, np.round(en)), 0.0, 1.0))


def wasserstein_sorted(a, b):
    """Wasserstein-1 distance of two *sorted* samples, as scipy's.

    W1 = integral over t in (0, 1] of |Qa(t) - Qb(t)|, the quantile functions
    being step functions that change at i/n and j/m. In integer units of
    1/(n*m) those breakpoints are i*m and j*n; merging them (one sort of two
    already-sorted integer runs) gives every segment, its width and the order
    statistic of each sample on it: Qa = a[ceil(T/m) - 1].
    """
    n, m = len(a), len(b)
    if n == m:
        # Every breakpoint is shared: the integral is the mean gap of order statistics.
        return float(np.mean(np.abs(a - b)))
    breaks = np.concatenate(
        (np.arange(1, n + 1, dtype=np.int64) * m, np.arange(1, m + 1, dtype=np.int64) * n)
    )
    breaks.sort(kind="stable")
    ia = (breaks + m - 1) // m - 1
    ib = (breaks + n - 1) // n - 1
    widths = np.diff(breaks, prepend=0) / (float(n) * float(m))
    return float(np.sum(widths * np.abs(a[ia] - b[ib])))


def adjust_pvalues(pvalues, *, method="benjamini-hochberg"):
    """Benjamini-Hochberg step-up or Bonferroni adjusted p-values, capped at 1.

    BH: p_adj(i) = min over j >= i of (m / j) * p(j), on p sorted ascending;
    equal to ``scipy.stats.false_discovery_control(p, method="bh")``.
    """
    if method not in ADJUSTMENTS:
        raise ValueError(ERR_ADJUSTMENT.format(choices=ADJUSTMENTS, value=method))
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    if m == 0:
        return []
    if method == "bonferroni":
        return np.minimum(p * m, 1.0).tolist()
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    stepped = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted.tolist()



def is_drifted(psi, p_adjusted, *, alpha, psi_bands):
    """The decision rule: significant at the review's budget AND at least moderate.

    A p-value alone is not enough: with a million rows a negligible shift is
    "significant". A PSI alone is not enough either: on a small batch its noise
    alone reaches the major band, and a breach must spend the error budget.
    """
    if psi is None or p_adjusted is None:
        return False
    return bool(p_adjusted < alpha and psi >= psi_bands[0])


def has_ties(a, b):
    """Whether two *sorted* samples share a value or repeat one."""
    pooled = np.sort(np.concatenate((a, b)), kind="mergesort")
    return bool(len(pooled) > 1 and np.any(pooled[1:] == pooled[:-1]))


def tie_broken_ranks(a, b, *, rng):
    """Ranks 1..n+m of the two samples after breaking ties at random, each side sorted.

    Rows are ordered by (value, independent uniform key): within a run of equal
    values every order is equally likely, so under the null hypothesis the
    batch's ranks are a uniformly random subset, as with continuous data.
    """
    values = np.concatenate((a, b))
    side = np.concatenate((np.zeros(len(a), dtype=bool), np.ones(len(b), dtype=bool)))
    order = np.lexsort((rng.random(len(values)), values))
    ranks = np.arange(1, len(values) + 1, dtype=float)
    in_b = side[order]
    return ranks[~in_b], ranks[in_b]


def ks_test(a, b, *, rng):
    """(test name, statistic the p-value belongs to, p-value) of two *sorted* samples.

    Without ties: scipy's KS test. With ties: the KS test on randomly
    tie-broken ranks (see the module docstring), whose size is nominal.
    """
    if not has_ties(a, b):
        statistic = ks_statistic_sorted(a, b)
        return "ks", statistic, ks_pvalue(statistic, a, b)
    ra, rb = tie_broken_ranks(a, b, rng=rng)
    statistic = ks_statistic_sorted(ra, rb)
    return "ks_random_ties", statistic, ks_pvalue(statistic, ra, rb)


def merge_sparse_categories(r, c, *, min_expected=MIN_EXPECTED):
    """Column index per category so that every expected count of the 2 x K table is >= min_expected.

    Expected counts are row total x pooled column count / grand total, so the
    smaller row needs a pooled count >= min_expected x total / smaller row.
    Categories below that go, rarest first, into one last column, which keeps
    taking the next rarest until it is large enough itself. Returns (column
    index per category, number of columns, indices merged).
    """
    pooled = r + c
    total = pooled.sum()
    smaller = min(r.sum(), c.sum())
    if smaller == 0:
        return np.zeros(len(r), dtype=int), 1, list(range(len(r)))
    need = min_expected * total / smaller
    order = np.argsort(pooled, kind="stable")
    merged, merged_total = [], 0.0
    for i in order:
        if pooled[i] >= need and (not merged or merged_total >= need):
            break
        merged.append(int(i))
        merged_total += pooled[i]
    keep = [i for i in range(len(r)) if i not in set(merged)]
    column = np.empty(len(r), dtype=int)
    for j, i in enumerate(keep):
        column[i] = j
    column[merged] = len(keep)
    return column, len(keep) + (1 if merged else 0), merged


# ------------------------------------------------------ per-feature statistics


def numeric_values(frame, column):
    """(finite values, missing count) of a numeric column; NaN and +-inf are missing."""
    try:
        values = frame[column].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(ERR_NOT_NUMERIC.format(column=column)) from exc
    finite = np.isfinite(values)
    return values[finite], int(len(values) - finite.sum())


def numeric_drift(reference, current, *, bins, rng=None):
    """PSI, KS and Wasserstein of two 1-d float arrays (missing already removed).

    ``rng`` breaks ties for the KS test (a fresh seed-0 generator when None).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    a = np.sort(reference)
    result = {"test": "ks", "psi": None, "ks_statistic": None, "test_statistic": None,
              "p_value": None, "wasserstein": None, "wasserstein_normed": None}
    edges = quantile_edges(a, bins=bins)
    ref_props = binned_proportions(a, edges)
    result["overlay"] = {"edges": edges.tolist(), "reference": ref_props.tolist(),
                         "current": None}
    if len(current) == 0:
        return result
    b = np.sort(current)
    cur_props = binned_proportions(b, edges)
    test, test_statistic, p_value = ks_test(a, b, rng=rng)
    distance = wasserstein_sorted(a, b)
    std = float(np.std(a))
    result.update(
        test=test,
        psi=psi_from_proportions(ref_props, cur_props),
        ks_statistic=ks_statistic_sorted(a, b),
        test_statistic=float(test_statistic),
        p_value=float(p_value),
        wasserstein=distance,
        wasserstein_normed=distance / std if std > 0 else None,
    )
    result["overlay"]["current"] = cur_props.tolist()
    return result


def category_counts(series):
    """Counts per category name (str), missing values left out, most frequent first
    (ties in order of first appearance)."""
    # Names are stored as text; 1 and "1" would merge, which JSON would force anyway.
    # Counting the values themselves (not a category dtype's categories) leaves out
    # unused categories, which would put empty columns in the test.
    values = series[series.notna()].to_numpy(dtype=object)
    codes, uniques = pd.factorize(values)
    # Text only for the distinct values; then values whose text is equal merge.
    codes_by_name, names = pd.factorize(np.array([str(u) for u in uniques], dtype=object))
    counts = np.bincount(codes_by_name[codes], minlength=len(names)) if len(codes) else np.zeros(0, int)
    order = np.argsort(-counts, kind="stable")
    names = np.asarray(names, dtype=object)
    return pd.Series(counts[order], index=pd.Index(names[order], dtype=object))


def categorical_drift(reference, current):
    """Chi-square contingency test (sparse categories merged), PSI and Jensen-Shannon of two Series."""
    ref_counts = category_counts(reference)
    cur_counts = category_counts(current)
    position = {name: i for i, name in enumerate(ref_counts.index)}
    unseen = [name for name in cur_counts.index if name not in position]
    for name in unseen:
        position[name] = len(position)
    names = list(position)
    r = np.zeros(len(names))
    r[:len(ref_counts)] = ref_counts.to_numpy(dtype=float)
    c = np.zeros(len(names))
    c[[position[name] for name in cur_counts.index]] = cur_counts.to_numpy(dtype=float)
    result = {"test": "chi2", "psi": None, "chi2_statistic": None, "dof": None,
              "p_value": None, "js_distance": None, "unseen_categories": unseen,
              "merged_categories": []}
    if c.sum() > 0:
        result.update(_categorical_statistics(names, r, c))
    result["overlay"] = _category_overlay(names, r, c)
    return result


def chi2_contingency_2xk(table):
    """(statistic, p-value, dof) of Pearson's chi-square on a 2 x K table, equal to
    ``scipy.stats.chi2_contingency(table, correction=False)`` without its overhead."""
    table = np.asarray(table, dtype=float)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    return statistic, float(stats.chi2.sf(statistic, dof)), int(dof)


def _categorical_statistics(names, r, c):
    ref_props, cur_props = r / r.sum(), c / c.sum()
    column, n_columns, merged = merge_sparse_categories(r, c)
    statistic, p_value, dof = None, None, None
    if len(r) < 2:
        # One category on both sides: nothing can have moved.
        statistic, p_value, dof = 0.0, 1.0, 0
    elif n_columns >= 2:
        table = np.zeros((2, n_columns))
        np.add.at(table[0], column, r)
        np.add.at(table[1], column, c)
        statistic, p_value, dof = chi2_contingency_2xk(table)
    return {
        "psi": psi_from_proportions(ref_props, cur_props),
        "chi2_statistic": statistic,
        "dof": dof,
        "p_value": p_value,
        "js_distance": float(jensenshannon(ref_props, cur_props, base=2)),
        "merged_categories": [names[i] for i in merged],
    }


def _category_overlay(names, r, c):
    ref_props = r / r.sum()
    cur_props = c / c.sum() if c.sum() > 0 else np.zeros_like(c)
    keep = len(names)
    if keep > OVERLAY_MAX_CATEGORIES:
        keep = OVERLAY_MAX_CATEGORIES - 1
        top = np.argsort(-(ref_props + cur_props), kind="stable")[:keep]
        rest = np.setdiff1d(np.arange(len(names)), top)
        names = [names[i] for i in top] + [OVERLAY_OTHER]
        ref_props = np.append(ref_props[top], ref_props[rest].sum())
        cur_props = np.append(cur_props[top], cur_props[rest].sum())
    return {
        "categories": list(names),
        "reference": ref_props.tolist(),
        "current": cur_props.tolist() if c.sum() > 0 else None,
    }


# ------------------------------------------------------------------ the review


def drift_review(
    reference,
    current,
    *,
    numeric,
    categorical,
    psi_bins=10,
    alpha=DEFAULT_ALPHA,
    correction="bonferroni",
    psi_bands=(0.1, 0.25),
    min_batch_rows=MIN_BATCH_ROWS,
    min_group_count=MIN_GROUP_COUNT,
    seed=0,
    reference_predictions=None,
    current_predictions=None,
    current_labels=None,
    reference_accuracy=None,
    reference_accuracy_rows=None,
    performance_drop_max=0.05,
    fairness_drift=None,
    performance_estimate=None,
):
    """Review a production batch (``current``) against ``reference`` data.

    The review's error budget ``alpha`` is split evenly over its m checks
    (Bonferroni; see the module docstring). A feature drifts when its p-value
    times m is below ``alpha`` AND its PSI >= ``psi_bands[0]``; the model's
    output likewise. The default bands read PSI < 0.1 stable, 0.1-0.25
    moderate, >= 0.25 major: the convention of credit-risk scorecard
    monitoring (N. Siddiqi, *Credit Risk Scorecards*, Wiley 2006; B. Yurdakul &
    J. Naranjo, "Statistical properties of the population stability index",
    Journal of Risk Model Validation 14(4), 2020).

    Accuracy on labelled batch rows (``current_labels``) is compared with
    ``reference_accuracy``, measured on ``reference_accuracy_rows`` rows, and
    fairness gaps with their audited values (``fairness_drift``), both with
    Clopper-Pearson uncertainty on both sides at the check's level (checks.py).

    ``performance_estimate`` is ``cbpe.performance_estimate``'s answer for the
    batch. Without labels, the estimated drop from ``reference_accuracy`` is one
    more check (``cbpe.estimated_drop_check``) against the same
    ``performance_drop_max``, at the same share of the budget; with labels the
    estimate is only recorded beside the realized accuracy, so that the owner
    can see whether the estimator can be trusted for this model.

    The review breaches when a check breaches, or a feature has no values in a
    batch of at least ``min_batch_rows`` rows. A smaller batch cannot breach:
    its ``status`` is "insufficient_data".

    Returns a JSON-serialisable dict::

        {"status": "reviewed", "checks": 12, "check_level": 0.000833,
         "features": [{"name": "income", "kind": "numeric", "status": "tested",
                       "psi": 0.31, "psi_band": "major", "test": "ks",
                       "ks_statistic": 0.2, "test_statistic": 0.2, "p_value": 1e-30,
                       "p_value_adjusted": 1.2e-29, "wasserstein": 812.0,
                       "drifted": True, "overlay": {...}, ...}, ...],
         "prediction": {...} | None, "performance": {...} | None,
         "fairness": {...} | None, "breach": True,
         "breaches": ["Feature 'income' drifted: PSI 0.310 (major), ..."],
         "params": {...}}
    """
    _check_frames(reference, current, numeric=numeric, categorical=categorical)
    _check_options(psi_bins=psi_bins, alpha=alpha, correction=correction,
                   psi_bands=psi_bands, performance_drop_max=performance_drop_max,
                   min_batch_rows=min_batch_rows, min_group_count=min_group_count, seed=seed)
    _check_predictions(reference_predictions, current_predictions, current_labels,
                       reference_accuracy, reference_accuracy_rows)
    fairness_drift = _check_fairness(fairness_drift)
    _check_estimate(performance_estimate)
    # One generator per feature, keyed by its position, so one feature's ties
    # never change another's test.
    streams = iter(np.random.SeedSequence(seed).spawn(len(numeric) + len(categorical) + 1))

    features = [_numeric_feature(reference, current, name, bins=psi_bins,
                                 rng=np.random.default_rng(next(streams)))
                for name in numeric]
    features += [_categorical_feature(reference, current, name) for name in categorical]
    enough = len(current) >= min_batch_rows
    for feature in features:
        feature["status"] = _feature_status(feature["n_current"], feature["p_value"],
                                            enough=enough, min_rows=min_batch_rows)

    prediction = None
    if reference_predictions is not None:
        prediction = prediction_drift(reference_predictions, current_predictions, bins=psi_bins,
                                      rng=np.random.default_rng(next(streams)))
        prediction["status"] = _feature_status(prediction["n_current"], prediction["p_value"],
                                               enough=enough, min_rows=min_batch_rows)
    performance_inputs = None
    if current_labels is not None:
        performance_inputs = _performance_inputs(current_labels, current_predictions,
                                                 reference_accuracy, reference_accuracy_rows)
    performance_tested = bool(
        enough and performance_inputs is not None
        and performance_inputs["reference_n"] is not None
        and min(performance_inputs["n"], performance_inputs["reference_n"]) >= min_batch_rows)
    estimate_inputs = None
    if performance_estimate is not None and current_labels is None and reference_accuracy is not None:
        estimate_inputs = _reference_counts(reference_accuracy, reference_accuracy_rows)
    estimate_tested = bool(
        enough and estimate_inputs is not None and estimate_inputs["reference_n"] is not None
        and min(performance_estimate["n"], estimate_inputs["reference_n"]) >= min_batch_rows)
    fairness_tested = 0
    if fairness_drift is not None and enough:
        fairness_tested = checks.fairness_testable_count(**fairness_drift,
                                                          min_group_count=min_group_count)

    tested = [f for f in features if f["status"] == TESTED]
    if prediction is not None and prediction["status"] == TESTED:
        tested.append(prediction)
    n_checks = len(tested) + int(performance_tested) + int(estimate_tested) + fairness_tested
    level = alpha / n_checks if n_checks else alpha
    for entry in features + ([prediction] if prediction is not None else []):
        _decide(entry, n_checks=n_checks, alpha=alpha, psi_bands=psi_bands)

    performance = None
    if performance_inputs is not None:
        performance = checks.performance_decay(
            **performance_inputs, drop_max=performance_drop_max, level=level,
            min_rows=min_batch_rows)
        if not enough:
            _too_small(performance)
    estimated = _estimated(performance_estimate, estimate_inputs, performance, enough=enough,
                           drop_max=performance_drop_max, level=level, min_rows=min_batch_rows)
    fairness = None
    if fairness_drift is not None:
        fairness = checks.fairness_change(**fairness_drift, level=level,
                                          min_group_count=min_group_count)
        for entry in fairness["metrics"] if not enough else []:
            _too_small(entry)
        fairness["breach"] = any(m["breach"] for m in fairness["metrics"])

    breaches = _breaches(features, prediction, performance, fairness, enough=enough)
    if estimated is not None and estimated["check"] is not None and estimated["check"]["breach"]:
        check = estimated["check"]
        breaches.append(
            f"Estimated accuracy (no labels; from the model's calibrated scores) fell from "
            f"{check['reference']:.3f} ({check['reference_n']} rows) to {check['estimate']:.3f} "
            f"({check['n']} rows); allowing for the uncertainty of both at level {check['level']:.2g}, "
            f"it fell by at least {check['drop_lower_bound']:.3f} > allowed {check['drop_max']:.3f}.")
    return {
        "status": "reviewed" if enough else INSUFFICIENT,
        "checks": int(n_checks),
        "check_level": float(level),
        "features": features,
        "prediction": prediction,
        "performance": performance,
        "performance_estimate": estimated,
        "fairness": fairness,
        "breach": bool(breaches),
        "breaches": breaches,
        "params": {
            "psi_bins": int(psi_bins),
            "psi_epsilon": PSI_EPSILON,
            "psi_bands": [float(psi_bands[0]), float(psi_bands[1])],
            "alpha": float(alpha),
            "correction": correction,
            "min_batch_rows": int(min_batch_rows),
            "min_group_count": int(min_group_count),
            "seed": int(seed),
            "performance_drop_max": float(performance_drop_max),
            "n_reference": int(len(reference)),
            "n_current": int(len(current)),
            "numeric_test": "ks_2samp (two-sided, scipy method='auto'); on randomly tie-broken "
                            "ranks when values are tied",
            "categorical_test": "chi2_contingency (2 x K, no Yates correction), categories with "
                                f"an expected count below {MIN_EXPECTED} merged",
            "interval": "Clopper-Pearson, Bonferroni over the intervals of a check",
        },
    }


def _estimated(estimate, inputs, performance, *, enough, drop_max, level, min_rows):
    """The CBPE estimate as the review records it: the estimate, the realized accuracy
    beside it when the batch has labels, the drop check when it has none."""
    if estimate is None:
        return None
    out = dict(estimate, realized=None, within_interval=None, check=None)
    if performance is not None and performance["current"] is not None:
        out["realized"] = performance["current"]
        out["within_interval"] = bool(estimate["low"] <= performance["current"] <= estimate["high"])
    elif inputs is not None:
        out["check"] = cbpe.estimated_drop_check(
            estimate, reference_correct=inputs["reference_correct"], reference_n=inputs["reference_n"],
            drop_max=drop_max, level=level, min_rows=min_rows)
        if not enough:
            _too_small(out["check"])
    return out


def _too_small(check):
    """A check on a batch below the minimum size is reported but decides nothing."""
    check.update(status=INSUFFICIENT, breach=False)


def _feature_status(n_current, p_value, *, enough, min_rows):
    if n_current == 0:
        return NO_VALUES
    if not enough or n_current < min_rows or p_value is None:
        return INSUFFICIENT
    return TESTED


def _numeric_feature(reference, current, name, *, bins, rng):
    ref, ref_missing = numeric_values(reference, name)
    cur, cur_missing = numeric_values(current, name)
    if len(ref) == 0:
        raise ValueError(ERR_EMPTY_REFERENCE.format(column=name))
    entry = {"name": name, "kind": "numeric",
             **_counts(len(ref), ref_missing, len(cur), cur_missing)}
    entry.update(numeric_drift(ref, cur, bins=bins, rng=rng))
    return entry


def _categorical_feature(reference, current, name):
    ref_series, cur_series = reference[name], current[name]
    ref_missing, cur_missing = int(ref_series.isna().sum()), int(cur_series.isna().sum())
    n_ref, n_cur = len(ref_series) - ref_missing, len(cur_series) - cur_missing
    if n_ref == 0:
        raise ValueError(ERR_EMPTY_REFERENCE.format(column=name))
    entry = {"name": name, "kind": "categorical",
             **_counts(n_ref, ref_missing, n_cur, cur_missing)}
    entry.update(categorical_drift(ref_series, cur_series))
    return entry


def _counts(n_ref, ref_missing, n_cur, cur_missing):
    return {
        "n_reference": int(n_ref),
        "n_current": int(n_cur),
        "missing_reference": ref_missing / (n_ref + ref_missing),
        "missing_current": cur_missing / (n_cur + cur_missing) if n_cur + cur_missing else None,
    }


def _decide(entry, *, n_checks, alpha, psi_bands):
    """Bonferroni-adjusted p-value over the review's checks, then the rule; untested entries never drift."""
    entry["psi_band"] = psi_band(entry["psi"], bands=psi_bands)
    entry["p_value_adjusted"] = None
    entry["drifted"] = False
    if entry["status"] == TESTED:
        entry["p_value_adjusted"] = float(min(1.0, entry["p_value"] * n_checks))
        entry["drifted"] = is_drifted(entry["psi"], entry["p_value_adjusted"], alpha=alpha,
                                      psi_bands=psi_bands)


# ------------------------------------------- predictions, performance, fairness


def prediction_drift(reference_predictions, current_predictions, *, bins=10, rng=None):
    """Drift statistics of the model's outputs: floats (scores, probabilities)
    take the numeric path, anything else (class labels) the categorical path.
    The review decides it as one more check."""
    ref = np.asarray(reference_predictions)
    cur = np.asarray(current_predictions)
    if np.issubdtype(ref.dtype, np.floating) and np.issubdtype(cur.dtype, np.floating):
        ref_ok, cur_ok = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
        result = {"kind": "numeric", **_counts(len(ref_ok), len(ref) - len(ref_ok),
                                               len(cur_ok), len(cur) - len(cur_ok))}
        result.update(numeric_drift(ref_ok.astype(float), cur_ok.astype(float), bins=bins, rng=rng))
    else:
        ref_s, cur_s = pd.Series(ref), pd.Series(cur)
        ref_missing, cur_missing = int(ref_s.isna().sum()), int(cur_s.isna().sum())
        result = {"kind": "categorical", **_counts(len(ref) - ref_missing, ref_missing,
                                                   len(cur) - cur_missing, cur_missing)}
        result.update(categorical_drift(ref_s, cur_s))
    return result


def predicted_labels(predictions, labels):
    """Hard labels from predictions: binary probabilities against 0/1 labels are
    thresholded at 0.5 (predicted 1 when p >= 0.5); anything else is compared as is."""
    pred = np.asarray(predictions)
    y = np.asarray(labels)
    if (np.issubdtype(pred.dtype, np.floating) and len(pred)
            and np.all((pred >= 0) & (pred <= 1))
            and set(np.unique(y).tolist()) <= {0, 1}):
        return (pred >= 0.5).astype(int)
    return pred


def _performance_inputs(current_labels, current_predictions, reference_accuracy, reference_rows):
    y = np.asarray(current_labels)
    correct = int(np.sum(predicted_labels(current_predictions, y) == y)) if len(y) else 0
    return {"correct": correct, "n": int(len(y)), **_reference_counts(reference_accuracy, reference_rows)}


def _reference_counts(reference_accuracy, reference_rows):
    counts = {"reference_correct": None, "reference_n": None}
    if reference_accuracy is not None and reference_rows is not None:
        # The audited accuracy is a share of whole rows: recover its count.
        counts["reference_n"] = int(reference_rows)
        counts["reference_correct"] = int(round(float(reference_accuracy) * reference_rows))
    elif reference_accuracy is not None:
        counts["reference_accuracy"] = float(reference_accuracy)
    return counts


def _breaches(features, prediction, performance, fairness, *, enough):
    reasons = []
    for f in features:
        if f["status"] == NO_VALUES and enough:
            reasons.append(f"Feature '{f['name']}' has no values in the batch.")
        elif f["drifted"]:
            unseen = f.get("unseen_categories") or []
            extra = f"; unseen categories: {', '.join(map(repr, unseen[:5]))}" if unseen else ""
            reasons.append(f"Feature '{f['name']}' drifted: {_drift_words(f)}{extra}.")
    if prediction is not None and prediction["drifted"]:
        reasons.append(f"Predictions drifted: {_drift_words(prediction)}.")
    if performance is not None and performance["breach"]:
        reasons.append(
            f"Accuracy fell from {performance['reference']:.3f} ({performance['reference_n']} rows) "
            f"to {performance['current']:.3f} ({performance['n']} rows); allowing for the uncertainty "
            f"of both at level {performance['level']:.2g}, it fell by at least "
            f"{performance['drop_lower_bound']:.3f} > allowed {performance['drop_max']:.3f}."
        )
    for m in (fairness or {}).get("metrics", []):
        if m["breach"]:
            reasons.append(
                f"Fairness metric '{m['metric']}' rose from {m['audited']:.3f} to "
                f"{m['current']:.3f}; allowing for the uncertainty of both at level "
                f"{fairness['level']:.2g}, it rose by at least {m['change_lower_bound']:.3f} "
                f"> allowed {fairness['max_increase']:.3f}."
            )
    return reasons


def _drift_words(result):
    return (f"PSI {result['psi']:.3f} ({result['psi_band']}), "
            f"adjusted p-value {result['p_value_adjusted']:.2g}")


# ------------------------------------------------------------------ validation


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)) and math.isfinite(value)


def _is_count(value, minimum):
    return (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
            and value >= minimum)


def _check_frames(reference, current, *, numeric, categorical):
    for name, frame in (("reference", reference), ("current", current)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(ERR_NOT_DATAFRAME.format(name=name))
    numeric, categorical = list(numeric), list(categorical)
    if not numeric and not categorical:
        raise ValueError(ERR_NO_FEATURES)
    both = sorted(set(numeric) & set(categorical), key=str)
    if both:
        raise ValueError(ERR_OVERLAP.format(columns=", ".join(map(str, both))))
    seen = set()
    for column in numeric + categorical:
        if column in seen:
            raise ValueError(ERR_DUPLICATE_COLUMN.format(column=column))
        seen.add(column)
        for name, frame in (("reference", reference), ("current", current)):
            if column not in frame.columns:
                raise ValueError(ERR_MISSING_COLUMN.format(column=column, name=name))


def _check_options(*, psi_bins, alpha, correction, psi_bands, performance_drop_max,
                   min_batch_rows, min_group_count, seed):
    if not _is_count(psi_bins, 2):
        raise ValueError(ERR_PSI_BINS.format(value=psi_bins))
    if not _is_number(alpha) or not 0 < alpha < 1:
        raise ValueError(ERR_ALPHA.format(value=alpha))
    if correction not in CORRECTIONS:
        raise ValueError(ERR_CORRECTION.format(choices=CORRECTIONS, value=correction))
    try:
        moderate, major = psi_bands
    except (TypeError, ValueError):
        raise ValueError(ERR_PSI_BANDS.format(value=psi_bands)) from None
    if not (_is_number(moderate) and _is_number(major) and 0 < moderate < major):
        raise ValueError(ERR_PSI_BANDS.format(value=psi_bands))
    if not _is_number(performance_drop_max) or performance_drop_max < 0:
        raise ValueError(ERR_DROP_MAX.format(value=performance_drop_max))
    for name, value in (("min_batch_rows", min_batch_rows), ("min_group_count", min_group_count)):
        if not _is_count(value, 1):
            raise ValueError(ERR_MIN_ROWS.format(name=name, value=value))
    if not _is_count(seed, 0):
        raise ValueError(ERR_SEED.format(value=seed))


def _check_predictions(reference_predictions, current_predictions, current_labels,
                       reference_accuracy, reference_accuracy_rows):
    if reference_predictions is not None and current_predictions is None:
        raise ValueError(ERR_PREDICTIONS_PAIR)
    for name, values in (("reference_predictions", reference_predictions),
                         ("current_predictions", current_predictions),
                         ("current_labels", current_labels)):
        if values is not None and np.ndim(values) != 1:
            raise ValueError(ERR_PREDICTIONS_1D.format(name=name))
    if current_labels is not None:
        if current_predictions is None:
            raise ValueError(ERR_LABELS_NEED_PREDICTIONS)
        if len(current_labels) != len(current_predictions):
            raise ValueError(ERR_LABELS_LENGTH.format(
                n_labels=len(current_labels), n_predictions=len(current_predictions)))
    if reference_accuracy is not None and not (
            _is_number(reference_accuracy) and 0 <= reference_accuracy <= 1):
        raise ValueError(ERR_REFERENCE_ACCURACY.format(value=reference_accuracy))
    if reference_accuracy_rows is not None and not _is_count(reference_accuracy_rows, 1):
        raise ValueError(ERR_REFERENCE_ROWS.format(value=reference_accuracy_rows))


def _check_estimate(estimate):
    if estimate is None:
        return
    keys = ("estimate", "low", "high", "variance", "n")
    if not isinstance(estimate, dict) or not all(_is_number(estimate.get(k)) for k in keys):
        raise ValueError(ERR_ESTIMATE)


def _check_fairness(fairness_drift):
    """Return the validated keyword arguments for checks.fairness_change, or None."""
    if fairness_drift is None:
        return None
    if not isinstance(fairness_drift, dict) or set(fairness_drift) - {
            "audited", "current", "metrics", "max_increase"}:
        raise ValueError(ERR_FAIRNESS)
    audited, current = fairness_drift.get("audited"), fairness_drift.get("current")
    metrics = list(fairness_drift.get("metrics") or FAIRNESS_METRICS[:1])
    max_increase = fairness_drift.get("max_increase", 0.05)
    if not isinstance(audited, dict) or not isinstance(current, dict):
        raise ValueError(ERR_FAIRNESS)
    if any(m not in FAIRNESS_METRICS for m in metrics):
        raise ValueError(ERR_FAIRNESS)
    for side in (audited, current):
        for groups in side.values():
            if not isinstance(groups, dict) or not all(
                    isinstance(cells, dict) and set(cells) <= set(checks.CELLS)
                    and all(_is_count(v, 0) for v in cells.values())
                    for cells in groups.values()):
                raise ValueError(ERR_FAIRNESS)
    if not _is_number(max_increase) or max_increase < 0:
        raise ValueError(ERR_FAIRNESS)
    return {"audited": audited, "current": current, "metrics": metrics, "max_increase": max_increase}
