"""Webhook delivery runs in the worker; the outbox row says what to post and how it went."""

from __future__ import annotations

from celery import shared_task

from governance.notifications.services import webhook_deliver, webhooks_sweep


@shared_task(bind=True, name="governance.deliver_webhook", acks_late=True)
def deliver_webhook(self, delivery_id: str) -> str:
    attempt = webhook_deliver(delivery_id=delivery_id)
    if attempt.retry_in is not None:  # the service counts the attempts and gives up; a lost retry is swept
        raise self.retry(countdown=attempt.retry_in, max_retries=None)
    return attempt.status


@shared_task(name="governance.sweep_webhooks")
def sweep_webhooks() -> dict:
    return webhooks_sweep()
