"""Tell people about approval events, by email and signed webhook (governance/notifications/).

Events: approval.requested, approval.decided, approval.revoked, approval.expiring,
approval.expired. Services call `approval_notify` inside their transaction; nothing leaves
until the transaction commits, so a rolled-back decision never sends a message.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from governance.approvals.models import ApprovalRequest
from governance.notifications.services import notify

EVENTS = ("approval.requested", "approval.decided", "approval.revoked", "approval.expiring", "approval.expired")
SUBJECTS = {
    "approval.requested": "Approval requested: {name} to {env}",
    "approval.decided": "Approval {status}: {name} to {env}",
    "approval.revoked": "Approval REVOKED: {name} to {env}",
    "approval.expiring": "Approval expiring on {expires}: {name} to {env}",
    "approval.expired": "Approval expired: {name} to {env}",
}


def event_body(*, event: str, request, extra: dict | None = None) -> dict:
    version = request.version
    return {
        "event": event,
        "request": {
            "id": str(request.pk), "system": version.system.slug, "version": version.version,
            "environment": request.environment, "status": request.status, "current_stage": request.current_stage,
            "stages": request.stages, "expires_at": request.expires_at, "revoked_reason": request.revoked_reason,
            "url": f"{settings.SITE_URL.rstrip('/')}/approvals/{request.pk}/",
        },
        **(extra or {}),
    }


def _recipients(event: str, request) -> list[str]:
    """The owner, the requester and everyone who decided; for a new request or a new stage,
    also the people who hold the roles that must decide next."""
    User = get_user_model()
    users = {request.version.system.owner, request.requested_by}
    users.update(d.user for d in request.decisions.select_related("user"))
    if request.is_pending and 1 <= request.current_stage <= len(request.stages):
        roles = request.stages[request.current_stage - 1]
        users.update(User.objects.filter(groups__name__in=roles, is_active=True))
    return sorted({u.email for u in users if u.email})


def _send(event: str, request_id, extra: dict | None) -> None:
    request = ApprovalRequest.objects.select_related("version__system__owner", "requested_by").get(pk=request_id)
    body = event_body(event=event, request=request, extra=extra)
    subject = SUBJECTS[event].format(
        name=f"{request.version.system.slug}@{request.version.version}", env=request.environment,
        status=request.get_status_display().lower(), expires=request.expires_at.date() if request.expires_at else "",
    )
    lines = [subject, "", f"Status: {request.get_status_display()}"]
    if extra and extra.get("message"):
        lines.append(str(extra["message"]))
    if request.revoked_reason:
        lines.append(f"Reason: {request.revoked_reason}")
    if extra and extra.get("rollback_to"):
        lines.append(f"Roll back to {extra['rollback_to']}, the last version still allowed in {request.environment}.")
    lines += ["", body["request"]["url"]]
    notify(event=event, subject=subject, text="\n".join(lines), recipients=_recipients(event, request), body=body,
           urls=list(settings.APPROVAL_WEBHOOK_URLS))


def approval_notify(*, event: str, request, extra: dict | None = None) -> None:
    """Send `event` about `request` once the current transaction commits."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    request_id = request.pk
    # robust: a message that cannot be built or sent is logged; the decision it tells of stays committed.
    transaction.on_commit(lambda: _send(event, request_id, extra), robust=True)
