"""Drift reviews: production batches, review requests, schedules, and what a breach sets off.

Keyword-only services named `<entity>_<action>`, like governance/registry/services.py.

* A production batch is a `governance.Dataset` with role "production". It is checked
  against the version's declared schema (its evaluation dataset's, else its training
  dataset's) before anything is written: every feature and sensitive column present,
  every numeric feature numeric, the label optional. A bad batch is a 400 that names the
  column and the problem, and leaves no row and no file behind.
* A review is an `AuditRun` of kind "drift" (audits/kinds/drift/); it runs in the
  worker, on request or on the system's schedule (django-celery-beat's DatabaseScheduler).
* On a breach the runner's outcome is "fail", so the audit finish path fails the drift
  evidence (MEASURE 2.4, MANAGE 2.2, MANAGE 4.1, A.6.2.6), and `drift_breach_handle`
  records a retraining recommendation against the version, tells the apps above
  (`drift_breached`: the approvals app revokes the version's approvals) and, once that
  commits, alerts by email and by HMAC-signed webhook (governance/notifications/).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from audits.drift.models import (
    DriftSchedule,
    RecommendationStatus,
    RetrainingRecommendation,
)
from audits.drift.selectors import latest_production_batch
from audits.drift.signals import drift_breached
from audits.runs import services as audit_services
from audits.runs.models import AuditRun, RunStatus
from audits.runs.registry import KINDS
from governance.core.exceptions import (
    ApplicationError,
    ConflictError,
    PermissionDeniedError,
)
from governance.core.roles import Role, require
from governance.notifications.services import notify
from governance.registry.datafiles import check_columns, read_table, table_format
from governance.registry.models import (
    AISystem,
    Dataset,
    DatasetRole,
    ModelVersion,
    PipelineToken,
    TokenScope,
)
from governance.registry.tokens import token_require_system
from governance.registry.uploads import read_upload, stored, validation_error
from governance.trail.services import trail_append
from training.artifacts import sha256_hex

TASK_NAME = "audits.scheduled_drift_review"
BREACH_EVENT = "drift.breach"
# Who hears about a breach besides the system's owner: the people who validate and watch risk.
ALERT_ROLES = [Role.RISK_OFFICER, Role.COMPLIANCE_OFFICER]
CRON_PRESETS = {"@hourly": "0 * * * *", "@daily": "0 6 * * *", "@weekly": "0 6 * * 1", "@monthly": "0 6 1 * *"}
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")

NO_SCHEMA = (
    "version: {version} has no dataset with a declared schema to check batches against; "
    "register it with an evaluation dataset."
)
OTHER_SYSTEM = "{field}: {name} belongs to another AI system."
NOT_NUMERIC = (
    "Column '{column}' must be numeric (the schema declares it a numeric feature), "
    "but data row {row} holds {value!r}."
)
LABEL_MISSING = "Column '{column}' (label_column) is missing from the file."
NO_BATCH = "{system} has no production batch yet; upload one to /api/v1/batches/ first."
NOT_A_BATCH = "batch: {name} is not a production batch of {system}."
BAD_CRONTAB = (
    "crontab: {problem} Use five fields 'minute hour day-of-month month day-of-week' "
    "(e.g. '0 6 * * 1', Mondays at 06:00 {tz}) or one of {presets}."
)
BAD_STATUS = "status: must be one of {choices}."
ALREADY_RESOLVED = "status: this recommendation is already {status}."
TOKEN_SCOPE = "This pipeline token's scopes ({scopes}) do not include {scope}, which uploading batches needs."


# ------------------------------------------------------------------ batches


@dataclass
class RegisteredBatch:
    batch: Dataset
    review: AuditRun | None = None


def version_schema(version: ModelVersion) -> dict:
    """The schema batches of `version` must follow: its evaluation data's, else its training data's."""
    for dataset in (version.eval_dataset, version.train_dataset):
        if dataset is not None and dataset.schema:
            return dataset.schema
    raise ApplicationError(NO_SCHEMA.format(version=version), field="version")


def batch_check(frame: pd.DataFrame, schema: dict, *, label_column: str | None = None) -> dict:
    """Check a batch against the version's schema; return the batch's own schema.

    Every feature and sensitive column must be there; a numeric feature (a feature not
    declared categorical) must hold numbers or blanks. The label is optional: the one
    named by `label_column`, else the schema's label when the file has that column."""
    if label_column and label_column not in frame.columns:
        raise ApplicationError(LABEL_MISSING.format(column=label_column), field="label_column",
                               extra={"column": label_column})
    label = label_column or (schema.get("label") if schema.get("label") in frame.columns else None)
    batch_schema = {
        "features": list(schema["features"]), "label": label,
        "sensitive": list(schema.get("sensitive") or []), "categorical": list(schema.get("categorical") or []),
    }
    check_columns(frame, batch_schema)
    for column in batch_schema["features"]:
        if column in batch_schema["categorical"]:
            continue
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        numbers = pd.to_numeric(values, errors="coerce")
        bad = values.notna().to_numpy() & numbers.isna().to_numpy()
        if bad.any():
            position = int(bad.argmax())
            raise ApplicationError(
                NOT_NUMERIC.format(column=column, row=position + 1, value=values.iloc[position]), field="file",
                extra={"column": column, "row": position + 1, "value": str(values.iloc[position])},
            )
    return batch_schema


def _batch_actor(actor_or_token, system: AISystem):
    """(the user who owns the row, the trail's actor). A pipeline token needs batches:write;
    a person needs to own the system (or be an admin), as for any dataset."""
    if isinstance(actor_or_token, PipelineToken):
        if TokenScope.BATCHES_WRITE not in actor_or_token.scopes:
            raise PermissionDeniedError(TOKEN_SCOPE.format(
                scopes=", ".join(actor_or_token.scopes) or "none", scope=TokenScope.BATCHES_WRITE))
        token_require_system(actor_or_token, system)  # one system's pipeline never posts another's batches
        return actor_or_token.user, f"pipeline:{actor_or_token.name}"
    require(actor_or_token, "dataset.register", system)
    return actor_or_token, actor_or_token


def production_batch_register(
    *, actor_or_token, system: AISystem, version: ModelVersion, upload, label_column: str | None = None,
    name: str = "", review: bool = False,
) -> RegisteredBatch:
    """Store one production batch for `version`, optionally requesting its drift review.

    Everything is checked before anything is written; the row, the trail entry and the
    review run commit together, and the stored file is deleted if they do not."""
    user, trail_actor = _batch_actor(actor_or_token, system)
    if version.system_id != system.pk:
        raise ApplicationError(OTHER_SYSTEM.format(field="version", name=version), field="version")
    schema = version_schema(version)
    data = read_upload(upload, field="file")
    fmt = table_format(data)
    frame = read_table(data, fmt)
    batch_schema = batch_check(frame, schema, label_column=label_column)
    sha = sha256_hex(data)
    batch = Dataset(
        system=system, name=name or f"Production batch {timezone.now():%Y-%m-%d %H:%M:%S}",
        role=DatasetRole.PRODUCTION, file_format=fmt, sha256=sha, size_bytes=len(data), n_rows=len(frame),
        schema=batch_schema, created_by=user,
    )
    try:
        batch.full_clean(exclude=["file"])
    except ValidationError as exc:
        raise validation_error(exc) from None
    with stored("datasets", sha, fmt, data) as path, transaction.atomic():
        batch.file.name = path
        batch.save()
        run = _review_create(version=version, batch=batch, created_by=user) if review else None
        trail_append(actor=trail_actor, action="batch.register", obj=batch, payload={
            "system": system.slug, "version": version.version, "sha256": sha, "rows": len(frame),
            "label": batch_schema["label"], "review": str(run.pk) if run else None,
        })
    return RegisteredBatch(batch=batch, review=run)


# ------------------------------------------------------------------ reviews


def _review_create(*, version: ModelVersion, batch: Dataset, created_by) -> AuditRun:
    """The drift run for a batch, with the kind's defaults; enqueued once it commits. For the
    paths whose permission was checked already (a scoped token, a schedule someone set)."""
    spec = KINDS["drift"]
    with transaction.atomic():
        run = AuditRun.objects.create(
            system=version.system, version=version, kind="drift", queue=spec.queue,
            params={**spec.defaults, "batch": str(batch.pk)}, created_by=created_by,
        )
        transaction.on_commit(lambda: audit_services.audit_run_enqueue(run_id=run.pk), robust=True)
    return run


def _batch_of(version: ModelVersion, batch: Dataset | None) -> Dataset:
    system = version.system
    if batch is None:
        batch = latest_production_batch(system=system)
        if batch is None:
            raise ApplicationError(NO_BATCH.format(system=system.slug), field="batch")
    elif batch.system_id != system.pk or batch.role != DatasetRole.PRODUCTION:
        raise ApplicationError(NOT_A_BATCH.format(name=batch.name, system=system.slug), field="batch")
    return batch


def drift_review_request(*, actor, version: ModelVersion, batch: Dataset | None = None,
                         params: dict | None = None) -> AuditRun:
    """Request a drift review of `batch` (default: the system's latest production batch)."""
    require(actor, "audit.request", version.system)
    batch = _batch_of(version, batch)
    return audit_services.audit_run_create(
        actor=actor, version=version, kind="drift", params={**(params or {}), "batch": str(batch.pk)}
    )


def drift_review_scheduled(*, system_id, version_id) -> str:
    """What the schedule does: review the latest production batch, once.

    A batch already reviewed (or being reviewed) for this version is not reviewed again:
    the same data would give the same answer. Returns the run id or why there is none."""
    schedule = DriftSchedule.objects.select_related("version__system").filter(
        system_id=system_id, version_id=version_id, enabled=True
    ).first()
    if schedule is None:
        return "no enabled schedule"
    version = schedule.version
    batch = latest_production_batch(system=version.system)
    if batch is None:
        return "no production batch"
    reviewed = AuditRun.objects.filter(version=version, kind="drift", params__batch=str(batch.pk)).exclude(
        status=RunStatus.FAILED
    )
    if reviewed.exists():
        return "latest batch already reviewed"
    return str(_review_create(version=version, batch=batch, created_by=None).pk)


# ------------------------------------------------------------------ schedules


def crontab_fields(crontab: str) -> tuple[str, dict]:
    """'0 6 * * 1' or a preset -> (normalised expression, CrontabSchedule fields)."""
    text = " ".join(str(crontab or "").split())
    expression = CRON_PRESETS.get(text.lower(), text)
    parts = expression.split(" ")
    problem = None
    if len(parts) != 5:
        problem = f"{text!r} has {len(parts) if text else 0} field(s), not 5."
    else:
        fields = dict(zip(CRON_FIELDS, parts))
        try:
            CrontabSchedule(**fields).full_clean(exclude=["timezone"])
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            problem = f"{field.replace('_', ' ')} {fields.get(field)!r}: {' '.join(messages)}"
    if problem:
        raise ApplicationError(BAD_CRONTAB.format(problem=problem, tz=settings.TIME_ZONE,
                                                  presets=", ".join(CRON_PRESETS)), field="crontab")
    return expression, fields


def drift_schedule_set(*, actor, system: AISystem, version: ModelVersion, crontab: str,
                       enabled: bool = True) -> DriftSchedule:
    """Create or change the system's drift-review schedule (one per system)."""
    require(actor, "audit.request", system)
    if version.system_id != system.pk:
        raise ApplicationError(OTHER_SYSTEM.format(field="version", name=version), field="version")
    expression, fields = crontab_fields(crontab)
    with transaction.atomic():
        cron, _ = CrontabSchedule.objects.get_or_create(**fields, timezone=settings.TIME_ZONE)
        task, _ = PeriodicTask.objects.update_or_create(
            name=f"Drift review: {system.slug}",
            defaults={
                "task": TASK_NAME, "crontab": cron, "interval": None, "solar": None, "clocked": None,
                "args": json.dumps([system.pk, str(version.pk)]), "kwargs": "{}", "enabled": enabled,
                "description": f"Reviews the latest production batch of {version} for drift.",
            },
        )
        schedule, _ = DriftSchedule.objects.update_or_create(
            system=system,
            defaults={"version": version, "periodic_task": task, "crontab": expression, "enabled": enabled,
                      "created_by": actor},
        )
        trail_append(actor=actor, action="drift.schedule", obj=schedule, payload={
            "system": system.slug, "version": version.version, "crontab": expression, "enabled": enabled,
        })
    return schedule


# ------------------------------------------------------------------ breaches


def drift_breach_handle(*, run: AuditRun, review: dict) -> RetrainingRecommendation | None:
    """A breaching review: recommend retraining, revoke approvals, then alert.

    Called by the drift runner. Once per run: a redelivered run finds its recommendation
    and sends nothing twice. The evidence itself fails through the run's outcome."""
    if not review.get("breach"):
        return None
    version = run.version
    breaches = list(review.get("breaches") or [])
    batch_id = (review.get("batch") or {}).get("id")
    reason = f"Drift review {run.pk} breached: " + " ".join(breaches[:5]) + (
        f" (and {len(breaches) - 5} more)" if len(breaches) > 5 else "")
    with transaction.atomic():
        rec, created = RetrainingRecommendation.objects.get_or_create(
            audit_run=run,
            defaults={"version": version, "reason": reason, "breaches": breaches,
                      "batch": Dataset.objects.filter(pk=batch_id).first() if batch_id else None},
        )
        if not created:
            return rec
        # The approvals app revokes the version's approvals and says how many; None without it.
        answers = drift_breached.send(sender=RetrainingRecommendation, version=version, reason=reason, run=run)
        revoked = sum(n for _, n in answers) if answers else None
        trail_append(actor="audit:drift", action="drift.breach", obj=rec, payload={
            "system": version.system.slug, "version": version.version, "run": str(run.pk),
            "breaches": breaches, "approvals_revoked": revoked,
        })
        transaction.on_commit(lambda: drift_alert_send(recommendation_id=rec.pk, approvals_revoked=revoked),
                              robust=True)
    return rec


def _alert_recipients(system: AISystem) -> list[str]:
    User = get_user_model()
    users = set(User.objects.filter(is_active=True, groups__name__in=ALERT_ROLES))
    users.add(system.owner)
    return sorted({u.email for u in users if u.email})


def drift_alert_body(rec: RetrainingRecommendation, *, approvals_revoked=None) -> dict:
    run, version = rec.audit_run, rec.version
    site = settings.SITE_URL.rstrip("/")
    return {
        "event": BREACH_EVENT,
        "system": version.system.slug,
        "version": version.version,
        "version_id": str(version.pk),
        "run": {"id": str(run.pk), "url": f"{site}/runs/{run.pk}/"},
        "batch": None if rec.batch is None else {"id": str(rec.batch.pk), "name": rec.batch.name,
                                                 "sha256": rec.batch.sha256, "rows": rec.batch.n_rows},
        "breaches": rec.breaches,
        "recommendation": {"id": str(rec.pk), "status": rec.status, "reason": rec.reason},
        "approvals_revoked": approvals_revoked,
    }


def drift_alert_send(*, recommendation_id, approvals_revoked=None) -> None:
    """Email the owner, risk and compliance officers; post the signed webhook(s)."""
    rec = RetrainingRecommendation.objects.select_related(
        "version__system__owner", "audit_run", "batch"
    ).get(pk=recommendation_id)
    body = drift_alert_body(rec, approvals_revoked=approvals_revoked)
    subject = f"Drift breach: {body['system']}@{body['version']} - retraining recommended"
    lines = [subject, "", "What breached:"] + [f"  - {b}" for b in rec.breaches]
    if approvals_revoked:
        lines += ["", f"Approvals revoked: {approvals_revoked}."]
    lines += ["", f"Review: {body['run']['url']}"]
    notify(event=BREACH_EVENT, subject=subject, text="\n".join(lines), recipients=_alert_recipients(rec.version.system),
           body=body, urls=list(settings.DRIFT_WEBHOOK_URLS))


# ------------------------------------------------------------------ recommendations


def retraining_recommendation_open(*, version: ModelVersion) -> RetrainingRecommendation | None:
    """The newest unresolved (open or accepted) retraining recommendation of a version, or None.

    For the gate and the retraining features: an accepted recommendation is still unresolved
    until the retrained version exists (status done) or a reviewer dismisses it."""
    return (
        RetrainingRecommendation.objects.filter(
            version=version, status__in=[RecommendationStatus.OPEN, RecommendationStatus.ACCEPTED]
        )
        .select_related("audit_run", "batch")
        .order_by("-created_at")
        .first()
    )


def retraining_recommendation_resolve(
    *, actor, recommendation: RetrainingRecommendation, status: str, note: str = "",
    new_version: ModelVersion | None = None,
) -> RetrainingRecommendation:
    """Accept, dismiss or close a recommendation.

    Accepting or closing is the owner's call (they retrain); dismissing a breach is an
    independent reviewer's (risk, compliance, executive), never the owner's alone."""
    choices = [RecommendationStatus.ACCEPTED, RecommendationStatus.DISMISSED, RecommendationStatus.DONE]
    if status not in choices:
        raise ApplicationError(BAD_STATUS.format(choices=", ".join(choices)), field="status")
    system = recommendation.version.system
    require(actor, "approval.revoke" if status == RecommendationStatus.DISMISSED else "version.register", system)
    if new_version is not None and new_version.system_id != system.pk:
        raise ApplicationError(OTHER_SYSTEM.format(field="new_version", name=new_version), field="new_version")
    with transaction.atomic():
        rec = RetrainingRecommendation.objects.select_for_update().get(pk=recommendation.pk)
        if not rec.is_open:
            raise ConflictError(ALREADY_RESOLVED.format(status=rec.get_status_display().lower()), field="status")
        rec.status = status
        rec.resolution_note = note
        rec.new_version = new_version or rec.new_version
        if status != RecommendationStatus.ACCEPTED:
            rec.resolved_by, rec.resolved_at = actor, timezone.now()
        rec.full_clean()
        rec.save()
        trail_append(actor=actor, action=f"retraining.{status}", obj=rec, payload={
            "version": str(rec.version_id), "note": note,
            "new_version": str(rec.new_version_id) if rec.new_version_id else None,
        })
    return rec
