"""Tell people about approval events: email (the console in the demo) and signed webhooks.

Events: approval.requested, approval.decided, approval.revoked, approval.expiring,
approval.expired. Services call `approval_notify` inside their transaction; nothing leaves
until the transaction commits, so a rolled-back decision never sends a message.

Webhook requests are POSTs of a JSON body with
  X-Governance-Event:      the event name
  X-Governance-Timestamp:  Unix seconds
  X-Governance-Signature:  sha256=<hex HMAC-SHA256(APPROVAL_WEBHOOK_SECRET, "<timestamp>.<body>")>
A receiver recomputes the HMAC over the raw body (with `webhook_signature`), compares in
constant time, and refuses old timestamps so a captured request cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

log = logging.getLogger(__name__)

EVENTS = ("approval.requested", "approval.decided", "approval.revoked", "approval.expiring", "approval.expired")
SUBJECTS = {
    "approval.requested": "Approval requested: {name} to {env}",
    "approval.decided": "Approval {status}: {name} to {env}",
    "approval.revoked": "Approval REVOKED: {name} to {env}",
    "approval.expiring": "Approval expiring on {expires}: {name} to {env}",
    "approval.expired": "Approval expired: {name} to {env}",
}


class WebhookError(Exception):
    """A delivery that may succeed later (network error, 5xx)."""


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


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
    from governance.models import ApprovalRequest
    from governance.tasks import deliver_webhook

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
    lines += ["", body["request"]["url"]]
    recipients = _recipients(event, request)
    if recipients:
        try:
            send_mail(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, recipients)
        except Exception:  # noqa: BLE001 - mail trouble must not undo a committed decision
            log.exception("could not email %s for approval %s", event, request_id)
    payload = json.dumps(body, cls=DjangoJSONEncoder, sort_keys=True)
    for url in settings.APPROVAL_WEBHOOK_URLS:
        deliver_webhook.delay(url, event, payload)


def approval_notify(*, event: str, request, extra: dict | None = None) -> None:
    """Send `event` about `request` once the current transaction commits."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    request_id = request.pk
    transaction.on_commit(lambda: _send(event, request_id, extra))


def webhook_post(*, url: str, event: str, payload: str, timeout: float | None = None) -> int:
    """POST one signed event; raise WebhookError when a retry may help. Returns the HTTP status."""
    body = payload.encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json", "User-Agent": "ai-governance-webhook/1",
        "X-Governance-Event": event, "X-Governance-Timestamp": timestamp,
    }
    if settings.APPROVAL_WEBHOOK_SECRET:
        headers["X-Governance-Signature"] = webhook_signature(settings.APPROVAL_WEBHOOK_SECRET, timestamp, body)
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout or settings.APPROVAL_WEBHOOK_TIMEOUT_SECONDS) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code == 429:
            raise WebhookError(f"{url} answered HTTP {exc.code}") from exc
        log.warning("webhook %s refused %s with HTTP %s; not retrying", url, event, exc.code)
        return exc.code
    except (urllib.error.URLError, OSError) as exc:
        raise WebhookError(f"{url}: {getattr(exc, 'reason', exc)}") from exc
