"""Input serializers validate shape; output serializers render. Services do the writing."""

from __future__ import annotations

from rest_framework import serializers

from audits.models import AuditRun
from governance.models import (
    AISystem,
    AssessmentStatus,
    Control,
    ControlAssessment,
    Dataset,
    DatasetRole,
    Evidence,
    LifecycleStage,
    ModelVersion,
    RiskTier,
)


class SystemOut(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = AISystem
        fields = ["slug", "name", "owner", "purpose", "intended_use", "risk_tier", "lifecycle_stage", "created_at"]


class SystemIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=80)
    purpose = serializers.CharField()
    intended_use = serializers.CharField(required=False, allow_blank=True, default="")
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, default=RiskTier.MEDIUM)
    lifecycle_stage = serializers.ChoiceField(choices=LifecycleStage.choices, default=LifecycleStage.DEVELOPMENT)


class DatasetOut(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")

    class Meta:
        model = Dataset
        fields = ["id", "system", "name", "role", "file_format", "sha256", "size_bytes", "n_rows", "schema", "created_at"]


class DatasetIn(serializers.Serializer):
    system = serializers.SlugField()
    name = serializers.CharField(max_length=200)
    role = serializers.ChoiceField(choices=DatasetRole.choices)
    file = serializers.FileField()
    schema = serializers.JSONField(help_text='{"features": [...], "label": "y", "sensitive": [...], "categorical": [...]}')


class VersionOut(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = ModelVersion
        fields = [
            "id", "system", "version", "artifact_sha256", "artifact_format", "spec", "parent", "train_dataset",
            "eval_dataset", "lineage", "notes", "created_by", "created_at",
        ]


class VersionIn(serializers.Serializer):
    system = serializers.SlugField()
    version = serializers.CharField(max_length=64)
    artifact = serializers.FileField(help_text=".safetensors (with spec) or .skops")
    spec = serializers.JSONField(required=False, allow_null=True, default=None,
                                 help_text="Architecture + input spec; required for .safetensors")
    parent = serializers.UUIDField(required=False, allow_null=True, default=None)
    train_dataset = serializers.UUIDField(required=False, allow_null=True, default=None)
    eval_dataset = serializers.UUIDField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class ControlOut(serializers.ModelSerializer):
    partners = serializers.SerializerMethodField()

    class Meta:
        model = Control
        fields = ["framework", "ref", "title", "text", "group_ref", "group_title", "category_ref", "category_title",
                  "iso_clauses", "partners"]

    def get_partners(self, obj):
        from governance.selectors import control_partners

        return [p.ref for p in control_partners(obj)]


class EvidenceOut(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "kind", "outcome", "summary", "audit_run", "link", "created_at"]


class AssessmentOut(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")
    framework = serializers.CharField(source="control.framework")
    control = serializers.CharField(source="control.ref")
    owner = serializers.CharField(source="owner.username", default=None)
    evidence = EvidenceOut(many=True)

    class Meta:
        model = ControlAssessment
        fields = ["id", "system", "framework", "control", "status", "owner", "notes", "updated_at", "evidence"]


class AssessmentIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=AssessmentStatus.choices, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class AuditRunOut(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")
    version_label = serializers.CharField(source="version.version")

    class Meta:
        model = AuditRun
        fields = [
            "id", "system", "version", "version_label", "kind", "queue", "params", "status", "progress", "stage",
            "outcome", "error", "results", "checks", "seeds", "package_versions", "device", "worker_host",
            "attempts", "created_at", "started_at", "finished_at",
        ]


class AuditRunListOut(AuditRunOut):
    class Meta(AuditRunOut.Meta):
        fields = [f for f in AuditRunOut.Meta.fields if f not in {"results", "checks"}]


class AuditRunIn(serializers.Serializer):
    version = serializers.UUIDField()
    kind = serializers.CharField()
    params = serializers.JSONField(required=False, default=dict)
