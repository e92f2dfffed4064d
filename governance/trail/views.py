"""The audit-log pages: read (with a verification on request) and export. Thin: check access, read, render."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render

from governance.core.access import role_required
from governance.core.forms import form_error
from governance.core.roles import can, require
from governance.trail.forms import TrailFilterForm
from governance.trail.selectors import entry_words, trail_entries, trail_systems
from governance.trail.services import trail_jsonl, trail_verify


@role_required
def trail_list(request):
    require(request.user, "trail.view")  # a refusal is the 403 page (core/middleware.py)
    form = TrailFilterForm(request.GET)
    filters = form.filters()
    verification = trail_verify() if request.GET.get("verify") else None
    page = Paginator(trail_entries(**filters), 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("verify", None)
    return render(request, "trail/list.html", {
        "entries": page, "rows": [entry_words(e) for e in page.object_list], "form": form,
        "f": {name: request.GET.get(name, "") for name in form.fields}, "systems": trail_systems(),
        "query": query.urlencode(), "filter_error": form_error(form),
        "verification": verification, "can_export": can(request.user, "trail.export"),
    })


@role_required
def trail_download(request):
    require(request.user, "trail.export")  # a refusal is the 403 page (core/middleware.py)
    response = StreamingHttpResponse(trail_jsonl(), content_type="application/jsonl")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.jsonl"'
    return response
