"""Read-only in the admin: incidents change through their services, so each step is on the trail."""

from django.contrib import admin

from governance.core.admin import ReadOnlyAdmin
from governance.incidents.models import Incident, IncidentEvent, PublicReport, ReportingDeadline


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "system", "severity", "serious", "status", "source", "opened_at"]
    list_filter = ["status", "serious", "source"]


@admin.register(IncidentEvent)
class IncidentEventAdmin(ReadOnlyAdmin):
    list_display = ["incident", "at", "kind", "actor"]


@admin.register(ReportingDeadline)
class ReportingDeadlineAdmin(ReadOnlyAdmin):
    list_display = ["incident", "jurisdiction", "due_at", "reported_at"]


@admin.register(PublicReport)
class PublicReportAdmin(ReadOnlyAdmin):
    list_display = ["system", "kind", "status", "outcome", "created_at"]
    exclude = ["reference_hash"]

    def get_readonly_fields(self, request, obj=None):
        # The reference's hash stays out of sight like the reference itself.
        return [name for name in super().get_readonly_fields(request, obj) if name != "reference_hash"]
