"""The approvals' periodic task only orchestrates."""

from __future__ import annotations

from celery import shared_task

from governance.approvals.services import approvals_expire


@shared_task(name="governance.approvals_sweep")
def approvals_sweep() -> dict:
    return approvals_expire()
