from django.contrib import admin

from audits.reports.models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["report_number", "system", "version", "status", "sha256", "created_at", "superseded_by"]
    list_filter = ["status"]
    search_fields = ["report_number", "sha256", "system__slug"]

    # Signed reports are evidence: readable here, never edited or deleted.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
