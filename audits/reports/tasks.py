"""The report task only orchestrates: take the id, call the service, retry passing errors."""

from __future__ import annotations

from celery import shared_task

from audits.reports.service import TransientReportError, report_build, report_fail, reports_sweep
from governance.core.retry import MAX_RETRIES, retry_or_give_up


@shared_task(bind=True, name="audits.build_report", max_retries=MAX_RETRIES, acks_late=True)
def build_report(self, report_id: str) -> str:
    try:
        return report_build(report_id=report_id)
    except TransientReportError as exc:
        return retry_or_give_up(self, exc, give_up=lambda message: report_fail(report_id=report_id, message=message))


@shared_task(name="audits.sweep_stale_reports")
def sweep_stale_reports() -> dict:
    return reports_sweep()
