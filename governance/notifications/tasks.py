"""Webhook delivery runs in the worker, with retries for a receiver that is down."""

from __future__ import annotations

from celery import shared_task

from governance.notifications.webhooks import WebhookError, webhook_post

WEBHOOK_RETRIES = 6


@shared_task(bind=True, name="governance.deliver_webhook", max_retries=WEBHOOK_RETRIES, acks_late=True)
def deliver_webhook(self, url: str, event: str, payload: str) -> int:
    try:
        return webhook_post(url=url, event=event, payload=payload)
    except WebhookError as exc:
        raise self.retry(exc=exc, countdown=min(10 * 2**self.request.retries, 3600)) from exc
