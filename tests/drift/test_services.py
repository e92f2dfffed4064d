"""Drift reviews end to end in the services: a shifted batch breaches and sets everything off;
an unshifted one does not; schedules live in django-celery-beat; recommendations are resolved
by the right people."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
from django.core import mail
from django_celery_beat.models import PeriodicTask

from audits.runs.registry import KINDS
from audits.drift.services import (
    drift_breach_handle,
    drift_review_request,
    drift_schedule_set,
    production_batch_register,
    retraining_recommendation_open,
    retraining_recommendation_resolve,
)
from governance.demo.drift import shift_credit_batch
from audits.runs.models import AuditRun, RunStatus
from audits.drift.models import RecommendationStatus, RetrainingRecommendation
from audits.runs.tasks import run_audit
from audits.drift.tasks import scheduled_drift_review
from django.utils import timezone

from governance.core import glossary
from governance.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from governance.catalog.models import ControlAssessment, Evidence
from tests.conftest import csv_bytes

pytestmark = pytest.mark.django_db

DRIFT_CONTROLS = {"MEASURE 2.4", "MANAGE 2.2", "MANAGE 4.1", "A.6.2.6"}
SECRET = "drift-test-secret"


@pytest.fixture
def no_enqueue(monkeypatch):
    sent = []
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: sent.append(run_id))
    return sent


@pytest.fixture
def receiver():
    """A local webhook receiver that keeps each request's headers and raw body."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"headers": dict(self.headers), "body": body})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhooks(settings, monkeypatch, receiver):
    """Drift webhooks go to the local receiver; the delivery task runs in-process."""
    from governance.notifications.tasks import deliver_webhook

    url, received = receiver
    settings.DRIFT_WEBHOOK_URLS = [url]
    settings.APPROVAL_WEBHOOK_SECRET = SECRET
    monkeypatch.setattr(deliver_webhook, "apply_async", lambda args: deliver_webhook.apply(args=args).get())
    return received


def _review(system, version, actor, frame, **kwargs):
    batch = production_batch_register(actor_or_token=actor, system=system, version=version,
                                      upload=csv_bytes(frame), **kwargs).batch
    run = drift_review_request(actor=actor, version=version, batch=batch)
    return batch, run


def test_a_shifted_batch_breaches_fails_the_evidence_alerts_and_recommends_retraining(
        credit_system, credit_frames, personas, no_enqueue, webhooks, monkeypatch,
        django_capture_on_commit_callbacks):
    system, version = credit_system
    alice, bob = personas["alice"], personas["bob"]
    alice.email, bob.email = "alice@example.org", "bob@example.org"
    alice.save(), bob.save()
    revoked = []
    monkeypatch.setattr("governance.approvals.services.approvals_revoke_for_version",
                        lambda *, version, reason, actor: revoked.append((version, actor)) or [])
    _, test = credit_frames
    batch, run = _review(system, version, alice, shift_credit_batch(test))

    with django_capture_on_commit_callbacks(execute=True):
        assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED

    run.refresh_from_db()
    assert run.outcome == "fail"
    assert run.results["breach"] is True
    drifted = {f["name"] for f in run.results["features"] if f["drifted"]}
    assert {"credit_amount", "duration", "age"} <= drifted
    assert run.results["batch"]["id"] == str(batch.pk)
    # Stored as numbers; the overlays are drawn from them when a page or report renders.
    assert "figures" not in run.results
    assert KINDS["drift"].figures_for(run.results)[0]["svg"].startswith("<svg")
    # The drift evidence fails on every mapped control, and the controls fail with it.
    evidence = Evidence.objects.filter(audit_run_id=run.pk).select_related("assessment__control")
    assert {e.assessment.control.ref for e in evidence} == DRIFT_CONTROLS
    assert {e.outcome for e in evidence} == {"fail"}
    assert set(ControlAssessment.objects.filter(system=system, control__ref__in=DRIFT_CONTROLS)
               .values_list("status", flat=True)) == {"failed"}
    # A retraining recommendation is recorded against the version.
    rec = retraining_recommendation_open(version=version)
    assert rec.audit_run_id == run.pk and rec.batch_id == batch.pk and rec.status == "open"
    assert rec.breaches == run.results["breaches"]
    assert revoked and set(revoked) == {(version, "audit:drift")}  # the breach, and the failed audit, revoke
    # One email to the owner and the risk officer, naming what breached.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Drift breach: credit@1.0.0 - retraining recommended"
    assert sorted(message.to) == ["alice@example.org", "bob@example.org"]
    assert "Feature 'credit_amount' drifted" in message.body
    # One webhook, whose HMAC-SHA256 signature verifies over "<timestamp>.<body>".
    assert len(webhooks) == 1
    headers, body = webhooks[0]["headers"], webhooks[0]["body"]
    expected = hmac.new(SECRET.encode(), headers["X-Governance-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Governance-Signature"] == f"sha256={expected}"
    assert headers["X-Governance-Event"] == "drift.breach"
    payload = json.loads(body)
    assert payload["recommendation"]["id"] == str(rec.pk) and payload["version"] == "1.0.0"


def test_an_unshifted_batch_does_not_breach(credit_system, credit_frames, personas, no_enqueue,
                                           django_capture_on_commit_callbacks):
    system, version = credit_system
    _, test = credit_frames
    _, run = _review(system, version, personas["alice"], test)  # the evaluation split itself, labels included

    with django_capture_on_commit_callbacks(execute=True):
        run_audit(str(run.pk))

    run.refresh_from_db()
    assert run.outcome == "pass" and run.results["breach"] is False and run.results["breaches"] == []
    assert run.results["performance"]["drop"] == pytest.approx(0.0)  # same rows as the audited accuracy
    # With labels the estimate is recorded beside the realized accuracy, and is no check of its own.
    estimate = run.results["performance_estimate"]
    assert estimate["realized"] == run.results["performance"]["current"] and estimate["check"] is None
    assert estimate["low"] <= estimate["estimate"] <= estimate["high"]
    assert not RetrainingRecommendation.objects.exists()
    assert mail.outbox == []
    assert {e.outcome for e in Evidence.objects.filter(audit_run_id=run.pk)} == {"pass"}


def test_an_unlabelled_batch_is_judged_on_its_estimated_accuracy_under_the_reviews_budget(
        credit_system, credit_frames, personas, no_enqueue, django_capture_on_commit_callbacks):
    system, version = credit_system
    _, test = credit_frames
    # The evaluation split itself without its labels: the estimate has nothing to have dropped from.
    _, run = _review(system, version, personas["alice"], test.drop(columns=["risk"]))

    with django_capture_on_commit_callbacks(execute=True):
        run_audit(str(run.pk))

    run.refresh_from_db()
    results = run.results
    assert results["performance"] is None and run.outcome == "pass"
    estimate = results["performance_estimate"]
    check = estimate["check"]
    assert estimate["realized"] is None and check["status"] == "tested" and check["breach"] is False
    assert check["reference_n"] == len(test) == estimate["calibration"]["n_reference"]
    # The estimate joins the features and the output in one Bonferroni family.
    assert results["checks"] == len(results["features"]) + 1 + 1
    assert check["level"] == pytest.approx(results["params"]["alpha"] / results["checks"])
    assert estimate["low"] <= estimate["estimate"] <= estimate["high"]
    # Per sensitive group, binned as every audit bins them, each with enough rows.
    assert sorted(g["group"] for g in estimate["groups"]["sex"]["groups"]) == ["female", "male"]
    assert all(g["n"] >= results["params"]["min_group_count"] for g in estimate["groups"]["age"]["groups"])
    calibration = estimate["calibration"]
    assert calibration["used"] == ("raw scores" if calibration["calibrated"] else "platt")
    assert any("estimated from the model's scores" in note for note in results["notes"])


def test_the_estimate_travels_with_the_review_into_its_evidence_exports_and_report_section(
        credit_system, credit_frames, personas, no_enqueue, django_capture_on_commit_callbacks):
    from django.template.loader import render_to_string

    from audits.exports.model_card import headline_metrics
    from audits.runs.registry import KINDS

    system, version = credit_system
    _, test = credit_frames
    _, run = _review(system, version, personas["alice"], test.drop(columns=["risk"]))
    with django_capture_on_commit_callbacks(execute=True):
        run_audit(str(run.pk))
    run.refresh_from_db()
    estimate = run.results["performance_estimate"]
    said = f"accuracy estimated without labels {estimate['estimate']:.3f}"
    assert said in run.log
    assert all(said in e.summary for e in Evidence.objects.filter(audit_run_id=run.pk))
    names = {m["name"]: m for m in headline_metrics(KINDS["drift"].headline(run.results))}
    assert names["estimated_accuracy"]["value"] == estimate["estimate"]
    assert names["estimated_accuracy"]["ci"] == [estimate["low"], estimate["high"]]
    assert "estimated_accuracy_by_group.sex = female" in names
    assert names["features_reviewed"]["value"] == len(run.results["features"])
    section = {"results": run.results, "page": KINDS["drift"].page_context(run.results)}
    html = render_to_string(KINDS["drift"].report_template, {"section": section})
    assert "Accuracy estimated without labels" in html and "Kivimäki" in html
    assert "sex = female" in html and "confidence-based performance estimation" in html


def test_an_unlabelled_batch_of_cases_the_model_is_unsure_of_breaches_on_its_estimated_accuracy(
        credit_system, credit_frames, personas, no_enqueue, django_capture_on_commit_callbacks):
    from governance.registry.selectors import version_model

    system, version = credit_system
    _, test = credit_frames
    # The 60 applicants whose score is nearest 0.5, drawn 600 times, without labels: a model that
    # is right about as often as a coin on them, which the estimate must see without a label.
    scores = version_model(version).predict_proba(test)[:, 1]
    unsure = test.iloc[np.argsort(np.abs(scores - 0.5))[:60]]
    batch = unsure.sample(600, replace=True, random_state=0).drop(columns=["risk"])
    _, run = _review(system, version, personas["alice"], batch)

    with django_capture_on_commit_callbacks(execute=True):
        run_audit(str(run.pk))

    run.refresh_from_db()
    check = run.results["performance_estimate"]["check"]
    assert run.outcome == "fail" and check["breach"] is True and check["drop_lower_bound"] > check["drop_max"]
    assert check["estimate"] < 0.6 < check["reference"]
    assert run.results["breaches"][-1].startswith(
        "Estimated accuracy (no labels; from the model's calibrated scores) fell from")


def test_a_batch_under_the_minimum_size_is_insufficient_data_and_cannot_breach(
        credit_system, credit_frames, personas, no_enqueue, django_capture_on_commit_callbacks):
    system, version = credit_system
    _, test = credit_frames
    # The demo's shift is large, but 30 rows are fewer than the 50 a review needs.
    _, run = _review(system, version, personas["alice"], shift_credit_batch(test).head(30))

    with django_capture_on_commit_callbacks(execute=True):
        run_audit(str(run.pk))

    run.refresh_from_db()
    assert run.outcome == "inconclusive" and run.results["breach"] is False
    assert run.results["status"] == "insufficient_data" and run.results["checks"] == 0
    assert "insufficient data: the batch has fewer than 50 rows, so it cannot breach." in run.log
    assert not RetrainingRecommendation.objects.exists() and mail.outbox == []
    assert glossary.outcome_text("inconclusive", "drift").startswith("Insufficient data: the batch is smaller")
    assert "even allowing for uncertainty" not in glossary.outcome_text("pass", "drift")


def test_fairness_drift_compares_group_counts_on_the_evaluation_data_with_the_batch(
        credit_system, credit_frames, personas, no_enqueue, django_capture_on_commit_callbacks):
    system, version = credit_system
    AuditRun.objects.create(system=system, version=version, kind="fairness", queue="cpu",
                            status=RunStatus.SUCCEEDED, outcome="pass", finished_at=timezone.now(),
                            results={"features": {"sex": {}, "age": {}}}, params={"min_slice_count": 20})
    _, test = credit_frames
    _, run = _review(system, version, personas["alice"], test)  # the evaluation split itself

    with django_capture_on_commit_callbacks(execute=True):
        run_audit(str(run.pk))

    run.refresh_from_db()
    fairness = run.results["fairness"]
    names = [m["metric"] for m in fairness["metrics"]]
    assert names == ["demographic_parity_difference (sex)", "equalized_odds_difference (sex)",
                     "demographic_parity_difference (age)", "equalized_odds_difference (age)"]
    for m in fairness["metrics"]:
        # Same rows on both sides: the gaps agree, and nothing breaches.
        assert m["breach"] is False
        if m["status"] == "tested":
            assert m["audited"] == pytest.approx(m["current"]) and m["change_lower_bound"] < 0
    sex_dp = fairness["metrics"][0]
    assert sex_dp["status"] == "tested" and sorted(sex_dp["groups"]) == ["female", "male"]
    # Every tested check shares the budget with the features, the output and the accuracy.
    tested = sum(m["status"] == "tested" for m in fairness["metrics"])
    assert run.results["checks"] == len(run.results["features"]) + 1 + 1 + tested
    assert fairness["level"] == pytest.approx(run.results["params"]["alpha"] / run.results["checks"])


def test_a_breach_is_handled_once_even_if_the_review_is_delivered_twice(
        credit_system, personas, django_capture_on_commit_callbacks):
    system, version = credit_system
    personas["alice"].email = "alice@example.org"
    personas["alice"].save()
    run = AuditRun.objects.create(system=system, version=version, kind="drift", status=RunStatus.RUNNING)
    review = {"breach": True, "breaches": ["Feature 'age' drifted: PSI 0.400 (major), adjusted p-value 1e-09."]}

    with django_capture_on_commit_callbacks(execute=True):
        first = drift_breach_handle(run=run, review=review)
        second = drift_breach_handle(run=run, review=review)

    assert first == second and RetrainingRecommendation.objects.count() == 1
    assert len(mail.outbox) == 1
    assert drift_breach_handle(run=run, review={"breach": False, "breaches": []}) is None


def test_a_schedule_is_a_periodic_task_that_reviews_each_new_batch_once(
        credit_system, credit_frames, personas, no_enqueue):
    system, version = credit_system
    alice = personas["alice"]
    schedule = drift_schedule_set(actor=alice, system=system, version=version, crontab="@weekly")

    task = PeriodicTask.objects.get(name="Drift review: credit")
    assert schedule.periodic_task == task and schedule.crontab == "0 6 * * 1"
    assert task.task == "audits.scheduled_drift_review" and task.enabled
    assert json.loads(task.args) == [system.pk, str(version.pk)]
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "6", "1")
    # Setting it again changes the one schedule, it does not add a second.
    drift_schedule_set(actor=alice, system=system, version=version, crontab="30 2 * * *", enabled=False)
    task.refresh_from_db()
    assert PeriodicTask.objects.filter(task="audits.scheduled_drift_review").count() == 1
    assert (task.crontab.minute, task.crontab.hour, task.enabled) == ("30", "2", False)
    drift_schedule_set(actor=alice, system=system, version=version, crontab="0 6 * * 1")

    # What beat sends: nothing to review, then the new batch once, then nothing again.
    assert scheduled_drift_review(system.pk, str(version.pk)) == "no production batch"
    _, test = credit_frames
    batch = production_batch_register(actor_or_token=alice, system=system, version=version,
                                      upload=csv_bytes(test.head(50))).batch
    run_id = scheduled_drift_review(system.pk, str(version.pk))
    run = AuditRun.objects.get(pk=run_id)
    assert run.kind == "drift" and run.params["batch"] == str(batch.pk) and run.created_by is None
    assert scheduled_drift_review(system.pk, str(version.pk)) == "latest batch already reviewed"


@pytest.mark.parametrize("crontab,problem", [
    ("0 6 * *", "crontab: '0 6 * *' has 4 field(s), not 5."),
    ("0 25 * * *", "crontab: hour '25'"),
    ("", "crontab: '' has 0 field(s), not 5."),
])
def test_a_bad_crontab_is_a_400_naming_the_field_and_schedules_nothing(credit_system, personas, crontab, problem):
    system, version = credit_system
    with pytest.raises(ApplicationError) as exc:
        drift_schedule_set(actor=personas["alice"], system=system, version=version, crontab=crontab)
    assert exc.value.message.startswith(problem) and exc.value.extra == {"field": "crontab"}
    assert not PeriodicTask.objects.filter(task="audits.scheduled_drift_review").exists()


def test_who_may_schedule_reviews(credit_system, personas):
    system, version = credit_system
    drift_schedule_set(actor=personas["bob"], system=system, version=version, crontab="@daily")
    for name in ("aude", "erik", "oscar"):
        with pytest.raises(PermissionDeniedError):
            drift_schedule_set(actor=personas[name], system=system, version=version, crontab="@daily")


def test_the_owner_accepts_a_recommendation_but_only_an_independent_reviewer_dismisses_it(
        credit_system, personas):
    system, version = credit_system
    run = AuditRun.objects.create(system=system, version=version, kind="drift", status=RunStatus.SUCCEEDED)
    rec = drift_breach_handle(run=run, review={"breach": True, "breaches": ["Predictions drifted."]})

    with pytest.raises(PermissionDeniedError):
        retraining_recommendation_resolve(actor=personas["alice"], recommendation=rec, status="dismissed")
    retraining_recommendation_resolve(actor=personas["alice"], recommendation=rec, status="accepted",
                                      note="DP retraining next sprint")
    assert retraining_recommendation_open(version=version) == rec  # accepted is still unresolved
    rec = retraining_recommendation_resolve(actor=personas["bob"], recommendation=rec, status="dismissed",
                                            note="Seasonal; reviewed")
    assert rec.status == RecommendationStatus.DISMISSED and rec.resolved_by == personas["bob"]
    assert retraining_recommendation_open(version=version) is None
    with pytest.raises(ConflictError, match="status: this recommendation is already dismissed."):
        retraining_recommendation_resolve(actor=personas["root"], recommendation=rec, status="done")


def test_the_demo_registers_one_shifted_batch_with_its_review_and_a_weekly_schedule_however_often_it_runs(
        credit_system, personas, no_enqueue, django_capture_on_commit_callbacks):
    from governance.demo.drift import SHIFTED_NAME, demo_drift_ensure
    from governance.registry.models import Dataset

    system, version = credit_system
    with django_capture_on_commit_callbacks(execute=True):
        demo_drift_ensure(owner=personas["alice"], system_slug="credit", log=lambda line: None)
        demo_drift_ensure(owner=personas["alice"], system_slug="credit", log=lambda line: None)

    batch = Dataset.objects.get(system=system, role="production")
    assert batch.name == SHIFTED_NAME and batch.n_rows == 300
    run = AuditRun.objects.get(kind="drift")
    assert run.params["batch"] == str(batch.pk) and run.status == RunStatus.QUEUED and no_enqueue == [run.pk]
    assert system.drift_schedule.crontab == "0 6 * * 1"


def test_the_decision_rule_comes_from_the_run_then_the_policy_then_the_defaults(catalog):
    from types import SimpleNamespace

    from audits.kinds.drift.runner import _rule
    from governance.policies.models import Policy

    Policy.objects.filter(risk_tier="high", environment="production").update(
        audit_requirements={"drift": {"rule": {"alpha": 0.01, "psi_bands": [0.2, 0.3]}}})
    run = SimpleNamespace(system=SimpleNamespace(risk_tier="high"),
                          params={"alpha": 0.005, "psi_bins": None, "min_batch_rows": 200})

    rule, sources = _rule(run)

    assert (rule["alpha"], sources["alpha"]) == (0.005, "run parameters")
    assert (rule["min_batch_rows"], sources["min_batch_rows"]) == (200, "run parameters")
    assert (rule["psi_bands"], sources["psi_bands"]) == ([0.2, 0.3], "policy 'High risk - production'")
    assert (rule["psi_bins"], sources["psi_bins"]) == (10, "default")


@pytest.mark.parametrize(("params", "message"), [
    ({"alpha": 0.1}, "params.alpha: 0.1 would make the review less demanding than the policy; it must be "
                     "at most 0.01. A request may ask for more evidence, never less."),
    ({"min_batch_rows": 10}, "params.min_batch_rows: 10 would make the review less demanding than the policy; "
                             "it must be at least 50. A request may ask for more evidence, never less."),
    ({"min_group_count": 5}, "params.min_group_count: 5 would make the review less demanding than the policy; "
                             "it must be at least 30. A request may ask for more evidence, never less."),
    ({"estimate_bootstrap": 10}, "params.estimate_bootstrap: 10 would make the review less demanding than the "
                                 "policy; it must be at least 100. A request may ask for more evidence, never less."),
])
def test_a_run_may_not_ask_for_a_weaker_review_than_the_policy(catalog, params, message):
    from types import SimpleNamespace

    from audits.kinds.drift.runner import _rule
    from audits.runs.runner import AuditInputError

    run = SimpleNamespace(system=SimpleNamespace(risk_tier="high"), params=params)
    with pytest.raises(AuditInputError) as excinfo:
        _rule(run)
    assert str(excinfo.value) == message


def test_the_drift_panel_reads_in_five_queries_however_many_recommendations(
        credit_system, personas, django_assert_num_queries):
    from audits.drift.selectors import system_drift_panel
    from django.contrib.auth import get_user_model

    system, version = credit_system
    for _ in range(3):
        run = AuditRun.objects.create(system=system, version=version, kind="drift", status=RunStatus.SUCCEEDED)
        drift_breach_handle(run=run, review={"breach": True, "breaches": ["Predictions drifted."]})
    alice = get_user_model().objects.get(username="alice")  # no cached roles

    with django_assert_num_queries(6):  # latest run, batches, schedule, recommendations, estimates, alice's roles
        panel = system_drift_panel(system=system, user=alice)
        assert [r.version.version for r in panel["recommendations"]] == ["1.0.0"] * 3
        assert panel["latest"].status == RunStatus.SUCCEEDED and panel["can_accept"] and not panel["can_dismiss"]


def test_the_drift_panel_keeps_the_history_of_estimates_beside_realized_accuracy_of_labelled_batches(
        credit_system, personas):
    from audits.drift.selectors import system_drift_panel

    system, version = credit_system
    for name, realized, within in (("week 1", 0.74, True), ("week 2", 0.61, False)):
        AuditRun.objects.create(system=system, version=version, kind="drift", status=RunStatus.SUCCEEDED, results={
            "batch": {"name": name}, "performance_estimate": {
                "estimate": 0.72, "low": 0.66, "high": 0.78, "realized": realized, "within_interval": within}})
    # An unlabelled batch has an estimate but nothing to compare it with: not in the history.
    AuditRun.objects.create(system=system, version=version, kind="drift", status=RunStatus.SUCCEEDED, results={
        "batch": {"name": "week 3"}, "performance_estimate": {
            "estimate": 0.70, "low": 0.64, "high": 0.76, "realized": None, "within_interval": None}})

    panel = system_drift_panel(system=system, user=personas["alice"])

    assert [(e["batch"], e["realized"], e["within_interval"]) for e in panel["estimates"]] == [
        ("week 2", 0.61, False), ("week 1", 0.74, True)]
    assert panel["estimates"][0]["estimate"] == 0.72 and panel["estimates"][0]["version"] == "1.0.0"
    assert panel["estimate_term"].label == "Estimated accuracy (no labels)"
