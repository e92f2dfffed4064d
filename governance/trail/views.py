"""The audit-log pages: read (with a verification on request) and export. Thin: check access, read, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render

from governance.core.exceptions import ApplicationError
from governance.core.roles import can, require
from governance.trail.models import AuditLogEntry
from governance.trail.services import trail_jsonl, trail_verify


@login_required
def trail_list(request):
    try:
        require(request.user, "trail.view")
    except ApplicationError as exc:
        return render(request, "core/forbidden.html", {"message": exc.message}, status=403)
    action = request.GET.get("action", "").strip()
    rows = AuditLogEntry.objects.order_by("-seq")
    if action:
        rows = rows.filter(action__startswith=action)
    verification = trail_verify() if request.GET.get("verify") else None
    return render(request, "trail/list.html", {
        "entries": Paginator(rows, 100).get_page(request.GET.get("page")), "action": action,
        "verification": verification, "can_export": can(request.user, "trail.export"),
    })


@login_required
def trail_download(request):
    try:
        require(request.user, "trail.export")
    except ApplicationError as exc:
        return render(request, "core/forbidden.html", {"message": exc.message}, status=403)
    response = StreamingHttpResponse(trail_jsonl(), content_type="application/jsonl")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.jsonl"'
    return response
