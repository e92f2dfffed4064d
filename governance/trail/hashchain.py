"""Hash chain for the audit trail (pure: no Django, stdlib only).

Each audit-trail row stores the sha256 of its own fields together with the
hash of the row before it, so editing, deleting or reordering any stored row
breaks every link after it (DESIGN.md, "How data flows", step 8; AI RMF
GOVERN 4.3, ISO/IEC 42001 A.6.2.8).

Conventions the Django side must keep, or verification fails on honest rows:

- ``seq`` starts at 1 and grows by exactly 1; row 1 links to ``GENESIS_HASH``.
- ``timestamp`` is hashed as the string the caller passes; use
  ``iso_timestamp`` and store that exact string, because a datetime that makes
  a round trip through a database can come back in another zone or format.
- ``object_id`` is a string (``str(pk)``), ``payload`` a JSON object.

A chain alone cannot reveal that its newest rows were cut off (the remaining
prefix is still a valid chain). Anchor the head hash somewhere else, e.g. in
signed reports or gate attestations, and compare it with the last row's
``hash`` when verifying.
"""

import datetime
import hashlib
import json
import re

GENESIS_HASH = "0" * 64

ROW_FIELDS = (
    "seq", "prev_hash", "timestamp", "actor", "action", "object_type", "object_id", "payload",
)

ERR_SEQ = "seq must be an integer >= 1"
ERR_PREV_HASH = "prev_hash must be 64 lowercase hex characters (a sha256 hex digest)"
ERR_STRING_FIELD = "{field} must be a string"
ERR_PAYLOAD = "payload must be a dict (a JSON object)"
ERR_NAIVE_DATETIME = "timestamp must be a timezone-aware datetime"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def canonical_json(obj):
    """Serialise ``obj`` to the one byte string that every verifier recomputes.

    Sorted keys and no whitespace make the bytes independent of dict order;
    ``allow_nan=False`` rejects NaN/Infinity, which are not JSON and would
    not survive a round trip. Datetimes raise TypeError on purpose: the caller
    decides their string form (see ``iso_timestamp``).
    """
    text = json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
    )
    return text.encode("utf-8")


def iso_timestamp(moment):
    """Format an aware datetime as UTC ISO 8601 with microseconds, always alike.

    A fixed form (``2025-01-31T12:00:00.000000+00:00``) means the same instant
    always hashes the same, whatever zone the database hands back.
    """
    if not isinstance(moment, datetime.datetime) or moment.utcoffset() is None:
        raise ValueError(ERR_NAIVE_DATETIME)
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds")


def _check_fields(seq, prev_hash, strings, payload):
    # bool is an int subclass; True must not pass for seq 1.
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValueError(ERR_SEQ)
    if not isinstance(prev_hash, str) or not _SHA256_HEX.fullmatch(prev_hash):
        raise ValueError(ERR_PREV_HASH)
    for field, value in strings.items():
        if not isinstance(value, str):
            raise ValueError(ERR_STRING_FIELD.format(field=field))
    if not isinstance(payload, dict):
        raise ValueError(ERR_PAYLOAD)


def row_hash(*, seq, prev_hash, timestamp, actor, action, object_type, object_id, payload):
    """Return the sha256 hex digest of the canonical JSON of all row fields."""
    strings = {
        "timestamp": timestamp, "actor": actor, "action": action,
        "object_type": object_type, "object_id": object_id,
    }
    _check_fields(seq, prev_hash, strings, payload)
    document = dict(strings, seq=seq, prev_hash=prev_hash, payload=payload)
    return hashlib.sha256(canonical_json(document)).hexdigest()


def _row_is_intact(row, *, expected_seq, expected_prev):
    if row.get("seq") != expected_seq or row.get("prev_hash") != expected_prev:
        return False
    try:
        recomputed = row_hash(**{field: row.get(field) for field in ROW_FIELDS})
    except (ValueError, TypeError):
        # A stored field of the wrong type is damage, not a programming error.
        return False
    return recomputed == row.get("hash")


def verify_chain(rows, *, first_seq=1, prev_hash=GENESIS_HASH):
    """Return the first seq at which the chain is broken, or None if intact.

    ``rows`` are dicts with ``ROW_FIELDS`` plus ``hash``, in the order they
    claim to have been written. The answer is the first position whose row is
    wrong (edited field, wrong link) or missing (a gap), so every seq below it
    is proven intact: a row edited at seq 3 gives 3; a deleted row 5 gives 5.

    ``first_seq`` and ``prev_hash`` let an auditor check an exported slice by
    anchoring it to the hash of the row just before it.
    """
    expected_seq, expected_prev = first_seq, prev_hash
    for row in rows:
        if not _row_is_intact(row, expected_seq=expected_seq, expected_prev=expected_prev):
            return expected_seq
        expected_seq, expected_prev = expected_seq + 1, row["hash"]
    return None
