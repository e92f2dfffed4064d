"""Drift pages: the forms of the system page's drift panel (templates/drift/_panel.html).

Thin: parse, call one service, tell the user what happened, go back to the system page.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from audits.drift import services as drift
from audits.drift.forms import BatchUploadForm, ResolveForm, ReviewForm, ScheduleForm
from audits.drift.models import RetrainingRecommendation
from governance.core.access import role_required
from governance.core.exceptions import ApplicationError
from governance.core.forms import form_error
from governance.registry.models import AISystem


def _back(system: AISystem):
    return redirect(reverse("system-detail", args=[system.slug]) + "#drift")


def _valid(request, form):
    """The cleaned form, or None after telling the user its first error."""
    if form.is_valid():
        return form.cleaned_data
    messages.error(request, form_error(form))
    return None


@role_required
@require_POST
def batch_upload(request, slug):
    system = get_object_or_404(AISystem, slug=slug)
    fields = _valid(request, BatchUploadForm(request.POST, request.FILES, system=system))
    if fields is None:
        return _back(system)
    try:
        result = drift.production_batch_register(
            actor_or_token=request.user, system=system, version=fields["version"], upload=fields["file"],
            label_column=fields["label_column"] or None, name=fields["name"], review=fields["review"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back(system)
    if result.review is not None:
        return redirect("run-detail", run_id=result.review.pk)
    messages.success(request, f"Stored {result.batch.name} ({result.batch.n_rows} rows).")
    return _back(system)


@role_required
@require_POST
def review_request(request, slug):
    system = get_object_or_404(AISystem, slug=slug)
    fields = _valid(request, ReviewForm(request.POST, system=system))
    if fields is None:
        return _back(system)
    try:
        run = drift.drift_review_request(actor=request.user, version=fields["version"], batch=fields["batch"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back(system)
    return redirect("run-detail", run_id=run.pk)


@role_required
@require_POST
def schedule_set(request, slug):
    system = get_object_or_404(AISystem, slug=slug)
    form = ScheduleForm(request.POST, system=system)
    fields = _valid(request, form)
    if fields is None:
        return _back(system)
    version = fields["version"]
    try:
        schedule = drift.drift_schedule_set(actor=request.user, system=system, version=version,
                                            crontab=form.expression(), enabled=fields["enabled"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back(system)
    state = "on" if schedule.enabled else "paused"
    messages.success(request, f"Drift reviews of {version.version}: '{schedule.crontab}' (UTC), {state}.")
    return _back(system)


@role_required
@require_POST
def recommendation_resolve(request, pk):
    rec = get_object_or_404(RetrainingRecommendation.objects.select_related("version__system"), pk=pk)
    form = ResolveForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError(form_error(form))
        drift.retraining_recommendation_resolve(actor=request.user, recommendation=rec,
                                                status=form.cleaned_data["status"], note=form.cleaned_data["note"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Retraining recommendation updated.")
    return _back(rec.version.system)
