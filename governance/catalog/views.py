"""Control pages: one control across systems, and one control on one system (where a compliance
or risk officer records a status and notes). Thin: check access, call one selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from governance.catalog.forms import AssessmentForm
from governance.catalog.models import Control, ControlAssessment
from governance.catalog.selectors import (
    assessment_detail,
    control_partners,
    partner_assessments,
)
from governance.catalog.selectors import (
    control_detail as select_control,
)
from governance.catalog.services import assessment_update
from governance.core import glossary
from governance.core.access import role_required
from governance.core.exceptions import ApplicationError
from governance.core.forms import form_error
from governance.core.roles import can
from governance.registry.models import AISystem
from governance.registry.selectors import version_scope


@role_required
def system_control(request, slug, framework, ref):
    """Drill-down from a heatmap cell: one control on one system, with all its evidence; a
    compliance or risk officer records a status and notes here (governance/catalog/services.py)."""
    system = get_object_or_404(AISystem, slug=slug)
    scope = version_scope(system=system, label=request.GET.get("version"))
    try:
        assessment = assessment_detail(system=system, framework=framework, ref=ref, version=scope)
    except ControlAssessment.DoesNotExist:
        raise Http404("No such control on this system") from None
    if request.method == "POST":
        # Post, then redirect: the page is reloaded with the status, or the error, as a message.
        form = AssessmentForm(request.POST)
        try:
            if not form.is_valid():
                raise ApplicationError(form_error(form))
            assessment_update(actor=request.user, assessment=assessment, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            who = assessment.owner
            owner = f", owned by {who.get_full_name() or who.get_username()}" if who else ""
            messages.success(request, f"{assessment.control.ref} on {system.name} is now "
                                      f"{assessment.get_status_display().lower()}{owner}.")
        return redirect(request.get_full_path())
    form = AssessmentForm(initial={"status": assessment.status, "notes": assessment.notes, "owner": assessment.owner_id})
    return render(request, "catalog/assessment.html", {
        "system": system, "a": assessment, "control": assessment.control, "scope": scope,
        "versions": system.versions.order_by("-created_at").only("id", "version"),
        "partners": partner_assessments(system=system, control=assessment.control),
        "status_text": glossary.status_text(assessment.shown_status),
        "form": form,
        "can_update": can(request.user, "assessment.update", system),
    })


@role_required
def control_detail(request, framework, ref):
    try:
        control = select_control(framework=framework, ref=ref)
    except Control.DoesNotExist:
        raise Http404("No such control") from None
    assessments = control.assessments.select_related("system").prefetch_related("evidence").order_by("system__name")
    return render(
        request,
        "catalog/control.html",
        {"control": control, "partners": control_partners(control), "assessments": assessments},
    )
