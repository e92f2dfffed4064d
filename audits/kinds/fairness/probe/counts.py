"""Confusion-cell sums per group, and the rates, calibration error and disparities computed from them."""

from __future__ import annotations

import numpy as np

METRICS = ("accuracy", "selection_rate", "tpr", "fpr", "precision")
ECE = "ece"
ECE_BINS = 10
CELLS = ("tn", "fp", "fn", "tp")  # cell index = 2 * y_true + y_pred

FAIRLEARN_DISPARITIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
)


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


def _ci(low, high):
    low, high = _num(low), _num(high)
    return None if low is None or high is None else [low, high]


def _num(value):
    value = float(value)
    return value if np.isfinite(value) else None
