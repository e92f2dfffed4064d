"""DP retraining's policy checks (audits/kinds/dp_retraining/runner.py): a retrained model whose
utility collapses fails a named check, and a run with a failed check is a fail."""

from __future__ import annotations

import pytest

from audits.kinds.dp_retraining.runner import dp_checks
from audits.kinds.dp_retraining.thresholds import THRESHOLDS
from audits.runs.runner import overall_outcome


def comparison(*, before=0.75, after=0.71, shares_after=None, selection_after=(1.0, 1.0), auc_after=0.52):
    """What dp_comparison returns, for a binary model and one sensitive column with two groups."""
    shares_after = {"0": 0.0, "1": 1.0} if shares_after is None else shares_after
    attacks = lambda auc: {"attacks": {"black_box": {"auc": auc}, "rule_based": {"auc": 0.5}}}  # noqa: E731
    return {
        "utility": {"test_accuracy": {"before": before, "after": after, "change": after - before},
                    "predicted_shares": {"before": {"0": 0.3, "1": 0.7}, "after": shares_after}},
        "membership_inference": {"before": attacks(0.55), "after": attacks(auc_after)},
        "groups": {"sex": {"accuracy_gap_before": 0.05, "accuracy_gap_after": 0.06, "groups": [
            {"group": "female", "n": 30, "selection_rate_after": selection_after[0]},
            {"group": "male", "n": 70, "selection_rate_after": selection_after[1]}]}},
    }


def by_metric(checks):
    return {c["metric"]: c for c in checks}


def test_a_model_that_gives_everyone_the_positive_class_fails_the_predicted_classes_check():
    # 70% of German credit is "good": the constant model loses only 0.04 accuracy, within the medium tier.
    checks = by_metric(dp_checks(comparison(), THRESHOLDS["medium"]))
    collapse = checks["predicted_classes"]
    assert (collapse["value"], collapse["threshold"], collapse["operator"]) == (1.0, 2.0, ">=")
    assert collapse["outcome"] == "fail"
    assert collapse["explanation"] == ("The retrained model gives 1 of the 2 classes on the evaluation data: "
                                       "class 1 for everyone (selection rate 1.000 to 1.000 across the groups).")
    assert checks["accuracy_drop"]["outcome"] == "pass"


def test_a_model_that_still_gives_both_classes_passes_it_and_says_how_often():
    checks = by_metric(dp_checks(comparison(shares_after={"0": 0.25, "1": 0.75}), THRESHOLDS["medium"]))
    assert checks["predicted_classes"]["outcome"] == "pass"
    assert checks["predicted_classes"]["explanation"] == (
        "The retrained model gives 2 of the 2 classes on the evaluation data (0: 25.0%, 1: 75.0% of the rows).")


@pytest.mark.parametrize("tier, after, outcome", [("medium", 0.69, "fail"), ("medium", 0.71, "pass"),
                                                   ("low", 0.66, "pass"), ("low", 0.64, "fail")])
def test_an_accuracy_drop_larger_than_the_policy_allows_fails(tier, after, outcome):
    # before 0.75: the medium tier allows 0.05, the low tier 0.10 (float rounding kept clear of the limit).
    checks = by_metric(dp_checks(comparison(after=after, shares_after={"0": 0.2, "1": 0.8}), THRESHOLDS[tier]))
    assert checks["accuracy_drop"]["outcome"] == outcome


def test_a_run_with_two_failed_checks_is_a_fail_not_inconclusive():
    checks = dp_checks(comparison(after=0.60, auc_after=0.58), THRESHOLDS["high"])
    assert [c["metric"] for c in checks if c["outcome"] == "fail"] == ["accuracy_drop", "predicted_classes"]
    assert overall_outcome(checks) == "fail"
