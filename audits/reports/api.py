"""The signed reports' API: generate, list, download, verify. Thin: parse, check access, call one
service or selector, render. Errors come out as {"message", "extra"} through the project handler."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from audits.reports.models import Report, ReportStatus
from audits.reports.selectors import report_list
from audits.reports.service import report_generate, report_verify
from governance.core import idempotency
from governance.core.exceptions import ApplicationError, NotFoundError
from governance.core.parsers import BoundedJSONParser
from governance.core.roles import require
from governance.registry.filters import SYSTEM_HELP, VERSION_HELP, system_lookup, versions_matching
from governance.registry.models import ModelVersion


class ReportOut(serializers.ModelSerializer):
    system = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.UUIDField(source="version_id", read_only=True)
    version_label = serializers.CharField(source="version.version", read_only=True)
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True,
                                       read_only=True)
    superseded_by = serializers.CharField(source="superseded_by.report_number", default=None, allow_null=True,
                                          read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["id", "report_number", "system", "version", "version_label", "status", "sha256",
                  "signer_fingerprint", "signer_subject", "page_count", "size_bytes", "error", "created_by",
                  "created_at", "signed_at", "superseded_by", "download_url"]

    def get_download_url(self, obj) -> str | None:
        return f"/api/v1/reports/{obj.pk}/download/" if obj.status == ReportStatus.SIGNED else None


class ReportIn(serializers.Serializer):
    version = serializers.UUIDField()


class VerifyIn(serializers.Serializer):
    file = serializers.FileField(required=False, allow_empty_file=True)


class VerifyOut(serializers.Serializer):
    status = serializers.ChoiceField(choices=["valid", "invalid", "tampered", "unknown"])
    message = serializers.CharField()
    sha256 = serializers.CharField()
    signer_fingerprint = serializers.CharField(allow_null=True)
    signer_subject = serializers.CharField(allow_null=True)
    signed_at = serializers.CharField(allow_null=True)
    coverage = serializers.CharField(allow_null=True)
    matched_by = serializers.CharField(help_text='"sha256", "signed_revision", "report_number" or ""')
    report = ReportOut(allow_null=True)


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ReportOut
    parser_classes = [BoundedJSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        params = self.request.query_params
        if self.action != "list":
            return report_list()
        system = system_lookup(params["system"]) if params.get("system") else None
        rows = report_list(system_slug=system.slug if system else "", status=params.get("status", ""))
        if params.get("version"):
            rows = rows.filter(version__in=versions_matching(params["version"], system=system))
        return rows

    @extend_schema(parameters=[OpenApiParameter("system", str, description=SYSTEM_HELP),
                               OpenApiParameter("version", str, description=VERSION_HELP),
                               OpenApiParameter("status", str, enum=ReportStatus.values)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ReportIn, responses={201: ReportOut}, parameters=[idempotency.PARAMETER])
    @idempotency.idempotent
    def create(self, request):
        data = ReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        version = ModelVersion.objects.select_related("system").filter(pk=data.validated_data["version"]).first()
        if version is None:
            raise ApplicationError(f"version: no such model version ({data.validated_data['version']}).",
                                   field="version")
        report = report_generate(actor=request.user, version=version)
        return Response(ReportOut(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        report = self.get_object()
        require(request.user, "system.view", report.system)
        if report.status != ReportStatus.SIGNED or not report.file:
            raise NotFoundError(f"Report {report.report_number} has no signed file (status {report.status}).")
        response = FileResponse(report.file.open("rb"), content_type="application/pdf", as_attachment=True,
                                filename=f"{report.report_number}.pdf")
        response["X-Content-SHA256"] = report.sha256
        return response

    @extend_schema(request={"multipart/form-data": VerifyIn}, responses={200: VerifyOut})
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def verify(self, request):
        """Upload a PDF: valid / invalid / tampered / unknown, and which report record it is."""
        result = report_verify(upload=request.FILES.get("file"))
        return Response(VerifyOut(result).data)
