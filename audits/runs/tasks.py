"""Celery tasks only orchestrate: take an id, call the service, classify errors."""

from __future__ import annotations

from celery import shared_task

from audits.runs.runner import TransientAuditError
from audits.runs.services import audit_run_execute, audit_run_fail, audit_runs_sweep
from governance.core.heartbeat import service_beat
from governance.core.idempotency import idempotency_keys_prune
from governance.core.retry import MAX_RETRIES, retry_or_give_up


@shared_task(bind=True, name="audits.run_audit", max_retries=MAX_RETRIES, acks_late=True)
def run_audit(self, run_id: str) -> str:
    try:
        return audit_run_execute(run_id=run_id, worker=self.request.hostname)
    except TransientAuditError as exc:
        return retry_or_give_up(self, exc, give_up=lambda message: audit_run_fail(run_id=run_id, message=message))


@shared_task(name="audits.sweep_stale_runs")
def sweep_stale_runs() -> dict:
    # Only beat sends this task: its running is beat's (and a worker's) sign of life for /healthz/.
    service_beat(name="beat", detail={"task": "audits.sweep_stale_runs"})
    return {**audit_runs_sweep(), "idempotency_keys_pruned": idempotency_keys_prune()}
