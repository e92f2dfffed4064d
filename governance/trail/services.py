"""The tamper-evident audit trail: append, verify, export.

Every state change appends one row (governance/trail/models.py) whose hash covers the row
before it (governance/trail/hashchain.py). Appends are serialised on the single head row: the
first statement of an append is an UPDATE of that row, which takes its row lock on
PostgreSQL and the database's write lock on SQLite before anything is read, so two
concurrent appends can never link to the same predecessor (on SQLite a transaction that
read first and then wrote could fail with "database is locked" instead of waiting).

Lock order, to stay free of deadlocks on PostgreSQL: approval requests, then control
assessments, then the trail head. `trail_append` comes last in every transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from governance.core.exceptions import ApplicationError
from governance.trail.hashchain import (
    GENESIS_HASH,
    iso_timestamp,
    row_hash,
    verify_chain,
)
from governance.trail.models import AuditLogEntry, AuditLogHead
from governance.trail.seals import row_digest, seals

HEAD_PK = 1


def actor_label(actor) -> str:
    """A User -> "user:<username>"; None -> "system"; a string is kept ("worker", "pipeline:ci")."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    if isinstance(actor, AbstractBaseUser):
        return f"user:{actor.get_username()}"
    raise TypeError(f"actor must be a User, a string or None, not {type(actor).__name__}")


def object_label(obj: models.Model) -> tuple[str, str]:
    return obj._meta.label_lower, str(obj.pk)


SYSTEM_MODEL = "registry.aisystem"


def system_of(obj: models.Model) -> str:
    """The slug of the AI system a row speaks of ("" when it is about no one system), so the
    trail can be read per system. Found by shape, as the trail sits below the registry: the
    system itself, or a record with a `system` or a `version` (whose system it is)."""
    if obj._meta.label_lower == SYSTEM_MODEL:
        return obj.slug
    for path in ("system", "version"):
        related = getattr(obj, path, None) if hasattr(obj, f"{path}_id") else None
        if related is not None:
            return system_of(related)
    return ""


def _plain_json(payload: dict | None) -> dict:
    # Round-trip through JSON so that the dict hashed is exactly the one stored and read back
    # (UUIDs, datetimes and Decimals become strings once, here).
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise TypeError("payload must be a dict")
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder, allow_nan=False))


def _advance_head() -> AuditLogHead:
    """Increment the head's seq (taking its lock) and return it: seq is the new row's, hash its predecessor's."""
    if not AuditLogHead.objects.filter(pk=HEAD_PK).update(seq=F("seq") + 1):
        # No head yet (a fresh or flushed database): create it; a concurrent creator wins harmlessly.
        try:
            with transaction.atomic():
                AuditLogHead.objects.create(pk=HEAD_PK, seq=0, hash=GENESIS_HASH)
        except IntegrityError:
            pass
        AuditLogHead.objects.filter(pk=HEAD_PK).update(seq=F("seq") + 1)
    return AuditLogHead.objects.get(pk=HEAD_PK)


def trail_append(*, actor, action: str, obj: models.Model, payload: dict | None = None, seal=()) -> AuditLogEntry:
    """Append one row to the trail, inside the caller's transaction (or its own).

    `seal`: records the row speaks of that are never edited; their content hashes go into
    the payload ("sealed"), so verification finds a record changed later (trail/seals.py)."""
    object_type, object_id = object_label(obj)
    payload = dict(payload or {})
    payload.setdefault("system", system_of(obj))  # hashed with the rest: the per-system view cannot be edited
    if not payload["system"]:
        del payload["system"]
    if seal:
        payload["sealed"] = seals(seal)
    fields = {
        "actor": actor_label(actor)[:200], "action": action[:64], "object_type": object_type, "object_id": object_id,
        "payload": _plain_json(payload),
    }
    with transaction.atomic():
        head = _advance_head()
        moment = timezone.now()
        stamp = iso_timestamp(moment)
        digest = row_hash(seq=head.seq, prev_hash=head.hash, timestamp=stamp, **fields)
        entry = AuditLogEntry(seq=head.seq, prev_hash=head.hash, timestamp=stamp, created_at=moment, hash=digest, **fields)
        entry.save()
        AuditLogHead.objects.filter(pk=HEAD_PK).update(hash=digest)
    return entry


@dataclass
class TrailVerification:
    rows: int
    first_broken_seq: int | None
    head_seq: int
    head_hash: str
    last_hash: str
    problem: str = ""
    # What broke, in one word: "edited", "missing", "truncated" (the newest rows, or all, are gone
    # while the head remembers them), "head" (the head does not match the chain's end),
    # "expected_head", "anchor", "sealed"; "" when intact.
    kind: str = ""
    sealed: int = 0  # records whose content was checked against their seal
    changed_records: list = field(default_factory=list)  # "app.model:pk (sealed in row N)"

    @property
    def ok(self) -> bool:
        return not self.problem


def _rows(batch: int) -> Iterator[dict]:
    for entry in AuditLogEntry.objects.order_by("seq").iterator(chunk_size=batch):
        yield entry.as_row()


ANCHOR_FORMAT = "anchor {value!r}: expected SEQ:HASH (a row number and a 64-hex hash)."


def parse_anchors(values) -> dict[int, str]:
    """["SEQ:HASH", ...] (the command's --anchor, the API's ?anchor=) -> {seq: hash}; a bad one is an error."""
    anchors = {}
    for value in values:
        seq, _, digest = value.strip().partition(":")
        if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest):
            raise ApplicationError(ANCHOR_FORMAT.format(value=value), field="anchor")
        anchors[int(seq)] = digest.lower()
    return anchors


def trail_verify(*, batch: int = 2000, expect_head: str | None = None,
                 anchors: dict[int, str] | None = None) -> TrailVerification:
    """Walk the whole chain; name the first row that is edited, missing or out of place.

    `anchors` ({seq: hash}, e.g. from gate attestations, which carry the head they saw) must
    each still be in the chain: a trail rewritten or cut off after them is found even when
    the rewrite is internally consistent."""
    counted = {"rows": 0, "last": GENESIS_HASH}
    anchors = dict(anchors or {})
    seen: dict[int, str] = {}

    sealed: dict[str, tuple[int, str]] = {}  # the newest seal of each record

    def counting(rows):
        for row in rows:
            counted["rows"] += 1
            counted["last"] = row["hash"]
            if row["seq"] in anchors:
                seen[row["seq"]] = row["hash"]
            for key, digest in (row["payload"].get("sealed") or {}).items():
                sealed[key] = (row["seq"], digest)
            yield row

    broken = verify_chain(counting(_rows(batch)))
    head = AuditLogHead.objects.filter(pk=HEAD_PK).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    result = TrailVerification(rows=counted["rows"], first_broken_seq=broken, head_seq=head_seq, head_hash=head_hash,
                               last_hash=counted["last"], sealed=len(sealed))
    result.changed_records = _changed_records(sealed, batch)
    if broken is not None:
        entry = AuditLogEntry.objects.filter(seq=broken).first()
        if entry is None:
            result.kind = "missing"
            result.problem = f"Row {broken} is missing: the chain jumps past it."
        else:
            result.kind = "edited"
            result.problem = (
                f"Row {broken} ({entry.action} on {entry.object_type}:{entry.object_id} by {entry.actor}, "
                f"{entry.timestamp}) does not match its hash or its link to row {broken - 1}: "
                "it, or the row before it, was changed."
            )
    elif head_seq > counted["rows"]:
        result.first_broken_seq = counted["rows"] + 1
        result.kind = "truncated"
        result.problem = (
            f"The trail is empty but the head records row {head_seq}: the trail was truncated." if not counted["rows"]
            else f"The chain ends at row {counted['rows']} but the head records row {head_seq}: "
                 "the newest rows were removed."
        )
    elif head_seq != counted["rows"] or head_hash != counted["last"]:
        result.first_broken_seq = head_seq + 1 if head_seq < counted["rows"] else head_seq
        result.kind = "head"
        result.problem = (
            f"The head (row {head_seq}, hash {head_hash[:16]}...) does not match the chain's last row "
            f"(row {counted['rows']}, hash {counted['last'][:16]}...): the head was reset or edited."
        )
    elif expect_head and expect_head != counted["last"]:
        result.kind = "expected_head"
        result.problem = f"The last hash {counted['last']} differs from the expected head {expect_head}."
    else:
        for seq, expected in sorted(anchors.items()):
            if seen.get(seq) != expected:
                result.first_broken_seq = seq
                result.kind = "anchor"
                result.problem = (f"Row {seq} " + ("is missing" if seq not in seen else f"has hash {seen[seq]}")
                                  + f", but an attestation recorded {expected}: the trail was rewritten or cut "
                                  "off after it.")
                break
    if not result.problem and result.changed_records:
        result.kind = "sealed"
        result.problem = (f"{len(result.changed_records)} record(s) no longer match the content sealed in the trail "
                          f"(changed behind the application's back): {', '.join(result.changed_records[:10])}"
                          + (" ..." if len(result.changed_records) > 10 else ""))
    return result


def _changed_records(sealed: dict, batch: int) -> list[str]:
    """Re-read every sealed record and compare its content hash with its newest seal."""
    by_model: dict = {}
    for key, (seq, digest) in sealed.items():
        label, _, pk = key.rpartition(":")
        by_model.setdefault(label, {})[pk] = (seq, digest)
    changed = []
    for label, wanted in sorted(by_model.items()):
        try:
            model = apps.get_model(label)
        except LookupError:
            changed += [f"{label}:{pk} (model gone, sealed in row {seq})" for pk, (seq, _) in wanted.items()]
            continue
        found = set()
        pks = list(wanted)
        for start in range(0, len(pks), batch):
            for obj in model.objects.filter(pk__in=pks[start:start + batch]):
                key = str(obj.pk)
                found.add(key)
                seq, digest = wanted[key]
                if row_digest(obj) != digest:
                    changed.append(f"{label}:{key} (sealed in row {seq})")
        changed += [f"{label}:{pk} (deleted; sealed in row {wanted[pk][0]})" for pk in pks if pk not in found]
    return sorted(changed)


def trail_jsonl(*, since_seq: int = 0, batch: int = 2000) -> Iterator[str]:
    """The rows after `since_seq` as JSON Lines (one row a line, hashchain's field names).

    An auditor checks a slice with hashchain.verify_chain(rows, first_seq=since_seq + 1,
    prev_hash=<hash of row since_seq>)."""
    for entry in AuditLogEntry.objects.filter(seq__gt=since_seq).order_by("seq").iterator(chunk_size=batch):
        yield json.dumps(entry.as_row(), sort_keys=True, ensure_ascii=False) + "\n"


def trail_export(out, *, since_seq: int = 0) -> int:
    """Write the JSONL export to a text file object; return the number of rows."""
    count = 0
    for line in trail_jsonl(since_seq=since_seq):
        out.write(line)
        count += 1
    return count
