"""The approval page's forms: request, submit, decide, revoke, accept an inconclusive result.
Thin: parse, call one service, tell the user what happened, go back to the approval page
(governance/portfolio/ renders it, with the gate's answer)."""

from __future__ import annotations

from datetime import date, datetime, time
from datetime import timezone as dt_timezone

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from audits.runs.models import AuditRun
from governance.approvals import risk, services
from governance.approvals.forms import AcceptRiskForm, RequestForm, RevokeForm
from governance.approvals.models import ApprovalRequest
from governance.core.access import role_required
from governance.core.exceptions import ApplicationError
from governance.core.forms import form_error
from governance.policies.services import policy_for
from governance.registry.models import AISystem, ModelVersion


@role_required
@require_POST
def approval_create(request, slug):
    system = get_object_or_404(AISystem, slug=slug)
    form = RequestForm(request.POST)
    version = form.is_valid() and ModelVersion.objects.filter(system=system, pk=form.cleaned_data["version"]).first()
    if not version:
        messages.error(request, form_error(form) or f"version: {NO_VERSION}")
        return redirect("system-detail", slug=slug)
    try:
        req = services.approval_request_create(
            actor=request.user, version=version, environment=form.cleaned_data["environment"],
            justification=form.cleaned_data["justification"], acknowledge=form.cleaned_data["acknowledge"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("system-detail", slug=slug)
    messages.success(request, f"Approval requested for {version.version} in {req.environment}; the approvers were told.")
    return redirect("approval-detail", pk=req.pk)


@role_required
@require_POST
def approval_submit(request, pk):
    req = get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)
    try:
        services.approval_request_submit(actor=request.user, request=req)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("approval-detail", pk=pk)


@role_required
@require_POST
def approval_revoke(request, pk):
    req = get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)
    form = RevokeForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError(form_error(form))
        services.approval_revoke(actor=request.user, request=req, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The approval is revoked; the owner and approvers were told.")
    return redirect("approval-detail", pk=pk)


NO_RUN = "No such audit run of this version."
NO_VERSION = "choose one of this system's versions."


def _accept_until(day: date | None, *, run, policy) -> datetime | None:
    """The end (UTC) of the chosen day; on the last allowed day, the limit itself. Empty: None."""
    if day is None:
        return None
    end = datetime.combine(day, time.max, tzinfo=dt_timezone.utc)
    limit = risk.acceptance_limit(run, policy)
    return limit if day == limit.astimezone(dt_timezone.utc).date() else end


@role_required
@require_POST
def approval_accept_risk(request, pk):
    req = get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)
    form = AcceptRiskForm(request.POST)
    valid = form.is_valid()
    if "run" not in form.cleaned_data:
        raise Http404(NO_RUN)
    run = get_object_or_404(AuditRun.objects.select_related("version__system"), pk=form.cleaned_data["run"],
                            version=req.version)
    policy = policy_for(risk_tier=req.version.system.risk_tier, environment=req.environment)
    try:
        if not valid:
            raise ApplicationError(form_error(form))
        fields = form.cleaned_data
        acceptance = risk.risk_accept(
            actor=request.user, run=run, environment=req.environment, justification=fields["justification"],
            expires_at=_accept_until(fields["expires_at"], run=run, policy=policy), role=fields["role"] or None)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"You accepted the inconclusive {run.kind} audit for {req.environment} "
                                  f"until {acceptance.expires_at:%Y-%m-%d %H:%M} UTC.")
    return redirect("approval-detail", pk=pk)
