"""The pages every installation has: the front door and the health check."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect

from governance.core.health import health_report


def home(request):
    return redirect("system-list")


def healthz(request):
    """200 while the database answers ("ok", or "degraded" naming a missing broker, beat or worker); else 503."""
    body, status = health_report()
    return JsonResponse(body, status=status)
