"""The catalog's API: controls (filtered, searched) and assessments (read, updated by compliance)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from governance.catalog import serializers as s
from governance.catalog import services
from governance.catalog.models import (
    AssessmentStatus,
    Control,
    ControlAssessment,
    Framework,
)
from governance.core.parsers import BoundedJSONParser
from governance.registry.filters import SystemFilter


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
