"""Rate limits of the public intake, per client address (REST_FRAMEWORK's DEFAULT_THROTTLE_RATES,
NUM_PROXIES for the address behind a proxy), kept in the default cache. The page and the API
share them: one budget per address, whichever door it uses."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

TOO_FREQUENT = "Too many reports from this address; try again in {wait} s."


class PublicReportThrottle(SimpleRateThrottle):
    scope = "public_reports"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PublicStatusThrottle(PublicReportThrottle):
    """Looking a reference up: generous for people, far too slow to guess 144-bit references."""

    scope = "public_report_status"


def wait_seconds(throttle) -> int:
    wait = throttle.wait()
    return int(wait) + 1 if wait is not None else 60
