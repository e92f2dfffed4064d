"""Audit runs as the API shows them, and what a request for one carries."""

from __future__ import annotations

from rest_framework import serializers

from audits.runs.models import AuditRun


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
