"""Controls, assessments and evidence as the API shows them."""

from __future__ import annotations

from rest_framework import serializers

from governance.catalog.models import (
    AssessmentStatus,
    Control,
    ControlAssessment,
    Evidence,
)
from governance.catalog.selectors import control_partners, owner_choices


class ControlOut(serializers.ModelSerializer):
    # A JSON column holding a list: typed here, or the schema says "any" (and once said "string").
    iso_clauses = serializers.ListField(child=serializers.CharField(), read_only=True)
    partners = serializers.SerializerMethodField()

    class Meta:
        model = Control
        fields = ["framework", "ref", "title", "text", "group_ref", "group_title", "category_ref", "category_title",
                  "iso_clauses", "partners"]

    def get_partners(self, obj) -> list[str]:
        return [p.ref for p in control_partners(obj)]


class EvidenceOut(serializers.ModelSerializer):
    audit_run = serializers.UUIDField(source="audit_run_id", allow_null=True)

    class Meta:
        model = Evidence
        fields = ["id", "kind", "outcome", "summary", "audit_run", "link", "created_at"]


class AssessmentOut(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")
    framework = serializers.CharField(source="control.framework")
    control = serializers.CharField(source="control.ref")
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True)
    evidence = EvidenceOut(many=True)

    class Meta:
        model = ControlAssessment
        fields = ["id", "system", "framework", "control", "status", "owner", "notes", "updated_at", "evidence"]


class AssessmentIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=AssessmentStatus.choices, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    owner = serializers.SlugRelatedField(slug_field="username", queryset=owner_choices(), required=False,
                                         allow_null=True, help_text="Username of who answers for the control")
