"""Audit runs as the API shows them, and what a request for one carries."""

from __future__ import annotations

from rest_framework import serializers

from audits.runs.models import AuditRun
from governance.core import glossary
from governance.core.api import BoundedJSONField


class AuditRunOut(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")
    version_label = serializers.CharField(source="version.version")
    # The outcome in the kind's words ("warning" for a data quality "inconclusive"), and what it means.
    outcome_label = serializers.SerializerMethodField()
    outcome_text = serializers.SerializerMethodField()

    class Meta:
        model = AuditRun
        fields = [
            "id", "system", "version", "version_label", "kind", "queue", "params", "status", "progress", "stage",
            "outcome", "outcome_label", "outcome_text",
            "error", "results", "checks", "seeds", "package_versions", "device", "worker_host",
            "attempts", "created_at", "started_at", "finished_at",
        ]


    def get_outcome_label(self, run) -> str:
        return glossary.outcome_label(run.outcome, run.kind) if run.outcome else ""

    def get_outcome_text(self, run) -> str:
        return glossary.outcome_text(run.outcome, run.kind) if run.outcome else ""


class AuditRunListOut(AuditRunOut):
    class Meta(AuditRunOut.Meta):
        fields = [f for f in AuditRunOut.Meta.fields if f not in {"results", "checks"}]


class AuditRunIn(serializers.Serializer):
    version = serializers.UUIDField()
    kind = serializers.CharField()
    params = BoundedJSONField(required=False, default=dict)
