"""Audit runs as the API shows them, and what a request for one carries."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audits.runs.models import AuditRun
from audits.runs.params import POLICY_KEY
from governance.core import glossary
from governance.core.api import BoundedJSONField


class AuditRunOut(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")
    version_label = serializers.CharField(source="version.version")
    # The outcome in the kind's words ("warning" for a data quality "inconclusive"), and what it means.
    outcome_label = serializers.SerializerMethodField()
    outcome_text = serializers.SerializerMethodField()
    # {"policy": name, "params": [names]}: the params the policy of the system's tier set, or null.
    params_set_by_policy = serializers.SerializerMethodField()

    class Meta:
        model = AuditRun
        fields = [
            "id", "system", "version", "version_label", "kind", "queue", "params", "params_set_by_policy", "status",
            "progress", "stage",
            "outcome", "outcome_label", "outcome_text",
            "error", "results", "checks", "seeds", "package_versions", "device", "worker_host",
            "attempts", "created_at", "started_at", "finished_at",
        ]


    @extend_schema_field({"type": "object", "nullable": True, "properties": {
        "policy": {"type": "string"}, "params": {"type": "array", "items": {"type": "string"}}}})
    def get_params_set_by_policy(self, run):
        return (run.params or {}).get(POLICY_KEY)

    def get_outcome_label(self, run) -> str:
        return glossary.outcome_label(run.outcome, run.kind) if run.outcome else ""

    def get_outcome_text(self, run) -> str:
        return glossary.outcome_text(run.outcome, run.kind) if run.outcome else ""


class AuditRunListOut(AuditRunOut):
    class Meta(AuditRunOut.Meta):
        fields = [f for f in AuditRunOut.Meta.fields if f not in {"results", "checks"}]


PARAMS_HELP = (
    "The kind's parameters, as an object; each has a type and an upper bound, and an out-of-bounds one is a 400 "
    "naming `params.<name>` and what it accepts. The parameters that decide the verdict (bootstrap size, "
    "confidence level, minimum counts, attack budgets) come from the policy of the system's risk tier: a "
    "request may ask for more thoroughness, never less. Omitted ones take the policy's value, else the kind's "
    "default; the stored run says which the policy set (`params_set_by_policy`). Every kind's table: "
    "docs/audit-parameters.md.")


class AuditRunIn(serializers.Serializer):
    version = serializers.UUIDField()
    kind = serializers.CharField()
    params = BoundedJSONField(required=False, default=dict, help_text=PARAMS_HELP)
