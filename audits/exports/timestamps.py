"""Timestamps in exported documents: ISO 8601 with a timezone, or a clear error."""

from __future__ import annotations

from datetime import datetime

ERR_TIMESTAMP = "{field} must be an ISO 8601 date-time with a timezone, got {value!r}"


def parse_aware_time(value, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(ERR_TIMESTAMP.format(field=field, value=value)) from None
    if parsed.tzinfo is None:
        raise ValueError(ERR_TIMESTAMP.format(field=field, value=value))
    return parsed
