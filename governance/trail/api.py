"""The audit trail's API: export as JSON Lines, verify the chain."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core.exceptions import ApplicationError
from governance.core.roles import require
from governance.trail.services import trail_jsonl, trail_verify


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
