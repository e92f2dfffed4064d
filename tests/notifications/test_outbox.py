"""Webhooks go through an outbox: the row is written first, a broker that is down leaves it
pending, the sweeper sends it later, and a delivery is posted once however often it is sent."""

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from governance.notifications.models import DeliveryStatus, WebhookDelivery
from governance.notifications.services import WEBHOOK_RETRIES, notify, webhook_deliver, webhooks_sweep
from governance.notifications.tasks import deliver_webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    """A local HTTP receiver: answers each POST with the next status of `answers` (default 204)."""
    received, answers = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append({"body": self.rfile.read(int(self.headers["Content-Length"])),
                             "headers": dict(self.headers)})
            self.send_response(answers.pop(0) if answers else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received, answers
    server.shutdown()
    server.server_close()


class Broker:
    def __init__(self):
        self.down = True
        self.sent = []

    def apply_async(self, args):
        if self.down:
            raise ConnectionRefusedError("Connection refused.")
        self.sent.append(args[0])


@pytest.fixture
def broker(monkeypatch):
    broker = Broker()
    monkeypatch.setattr(deliver_webhook, "apply_async", broker.apply_async)
    return broker


def _tell(url):
    notify(event="approval.decided", subject="s", text="t", recipients=[], body={"request": {"id": "r1"}}, urls=[url])
    return WebhookDelivery.objects.get()


def test_a_webhook_told_while_the_broker_is_down_is_kept_and_posted_once_when_the_sweeper_sends_it(
        receiver, broker, settings):
    url, received, _ = receiver
    delivery = _tell(url)
    assert delivery.status == DeliveryStatus.PENDING and broker.sent == []

    assert webhooks_sweep()["due"] == []  # within the grace
    later = timezone.now() + timedelta(seconds=settings.AUDIT_UNSENT_GRACE_SECONDS + 1)
    assert webhooks_sweep(now=later) == {"due": [str(delivery.pk)], "sent": 0}  # still down: stays pending
    broker.down = False
    assert webhooks_sweep(now=later)["sent"] == 1
    assert webhooks_sweep(now=later)["due"] == []  # sent: not again while it waits for the worker
    assert webhook_deliver(delivery_id=broker.sent[0]).status == "sent"
    assert webhook_deliver(delivery_id=broker.sent[0]).status == "skipped"  # a second message posts nothing
    assert len(received) == 1
    assert received[0]["headers"]["X-Governance-Delivery"] == str(delivery.pk)
    assert received[0]["body"] == delivery.payload.encode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status, delivery.attempts) == (DeliveryStatus.SENT, 204, 1)


def test_a_receiver_that_is_down_is_retried_with_backoff_then_given_up(receiver, broker):
    url, received, answers = receiver
    delivery = _tell(url)
    answers.extend([503] * (WEBHOOK_RETRIES + 1))
    waits = [webhook_deliver(delivery_id=delivery.pk).retry_in for _ in range(WEBHOOK_RETRIES)]
    assert waits == [10, 20, 40, 80, 160, 320]
    assert webhook_deliver(delivery_id=delivery.pk).status == "failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "HTTP 503" in delivery.last_error
    assert len(received) == WEBHOOK_RETRIES + 1


def test_a_delivery_leased_by_a_worker_is_not_posted_by_another(receiver, broker):
    url, received, _ = receiver
    delivery = _tell(url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() + timedelta(seconds=30))
    assert webhook_deliver(delivery_id=delivery.pk).status == "skipped"
    assert webhooks_sweep(now=timezone.now() + timedelta(hours=1))["due"] == [str(delivery.pk)]  # lease expired
    assert received == []
