from __future__ import annotations

from audits.runs.models import AuditRun


def runs_for_system(*, system):
    return AuditRun.objects.filter(system=system).select_related("version").order_by("-created_at")


def run_list(*, status: str = "", kind: str = ""):
    qs = AuditRun.objects.select_related("system", "version").order_by("-created_at")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs
