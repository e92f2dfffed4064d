"""The audit trail's API: export as JSON Lines, verify the chain."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core.exceptions import ApplicationError
from governance.core.roles import require
from governance.trail.services import parse_anchors, trail_jsonl, trail_verify


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


ANCHOR_PARAM = OpenApiParameter(
    "anchor", str, many=True, explode=True,
    description="SEQ:HASH, a row recorded outside the database (e.g. the audit_trail of a stored gate attestation); "
                "it must still be in the chain. Repeatable: ?anchor=12:ab..&anchor=40:cd.. (as verify_audit_log "
                "--anchor). A trail cut off or rewritten after it is then found even when chain and head agree.")


class TrailVerifyView(APIView):
    """GET /api/v1/audit-log/verify/?anchor=SEQ:HASH — walk the chain; name the first broken row
    and what broke (`kind`: edited, missing, truncated, head, anchor, sealed)."""

    @extend_schema(parameters=[ANCHOR_PARAM], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        require(request.user, "trail.view")
        result = trail_verify(anchors=parse_anchors(request.query_params.getlist("anchor")))
        return Response({"ok": result.ok, "rows": result.rows, "first_broken_seq": result.first_broken_seq,
                         "kind": result.kind or None, "problem": result.problem or None, "head_seq": result.head_seq,
                         "head_hash": result.head_hash})
