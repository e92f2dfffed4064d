"""The hash-chained audit trail: appends, the append-only guards, verification, export, hooks."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audits.runs.models import AuditRun
from audits.runs.runner import RunOutcome
from audits.runs.services import _finish, audit_run_claim, audit_run_fail
from governance.trail.hashchain import GENESIS_HASH, row_hash, verify_chain
from governance.trail.models import AppendOnlyError, AuditLogEntry, AuditLogHead
from governance.catalog.models import ControlAssessment
from governance.trail.services import trail_append, trail_export, trail_verify
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import make_version, medium

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(personas):
    """Three rows on a user, with user, system and string actors."""
    alice = personas["alice"]
    return [
        trail_append(actor=alice, action="demo.one", obj=alice, payload={"n": 1}),
        trail_append(actor=None, action="demo.two", obj=alice, payload={"n": 2, "nested": {"b": [1, 2], "a": 0.1}}),
        trail_append(actor="pipeline:ci", action="demo.three", obj=alice),
    ]


def tamper(sql, params=()):
    """What someone with raw database access could do, with the guard trigger switched off."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE trail_auditlogentry DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE trail_auditloghead DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS trail_auditlog_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS trail_head_only_advances")
        cursor.execute(sql, params)


def test_rows_chain_each_to_the_one_before(three):
    first, second, third = three
    base = AuditLogEntry.objects.count() - 3
    assert [e.seq for e in three] == [base + 1, base + 2, base + 3]
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert (first.actor, second.actor, third.actor) == ("user:alice", "system", "pipeline:ci")
    assert (third.object_type, third.object_id) == ("auth.user", str(first.object_id))
    assert third.hash == row_hash(seq=third.seq, prev_hash=second.hash, timestamp=third.timestamp, actor="pipeline:ci",
                                  action="demo.three", object_type="auth.user", object_id=third.object_id, payload={})
    head = AuditLogHead.objects.get()
    assert (head.seq, head.hash) == (third.seq, third.hash)
    assert trail_verify().ok


def test_the_app_never_updates_or_deletes_a_row(three):
    entry = AuditLogEntry.objects.get(pk=three[0].pk)
    entry.payload = {"n": 99}
    for attempt in (entry.save, entry.delete, lambda: AuditLogEntry.objects.filter(pk=entry.pk).update(actor="x"),
                    lambda: AuditLogEntry.objects.all().delete()):
        with pytest.raises(AppendOnlyError, match="Audit-trail rows are append-only"):
            attempt()


def test_the_database_refuses_an_update_too(three):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE trail_auditlogentry SET actor = %s WHERE seq = %s", ["user:mallory", three[0].seq])
    assert AuditLogEntry.objects.get(pk=three[0].pk).actor == "user:alice"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite test databases are flushed with DELETE")
def test_postgresql_refuses_a_delete(three):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM trail_auditlogentry WHERE seq = %s", [three[0].seq])


def test_an_edited_row_is_found_and_named(three):
    second = three[1]
    tamper("UPDATE trail_auditlogentry SET payload = %s WHERE seq = %s", [json.dumps({"n": 3}), second.seq])
    result = trail_verify()
    assert result.first_broken_seq == second.seq
    assert result.problem == (
        f"Row {second.seq} (demo.two on auth.user:{second.object_id} by system, {second.timestamp}) does not match "
        f"its hash or its link to row {second.seq - 1}: it, or the row before it, was changed.")
    with pytest.raises(CommandError, match=f"audit trail BROKEN at row {second.seq}"):
        call_command("verify_audit_log")


def test_a_removed_row_is_found(three):
    tamper("DELETE FROM trail_auditlogentry WHERE seq = %s", [three[1].seq])
    result = trail_verify()
    assert result.first_broken_seq == three[1].seq
    assert result.problem == f"Row {three[1].seq} is missing: the chain jumps past it."


def test_cut_off_newest_rows_are_found_through_the_head(three):
    tamper("DELETE FROM trail_auditlogentry WHERE seq = %s", [three[2].seq])
    result = trail_verify()
    assert result.first_broken_seq == three[2].seq
    assert result.problem == (f"The chain ends at row {three[1].seq} but the head records row {three[2].seq}: "
                              "the newest rows were removed.")


def test_an_intact_trail_verifies_and_can_be_anchored(three, capsys):
    call_command("verify_audit_log")
    assert f"head hash {three[2].hash}" in capsys.readouterr().out
    with pytest.raises(CommandError, match="differs from the expected head"):
        call_command("verify_audit_log", "--expect-head", GENESIS_HASH)


def test_a_consistent_cut_is_found_through_an_anchor_from_an_attestation(three, capsys):
    # Someone removes the newest row and moves the head back: chain and head agree again...
    tamper("DELETE FROM trail_auditlogentry WHERE seq = %s", [three[2].seq])
    tamper("UPDATE trail_auditloghead SET seq = %s, hash = %s", [three[1].seq, three[1].hash])
    assert trail_verify().ok
    # ...but a gate attestation stored outside the database saw row 3.
    result = trail_verify(anchors={three[1].seq: three[1].hash, three[2].seq: three[2].hash})
    assert result.first_broken_seq == three[2].seq
    assert result.problem == (f"Row {three[2].seq} is missing, but an attestation recorded {three[2].hash}: "
                              "the trail was rewritten or cut off after it.")
    with pytest.raises(CommandError, match=f"BROKEN at row {three[2].seq}"):
        call_command("verify_audit_log", "--anchor", f"{three[2].seq}:{three[2].hash}")
    call_command("verify_audit_log", "--anchor", f"{three[1].seq}:{three[1].hash}")
    with pytest.raises(CommandError, match="expected SEQ:HASH"):
        call_command("verify_audit_log", "--anchor", "3:abc")


def test_the_database_lets_the_head_only_advance(three):
    # The reset that made "truncate + head reset" verify as intact is refused, whoever asks.
    with pytest.raises(DatabaseError, match="head only advances"), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE trail_auditloghead SET seq = 0, hash = %s", [GENESIS_HASH])
    with pytest.raises(DatabaseError, match="head only advances"), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE trail_auditloghead SET hash = %s", [three[0].hash])  # not the hash of its row
    assert (AuditLogHead.objects.get().seq, AuditLogHead.objects.get().hash) == (three[2].seq, three[2].hash)
    assert trail_append(actor=None, action="demo.four", obj=three[0]).seq == three[2].seq + 1  # appends still work


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE and is flushed with DELETE")
@pytest.mark.parametrize("sql", ["TRUNCATE trail_auditlogentry", "TRUNCATE trail_auditloghead",
                                 "DELETE FROM trail_auditloghead"])
def test_postgresql_refuses_truncating_the_trail_or_deleting_its_head(three, sql):
    with pytest.raises(DatabaseError, match="refused"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL governance.trail_truncate = ''")  # what the test settings allow, taken back
        cursor.execute(sql)
    assert AuditLogEntry.objects.count() >= 3


def test_a_truncated_trail_is_named_as_such(three):
    tamper("DELETE FROM trail_auditlogentry")
    result = trail_verify()
    assert (result.ok, result.kind, result.rows) == (False, "truncated", 0)
    assert result.problem == f"The trail is empty but the head records row {three[2].seq}: the trail was truncated."
    with pytest.raises(CommandError, match=r"BROKEN at row 1 \(truncated\)"):
        call_command("verify_audit_log")


def test_a_head_that_does_not_match_the_chain_is_named_as_such(three):
    tamper("UPDATE trail_auditloghead SET seq = %s, hash = %s", [three[1].seq, three[1].hash])
    result = trail_verify()
    assert (result.ok, result.kind, result.first_broken_seq) == (False, "head", three[2].seq)
    assert result.problem.startswith(f"The head (row {three[1].seq}, hash {three[1].hash[:16]}...) does not match "
                                     f"the chain's last row (row {three[2].seq}")
    with pytest.raises(CommandError, match=r"BROKEN at row \d+ \(head\)"):
        call_command("verify_audit_log")


def test_the_verify_api_takes_anchors_and_names_a_truncation_behind_a_reset_head(three, personas):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(personas["aude"])
    anchor = f"{three[2].seq}:{three[2].hash}"
    body = client.get("/api/v1/audit-log/verify/", {"anchor": [f"{three[0].seq}:{three[0].hash}", anchor]}).json()
    assert (body["ok"], body["kind"]) == (True, None)
    # Truncated with the head reset as well: chain and head agree on "nothing", the anchor does not.
    tamper("DELETE FROM trail_auditlogentry")
    tamper("UPDATE trail_auditloghead SET seq = 0, hash = %s", [GENESIS_HASH])
    assert client.get("/api/v1/audit-log/verify/").json()["ok"] is True  # what anchors are for
    body = client.get("/api/v1/audit-log/verify/", {"anchor": anchor}).json()
    assert (body["ok"], body["kind"], body["first_broken_seq"]) == (False, "anchor", three[2].seq)
    r = client.get("/api/v1/audit-log/verify/", {"anchor": "3:abc"})
    assert r.status_code == 400 and r.json()["extra"] == {"field": "anchor"}
    assert r.json()["message"] == "anchor '3:abc': expected SEQ:HASH (a row number and a 64-hex hash)."


def test_the_jsonl_export_verifies_on_its_own_and_in_slices(three):
    out = io.StringIO()
    count = trail_export(out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(rows) == AuditLogEntry.objects.count()
    assert set(rows[0]) == {"seq", "prev_hash", "timestamp", "actor", "action", "object_type", "object_id", "payload",
                            "hash"}
    assert verify_chain(rows) is None
    tail = io.StringIO()
    trail_export(tail, since_seq=three[0].seq)
    sliced = [json.loads(line) for line in tail.getvalue().splitlines()]
    assert verify_chain(sliced, first_seq=three[1].seq, prev_hash=three[0].hash) is None
    sliced[0]["payload"]["n"] = 3
    assert verify_chain(sliced, first_seq=three[1].seq, prev_hash=three[0].hash) == three[1].seq


def test_the_export_endpoint_is_for_auditors(three, personas):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(personas["aude"])
    r = client.get("/api/v1/audit-log/export/")
    assert r.status_code == 200 and r["Content-Type"] == "application/jsonl"
    lines = b"".join(r.streaming_content).decode().splitlines()
    assert json.loads(lines[-1])["hash"] == three[2].hash
    client.force_authenticate(personas["alice"])
    assert client.get("/api/v1/audit-log/export/").status_code == 403


def test_registration_audits_and_control_changes_are_logged(personas):
    system = medium(personas)
    actions = list(AuditLogEntry.objects.values_list("action", "actor"))
    assert ("system.created", "user:alice") in actions
    assert ("control.status_changed", "system") in actions  # registry evidence moved the controls
    version = make_version(system)
    run = AuditRun.objects.create(system=system, version=version, kind="fairness")
    assert audit_run_claim(run_id=run.pk, worker_host="gpu-1")
    run.refresh_from_db()  # as the worker holds it: only the claim that ran it may finish it
    _finish(run, RunOutcome(outcome="pass", summary="3 of 3 checks passed", results={}))
    other = AuditRun.objects.create(system=system, version=version, kind="fairness")
    audit_run_fail(run_id=other.pk, message="bad artifact")
    logged = list(AuditLogEntry.objects.filter(object_type="runs.auditrun").values_list("action", "actor", "object_id"))
    assert logged == [("audit.started", "worker:gpu-1", str(run.pk)), ("audit.finished", "worker", str(run.pk)),
                      ("audit.failed", "worker", str(other.pk))]
    assessment = ControlAssessment.objects.get(system=system, control__ref="MEASURE 2.11")
    changed = AuditLogEntry.objects.filter(action="control.status_changed", object_id=str(assessment.pk)).last()
    assert changed.payload == {"control": "MEASURE 2.11", "from": "not_started", "to": "satisfied", "evidence": "fairness",
                              "system": "triage"}
    assert trail_verify().ok
