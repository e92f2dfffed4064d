"""Server-rendered pages. Thin: check access, call one selector, render."""

from __future__ import annotations

from datetime import datetime, timezone as dt_timezone

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe

from audits.registry import KINDS
from audits.reports.charts import line_chart
from audits.selectors import runs_for_system
from governance import glossary
from governance.exceptions import ApplicationError
from governance.models import (
    AISystem,
    AssessmentStatus,
    Control,
    ControlAssessment,
    Framework,
    LifecycleStage,
    RiskTier,
)
from governance.roles import can
from governance.selectors import (
    GATE_FILTERS,
    PORTFOLIO_SORTS,
    assessment_detail,
    control_detail as select_control,
    control_partners,
    controls_heatmap,
    partner_assessments,
    portfolio,
    portfolio_summary,
    system_approval_timeline,
    system_assessments_grouped,
    system_audit_history,
    system_versions,
    version_lineage,
)
from governance.services import assessment_update

PAGE_SIZES = {"50": 50, "200": 200, "all": None}


def home(request):
    return redirect("system-list")


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def system_list(request):
    """The portfolio: where do we stand, and what needs attention?"""
    g = request.GET
    filters = {
        "search": g.get("q", "").strip(),
        "risk_tier": g.get("tier", "") if g.get("tier", "") in RiskTier.values else "",
        "stage": g.get("stage", "") if g.get("stage", "") in LifecycleStage.values else "",
        "gate": g.get("gate", "") if g.get("gate", "") in GATE_FILTERS else "",
        "attention": g.get("attention") == "1",
        "sort": g.get("sort", "name") if g.get("sort", "name") in PORTFOLIO_SORTS else "name",
    }
    systems = portfolio(**filters)
    size = g.get("size", "50") if g.get("size", "50") in PAGE_SIZES else "50"
    page = Paginator(systems, PAGE_SIZES[size] or max(len(systems), 1)).get_page(g.get("page"))
    systems.show(page.object_list)  # coverage and the gate's reasons, for the rows shown only
    query = g.copy()
    query.pop("page", None)
    return render(request, "systems/list.html", {
        "page": page, "systems": page.object_list, "summary": portfolio_summary(systems), "f": filters,
        "tiers": RiskTier.choices, "stages": LifecycleStage.choices, "sorts": PORTFOLIO_SORTS.items(),
        "gate_filters": GATE_FILTERS.items(), "size": size, "query": query.urlencode(),
        "kinds": {k: v.label for k, v in KINDS.items()},
        "can_register": can(request.user, "system.create"),
    })


def _ticks(points):
    """Up to five date labels along the x axis (days since the epoch)."""
    xs = sorted({x for x, _ in points})
    if not xs:
        return None
    step = max(1, len(xs) // 4)
    chosen = xs[::step][:5]
    return [(x, datetime.fromtimestamp(x * 86400, tz=dt_timezone.utc).strftime("%Y-%m-%d")) for x in chosen]


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def drift_points(results: dict) -> dict[str, float]:
    """A drift review's headline numbers: the highest feature PSI, the prediction PSI and the
    accuracy drop on labelled batch rows (when there were labels)."""
    points = {}
    psis = [f.get("psi") for f in results.get("features") or [] if _number(f.get("psi"))]
    if psis:
        points["psi"] = max(psis)
    prediction = results.get("prediction") or {}
    if _number(prediction.get("psi")):
        points["prediction_drift"] = prediction["psi"]
    performance = results.get("performance") or {}
    if _number(performance.get("drop")):
        points["performance_drop"] = performance["drop"]
    return points


DRIFT_LIMITS = {"psi": "below 0.1 is stable, 0.1-0.25 a moderate shift, above 0.25 a major one",
                "prediction_drift": "read like PSI: above 0.25 is a major shift"}


def history_chart(kind: str, runs: list[dict]) -> dict | None:
    """One line per checked metric: its worst value across slices in each run, over time."""
    series: dict[str, list] = {}
    limits: dict[str, str] = {}
    for run in runs:
        x = run["at"].timestamp() / 86400
        worst: dict[str, float] = {}
        if run.get("results") and kind == "drift":
            for metric, value in drift_points(run["results"]).items():
                worst[metric] = value
                limits.setdefault(metric, DRIFT_LIMITS.get(metric, ""))
        for c in run["checks"]:
            value, metric = c.get("value"), c.get("metric")
            if not isinstance(value, (int, float)) or not metric:
                continue
            op = c.get("operator", "<=")
            if metric not in worst:
                worst[metric] = value
            else:  # the slice closest to failing: highest for a maximum, lowest for a minimum
                worst[metric] = min(worst[metric], value) if op in (">=", "min") else max(worst[metric], value)
            limits[metric] = glossary.threshold_text(op, c.get("threshold"))
        for metric, value in worst.items():
            series.setdefault(metric, []).append((x, value))
    if not series:
        return None
    latest = [{"label": glossary.term(m, kind).label, "value": pts[-1][1], "limit": limits.get(m, "")}
              for m, pts in series.items()]
    values = [y for pts in series.values() for _, y in pts]
    in_unit = all(0 <= v <= 1 for v in values)
    xs = [x for pts in series.values() for x, _ in pts]
    x_range = (min(xs) - 1, max(xs) + 1) if max(xs) - min(xs) < 2 else (min(xs) - 0.5, max(xs) + 0.5)
    svg = line_chart(
        [{"name": glossary.term(m, kind).label, "points": pts} for m, pts in series.items()],
        title=f"{glossary.audit(kind).label}: worst slice per run over time", x_label="Run finished (UTC)",
        y_label="Value", y_range=(0, 1) if in_unit else None, x_range=x_range,
        x_ticks=_ticks([p for pts in series.values() for p in pts]), height=300,
    )
    return {"svg": mark_safe(svg), "latest": latest}  # noqa: S308 - charts escape their text


@login_required
def system_detail(request, slug):
    system = get_object_or_404(AISystem.objects.select_related("owner"), slug=slug)
    grouped = system_assessments_grouped(system=system)
    versions = list(system_versions(system=system))
    history = system_audit_history(system=system)
    charts = []
    for kind in sorted(history, key=lambda k: (k not in ("fairness", "drift"), k)):
        chart = history_chart(kind, history[kind])
        if chart:
            charts.append({"kind": kind, "label": glossary.audit(kind).label, "runs": len(history[kind]), **chart})
    context = {
        "system": system,
        "grouped": grouped,
        "heatmap": controls_heatmap(grouped),
        "frameworks": Framework.choices,
        "versions": versions,
        "lineage": version_lineage(versions),
        "runs": runs_for_system(system=system)[:20],
        "history_charts": charts,
        "timeline": system_approval_timeline(system=system),
        "history_kinds": [glossary.audit(k).label for k in ("fairness", "drift") if k not in history],
        "kinds": KINDS.values(),
        "can_request_audit": can(request.user, "audit.request", system),
        "can_generate_report": can(request.user, "report.generate", system),
        "statuses": glossary.STATUSES,
    }
    return render(request, "systems/detail.html", context)


@login_required
def system_control(request, slug, framework, ref):
    """Drill-down from a heatmap cell: one control on one system, with all its evidence; a
    compliance or risk officer records a status and notes here (governance.services)."""
    system = get_object_or_404(AISystem, slug=slug)
    try:
        assessment = assessment_detail(system=system, framework=framework, ref=ref)
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
    return render(request, "controls/assessment.html", {
        "system": system, "a": assessment, "control": assessment.control,
        "partners": partner_assessments(system=system, control=assessment.control),
        "status_text": glossary.status_text(assessment.status),
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
        "controls/detail.html",
        {"control": control, "partners": control_partners(control), "assessments": assessments},
    )


@login_required
def glossary_page(request):
    """Every metric and audit explained in plain language (the same words as the wizard and reports)."""
    return render(request, "controls/glossary.html", {
        "audits": sorted(glossary.AUDITS.items(), key=lambda kv: kv[1].label), "metrics": sorted(glossary.METRICS.items(), key=lambda kv: kv[1].label),
        "outcomes": glossary.OUTCOMES.items(), "statuses": glossary.STATUSES.items(),
    })
