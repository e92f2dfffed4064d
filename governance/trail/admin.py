from django.contrib import admin

from governance.core.admin import ReadOnlyAdmin
from governance.trail.models import AuditLogEntry


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["actor", "action", "object_id"]
