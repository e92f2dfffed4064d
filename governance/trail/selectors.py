"""Read side of the audit trail: the rows a reader filters, each described in words."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.apps import apps

from governance.trail.models import AuditLogEntry

SHOWN_VALUE = 120  # characters of one payload value on the page; the export has them whole


def trail_entries(*, system: str = "", actor: str = "", action: str = "", since: date | None = None,
                  until: date | None = None):
    """Newest first. `system` a slug, `actor` part of the actor's label, `action` a prefix
    ("approval."), `since`/`until` whole days (UTC), both included."""
    rows = AuditLogEntry.objects.order_by("-seq")
    if system:
        rows = rows.filter(payload__system=system)
    if actor:
        rows = rows.filter(actor__icontains=actor)
    if action:
        rows = rows.filter(action__startswith=action)
    if since:
        rows = rows.filter(created_at__gte=datetime.combine(since, time.min, tzinfo=dt_timezone.utc))
    if until:
        rows = rows.filter(created_at__lt=datetime.combine(until + timedelta(days=1), time.min, tzinfo=dt_timezone.utc))
    return rows


def trail_systems() -> list[str]:
    """The system slugs the trail speaks of, for the filter."""
    values = AuditLogEntry.objects.exclude(payload__system=None).values_list("payload__system", flat=True)
    return sorted({v for v in values.distinct() if isinstance(v, str) and v})


def _value(key: str, value) -> str:
    if key == "sealed" and isinstance(value, dict):
        return f"{len(value)} record{'s' * (len(value) != 1)}, content hashed (checked by Verify)"
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = "; ".join(value)
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= SHOWN_VALUE else text[:SHOWN_VALUE - 1] + "…"


def entry_words(entry: AuditLogEntry) -> dict:
    """One row as a reader sees it: what the object is ("control assessment") and the payload
    as labelled values, not a Python dict."""
    try:
        noun = apps.get_model(entry.object_type)._meta.verbose_name
    except (LookupError, ValueError):
        noun = entry.object_type
    payload = dict(entry.payload or {})
    system = payload.pop("system", "")
    return {"entry": entry, "noun": noun, "system": system,
            "details": [(key.replace("_", " "), _value(key, v)) for key, v in sorted(payload.items())]}
