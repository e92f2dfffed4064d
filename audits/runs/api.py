"""The audit runs' API: request a run, follow it. Thin: parse, look up, call one service, render."""

from __future__ import annotations

import django_filters
from django.utils.choices import BaseChoiceIterator
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from audits.runs import serializers as s
from audits.runs.models import AuditRun, RunStatus
from audits.runs.registry import KINDS
from audits.runs.services import audit_run_create
from governance.core import idempotency
from governance.core.exceptions import ApplicationError
from governance.core.parsers import BoundedJSONParser
from governance.registry.filters import SystemFilter, VersionFilter
from governance.registry.models import ModelVersion


class _KindChoices(BaseChoiceIterator):
    """The kinds registered when Django started, read when a filter or the schema asks (not at import)."""

    def __iter__(self):
        return iter([(name, kind.label) for name, kind in KINDS.items()])


class AuditRunFilter(django_filters.FilterSet):
    system = SystemFilter()
    version = VersionFilter()
    kind = django_filters.ChoiceFilter(choices=_KindChoices())
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = AuditRun
        fields = ["system", "version", "kind", "status"]


class AuditRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = AuditRun.objects.select_related("system", "version")
    filterset_class = AuditRunFilter
    parser_classes = [BoundedJSONParser, FormParser]

    def get_serializer_class(self):
        return s.AuditRunListOut if self.action == "list" else s.AuditRunOut

    @extend_schema(request=s.AuditRunIn, responses={201: s.AuditRunOut}, parameters=[idempotency.PARAMETER])
    @idempotency.idempotent
    def create(self, request):
        data = s.AuditRunIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        version = ModelVersion.objects.select_related("system").filter(pk=v["version"]).first()
        if version is None:
            raise ApplicationError(f"version: no such model version ({v['version']}).", field="version")
        run = audit_run_create(actor=request.user, version=version, kind=v["kind"], params=v["params"])
        return Response(s.AuditRunOut(run).data, status=status.HTTP_201_CREATED)
