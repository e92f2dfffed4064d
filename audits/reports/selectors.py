"""Read-side queries for reports; constant query counts."""

from __future__ import annotations

from audits.reports.models import Report, ReportStatus

PANEL_LIMIT = 20


def reports_for_system(*, system, limit: int = PANEL_LIMIT) -> list[Report]:
    return list(Report.objects.filter(system=system)
                .select_related("version", "created_by", "superseded_by").order_by("-created_at")[:limit])


def report_list(*, system_slug: str = "", version_id=None, status: str = ""):
    qs = Report.objects.select_related("system", "version", "created_by", "superseded_by").order_by("-created_at")
    if system_slug:
        qs = qs.filter(system__slug=system_slug)
    if version_id:
        qs = qs.filter(version_id=version_id)
    if status in ReportStatus.values:
        qs = qs.filter(status=status)
    return qs
