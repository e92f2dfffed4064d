"""Verdicts: a fairness report judged against a policy's thresholds, check by check, in plain
words, with one error budget shared by every check of the audit."""

from __future__ import annotations

import numbers

import numpy as np

from audits.kinds.fairness.probe.counts import CELLS, ECE, ECE_BINS, FAIRLEARN_DISPARITIES, METRICS
from audits.kinds.fairness.probe.intervals import named_interval
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
ERROR_BUDGET_RULE = (
    "One error budget for the whole audit: the {budget:.0%} chance of a wrong verdict is split evenly "
    "over its {checks} checks (Bonferroni), so each check's interval has {check_level} confidence. "
    "A verdict is wrong when a check passes or fails although the true value sits on the other side "
    "of its limit or on it; across all the audit's checks together that happens with probability "
    "at most {budget:.0%}, whatever the data."
)

THRESHOLD_METRICS = FAIRLEARN_DISPARITIES + tuple(
    f"{metric}_{kind}" for metric in METRICS + (ECE,) for kind in ("difference", "ratio")
)


def fairness_evaluate(result, *, thresholds, rule="interval") -> list[dict]:
    """Check an audit result's disparities against policy thresholds.

    ``thresholds`` maps a disparity (one of ``THRESHOLD_METRICS``, e.g.
    ``demographic_parity_difference`` or ``accuracy_difference``) to
    ``{"max": x}`` or ``{"min": x}``; each is checked for every feature and
    for the intersection: m = thresholds x views checks in all.

    ``rule="interval"`` decides on a confidence interval, so a verdict is
    only given when the data support it: for a ``max`` threshold the check
    passes when the interval's upper bound is <= the threshold, fails when its
    lower bound is > the threshold, and is otherwise inconclusive; for a
    ``min`` threshold it passes when the lower bound is >= the threshold,
    fails when the upper bound is < it, otherwise inconclusive.

    One error budget per audit (``ERROR_BUDGET_RULE``): the audit's
    ``1 - confidence_level`` is split evenly over its m checks (Bonferroni;
    Dunn 1961, J. Amer. Statist. Assoc. 56:52-64), so each check's interval
    is recomputed from the groups' counts at level 1 - (1 - confidence_level)
    / m, half of that on each side. A check at its limit is judged wrongly
    (pass or fail) only when its interval misses the true value on one side,
    so the probability that any check of the audit is judged wrongly is at
    most the sum, 1 - confidence_level, for any dependence between checks.
    The interval on each check (``ci``) is that wider one; the report's own
    disparity intervals stay at ``confidence_level`` each.

    ``rule="point"`` compares the point estimate alone (pass or fail). A value
    that could not be computed, or an audit run without intervals under the
    interval rule, is inconclusive.
    """
    if rule not in ("interval", "point"):
        raise ValueError(ERR_RULE)
    limits = _check_thresholds(thresholds)
    level = result["params"]["confidence_level"]
    intervals_on = result["params"].get("interval") is not None
    views = list(result["features"].items())
    if result.get("intersectional"):
        views.append((INTERSECTION_JOIN.join(result["intersectional"]["features"]), result["intersectional"]))
    budget = {"checks": len(limits) * len(views), "level": level}
    miss = (1 - level) / max(budget["checks"], 1)
    checks = []
    for metric, (operator, threshold) in limits.items():
        for feature, report in views:
            value = _lookup(report["disparities"], metric)["value"]
            ci = _check_interval(report, metric, miss) if intervals_on and value is not None else None
            entry = {"value": value, "ci": ci}
            outcome = _outcome(value, ci, operator, threshold, rule)
            checks.append({
                "metric": metric,
                "feature": feature,
                "value": value,
                "ci": ci,
                "confidence_level": 1 - miss,
                "threshold": threshold,
                "operator": operator,
                "outcome": outcome,
                "explanation": _explain(metric, feature, entry, (operator, threshold), outcome, rule, budget),
            })
    return checks


def error_budget_words(*, checks, confidence_level) -> str:
    """The audit-wide rule in plain words, for the page and the report."""
    return ERROR_BUDGET_RULE.format(budget=1 - confidence_level, checks=checks,
                                    check_level=_percent(1 - (1 - confidence_level) / max(checks, 1)))


def _percent(level):
    return f"{100 * level:.2f}%".replace(".00%", "%")


def _check_interval(report, metric, miss):
    """The check's interval from the stored group counts: the same groups (sufficient, value
    defined) as the point estimate, at the check's share of the audit's budget."""
    groups = report["groups"]
    cells = np.array([[g["confusion"][c] for c in CELLS] for g in groups], dtype=np.float64)
    ece_sums = None
    if groups and "reliability" in groups[0]:
        ece_sums = np.zeros((len(groups), ECE_BINS, 3))
        for g, entry in enumerate(groups):
            for point in entry["reliability"]:
                b = int(round(float(point["bin"][1:].split(",")[0]) * ECE_BINS))
                # Labels are counts: rounding undoes the float error of fraction * count.
                ece_sums[g, b] = (point["count"], point["mean_score"] * point["count"],
                                  round(point["fraction_positive"] * point["count"]))
    sufficient = np.array([g["status"] == "ok" for g in groups], dtype=bool)
    include = {m: sufficient & np.array([g["metrics"].get(m, {}).get("value") is not None for g in groups], dtype=bool)
               for m in METRICS + (ECE,)}
    if metric.startswith(ECE) and ece_sums is None:
        return None
    low, high = named_interval(cells, ece_sums, include, metric, miss=miss)
    low, high = float(low), float(high)
    return [low, high] if np.isfinite(low) and np.isfinite(high) else None


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


def _explain(metric, feature, entry, limit, outcome, rule, budget):
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
    check_level = _percent(1 - (1 - budget["level"]) / budget["checks"])
    span = (f"{start} is {value} ({check_level} confidence interval {low} to {high}: the audit's "
            f"{1 - budget['level']:.0%} error budget split over its {budget['checks']} checks)")
    if outcome == "pass":
        return f"{span}, which meets {limit} even at the unfavourable end of that interval."
    if outcome == "fail":
        return f"{span}, which misses {limit} even at the favourable end of that interval."
    return f"{span}; that interval straddles {limit}, so more data are needed to tell whether it is met."
