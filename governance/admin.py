from django.contrib import admin

from governance.models import AISystem, Control, ControlAssessment, CrosswalkLink, Dataset, Evidence, ModelVersion, Policy


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


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "risk_tier", "environment", "require_signed_report", "approval_valid_days", "updated_at"]
    list_filter = ["risk_tier", "environment"]
