"""Signed webhooks: every POST carries

  X-Governance-Event:      the event name
  X-Governance-Timestamp:  Unix seconds
  X-Governance-Signature:  sha256=<hex HMAC-SHA256(APPROVAL_WEBHOOK_SECRET, "<timestamp>.<body>")>
  X-Governance-Delivery:   the outbox row's id, the same on every retry of one delivery

A receiver recomputes the HMAC over the raw body (with `webhook_signature`), compares in
constant time, and refuses old timestamps so a captured request cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings

log = logging.getLogger(__name__)


class WebhookError(Exception):
    """A delivery that may succeed later (network error, 5xx)."""


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_post(*, url: str, event: str, payload: str, timeout: float | None = None, delivery_id: str = "") -> int:
    """POST one signed event; raise WebhookError when a retry may help. Returns the HTTP status."""
    body = payload.encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json", "User-Agent": "ai-governance-webhook/1",
        "X-Governance-Event": event, "X-Governance-Timestamp": timestamp,
    }
    if delivery_id:  # a receiver drops a delivery it has seen: a retry after a lost answer posts again
        headers["X-Governance-Delivery"] = delivery_id
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
