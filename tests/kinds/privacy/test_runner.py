"""The privacy audit's policy checks (audits/kinds/privacy/runner.py): TPR at 1% FPR is decided
on its 95% interval, and neither check passes or fails below the policy's minimum sample."""

from __future__ import annotations

import pytest

from audits.kinds.intervals import clopper_pearson
from audits.kinds.privacy.runner import membership_checks
from audits.kinds.privacy.thresholds import MIN_ROWS, THRESHOLDS


def mia(*, members, non_members, found, auc=0.55):
    """Two attacks as membership_inference reports them; the black box finds `found` members at 1% FPR."""
    def attack(auc, found):
        point = {"fpr": 0.01, "tpr": found / members, "status": "ok", "min_resolvable_fpr": 1 / non_members,
                 "found": found, "n_positives": members, "tpr_ci": clopper_pearson(found, members)}
        return {"auc": auc, "tpr_at_low_fpr": [point]}

    return {"attack_eval": {"members": members, "non_members": non_members},
            "attacks": {"black_box": attack(auc, found), "rule_based": attack(0.5, 0)}}


def by_metric(checks):
    return {c["metric"]: c for c in checks}


@pytest.mark.parametrize("found, outcome", [(1, "pass"), (10, "pass"), (40, "fail")])
def test_tpr_at_1pct_fpr_is_decided_on_its_interval_over_400_members(found, outcome):
    # Clopper-Pearson: 1/400 -> 0.0001-0.0138 and 10/400 -> 0.0121-0.0455, both within 0.05;
    # 40/400 -> 0.0724-0.1335, wholly above it.
    checks = by_metric(membership_checks(mia(members=400, non_members=400, found=found), THRESHOLDS["high"]))
    tpr = checks["tpr_at_1pct_fpr"]
    assert tpr["ci"] == pytest.approx(clopper_pearson(found, 400))
    assert (tpr["outcome"], tpr["status"]) == (outcome, "ok")
    assert tpr["judged_at"] == {"fpr": 0.01}
    assert tpr["explanation"].startswith(f"The stronger attack's share of members found at 1% false positives "
                                         f"({found} of 400)")


def test_a_tpr_interval_that_straddles_the_limit_is_inconclusive():
    # 20 of 400 = 0.05 exactly: 0.031-0.076 lies on both sides of 0.05.
    tpr = by_metric(membership_checks(mia(members=400, non_members=400, found=20), THRESHOLDS["high"]))
    assert tpr["tpr_at_1pct_fpr"]["outcome"] == "inconclusive"


def test_below_the_minimum_sample_both_checks_are_insufficient_data_even_with_a_perfect_score():
    checks = by_metric(membership_checks(mia(members=300, non_members=60, found=0, auc=0.5), THRESHOLDS["high"]))
    for metric in ("membership_auc", "tpr_at_1pct_fpr"):
        assert (checks[metric]["outcome"], checks[metric]["status"]) == ("inconclusive", "insufficient_data")
        assert checks[metric]["explanation"].startswith(
            f"Insufficient data: 60 evaluated members or non-members, fewer than the {MIN_ROWS} the policy needs")


def test_with_enough_rows_auc_is_decided_on_its_point_estimate():
    checks = by_metric(membership_checks(mia(members=200, non_members=200, found=0, auc=0.65), THRESHOLDS["high"]))
    assert checks["membership_auc"]["outcome"] == "fail"
