"""The catalog's API: controls (filtered, searched), assessments (read, updated by compliance),
and documentary evidence (attached, listed, downloaded)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from governance.catalog import serializers as s
from governance.catalog import services
from governance.catalog.documents import document_attach
from governance.catalog.models import (
    AssessmentStatus,
    Control,
    ControlAssessment,
    DocumentKind,
    EvidenceDocument,
    Framework,
)
from governance.catalog.selectors import documents_annotated, partner_assessments
from governance.catalog.views import download_response
from governance.core.exceptions import ApplicationError
from governance.core.parsers import BoundedJSONParser
from governance.core.roles import can
from governance.registry.filters import SystemFilter
from governance.registry.models import AISystem

UNKNOWN_SYSTEM = "system: no system has the slug {slug!r}."
UNKNOWN_CONTROLS = "controls: {system} has no control {refs}."
UNKNOWN_DOCUMENT = "replaces: {system} has no document {pk}."


class ControlFilter(django_filters.FilterSet):
    framework = django_filters.ChoiceFilter(choices=Framework.choices)
    function = django_filters.CharFilter(field_name="group_ref", label="AI RMF function or ISO objective")
    category = django_filters.CharFilter(field_name="category_ref")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Control
        fields = ["framework", "function", "category"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(ref__icontains=value) | Q(title__icontains=value) | Q(text__icontains=value))


class AssessmentFilter(django_filters.FilterSet):
    system = SystemFilter()
    framework = django_filters.ChoiceFilter(field_name="control__framework", choices=Framework.choices)
    control = django_filters.CharFilter(field_name="control__ref", label="The control's reference, e.g. MEASURE 2.10")
    status = django_filters.ChoiceFilter(choices=AssessmentStatus.choices)

    class Meta:
        model = ControlAssessment
        fields = ["system", "framework", "control", "status"]


class ControlViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Control.objects.prefetch_related("iso_links__iso", "ai_rmf_links__ai_rmf")
    serializer_class = s.ControlOut
    filterset_class = ControlFilter


class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ControlAssessment.objects.select_related("system", "control", "owner").prefetch_related("evidence")
    serializer_class = s.AssessmentOut
    filterset_class = AssessmentFilter
    parser_classes = [BoundedJSONParser, FormParser]

    @extend_schema(request=s.AssessmentIn, responses={200: s.AssessmentOut})
    def partial_update(self, request, pk=None):
        assessment = self.get_object()
        data = s.AssessmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.assessment_update(actor=request.user, assessment=assessment, **data.validated_data)
        return Response(s.AssessmentOut(self.get_object()).data)


class DocumentFilter(django_filters.FilterSet):
    system = SystemFilter()
    kind = django_filters.ChoiceFilter(choices=DocumentKind.choices)
    control = django_filters.CharFilter(field_name="evidence__assessment__control__ref", distinct=True,
                                        label="A control it was attached to, e.g. GOVERN 1.1")
    current = django_filters.BooleanFilter(method="filter_current",
                                           label="true: only documents that no newer version replaced")

    class Meta:
        model = EvidenceDocument
        fields = ["system", "kind", "control", "current"]

    def filter_current(self, queryset, name, value):
        replaced = EvidenceDocument.objects.filter(supersedes__isnull=False).values("supersedes")
        return queryset.exclude(pk__in=replaced) if value else queryset.filter(pk__in=replaced)


class DocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    """Policies, procedures, records and written attestations as evidence on a system's
    controls, each current until its review-by date (catalog/documents.py)."""

    queryset = EvidenceDocument.objects.select_related("system", "owner").order_by("-created_at")
    serializer_class = s.DocumentOut
    filterset_class = DocumentFilter
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.DocumentOut(documents_annotated(page), many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.DocumentOut(documents_annotated([self.get_object()])[0]).data)

    @extend_schema(request=s.DocumentIn, responses={201: s.DocumentOut})
    def create(self, request):
        data = s.DocumentIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        system = AISystem.objects.filter(slug=v["system"]).first()
        if system is None:
            raise ApplicationError(UNKNOWN_SYSTEM.format(slug=v["system"]), field="system")
        assessments = _assessments(system, v["controls"], with_partners=v["with_partners"], actor=request.user)
        replaces = None
        if v["replaces"] is not None:
            replaces = EvidenceDocument.objects.filter(pk=v["replaces"], system=system).first()
            if replaces is None:
                raise ApplicationError(UNKNOWN_DOCUMENT.format(system=system.name, pk=v["replaces"]), field="replaces")
        upload = v.get("file")
        doc = document_attach(actor=request.user, system=system, assessments=assessments, kind=v["kind"],
                              title=v["title"], effective_on=v["effective_on"], review_by=v["review_by"],
                              owner=v["owner"], upload=upload, filename=getattr(upload, "name", ""), text=v["text"],
                              replaces=replaces)
        return Response(s.DocumentOut(documents_annotated([doc])[0]).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The document's bytes, as an attachment: never rendered."""
        return download_response(self.get_object())


def _assessments(system, refs, *, with_partners: bool, actor) -> list[ControlAssessment]:
    """The system's assessments of these control references (either framework), and with
    `with_partners` the crosswalk partners the actor may attach to (the proposal, accepted)."""
    refs = list(dict.fromkeys(r.strip() for r in refs))
    found = list(ControlAssessment.objects.select_related("control", "system")
                 .filter(system=system, control__ref__in=refs))
    missing = sorted(set(refs) - {a.control.ref for a in found})
    if missing:
        raise ApplicationError(UNKNOWN_CONTROLS.format(system=system.name, refs=", ".join(missing)), field="controls")
    if with_partners:
        have = {a.pk for a in found}
        for a in list(found):
            for p in partner_assessments(system=system, control=a.control):
                if p.pk not in have and can(actor, "document.attach", system, assessment=p):
                    found.append(p)
                    have.add(p.pk)
    return found
