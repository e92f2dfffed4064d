"""The approval page's forms: request, submit, decide, revoke, accept an inconclusive result.
Thin: parse, call one service, tell the user what happened, go back to the approval page
(governance/portfolio/ renders it, with the gate's answer)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from datetime import timezone as dt_timezone

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from audits.runs.models import AuditRun
from governance.approvals import risk, services
from governance.approvals.models import ApprovalRequest
from governance.core.exceptions import ApplicationError
from governance.policies.services import policy_for
from governance.registry.models import AISystem, ModelVersion


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
        req = services.approval_request_create(
            actor=request.user, version=version, environment=request.POST.get("environment", ""),
            justification=request.POST.get("justification", ""), acknowledge=request.POST.get("acknowledge") == "on")
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
        services.approval_request_submit(actor=request.user, request=req)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("approval-detail", pk=pk)


@login_required
@require_POST
def approval_revoke(request, pk):
    req = get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)
    try:
        services.approval_revoke(actor=request.user, request=req, reason=request.POST.get("reason", ""))
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
