"""Drift review: compare a production batch with the reference (training) data.

Pure functions, no Django. ``drift_review`` is the entry point; every statistic
is computed by a small primitive below it so tests can check each one against
scipy or a hand-computed value.

Numeric features
    * PSI on reference-quantile bins: the ``psi_bins - 1`` inner edges are the
      reference quantiles at ``1/psi_bins, ..., (psi_bins-1)/psi_bins``, taken
      as observed values (numpy ``method="inverted_cdf"``: the smallest value
      whose ECDF reaches q, so integer-valued features get no phantom edges
      between two values), deduplicated; the outer edges are open (-inf, +inf)
      so batch values outside the reference range land in the end bins. Bins
      are right-closed: ``(e[i-1], e[i]]``, so the bin ending at the q-quantile
      holds at least a q share of the reference.
    * Two-sample Kolmogorov-Smirnov statistic and p-value, equal to
      ``scipy.stats.ks_2samp`` (two-sided, ``method="auto"``).
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
      infinite.
    * PSI over the union of categories.
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
    A feature with no values in the batch is a breach.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

PSI_EPSILON = 1e-4
# scipy.stats.ks_2samp(method="auto") is exact up to this size, asymptotic above.
KS_EXACT_MAX_N = 10_000
# Categorical overlays keep the most frequent categories; the rest are summed
# into one "(other)" bar so the stored JSON stays small for high cardinality.
OVERLAY_MAX_CATEGORIES = 30
OVERLAY_OTHER = "(other)"
CORRECTIONS = ("benjamini-hochberg", "bonferroni")

ERR_NOT_DATAFRAME = "{name} must be a pandas DataFrame."
ERR_NO_FEATURES = "Give at least one column in numeric or categorical."
ERR_MISSING_COLUMN = "Column '{column}' is missing from {name}."
ERR_OVERLAP = "Columns listed as both numeric and categorical: {columns}."
ERR_DUPLICATE_COLUMN = "Column '{column}' is listed more than once."
ERR_NOT_NUMERIC = "Column '{column}' is listed as numeric but holds non-numeric values."
ERR_EMPTY_REFERENCE = "Column '{column}' has no non-missing values in the reference."
ERR_PSI_BINS = "psi_bins must be an integer >= 2, got {value!r}."
ERR_ALPHA = "alpha must be a number strictly between 0 and 1, got {value!r}."
ERR_CORRECTION = "correction must be one of {choices}, got {value!r}."
ERR_PSI_BANDS = "psi_bands must be two numbers 0 < moderate < major, got {value!r}."
ERR_PREDICTIONS_PAIR = "reference_predictions needs current_predictions."
ERR_PREDICTIONS_1D = "{name} must be one-dimensional (one prediction per row)."
ERR_LABELS_NEED_PREDICTIONS = "current_labels needs current_predictions."
ERR_LABELS_LENGTH = (
    "current_labels has {n_labels} rows but current_predictions has {n_predictions}."
)
ERR_REFERENCE_ACCURACY = "reference_accuracy must be between 0 and 1, got {value!r}."
ERR_DROP_MAX = "performance_drop_max must be a number >= 0, got {value!r}."
ERR_FAIRNESS = (
    'fairness_drift must be a dict {"audited": {metric: value}, '
    '"current": {metric: value}, "max_increase": number >= 0}.'
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
    if method not in CORRECTIONS:
        raise ValueError(ERR_CORRECTION.format(choices=CORRECTIONS, value=method))
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
    """The decision rule: significant AND at least moderate, or major on its own.

    A p-value alone is not enough: with a million rows a negligible shift is
    "significant". A major PSI alone is enough: it is large whatever the test.
    """
    if psi is None:
        return False
    significant = p_adjusted is not None and p_adjusted < alpha
    return bool((significant and psi >= psi_bands[0]) or psi >= psi_bands[1])


# ------------------------------------------------------ per-feature statistics


def numeric_values(frame, column):
    """(finite values, missing count) of a numeric column; NaN and +-inf are missing."""
    try:
        values = frame[column].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(ERR_NOT_NUMERIC.format(column=column)) from exc
    finite = np.isfinite(values)
    return values[finite], int(len(values) - finite.sum())


def numeric_drift(reference, current, *, bins):
    """PSI, KS and Wasserstein of two 1-d float arrays (missing already removed)."""
    a = np.sort(reference)
    result = {"test": "ks", "psi": None, "ks_statistic": None, "p_value": None,
              "wasserstein": None, "wasserstein_normed": None}
    edges = quantile_edges(a, bins=bins)
    ref_props = binned_proportions(a, edges)
    result["overlay"] = {"edges": edges.tolist(), "reference": ref_props.tolist(),
                         "current": None}
    if len(current) == 0:
        return result
    b = np.sort(current)
    cur_props = binned_proportions(b, edges)
    statistic = ks_statistic_sorted(a, b)
    distance = wasserstein_sorted(a, b)
    std = float(np.std(a))
    result.update(
        psi=psi_from_proportions(ref_props, cur_props),
        ks_statistic=statistic,
        p_value=ks_pvalue(statistic, a, b),
        wasserstein=distance,
        wasserstein_normed=distance / std if std > 0 else None,
    )
    result["overlay"]["current"] = cur_props.tolist()
    return result


def category_counts(series):
    """Counts per category name (str), missing values left out, most frequent first."""
    counts = series.value_counts(dropna=True, sort=False)
    # Names are stored as text; 1 and "1" would merge, which JSON would force anyway.
    # A plain index (not a CategoricalIndex) and the filter below drop the unused
    # categories of a category dtype, which would put empty columns in the test.
    names = pd.Index([str(k) for k in counts.index], dtype=object)
    counts = pd.Series(counts.to_numpy(), index=names).groupby(level=0, sort=False).sum()
    return counts[counts > 0].sort_values(ascending=False, kind="stable")


def categorical_drift(reference, current):
    """Chi-square contingency test, PSI and Jensen-Shannon distance of two Series."""
    ref_counts = category_counts(reference)
    cur_counts = category_counts(current)
    unseen = [name for name in cur_counts.index if name not in ref_counts.index]
    names = list(ref_counts.index) + unseen
    r = ref_counts.reindex(names, fill_value=0).to_numpy(dtype=float)
    c = cur_counts.reindex(names, fill_value=0).to_numpy(dtype=float)
    result = {"test": "chi2", "psi": None, "chi2_statistic": None, "dof": None,
              "p_value": None, "js_distance": None, "unseen_categories": unseen}
    if c.sum() > 0:
        result.update(_categorical_statistics(r, c))
    result["overlay"] = _category_overlay(names, r, c)
    return result


def _categorical_statistics(r, c):
    ref_props, cur_props = r / r.sum(), c / c.sum()
    if len(r) < 2:
        # One category on both sides: nothing can have moved.
        statistic, p_value, dof = 0.0, 1.0, 0
    else:
        test = stats.chi2_contingency(np.vstack((r, c)), correction=False)
        statistic, p_value, dof = float(test.statistic), float(test.pvalue), int(test.dof)
    return {
        "psi": psi_from_proportions(ref_props, cur_props),
        "chi2_statistic": statistic,
        "dof": dof,
        "p_value": p_value,
        "js_distance": float(jensenshannon(ref_props, cur_props, base=2)),
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
    alpha=0.05,
    correction="benjamini-hochberg",
    psi_bands=(0.1, 0.25),
    reference_predictions=None,
    current_predictions=None,
    current_labels=None,
    reference_accuracy=None,
    performance_drop_max=0.05,
    fairness_drift=None,
):
    """Review a production batch (``current``) against ``reference`` data.

    Decision rule, per feature (and for predictions, on the raw p-value): the
    feature drifts when its p-value, adjusted across all features by
    ``correction``, is below ``alpha`` AND its PSI >= ``psi_bands[0]``, or when
    its PSI >= ``psi_bands[1]`` whatever the p-value. The default bands read
    PSI < 0.1 stable, 0.1-0.25 moderate, >= 0.25 major: the convention of
    credit-risk scorecard monitoring (N. Siddiqi, *Credit Risk Scorecards*,
    Wiley 2006; B. Yurdakul & J. Naranjo, "Statistical properties of the
    population stability index", Journal of Risk Model Validation 14(4), 2020).

    The review breaches when any feature or the predictions drift, a feature
    has no values in the batch, accuracy on labelled batch rows fell by more
    than ``performance_drop_max`` from ``reference_accuracy``, or a fairness
    metric in ``fairness_drift`` rose by more than its ``max_increase``.

    Returns a JSON-serialisable dict::

        {"features": [{"name": "income", "kind": "numeric", "psi": 0.31,
                       "psi_band": "major", "ks_statistic": 0.2, "p_value": 1e-30,
                       "p_value_adjusted": 5e-30, "wasserstein": 812.0,
                       "drifted": True, "overlay": {"edges": [...],
                       "reference": [...], "current": [...]}, ...}, ...],
         "prediction": {...} | None, "performance": {...} | None,
         "fairness": {...} | None, "breach": True,
         "breaches": ["Feature 'income' drifted: PSI 0.310 (major), ..."],
         "params": {...}}
    """
    _check_frames(reference, current, numeric=numeric, categorical=categorical)
    _check_options(psi_bins=psi_bins, alpha=alpha, correction=correction,
                   psi_bands=psi_bands, performance_drop_max=performance_drop_max)
    _check_predictions(reference_predictions, current_predictions, current_labels,
                       reference_accuracy)
    fairness_drift = _check_fairness(fairness_drift)

    features = [_numeric_feature(reference, current, name, bins=psi_bins)
                for name in numeric]
    features += [_categorical_feature(reference, current, name) for name in categorical]
    _decide(features, alpha=alpha, correction=correction, psi_bands=psi_bands)

    prediction = None
    if reference_predictions is not None:
        prediction = prediction_drift(reference_predictions, current_predictions,
                                      bins=psi_bins, alpha=alpha, psi_bands=psi_bands)
    performance = None
    if current_labels is not None:
        performance = performance_decay(current_labels, current_predictions,
                                        reference_accuracy=reference_accuracy,
                                        drop_max=performance_drop_max)
    fairness = None if fairness_drift is None else fairness_change(**fairness_drift)

    breaches = _breaches(features, prediction, performance, fairness)
    return {
        "features": features,
        "prediction": prediction,
        "performance": performance,
        "fairness": fairness,
        "breach": bool(breaches),
        "breaches": breaches,
        "params": {
            "psi_bins": int(psi_bins),
            "psi_epsilon": PSI_EPSILON,
            "psi_bands": [float(psi_bands[0]), float(psi_bands[1])],
            "alpha": float(alpha),
            "correction": correction,
            "performance_drop_max": float(performance_drop_max),
            "n_reference": int(len(reference)),
            "n_current": int(len(current)),
            "numeric_test": "ks_2samp (two-sided, scipy method='auto')",
            "categorical_test": "chi2_contingency (2 x K, no Yates correction)",
        },
    }


def _numeric_feature(reference, current, name, *, bins):
    ref, ref_missing = numeric_values(reference, name)
    cur, cur_missing = numeric_values(current, name)
    if len(ref) == 0:
        raise ValueError(ERR_EMPTY_REFERENCE.format(column=name))
    entry = {"name": name, "kind": "numeric",
             **_counts(len(ref), ref_missing, len(cur), cur_missing)}
    entry.update(numeric_drift(ref, cur, bins=bins))
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


def _decide(features, *, alpha, correction, psi_bands):
    """Adjust p-values across features (those with a batch), then apply the rule."""
    tested = [f for f in features if f["p_value"] is not None]
    adjusted = adjust_pvalues([f["p_value"] for f in tested], method=correction)
    for feature in features:
        feature["p_value_adjusted"] = None
    for feature, p_adj in zip(tested, adjusted):
        feature["p_value_adjusted"] = float(p_adj)
    for feature in features:
        feature["psi_band"] = psi_band(feature["psi"], bands=psi_bands)
        feature["drifted"] = is_drifted(feature["psi"], feature["p_value_adjusted"],
                                        alpha=alpha, psi_bands=psi_bands)


# ------------------------------------------- predictions, performance, fairness


def prediction_drift(reference_predictions, current_predictions, *, bins=10,
                     alpha=0.05, psi_bands=(0.1, 0.25)):
    """Drift of the model's outputs: floats (scores, probabilities) take the
    numeric path, anything else (class labels) the categorical path. One test,
    so the raw p-value feeds the decision rule."""
    ref = np.asarray(reference_predictions)
    cur = np.asarray(current_predictions)
    if np.issubdtype(ref.dtype, np.floating) and np.issubdtype(cur.dtype, np.floating):
        ref_ok, cur_ok = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
        result = {"kind": "numeric", **_counts(len(ref_ok), len(ref) - len(ref_ok),
                                               len(cur_ok), len(cur) - len(cur_ok))}
        result.update(numeric_drift(ref_ok.astype(float), cur_ok.astype(float), bins=bins))
    else:
        ref_s, cur_s = pd.Series(ref), pd.Series(cur)
        ref_missing, cur_missing = int(ref_s.isna().sum()), int(cur_s.isna().sum())
        result = {"kind": "categorical", **_counts(len(ref) - ref_missing, ref_missing,
                                                   len(cur) - cur_missing, cur_missing)}
        result.update(categorical_drift(ref_s, cur_s))
    result["psi_band"] = psi_band(result["psi"], bands=psi_bands)
    result["drifted"] = is_drifted(result["psi"], result["p_value"], alpha=alpha,
                                   psi_bands=psi_bands)
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


def performance_decay(current_labels, current_predictions, *, reference_accuracy=None,
                      drop_max=0.05):
    """Batch accuracy against the audited accuracy; breach when the drop > drop_max."""
    y = np.asarray(current_labels)
    accuracy = float(np.mean(predicted_labels(current_predictions, y) == y)) if len(y) else None
    drop = None
    if reference_accuracy is not None and accuracy is not None:
        drop = float(reference_accuracy) - accuracy
    return {
        "metric": "accuracy",
        "n": int(len(y)),
        "reference": None if reference_accuracy is None else float(reference_accuracy),
        "current": accuracy,
        "drop": drop,
        "drop_max": float(drop_max),
        "breach": bool(drop is not None and drop > drop_max),
    }


def fairness_change(*, audited, current, max_increase=0.05):
    """Per-metric change of fairness gaps since the audit (larger = worse, as
    fairlearn's *_difference metrics); breach when a gap rose by > max_increase.
    A metric known on one side only is listed with change None, not a breach."""
    metrics = []
    for name in list(audited) + [k for k in current if k not in audited]:
        before, after = audited.get(name), current.get(name)
        change = None if before is None or after is None else float(after) - float(before)
        metrics.append({
            "metric": name,
            "audited": None if before is None else float(before),
            "current": None if after is None else float(after),
            "change": change,
            "breach": bool(change is not None and change > max_increase),
        })
    return {
        "metrics": metrics,
        "max_increase": float(max_increase),
        "breach": any(m["breach"] for m in metrics),
    }


def _breaches(features, prediction, performance, fairness):
    reasons = []
    for f in features:
        if f["n_current"] == 0:
            reasons.append(f"Feature '{f['name']}' has no values in the batch.")
        elif f["drifted"]:
            unseen = f.get("unseen_categories") or []
            extra = f"; unseen categories: {', '.join(map(repr, unseen[:5]))}" if unseen else ""
            reasons.append(f"Feature '{f['name']}' drifted: {_drift_words(f)}{extra}.")
    if prediction is not None and prediction["drifted"]:
        reasons.append(f"Predictions drifted: {_drift_words(prediction, adjusted=False)}.")
    if performance is not None and performance["breach"]:
        reasons.append(
            f"Accuracy fell from {performance['reference']:.3f} to "
            f"{performance['current']:.3f} (drop {performance['drop']:.3f} > "
            f"allowed {performance['drop_max']:.3f})."
        )
    for m in (fairness or {}).get("metrics", []):
        if m["breach"]:
            reasons.append(
                f"Fairness metric '{m['metric']}' rose from {m['audited']:.3f} to "
                f"{m['current']:.3f} (+{m['change']:.3f} > allowed "
                f"{fairness['max_increase']:.3f})."
            )
    return reasons


def _drift_words(result, *, adjusted=True):
    key, label = ("p_value_adjusted", "adjusted p-value") if adjusted else ("p_value", "p-value")
    return f"PSI {result['psi']:.3f} ({result['psi_band']}), {label} {result[key]:.2g}"


# ------------------------------------------------------------------ validation


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)) and math.isfinite(value)


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


def _check_options(*, psi_bins, alpha, correction, psi_bands, performance_drop_max):
    if not isinstance(psi_bins, (int, np.integer)) or isinstance(psi_bins, bool) or psi_bins < 2:
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


def _check_predictions(reference_predictions, current_predictions, current_labels,
                       reference_accuracy):
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


def _check_fairness(fairness_drift):
    """Return the validated keyword arguments for fairness_change, or None."""
    if fairness_drift is None:
        return None
    if not isinstance(fairness_drift, dict) or set(fairness_drift) - {
            "audited", "current", "max_increase"}:
        raise ValueError(ERR_FAIRNESS)
    audited, current = fairness_drift.get("audited"), fairness_drift.get("current")
    max_increase = fairness_drift.get("max_increase", 0.05)
    if not isinstance(audited, dict) or not isinstance(current, dict):
        raise ValueError(ERR_FAIRNESS)
    values = list(audited.values()) + list(current.values())
    if not all(v is None or _is_number(v) for v in values):
        raise ValueError(ERR_FAIRNESS)
    if not _is_number(max_increase) or max_increase < 0:
        raise ValueError(ERR_FAIRNESS)
    return {"audited": audited, "current": current, "max_increase": max_increase}
