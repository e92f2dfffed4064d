from django.contrib import admin

from governance.registry.models import AISystem, Dataset, ModelVersion, PipelineToken


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


@admin.register(PipelineToken)
class PipelineTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `manage.py create_pipeline_token` (the secret is shown once); here they
    are listed and revoked (set "revoked at")."""

    list_display = ["name", "user", "scopes", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["name", "user", "scopes", "key_hash", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False
