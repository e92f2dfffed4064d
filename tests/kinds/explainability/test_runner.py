"""The explainability audit through the worker's task: results, checks, evidence on its controls,
the run page and the signed report's section."""

import pytest

from audits.runs.models import AuditRun, RunStatus
from audits.runs.registry import KINDS
from audits.runs.runner import overall_outcome
from audits.runs.services import audit_run_create
from audits.runs.tasks import run_audit
from governance.catalog.models import Evidence

pytestmark = pytest.mark.django_db

CONTROLS = {"MEASURE 2.9", "MEASURE 2.8", "A.6.2.7", "A.8.2"}
FAST = {"n_repeats": 5, "n_random": 19, "n_randomized_models": 2, "n_bootstrap": 50, "ig_steps": 16}


@pytest.fixture(autouse=True)
def cpu_policy(catalog):
    """The tests' policies ask for 50 bootstrap resamples (the default policies' 200 is the floor a
    request may not go below; tests/runs/test_params.py), so FAST may ask for 50 on CPU."""
    from governance.policies.models import Policy

    for policy in Policy.objects.filter(environment="production"):
        policy.audit_requirements = {**policy.audit_requirements, "explainability": {"params": {"n_bootstrap": 50}}}
        policy.save()


@pytest.fixture
def no_enqueue(monkeypatch):
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)


@pytest.fixture
def finished_run(credit_system, personas, no_enqueue):
    system, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="explainability", params=FAST)
    assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    return run


def test_the_audit_explains_the_credit_model_with_both_methods_tested(finished_run):
    results = finished_run.results
    assert set(results["methods"]) == {"permutation", "integrated_gradients"}
    assert results["primary_method"] == "integrated_gradients"
    assert results["features"] == ["credit_amount", "duration", "age", "sex", "job", "housing", "saving_accounts",
                                   "checking_account", "purpose"]
    metrics = [(c["metric"], c["feature"]) for c in finished_run.checks]
    for label in ("Permutation importance", "Integrated Gradients (Captum)"):
        assert ("deletion_gap", label) in metrics and ("randomization_similarity", label) in metrics
    for method in results["methods"].values():
        assert method["verdict"] in ("trustworthy", "not trustworthy", "untested")
    assert len(results["local"]) == 5 and all("score for risk = 1" in row["sentence"] for row in results["local"])
    assert set(results["groups"]) == {"sex", "age"}
    assert "captum" in finished_run.package_versions


def test_the_evidence_lands_on_the_explainability_controls(finished_run):
    evidence = Evidence.objects.filter(audit_run_id=finished_run.pk, kind="explainability").select_related(
        "assessment__control")
    assert {e.assessment.control.ref for e in evidence} == CONTROLS


def test_the_run_page_and_the_report_section_render_the_results(finished_run, client, personas):
    client.force_login(personas["alice"])
    page = client.get(f"/runs/{finished_run.pk}/").content.decode()
    assert "Explanations and their tests" in page and "Proxies for sensitive attributes" in page
    assert "Sample decisions explained" in page
    assert KINDS["explainability"].figures_for(finished_run.results)
    from django.template.loader import render_to_string

    section = {"results": finished_run.results, "checks": [], "figures": KINDS["explainability"].figures_for(
        finished_run.results)}
    html = render_to_string(KINDS["explainability"].report_template, {"section": section})
    assert "Explanation methods" in html and "Proxy findings" in html


def test_a_multiclass_model_is_refused_with_the_reason(personas, no_enqueue):
    from audits.kinds.explainability.runner import NOT_BINARY
    from governance.registry import services
    from tests.conftest import csv_bytes
    from training.artifacts import torch_artifact
    from training.recipes import digits_cnn_spec, digits_frame, train_from_spec

    import torch

    alice = personas["alice"]
    frame = digits_frame().iloc[:200]
    schema = {"features": [c for c in frame.columns if c != "label"], "label": "label", "sensitive": []}
    system = services.system_create(actor=alice, name="Digits", slug="digits", purpose="Reads digits")
    ds = services.dataset_register(actor=alice, system=system, name="d", role="test", upload=csv_bytes(frame),
                                   schema=schema)
    spec = {**digits_cnn_spec(), "training": {"epochs": 1, "batch_size": 64, "lr": 1e-3, "seed": 0}}
    model = train_from_spec(spec, frame, label_column="label", device=torch.device("cpu"))
    version = services.model_version_register(actor=alice, system=system, version="1.0.0",
                                              artifact=torch_artifact(model), spec=spec, train_dataset=ds,
                                              eval_dataset=ds)
    run = audit_run_create(actor=alice, version=version, kind="explainability", params=FAST)
    assert run_audit(str(run.pk)) == RunStatus.FAILED
    run.refresh_from_db()
    assert run.error == NOT_BINARY.format(n=10)


def test_a_scikit_learn_pipeline_is_explained_by_permutation_and_tested_on_shuffled_labels(
        credit_system, credit_frames, credit_pipeline, personas, no_enqueue):
    from governance.registry import services
    from tests.conftest import CREDIT_SCHEMA
    from training.artifacts import skops_artifact

    system, version = credit_system
    sk = services.model_version_register(actor=personas["alice"], system=system, version="2.0.0-sk",
                                         artifact=skops_artifact(credit_pipeline), train_dataset=version.train_dataset,
                                         eval_dataset=version.eval_dataset)
    run = audit_run_create(actor=personas["alice"], version=sk, kind="explainability", params=FAST)
    assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    results = run.results
    assert list(results["methods"]) == ["permutation"] and results["local_method"] == "occlusion"
    assert len(results["local"]) == 5 and all("score for risk = 1" in row["sentence"] for row in results["local"])
    assert results["randomization_kind"] == "refitted on shuffled training labels"
    assert len(results["methods"]["permutation"]["randomization"]["per_model"]) == 2
    assert results["features"] == CREDIT_SCHEMA["features"]
    assert results["proxies"]["n_fitted"] == len(credit_frames[0])
    # Per group, permutation importance within the group stands in for attributions.
    assert results["groups_method"] == "permutation"
    female = results["groups"]["sex"]["female"]
    assert female["counted"] and set(female["importance"]) == set(CREDIT_SCHEMA["features"])


@pytest.mark.parametrize(("params", "message"), [
    ({"n_random": 5}, "params.n_random must be an integer between 19 and 999, not 5."),
    ({"max_rows": 10**9}, "params.max_rows must be an integer between 50 and 200000, not 1000000000."),
])
def test_settings_out_of_bounds_are_refused_and_fail_a_run_stored_with_them(credit_system, personas, no_enqueue,
                                                                            params, message):
    from governance.core.exceptions import ApplicationError

    system, version = credit_system
    with pytest.raises(ApplicationError) as caught:
        audit_run_create(actor=personas["alice"], version=version, kind="explainability", params=params)
    assert caught.value.extra["field"] == f"params.{next(iter(params))}"
    assert not AuditRun.objects.exists()
    # A row written another way (an older run, the admin) still fails before any work.
    run = AuditRun.objects.create(system=system, version=version, kind="explainability", queue="cpu", params=params)
    assert run_audit(str(run.pk)) == RunStatus.FAILED
    run.refresh_from_db()
    assert run.error == message


def test_model_cards_and_oscal_get_each_methods_tests_as_headline_numbers(finished_run):
    from audits.exports.model_card import headline_metrics

    names = {m["name"]: m for m in headline_metrics(KINDS["explainability"].headline(finished_run.results))}
    gap = names["integrated_gradients.deletion_gap"]
    assert gap["value"] == finished_run.results["methods"]["integrated_gradients"]["deletion"]["gap"]
    assert gap["ci"][0] <= gap["value"] <= gap["ci"][1]
    assert "permutation.randomization_similarity" in names


def test_the_proxy_checks_are_their_own_evidence_on_the_fairness_controls(finished_run):
    proxy_checks = [c for c in finished_run.checks if c["metric"] == "proxy_auc"]
    method_checks = [c for c in finished_run.checks if c["metric"] != "proxy_auc"]
    assert proxy_checks and method_checks
    evidence = Evidence.objects.filter(audit_run_id=finished_run.pk).select_related("assessment__control")
    by_kind = {}
    for row in evidence:
        by_kind.setdefault(row.kind, set()).add((row.assessment.control.ref, row.outcome))
    assert by_kind["proxy_scan"] == {(ref, overall_outcome(proxy_checks)) for ref in ("MEASURE 2.11", "A.5.4")}
    assert by_kind["explainability"] == {(ref, overall_outcome(method_checks)) for ref in CONTROLS}
    assert "proxy" in evidence.filter(kind="proxy_scan").first().summary.lower()


def test_a_case_someone_asked_about_is_explained_in_words_beside_the_sampled_rows(
        credit_system, credit_frames, personas, no_enqueue):
    _, version = credit_system
    _, test = credit_frames
    row = test.iloc[0]
    case = {f: (row[f].item() if hasattr(row[f], "item") else row[f]) for f in test.columns if f != "risk"}
    run = audit_run_create(actor=personas["alice"], version=version, kind="explainability",
                           params={**FAST, "cases": [{**case, "case": "Appeal A-17"}]})
    assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    (explained,) = run.results["cases"]
    assert explained["row"] == "Appeal A-17" and explained["sentence"].startswith("Score ")
    assert len(explained["contributions"]) == 3


def test_the_run_page_offers_to_explain_a_case_and_a_posted_one_queues_an_audit_of_it(
        finished_run, client, personas):
    client.force_login(personas["alice"])
    page = client.get(f"/runs/{finished_run.pk}/").content.decode()
    assert "Explain a case" in page and 'name="f_duration"' in page
    fields = {f["name"]: f for f in finished_run.results["case_fields"]}
    post = {f"f_{name}": spec["typical"] for name, spec in fields.items()}
    response = client.post(f"/runs/{finished_run.pk}/explain-case/", {**post, "case": "Appeal A-17"})
    assert response.status_code == 302 and response["Location"].endswith("#cases")
    new = AuditRun.objects.exclude(pk=finished_run.pk).get()
    (case,) = new.params["cases"]
    assert case["case"] == "Appeal A-17" and case["duration"] == fields["duration"]["typical"]
    assert new.params["n_repeats"] == FAST["n_repeats"]


def test_a_case_with_a_bad_input_is_a_400_naming_it_and_queues_nothing(finished_run, client, personas):
    client.force_login(personas["alice"])
    fields = {f["name"]: f for f in finished_run.results["case_fields"]}
    post = {f"f_{name}": spec["typical"] for name, spec in fields.items()}
    response = client.post(f"/runs/{finished_run.pk}/explain-case/", {**post, "f_housing": "castle"})
    assert response.status_code == 400
    assert "housing: Select a valid choice" in response.content.decode()
    assert AuditRun.objects.count() == 1
