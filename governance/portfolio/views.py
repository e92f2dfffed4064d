"""The pages that read across domains: the portfolio, a system's page, the approval pages, the
inbox and the glossary. Thin: check access, call the selectors, render."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from audits.drift.selectors import system_drift_panel
from audits.reports.selectors import reports_for_system
from audits.runs.registry import KINDS
from audits.runs.selectors import runs_for_system
from governance.approvals.forms import DecisionForm
from governance.approvals.models import ApprovalRequest
from governance.approvals.risk import inconclusive_audits
from governance.approvals.selectors import (
    approval_options,
    approval_request_detail,
    approval_requests_list,
    approvals_awaiting,
)
from governance.approvals.services import approval_decide
from governance.catalog.models import Framework
from governance.catalog.selectors import controls_heatmap, system_assessments_grouped
from governance.core import glossary
from governance.core.access import role_required
from governance.core.charts import line_chart
from governance.core.exceptions import ApplicationError
from governance.core.forms import form_error
from governance.core.roles import Role, can, role_label
from governance.gate.services import gate_evaluate
from governance.incidents.selectors import system_incidents_panel
from governance.portfolio.forms import PAGE_SIZES, PortfolioFilterForm
from governance.portfolio.selectors import (
    GATE_FILTERS,
    PORTFOLIO_SORTS,
    inbox,
    portfolio,
    portfolio_summary,
    role_kinds,
    system_approval_timeline,
    system_approvals_panel,
    system_audit_history,
)
from governance.registry.models import AISystem, LifecycleStage, RiskTier
from governance.registry.selectors import system_versions, version_lineage, version_scope



@role_required
def system_list(request):
    """The portfolio: where do we stand, and what needs attention?"""
    g = request.GET
    form = PortfolioFilterForm(g)
    filters = form.filters()
    systems = portfolio(**filters)
    size = form.page_size()
    page = Paginator(systems, PAGE_SIZES[size] or max(len(systems), 1)).get_page(g.get("page"))
    systems.show(page.object_list)  # coverage and the gate's reasons, for the rows shown only
    query = g.copy()
    query.pop("page", None)
    return render(request, "portfolio/system_list.html", {
        "page": page, "systems": page.object_list, "summary": portfolio_summary(systems), "f": filters,
        "tiers": RiskTier.choices, "stages": LifecycleStage.choices, "sorts": PORTFOLIO_SORTS.items(),
        "gate_filters": GATE_FILTERS.items(), "size": size, "query": query.urlencode(),
        "kinds": {k: v.label for k, v in KINDS.items()},
        "can_register": can(request.user, "system.create"),
    })


def _run_ticks(times: list[datetime]) -> list[tuple[int, str]]:
    """Up to six labels along the x axis, at run positions: the time of day when the runs
    span less than two days (several runs a day are common), else the date."""
    if not times:
        return []
    short = (max(times) - min(times)).total_seconds() < 2 * 86400
    fmt = "%m-%d %H:%M" if short else "%Y-%m-%d"
    step = max(1, -(-len(times) // 6))
    return [(i + 1, times[i].astimezone(dt_timezone.utc).strftime(fmt)) for i in range(0, len(times), step)]


def history_chart(kind: str, runs: list[dict]) -> dict | None:
    """One line per checked metric: its worst value across slices in each run, over time (and
    the headline numbers the kind reads from its stored results, for a drift review)."""
    series: dict[str, list] = {}
    limits: dict[str, str] = {}
    spec = KINDS.get(kind)
    # Runs sit at their positions in time order, so runs on one day do not pile into one column.
    runs = sorted(runs, key=lambda r: r["at"])
    for x, run in enumerate(runs, 1):
        worst: dict[str, float] = {}
        if run.get("results") and spec and spec.history_points:
            for metric, value in spec.history_points(run["results"]).items():
                worst[metric] = value
                limits.setdefault(metric, spec.history_limits.get(metric, ""))
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
    svg = line_chart(
        [{"name": glossary.term(m, kind).label, "points": pts} for m, pts in series.items()],
        title=f"{glossary.audit(kind).label}: worst slice per run over time",
        x_label="Runs, oldest to newest (finished, UTC)", y_label="Value", y_range=(0, 1) if in_unit else None,
        x_range=(0, 2) if len(runs) == 1 else (0.5, len(runs) + 0.5),
        x_ticks=_run_ticks([r["at"] for r in runs]), height=300,
    )
    return {"svg": mark_safe(svg), "latest": latest}  # noqa: S308 - charts escape their text


@role_required
def system_detail(request, slug):
    system = get_object_or_404(AISystem.objects.select_related("owner"), slug=slug)
    scope = version_scope(system=system, label=request.GET.get("version"))
    grouped = system_assessments_grouped(system=system, version=scope)
    versions = list(system_versions(system=system))
    history = system_audit_history(system=system)
    watched = [k for k, spec in KINDS.items() if spec.watched]
    charts = []
    for kind in sorted(history, key=lambda k: (k not in watched, k)):
        chart = history_chart(kind, history[kind])
        if chart:
            charts.append({"kind": kind, "label": glossary.audit(kind).label, "runs": len(history[kind]), **chart})
    context = {
        "system": system,
        "scope": scope,
        "grouped": grouped,
        "heatmap": controls_heatmap(grouped),
        "frameworks": Framework.choices,
        "versions": versions,
        "lineage": version_lineage(versions),
        "runs": runs_for_system(system=system)[:20],
        "history_charts": charts,
        "timeline": system_approval_timeline(system=system),
        "history_kinds": [glossary.audit(k).label for k in watched if k not in history],
        "kinds": KINDS.values(),
        "can_request_audit": can(request.user, "audit.request", system),
        "can_generate_report": can(request.user, "report.generate", system),
        "statuses": glossary.STATUSES,
        # The panels of the page, each read by its own app's selector.
        "approvals": system_approvals_panel(system=system, versions=versions, user=request.user),
        "reports": reports_for_system(system=system),
        "drift_panel": system_drift_panel(system=system, user=request.user),
        "incidents_panel": system_incidents_panel(system=system, user=request.user),
    }
    return render(request, "portfolio/system_detail.html", context)


@role_required
def glossary_page(request):
    """Every metric and audit explained in plain language (the same words as the wizard and reports)."""
    return render(request, "portfolio/glossary.html", {
        "audits": sorted(glossary.AUDITS.items(), key=lambda kv: kv[1].label), "metrics": sorted(glossary.METRICS.items(), key=lambda kv: kv[1].label),
        "outcomes": glossary.OUTCOMES.items(), "statuses": glossary.STATUSES.items(),
        "concepts": sorted(glossary.CONCEPTS.items(), key=lambda kv: kv[1][0].lower()),
    })


def _detail(pk) -> ApprovalRequest:
    try:
        return approval_request_detail(pk=pk)
    except ApprovalRequest.DoesNotExist:
        raise Http404("No such approval request") from None


@role_required
def approval_list(request):
    status = request.GET.get("status", "")
    rows = approval_requests_list(status=status)
    return render(request, "portfolio/approval_list.html", {
        "awaiting": approvals_awaiting(user=request.user),
        "requests": Paginator(rows, 50).get_page(request.GET.get("page")),
        "status": status, "statuses": ApprovalRequest._meta.get_field("status").choices,
    })


def _approval_page(request, req, *, status=200, posted=None):
    system = req.version.system
    answer = gate_evaluate(system=system, version=req.version, environment=req.environment)
    options = approval_options(user=request.user, request=req)
    stages = []
    decisions = list(req.decisions.all())
    for number, roles in enumerate(req.stages or [], start=1):
        stages.append({
            "number": number, "current": req.is_pending and number == req.current_stage,
            "roles": [{"role": r, "label": role_label(r),
                       "decision": next((d for d in decisions if d.stage == number and d.role == r), None)}
                      for r in roles],
        })
    return render(request, "portfolio/approval_detail.html", {
        "req": req, "system": system, "gate": answer, "options": options, "stages": stages, "posted": posted or {},
        "latest_report": next((r for r in reports_for_system(system=system) if r.version_id == req.version_id
                               and r.status == "signed"), None),
        "inconclusive": inconclusive_audits(user=request.user, version=req.version, environment=req.environment,
                                                  answer=answer),
        "role_labels": {r: role_label(r) for r in options.roles},
        "can_revoke": can(request.user, "approval.revoke", system) and req.status in {
            "draft", "submitted", "in_review", "approved"},
        "can_submit": req.status == "draft" and can(request.user, "approval.request", system),
    }, status=status)


@role_required
def approval_detail(request, pk):
    return _approval_page(request, _detail(pk))


def _decide(request, req) -> str | None:
    """Record the posted decision on `req`; the service enforces roles, stages, segregation of
    duties and the acknowledgement of policy gaps. None, or what was refused and why."""
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return form_error(form)
    data = form.cleaned_data
    try:
        approval_decide(actor=request.user, request=req, decision=data["decision"], comment=data["comment"],
                        role=data["role"] or None, acknowledge=data["acknowledge"])
    except ApplicationError as exc:
        return exc.message
    return None


@role_required
@require_POST
def approval_decide_page(request, pk):
    """A decision from the approval page. Refused: the page again, 400, the error and what was typed."""
    error = _decide(request, _detail(pk))
    if error:
        messages.error(request, error)
        return _approval_page(request, _detail(pk), status=400, posted=request.POST)
    messages.success(request, "Your decision is recorded.")
    return redirect("approval-detail", pk=pk)


def _focus(roles: set[str]) -> tuple[list[str], bool]:
    """The audit kinds to show first for these roles, and whether to show the executive summary."""
    kinds: list[str] = []
    for role in sorted(roles):
        for kind in role_kinds(role):
            if kind not in kinds:
                kinds.append(kind)
    return kinds, Role.EXECUTIVE_APPROVER in roles or not kinds


def _inbox(request, *, status=200, posted=None, refused=None):
    data = inbox(user=request.user)
    kinds, summary = _focus(data["roles"])
    for r in data["awaiting"]:
        r.focus = [{"kind": k, "label": glossary.audit(k).label, "why": glossary.audit(k).matters,
                    "run": r.runs.get(k)} for k in kinds]
        r.others = [run for kind, run in sorted(r.runs.items()) if kind not in kinds]
        r.role_choices = [(role, Role(role).label) for role in approval_options(
            user=request.user, request=r).roles]
        r.posted = posted if r.pk == refused else {}
    return render(request, "portfolio/inbox.html", {
        **data, "focus_kinds": [glossary.audit(k).label for k in kinds], "summary": summary,
        "role_labels": [Role(r).label for r in sorted(data["roles"])],
        "kind_labels": {k: v.label for k, v in KINDS.items()},
    }, status=status)


@role_required
def inbox_page(request):
    return _inbox(request)


@role_required
@require_POST
def inbox_decide(request, pk):
    """Approve or reject in one step. Refused: the inbox again, 400, the error on top and what was typed kept."""
    req = get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)
    error = _decide(request, req)
    name = f"{req.version.system.name} {req.version.version}"
    if error:
        messages.error(request, f"{name}: {error}")
        return _inbox(request, status=400, posted=request.POST, refused=req.pk)
    verb = "approved" if request.POST.get("decision") == "approve" else "rejected"
    messages.success(request, f"You {verb} {name} for {req.environment}. The owner and the next approvers were told.")
    return redirect("inbox")
