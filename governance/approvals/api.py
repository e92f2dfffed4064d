"""The approvals API: requests, decisions, revocations, and written acceptances of inconclusive results.
Thin: parse, look up, call one service or selector, render."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from audits.runs.models import AuditRun
from governance.approvals import risk, selectors, services
from governance.approvals.models import (
    ApprovalRequest,
    ApprovalStatus,
    Decision,
    RiskAcceptance,
)
from governance.core import idempotency
from governance.core.access import RoleRequired
from governance.core.exceptions import ApplicationError, NotFoundError
from governance.core.parsers import BoundedJSONParser
from governance.core.roles import require
from governance.policies.models import Environment
from governance.registry.filters import SYSTEM_HELP, VERSION_HELP, system_lookup, versions_matching
from governance.registry.models import ModelVersion, PipelineToken
from governance.registry.tokens import PipelineTokenAuthentication


class DecisionOut(serializers.Serializer):
    stage = serializers.IntegerField()
    role = serializers.CharField()
    user = serializers.CharField(source="user.username")
    name = serializers.SerializerMethodField()
    decision = serializers.CharField()
    comment = serializers.CharField()
    acknowledged_gaps = serializers.ListField(child=serializers.CharField())
    decided_at = serializers.DateTimeField()

    def get_name(self, obj) -> str:
        return obj.user.get_full_name() or obj.user.get_username()


class ApprovalOut(serializers.ModelSerializer):
    system = serializers.CharField(source="version.system.slug")
    version_label = serializers.CharField(source="version.version")
    requested_by = serializers.CharField(source="requested_by.username")
    policy = serializers.CharField(source="policy.name")
    decisions = DecisionOut(many=True)

    class Meta:
        model = ApprovalRequest
        fields = ["id", "system", "version", "version_label", "environment", "status", "current_stage", "stages",
                  "policy", "justification", "acknowledged_gaps", "requested_by", "created_at", "submitted_at", "decided_at",
                  "approved_at", "expires_at", "revoked_at", "revoked_reason", "decisions"]


class ApprovalIn(serializers.Serializer):
    version = serializers.UUIDField()
    environment = serializers.ChoiceField(choices=Environment.choices)
    justification = serializers.CharField(required=False, allow_blank=True, default="")
    submit = serializers.BooleanField(required=False, default=True)
    acknowledge = serializers.BooleanField(required=False, default=False, help_text=(
        "Needed when the version misses its policy (a 400 lists what): you have read it, and the justification "
        "says why it should go ahead"))


class DecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    role = serializers.CharField(required=False, allow_blank=True, default="")
    acknowledge = serializers.BooleanField(required=False, default=False, help_text=(
        "Needed to approve a version that misses its policy: you have read what it misses, and the comment says why"))


class RevokeIn(serializers.Serializer):
    reason = serializers.CharField()


def _request(pk) -> ApprovalRequest:
    return get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)


def _out(pk) -> dict:
    return ApprovalOut(selectors.approval_request_detail(pk=pk)).data


class ApprovalListView(APIView):
    parser_classes = [BoundedJSONParser, FormParser]

    @extend_schema(parameters=[
        OpenApiParameter("system", str, description=SYSTEM_HELP),
        OpenApiParameter("version", str, description=VERSION_HELP),
        OpenApiParameter("environment", str, enum=Environment.values),
        OpenApiParameter("status", str, enum=ApprovalStatus.values)], responses={200: ApprovalOut(many=True)})
    def get(self, request):
        q = request.query_params
        system = system_lookup(q["system"]) if q.get("system") else None
        rows = selectors.approval_requests_list(system_slug=system.slug if system else "",
                                                environment=q.get("environment", ""), status=q.get("status", ""))
        if q.get("version"):
            rows = rows.filter(version__in=versions_matching(q["version"], system=system))
        return Response(ApprovalOut(rows[:200], many=True).data)

    @extend_schema(request=ApprovalIn, responses={201: ApprovalOut}, parameters=[idempotency.PARAMETER])
    @idempotency.idempotent
    def post(self, request):
        data = ApprovalIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        version = ModelVersion.objects.select_related("system").filter(pk=v["version"]).first()
        if version is None:
            raise ApplicationError(f"version: no such model version ({v['version']}).", field="version")
        req = services.approval_request_create(actor=request.user, version=version, environment=v["environment"],
                                               justification=v["justification"], submit=v["submit"],
                                               acknowledge=v["acknowledge"])
        return Response(_out(req.pk), status=status.HTTP_201_CREATED)


class ApprovalDetailView(APIView):
    @extend_schema(responses={200: ApprovalOut})
    def get(self, request, pk):
        _request(pk)
        return Response(_out(pk))


class ApprovalSubmitView(APIView):
    @extend_schema(request=None, responses={200: ApprovalOut})
    def post(self, request, pk):
        services.approval_request_submit(actor=request.user, request=_request(pk))
        return Response(_out(pk))


class ApprovalDecisionView(APIView):
    parser_classes = [BoundedJSONParser, FormParser]

    @extend_schema(request=DecisionIn, responses={201: ApprovalOut}, parameters=[idempotency.PARAMETER])
    @idempotency.idempotent
    def post(self, request, pk):
        data = DecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        services.approval_decide(actor=request.user, request=_request(pk), decision=v["decision"],
                                 comment=v["comment"], role=v["role"] or None, acknowledge=v["acknowledge"])
        return Response(_out(pk), status=status.HTTP_201_CREATED)


class ApprovalRevokeView(APIView):
    parser_classes = [BoundedJSONParser, FormParser]

    @extend_schema(request=RevokeIn, responses={200: ApprovalOut})
    def post(self, request, pk):
        data = RevokeIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.approval_revoke(actor=request.user, request=_request(pk), reason=data.validated_data["reason"])
        return Response(_out(pk))


# --- Risk acceptance ----------------------------------------------------------------------

NO_RUN = "No audit run {run_id}."
NO_PIPELINES = "A pipeline token cannot accept risks or read acceptances; sign in as a person."


class PeopleOnly(RoleRequired):
    """Signed-in people only. A pipeline token is recognised (so that it is refused with 403 and a
    reason, not 401) but never has a scope for this: accepting a risk is a person's call."""

    def has_permission(self, request, view):
        if isinstance(request.auth, PipelineToken):
            raise exceptions.PermissionDenied(NO_PIPELINES)
        return super().has_permission(request, view)


class RiskAcceptanceOut(serializers.ModelSerializer):
    run = serializers.UUIDField(source="audit_run_id")
    kind = serializers.CharField(source="audit_run.kind")
    system = serializers.CharField(source="audit_run.version.system.slug")
    version = serializers.UUIDField(source="audit_run.version_id")
    version_label = serializers.CharField(source="audit_run.version.version")
    accepted_by = serializers.CharField(source="accepted_by.username")

    class Meta:
        model = RiskAcceptance
        fields = ["id", "run", "kind", "system", "version", "version_label", "environment", "role", "accepted_by",
                  "justification", "accepted_at", "expires_at"]


class RiskAcceptanceIn(serializers.Serializer):
    environment = serializers.ChoiceField(choices=Environment.choices)
    justification = serializers.CharField(required=False, allow_blank=True, default="")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                           help_text="ISO 8601; empty: the audit's maximum age under the policy")
    role = serializers.CharField(required=False, allow_blank=True, default="")


def _run(run_id) -> AuditRun:
    run = AuditRun.objects.select_related("version__system").filter(pk=run_id).first()
    if run is None:
        raise NotFoundError(NO_RUN.format(run_id=run_id), field="run")
    return run


class RiskAcceptanceView(APIView):
    """/api/v1/runs/<run>/risk-acceptances/ — accept an inconclusive audit result for an
    environment (risk officer, executive approver), or list the run's acceptances."""

    authentication_classes = [PipelineTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [PeopleOnly]
    parser_classes = [BoundedJSONParser, FormParser]

    @extend_schema(responses={200: RiskAcceptanceOut(many=True)})
    def get(self, request, run_id):
        require(request.user, "gate.read")
        run = _run(run_id)
        rows = [a for a in risk.risk_acceptances_for_version(version=run.version) if a.audit_run_id == run.pk]
        return Response(RiskAcceptanceOut(rows, many=True).data)

    @extend_schema(request=RiskAcceptanceIn, responses={201: RiskAcceptanceOut})
    def post(self, request, run_id):
        run = _run(run_id)
        data = RiskAcceptanceIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        acceptance = risk.risk_accept(actor=request.user, run=run, environment=v["environment"],
                                      justification=v["justification"], expires_at=v["expires_at"],
                                      role=v["role"] or None)
        return Response(RiskAcceptanceOut(acceptance).data, status=status.HTTP_201_CREATED)
