"""The one way the platform tells people something: an email and signed webhooks.

Callers (approvals, drift alerts) build the message; `notify` sends it. Call it once the
transaction that recorded the event has committed (`transaction.on_commit`), so a rolled-back
change never sends a message. Mail or broker trouble is logged, never raised: what is being
told is already recorded. Webhooks are signed (governance/notifications/webhooks.py) and
delivered by the worker, which retries a receiver that is down.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder

from governance.notifications.tasks import deliver_webhook

log = logging.getLogger(__name__)


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
            deliver_webhook.delay(url, event, payload)
        except Exception:  # noqa: BLE001 - see the module docstring
            log.exception("could not enqueue the %s webhook to %s", event, url)
