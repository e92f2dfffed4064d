"""Read approvals: one request with its decisions, lists, and what waits for a person."""

from __future__ import annotations

from django.db.models import Prefetch

from governance.approvals.models import (
    ApprovalDecision,
    ApprovalRequest,
    ApprovalStatus,
)
from governance.approvals.services import Eligibility, eligibility
from governance.core.roles import DECIDING_ROLES, can, user_roles


def _with_decisions(qs):
    return qs.select_related("version__system__owner", "version__created_by", "requested_by", "policy").prefetch_related(
        Prefetch("decisions", queryset=ApprovalDecision.objects.select_related("user")))


def approval_request_detail(*, pk) -> ApprovalRequest:
    return _with_decisions(ApprovalRequest.objects.filter(pk=pk)).get()


def approval_requests_list(*, system_slug: str = "", version=None, environment: str = "", status: str = ""):
    qs = _with_decisions(ApprovalRequest.objects.all())
    if system_slug:
        qs = qs.filter(version__system__slug=system_slug)
    if version is not None:
        qs = qs.filter(version=version)
    if environment:
        qs = qs.filter(environment=environment)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")


def approval_options(*, user, request: ApprovalRequest) -> Eligibility:
    """May `user` decide `request` now, and as which roles? (For pages: the same rules as the service.)"""
    if not can(user, "approval.decide", request.version.system):
        return Eligibility(False, reason="Your role does not decide approvals.")
    return eligibility(user, request, list(request.decisions.all()))


def approvals_awaiting(*, user) -> list[ApprovalRequest]:
    """Pending requests this person may decide now."""
    if not user_roles(user) & DECIDING_ROLES:
        return []
    pending = _with_decisions(ApprovalRequest.objects.filter(
        status__in=[ApprovalStatus.SUBMITTED, ApprovalStatus.IN_REVIEW])).order_by("submitted_at")
    return [r for r in pending if eligibility(user, r, list(r.decisions.all())).allowed]
