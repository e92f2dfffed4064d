"""The one way the platform tells people something: an email and signed webhooks.

Callers (approvals, drift alerts) build the message; `notify` sends it. Call it once the
transaction that recorded the event has committed (`transaction.on_commit`), so a rolled-back
change never sends a message. Mail or broker trouble is logged, never raised: what is being
told is already recorded. Each webhook is first written to the outbox (`WebhookDelivery`),
then delivered by the worker, which retries a receiver that is down; a row the broker did not
take is sent by the sweeper (`webhooks_sweep`, run by beat). Every POST carries the
delivery's id (X-Governance-Delivery), so a receiver can drop the rare repeat.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from governance.notifications.models import DeliveryStatus, WebhookDelivery
from governance.notifications.webhooks import WebhookError, webhook_post

log = logging.getLogger(__name__)
WEBHOOK_RETRIES = 6


def notify(*, event: str, subject: str, text: str, recipients: list[str], body: dict, urls: list[str]) -> None:
    """Email `text` to the recipients; post `body`, signed, to each webhook URL."""
    if recipients:
        try:
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
        except Exception:  # noqa: BLE001 - see the module docstring
            log.exception("could not email %s (%s)", event, subject)
    payload = json.dumps(body, cls=DjangoJSONEncoder, sort_keys=True)
    for url in urls:
        try:
            delivery = WebhookDelivery.objects.create(url=url, event=event, payload=payload,
                                                      resend_after=_unsent_after(timezone.now()))
        except DatabaseError:
            log.exception("could not record the %s webhook to %s", event, url)
            continue
        webhook_enqueue(delivery_id=delivery.pk)


def _unsent_after(now):
    return now + timedelta(seconds=settings.AUDIT_UNSENT_GRACE_SECONDS)


def webhook_enqueue(*, delivery_id) -> bool:
    """Send the delivery's message; a broker that is down leaves it to the sweeper."""
    from governance.notifications.tasks import deliver_webhook  # the task module imports this one

    try:
        deliver_webhook.apply_async(args=[str(delivery_id)])
    except Exception:  # noqa: BLE001 - any broker failure: the sweeper delivers later
        log.warning("could not enqueue webhook delivery %s; the sweeper will send it", delivery_id, exc_info=True)
        return False
    WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        resend_after=timezone.now() + timedelta(seconds=settings.AUDIT_STALE_QUEUED_SECONDS))
    return True


@dataclass
class Attempt:
    status: str  # "sent", "failed", "retry" or "skipped"
    retry_in: int | None = None


def webhook_deliver(*, delivery_id, now=None) -> Attempt:
    """Post one pending delivery once: lease it, post it, record the answer.

    A receiver that is down (network error, 5xx, 429) is retried with backoff, up to
    WEBHOOK_RETRIES times; a 4xx is its final answer."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.APPROVAL_WEBHOOK_TIMEOUT_SECONDS + 30)
    rows = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
    if not rows.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now)).update(lease_until=lease):
        return Attempt("skipped")
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    try:
        code = webhook_post(url=delivery.url, event=delivery.event, payload=delivery.payload,
                            delivery_id=str(delivery.pk))
    except WebhookError as exc:
        attempts = delivery.attempts + 1
        if attempts > WEBHOOK_RETRIES:
            rows.update(status=DeliveryStatus.FAILED, attempts=attempts, last_error=str(exc)[:2000], lease_until=None)
            return Attempt("failed")
        retry_in = min(10 * 2 ** delivery.attempts, 3600)
        rows.update(attempts=attempts, last_error=str(exc)[:2000], lease_until=None,
                    resend_after=now + timedelta(seconds=retry_in + settings.AUDIT_STALE_QUEUED_SECONDS))
        return Attempt("retry", retry_in=retry_in)
    rows.update(status=DeliveryStatus.SENT, attempts=delivery.attempts + 1, last_status=code, sent_at=timezone.now(),
                lease_until=None, last_error="")
    return Attempt("sent")


def webhooks_sweep(*, now=None) -> dict:
    """Send the pending deliveries the broker never took (or lost)."""
    now = now or timezone.now()
    due = list(WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, resend_after__lt=now).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)).values_list("pk", flat=True))
    sent = [pk for pk in due if webhook_enqueue(delivery_id=pk)]
    return {"due": [str(pk) for pk in due], "sent": len(sent)}
