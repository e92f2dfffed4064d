"""Audit-run lifecycle: create -> enqueue (on commit) -> claim -> execute -> finish.

The database row is the truth. A message delivered twice finds the run already claimed
(the conditional UPDATE changes no row) and does nothing. A broker that is down when the
row commits fails nothing: the run stays queued with no `enqueued_at`, and the sweeper
sends it once the broker is back. While a run executes, a thread of the worker beats its
`heartbeat_at` every AUDIT_HEARTBEAT_INTERVAL_SECONDS, whatever step it is in; a run whose
heartbeat is older than AUDIT_HEARTBEAT_TIMEOUT_SECONDS has lost its worker, and the sweeper
(or a redelivered message) takes it back.
"""

from __future__ import annotations

import logging
import socket
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from audits.runs.models import AuditRun, RunStatus
from audits.runs.params import NOT_OBJECT, POLICY_KEY, params_resolve
from audits.runs.registry import KINDS, UNKNOWN_KIND
from audits.runs.runner import AuditInputError, RunOutcome, TransientAuditError
from audits.runs.signals import audit_finished
from governance.catalog.evidence import evidence_record
from governance.core.exceptions import ApplicationError
from governance.core.heartbeat import Heartbeat
from governance.core.roles import require
from governance.policies.services import audit_params, policy_for
from governance.registry.models import ModelVersion
from governance.trail.services import trail_append
from training.artifacts import ArtifactError

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
PACKAGES = ["torch", "numpy", "scipy", "pandas", "scikit-learn", "fairlearn", "adversarial-robustness-toolbox", "opacus",
            "captum"]


def audit_run_create(*, actor, version: ModelVersion, kind: str, params: dict | None = None) -> AuditRun:
    """Queue one audit of `version`. Its parameters are the kind's defaults, under the policy's
    for the system's tier (those that decide the verdict), under the request's, which may ask for
    more thoroughness and never for less (audits/runs/params.py); every bad one is a 400 naming
    `params.<name>` before anything is written. Which ones the policy set is stored with them."""
    require(actor, "audit.request", version.system)
    if kind not in KINDS:
        raise ApplicationError(UNKNOWN_KIND.format(kinds=", ".join(KINDS)), field="kind")
    if params is not None and not isinstance(params, dict):
        raise ApplicationError(NOT_OBJECT, field="params")
    spec = KINDS[kind]
    refusal = spec.refusal(version)
    if refusal:
        raise ApplicationError(refusal, field="kind")
    effective = audit_params_effective(kind=kind, system=version.system, params=params)
    with transaction.atomic():
        run = AuditRun(system=version.system, version=version, kind=kind, queue=spec.queue, params=effective,
                       created_by=actor)
        run.full_clean()
        run.save()
        transaction.on_commit(lambda: audit_run_enqueue(run_id=run.pk), robust=True)
    return run


def audit_params_effective(*, kind: str, system, params: dict | None) -> dict:
    """The params a run of `kind` on `system` would be stored with, or the ApplicationError of the
    first bad one: defaults <- the production policy of its tier <- the request."""
    spec = KINDS[kind]
    policy = policy_for(risk_tier=system.risk_tier, environment="production")
    from_policy = audit_params(policy, kind, key=spec.policy_params_key)
    effective, set_by_policy = params_resolve(kind=kind, table=spec.params, defaults=spec.defaults, request=params,
                                              policy_params=from_policy, policy_name=policy.name,
                                              floors=spec.params_floor)
    problem = spec.params_check(effective) if spec.params_check else None
    if problem:
        name, message = problem
        raise ApplicationError(message, field=f"params.{name}")
    if set_by_policy:
        effective[POLICY_KEY] = {"policy": policy.name, "params": sorted(set_by_policy)}
    return effective


def audit_run_enqueue(*, run_id) -> bool:
    """Send the run's message. A broker that is down is logged, not raised: the row is
    committed already, and the sweeper sends what has no `enqueued_at` yet."""
    from audits.runs.tasks import run_audit  # the task module imports these services

    run = AuditRun.objects.filter(pk=run_id).only("pk", "queue").first()
    if run is None:
        return False
    try:
        run_audit.apply_async(args=[str(run.pk)], queue=run.queue)
    except Exception:  # noqa: BLE001 - any broker failure: the sweeper delivers later
        log.warning("could not enqueue audit run %s; the sweeper will send it", run_id, exc_info=True)
        return False
    AuditRun.objects.filter(pk=run_id).update(enqueued_at=timezone.now())
    return True


def _dead_before(now):
    return now - timedelta(seconds=settings.AUDIT_HEARTBEAT_TIMEOUT_SECONDS)


def audit_run_claim(*, run_id, worker_host: str, now=None) -> bool:
    """Take the run: a queued one, or a running one whose worker stopped heartbeating (its
    message came back: redelivered after the worker died). Exactly one claimer wins."""
    now = now or timezone.now()
    fields = dict(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now, worker_host=worker_host, progress=0,
                  stage="starting", error="")
    with transaction.atomic():
        claimed = AuditRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(**fields)
        if not claimed:
            claimed = AuditRun.objects.filter(
                pk=run_id, status=RunStatus.RUNNING, heartbeat_at__lt=_dead_before(now),
                attempts__lt=settings.AUDIT_MAX_ATTEMPTS - 1,
            ).update(**fields, attempts=F("attempts") + 1)
        if claimed == 1:
            trail_append(actor=f"worker:{worker_host}", action="audit.started", obj=AuditRun(pk=run_id))
    return claimed == 1


def audit_run_beat(*, run_id, started_at, now=None) -> bool:
    """The worker's heartbeat: only the claim that started at `started_at` may beat."""
    return bool(AuditRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, started_at=started_at).update(
        heartbeat_at=now or timezone.now()))


def audit_run_progress(*, run_id, progress: int, stage: str = "", started_at=None) -> None:
    """Cheap single UPDATE of what the run is doing; also a heartbeat."""
    rows = AuditRun.objects.filter(pk=run_id, status=RunStatus.RUNNING)
    if started_at is not None:
        rows = rows.filter(started_at=started_at)
    rows.update(progress=max(0, min(100, int(progress))), stage=stage[:200], heartbeat_at=timezone.now())


def _package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def audit_run_execute(*, run_id, worker: str | None = None) -> str:
    """Run one audit. Returns the final status, or "skipped" when another worker has it.

    `worker` is the Celery node name (name@host), which tells apart the processes of one machine
    or pod; without one (run in-process) the host name is recorded."""
    if not audit_run_claim(run_id=run_id, worker_host=(worker or socket.gethostname())[:200]):
        return "skipped"
    run = AuditRun.objects.select_related("version__system", "version__eval_dataset", "version__train_dataset").get(pk=run_id)
    runner = KINDS[run.kind].load_runner()
    claim = run.started_at

    def progress(pct: int, stage: str = "") -> None:
        audit_run_progress(run_id=run_id, progress=pct, stage=stage, started_at=claim)

    try:
        with Heartbeat(lambda: audit_run_beat(run_id=run_id, started_at=claim),
                       interval=settings.AUDIT_HEARTBEAT_INTERVAL_SECONDS, name=f"heartbeat-{run_id}"):
            outcome: RunOutcome = runner(run=run, progress=progress)
    except (AuditInputError, ArtifactError, ApplicationError, ValueError, KeyError) as exc:
        audit_run_fail(run_id=run_id, message=str(exc) or exc.__class__.__name__)
        return RunStatus.FAILED
    except TRANSIENT as exc:
        _release(run_id)
        raise TransientAuditError(str(exc)) from exc
    except Exception as exc:  # an unexpected bug: fail loudly with the trace in the run's log
        audit_run_fail(run_id=run_id, message=f"Internal error: {exc}", log_text=traceback.format_exc())
        raise
    _finish(run, outcome)
    return RunStatus.SUCCEEDED


def _release(run_id) -> None:
    """Give a run back to the queue after a transient error; the task's retry picks it up."""
    try:
        AuditRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(status=RunStatus.QUEUED, stage="retrying")
    except DatabaseError:
        log.warning("could not release run %s; the sweeper will", run_id)


@transaction.atomic
def _finish(run: AuditRun, outcome: RunOutcome) -> None:
    # Only the claim that ran it finishes it: a worker that was given up for dead changes nothing.
    finished_at = timezone.now()
    updated = AuditRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, started_at=run.started_at).update(
        status=RunStatus.SUCCEEDED, progress=100, stage="done", finished_at=finished_at, outcome=outcome.outcome,
        results=outcome.results, checks=outcome.checks, seeds=outcome.seeds, device=outcome.device,
        package_versions=_package_versions(), log=outcome.summary,
    )
    if updated:
        judged = outcome.judged_version or run.version
        # First, for the lock order: a "fail" revokes the judged version's approvals (governance/approvals/).
        audit_finished.send(sender=AuditRun, run=run, outcome=outcome.outcome, version=judged)
        evidence_record(
            system=run.system, kind=run.kind, outcome=outcome.evidence_outcome or outcome.outcome,
            summary=outcome.summary, audit_run=run, link=f"/runs/{run.pk}/", version=judged,
            valid_until=_valid_until(run, finished_at),
        )
        for further in outcome.further:
            evidence_record(system=run.system, kind=further["kind"], outcome=further["outcome"],
                            summary=further["summary"], audit_run=run, link=f"/runs/{run.pk}/", version=judged,
                            valid_until=_valid_until(run, finished_at))
        trail_append(actor="worker", action="audit.finished", obj=run, seal=[run],
                     payload={"kind": run.kind, "outcome": outcome.outcome})


def _valid_until(run: AuditRun, finished_at):
    """The audit's evidence is current as long as the production policy of its system's tier
    accepts the audit (its max_age_days, the gate's own rule); without one it does not expire."""
    policy = policy_for(risk_tier=run.system.risk_tier, environment="production")
    max_age = ((policy.audit_requirements or {}).get(run.kind) or {}).get("max_age_days")
    return finished_at + timedelta(days=max_age) if max_age else None


def audit_run_fail(*, run_id, message: str, log_text: str = "") -> None:
    with transaction.atomic():
        # A finished run is never changed (the database refuses it): failing one twice does nothing.
        if AuditRun.objects.filter(pk=run_id).exclude(status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]).update(
            status=RunStatus.FAILED, error=message[:5000], log=log_text[:20000], finished_at=timezone.now(), stage="failed"
        ):
            trail_append(actor="worker", action="audit.failed", obj=AuditRun(pk=run_id), seal=[AuditRun(pk=run_id)],
                         payload={"error": message[:500]})


def audit_runs_sweep(*, now=None) -> dict:
    """Deliver what the broker did not take, and take back runs whose worker died.

    * queued, never sent (the broker was down at commit): sent once AUDIT_UNSENT_GRACE_SECONDS passed;
    * queued, sent but not claimed for AUDIT_STALE_QUEUED_SECONDS (a lost message): sent again;
    * running with a heartbeat older than AUDIT_HEARTBEAT_TIMEOUT_SECONDS: queued again and sent,
      or failed after AUDIT_MAX_ATTEMPTS.
    A run sent twice is still claimed once."""
    now = now or timezone.now()
    dead = _dead_before(now)
    requeued, failed = [], []
    for run in AuditRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=dead):
        if run.attempts + 1 >= settings.AUDIT_MAX_ATTEMPTS:
            audit_run_fail(run_id=run.pk, message=f"Abandoned by worker {run.worker_host} {run.attempts + 1} times.")
            failed.append(run.pk)
            continue
        if AuditRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, heartbeat_at__lt=dead).update(
            status=RunStatus.QUEUED, attempts=run.attempts + 1, stage="re-queued: worker stopped heartbeating"
        ):
            requeued.append(run.pk)
    unsent = now - timedelta(seconds=settings.AUDIT_UNSENT_GRACE_SECONDS)
    lost = now - timedelta(seconds=settings.AUDIT_STALE_QUEUED_SECONDS)
    waiting = AuditRun.objects.filter(status=RunStatus.QUEUED).exclude(pk__in=requeued).filter(
        Q(enqueued_at__isnull=True, created_at__lt=unsent) | Q(enqueued_at__lt=lost))
    requeued += list(waiting.values_list("pk", flat=True))
    sent = [run_id for run_id in requeued if audit_run_enqueue(run_id=run_id)]
    return {"requeued": [str(r) for r in requeued], "sent": len(sent), "failed": [str(r) for r in failed]}
