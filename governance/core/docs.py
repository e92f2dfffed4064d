"""The API's docs pages, served by the app alone: Swagger UI and ReDoc from drf-spectacular-sidecar's
static files, so that /api/docs/ and /api/redoc/ render on a machine without Internet access."""

from __future__ import annotations

from functools import lru_cache

from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularRedocView

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
# ReDoc's side menu always shows Redocly's logo, fetched from their CDN: the only request ReDoc makes
# outside the app. An image that does not load is hidden by ReDoc itself (its onError), so a `data:`
# URL that is no image leaves the credit line in words and asks nobody for anything.
REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
NO_IMAGE = "data:,"


@lru_cache(maxsize=1)
def redoc_bundle_text() -> str:
    path = finders.find(REDOC_BUNDLE)
    if path is None:
        raise Http404("drf-spectacular-sidecar is not installed.")
    with open(path, encoding="utf-8") as fh:
        return fh.read().replace(REDOC_CDN_LOGO, NO_IMAGE)


@require_GET
def redoc_bundle(request):
    response = HttpResponse(redoc_bundle_text(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


class LocalRedocView(SpectacularRedocView):
    template_name = "api/redoc.html"

    def _redoc_standalone(self):
        return reverse("redoc-bundle")
