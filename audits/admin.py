from django.contrib import admin

from audits.models import AuditRun


@admin.register(AuditRun)
class AuditRunAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "system", "version", "status", "progress", "outcome", "worker_host", "created_at"]
    list_filter = ["kind", "status", "outcome", "queue"]
    search_fields = ["id", "system__slug", "version__version"]
    readonly_fields = [f.name for f in AuditRun._meta.fields]


from audits.models import DriftSchedule, Report, RetrainingRecommendation  # noqa: E402


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


@admin.register(DriftSchedule)
class DriftScheduleAdmin(admin.ModelAdmin):
    list_display = ["system", "version", "enabled"]
    list_filter = ["enabled"]


@admin.register(RetrainingRecommendation)
class RetrainingRecommendationAdmin(admin.ModelAdmin):
    list_display = ["version", "status", "reason", "created_at"]
    list_filter = ["status"]
    search_fields = ["version__system__slug", "reason"]
