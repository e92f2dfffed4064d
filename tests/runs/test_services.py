"""The audit-run lifecycle: create, claim once, execute, evidence, errors, sweeper."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audits.runs.models import AuditRun, RunStatus
from audits.runs.runner import TransientAuditError
from audits.runs.services import audit_run_claim, audit_run_create, audit_run_execute, audit_runs_sweep
from audits.runs.tasks import run_audit
from governance.core.exceptions import ApplicationError, PermissionDeniedError
from governance.catalog.models import ControlAssessment, Evidence

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_enqueue(monkeypatch):
    """Record enqueues instead of sending them, so tests call the task directly."""
    sent = []
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: sent.append(run_id))
    return sent


def test_create_writes_the_row_first_and_enqueues_on_commit(credit_system, personas, no_enqueue,
                                                             django_capture_on_commit_callbacks):
    _, version = credit_system
    with django_capture_on_commit_callbacks(execute=True):
        run = audit_run_create(actor=personas["alice"], version=version, kind="fairness")
        assert no_enqueue == []  # not before the row is committed
    assert no_enqueue == [run.pk]
    assert run.status == RunStatus.QUEUED and run.queue == "cpu"
    assert run.params == {"min_slice_count": 20, "intervals": True, "seed": 0, "bins": {}, "mitigation": True,
                          "set_by_policy": {"policy": "High risk - production",
                                            "params": ["intervals", "min_slice_count"]}}


def test_unknown_kind_and_unknown_params_are_400s_and_write_nothing(credit_system, personas):
    _, version = credit_system
    with pytest.raises(ApplicationError, match="kind must be one of: fairness"):
        audit_run_create(actor=personas["alice"], version=version, kind="astrology")
    with pytest.raises(ApplicationError, match="Unknown parameter"):
        audit_run_create(actor=personas["alice"], version=version, kind="fairness", params={"nope": 1})
    assert AuditRun.objects.count() == 0


@pytest.mark.parametrize("persona,allowed", [
    ("alice", True), ("bob", True), ("sam", True), ("carla", True), ("root", True),
    ("erik", False), ("aude", False), ("oscar", False),
])
def test_who_may_request_an_audit(credit_system, personas, no_enqueue, persona, allowed):
    _, version = credit_system
    if allowed:
        audit_run_create(actor=personas[persona], version=version, kind="fairness")
    else:
        with pytest.raises(PermissionDeniedError):
            audit_run_create(actor=personas[persona], version=version, kind="fairness")


def test_a_run_is_claimed_once_even_if_the_message_comes_twice(credit_system, personas, no_enqueue):
    _, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="fairness")
    assert audit_run_claim(run_id=run.pk, worker_host="w1") is True
    assert audit_run_claim(run_id=run.pk, worker_host="w2") is False
    run.refresh_from_db()
    assert run.worker_host == "w1" and run.status == RunStatus.RUNNING
    assert audit_run_execute(run_id=run.pk) == "skipped"


def test_a_run_records_the_celery_node_that_claimed_it(credit_system, personas, no_enqueue):
    _, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="fairness", params={"intervals": True})

    audit_run_execute(run_id=run.pk, worker="gpu-1@node-a")

    run.refresh_from_db()
    assert run.worker_host == "gpu-1@node-a"


def test_the_fairness_task_runs_and_puts_evidence_on_the_mapped_controls(credit_system, personas, no_enqueue):
    system, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="fairness",
                           params={"intervals": True})
    assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.progress == 100
    assert run.outcome in {"pass", "fail", "inconclusive"}
    assert run.package_versions["fairlearn"] == "0.15.0"
    assert run.seeds == {"mitigation": 0}  # intervals are exact; the seed drives the mitigation outlook
    assert {c["metric"] for c in run.checks} >= {"demographic_parity_difference", "equalized_odds_difference"}
    evidence = Evidence.objects.filter(audit_run_id=run.pk)
    assert set(evidence.values_list("assessment__control__ref", flat=True)) == {
        "MEASURE 2.11", "MEASURE 2.2", "A.5.4", "A.7.4"}
    expected = {"pass": "satisfied", "fail": "failed", "inconclusive": "in_progress"}[run.outcome]
    statuses = set(ControlAssessment.objects.filter(system=system, control__ref__in=["MEASURE 2.11", "A.5.4"])
                   .values_list("status", flat=True))
    assert statuses == {expected}
    # current as long as the production policy of its tier accepts the audit (the gate's rule)
    from governance.policies.services import policy_for

    max_age = policy_for(risk_tier=system.risk_tier).audit_requirements["fairness"]["max_age_days"]
    assert set(evidence.values_list("valid_until", flat=True)) == {run.finished_at + timedelta(days=max_age)}
    # a redelivered message does nothing twice
    assert run_audit(str(run.pk)) == "skipped"
    assert Evidence.objects.filter(audit_run_id=run.pk).count() == 4


def test_a_user_input_error_fails_the_run_with_its_message_and_is_not_retried(credit_system, personas, no_enqueue):
    system, version = credit_system
    version.eval_dataset = None
    version.save()
    run = audit_run_create(actor=personas["alice"], version=version, kind="fairness")
    assert run_audit(str(run.pk)) == RunStatus.FAILED
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "no evaluation dataset" in run.error
    assert run.attempts == 0


def test_a_transient_error_releases_the_run_and_retries(credit_system, personas, no_enqueue, monkeypatch):
    from django.db import OperationalError

    _, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="fairness")

    def flaky(*, run, progress):
        raise OperationalError("database is locked")

    monkeypatch.setattr("audits.kinds.fairness.runner.run", flaky)
    with pytest.raises(TransientAuditError):
        audit_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED  # back in the queue for the retry to claim

    retried = []
    monkeypatch.setattr(run_audit, "retry", lambda exc, countdown: retried.append(countdown) or RuntimeError("retry"))
    with pytest.raises(RuntimeError, match="retry"):
        run_audit(str(run.pk))
    assert retried == [5]


def test_the_sweeper_requeues_stale_and_abandoned_runs(credit_system, personas, no_enqueue, settings):
    _, version = credit_system
    old = timezone.now() - timedelta(hours=2)
    stale = audit_run_create(actor=personas["alice"], version=version, kind="fairness")
    AuditRun.objects.filter(pk=stale.pk).update(enqueued_at=old)
    fresh = audit_run_create(actor=personas["alice"], version=version, kind="fairness")
    AuditRun.objects.filter(pk=fresh.pk).update(enqueued_at=timezone.now())
    dead = audit_run_create(actor=personas["alice"], version=version, kind="fairness")
    AuditRun.objects.filter(pk=dead.pk).update(status=RunStatus.RUNNING, heartbeat_at=old, enqueued_at=old)
    hopeless = audit_run_create(actor=personas["alice"], version=version, kind="fairness")
    AuditRun.objects.filter(pk=hopeless.pk).update(status=RunStatus.RUNNING, heartbeat_at=old, attempts=2)
    no_enqueue.clear()

    result = audit_runs_sweep()

    assert set(result["requeued"]) == {str(stale.pk), str(dead.pk)}
    assert result["failed"] == [str(hopeless.pk)]
    assert set(no_enqueue) == {stale.pk, dead.pk}
    dead.refresh_from_db()
    assert dead.status == RunStatus.QUEUED and dead.attempts == 1
    hopeless.refresh_from_db()
    assert hopeless.status == RunStatus.FAILED and "Abandoned" in hopeless.error
    # The run page says how often a run was re-queued, not a count of "attempts" that reads 0 after a success.
    client = Client()
    client.force_login(personas["aude"])
    assert "<dt>Re-queued</dt><dd>1 time, after a worker stopped answering</dd>" in \
        client.get(f"/runs/{dead.pk}/").content.decode()
    assert "<dt>Re-queued</dt><dd>never</dd>" in client.get(f"/runs/{fresh.pk}/").content.decode()


def test_the_fairness_audit_reports_a_mitigation_outlook_without_changing_the_model(credit_system, personas,
                                                                                     no_enqueue):
    _, version = credit_system
    before = version.artifact_sha256
    run = audit_run_create(actor=personas["alice"], version=version, kind="fairness", params={"intervals": True})
    run_audit(str(run.pk))
    run.refresh_from_db()
    rows = run.results["mitigation"]["rows"]
    assert [(r["method"], r["constraint"]) for r in rows] == [
        ("baseline", None), ("ThresholdOptimizer", "demographic_parity"), ("ThresholdOptimizer", "equalized_odds"),
        ("ExponentiatedGradient", "demographic_parity"), ("ExponentiatedGradient", "equalized_odds")]
    assert all(r["status"] == "ok" for r in rows), rows
    assert run.results["mitigation"]["recommendation"]
    version.refresh_from_db()
    assert version.artifact_sha256 == before
