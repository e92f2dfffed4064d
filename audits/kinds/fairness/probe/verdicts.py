"""Verdicts: a fairness report judged against a policy's thresholds, check by check, in plain words."""

from __future__ import annotations

import numbers

from audits.kinds.fairness.probe.bootstrap import ECE, FAIRLEARN_DISPARITIES, METRICS
from audits.kinds.fairness.probe.slices import INTERSECTION_JOIN

DEFAULT_THRESHOLDS = {
    "demographic_parity_difference": {"max": 0.1},
    "demographic_parity_ratio": {"min": 0.8},
    "equalized_odds_difference": {"max": 0.2},
}

ERR_RULE = "rule must be one of 'interval', 'point'"
ERR_THRESHOLDS_TYPE = "thresholds must be a dict of metric name -> {'max': number} or {'min': number}"
ERR_THRESHOLD_METRIC = "unknown threshold metric {metric!r}; accepted: {accepted}"
ERR_THRESHOLD_SPEC = "threshold for {metric!r} must be exactly one of {{'max': number}} or {{'min': number}}"

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
