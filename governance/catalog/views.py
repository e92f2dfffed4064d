"""Control pages: one control across systems, and one control on one system (where a compliance
or risk officer records a status and notes). Thin: check access, call one selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from governance.catalog.models import AssessmentStatus, Control, ControlAssessment
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
from governance.core.exceptions import ApplicationError
from governance.core.roles import can
from governance.registry.models import AISystem
from governance.registry.selectors import version_scope


@login_required
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
        try:
            assessment_update(actor=request.user, assessment=assessment, status=request.POST.get("status") or None,
                              notes=request.POST.get("notes", "").strip())
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{assessment.control.ref} on {system.name} is now "
                                      f"{assessment.get_status_display().lower()}.")
        return redirect(request.path)
    return render(request, "catalog/assessment.html", {
        "system": system, "a": assessment, "control": assessment.control, "scope": scope,
        "versions": system.versions.order_by("-created_at").only("id", "version"),
        "partners": partner_assessments(system=system, control=assessment.control),
        "status_text": glossary.status_text(assessment.shown_status),
        "statuses": AssessmentStatus.choices,
        "can_update": can(request.user, "assessment.update", system),
    })


@login_required
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
