"""Server-rendered pages. Thin: check access, call one selector, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from audits.registry import KINDS
from audits.selectors import runs_for_system
from governance.models import AISystem, Control, Framework, RiskTier
from governance.roles import can
from governance.selectors import (
    control_detail as select_control,
    control_partners,
    system_assessments_grouped,
    system_list_with_coverage,
    system_versions,
)


def home(request):
    return redirect("system-list")


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def system_list(request):
    search = request.GET.get("q", "").strip()
    tier = request.GET.get("tier", "")
    systems = system_list_with_coverage(search=search, risk_tier=tier if tier in RiskTier.values else "")
    return render(request, "systems/list.html", {"systems": systems, "q": search, "tier": tier, "tiers": RiskTier.choices})


@login_required
def system_detail(request, slug):
    system = get_object_or_404(AISystem.objects.select_related("owner"), slug=slug)
    context = {
        "system": system,
        "grouped": system_assessments_grouped(system=system),
        "frameworks": Framework.choices,
        "versions": system_versions(system=system),
        "runs": runs_for_system(system=system)[:20],
        "kinds": KINDS.values(),
        "can_request_audit": can(request.user, "audit.request", system),
    }
    return render(request, "systems/detail.html", context)


@login_required
def control_detail(request, framework, ref):
    try:
        control = select_control(framework=framework, ref=ref)
    except Control.DoesNotExist:
        raise Http404("No such control") from None
    assessments = control.assessments.select_related("system").prefetch_related("evidence").order_by("system__name")
    return render(
        request,
        "controls/detail.html",
        {"control": control, "partners": control_partners(control), "assessments": assessments},
    )
