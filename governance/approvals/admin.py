from django.contrib import admin

from governance.approvals.models import (
    ApprovalDecision,
    ApprovalRequest,
    RiskAcceptance,
)
from governance.core.admin import ReadOnlyAdmin


class DecisionInline(admin.TabularInline):
    model = ApprovalDecision
    extra = 0
    can_delete = False
    readonly_fields = ["stage", "role", "user", "decision", "comment", "decided_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    """Read-only: requests move only through the workflow (pages and API), which keeps the rules."""

    list_display = ["version", "environment", "status", "current_stage", "requested_by", "created_at", "expires_at"]
    list_filter = ["status", "environment"]
    search_fields = ["version__system__slug", "version__version"]
    inlines = [DecisionInline]


@admin.register(RiskAcceptance)
class RiskAcceptanceAdmin(ReadOnlyAdmin):
    """Read-only: risks are accepted only through governance/approvals/risk.py (pages and API), which keeps
    the rules and writes the trail; an acceptance is never edited."""

    list_display = ["accepted_at", "audit_run", "environment", "accepted_by", "role", "expires_at"]
    list_filter = ["environment", "role"]
    search_fields = ["audit_run__version__system__slug", "audit_run__version__version", "accepted_by__username"]
