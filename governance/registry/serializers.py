"""Input serializers validate shape; output serializers render. Services do the writing."""

from __future__ import annotations

from rest_framework import serializers

from governance.core.api import JSONOrFileField
from governance.registry.models import (
    AISystem,
    Dataset,
    DatasetRole,
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
    schema = JSONOrFileField(help_text='{"features": [...], "label": "y", "sensitive": [...], "categorical": [...]}, '
                             'as text or as a file part (-F schema=@schema.json)')


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
    spec = JSONOrFileField(required=False, allow_null=True, default=None,
                           help_text="Architecture + input spec, required for .safetensors: as text or as a file "
                                     "part (-F spec=@spec.json)")
    parent = serializers.UUIDField(required=False, allow_null=True, default=None)
    train_dataset = serializers.UUIDField(required=False, allow_null=True, default=None)
    eval_dataset = serializers.UUIDField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
