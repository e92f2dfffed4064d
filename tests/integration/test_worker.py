"""A real `celery worker` subprocess runs the fairness audit end to end."""

import pytest

from audits.runs.models import AuditRun, RunStatus
from audits.runs.services import audit_run_create
from governance.catalog.models import ControlAssessment, Evidence
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_fairness_audit_runs_through_a_real_worker(worker, credit_system, personas):
    system, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="fairness", params={"min_slice_count": 20})
    seen_progress = set()

    def finished():
        current = AuditRun.objects.get(pk=run.pk)
        seen_progress.add(current.progress)
        return current if current.is_finished else None

    done = wait_for(finished, timeout=240)
    assert done is not None, f"the worker did not finish the run (last progress {sorted(seen_progress)})"
    assert done.status == RunStatus.SUCCEEDED, done.error
    assert "@" in done.worker_host and done.started_at and done.finished_at  # the Celery node, name@host
    assert done.device == "cpu"
    assert Evidence.objects.filter(audit_run_id=done.pk, assessment__control__ref="MEASURE 2.11").exists()
    status = ControlAssessment.objects.get(system=system, control__ref="A.5.4").status
    assert status == {"pass": "satisfied", "fail": "failed", "inconclusive": "in_progress"}[done.outcome]


def test_a_message_delivered_twice_does_the_work_once(worker, credit_system, personas):
    from audits.runs.tasks import run_audit

    _, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="fairness", params={"intervals": True})
    run_audit.apply_async(args=[str(run.pk)], queue="cpu")  # a duplicate of the on-commit message
    done = wait_for(lambda: AuditRun.objects.filter(pk=run.pk, status=RunStatus.SUCCEEDED).first(), timeout=240)
    assert done is not None
    # let the duplicate be consumed too, then check nothing was done twice
    wait_for(lambda: False, timeout=3)
    assert Evidence.objects.filter(audit_run_id=run.pk).count() == 4
