"""Slices: check the inputs, encode each sensitive feature (binning continuous ones) and build the
views (one per feature, one per intersection) whose groups the metrics are computed over."""

from __future__ import annotations

import numpy as np
import pandas as pd

CONTINUOUS_MIN_DISTINCT = 11  # a numeric column with more than 10 values is binned
QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)
MISSING_LABEL = "missing"
INTERSECTION_JOIN = " & "

DEFAULT_AGE_BINS = [18, 25, 35, 50, 65, 120]

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


def default_bins(sensitive, given: dict | None = None) -> dict:
    """The bins every audit of a system uses for its continuous sensitive attributes, so that
    "age" reads the same groups on every page: the given ones (the audit's params), else age
    in life stages (DEFAULT_AGE_BINS); any other many-valued number falls to its quartiles."""
    bins = {str(c): DEFAULT_AGE_BINS for c in sensitive if str(c) == "age"}
    bins.update({str(k): v for k, v in (given or {}).items()})
    return bins


def group_labels(column: pd.Series, edges=None) -> np.ndarray:
    """Each row's group label, as the fairness tables name it ("[25, 35)", "female"): for the
    audits that report per group (robustness, DP retraining) to use the same groups."""
    encoded = _encode_column(str(column.name), column.reset_index(drop=True), edges)
    return np.asarray(encoded["labels"], dtype=object)[encoded["codes"]]


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
    codes, labels, used_edges = _encode_binned(values, edges, closed_top=edges is None)
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


def _encode_binned(values, edges, *, closed_top):
    """Bin codes and labels; without edges, the quartiles of the values. ``closed_top`` puts
    the last edge in the last interval (as the quartile bins do) instead of [edge, inf)."""
    missing = np.isnan(values)
    if edges is None:
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


def _slice_labels(columns, specs):
    """Each row's slice of the intersection of all features, as text ("sex=female | age=[25, 35)"),
    with the groups an audit used (``params["features"]``): another data set (a training set)
    lands in the same slices, so the same slice has the same label on both."""
    parts = []
    for name, column in columns.items():
        spec = specs[name]
        if spec["type"] == "continuous":
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            codes, labels, _ = _encode_binned(values, np.asarray(spec["bins"]),
                                              closed_top=spec["binning"] == "quartiles")
        else:
            codes, labels = _encode_categorical(column)
        parts.append(np.char.add(f"{name}=", np.asarray(labels, dtype=str)[codes]))
    out = parts[0]
    for part in parts[1:]:
        out = np.char.add(np.char.add(out, " | "), part)
    return out


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
