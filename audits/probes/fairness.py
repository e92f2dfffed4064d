"""Fairness probe: slice metrics, disparities with bootstrap intervals, the
four-fifths screen, a threshold policy check and a mitigation outlook.

Pure functions, no Django. Binary classification only: labels 0/1, 1 is the
positive ("selected") outcome. Every result is a plain JSON-serialisable
structure (floats, ints, str, lists, dicts; an undefined value is None).

Metric definitions follow fairlearn.metrics (MetricFrame, selection_rate,
true/false_positive_rate, demographic_parity_*, equalized_odds_* with
agg="worst_case"), except that an undefined rate (0/0) is None here instead of
scikit-learn's silent 0.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from functools import partial

import numpy as np
import pandas as pd

METRICS = ("accuracy", "selection_rate", "tpr", "fpr", "precision")
ECE = "ece"
ECE_BINS = 10
CELLS = ("tn", "fp", "fn", "tp")  # cell index = 2 * y_true + y_pred
CONTINUOUS_MIN_DISTINCT = 11  # a numeric column with more than 10 values is binned
QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)
MISSING_LABEL = "missing"
INTERSECTION_JOIN = " & "

DEFAULT_AGE_BINS = [18, 25, 35, 50, 65, 120]
DEFAULT_THRESHOLDS = {
    "demographic_parity_difference": {"max": 0.1},
    "demographic_parity_ratio": {"min": 0.8},
    "equalized_odds_difference": {"max": 0.2},
}
FAIRLEARN_DISPARITIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
)

FOUR_FIFTHS_THRESHOLD = 0.8
FOUR_FIFTHS_CITATION = "29 CFR 1607.4(D)"
FOUR_FIFTHS_CAVEATS = (
    "The four-fifths rule is a rule of thumb from the US Uniform Guidelines on "
    "Employee Selection Procedures for spotting adverse impact in employment "
    "selection; it is not a statistical test, it is unreliable for small groups "
    "(the guideline itself allows other evidence when numbers are small), it is "
    "not a legal determination of discrimination, and other jurisdictions and "
    "domains use different standards."
)

ERR_FEATURES_TYPE = "sensitive_features must be a pandas DataFrame, a named Series or a dict of column name -> values"
ERR_NO_FEATURES = "sensitive_features must hold at least one column"
ERR_EMPTY = "y_true is empty: the audit needs at least one row"
ERR_NOT_1D = "{name} must be one-dimensional (one value per row)"
ERR_LENGTH = "y_true has {n} rows but {name} has {m}; every input needs exactly one value per row"
ERR_LABELS = "{name} must hold only the binary labels 0 and 1 (1 is the positive class); found {found}"
ERR_SCORE = "y_score must be the positive-class probability for each row: numbers in [0, 1] with no missing values"
ERR_BINS_FEATURE = "bins were given for {name!r}, which is not a sensitive feature; features are: {names}"
ERR_BINS_EDGES = "bins for {name!r} must be a strictly increasing list of at least two finite numbers"
ERR_BINS_NOT_NUMERIC = "bins were given for {name!r}, but that column is not numeric"
ERR_MIN_SLICE_COUNT = "min_slice_count must be an integer >= 1"
ERR_N_BOOTSTRAP = "n_bootstrap must be an integer >= 0 (0 turns confidence intervals off)"
ERR_CONFIDENCE_LEVEL = "confidence_level must be a number strictly between 0 and 1"
ERR_RULE = "rule must be one of 'interval', 'point'"
ERR_THRESHOLDS_TYPE = "thresholds must be a dict of metric name -> {'max': number} or {'min': number}"
ERR_THRESHOLD_METRIC = "unknown threshold metric {metric!r}; accepted: {accepted}"
ERR_THRESHOLD_SPEC = "threshold for {metric!r} must be exactly one of {{'max': number}} or {{'min': number}}"
ERR_NO_PREDICT_PROBA = "estimator must be a fitted classifier with predict_proba"

# Bootstrapping ECE holds at most this many resampled rows (about 40 bytes each)
# and this many per-slice ECE sums in memory at once.
_CHUNK_ROWS = 2_000_000
_FLOAT_TOLERANCE = 1e-12


def fairness_audit(
    y_true,
    y_pred,
    *,
    sensitive_features,
    y_score=None,
    bins=None,
    min_slice_count=20,
    n_bootstrap=200,
    confidence_level=0.95,
    random_state=0,
    intersectional=True,
) -> dict:
    """Audit a binary classifier's predictions slice by slice.

    Slices are the groups of each sensitive feature and, when there is more
    than one feature and ``intersectional`` is true, the groups of their
    intersection (every combination present in the data). Per slice: count,
    confusion counts, accuracy, selection_rate, tpr, fpr, precision and, when
    ``y_score`` (positive-class probability) is given, the expected
    calibration error (ECE) with reliability points.

    Continuous columns: a numeric (non-boolean) column with more than 10
    distinct values is binned. ``bins={"age": [18, 25, 35, 50, 65, 120]}``
    sets the edges: intervals are closed on the left, ``[25, 35)``; values
    below the first edge or at/above the last get their own slices
    ``(-inf, 18)`` and ``[120, inf)``, so no row is dropped. Without given
    bins the default edges are the data's quartiles (min, 25%, 50%, 75%,
    max, duplicates merged), the last interval closed, e.g. ``[51, 80]``.
    Missing values form a ``"missing"`` slice. The edges used are in
    ``params["features"]``. Pass strings to keep a numeric code (a postcode,
    a category id) categorical.

    A slice with fewer than ``min_slice_count`` rows keeps all its numbers
    but gets ``"status": "insufficient_data"``, is listed in
    ``insufficient_slices`` and is left out of every disparity and of the
    four-fifths flags. A disparity compares the sufficient slices whose value
    is defined on the full data: ``difference`` = max - min, ``ratio`` =
    min / max; None with fewer than two such slices. demographic_parity_* are
    the selection-rate difference/ratio; equalized_odds_difference is the
    larger of the tpr and fpr differences and equalized_odds_ratio the smaller
    of their ratios (fairlearn, agg="worst_case").

    ECE: 10 equal-width bins of the score (bin = floor(10 p), p = 1 in the
    last bin); ECE = sum over bins of (n_bin / n) * |mean p - fraction of
    positives|, the positive-class reliability-diagram form.

    Confidence intervals: percentile bootstrap with ``n_bootstrap`` resamples.
    Each resample draws n rows with replacement from all rows jointly, so group
    sizes vary as they would in new data. Counts are drawn exactly that way
    but without materialising rows: the counts of a with-replacement resample
    tallied by (intersection slice, confusion cell) follow
    Multinomial(n, cell count / n). ECE needs the scores themselves, so within
    each drawn cell count the rows are then drawn uniformly from that cell
    (again the row bootstrap, exactly). Every metric and disparity is computed
    per resample with the same rule as the point estimate; an interval is the
    (1 - level)/2 and (1 + level)/2 percentiles over the resamples where the
    value is defined (None if none is). Same ``random_state``, same intervals.
    A max - min disparity tends to be larger in resamples than in the data,
    so near zero its interval sits above the estimate; for a "max" policy
    limit that errs towards "inconclusive", not towards "pass".

    Returns ``{"n", "overall": {metric: {"value", "ci"}}, "features": {name:
    report}, "intersectional": report or None, "insufficient_slices":
    [{"feature", "group", "count"}], "params"}`` where a report is
    ``{"groups": [{"group", "count", "status", "confusion", "metrics":
    {metric: {"value", "ci"}}, "reliability" (with scores), "levels"
    (intersection)}], "disparities": {metric: {"difference": {"value", "ci"},
    "ratio": {...}}, "demographic_parity_difference": {"value", "ci"}, ...},
    "four_fifths": {...}, "excluded_from_disparities": [group, ...]}``.
    """
    _check_options(min_slice_count, n_bootstrap, confidence_level)
    y_true, y_pred, score, columns = _validate_inputs(y_true, y_pred, y_score, sensitive_features)
    features = _encode_features(columns, bins or {})
    fine, n_fine, views = _build_views(features, len(y_true), intersectional)
    sums = _point_sums(fine, n_fine, y_true, y_pred, score)
    boot = _bootstrap_sums(fine, y_true, y_pred, score, sums, views, n_bootstrap, random_state)
    options = {"min_slice_count": min_slice_count, "level": confidence_level}
    reports = {view["name"]: _view_report(view, sums, boot, **options) for view in views}
    overall = reports.pop(None)
    inter_name = INTERSECTION_JOIN.join(columns) if len(columns) > 1 and intersectional else None
    intersection = reports.pop(inter_name) if inter_name else None
    return {
        "n": int(len(y_true)),
        "overall": overall["groups"][0]["metrics"],
        "features": reports,
        "intersectional": intersection,
        "insufficient_slices": _insufficient(reports, intersection),
        "params": _params(features, score, min_slice_count=min_slice_count, n_bootstrap=n_bootstrap,
                          confidence_level=confidence_level, random_state=random_state,
                          intersectional=intersectional),
    }


# ---------------------------------------------------------------- inputs


def _check_options(min_slice_count, n_bootstrap, confidence_level):
    def is_int(value):
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)

    if not is_int(min_slice_count) or min_slice_count < 1:
        raise ValueError(ERR_MIN_SLICE_COUNT)
    if not is_int(n_bootstrap) or n_bootstrap < 0:
        raise ValueError(ERR_N_BOOTSTRAP)
    if not isinstance(confidence_level, numbers.Real) or not 0 < confidence_level < 1:
        raise ValueError(ERR_CONFIDENCE_LEVEL)


def _validate_inputs(y_true, y_pred, y_score, sensitive_features):
    y_true = _as_binary(y_true, "y_true")
    if len(y_true) == 0:
        raise ValueError(ERR_EMPTY)
    y_pred = _as_binary(y_pred, "y_pred")
    columns = _feature_columns(sensitive_features)
    _check_length(len(y_true), "y_pred", len(y_pred))
    for name, column in columns.items():
        _check_length(len(y_true), f"sensitive feature {name!r}", len(column))
    score = None
    if y_score is not None:
        score = np.asarray(y_score)
        if score.ndim != 1:
            raise ValueError(ERR_SCORE)
        _check_length(len(y_true), "y_score", len(score))
        if score.dtype.kind not in "biuf":
            raise ValueError(ERR_SCORE)
        score = score.astype(np.float64)
        if not (np.isfinite(score).all() and score.min() >= 0 and score.max() <= 1):
            raise ValueError(ERR_SCORE)
    return y_true, y_pred, score, columns


def _check_length(n, name, m):
    if m != n:
        raise ValueError(ERR_LENGTH.format(n=n, name=name, m=m))


def _as_binary(values, name):
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(ERR_NOT_1D.format(name=name))
    if arr.dtype.kind in "biuf":
        ok = (arr == 0) | (arr == 1)
    elif arr.dtype.kind == "O":
        # Python's == never equates "1" with 1, so string labels are rejected.
        ok = np.fromiter((v in (0, 1) for v in arr), dtype=bool, count=len(arr))
    else:
        ok = np.zeros(len(arr), dtype=bool)
    if not ok.all():
        found = ", ".join(repr(v) for v in list(dict.fromkeys(arr[~ok].tolist()))[:5])
        raise ValueError(ERR_LABELS.format(name=name, found=found))
    return arr.astype(np.int64)


def _feature_columns(sensitive_features):
    if isinstance(sensitive_features, pd.DataFrame):
        frame = sensitive_features.reset_index(drop=True)
        columns = {str(name): frame[name] for name in frame.columns}
    elif isinstance(sensitive_features, pd.Series):
        name = sensitive_features.name if sensitive_features.name is not None else "sensitive_feature"
        columns = {str(name): sensitive_features.reset_index(drop=True)}
    elif isinstance(sensitive_features, dict):
        columns = {str(name): _as_series(name, values) for name, values in sensitive_features.items()}
    else:
        raise TypeError(ERR_FEATURES_TYPE)
    if not columns:
        raise ValueError(ERR_NO_FEATURES)
    return columns


def _as_series(name, values):
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(ERR_NOT_1D.format(name=f"sensitive feature {name!r}"))
    return pd.Series(arr)


# ---------------------------------------------------------------- encoding


def _encode_features(columns, bins):
    unknown = sorted(set(map(str, bins)) - set(columns))
    if unknown:
        raise ValueError(ERR_BINS_FEATURE.format(name=unknown[0], names=", ".join(columns)))
    bins = {str(name): edges for name, edges in bins.items()}
    return [_encode_column(name, column, bins.get(name)) for name, column in columns.items()]


def _encode_column(name, column, edges):
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if edges is not None and not numeric:
        raise ValueError(ERR_BINS_NOT_NUMERIC.format(name=name))
    if edges is not None:
        edges = _check_edges(name, edges)
    elif not numeric or column.nunique(dropna=True) < CONTINUOUS_MIN_DISTINCT:
        codes, labels = _encode_categorical(column)
        return {"name": name, "codes": codes, "labels": labels, "spec": {"type": "categorical"}}
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    codes, labels, used_edges = _encode_binned(values, edges)
    spec = {"type": "continuous", "binning": "given" if edges is not None else "quartiles",
            "bins": [float(edge) for edge in used_edges]}
    return {"name": name, "codes": codes, "labels": labels, "spec": spec}


def _check_edges(name, edges):
    try:
        arr = np.asarray(edges, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(ERR_BINS_EDGES.format(name=name)) from None
    if arr.ndim != 1 or len(arr) < 2 or not np.isfinite(arr).all() or (np.diff(arr) <= 0).any():
        raise ValueError(ERR_BINS_EDGES.format(name=name))
    return arr


def _encode_categorical(column):
    try:
        codes, uniques = pd.factorize(column, sort=True)
    except TypeError:  # mixed types cannot be sorted; sort by their text instead
        codes, uniques = pd.factorize(column.where(column.isna(), column.astype(str)), sort=True)
    labels = [str(value) for value in uniques]
    codes = np.asarray(codes, dtype=np.int64)
    if (codes < 0).any():
        codes[codes < 0] = len(labels)
        labels.append(MISSING_LABEL)
    return codes, labels


def _encode_binned(values, edges):
    missing = np.isnan(values)
    closed_top = edges is None
    if closed_top:
        edges = np.unique(np.quantile(values[~missing], QUANTILES))
    k = len(edges)
    # 0: below the first edge; i in 1..k-1: [edge[i-1], edge[i]); k: at/above the last edge.
    idx = np.searchsorted(edges, values, side="right")
    if closed_top:
        idx[values == edges[-1]] = k - 1
    idx[missing] = k + 1
    text = [_fmt(edge) for edge in edges]
    labels = [f"(-inf, {text[0]})"] + [f"[{a}, {b})" for a, b in zip(text, text[1:])]
    labels += [f"[{text[-1]}, inf)", MISSING_LABEL]
    if closed_top:
        labels[k - 1] = labels[k - 1][:-1] + "]"
    codes, used = _compact(idx, k + 2)
    return codes, [labels[i] for i in used], edges


def _fmt(number):
    return np.format_float_positional(float(number), precision=6, trim="-")


def _compact(codes, size):
    """Renumber codes 0..size-1 to 0..k-1 over the values present, keeping order."""
    present = np.bincount(codes, minlength=size) > 0
    return (np.cumsum(present) - 1)[codes], np.flatnonzero(present)


# ---------------------------------------------------------------- views


def _build_views(features, n, intersectional):
    """Encode the intersection of all features ("fine" slices) and describe every
    reported view (each feature, the intersection, overall) as a map from fine
    slices to the view's groups, so rows are counted once and views are sums."""
    fine = np.zeros(n, dtype=np.int64)
    size = 1
    for feature in features:
        k = len(feature["labels"])
        combo = fine * k + feature["codes"]
        if size * k <= 4 * n + 1024:
            fine, used = _compact(combo, size * k)
        else:
            used, fine = np.unique(combo, return_inverse=True)
        size = len(used)
    views = [_view(None, np.zeros(size, dtype=np.int64), ["all"])]
    levels = []
    for feature in features:
        mapping = np.zeros(size, dtype=np.int64)
        mapping[fine] = feature["codes"]
        views.append(_view(feature["name"], mapping, feature["labels"]))
        levels.append([feature["labels"][code] for code in mapping])
    if len(features) > 1 and intersectional:
        names = [feature["name"] for feature in features]
        view = _view(INTERSECTION_JOIN.join(names), np.arange(size), None)
        view["levels"] = [dict(zip(names, combo)) for combo in zip(*levels)]
        view["labels"] = [" | ".join(f"{k}={v}" for k, v in lv.items()) for lv in view["levels"]]
        view["features"] = names
        views.append(view)
    return fine, size, views


def _view(name, mapping, labels):
    order = np.argsort(mapping, kind="stable")
    starts = np.searchsorted(mapping[order], np.arange(int(mapping.max()) + 1))
    return {"name": name, "order": order, "starts": starts, "labels": labels}


def _aggregate(view, arr, trailing):
    """Sum fine slices into the view's groups; arr is (..., n_fine, *trailing).
    Sorting by group and reduceat avoids an n_groups x n_fine matrix, which for
    a large intersection would not fit in memory."""
    axis = arr.ndim - 1 - len(trailing)
    return np.add.reduceat(np.take(arr, view["order"], axis=axis), view["starts"], axis=axis)


# ---------------------------------------------------------------- counting


def _point_sums(fine, n_fine, y_true, y_pred, score):
    cells = np.bincount(fine * 4 + 2 * y_true + y_pred, minlength=n_fine * 4)
    sums = {"cells": cells.reshape(n_fine, 4).astype(np.float64), "ece": None}
    if score is not None:
        sbin = _score_bins(score)
        sums["ece"] = _ece_sums(fine * ECE_BINS + sbin, y_true, score, n_fine * ECE_BINS)
        sums["ece"] = sums["ece"].reshape(n_fine, ECE_BINS, 3)
    return sums


def _score_bins(score):
    # floor(10 p) rather than comparing with linspace edges, whose 0.30000000000000004
    # would put p = 0.3 in the wrong bin.
    return np.minimum((score * ECE_BINS).astype(np.int64), ECE_BINS - 1)


def _ece_sums(key, y, score, size):
    """Per key: [row count, sum of scores, sum of labels]."""
    count = np.bincount(key, minlength=size)
    return np.stack(
        [count, np.bincount(key, weights=score, minlength=size), np.bincount(key, weights=y, minlength=size)],
        axis=-1,
    ).astype(np.float64)


def _bootstrap_sums(fine, y_true, y_pred, score, sums, views, n_bootstrap, random_state):
    """Resampled confusion counts per fine slice, (B, n_fine, 4), and, with scores,
    each view's resampled ECE, {view name: (B, n_groups)}."""
    if n_bootstrap == 0:
        return None
    # Independent streams, so the count intervals are the same with or without y_score.
    count_seed, row_seed = np.random.SeedSequence(random_state).spawn(2)
    flat = sums["cells"].ravel()
    n = int(flat.sum())
    draws = np.random.default_rng(count_seed).multinomial(n, flat / n, size=n_bootstrap)
    boot = {"cells": draws.reshape(n_bootstrap, -1, 4).astype(np.float64), "ece": None}
    if score is not None:
        rng = np.random.default_rng(row_seed)
        boot["ece"] = _bootstrap_ece(draws, fine * 4 + 2 * y_true + y_pred, score, views, rng)
    return boot


def _bootstrap_ece(draws, cell_key, score, views, rng):
    """For each resample, draw each cell's rows uniformly from that cell's rows
    (as many as the multinomial gave it), tally ECE sums by score bin and reduce
    them to each view's ECE chunk by chunk, so memory stays bounded."""
    n_boot, n_keys = draws.shape
    n, n_fine = len(score), n_keys // 4
    order = np.argsort(cell_key, kind="stable")
    sizes = np.bincount(cell_key, minlength=n_keys)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    base = (cell_key[order] // 4) * ECE_BINS + _score_bins(score)[order]
    y_sorted, score_sorted = cell_key[order] % 4 // 2, score[order]
    out = {view["name"]: np.empty((n_boot, len(view["starts"]))) for view in views}
    step = max(1, min(_CHUNK_ROWS // n, _CHUNK_ROWS // (n_fine * ECE_BINS * 3)))
    for first in range(0, n_boot, step):
        chunk = draws[first : first + step]
        keys = np.repeat(np.tile(np.arange(n_keys), len(chunk)), chunk.ravel())
        offset = np.minimum((rng.random(len(keys)) * sizes[keys]).astype(np.int64), sizes[keys] - 1)
        pos = starts[keys] + offset
        resample = np.arange(len(keys)) // n  # every resample has exactly n draws
        key = resample * (n_fine * ECE_BINS) + base[pos]
        sums = _ece_sums(key, y_sorted[pos], score_sorted[pos], len(chunk) * n_fine * ECE_BINS)
        sums = sums.reshape(len(chunk), n_fine, ECE_BINS, 3)
        for view in views:
            out[view["name"]][first : first + len(chunk)] = _ece(_aggregate(view, sums, (ECE_BINS, 3)))
    return out


# ---------------------------------------------------------------- statistics


def _rates(cells):
    tn, fp, fn, tp = np.moveaxis(cells, -1, 0)
    n = tn + fp + fn + tp
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 -> NaN -> None
        return {
            "accuracy": (tn + tp) / n,
            "selection_rate": (fp + tp) / n,
            "tpr": tp / (tp + fn),
            "fpr": fp / (fp + tn),
            "precision": tp / (tp + fp),
        }


def _ece(ece_sums):
    # sum_b (n_b / n) |mean p_b - mean y_b| == sum_b |sum p_b - sum y_b| / n
    count, score_sum, y_sum = np.moveaxis(ece_sums, -1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(score_sum - y_sum).sum(-1) / count.sum(-1)


def _stats(cells, ece):
    stats = _rates(cells)
    if ece is not None:
        stats[ECE] = ece
    return stats


def _disparities(stats, include):
    """max - min and min / max over the included groups; NaN propagates, so a
    resample where an included group is undefined gives an undefined disparity."""
    out = {}
    for metric, values in stats.items():
        chosen = values[..., include[metric]]
        if chosen.shape[-1] < 2:
            nan = np.full(values.shape[:-1], np.nan)
            out[metric] = {"difference": nan, "ratio": nan}
            continue
        high, low = chosen.max(axis=-1), chosen.min(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[metric] = {"difference": high - low, "ratio": low / high}
    out["demographic_parity_difference"] = out["selection_rate"]["difference"]
    out["demographic_parity_ratio"] = out["selection_rate"]["ratio"]
    out["equalized_odds_difference"] = np.maximum(out["tpr"]["difference"], out["fpr"]["difference"])
    out["equalized_odds_ratio"] = np.minimum(out["tpr"]["ratio"], out["fpr"]["ratio"])
    return out


def _impact_ratios(selection_rate, include):
    """Four-fifths impact ratio: each group's selection rate over the highest
    included group's."""
    if not include.any():
        return np.full(selection_rate.shape, np.nan)
    top = selection_rate[..., include].max(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return selection_rate / top


# ---------------------------------------------------------------- reporting


def _view_report(view, sums, boot, *, min_slice_count, level):
    point_cells = _aggregate(view, sums["cells"], (4,))
    point_ece = None if sums["ece"] is None else _aggregate(view, sums["ece"], (ECE_BINS, 3))
    point = _stats(point_cells, None if point_ece is None else _ece(point_ece))
    counts = point_cells.sum(axis=-1)
    sufficient = counts >= min_slice_count
    include = {metric: sufficient & ~np.isnan(values) for metric, values in point.items()}
    boot_stats = boot_disp = boot_impact = None
    if boot is not None:
        boot_ece = None if boot["ece"] is None else boot["ece"][view["name"]]
        boot_stats = _stats(_aggregate(view, boot["cells"], (4,)), boot_ece)
        boot_disp = _disparities(boot_stats, include)
        boot_impact = _impact_ratios(boot_stats["selection_rate"], include["selection_rate"])
    groups = _group_entries(view, point_cells, point_ece, point, boot_stats, sufficient, level)
    report = {
        "groups": groups,
        "disparities": _summarise_disparities(_disparities(point, include), boot_disp, level),
        "four_fifths": _four_fifths(view, point, include, sufficient, boot_impact, level),
        "excluded_from_disparities": [g["group"] for g in groups if g["status"] != "ok"],
    }
    if "features" in view:
        report["features"] = view["features"]
    return report


def _group_entries(view, cells, ece_sums, point, boot_stats, sufficient, level):
    bounds = {m: _percentiles(boot_stats[m], level) for m in point} if boot_stats else {}
    entries = []
    for g, label in enumerate(view["labels"]):
        metrics = {}
        for metric, values in point.items():
            ci = _ci(bounds[metric][0][g], bounds[metric][1][g]) if bounds else None
            metrics[metric] = {"value": _num(values[g]), "ci": ci}
        entry = {
            "group": label,
            "count": int(cells[g].sum()),
            "status": "ok" if sufficient[g] else "insufficient_data",
            "confusion": {name: int(cells[g][i]) for i, name in enumerate(CELLS)},
            "metrics": metrics,
        }
        if "levels" in view:
            entry["levels"] = view["levels"][g]
        if ece_sums is not None:
            entry["reliability"] = _reliability(ece_sums[g])
        entries.append(entry)
    return entries


def _reliability(ece_sums):
    points = []
    for b, (count, score_sum, y_sum) in enumerate(ece_sums):
        if count > 0:
            low, high = b / ECE_BINS, (b + 1) / ECE_BINS
            closing = "]" if b == ECE_BINS - 1 else ")"
            points.append({
                "bin": f"[{low:.1f}, {high:.1f}{closing}",
                "count": int(count),
                "mean_score": float(score_sum / count),
                "fraction_positive": float(y_sum / count),
            })
    return points


def _summarise_disparities(point, boot, level):
    def entry(value, samples):
        ci = _ci(*_percentiles(samples, level)) if samples is not None else None
        return {"value": _num(value), "ci": ci}

    out = {}
    for name, value in point.items():
        samples = boot[name] if boot else None
        if isinstance(value, dict):
            out[name] = {kind: entry(value[kind], samples[kind] if samples else None) for kind in value}
        else:
            out[name] = entry(value, samples)
    return out


def _four_fifths(view, point, include, sufficient, boot_impact, level):
    impact = _impact_ratios(point["selection_rate"], include["selection_rate"])
    bounds = _percentiles(boot_impact, level) if boot_impact is not None else None
    chosen = np.flatnonzero(include["selection_rate"])
    reference = view["labels"][chosen[np.argmax(point["selection_rate"][chosen])]] if len(chosen) else None
    groups = []
    for g, label in enumerate(view["labels"]):
        ratio = _num(impact[g])
        flagged = None  # not judged: too few rows, or no reference rate
        if sufficient[g] and ratio is not None:
            flagged = ratio < FOUR_FIFTHS_THRESHOLD - _FLOAT_TOLERANCE
        groups.append({
            "group": label,
            "selection_rate": _num(point["selection_rate"][g]),
            "impact_ratio": {"value": ratio, "ci": _ci(bounds[0][g], bounds[1][g]) if bounds else None},
            "flagged": flagged,
            "status": "ok" if sufficient[g] else "insufficient_data",
        })
    return {
        "threshold": FOUR_FIFTHS_THRESHOLD,
        "reference_group": reference,
        "groups": groups,
        "flagged_groups": [g["group"] for g in groups if g["flagged"]],
        "citation": FOUR_FIFTHS_CITATION,
        "caveats": FOUR_FIFTHS_CAVEATS,
    }


def _percentiles(samples, level):
    """np.nanpercentile(samples, ..., axis=0) with its default linear method,
    vectorised: numpy falls back to a Python loop per column when NaNs are
    present, which is slow for thousands of slices."""
    ordered = np.sort(samples, axis=0)  # NaN sorts last
    defined = (~np.isnan(samples)).sum(axis=0)
    bounds = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        position = np.maximum(defined - 1, 0) * q
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, np.maximum(defined - 1, 0))
        low = np.take_along_axis(ordered, below[np.newaxis], axis=0)[0]
        high = np.take_along_axis(ordered, above[np.newaxis], axis=0)[0]
        value = low + (high - low) * (position - below)
        bounds.append(np.where(defined > 0, value, np.nan))
    return bounds


def _ci(low, high):
    low, high = _num(low), _num(high)
    return None if low is None or high is None else [low, high]


def _num(value):
    value = float(value)
    return value if np.isfinite(value) else None


def _insufficient(reports, intersection):
    views = list(reports.items())
    if intersection:
        views.append((INTERSECTION_JOIN.join(intersection["features"]), intersection))
    return [
        {"feature": name, "group": g["group"], "count": g["count"]}
        for name, report in views
        for g in report["groups"]
        if g["status"] == "insufficient_data"
    ]


def _params(features, score, *, min_slice_count, n_bootstrap, confidence_level, random_state, intersectional):
    return {
        "min_slice_count": int(min_slice_count),
        "n_bootstrap": int(n_bootstrap),
        "confidence_level": float(confidence_level),
        "random_state": None if random_state is None else int(random_state),
        "intersectional": bool(intersectional),
        "bootstrap": "percentile; rows resampled jointly with replacement",
        "ece_bins": ECE_BINS if score is not None else None,
        "features": {feature["name"]: feature["spec"] for feature in features},
    }


# ---------------------------------------------------------------- policy check

_PLAIN = {
    "accuracy": "accuracy",
    "selection_rate": "rate of positive decisions",
    "tpr": "true-positive rate (share of actual positives the model catches)",
    "fpr": "false-positive rate (share of actual negatives the model wrongly flags)",
    "precision": "precision (share of positive decisions that are right)",
    ECE: "calibration error",
}
_PLAIN_FAIRLEARN = {
    "demographic_parity_difference": (
        "the gap in the rate of positive decisions between the most and least favoured groups"),
    "demographic_parity_ratio": (
        "the least favoured group's rate of positive decisions as a share of the most favoured group's"),
    "equalized_odds_difference": "the larger of the between-group gaps in true-positive and false-positive rates",
    "equalized_odds_ratio": "the smaller of the between-group ratios of true-positive and false-positive rates",
}
THRESHOLD_METRICS = FAIRLEARN_DISPARITIES + tuple(
    f"{metric}_{kind}" for metric in METRICS + (ECE,) for kind in ("difference", "ratio")
)


def fairness_evaluate(result, *, thresholds, rule="interval") -> list[dict]:
    """Check an audit result's disparities against policy thresholds.

    ``thresholds`` maps a disparity (one of ``THRESHOLD_METRICS``, e.g.
    ``demographic_parity_difference`` or ``accuracy_difference``) to
    ``{"max": x}`` or ``{"min": x}``; each is checked for every feature and
    for the intersection.

    ``rule="interval"`` decides on the confidence interval, so a verdict is
    only given when the data support it: for a ``max`` threshold the check
    passes when the interval's upper bound is <= the threshold, fails when its
    lower bound is > the threshold, and is otherwise inconclusive; for a
    ``min`` threshold it passes when the lower bound is >= the threshold,
    fails when the upper bound is < it, otherwise inconclusive.
    ``rule="point"`` compares the point estimate alone (pass or fail). A value
    that could not be computed, or a missing interval under the interval rule,
    is inconclusive.
    """
    if rule not in ("interval", "point"):
        raise ValueError(ERR_RULE)
    limits = _check_thresholds(thresholds)
    level = result["params"]["confidence_level"]
    views = list(result["features"].items())
    if result.get("intersectional"):
        views.append((INTERSECTION_JOIN.join(result["intersectional"]["features"]), result["intersectional"]))
    checks = []
    for metric, (operator, threshold) in limits.items():
        for feature, report in views:
            entry = _lookup(report["disparities"], metric)
            outcome = _outcome(entry["value"], entry["ci"], operator, threshold, rule)
            checks.append({
                "metric": metric,
                "feature": feature,
                "value": entry["value"],
                "ci": entry["ci"],
                "threshold": threshold,
                "operator": operator,
                "outcome": outcome,
                "explanation": _explain(metric, feature, entry, (operator, threshold), outcome, rule, level),
            })
    return checks


def _check_thresholds(thresholds):
    if not isinstance(thresholds, dict):
        raise ValueError(ERR_THRESHOLDS_TYPE)
    limits = {}
    for metric, spec in thresholds.items():
        if metric not in THRESHOLD_METRICS:
            raise ValueError(ERR_THRESHOLD_METRIC.format(metric=metric, accepted=", ".join(THRESHOLD_METRICS)))
        valid = isinstance(spec, dict) and len(spec) == 1 and set(spec) <= {"max", "min"}
        value = next(iter(spec.values())) if valid else None
        if not valid or not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise ValueError(ERR_THRESHOLD_SPEC.format(metric=metric))
        limits[metric] = ("<=" if "max" in spec else ">=", float(value))
    return limits


def _lookup(disparities, metric):
    if metric in FAIRLEARN_DISPARITIES:
        return disparities[metric]
    base, _, kind = metric.rpartition("_")
    # ECE disparities exist only when the audit had scores.
    return disparities.get(base, {}).get(kind, {"value": None, "ci": None})


def _outcome(value, ci, operator, threshold, rule):
    if value is None or (rule == "interval" and ci is None):
        return "inconclusive"
    if rule == "point":
        ok = value <= threshold if operator == "<=" else value >= threshold
        return "pass" if ok else "fail"
    low, high = ci
    if operator == "<=":
        return "pass" if high <= threshold else "fail" if low > threshold else "inconclusive"
    return "pass" if low >= threshold else "fail" if high < threshold else "inconclusive"


def _explain(metric, feature, entry, limit, outcome, rule, level):
    subject = _PLAIN_FAIRLEARN.get(metric)
    if subject is None:
        base, _, kind = metric.rpartition("_")
        subject = (f"the gap in {_PLAIN[base]} between the highest and lowest groups" if kind == "difference"
                   else f"the lowest group's {_PLAIN[base]} as a share of the highest group's")
    operator, threshold = limit
    limit = f"the allowed {'maximum' if operator == '<=' else 'minimum'} of {threshold:g}"
    start = f"Across the {feature} groups, {subject}"
    if entry["value"] is None:
        return (f"{start} could not be computed from this audit (for example, fewer than two groups "
                f"had enough data), so {limit} cannot be checked.")
    value = f"{entry['value']:.3f}"
    if rule == "point":
        verdict = "meets" if outcome == "pass" else "does not meet"
        return f"{start} is {value}, which {verdict} {limit} (judged on the estimate alone, without its uncertainty)."
    if entry["ci"] is None:
        return (f"{start} is {value}, but no confidence interval was computed, so {limit} cannot be "
                "judged under the interval rule.")
    low, high = (f"{bound:.3f}" for bound in entry["ci"])
    span = f"{start} is {value} ({level:.0%} confidence interval {low} to {high})"
    if outcome == "pass":
        return f"{span}, which meets {limit} even at the unfavourable end of that interval."
    if outcome == "fail":
        return f"{span}, which misses {limit} even at the favourable end of that interval."
    return f"{span}; that interval straddles {limit}, so more data are needed to tell whether it is met."


# ---------------------------------------------------------------- mitigation

ACCURACY_TOLERANCE = 0.05  # largest accuracy loss the recommendation accepts
MITIGATION_CAVEATS = (
    "ThresholdOptimizer uses the sensitive feature when making each decision, which "
    "some laws forbid (disparate treatment); both methods randomise some decisions; "
    "re-audit any mitigated model before deployment."
)


def mitigation_outlook(
    X_train, y_train, X_test, y_test, *, sensitive_train, sensitive_test, estimator=None, random_state=0
) -> dict:
    """What Fairlearn mitigations would trade, on this data, against the baseline.

    Rows: the unmitigated baseline (``estimator``, or a LogisticRegression
    fitted here when None); ThresholdOptimizer (prefit, on a copy of the
    fitted estimator's predict_proba) under "demographic_parity" and
    "equalized_odds"; ExponentiatedGradient with a LogisticRegression base
    learner under DemographicParity and EqualizedOdds. Each row has test
    accuracy and the test demographic-parity and equalized-odds differences
    (fairlearn definitions; several sensitive columns are intersected). A
    method that raises is reported with its error, not hidden. Sensitive
    features should be categorical (bin continuous ones first). The given
    estimator is never changed: every method works on a deep copy.
    """
    from sklearn.linear_model import LogisticRegression

    if estimator is None:
        estimator = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    elif not hasattr(estimator, "predict_proba"):
        raise TypeError(ERR_NO_PREDICT_PROBA)
    baseline = copy.deepcopy(estimator)
    test = {"y_true": y_test, "sensitive_features": sensitive_test}
    rows = [_mitigation_row("baseline", None, lambda: baseline.predict(X_test), test)]
    train = (X_train, y_train, sensitive_train)
    for c in ("demographic_parity", "equalized_odds"):
        fit = partial(_threshold_optimizer, copy.deepcopy(estimator), c, train, X_test, sensitive_test, random_state)
        rows.append(_mitigation_row("ThresholdOptimizer", c, fit, test))
    for c in ("demographic_parity", "equalized_odds"):
        fit = partial(_exponentiated_gradient, c, train, X_test, random_state)
        rows.append(_mitigation_row("ExponentiatedGradient", c, fit, test))
    return {"rows": rows, "recommendation": _recommend(rows), "caveats": MITIGATION_CAVEATS,
            "random_state": random_state}


def _threshold_optimizer(estimator, constraint, train, X_test, s_test, random_state):
    from fairlearn.postprocessing import ThresholdOptimizer

    optimizer = ThresholdOptimizer(
        estimator=estimator, constraints=constraint, prefit=True, predict_method="predict_proba"
    )
    X_train, y_train, s_train = train
    optimizer.fit(X_train, y_train, sensitive_features=s_train)
    return optimizer.predict(X_test, sensitive_features=s_test, random_state=random_state)


def _exponentiated_gradient(constraint, train, X_test, random_state):
    from fairlearn.reductions import DemographicParity, EqualizedOdds, ExponentiatedGradient
    from sklearn.linear_model import LogisticRegression

    moment = DemographicParity() if constraint == "demographic_parity" else EqualizedOdds()
    with warnings.catch_warnings():
        # fairlearn.reductions triggers pandas' Pandas4Warning (a DeprecationWarning)
        # under pandas 3; it is fairlearn's to fix and says nothing about this model.
        warnings.simplefilter("ignore", DeprecationWarning)
        mitigator = ExponentiatedGradient(LogisticRegression(max_iter=1000), constraints=moment)
        X_train, y_train, s_train = train
        mitigator.fit(X_train, y_train, sensitive_features=s_train)
        return mitigator.predict(X_test, random_state=random_state)


def _mitigation_row(method, constraint, predict, test):
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    row = {"method": method, "constraint": constraint}
    try:
        y_pred = np.asarray(predict())
    except (ValueError, RuntimeError, np.linalg.LinAlgError) as error:
        return {**row, "status": "failed", "error": str(error), "accuracy": None,
                "demographic_parity_difference": None, "equalized_odds_difference": None}
    y_true = np.asarray(test["y_true"])
    return {
        **row,
        "status": "ok",
        "accuracy": _num(np.mean(y_true == y_pred)),
        "demographic_parity_difference": _num(demographic_parity_difference(y_true, y_pred, **_sf(test))),
        "equalized_odds_difference": _num(equalized_odds_difference(y_true, y_pred, **_sf(test))),
    }


def _sf(test):
    return {"sensitive_features": test["sensitive_features"]}


def _recommend(rows):
    def worst(row):  # an undefined disparity counts as the worst possible
        values = (row["demographic_parity_difference"], row["equalized_odds_difference"])
        return max(np.inf if v is None else v for v in values)

    base = rows[0]
    if base["status"] != "ok":
        return "The baseline could not be scored, so no mitigation can be recommended."
    floor = base["accuracy"] - ACCURACY_TOLERANCE
    candidates = [r for r in rows[1:] if r["status"] == "ok" and r["accuracy"] >= floor]
    if not candidates:
        return (f"No mitigation kept accuracy within {ACCURACY_TOLERANCE:g} of the baseline; "
                "keep the baseline and investigate the data.")
    best = min(candidates, key=worst)
    if worst(best) >= worst(base):
        return ("No mitigation reduced the larger of the two disparities; "
                "keep the baseline and investigate the data.")
    return (
        f"{best['method']} ({best['constraint']}) lowers the larger disparity from {worst(base):.3f} to "
        f"{worst(best):.3f} at an accuracy change of {best['accuracy'] - base['accuracy']:+.3f}; "
        "consider it, and re-audit before deployment."
    )
