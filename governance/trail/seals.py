"""Seals: the content hash of a record the platform never edits (evidence, finished audit
results, approval decisions, risk acceptances, signed reports), written into the trail row
that records it. The chain proves the trail unchanged; the seal proves the record unchanged,
so `verify_audit_log` names a record edited behind the application's back, even by someone
who disabled the database's guards, edited the row and enabled them again.

A model may name fields that change legitimately after the seal (a signed report's
`superseded_by`) in `SEAL_EXCLUDE`.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import math
import uuid

from django.db import models

from governance.trail.hashchain import canonical_json


def _plain(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds")
    if isinstance(value, (datetime.date, uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # NaN and infinities are not JSON; their text form is stable
    return value


def seal_fields(model) -> list[str]:
    exclude = set(getattr(model, "SEAL_EXCLUDE", ()))
    return sorted(f.attname for f in model._meta.concrete_fields if f.name not in exclude and f.attname not in exclude)


def row_digest(obj: models.Model) -> str:
    """sha256 of the record's stored content (read it back from the database first, so that a
    value is hashed in the form it comes back in)."""
    content = {name: _plain(getattr(obj, name)) for name in seal_fields(type(obj))}
    return hashlib.sha256(canonical_json(content)).hexdigest()


def seal_key(obj: models.Model) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def seals(objs) -> dict[str, str]:
    """{"app.model:pk": digest} for the records, as stored (re-read in one query per model)."""
    out = {}
    by_model: dict = {}
    for obj in objs:
        by_model.setdefault(type(obj), []).append(obj.pk)
    for model, pks in by_model.items():
        for stored in model.objects.filter(pk__in=pks):
            out[seal_key(stored)] = row_digest(stored)
    return out
