"""The security audits through the API and the DP retraining pages: every kind can be requested,
bad parameters are 4xx naming the field and write nothing, a drift recommendation starts DP
retraining only with an approver, and the privacy budget reads per training dataset."""

from __future__ import annotations

import pytest

from audits.runs.models import AuditRun, RunStatus
from audits.drift.models import RecommendationStatus, RetrainingRecommendation
from audits.runs.registry import KINDS
from governance.policies.defaults import default_params

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api, monkeypatch):
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)
    return api


@pytest.fixture
def recommendation(credit_system, personas):
    _, version = credit_system
    review = AuditRun.objects.create(system=version.system, version=version, kind="drift", queue="cpu",
                                     status=RunStatus.SUCCEEDED, outcome="fail", created_by=personas["alice"])
    return RetrainingRecommendation.objects.create(version=version, audit_run=review, reason="PSI 0.4 on age")


@pytest.mark.parametrize("kind, params", [
    ("robustness", {"epsilons": [0, 0.1], "attacks": ["pgd"], "max_samples": 50}),
    ("poisoning", {"rates": [0.05], "max_listed": 5}),
    ("privacy", {"attack_model_type": "lr"}),
    ("dp_retraining", {"target_epsilon": 1.0, "epochs": 2, "accountant": "rdp"}),
])
def test_each_security_kind_is_requested_through_the_audit_runs_api(credit_system, api, kind, params):
    _, version = credit_system
    response = api("sam").post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": kind, "params": params},
                               format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["queue"], body["status"]) == (kind, "gpu", "queued")
    # Defaults, then what the high tier's policy sets for the verdict, then the request.
    by_policy = default_params("high", kind)
    stored = dict(body["params"])
    said = stored.pop("set_by_policy", None)
    assert stored == {**KINDS[kind].defaults, **by_policy, **params}
    assert (said or {}).get("params", []) == sorted(set(by_policy) - set(params))


def test_an_unknown_security_parameter_is_a_400_naming_params(credit_system, api):
    _, version = credit_system
    response = api("sam").post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": "robustness",
                                                       "params": {"epsilon": 0.1}}, format="json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Unknown parameter(s) for robustness: epsilon. Accepted: epsilons")
    assert response.json()["extra"]["field"] == "params"
    assert not AuditRun.objects.exists()


def test_a_risk_officer_starts_dp_retraining_from_a_recommendation_through_the_api(recommendation, api):
    url = f"/api/v1/retraining-recommendations/{recommendation.pk}/dp-retrain/"
    denied = api("alice").post(url, {"params": {}}, format="json")
    assert denied.status_code == 403
    assert denied.json()["message"].startswith("Starting a retraining from a drift recommendation needs the approval")

    bad = api("bob").post(url, {"params": {"target_epsilon": -1}}, format="json")
    assert bad.status_code == 400
    assert bad.json() == {"message": "params.target_epsilon must be a number greater than 0, not -1.",
                          "extra": {"field": "params.target_epsilon"}}
    assert AuditRun.objects.filter(kind="dp_retraining").count() == 0

    created = api("bob").post(url, {"params": {"target_epsilon": 2, "epochs": 3}}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert (body["kind"], body["params"]["target_epsilon"], body["params"]["epochs"]) == ("dp_retraining", 2.0, 3)
    assert body["params"]["recommendation"] == str(recommendation.pk)
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.ACCEPTED

    again = api("bob").post(url, {"params": {}}, format="json")
    assert again.status_code == 409
    assert api("bob").post("/api/v1/retraining-recommendations/00000000-0000-0000-0000-000000000000/dp-retrain/",
                           {}, format="json").status_code == 404


def test_the_privacy_budget_api_sums_epsilon_per_training_dataset(credit_system, credit_model, personas, api,
                                                                   settings):
    from governance.registry import services

    system, version = credit_system
    settings.PRIVACY_BUDGET_EPSILON = 5.0
    artifact, spec = credit_model
    sha = version.train_dataset.sha256
    for label, eps in (("1.1.0-dp", 2.0), ("1.2.0-dp", 3.5)):
        services.model_version_register(actor=personas["alice"], system=system, version=label, artifact=artifact,
                                        spec=spec, parent=version, train_dataset=version.train_dataset,
                                        lineage={"dp": {"epsilon_spent": eps, "delta": 1e-5, "train_sha256": sha}})
    response = api("aude").get("/api/v1/systems/credit/privacy-budget/")
    assert response.status_code == 200
    [budget] = response.json()
    assert (budget["dataset_sha256"], budget["epsilon_spent"], budget["limit_epsilon"], budget["exceeded"]) == (
        sha, 5.5, 5.0, True)
    assert [v["version"] for v in budget["versions"]] == ["1.1.0-dp", "1.2.0-dp"]
    assert api("aude").get("/api/v1/systems/nope/privacy-budget/").status_code == 404


def test_the_dp_retraining_page_checks_its_form_and_queues_the_run(credit_system, personas, client, monkeypatch):
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)
    _, version = credit_system
    client.force_login(personas["alice"])
    url = f"/versions/{version.pk}/dp-retraining/"
    form = client.get(url)
    assert form.status_code == 200 and b'<label for="target_epsilon">' in form.content
    bad = client.post(url, {"target_epsilon": "three", "max_grad_norm": "1", "accountant": "prv"})
    assert bad.status_code == 400
    assert b"params.target_epsilon must be a number greater than 0, not &#x27;three&#x27;." in bad.content
    assert not AuditRun.objects.exists()
    good = client.post(url, {"target_epsilon": "4", "delta": "", "max_grad_norm": "1.5", "epochs": "2",
                             "batch_size": "", "accountant": "rdp", "new_version": "1.0.0-dp4"})
    run = AuditRun.objects.get()
    assert good.status_code == 302 and good["Location"] == f"/runs/{run.pk}/"
    assert (run.kind, run.created_by) == ("dp_retraining", personas["alice"])
    assert {k: run.params[k] for k in ("target_epsilon", "delta", "max_grad_norm", "epochs", "batch_size",
                                       "accountant", "new_version")} == {
        "target_epsilon": 4.0, "delta": None, "max_grad_norm": 1.5, "epochs": 2, "batch_size": None,
        "accountant": "rdp", "new_version": "1.0.0-dp4"}


def test_the_page_refuses_an_overlong_parameter_and_shows_what_was_typed(credit_system, personas, client):
    _, version = credit_system
    client.force_login(personas["alice"])
    r = client.post(f"/versions/{version.pk}/dp-retraining/", {"target_epsilon": "3" * 65, "accountant": "prv"})
    assert r.status_code == 400 and "target_epsilon: Ensure this value has at most 64 characters" in r.content.decode()
    assert 'value="' + "3" * 65 in r.content.decode()
    assert not AuditRun.objects.exists()
