"""The report task only orchestrates: take the id, call the service, retry passing errors."""

from __future__ import annotations

from celery import shared_task

from audits.reports.service import TransientReportError, report_build, report_fail

MAX_RETRIES = 5


@shared_task(bind=True, name="audits.build_report", max_retries=MAX_RETRIES, acks_late=True)
def build_report(self, report_id: str) -> str:
    try:
        return report_build(report_id=report_id)
    except TransientReportError as exc:
        if self.request.retries >= MAX_RETRIES:
            report_fail(report_id=report_id, message=f"Gave up after {MAX_RETRIES} retries: {exc}")
            return "failed"
        raise self.retry(exc=exc, countdown=min(5 * 2**self.request.retries, 300)) from exc
