"""Pages for approvals and the audit trail. Thin: check access, call one service or selector, render."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from datetime import timezone as dt_timezone

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audits.models import AuditRun
from governance import approvals, gate, risk
from governance.exceptions import ApplicationError
from governance.models import AISystem, ApprovalRequest, AuditLogEntry, ModelVersion
from governance.policies import policy_for
from governance.roles import can, require, role_label
from governance.trail import trail_jsonl, trail_verify


def _detail(pk) -> ApprovalRequest:
    try:
        return approvals.approval_request_detail(pk=pk)
    except ApprovalRequest.DoesNotExist:
        raise Http404("No such approval request") from None


@login_required
def approval_list(request):
    status = request.GET.get("status", "")
    rows = approvals.approval_requests_list(status=status)
    return render(request, "approvals/list.html", {
        "awaiting": approvals.approvals_awaiting(user=request.user),
        "requests": Paginator(rows, 50).get_page(request.GET.get("page")),
        "status": status, "statuses": ApprovalRequest._meta.get_field("status").choices,
    })


@login_required
def approval_detail(request, pk):
    req = _detail(pk)
    system = req.version.system
    answer = gate.gate_evaluate(system=system, version=req.version, environment=req.environment)
    options = approvals.approval_options(user=request.user, request=req)
    stages = []
    decisions = list(req.decisions.all())
    for number, roles in enumerate(req.stages or [], start=1):
        stages.append({
            "number": number, "current": req.is_pending and number == req.current_stage,
            "roles": [{"role": r, "label": role_label(r),
                       "decision": next((d for d in decisions if d.stage == number and d.role == r), None)}
                      for r in roles],
        })
    return render(request, "approvals/detail.html", {
        "req": req, "system": system, "gate": answer, "options": options, "stages": stages,
        "inconclusive": risk.inconclusive_audits(user=request.user, version=req.version, environment=req.environment,
                                                  answer=answer),
        "role_labels": {r: role_label(r) for r in options.roles},
        "can_revoke": can(request.user, "approval.revoke", system) and req.status in {
            "draft", "submitted", "in_review", "approved"},
        "can_submit": req.status == "draft" and can(request.user, "approval.request", system),
    })


def _back(request, fallback):
    return redirect(request.POST.get("next") or fallback)


@login_required
@require_POST
def approval_create(request, slug):
    system = get_object_or_404(AISystem, slug=slug)
    version = ModelVersion.objects.filter(system=system, pk=request.POST.get("version") or None).first()
    if version is None:
        messages.error(request, "version: choose one of this system's versions.")
        return redirect("system-detail", slug=slug)
    try:
        req = approvals.approval_request_create(
            actor=request.user, version=version, environment=request.POST.get("environment", ""),
            justification=request.POST.get("justification", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("system-detail", slug=slug)
    messages.success(request, f"Approval requested for {version.version} in {req.environment}; the approvers were told.")
    return redirect("approval-detail", pk=req.pk)


@login_required
@require_POST
def approval_submit(request, pk):
    req = get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)
    try:
        approvals.approval_request_submit(actor=request.user, request=req)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("approval-detail", pk=pk)


@login_required
@require_POST
def approval_decide(request, pk):
    req = get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)
    try:
        approvals.approval_decide(actor=request.user, request=req, decision=request.POST.get("decision", ""),
                                  comment=request.POST.get("comment", ""), role=request.POST.get("role") or None)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Your decision is recorded.")
    return redirect("approval-detail", pk=pk)


@login_required
@require_POST
def approval_revoke(request, pk):
    req = get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)
    try:
        approvals.approval_revoke(actor=request.user, request=req, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The approval is revoked; the owner and approvers were told.")
    return redirect("approval-detail", pk=pk)


BAD_DATE = "accept until: enter a date as YYYY-MM-DD, or leave it empty for the policy's maximum."
NO_RUN = "No such audit run of this version."


def _accept_until(value: str, *, run, policy) -> datetime | None:
    """The end (UTC) of the chosen day; on the last allowed day, the limit itself. Empty: None."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ApplicationError(BAD_DATE, field="expires_at") from None
    end = datetime.combine(day, time.max, tzinfo=dt_timezone.utc)
    limit = risk.acceptance_limit(run, policy)
    return limit if day == limit.astimezone(dt_timezone.utc).date() else end


@login_required
@require_POST
def approval_accept_risk(request, pk):
    req = get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)
    try:
        run_id = uuid.UUID(request.POST.get("run", ""))
    except ValueError:
        raise Http404(NO_RUN) from None
    run = get_object_or_404(AuditRun.objects.select_related("version__system"), pk=run_id, version=req.version)
    policy = policy_for(risk_tier=req.version.system.risk_tier, environment=req.environment)
    try:
        acceptance = risk.risk_accept(
            actor=request.user, run=run, environment=req.environment,
            justification=request.POST.get("justification", ""),
            expires_at=_accept_until(request.POST.get("expires_at", ""), run=run, policy=policy),
            role=request.POST.get("role") or None)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"You accepted the inconclusive {run.kind} audit for {req.environment} "
                                  f"until {acceptance.expires_at:%Y-%m-%d %H:%M} UTC.")
    return redirect("approval-detail", pk=pk)


@login_required
def trail_list(request):
    try:
        require(request.user, "trail.view")
    except ApplicationError as exc:
        return render(request, "approvals/forbidden.html", {"message": exc.message}, status=403)
    action = request.GET.get("action", "").strip()
    rows = AuditLogEntry.objects.order_by("-seq")
    if action:
        rows = rows.filter(action__startswith=action)
    verification = trail_verify() if request.GET.get("verify") else None
    return render(request, "approvals/trail.html", {
        "entries": Paginator(rows, 100).get_page(request.GET.get("page")), "action": action,
        "verification": verification, "can_export": can(request.user, "trail.export"),
    })


@login_required
def trail_download(request):
    try:
        require(request.user, "trail.export")
    except ApplicationError as exc:
        return render(request, "approvals/forbidden.html", {"message": exc.message}, status=403)
    response = StreamingHttpResponse(trail_jsonl(), content_type="application/jsonl")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.jsonl"'
    return response

