"""Tests for the audit-wide error budget in audits/kinds/fairness/probe/verdicts.py: each check's
share, by hand, and a small fixed-seed simulation of audits whose every disparity sits at its limit."""

import numpy as np
import pytest
from scipy.stats import binomtest

from audits.kinds.fairness.probe import (
    DEFAULT_THRESHOLDS,
    error_budget_words,
    fairness_audit,
    fairness_evaluate,
)


def exact(x, n, one_sided_tail):
    interval = binomtest(x, n).proportion_ci(confidence_level=1 - 2 * one_sided_tail, method="exact")
    return interval.low, interval.high


def test_each_check_gets_its_share_of_the_audit_budget():
    # Two checks (DP difference and DP ratio on one feature): the audit's 5% becomes 2.5% per
    # check, 1.25% per side. a: 60/100 selected, b: 35/100. Difference upper bound U_a - L_b
    # at 1.25% / 2 per group; lower bound max(0, L_a - U_b) at 1.25% / (2 * 2 groups).
    y_pred = [1] * 60 + [0] * 40 + [1] * 35 + [0] * 65
    result = fairness_audit(np.zeros(200, int), y_pred, sensitive_features={"g": ["a"] * 100 + ["b"] * 100})
    thresholds = {"demographic_parity_difference": {"max": 0.1}, "demographic_parity_ratio": {"min": 0.8}}
    checks = fairness_evaluate(result, thresholds=thresholds)
    difference = next(c for c in checks if c["metric"] == "demographic_parity_difference")
    (_, high_a), (low_b, _) = exact(60, 100, 0.0125 / 2), exact(35, 100, 0.0125 / 2)
    (low_a, _), (_, high_b) = exact(60, 100, 0.0125 / 4), exact(35, 100, 0.0125 / 4)
    assert difference["ci"] == pytest.approx([max(0.0, low_a - high_b), high_a - low_b], abs=1e-12)
    assert difference["confidence_level"] == pytest.approx(0.975)
    assert "97.50% confidence interval" in difference["explanation"]
    # The check's interval is wider than the report's own 95% interval for the same disparity.
    report_ci = result["features"]["g"]["disparities"]["demographic_parity_difference"]["ci"]
    assert difference["ci"][0] <= report_ci[0] and report_ci[1] <= difference["ci"][1]


def test_the_error_budget_rule_is_stated_in_words():
    words = error_budget_words(checks=18, confidence_level=0.95)
    assert "5%" in words and "18 checks" in words and "Bonferroni" in words and "99.72%" in words


def at_limit_view(rng, k, n):
    """One feature with k groups of n rows whose every policy disparity sits exactly at its
    default limit: half the groups have TPR 0.5, the other half 0.7, FPR 0.3 for all, half the
    rows positive, so selection rates are 0.4 and 0.5 (DP difference 0.1, ratio 0.8) and the
    equalized odds difference is 0.2."""
    tpr = np.repeat(np.where(np.arange(k) % 2 == 0, 0.5, 0.7), n)
    y_true = rng.integers(0, 2, k * n)
    y_pred = (rng.random(k * n) < np.where(y_true == 1, tpr, 0.3)).astype(int)
    group = np.repeat([f"g{i}" for i in range(k)], n)
    return fairness_audit(y_true, y_pred, sensitive_features={"g": group})["features"]["g"]


def at_limit_audit(rng, sizes, n):
    """An audit of one view per entry of ``sizes`` (independent data), every check at its limit."""
    views = {f"feature_{i}": at_limit_view(rng, k, n) for i, k in enumerate(sizes)}
    params = fairness_audit([0, 1], [0, 1], sensitive_features={"g": ["a", "b"]})["params"]
    return {"features": views, "intersectional": None, "params": params}


def test_an_audit_at_its_limits_gets_a_wrong_verdict_on_any_check_at_most_five_percent_of_the_time():
    # 6 views x 3 thresholds = 18 checks, like the demo's audit; every true disparity at its limit,
    # so any pass or fail is wrong. Bonferroni bounds the chance of at least one by 5%.
    rng = np.random.default_rng(21)
    wrong = []
    for _ in range(150):
        checks = fairness_evaluate(at_limit_audit(rng, (2, 4, 7, 10, 2, 4), 100), thresholds=DEFAULT_THRESHOLDS)
        assert len(checks) == 18
        wrong.append(any(c["outcome"] != "inconclusive" for c in checks))
    assert np.mean(wrong) <= 0.05
