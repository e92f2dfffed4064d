from django.contrib import admin

from governance.core.admin import ReadOnlyAdmin

from governance.catalog.models import (
    Control,
    ControlAssessment,
    CrosswalkLink,
    Evidence,
    EvidenceDocument,
)


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
class EvidenceAdmin(ReadOnlyAdmin):
    """Read-only: evidence is append-only; a correction is a new row (catalog/evidence.py `evidence_correct`)."""

    list_display = ["assessment", "version", "kind", "outcome", "recorded_by", "created_at"]
    list_filter = ["kind", "outcome"]


@admin.register(EvidenceDocument)
class EvidenceDocumentAdmin(ReadOnlyAdmin):
    """Read-only: documents are append-only; a new version supersedes (catalog/documents.py)."""

    list_display = ["title", "system", "kind", "review_by", "owner", "sha256", "created_at"]
    list_filter = ["kind"]
    search_fields = ["title", "sha256", "system__slug"]
