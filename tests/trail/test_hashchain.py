import datetime
import hashlib

import pytest

from governance.trail.hashchain import (
    ERR_NAIVE_DATETIME,
    ERR_PAYLOAD,
    ERR_PREV_HASH,
    ERR_SEQ,
    ERR_STRING_FIELD,
    GENESIS_HASH,
    canonical_json,
    iso_timestamp,
    row_hash,
    verify_chain,
)


def make_row(seq, prev_hash, **changes):
    fields = {
        "seq": seq,
        "prev_hash": prev_hash,
        "timestamp": f"2025-01-31T12:00:{seq:02d}.000000+00:00",
        "actor": "alice",
        "action": "approval_grant",
        "object_type": "ModelVersion",
        "object_id": str(40 + seq),
        "payload": {"stage": seq, "note": "ok"},
    }
    fields.update(changes)
    return dict(fields, hash=row_hash(**fields))


def make_chain(length):
    rows, prev = [], GENESIS_HASH
    for seq in range(1, length + 1):
        rows.append(make_row(seq, prev))
        prev = rows[-1]["hash"]
    return rows


def test_genesis_hash_is_64_zeros():
    assert GENESIS_HASH == "0000000000000000000000000000000000000000000000000000000000000000"


def test_canonical_json_sorts_keys_drops_whitespace_and_keeps_utf8():
    # Hand-written expectation: keys in code-point order, "," and ":" only,
    # "é" as its two UTF-8 bytes C3 A9 rather than a \u00e9 escape.
    assert canonical_json({"b": [1, 2], "a": "é", "C": None}) == b'{"C":null,"a":"\xc3\xa9","b":[1,2]}'


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_canonical_json_refuses_datetimes_so_the_caller_picks_the_string():
    with pytest.raises(TypeError):
        canonical_json({"at": datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)})


def test_row_hash_is_sha256_of_the_hand_written_canonical_document():
    document = (
        '{"action":"approval_grant","actor":"alice","object_id":"7","object_type":"ModelVersion",'
        '"payload":{"note":"ok","stage":1},"prev_hash":"' + GENESIS_HASH + '","seq":1,'
        '"timestamp":"2025-01-31T12:00:00.000000+00:00"}'
    )
    got = row_hash(
        seq=1, prev_hash=GENESIS_HASH, timestamp="2025-01-31T12:00:00.000000+00:00", actor="alice",
        action="approval_grant", object_type="ModelVersion", object_id="7", payload={"stage": 1, "note": "ok"},
    )
    assert got == hashlib.sha256(document.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"seq": 0}, ERR_SEQ),
        ({"seq": True}, ERR_SEQ),
        ({"seq": "1"}, ERR_SEQ),
        ({"prev_hash": "0" * 63}, ERR_PREV_HASH),
        ({"prev_hash": "A" * 64}, ERR_PREV_HASH),
        ({"actor": None}, ERR_STRING_FIELD.format(field="actor")),
        ({"object_id": 7}, ERR_STRING_FIELD.format(field="object_id")),
        ({"payload": ["not", "a", "dict"]}, ERR_PAYLOAD),
    ],
)
def test_row_hash_rejects_bad_fields(changes, message):
    fields = {key: value for key, value in make_row(1, GENESIS_HASH).items() if key != "hash"}
    with pytest.raises(ValueError) as excinfo:
        row_hash(**dict(fields, **changes))
    assert str(excinfo.value) == message


def test_iso_timestamp_is_utc_with_microseconds():
    cet = datetime.timezone(datetime.timedelta(hours=1))
    moment = datetime.datetime(2025, 1, 31, 13, 0, 0, tzinfo=cet)
    assert iso_timestamp(moment) == "2025-01-31T12:00:00.000000+00:00"


def test_iso_timestamp_refuses_a_naive_datetime():
    with pytest.raises(ValueError) as excinfo:
        iso_timestamp(datetime.datetime(2025, 1, 31, 12, 0, 0))
    assert str(excinfo.value) == ERR_NAIVE_DATETIME


def test_an_intact_chain_verifies():
    assert verify_chain(make_chain(6)) is None


def test_an_empty_chain_verifies():
    assert verify_chain([]) is None


def test_an_edited_payload_is_found_at_its_seq():
    rows = make_chain(6)
    rows[2]["payload"] = {"stage": 3, "note": "approved after all"}
    assert verify_chain(rows) == 3


def test_an_edited_row_with_a_recomputed_hash_is_found_at_the_next_seq():
    rows = make_chain(6)
    fields = {key: value for key, value in rows[3].items() if key != "hash"}
    rows[3] = make_row(4, fields["prev_hash"], actor="mallory")
    assert verify_chain(rows) == 5


def test_reordered_rows_are_found_at_the_first_seq_out_of_place():
    rows = make_chain(6)
    rows[2], rows[3] = rows[3], rows[2]
    assert verify_chain(rows) == 3


def test_a_deleted_row_is_found_at_its_seq():
    rows = make_chain(6)
    del rows[4]
    assert verify_chain(rows) == 5


def test_a_deleted_first_row_is_found_at_seq_1():
    assert verify_chain(make_chain(3)[1:]) == 1


def test_a_renumbered_row_is_found_even_with_a_matching_link():
    rows = make_chain(4)
    rows[2]["seq"] = 4
    assert verify_chain(rows) == 3


def test_a_stored_field_of_the_wrong_type_counts_as_broken():
    rows = make_chain(3)
    rows[1]["actor"] = None
    assert verify_chain(rows) == 2


def test_a_slice_verifies_when_anchored_to_the_previous_hash():
    rows = make_chain(6)
    assert verify_chain(rows[3:], first_seq=4, prev_hash=rows[2]["hash"]) is None
    assert verify_chain(rows[3:], first_seq=4, prev_hash=GENESIS_HASH) == 4
