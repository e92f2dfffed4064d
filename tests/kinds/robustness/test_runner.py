"""The robustness audit's policy checks (audits/kinds/robustness/runner.py): robust accuracy is
decided on its 95% interval, says "insufficient data" below the policy's minimum sample, and
names the epsilon the policy judged it at."""

from __future__ import annotations

import pytest

from audits.kinds.intervals import clopper_pearson
from audits.kinds.robustness.runner import _checks, _summary
from audits.kinds.robustness.thresholds import MIN_ROWS, THRESHOLDS


def result(robust: int, n: int, *, mode="white-box", last=0.0):
    """A probe result whose PGD curve holds `robust` of `n` rows at the policy's eps = 0.1."""
    attack = "hopskipjump" if mode == "black-box" else "pgd"

    def point(eps, k):
        return {"epsilon": eps, "robust_accuracy": k / n, "robust_accuracy_ci": clopper_pearson(k, n), "count": n,
                "robust_count": k}

    return {"mode": mode, "n_samples": n, "clean_accuracy": 1.0, "device": "cpu",
            "params": {"epsilon_units": "standard deviations"}, "group_robustness": {},
            "curves": {attack: [point(0.0, n), point(0.1, robust), point(0.3, round(last * n))]}}


def robust_check(res, tier="high"):
    return next(c for c in _checks(res, {"robust_accuracy": THRESHOLDS[tier]["robust_accuracy"]}, min_count=20)
                if c["metric"] == "robust_accuracy")


def test_twenty_of_twenty_robust_rows_are_insufficient_data_not_a_pass():
    # The case: a scikit-learn model sampled on 20 rows (HopSkipJump's CPU default).
    c = robust_check(result(20, 20, mode="black-box"))
    assert (c["outcome"], c["status"], c["n"], c["min_rows"]) == ("inconclusive", "insufficient_data", 20, MIN_ROWS)
    assert c["explanation"].startswith(
        "Insufficient data: 20 attacked rows, fewer than the 100 the policy needs to decide this check, so it "
        "neither passes nor fails. ")


@pytest.mark.parametrize("robust, outcome", [(150, "pass"), (120, "inconclusive"), (100, "fail")])
def test_at_200_rows_the_interval_decides_against_the_high_tiers_0_6(robust, outcome):
    # 150/200: 0.680-0.810 (pass); 120/200: 0.529-0.668 (straddles 0.6); 100/200: 0.429-0.571 (fail).
    c = robust_check(result(robust, 200))
    assert c["ci"] == pytest.approx(clopper_pearson(robust, 200))
    assert (c["outcome"], c["status"]) == (outcome, "ok")


def test_the_check_names_the_policys_epsilon_and_the_summary_leads_with_it():
    res = result(150, 200, last=0.0)
    c = robust_check(res)
    assert c["judged_at"] == {"epsilon": 0.1, "norm": "L-inf", "attack": "pgd"}
    assert c["feature"] == "PGD, L-inf ε = 0.1 (policy)"
    assert c["explanation"].startswith("Robust accuracy at ε = 0.1 (the policy's budget)")
    summary = _summary(res, [c], "High")
    assert "robust accuracy 0.75 (95% CI 0.68-0.81) at ε=0.1 (policy, PGD): pass" in summary
    assert "at the grid's largest budget (not judged): PGD 0.00 at ε=0.3" in summary


@pytest.mark.django_db
def test_a_version_whose_weights_make_nan_fails_its_robustness_run_with_the_reason(credit_system, personas,
                                                                                monkeypatch):
    """The issue's case: robustness passed a model that outputs NaN. Same architecture and spec as
    the credit MLP, every weight NaN: the run cannot succeed, and its error says why."""
    import torch

    from audits.runs.models import AuditRun, RunStatus
    from audits.runs.services import audit_run_create
    from audits.runs.tasks import run_audit
    from governance.registry import services
    from training.architectures import build_model
    from training.artifacts import torch_artifact

    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)
    system, version = credit_system
    module = build_model(version.spec)
    with torch.no_grad():
        for weight in module.parameters():
            weight.fill_(float("nan"))
    broken = services.model_version_register(actor=personas["alice"], system=system, version="1.0.1-nan",
                                             artifact=torch_artifact(module), spec=version.spec,
                                             train_dataset=version.train_dataset, eval_dataset=version.eval_dataset)
    run = audit_run_create(actor=personas["sam"], version=broken, kind="robustness",
                           params={"epsilons": [0.0, 0.1], "max_samples": 50})
    assert run_audit(str(run.pk)) == RunStatus.FAILED
    run = AuditRun.objects.get(pk=run.pk)
    assert run.outcome == "" and "the model's outputs are not finite (NaN or infinite)" in run.error
