"""The registry's API: systems, datasets, versions. Thin: parse input, look up objects, call one service, render."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from governance.core.exceptions import ApplicationError
from governance.registry import serializers as s
from governance.registry import services
from governance.registry.filters import SystemFilter, VersionFilter
from governance.registry.models import AISystem, Dataset, DatasetRole, ModelVersion


def _get_in_system(model, pk, system, field):
    """Resolve an optional id; an unknown id names the field (400), not a bare 404."""
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise ApplicationError(f"{field}: no such object ({pk}).", field=field)
    return obj


class DatasetFilters(django_filters.FilterSet):
    system = SystemFilter()
    role = django_filters.ChoiceFilter(choices=DatasetRole.choices)

    class Meta:
        model = Dataset
        fields = ["system", "role"]


class VersionFilters(django_filters.FilterSet):
    system = SystemFilter()
    version = VersionFilter(field_name="pk")

    class Meta:
        model = ModelVersion
        fields = ["system", "version"]


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
    filterset_class = DatasetFilters

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
    filterset_class = VersionFilters

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
