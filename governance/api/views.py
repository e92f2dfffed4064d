"""Thin API views: parse input, look up objects, call one service, render."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from audits.models import AuditRun
from audits.services import audit_run_create
from governance import services
from governance.api import serializers as s
from governance.exceptions import ApplicationError
from governance.models import AISystem, Control, ControlAssessment, Dataset, ModelVersion


def _get_in_system(model, pk, system, field):
    """Resolve an optional id; an unknown id names the field (400), not a bare 404."""
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise ApplicationError(f"{field}: no such object ({pk}).", field=field)
    return obj


class SystemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = AISystem.objects.select_related("owner")
    serializer_class = s.SystemOut
    lookup_field = "slug"
    filterset_fields = ["risk_tier", "lifecycle_stage"]

    @extend_schema(request=s.SystemIn, responses={201: s.SystemOut})
    def create(self, request):
        data = s.SystemIn(data=request.data)
        data.is_valid(raise_exception=True)
        system = services.system_create(actor=request.user, **data.validated_data)
        return Response(s.SystemOut(system).data, status=status.HTTP_201_CREATED)


class DatasetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = Dataset.objects.select_related("system")
    serializer_class = s.DatasetOut
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = {"system__slug": ["exact"], "role": ["exact"]}

    @extend_schema(request=s.DatasetIn, responses={201: s.DatasetOut})
    def create(self, request):
        data = s.DatasetIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        system = get_object_or_404(AISystem, slug=v["system"])
        dataset = services.dataset_register(
            actor=request.user, system=system, name=v["name"], role=v["role"], upload=v["file"], schema=v["schema"]
        )
        return Response(s.DatasetOut(dataset).data, status=status.HTTP_201_CREATED)


class VersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = ModelVersion.objects.select_related("system", "created_by")
    serializer_class = s.VersionOut
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = {"system__slug": ["exact"]}

    @extend_schema(request=s.VersionIn, responses={201: s.VersionOut})
    def create(self, request):
        data = s.VersionIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        system = get_object_or_404(AISystem, slug=v["system"])
        version = services.model_version_register(
            actor=request.user, system=system, version=v["version"], artifact=v["artifact"], spec=v["spec"],
            parent=_get_in_system(ModelVersion, v["parent"], system, "parent"),
            train_dataset=_get_in_system(Dataset, v["train_dataset"], system, "train_dataset"),
            eval_dataset=_get_in_system(Dataset, v["eval_dataset"], system, "eval_dataset"),
            notes=v["notes"],
        )
        return Response(s.VersionOut(version).data, status=status.HTTP_201_CREATED)


class ControlFilter(django_filters.FilterSet):
    framework = django_filters.CharFilter()
    function = django_filters.CharFilter(field_name="group_ref", label="AI RMF function or ISO objective")
    category = django_filters.CharFilter(field_name="category_ref")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Control
        fields = ["framework", "function", "category"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(ref__icontains=value) | Q(title__icontains=value) | Q(text__icontains=value))


class ControlViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Control.objects.prefetch_related("iso_links__iso", "ai_rmf_links__ai_rmf")
    serializer_class = s.ControlOut
    filterset_class = ControlFilter


class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ControlAssessment.objects.select_related("system", "control", "owner").prefetch_related("evidence")
    serializer_class = s.AssessmentOut
    filterset_fields = {"system__slug": ["exact"], "control__framework": ["exact"], "status": ["exact"]}
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=s.AssessmentIn, responses={200: s.AssessmentOut})
    def partial_update(self, request, pk=None):
        assessment = self.get_object()
        data = s.AssessmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.assessment_update(actor=request.user, assessment=assessment, **data.validated_data)
        return Response(s.AssessmentOut(self.get_object()).data)


class AuditRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = AuditRun.objects.select_related("system", "version")
    filterset_fields = {"system__slug": ["exact"], "kind": ["exact"], "status": ["exact"], "version": ["exact"]}
    parser_classes = [JSONParser, FormParser]

    def get_serializer_class(self):
        return s.AuditRunListOut if self.action == "list" else s.AuditRunOut

    @extend_schema(request=s.AuditRunIn, responses={201: s.AuditRunOut})
    def create(self, request):
        data = s.AuditRunIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        version = ModelVersion.objects.select_related("system").filter(pk=v["version"]).first()
        if version is None:
            raise ApplicationError(f"version: no such model version ({v['version']}).", field="version")
        run = audit_run_create(actor=request.user, version=version, kind=v["kind"], params=v["params"])
        return Response(s.AuditRunOut(run).data, status=status.HTTP_201_CREATED)
