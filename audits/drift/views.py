"""Drift pages: the forms of the system page's drift panel (templates/drift/_panel.html).

Thin: parse, call one service, tell the user what happened, go back to the system page.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from audits.drift import services as drift
from audits.drift.models import RetrainingRecommendation
from governance.core.exceptions import ApplicationError
from governance.registry.models import AISystem, Dataset, ModelVersion


def _back(system: AISystem):
    return redirect(reverse("system-detail", args=[system.slug]) + "#drift")


def _version(request, system: AISystem) -> ModelVersion | None:
    return ModelVersion.objects.select_related("system", "eval_dataset", "train_dataset").filter(
        system=system, pk=request.POST.get("version") or None).first()


def _batch(request, system: AISystem) -> Dataset | None:
    """The production batch posted (a rollback target is reviewed on the batch that breached
    the version it replaces); none: the latest. An unknown one is refused, not replaced."""
    value = request.POST.get("batch")
    if not value:
        return None
    try:
        return Dataset.objects.get(system=system, pk=uuid.UUID(value))
    except (ValueError, Dataset.DoesNotExist):
        raise ApplicationError("batch: no such dataset of this system.", field="batch") from None


def _missing_version(request, system):
    messages.error(request, "version: choose one of this system's versions.")
    return _back(system)


@login_required
@require_POST
def batch_upload(request, slug):
    system = get_object_or_404(AISystem, slug=slug)
    version = _version(request, system)
    if version is None:
        return _missing_version(request, system)
    try:
        result = drift.production_batch_register(
            actor_or_token=request.user, system=system, version=version, upload=request.FILES.get("file"),
            label_column=request.POST.get("label_column", "").strip() or None,
            name=request.POST.get("name", "").strip(), review=bool(request.POST.get("review")),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back(system)
    if result.review is not None:
        return redirect("run-detail", run_id=result.review.pk)
    messages.success(request, f"Stored {result.batch.name} ({result.batch.n_rows} rows).")
    return _back(system)


@login_required
@require_POST
def review_request(request, slug):
    system = get_object_or_404(AISystem, slug=slug)
    version = _version(request, system)
    if version is None:
        return _missing_version(request, system)
    try:
        run = drift.drift_review_request(actor=request.user, version=version, batch=_batch(request, system))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back(system)
    return redirect("run-detail", run_id=run.pk)


@login_required
@require_POST
def schedule_set(request, slug):
    system = get_object_or_404(AISystem, slug=slug)
    version = _version(request, system)
    if version is None:
        return _missing_version(request, system)
    crontab = request.POST.get("crontab", "")
    if crontab == "custom":
        crontab = request.POST.get("custom_crontab", "")
    try:
        schedule = drift.drift_schedule_set(actor=request.user, system=system, version=version, crontab=crontab,
                                            enabled=request.POST.get("enabled") == "on")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back(system)
    state = "on" if schedule.enabled else "paused"
    messages.success(request, f"Drift reviews of {version.version}: '{schedule.crontab}' (UTC), {state}.")
    return _back(system)


@login_required
@require_POST
def recommendation_resolve(request, pk):
    rec = get_object_or_404(RetrainingRecommendation.objects.select_related("version__system"), pk=pk)
    try:
        drift.retraining_recommendation_resolve(actor=request.user, recommendation=rec,
                                                status=request.POST.get("status", ""),
                                                note=request.POST.get("note", "").strip())
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Retraining recommendation updated.")
    return _back(rec.version.system)
