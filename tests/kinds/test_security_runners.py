"""Robustness, poisoning, privacy and DP retraining through the worker's task (CPU, tiny, seeded):
results stored, evidence on the mapped controls, device and seeds recorded; DP retraining
registers a child version with its privacy record and tracks the privacy budget."""

from __future__ import annotations

import pytest
import torch

from audits.runs.models import AuditRun, RunStatus
from audits.runs.registry import KINDS
from audits.runs.services import audit_run_create
from audits.runs.tasks import run_audit
from governance.core.exceptions import ApplicationError
from governance.registry import services
from governance.catalog.models import ControlAssessment, Evidence
from tests.conftest import csv_bytes

pytestmark = pytest.mark.django_db

CONTROLS = {
    "robustness": {"MEASURE 2.7", "MEASURE 2.6", "A.6.2.4"},
    "poisoning": {"MEASURE 2.7", "A.7.5", "A.7.4"},
    "privacy": {"MEASURE 2.10", "MANAGE 1.3", "A.5.4", "A.7.2"},
    "dp_retraining": {"MEASURE 2.10", "MANAGE 1.3", "A.5.4", "A.7.2"},
}
STATUS = {"pass": "satisfied", "fail": "failed", "inconclusive": "in_progress"}


@pytest.fixture(autouse=True)
def cpu_worker(settings, monkeypatch):
    """The demo worker's setting: no GPU. Runs are executed by calling the task directly."""
    settings.AUDIT_DEVICE = "cpu"
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)


@pytest.fixture(scope="session")
def digits_model():
    """A tiny seeded CNN on 600 digits (3 epochs): (safetensors bytes, spec, train, test)."""
    from training.artifacts import torch_artifact
    from training.recipes import digits_cnn_spec, digits_frame, train_from_spec

    frame = digits_frame().iloc[:600]
    train, test = frame.iloc[:450], frame.iloc[450:]
    spec = digits_cnn_spec(training={"epochs": 3})
    module = train_from_spec(spec, train, label_column="label", device=torch.device("cpu"))
    return torch_artifact(module), spec, train, test


@pytest.fixture
def digits_system(personas, digits_model):
    alice = personas["alice"]
    artifact, spec, train, test = digits_model
    schema = {"features": spec["input"]["columns"], "label": "label", "sensitive": [], "categorical": []}
    system = services.system_create(actor=alice, name="Digits", slug="digits", purpose="Reads digits")
    train_ds = services.dataset_register(actor=alice, system=system, name="train", role="train",
                                         upload=csv_bytes(train), schema=schema)
    test_ds = services.dataset_register(actor=alice, system=system, name="test", role="test",
                                        upload=csv_bytes(test), schema=schema)
    version = services.model_version_register(actor=alice, system=system, version="1.0.0", artifact=artifact,
                                              spec=spec, train_dataset=train_ds, eval_dataset=test_ds)
    return system, version


def run_through_worker(actor, version, kind, params):
    run = audit_run_create(actor=actor, version=version, kind=kind, params=params)
    assert run.queue == "gpu"
    assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED, run.__class__.objects.get(pk=run.pk).error
    run.refresh_from_db()
    return run


def page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def assert_evidence_moved(run, system):
    refs = set(Evidence.objects.filter(audit_run_id=run.pk).values_list("assessment__control__ref", flat=True))
    assert refs == CONTROLS[run.kind]
    statuses = set(ControlAssessment.objects.filter(system=system, control__ref__in=CONTROLS[run.kind])
                   .values_list("status", flat=True))
    assert statuses <= {STATUS[run.outcome], "failed"}  # another kind's failed evidence may share a control
    assert run.device == "cpu"


# --------------------------------------------------------------------------- robustness


def test_robustness_on_the_credit_mlp_stores_the_curve_groups_checks_and_evidence(credit_system, personas, client):
    system, version = credit_system
    run = run_through_worker(personas["sam"], version, "robustness",
                             {"epsilons": [0.0, 0.5, 2.0], "attacks": ["pgd"], "pgd_steps": 5, "max_samples": 120})
    r = run.results
    curve = [p["robust_accuracy"] for p in r["curves"]["pgd"]]
    assert [p["epsilon"] for p in r["curves"]["pgd"]] == [0.0, 0.1, 0.5, 2.0]  # the policy's 0.1 is added
    assert curve == sorted(curve, reverse=True)  # never rises (this 5-epoch MLP barely moves; digits fall)
    assert curve[0] == pytest.approx(r["clean_accuracy"])
    assert r["mode"] == "white-box" and r["n_samples"] == 120
    assert set(r["attackable_features"]) == {"credit_amount", "duration", "age"}
    assert "sex" in r["fixed_features"]
    assert set(r["group_robustness"]) == {"sex", "age"}
    drops = r["group_drops"]["0.1"]["sex"]
    female = drops["groups"]["female"]
    assert female["drop"] == pytest.approx(female["clean"] - female["robust"])
    assert {c["metric"] for c in run.checks} == {"robust_accuracy", "accuracy_drop_difference"}
    robust = next(c for c in run.checks if c["metric"] == "robust_accuracy")
    assert (robust["operator"], robust["threshold"]) == (">=", 0.6)  # the high-risk default
    assert robust["value"] == pytest.approx(r["curves"]["pgd"][1]["robust_accuracy"])
    assert run.seeds == {"sample": 0, "attack": 0}
    assert_evidence_moved(run, system)
    html = page(client, personas["aude"], f"/runs/{run.pk}/")
    assert "Robust accuracy as the attack budget grows" in html  # the curve
    assert "Robustness disparity by group" in html and "credit_amount, duration, age" in html
    assert "run by training.attacks.pgd_linf_rows" in html  # the page names the PGD that ran


def test_a_scikit_learn_model_gets_the_black_box_attack_on_its_encoded_features(credit_system, credit_pipeline,
                                                                                 personas):
    from audits.kinds.common import TORCH_ONLY
    from training.artifacts import skops_artifact

    system, version = credit_system
    sk = services.model_version_register(actor=personas["alice"], system=system, version="2.0.0-sk",
                                         artifact=skops_artifact(credit_pipeline), eval_dataset=version.eval_dataset)
    run = run_through_worker(personas["sam"], sk, "robustness", {"blackbox_max_samples": 4, "blackbox_max_iter": 2,
                                                                  "blackbox_max_eval": 50})
    r = run.results
    assert (r["mode"], r["n_samples"], list(r["curves"])) == ("black-box", 4, ["hopskipjump"])
    assert [p["epsilon"] for p in r["curves"]["hopskipjump"]] == [0.1, 0.25, 0.5, 1.0, 2.0]
    assert any(name.startswith("standardscaler__") for name in r["attackable_features"])
    assert all(name.startswith("onehotencoder__") for name in r["fixed_features"])  # categories stay valid
    assert [c["metric"] for c in run.checks] == ["robust_accuracy"]
    # 4 sampled rows: too few to decide, whatever the attack found.
    assert (run.checks[0]["outcome"], run.checks[0]["status"]) == ("inconclusive", "insufficient_data")
    assert run.device == "cpu"
    # The other security audits retrain or differentiate the model: refused when requested, not queued to crash.
    with pytest.raises(ApplicationError) as refused:
        audit_run_create(actor=personas["sam"], version=sk, kind="privacy")
    assert refused.value.message == (
        "The Privacy (membership inference, model inversion) audit needs a torch (safetensors + spec) model (ART "
        "wraps the torch module for its attacks, and model inversion needs its gradients); version 2.0.0-sk is a "
        "scikit-learn (skops) model. Audits that take it: Fairness slices, Data quality, Drift review, "
        "Adversarial robustness, Explainability, Efficiency and cost.")
    assert not AuditRun.objects.filter(version=sk, kind="privacy").exists()
    # The worker still refuses one that got past the request (a run row written by hand).
    run = AuditRun.objects.create(system=system, version=sk, kind="privacy", queue="gpu", params={},
                                  created_by=personas["sam"])
    assert run_audit(str(run.pk)) == RunStatus.FAILED
    run.refresh_from_db()
    assert run.error == TORCH_ONLY.format(kind="privacy", fmt="skops")


def test_robustness_on_the_digits_cnn_perturbs_pixels_within_the_image_range(digits_system, personas, client):
    system, version = digits_system
    run = run_through_worker(personas["alice"], version, "robustness",
                             {"epsilons": [0.0, 0.3], "attacks": ["fgsm", "pgd"], "pgd_steps": 3, "max_samples": 60})
    r = run.results
    assert r["attackable_features"] == ["pixels"] and r["group_robustness"] == {}
    for attack in ("fgsm", "pgd"):
        points = r["curves"][attack]
        assert points[-1]["robust_accuracy"] < points[0]["robust_accuracy"]
        # successful examples never leave the L-inf ball
        assert points[-1]["mean_linf"] <= 0.3 + 1e-6
    assert [c["metric"] for c in run.checks] == ["robust_accuracy"]  # no sensitive features, no group check
    assert_evidence_moved(run, system)
    # The pass or fail sits beside the epsilon it was judged at, not beside the grid's 0.3.
    check = run.checks[0]
    assert check["judged_at"]["epsilon"] == 0.1 and check["feature"] == "PGD, L-inf ε = 0.1 (policy)"
    assert "at ε=0.1 (policy, PGD)" in run.log and "largest budget (not judged)" in run.log
    html = page(client, personas["aude"], f"/runs/{run.pk}/")
    assert "At ε = 0.1 (policy; L-inf, PGD)." in html and '0.1 <span class="chip info">policy</span>' in html
    client.force_login(personas["aude"])
    answer = client.get(f"/api/v1/audit-runs/{run.pk}/").json()
    assert answer["checks"][0]["judged_at"] == {"epsilon": 0.1, "norm": "L-inf", "attack": "pgd"}


# --------------------------------------------------------------------------- poisoning


def test_poisoning_on_the_digits_cnn_reports_rates_suspicious_rows_and_the_detector_on_a_planted_case(
        digits_system, personas, client):
    system, version = digits_system
    run = run_through_worker(personas["sam"], version, "poisoning", {"rates": [0.1], "max_listed": 5})
    r = run.results
    s = r["susceptibility"]
    assert [b["rate"] for b in s["backdoor"]] == [0.1]  # medium risk: no rate from the policy
    assert s["backdoor"][0]["n_poisoned"] == 45 and s["label_flip"] is None
    assert s["trigger"]["kind"] == "pixel-pattern"
    d = r["detection"]
    assert d["method"] == "raw-strip" and d["n_rows"] == 450
    assert d["flagged_share"] == pytest.approx(d["n_flagged"] / 450)
    assert len(d["suspicious"]) == min(d["n_flagged"], 5)
    v = r["validation"]
    assert (v["rate"], v["n_poisoned"], v["target_class"]) == (0.1, 45, 9)
    assert v["recall"] is not None
    metrics = {c["metric"]: c for c in run.checks}
    assert set(metrics) == {"flagged_share", "detector_recall", "detector_precision"}
    # a detector below its bar cannot vouch for the data, but has found nothing wrong: inconclusive
    assert metrics["detector_recall"]["outcome"] == ("pass" if v["recall"] >= 0.9 else "inconclusive")
    assert run.seeds == {"poisoning": 0, "detector": 0, "retraining": 0}
    assert_evidence_moved(run, system)
    html = page(client, personas["aude"], f"/runs/{run.pk}/")
    assert "Backdoor: clean accuracy and attack success per rate" in html and "Is the detector any good here?" in html


def test_a_planted_backdoor_is_written_back_in_the_datas_own_units(credit_frames, credit_model):
    from audits.kinds.poisoning.runner import plant_backdoor

    train, _ = credit_frames
    _, spec = credit_model
    planted, rows = plant_backdoor(spec, train, "risk", rate=0.1, target_class=1, seed=0)
    assert len(rows) == 70 and (planted.loc[rows, "risk"] == 1).all()
    assert planted.loc[rows, "credit_amount"].to_numpy() == pytest.approx(train["credit_amount"].max(), rel=1e-5)
    assert planted.loc[rows, "duration"].to_numpy() == pytest.approx(train["duration"].max(), rel=1e-5)
    untouched = planted.index.difference(rows)
    assert (planted.loc[rows, "sex"] == train.loc[rows, "sex"]).all()  # categories are never touched
    assert (planted.loc[untouched, "credit_amount"] == train.loc[untouched, "credit_amount"]).all()


def test_bad_poisoning_params_are_refused_and_fail_a_run_stored_with_them(credit_system, personas):
    system, version = credit_system
    with pytest.raises(ApplicationError, match="^params.validation_rate must be a number above 0 and below 1"):
        audit_run_create(actor=personas["sam"], version=version, kind="poisoning", params={"validation_rate": 2})
    assert not AuditRun.objects.exists()
    # A row written another way (an older run, the admin) still fails before any work.
    run = AuditRun.objects.create(system=system, version=version, kind="poisoning", queue="gpu",
                                  params={"validation_rate": 2})
    assert run_audit(str(run.pk)) == RunStatus.FAILED
    run.refresh_from_db()
    assert run.error == "params.validation_rate must be a number strictly between 0 and 1, not 2."


# --------------------------------------------------------------------------- privacy


def test_privacy_on_the_credit_mlp_reports_auc_low_fpr_rates_and_the_roc(credit_system, personas, client):
    system, version = credit_system
    run = run_through_worker(personas["sam"], version, "privacy", {"attack_model_type": "lr"})
    mia = run.results["membership_inference"]
    assert (mia["members"], mia["non_members"]) == (700, 300)
    assert mia["attack_eval"] == {"members": 350, "non_members": 150}
    for attack in ("black_box", "rule_based"):
        a = mia["attacks"][attack]
        assert 0.0 <= a["auc"] <= 1.0
        assert [p["fpr"] for p in a["tpr_at_low_fpr"]] == [0.01, 0.001]
        assert a["tpr_at_low_fpr"][1]["status"] == "insufficient_data"  # 150 non-members cannot resolve 0.1%
        assert a["roc"]["fpr"][0] == 0.0 and a["roc"]["fpr"][-1] == 1.0
    assert run.results["inversion"] is None  # tabular
    checks = {c["metric"]: c for c in run.checks}
    assert set(checks) == {"membership_auc", "tpr_at_1pct_fpr"}
    assert checks["membership_auc"]["value"] == max(mia["attacks"][a]["auc"] for a in mia["attacks"])
    assert (checks["membership_auc"]["operator"], checks["membership_auc"]["threshold"]) == ("<=", 0.6)
    tpr = checks["tpr_at_1pct_fpr"]  # 150 evaluated non-members and 350 members: enough to decide
    assert tpr["status"] == "ok" and tpr["ci"][0] <= tpr["value"] <= tpr["ci"][1]
    assert tpr["judged_at"] == {"fpr": 0.01}
    assert_evidence_moved(run, system)
    html = page(client, personas["aude"], f"/runs/{run.pk}/")
    assert "Membership inference ROC" in html and "not measurable" in html


def test_privacy_on_the_digits_cnn_reconstructs_each_class_next_to_its_mean(digits_system, personas, client):
    system, version = digits_system
    run = run_through_worker(personas["sam"], version, "privacy", {"attack_model_type": "lr",
                                                                    "inversion_max_iter": 5})
    inversion = run.results["inversion"]
    assert [row["class"] for row in inversion["classes"]] == list(range(10))
    image = inversion["classes"][3]["image"]
    assert (len(image), len(image[0]), len(image[0][0])) == (1, 8, 8)
    assert all(0.0 <= v <= 1.0 for v in image[0][4])
    assert set(inversion["class_means"]) == {str(c) for c in range(10)}
    assert_evidence_moved(run, system)
    html = page(client, personas["aude"], f"/runs/{run.pk}/")
    assert html.count('aria-label="MIFace reconstruction of class') == 10
    assert html.count('aria-label="Mean training image of class') == 10


# --------------------------------------------------------------------------- DP retraining

DP_RECORD = {"epsilon_target", "epsilon_spent", "delta", "noise_multiplier", "sample_rate", "steps", "accountant",
             "max_grad_norm", "epochs", "batch_size", "train_sha256", "train_dataset"}


def test_dp_retraining_registers_a_child_version_with_its_privacy_record(credit_system, personas, client):
    from audits.runs.models import AuditRun
    from governance.registry.models import ModelVersion

    system, version = credit_system
    # A security reviewer may ask for it; the platform registers the version for the owner.
    run = run_through_worker(personas["sam"], version, "dp_retraining", {"target_epsilon": 2.0, "epochs": 2})
    child = ModelVersion.objects.get(pk=run.results["new_version"]["id"])
    assert child.parent == version and child.version == f"1.0.0+dp.{run.pk.hex[:8]}"
    assert child.created_by == personas["alice"] and child.requested_by == personas["sam"]  # sam never approves it
    assert (child.train_dataset, child.eval_dataset, child.spec) == (version.train_dataset, version.eval_dataset,
                                                                      version.spec)
    dp = child.lineage["dp"]
    assert set(dp) >= DP_RECORD
    assert dp["epsilon_spent"] <= 2.0 and dp["delta"] == pytest.approx(1 / 7000)  # 1/(10 N), below 1/N
    assert (dp["epochs"], dp["accountant"], dp["train_sha256"]) == (2, "prv", version.train_dataset.sha256)
    assert child.lineage["derived_by"] == {
        "kind": "dp_retraining", "audit_run": str(run.pk), "parent": str(version.pk), "parent_version": "1.0.0",
        "requested_by": "sam", "registered_by": "alice", "on_behalf_of_owner": True}
    assert child.lineage["privacy"].startswith("DP-SGD ε=")
    comparison = run.results["comparison"]
    assert set(comparison["utility"]["test_accuracy"]) == {"before", "after", "change"}
    assert set(comparison["membership_inference"]) == {"before", "after", "auc_change"}
    assert set(comparison["groups"]) == {"sex", "age"}
    assert run.results["budget"]["epsilon_spent"] == pytest.approx(dp["epsilon_spent"])
    assert run.results["budget"]["warning"] == ""
    assert {c["metric"] for c in run.checks} == {"accuracy_drop", "membership_auc", "accuracy_gap_increase",
                                                 "predicted_classes"}
    assert set(comparison["utility"]["predicted_shares"]["after"]) == {"0", "1"}
    assert run.seeds == {"dp_sgd": 0, "attack": 0}
    assert_evidence_moved(run, system)
    html = page(client, personas["aude"], f"/runs/{run.pk}/")
    assert "Differential-privacy record" in html and "Accuracy per group, before and after" in html
    html = page(client, personas["aude"], f"/versions/{child.pk}/privacy/")
    assert f"Privacy record of {child.version}" in html and "on behalf of the owner" in html
    client.force_login(personas["aude"])
    listed = client.get("/api/v1/versions/?system=credit").json()["results"]
    entry = next(v for v in listed if v["version"] == child.version)  # in the registry, with its lineage
    assert (entry["parent"], entry["lineage"]["dp"]["epsilon_spent"]) == (str(version.pk), dp["epsilon_spent"])
    # a redelivered run (the worker died after registering, before finishing) measures again but never
    # registers twice; a finished run is never reopened, so the runner is called again as a redelivery would
    again = KINDS["dp_retraining"].load_runner()(run=AuditRun.objects.get(pk=run.pk), progress=lambda *a, **k: None)
    assert again.results["new_version"]["id"] == run.results["new_version"]["id"]
    assert ModelVersion.objects.filter(parent=version).count() == 1


def test_the_privacy_budget_adds_up_per_training_dataset_and_warns_past_the_total(
        credit_system, personas, credit_model, settings, django_assert_num_queries):
    from audits.kinds.dp_retraining.services import privacy_budget
    from governance.policies.models import Policy

    system, version = credit_system
    settings.PRIVACY_BUDGET_EPSILON = 1.0
    artifact, spec = credit_model
    earlier = {"epsilon_spent": 0.9, "delta": 1e-4, "train_sha256": version.train_dataset.sha256}
    services.model_version_register(actor=personas["alice"], system=system, version="0.9.0-dp", artifact=artifact,
                                    spec=spec, parent=version, train_dataset=version.train_dataset,
                                    lineage={"dp": earlier})
    with django_assert_num_queries(1):
        budget = privacy_budget(system=system, dataset_sha256=version.train_dataset.sha256)
    assert (budget["epsilon_spent"], budget["exceeded"], len(budget["versions"])) == (0.9, False, 1)

    policy = Policy.objects.get(risk_tier="high", environment="production")
    policy.audit_requirements = {**policy.audit_requirements,
                                 "dp_retraining": {"thresholds": {"accuracy_drop": {"max": -1.0}}}}
    policy.save()
    run = run_through_worker(personas["alice"], version, "dp_retraining", {"target_epsilon": 0.5, "epochs": 1})
    # The policy's own thresholds win over the defaults; a failed check fails the run, as
    # evidence on the new version it judged, never on the audited parent.
    assert [(c["metric"], c["outcome"]) for c in run.checks] == [("accuracy_drop", "fail")]
    assert run.outcome == "fail"
    judged = set(Evidence.objects.filter(audit_run_id=run.pk).values_list("version__version", flat=True))
    assert judged == {run.results["new_version"]["version"]}
    spent = run.results["dp"]["epsilon_spent"]
    budget = run.results["budget"]
    assert budget["epsilon_before"] == 0.9
    assert budget["epsilon_spent"] == pytest.approx(0.9 + spent) and budget["exceeded"] is True
    assert budget["delta_spent"] == pytest.approx(1e-4 + run.results["dp"]["delta"])
    assert budget["warning"] == (f"Privacy budget exceeded: {0.9 + spent:.3g} of 1 epsilon spent on training data "
                                 f"{version.train_dataset.sha256[:12]} across 2 DP version(s), basic composition.")
    assert budget["warning"] in run.log
    child = version.children.get(version=run.results["new_version"]["version"])
    assert child.lineage["privacy_budget"]["exceeded"] is True
    assert child.created_by == personas["alice"] and child.lineage["derived_by"]["on_behalf_of_owner"] is False


@pytest.fixture
def recommendation(credit_system, personas):
    from audits.runs.models import AuditRun
    from audits.drift.models import RetrainingRecommendation

    _, version = credit_system
    review = AuditRun.objects.create(system=version.system, version=version, kind="drift", queue="cpu",
                                     status=RunStatus.SUCCEEDED, outcome="fail", created_by=personas["alice"])
    return RetrainingRecommendation.objects.create(version=version, audit_run=review, reason="PSI 0.4 on age",
                                                   breaches=["age drifted"])


@pytest.mark.parametrize("persona", ["alice", "sam", "carla", "erik", "aude"])
def test_only_the_policys_approver_starts_a_retraining_from_a_recommendation(recommendation, personas, persona):
    from audits.kinds.dp_retraining.services import retraining_from_recommendation
    from governance.core.exceptions import PermissionDeniedError

    with pytest.raises(PermissionDeniedError) as err:
        retraining_from_recommendation(actor=personas[persona], recommendation=recommendation)
    assert err.value.message == ("Starting a retraining from a drift recommendation needs the approval the policy "
                                 "asks for: a risk officer (independent validator) (or an admin), who is not the "
                                 "version's creator.")


def test_a_risk_officers_approval_starts_dp_retraining_and_the_new_version_closes_the_recommendation(
        recommendation, personas):
    from audits.runs.models import AuditRun
    from audits.drift.models import RecommendationStatus
    from audits.kinds.dp_retraining.services import retraining_from_recommendation
    from governance.core.exceptions import ConflictError
    from governance.trail.models import AuditLogEntry

    run = retraining_from_recommendation(actor=personas["bob"], recommendation=recommendation,
                                         params={"target_epsilon": 5.0, "epochs": 1})
    assert (run.kind, run.created_by, run.params["recommendation"]) == ("dp_retraining", personas["bob"],
                                                                        str(recommendation.pk))
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.ACCEPTED
    assert AuditLogEntry.objects.filter(action="retraining.approved", actor="user:bob").count() == 1
    with pytest.raises(ConflictError, match="already queued"):
        retraining_from_recommendation(actor=personas["bob"], recommendation=recommendation)

    assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.DONE
    assert str(recommendation.new_version_id) == run.results["new_version"]["id"]
    assert run.results["recommendation"] == str(recommendation.pk)
    assert recommendation.new_version.lineage["derived_by"]["requested_by"] == "bob"
    # the model bob's retraining produced is the owner's on paper, but bob never approves it
    from governance.core.exceptions import PermissionDeniedError
    from tests.approval_fixtures import decide, request_approval

    child = recommendation.new_version
    assert (child.created_by, child.requested_by) == (personas["alice"], personas["bob"])
    req = request_approval(actor=personas["alice"], version=child, environment="production")
    with pytest.raises(PermissionDeniedError, match="You requested the audit or retraining that produced version"):
        decide(actor=personas["bob"], request=req)
    # redelivered after it closed the recommendation (the runner called again, as a redelivery would)
    KINDS["dp_retraining"].load_runner()(run=AuditRun.objects.get(pk=run.pk), progress=lambda *a, **k: None)
    assert recommendation.version.children.count() == 1


def test_a_recommendation_nobody_approved_cannot_be_closed_by_a_dp_run(recommendation, personas):
    run = audit_run_create(actor=personas["alice"], version=recommendation.version, kind="dp_retraining",
                           params={"recommendation": str(recommendation.pk)})
    assert run_audit(str(run.pk)) == RunStatus.FAILED
    run.refresh_from_db()
    assert run.error.startswith(f"params.recommendation: {recommendation.pk} was not accepted for DP retraining")
    assert not recommendation.version.children.exists()


# --------------------------------------------------------------------------- on a GPU worker


@pytest.mark.gpu
@pytest.mark.parametrize("kind, params", [
    ("robustness", {"epsilons": [0.0, 0.2], "pgd_steps": 5, "max_samples": 100}),
    ("poisoning", {"rates": [0.1]}),
    ("privacy", {"attack_model_type": "lr", "inversion_max_iter": 5}),
    ("dp_retraining", {"target_epsilon": 4.0, "epochs": 1}),
])
def test_on_a_gpu_worker_each_security_audit_runs_on_cuda_and_records_the_card(digits_system, personas, settings,
                                                                                kind, params):
    settings.AUDIT_DEVICE = "cuda"
    system, version = digits_system
    run = run_through_worker(personas["sam"], version, kind, params)
    assert run.device.startswith("cuda (") and torch.cuda.get_device_name(0)[:20] in run.device
    assert run.results["device"].startswith("cuda")
    assert set(Evidence.objects.filter(audit_run_id=run.pk).values_list("assessment__control__ref", flat=True)) == \
        CONTROLS[kind]


def test_asking_for_cuda_on_a_worker_without_one_fails_the_run_with_the_setting_named(
        digits_system, personas, settings, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    settings.AUDIT_DEVICE = "cuda"
    _, version = digits_system
    run = audit_run_create(actor=personas["sam"], version=version, kind="privacy")
    assert run_audit(str(run.pk)) == RunStatus.FAILED
    run.refresh_from_db()
    assert run.error == ("The worker's AUDIT_DEVICE setting cannot be used: "
                         "AUDIT_DEVICE=cuda but no CUDA device is available.")
