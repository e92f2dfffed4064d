"""Governance tasks only orchestrate (loaded by the worker through CELERY_IMPORTS)."""

from __future__ import annotations

from celery import shared_task

from governance.notifications import WebhookError, webhook_post

WEBHOOK_RETRIES = 6


@shared_task(name="governance.approvals_sweep")
def approvals_sweep() -> dict:
    from governance.approvals import approvals_expire

    return approvals_expire()


@shared_task(bind=True, name="governance.deliver_webhook", max_retries=WEBHOOK_RETRIES, acks_late=True)
def deliver_webhook(self, url: str, event: str, payload: str) -> int:
    try:
        return webhook_post(url=url, event=event, payload=payload)
    except WebhookError as exc:
        raise self.retry(exc=exc, countdown=min(10 * 2**self.request.retries, 3600)) from exc
