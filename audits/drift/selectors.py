"""Read side of drift reviews: the system page's drift panel and the recommendation lists.
Constant query counts: each function is a handful of queries whatever the data."""

from __future__ import annotations

from audits.drift.models import (
    DriftSchedule,
    RecommendationStatus,
    RetrainingRecommendation,
)
from django.db.models import Q

from audits.runs.models import AuditRun, RunStatus
from governance.core import glossary
from governance.core.exceptions import NotFoundError
from governance.core.roles import can, require
from governance.registry.models import AISystem, Dataset, DatasetRole

KIND = "drift"  # a drift review is an AuditRun of this kind
NO_RECOMMENDATION = "No retraining recommendation {pk}."

UNRESOLVED = [RecommendationStatus.OPEN, RecommendationStatus.ACCEPTED]
PANEL_BATCHES = 5
PANEL_ESTIMATES = 8
ESTIMATE = "results__performance_estimate__"
# The schedule form's choices: (value, label, expression); values are audits.drift.services.CRON_PRESETS keys.
PRESETS = [("@daily", "Daily, 06:00 UTC", "0 6 * * *"), ("@weekly", "Weekly, Mondays 06:00 UTC", "0 6 * * 1"),
           ("@monthly", "Monthly, the 1st at 06:00 UTC", "0 6 1 * *"), ("custom", "Custom crontab", None)]


def latest_production_batch(*, system: AISystem) -> Dataset | None:
    return Dataset.objects.filter(system=system, role=DatasetRole.PRODUCTION).order_by("-created_at").first()


def production_breach(*, version) -> AuditRun | None:
    """The failed drift review of `version` on a production batch, when its latest review is one."""
    run = (AuditRun.objects.filter(version=version, kind=KIND, status=RunStatus.SUCCEEDED)
           .order_by("-finished_at").only("id", "outcome", "params").first())
    return run if run and run.outcome == "fail" and (run.params or {}).get("batch") else None


def batch_review(*, version, batch: str) -> AuditRun | None:
    """The latest review of `version` against production batch `batch` that did not fail to run."""
    return (AuditRun.objects.filter(version=version, kind=KIND, params__batch=batch)
            .exclude(status=RunStatus.FAILED).order_by("-created_at").only("id", "status", "outcome").first())


def production_rows_by_version(*, system: AISystem) -> dict[str, int]:
    """{version label: rows of the production batches reviewed for it}, each batch counted once
    per version however often it was reviewed: the decisions a version made in production, as
    far as the batches posted for review tell. Two queries."""
    batches = dict(Dataset.objects.filter(system=system, role=DatasetRole.PRODUCTION).values_list("pk", "n_rows"))
    if not batches:
        return {}
    reviewed: dict[str, set] = {}
    for label, params in AuditRun.objects.filter(system=system, kind=KIND).values_list("version__version", "params"):
        batch = (params or {}).get("batch")
        if batch:
            reviewed.setdefault(label, set()).add(batch)
    rows = {str(pk): n for pk, n in batches.items()}
    return {label: sum(rows[b] for b in ids if b in rows) for label, ids in reviewed.items() if ids & rows.keys()}


def retraining_recommendation_get(*, pk, user) -> RetrainingRecommendation:
    """One recommendation the user may see, or a 404 naming it."""
    rec = RetrainingRecommendation.objects.select_related("version__system").filter(pk=pk).first()
    if rec is None:
        raise NotFoundError(NO_RECOMMENDATION.format(pk=pk))
    require(user, "system.view", rec.version.system)
    return rec


def retraining_recommendations(*, system: AISystem | None = None, status: str = "", version=None):
    """For the API list and the pages; status "unresolved" means open or accepted."""
    qs = RetrainingRecommendation.objects.select_related(
        "version__system", "audit_run", "batch", "resolved_by", "new_version")
    if system is not None:
        qs = qs.filter(version__system=system)
    if version is not None:
        qs = qs.filter(version=version)
    if status == "unresolved":
        qs = qs.filter(status__in=UNRESOLVED)
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")


def system_drift_panel(*, system: AISystem, user) -> dict:
    """Everything templates/drift/_panel.html shows, in six queries."""
    latest = (AuditRun.objects.filter(system=system, kind="drift").select_related("version")
              .order_by("-created_at").first())
    batches = list(Dataset.objects.filter(system=system, role=DatasetRole.PRODUCTION)
                   .select_related("created_by").order_by("-created_at")[:PANEL_BATCHES])
    schedule = (DriftSchedule.objects.filter(system=system).select_related("version", "periodic_task__crontab")
                .first())
    recommendations = list(retraining_recommendations(system=system, status="unresolved"))
    estimates = estimate_history(system=system)
    return {
        "latest": latest,
        "batches": batches,
        "schedule": schedule,
        "recommendations": recommendations,
        "estimates": estimates,
        "estimate_term": glossary.term("estimated_accuracy", KIND),
        "can_upload": can(user, "dataset.register", system),
        "can_review": can(user, "audit.request", system),
        "can_accept": can(user, "version.register", system),
        "can_dismiss": can(user, "approval.revoke", system),
        "presets": PRESETS,
        "preset": _preset_of(schedule),
    }


def estimate_history(*, system: AISystem, limit: int = PANEL_ESTIMATES) -> list[dict]:
    """The latest labelled batches' estimated accuracy beside their realized accuracy, newest
    first, in one query that reads only those numbers out of the stored results."""
    judged = Q(**{f"{ESTIMATE}within_interval": True}) | Q(**{f"{ESTIMATE}within_interval": False})
    rows = (AuditRun.objects.filter(judged, system=system, kind=KIND, status=RunStatus.SUCCEEDED)
            .order_by("-created_at")
            .values("id", "created_at", "version__version", "results__batch__name",
                    *(ESTIMATE + key for key in ("estimate", "low", "high", "realized", "within_interval")))
            [:limit])
    return [{"run_id": r["id"], "created_at": r["created_at"], "version": r["version__version"],
             "batch": r["results__batch__name"],
             **{key: r[ESTIMATE + key] for key in ("estimate", "low", "high", "realized", "within_interval")}}
            for r in rows]


def _preset_of(schedule) -> str:
    """Which choice of the schedule form matches the current schedule (weekly for a new one)."""
    if schedule is None:
        return "@weekly"
    return next((value for value, _, expression in PRESETS if expression == schedule.crontab), "custom")
