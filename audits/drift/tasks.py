"""The scheduled drift review: beat sends it with the ids a DriftSchedule's PeriodicTask holds."""

from __future__ import annotations

from celery import shared_task

from audits.drift.services import drift_review_scheduled


@shared_task(name="audits.scheduled_drift_review")
def scheduled_drift_review(system_id, version_id) -> str:
    """Create the drift run for the latest production batch; the run's own task does the work."""
    return drift_review_scheduled(system_id=system_id, version_id=version_id)
