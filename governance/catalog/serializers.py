"""Controls, assessments and evidence as the API shows them."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.catalog.models import (
    AssessmentStatus,
    Control,
    ControlAssessment,
    DocumentKind,
    Evidence,
    EvidenceDocument,
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


class DocumentControlOut(serializers.Serializer):
    framework = serializers.CharField()
    ref = serializers.CharField()


class DocumentOut(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")
    owner = serializers.CharField(source="owner.username")
    supersedes = serializers.UUIDField(source="supersedes_id", allow_null=True)
    controls = serializers.SerializerMethodField()
    expired = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceDocument
        fields = ["id", "system", "kind", "title", "filename", "content_type", "size_bytes", "sha256", "effective_on",
                  "review_by", "expired", "owner", "supersedes", "recorded_by", "created_at", "controls", "download"]

    @extend_schema_field(DocumentControlOut(many=True))
    def get_controls(self, obj) -> list[dict]:
        return [{"framework": framework, "ref": ref} for framework, ref in getattr(obj, "refs", [])]

    def get_expired(self, obj) -> bool:
        return bool(getattr(obj, "expired", False))

    def get_download(self, obj) -> str:
        return reverse("api-document-download", args=[obj.pk])


class DocumentIn(serializers.Serializer):
    system = serializers.SlugField(help_text="The system's slug")
    controls = serializers.ListField(
        child=serializers.CharField(max_length=40), min_length=1, max_length=200,
        help_text='Control references of either framework, e.g. ["GOVERN 1.1"] or ["A.2.2"]')
    with_partners = serializers.BooleanField(
        default=False, help_text="Accept the crosswalk's proposal: also attach to each control's partners in the "
                                 "other framework that you may attach to (test once, satisfy both)")
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    title = serializers.CharField(max_length=200)
    file = serializers.FileField(required=False, allow_null=True,
                                 help_text="PDF, DOCX, Markdown or plain text (a document); never for an attestation")
    text = serializers.CharField(required=False, allow_blank=True, max_length=20000, default="",
                                 help_text="The attestation's words")
    effective_on = serializers.DateField()
    review_by = serializers.DateField()
    owner = serializers.SlugRelatedField(slug_field="username", queryset=owner_choices(),
                                         help_text="Username of who keeps the document current")
    replaces = serializers.UUIDField(required=False, allow_null=True, default=None,
                                     help_text="The document this one is a new version of")
