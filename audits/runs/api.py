"""The audit runs' API: request a run, follow it. Thin: parse, look up, call one service, render."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response

from audits.runs import serializers as s
from audits.runs.models import AuditRun
from audits.runs.services import audit_run_create
from governance.core.exceptions import ApplicationError
from governance.registry.models import ModelVersion


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
