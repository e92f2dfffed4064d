"""The gate's API, for deploy pipelines: allow or deny (signed), the rollback target, the public key."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from governance.core.exceptions import ApplicationError, NotFoundError
from governance.core.roles import require
from governance.gate import reads, services
from governance.gate.keys import signing_key
from governance.gate.metrics import GATE_DECISIONS, GATE_LATENCY
from governance.policies.models import Environment
from governance.registry.models import AISystem
from governance.registry.tokens import (
    PipelineTokenAuthentication,
    TokenScopePermission,
    pipeline_actor,
    token_require_system,
)

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
        mv = reads.version_in_system(slug=slug, version=version)
        if mv is None:
            _system(slug)
            raise NotFoundError(NO_VERSION.format(version=version, system=slug), field="version")
        token_require_system(request.auth, mv.system)
        with GATE_LATENCY.time():
            answer = services.gate_answer(system=mv.system, version=mv, environment=environment,
                                          actor=pipeline_actor(request) or request.user)
        GATE_DECISIONS.labels(environment=environment, decision=answer["decision"]).inc()
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
        system = _system(slug)
        token_require_system(request.auth, system)
        answer = services.rollback_answer(system=system, environment=environment,
                                      actor=pipeline_actor(request) or request.user)
        return Response(answer)


class PemRenderer(BaseRenderer):
    """The public key as a plain PEM file (``?format=pem`` or ``Accept: application/x-pem-file``), so that
    ``curl .../gate/public-key/?format=pem > gate.pub.pem`` is what gate_check.py --public-key reads."""

    media_type = "application/x-pem-file"
    format = "pem"
    charset = "ascii"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict) and "public_key_pem" in data:
            return data["public_key_pem"].encode("ascii")
        # An error (no key configured) is not a key: say it in words, never as something that parses as PEM.
        message = data.get("message", "") if isinstance(data, dict) else str(data)
        return f"{message}\n".encode("ascii", "replace")


class GatePublicKeyView(APIView):
    """GET /api/v1/gate/public-key/ — the key that verifies attestations (pin it in pipelines).

    Public, as a public key is: no token, and a wrong one is not read. JSON by default, with the key's
    fingerprint: the sha256 of the raw 32-byte Ed25519 key, the same hex as ``keyid`` in every
    attestation and as the key gate_check.py names when a signature verifies."""

    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, PemRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "pem"], required=False,
                                     description="pem: the key alone, as a PEM file for gate_check.py --public-key")],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "application/x-pem-file"): OpenApiTypes.STR},
        auth=[])
    def get(self, request):
        key = signing_key()
        return Response({"algorithm": "ed25519", "keyid": key.keyid, "fingerprint_sha256": key.keyid,
                         "public_key_pem": key.public_pem.decode("ascii")})
