from django.contrib import admin

from audits.runs.models import AuditRun


@admin.register(AuditRun)
class AuditRunAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "system", "version", "status", "progress", "outcome", "worker_host", "created_at"]
    list_filter = ["kind", "status", "outcome", "queue"]
    search_fields = ["id", "system__slug", "version__version"]
    readonly_fields = [f.name for f in AuditRun._meta.fields]
