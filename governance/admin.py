from django import forms
from django.contrib import admin

from governance.models import (
    AISystem,
    ApprovalDecision,
    ApprovalRequest,
    AuditLogEntry,
    Control,
    ControlAssessment,
    CrosswalkLink,
    Dataset,
    Evidence,
    ModelVersion,
    PipelineToken,
    Policy,
    RiskAcceptance,
)
from governance.roles import can


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that change only through their services (which keep the rules and write the
    audit trail): listed and shown here, never added, edited or deleted."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AssessmentInline(admin.TabularInline):
    model = ControlAssessment
    fields = ["control", "status", "owner", "notes"]
    readonly_fields = ["control"]
    extra = 0
    can_delete = False


@admin.register(AISystem)
class AISystemAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "risk_tier", "lifecycle_stage", "owner", "created_at"]
    list_filter = ["risk_tier", "lifecycle_stage"]
    search_fields = ["name", "slug", "purpose"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "system", "role", "file_format", "n_rows", "sha256", "created_at"]
    list_filter = ["role", "file_format"]
    search_fields = ["name", "sha256", "system__slug"]
    readonly_fields = ["sha256", "size_bytes", "n_rows", "file", "file_format"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["system", "version", "artifact_format", "artifact_sha256", "parent", "created_by", "created_at"]
    list_filter = ["artifact_format"]
    search_fields = ["version", "artifact_sha256", "system__slug"]
    # Artifacts and their hashes come only through the safe registration path.
    readonly_fields = ["artifact", "artifact_sha256", "artifact_format", "spec", "lineage"]


@admin.register(Control)
class ControlAdmin(admin.ModelAdmin):
    list_display = ["ref", "framework", "group_ref", "title", "short_text"]
    list_filter = ["framework", "group_ref"]
    search_fields = ["ref", "title", "text"]

    @admin.display(description="text")
    def short_text(self, obj):
        return obj.text[:80]


@admin.register(CrosswalkLink)
class CrosswalkLinkAdmin(admin.ModelAdmin):
    list_display = ["ai_rmf", "iso", "notes"]
    search_fields = ["ai_rmf__ref", "iso__ref"]


@admin.register(ControlAssessment)
class ControlAssessmentAdmin(admin.ModelAdmin):
    list_display = ["system", "control", "status", "owner", "updated_at"]
    list_filter = ["status", "control__framework", "system"]
    search_fields = ["control__ref", "system__slug"]


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ["assessment", "kind", "outcome", "created_at"]
    list_filter = ["kind", "outcome"]


class PolicyForm(forms.ModelForm):
    """The JSON fields are checked here, so a typo in the admin cannot silently open the gate."""

    class Meta:
        model = Policy
        fields = "__all__"
        help_texts = {
            "audit_requirements": 'e.g. {"fairness": {"thresholds": {"demographic_parity_difference": {"max": 0.1}}, '
                                  '"max_age_days": 90}}',
            "approval_stages": 'Stages in order; every role of a stage signs. e.g. [["risk_officer", "security_reviewer"], '
                               '["executive_approver"]]',
        }

    def clean_audit_requirements(self):
        value = self.cleaned_data["audit_requirements"]
        if not isinstance(value, dict):
            raise forms.ValidationError("A JSON object: audit kind -> {thresholds, max_age_days}.")
        for kind, spec in value.items():
            if not isinstance(spec, dict) or set(spec) - {"thresholds", "max_age_days"}:
                raise forms.ValidationError(f"{kind}: use only the keys thresholds and max_age_days.")
            age = spec.get("max_age_days")
            if age is not None and (not isinstance(age, int) or isinstance(age, bool) or age < 1):
                raise forms.ValidationError(f"{kind}: max_age_days must be a whole number of days >= 1.")
            for metric, limit in (spec.get("thresholds") or {}).items():
                ok = isinstance(limit, dict) and len(limit) == 1 and set(limit) <= {"max", "min"}
                number = next(iter(limit.values())) if ok else None
                if not ok or isinstance(number, bool) or not isinstance(number, (int, float)):
                    raise forms.ValidationError(f'{kind}.{metric}: use {{"max": number}} or {{"min": number}}.')
        return value

    def clean_approval_stages(self):
        from governance.approvals import DECIDING_ROLES

        value = self.cleaned_data["approval_stages"]
        allowed = sorted(r.value for r in DECIDING_ROLES)
        if not isinstance(value, list) or not value:
            raise forms.ValidationError("A non-empty list of stages, each a list of roles.")
        for stage in value:
            if not isinstance(stage, list) or not stage or len(set(stage)) != len(stage) or set(stage) - set(allowed):
                raise forms.ValidationError(f"Each stage is a list of distinct roles among: {', '.join(allowed)}.")
        return value


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = ["name", "risk_tier", "environment", "require_signed_report", "approval_valid_days", "updated_at"]
    list_filter = ["risk_tier", "environment"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and can(request.user, "policy.edit")


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
    """Read-only: risks are accepted only through governance/risk.py (pages and API), which keeps
    the rules and writes the trail; an acceptance is never edited."""

    list_display = ["accepted_at", "audit_run", "environment", "accepted_by", "role", "expires_at"]
    list_filter = ["environment", "role"]
    search_fields = ["audit_run__version__system__slug", "audit_run__version__version", "accepted_by__username"]


@admin.register(PipelineToken)
class PipelineTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `manage.py create_pipeline_token` (the secret is shown once); here they
    are listed and revoked (set "revoked at")."""

    list_display = ["name", "user", "scopes", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["name", "user", "scopes", "key_hash", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["actor", "action", "object_id"]
