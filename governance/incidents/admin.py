"""Read-only in the admin: incidents change through their services, so each step is on the trail."""

from django.contrib import admin

from governance.incidents.models import Incident, IncidentEvent, PublicReport, ReportingDeadline


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnly):
    list_display = ["id", "title", "system", "severity", "serious", "status", "source", "opened_at"]
    list_filter = ["status", "serious", "source"]


@admin.register(IncidentEvent)
class IncidentEventAdmin(ReadOnly):
    list_display = ["incident", "at", "kind", "actor"]


@admin.register(ReportingDeadline)
class ReportingDeadlineAdmin(ReadOnly):
    list_display = ["incident", "jurisdiction", "due_at", "reported_at"]


@admin.register(PublicReport)
class PublicReportAdmin(ReadOnly):
    list_display = ["system", "kind", "status", "outcome", "created_at"]
    exclude = ["reference_hash"]
