"""GET /metrics: Prometheus text format. Closed by default (settings.METRICS_TOKEN /
METRICS_ALLOWED_NETWORKS)."""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from governance.metrics.collectors import AuditRunCollector

CLOSED = "Metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS to let a scraper in."
REFUSED = "Send the metrics token as 'Authorization: Bearer <token>', or scrape from an allowed network."


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS)


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # gunicorn with several workers: each writes its counters there; add them up.
        MultiProcessCollector(registry)
    else:
        registry.register(_ProcessRegistry())
    registry.register(AuditRunCollector())
    return registry


class _ProcessRegistry:
    """This process's own metrics (the gate's counters), without registering our DB collector
    globally: it must run per scrape, never at import."""

    def collect(self):
        yield from REGISTRY.collect()


@require_GET
def metrics(request):
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_NETWORKS:
        return JsonResponse({"message": CLOSED, "extra": {}}, status=403)
    if not _allowed(request):
        return JsonResponse({"message": REFUSED, "extra": {"field": "Authorization"}}, status=403)
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
