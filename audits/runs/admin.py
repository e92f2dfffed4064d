from django.contrib import admin

from governance.core.admin import ReadOnlyAdmin

from audits.runs.models import AuditRun


@admin.register(AuditRun)
class AuditRunAdmin(ReadOnlyAdmin):
    """Read-only: runs move only through their lifecycle; a finished run is a record (never changed)."""

    list_display = ["id", "kind", "system", "version", "status", "progress", "outcome", "worker_host", "created_at"]
    list_filter = ["kind", "status", "outcome", "queue"]
    search_fields = ["id", "system__slug", "version__version"]
