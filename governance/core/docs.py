"""The API's docs pages, served by the app alone: Swagger UI and ReDoc from drf-spectacular-sidecar's
static files, so that /api/docs/ and /api/redoc/ render on a machine without Internet access."""

from __future__ import annotations

from functools import lru_cache

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

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


# The docs pages' own policy, in place of three of the site's directives (settings.py): ReDoc
# and Swagger UI insert <style> elements as they render (no nonce can reach those), and ReDoc runs
# its search index in a worker made from a blob: URL. Their scripts are still the app's own:
# Swagger UI's set-up comes from ?script (SpectacularSwaggerSplitView), ReDoc's (when it has
# settings) carries the request's nonce (templates/api/redoc.html).
# Both set style attributes as they render too, which the site's policy no longer allows.
DOCS_CSP = {"style-src": [SELF, UNSAFE_INLINE], "style-src-elem": [SELF, UNSAFE_INLINE],
            "style-src-attr": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}
# Replaced, not added to: a nonce in a style directive would make browsers ignore 'unsafe-inline'.
docs_policy = method_decorator(csp_replace(DOCS_CSP), name="dispatch")


@docs_policy
class LocalSwaggerView(SpectacularSwaggerSplitView):
    pass


@docs_policy
class LocalRedocView(SpectacularRedocView):
    template_name = "api/redoc.html"

    def _redoc_standalone(self):
        return reverse("redoc-bundle")
