"""Plain SQL for the hot paths (the gate and the pipeline token check).

Why not the ORM there: compiling a queryset costs ~0.3 ms of CPU per query on this project's
machines, against ~0.02 ms to run the statement itself on SQLite; with eight reads per gate
answer that was most of the request (see tests/benchmarks/bench_gate.py). Statements built
with these helpers are fixed, take bound parameters only, name tables and columns through
the models' `_meta`, and run on SQLite and PostgreSQL alike. Rows become unsaved model
instances, so the code that reads them reads ordinary model attributes.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from datetime import timezone as dt_timezone
from functools import lru_cache

from django.db import connection


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def columns(model, names: list[str]) -> str:
    return ", ".join(f"{table(model)}.{connection.ops.quote_name(model._meta.get_field(n).column)}" for n in names)


def cached_sql(build):
    """Build each statement once per database vendor and shape (number of ids), not per request."""
    cached = lru_cache(maxsize=64)(lambda vendor, *shape: build(*shape))
    return lambda *shape: cached(connection.vendor, *shape)


def as_datetime(value):
    """SQLite hands datetimes back as text (naive UTC); PostgreSQL as aware datetimes."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=dt_timezone.utc)


def as_json(value):
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def as_uuid(value):
    return value if isinstance(value, uuid.UUID) or value is None else uuid.UUID(str(value))


def placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
