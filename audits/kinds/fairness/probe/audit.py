"""The fairness audit's report: per group of each view, its metrics with exact intervals, the
disparities with intervals built from them, the four-fifths screen, and the slices with too little data."""

from __future__ import annotations

import numbers

import numpy as np

from audits.kinds.fairness.probe.counts import (
    CELLS,
    ECE,
    ECE_BINS,
    _aggregate,
    _ci,
    _disparities,
    _ece,
    _impact_ratios,
    _num,
    _point_sums,
    _stats,
)
from audits.kinds.fairness.probe.intervals import (
    disparity_intervals,
    ece_interval,
    impact_ratio_intervals,
    rate_interval,
)
from audits.kinds.fairness.probe.slices import (
    INTERSECTION_JOIN,
    _build_views,
    _encode_features,
    _validate_inputs,
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

ERR_MIN_SLICE_COUNT = "min_slice_count must be an integer >= 1"
ERR_INTERVALS = "intervals must be true or false (false turns confidence intervals off)"

INTERVAL_METHOD = (
    "exact: Clopper-Pearson per group; disparities from the per-group bounds, Bonferroni over the groups"
)
ERR_CONFIDENCE_LEVEL = "confidence_level must be a number strictly between 0 and 1"

_FLOAT_TOLERANCE = 1e-12


def fairness_audit(
    y_true,
    y_pred,
    *,
    sensitive_features,
    y_score=None,
    bins=None,
    min_slice_count=20,
    intervals=True,
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

    Confidence intervals (``confidence_level``, each on its own): a rate's
    is the Clopper-Pearson exact interval on the group's counts; ECE's bounds
    the gap in each score bin by the Clopper-Pearson interval of its positive
    rate; a disparity's is the range it takes over the groups' intervals made
    simultaneous by Bonferroni (probe/intervals.py gives the method, its
    proof and its sources). Each has at least its nominal coverage for every
    true value and sample size, contains its estimate, and stays in range
    (a difference in [0, 1] and able to reach 0; a ratio in [0, 1] and able
    to reach 1). No resampling, so the same data give the same intervals;
    ``intervals=False`` leaves them out, and ``random_state`` is kept for the
    record only.

    Returns ``{"n", "overall": {metric: {"value", "ci"}}, "features": {name:
    report}, "intersectional": report or None, "insufficient_slices":
    [{"feature", "group", "count"}], "params"}`` where a report is
    ``{"groups": [{"group", "count", "status", "confusion", "metrics":
    {metric: {"value", "ci"}}, "reliability" (with scores), "levels"
    (intersection)}], "disparities": {metric: {"difference": {"value", "ci"},
    "ratio": {...}}, "demographic_parity_difference": {"value", "ci"}, ...},
    "four_fifths": {...}, "excluded_from_disparities": [group, ...]}``.
    """
    _check_options(min_slice_count, intervals, confidence_level)
    y_true, y_pred, score, columns = _validate_inputs(y_true, y_pred, y_score, sensitive_features)
    features = _encode_features(columns, bins or {})
    fine, n_fine, views = _build_views(features, len(y_true), intersectional)
    sums = _point_sums(fine, n_fine, y_true, y_pred, score)
    options = {"min_slice_count": min_slice_count, "level": confidence_level if intervals else None}
    reports = {view["name"]: _view_report(view, sums, **options) for view in views}
    overall = reports.pop(None)
    inter_name = INTERSECTION_JOIN.join(columns) if len(columns) > 1 and intersectional else None
    intersection = reports.pop(inter_name) if inter_name else None
    return {
        "n": int(len(y_true)),
        "overall": overall["groups"][0]["metrics"],
        "features": reports,
        "intersectional": intersection,
        "insufficient_slices": _insufficient(reports, intersection),
        "params": _params(features, score, min_slice_count=min_slice_count, intervals=intervals,
                          confidence_level=confidence_level, random_state=random_state,
                          intersectional=intersectional),
    }


# ---------------------------------------------------------------- inputs


def _check_options(min_slice_count, intervals, confidence_level):
    def is_int(value):
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)

    if not is_int(min_slice_count) or min_slice_count < 1:
        raise ValueError(ERR_MIN_SLICE_COUNT)
    if not isinstance(intervals, bool):
        raise ValueError(ERR_INTERVALS)
    if not isinstance(confidence_level, numbers.Real) or not 0 < confidence_level < 1:
        raise ValueError(ERR_CONFIDENCE_LEVEL)


def _view_report(view, sums, *, min_slice_count, level):
    """One view's report; ``level`` None leaves every interval out."""
    point_cells = _aggregate(view, sums["cells"], (4,))
    point_ece = None if sums["ece"] is None else _aggregate(view, sums["ece"], (ECE_BINS, 3))
    point = _stats(point_cells, None if point_ece is None else _ece(point_ece))
    counts = point_cells.sum(axis=-1)
    sufficient = counts >= min_slice_count
    include = {metric: sufficient & ~np.isnan(values) for metric, values in point.items()}
    groups = _group_entries(view, point_cells, point_ece, point, sufficient, level)
    cis = None if level is None else disparity_intervals(point_cells, point_ece, include, miss=1 - level)
    report = {
        "groups": groups,
        "disparities": _summarise_disparities(_disparities(point, include), cis),
        "four_fifths": _four_fifths(view, point_cells, point, include, sufficient, level),
        "excluded_from_disparities": [g["group"] for g in groups if g["status"] != "ok"],
    }
    if "features" in view:
        report["features"] = view["features"]
    return report


def _group_bounds(cells, ece_sums, metric, level):
    """Each group's interval for one metric at ``level`` on its own."""
    if metric == ECE:
        return ece_interval(ece_sums, miss=1 - level)
    return rate_interval(cells, metric, tail=(1 - level) / 2)


def _group_entries(view, cells, ece_sums, point, sufficient, level):
    bounds = {m: _group_bounds(cells, ece_sums, m, level) for m in point} if level is not None else {}
    entries = []
    for g, label in enumerate(view["labels"]):
        metrics = {}
        for metric, values in point.items():
            ci = _ci(bounds[metric][0][g], bounds[metric][1][g]) if bounds else None
            metrics[metric] = {"value": _num(values[g]), "ci": ci if _num(values[g]) is not None else None}
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


def _summarise_disparities(point, cis):
    def entry(value, bounds):
        value = _num(value)
        return {"value": value, "ci": _ci(*bounds) if bounds is not None and value is not None else None}

    out = {}
    for name, value in point.items():
        bounds = cis[name] if cis else None
        if isinstance(value, dict):
            out[name] = {kind: entry(value[kind], bounds[kind] if bounds else None) for kind in value}
        else:
            out[name] = entry(value, bounds)
    return out


def _four_fifths(view, cells, point, include, sufficient, level):
    impact = _impact_ratios(point["selection_rate"], include["selection_rate"])
    bounds = None
    if level is not None:
        bounds = impact_ratio_intervals(cells, include["selection_rate"], miss=1 - level)
    chosen = np.flatnonzero(include["selection_rate"])
    reference = view["labels"][chosen[np.argmax(point["selection_rate"][chosen])]] if len(chosen) else None
    groups = []
    for g, label in enumerate(view["labels"]):
        ratio = _num(impact[g])
        flagged = None  # not judged: too few rows, or no reference rate
        if sufficient[g] and ratio is not None:
            flagged = ratio < FOUR_FIFTHS_THRESHOLD - _FLOAT_TOLERANCE
        ci = _ci(bounds[0][g], bounds[1][g]) if bounds is not None and ratio is not None else None
        groups.append({
            "group": label,
            "selection_rate": _num(point["selection_rate"][g]),
            "impact_ratio": {"value": ratio, "ci": ci},
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


def _params(features, score, *, min_slice_count, intervals, confidence_level, random_state, intersectional):
    return {
        "min_slice_count": int(min_slice_count),
        "intervals": intervals,
        "confidence_level": float(confidence_level),
        "random_state": None if random_state is None else int(random_state),
        "intersectional": bool(intersectional),
        "interval": INTERVAL_METHOD if intervals else None,
        "ece_bins": ECE_BINS if score is not None else None,
        "features": {feature["name"]: feature["spec"] for feature in features},
    }
