"""Thin API views for approvals, risk acceptance, the deploy gate and the audit trail."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from audits.models import AuditRun
from governance import approvals, gate, gate_reads, risk
from governance.exceptions import ApplicationError, NotFoundError
from governance.keys import signing_key
from governance.models import (
    AISystem,
    ApprovalRequest,
    ApprovalStatus,
    Decision,
    Environment,
    ModelVersion,
    PipelineToken,
    RiskAcceptance,
)
from governance.roles import require
from governance.tokens import PipelineTokenAuthentication, TokenScopePermission, pipeline_actor
from governance.trail import trail_jsonl, trail_verify

ENV_PARAM = OpenApiParameter("environment", str, enum=Environment.values, required=True,
                             description="Where the version is about to be deployed")
NO_VERSION = "No version {version!r} of {system}."
NO_SYSTEM = "No AI system {slug!r}."


def _environment(request) -> str:
    env = request.query_params.get("environment")
    if not env:
        raise ApplicationError("environment is required: one of staging, production.", field="environment")
    return env


def _system(slug) -> AISystem:
    system = AISystem.objects.filter(slug=slug).first()
    if system is None:
        raise NotFoundError(NO_SYSTEM.format(slug=slug), field="system")
    return system


# --- The gate ------------------------------------------------------------------------------

class GateView(APIView):
    """GET /api/v1/gate/<system>/<version>/?environment=production — allow or deny, signed."""

    authentication_classes = [PipelineTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [TokenScopePermission]
    required_scope = "gate:read"

    @extend_schema(parameters=[ENV_PARAM], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, slug, version):
        environment = _environment(request)
        if pipeline_actor(request) is None:
            require(request.user, "gate.read")
        mv = gate_reads.version_in_system(slug=slug, version=version)
        if mv is None:
            _system(slug)
            raise NotFoundError(NO_VERSION.format(version=version, system=slug), field="version")
        answer = gate.gate_answer(system=mv.system, version=mv, environment=environment,
                                  actor=pipeline_actor(request) or request.user)
        return Response(answer)


class RollbackView(APIView):
    """GET /api/v1/rollback/<system>/?environment=production — the last version still allowed."""

    authentication_classes = GateView.authentication_classes
    permission_classes = [TokenScopePermission]
    required_scope = "gate:read"

    @extend_schema(parameters=[ENV_PARAM], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, slug):
        environment = _environment(request)
        if pipeline_actor(request) is None:
            require(request.user, "gate.read")
        answer = gate.rollback_answer(system=_system(slug), environment=environment,
                                      actor=pipeline_actor(request) or request.user)
        return Response(answer)


class GatePublicKeyView(APIView):
    """GET /api/v1/gate/public-key/ — the key that verifies attestations (pin it in pipelines)."""

    authentication_classes = GateView.authentication_classes
    permission_classes = [TokenScopePermission]
    required_scope = "gate:read"

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        key = signing_key()
        return Response({"algorithm": "ed25519", "keyid": key.keyid, "public_key_pem": key.public_pem.decode("ascii")})


# --- Approvals -----------------------------------------------------------------------------

class DecisionOut(serializers.Serializer):
    stage = serializers.IntegerField()
    role = serializers.CharField()
    user = serializers.CharField(source="user.username")
    name = serializers.SerializerMethodField()
    decision = serializers.CharField()
    comment = serializers.CharField()
    decided_at = serializers.DateTimeField()

    def get_name(self, obj):
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
                  "policy", "justification", "requested_by", "created_at", "submitted_at", "decided_at",
                  "approved_at", "expires_at", "revoked_at", "revoked_reason", "decisions"]


class ApprovalIn(serializers.Serializer):
    version = serializers.UUIDField()
    environment = serializers.ChoiceField(choices=Environment.choices)
    justification = serializers.CharField(required=False, allow_blank=True, default="")
    submit = serializers.BooleanField(required=False, default=True)


class DecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    role = serializers.CharField(required=False, allow_blank=True, default="")


class RevokeIn(serializers.Serializer):
    reason = serializers.CharField()


def _request(pk) -> ApprovalRequest:
    return get_object_or_404(ApprovalRequest.objects.select_related("version__system"), pk=pk)


def _out(pk) -> dict:
    return ApprovalOut(approvals.approval_request_detail(pk=pk)).data


class ApprovalListView(APIView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(parameters=[
        OpenApiParameter("system", str), OpenApiParameter("environment", str, enum=Environment.values),
        OpenApiParameter("status", str, enum=ApprovalStatus.values)], responses={200: ApprovalOut(many=True)})
    def get(self, request):
        q = request.query_params
        rows = approvals.approval_requests_list(system_slug=q.get("system", ""), environment=q.get("environment", ""),
                                                status=q.get("status", ""))[:200]
        return Response(ApprovalOut(rows, many=True).data)

    @extend_schema(request=ApprovalIn, responses={201: ApprovalOut})
    def post(self, request):
        data = ApprovalIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        version = ModelVersion.objects.select_related("system").filter(pk=v["version"]).first()
        if version is None:
            raise ApplicationError(f"version: no such model version ({v['version']}).", field="version")
        req = approvals.approval_request_create(actor=request.user, version=version, environment=v["environment"],
                                               justification=v["justification"], submit=v["submit"])
        return Response(_out(req.pk), status=status.HTTP_201_CREATED)


class ApprovalDetailView(APIView):
    @extend_schema(responses={200: ApprovalOut})
    def get(self, request, pk):
        _request(pk)
        return Response(_out(pk))


class ApprovalSubmitView(APIView):
    @extend_schema(request=None, responses={200: ApprovalOut})
    def post(self, request, pk):
        approvals.approval_request_submit(actor=request.user, request=_request(pk))
        return Response(_out(pk))


class ApprovalDecisionView(APIView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=DecisionIn, responses={201: ApprovalOut})
    def post(self, request, pk):
        data = DecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        approvals.approval_decide(actor=request.user, request=_request(pk), decision=v["decision"],
                                  comment=v["comment"], role=v["role"] or None)
        return Response(_out(pk), status=status.HTTP_201_CREATED)


class ApprovalRevokeView(APIView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=RevokeIn, responses={200: ApprovalOut})
    def post(self, request, pk):
        data = RevokeIn(data=request.data)
        data.is_valid(raise_exception=True)
        approvals.approval_revoke(actor=request.user, request=_request(pk), reason=data.validated_data["reason"])
        return Response(_out(pk))


# --- Risk acceptance ----------------------------------------------------------------------

NO_RUN = "No audit run {run_id}."
NO_PIPELINES = "A pipeline token cannot accept risks or read acceptances; sign in as a person."


class PeopleOnly(permissions.IsAuthenticated):
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
    parser_classes = [JSONParser, FormParser]

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


# --- The audit trail -----------------------------------------------------------------------

class TrailExportView(APIView):
    """GET /api/v1/audit-log/export/?since_seq=0 — the trail as JSON Lines, for auditors."""

    @extend_schema(parameters=[OpenApiParameter("since_seq", int)], responses={(200, "application/jsonl"): OpenApiTypes.STR})
    def get(self, request):
        require(request.user, "trail.export")
        try:
            since = int(request.query_params.get("since_seq", "0"))
        except ValueError:
            raise ApplicationError("since_seq must be an integer.", field="since_seq") from None
        response = StreamingHttpResponse(trail_jsonl(since_seq=since), content_type="application/jsonl")
        response["Content-Disposition"] = 'attachment; filename="audit-trail.jsonl"'
        return response


class TrailVerifyView(APIView):
    """GET /api/v1/audit-log/verify/ — walk the chain; name the first broken row."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        require(request.user, "trail.view")
        result = trail_verify()
        return Response({"ok": result.ok, "rows": result.rows, "first_broken_seq": result.first_broken_seq,
                         "problem": result.problem or None, "head_seq": result.head_seq, "head_hash": result.head_hash})

