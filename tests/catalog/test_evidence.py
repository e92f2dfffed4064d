"""Evidence a regulator can trust: it names the version it speaks for, it is never rewritten
(the database refuses it, the admin shows it read-only), a correction is a new row, and an edit
behind the application's back is named by the trail's seals."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audits.runs.models import AuditRun
from governance.catalog.evidence import ALREADY_CORRECTED, CORRECTION_NEEDS_REASON, evidence_correct, evidence_record
from governance.catalog.models import ControlAssessment, Evidence
from governance.catalog.selectors import assessment_detail
from governance.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from governance.trail.models import AuditLogEntry
from governance.trail.services import trail_verify
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import make_run, make_version, medium

pytestmark = pytest.mark.django_db

REASON = "The evaluation set held duplicated rows; re-measured on the clean one."


def audited(version, outcome):
    """A finished fairness run with its evidence, as the worker leaves it."""
    run = make_run(version, outcome=outcome)
    evidence_record(system=version.system, kind="fairness", outcome=outcome, summary=f"fairness {outcome}",
                    audit_run=run)
    return run


@pytest.fixture
def system(personas):
    return medium(personas)


@pytest.fixture
def two_versions(system):
    """1.0.0 failed its fairness audit; 2.0.0 passed it."""
    old = make_version(system, "1.0.0")
    new = make_version(system, "2.0.0")
    audited(old, "fail")
    audited(new, "pass")
    return old, new


def disable_guard_and(sql, params=()):
    """What someone with database rights could do: switch the guard off, edit, switch it on again."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks on the table
            cursor.execute("ALTER TABLE catalog_evidence DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE catalog_evidence ENABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS catalog_evidence_append_only_no_update")
            cursor.execute(sql, params)


def test_evidence_names_the_version_it_speaks_for_or_the_system(two_versions, system):
    old, new = two_versions
    fairness = Evidence.objects.filter(kind="fairness")
    assert {(e.version_id, e.outcome) for e in fairness} == {(old.pk, "fail"), (new.pk, "pass")}
    assert set(Evidence.objects.filter(kind="registry").values_list("version", flat=True)) == {None}


def test_a_control_scoped_to_a_version_shows_only_its_own_and_system_wide_evidence(two_versions, system):
    old, new = two_versions
    everything = assessment_detail(system=system, framework="ai-rmf", ref="MEASURE 2.11")
    assert everything.shown_status == "satisfied"  # the latest fairness evidence passed
    for version, status in ((old, "failed"), (new, "satisfied")):
        scoped = assessment_detail(system=system, framework="ai-rmf", ref="MEASURE 2.11", version=version)
        assert scoped.shown_status == status
        assert {e.version_id for e in scoped.shown_evidence} == {version.pk}


def test_the_database_refuses_to_edit_evidence(two_versions):
    row = Evidence.objects.filter(kind="fairness", outcome="fail").first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_evidence SET outcome = %s WHERE id = %s", ["pass", row.pk.hex])
    assert Evidence.objects.get(pk=row.pk).outcome == "fail"


def test_the_database_refuses_to_reopen_a_finished_run(two_versions):
    run = AuditRun.objects.filter(status="succeeded").first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditRun.objects.filter(pk=run.pk).update(outcome="pass", results={"rewritten": True})
    assert AuditRun.objects.get(pk=run.pk).results != {"rewritten": True}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite test databases are flushed with DELETE")
def test_postgresql_refuses_to_delete_evidence(two_versions):
    row = Evidence.objects.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_evidence WHERE id = %s", [row.pk])


def test_an_edit_behind_the_applications_back_is_named_by_the_trail(two_versions):
    assert trail_verify().ok
    row = Evidence.objects.filter(kind="fairness", outcome="fail").first()
    pk = row.pk if connection.vendor == "postgresql" else row.pk.hex
    disable_guard_and("UPDATE catalog_evidence SET outcome = %s WHERE id = %s", ["pass", pk])
    result = trail_verify()
    assert f"catalog.evidence:{row.pk}" in result.problem and "no longer match the content sealed" in result.problem
    assert result.changed_records == [
        next(r for r in result.changed_records if r.startswith(f"catalog.evidence:{row.pk}"))]
    with pytest.raises(CommandError, match=f"catalog.evidence:{row.pk}"):
        call_command("verify_audit_log")


def test_a_correction_is_a_new_row_that_supersedes_the_old_with_a_reason_and_an_actor(two_versions, personas, system):
    old_version, _ = two_versions
    wrong = Evidence.objects.filter(kind="fairness", version=old_version).select_related("assessment").first()
    with pytest.raises(ApplicationError, match="reason: say why") as excinfo:
        evidence_correct(actor=personas["carla"], evidence=wrong, outcome="pass", reason="oops")
    assert excinfo.value.message == CORRECTION_NEEDS_REASON.format(n=20)
    with pytest.raises(PermissionDeniedError):
        evidence_correct(actor=personas["alice"], evidence=wrong, outcome="pass", reason=REASON)
    rows = evidence_correct(actor=personas["carla"], evidence=wrong, outcome="pass", reason=REASON)
    # every control the audit's evidence spoke to is corrected together; nothing old is edited
    assert {r.supersedes_id for r in rows} == set(Evidence.objects.filter(
        kind="fairness", version=old_version, supersedes__isnull=True).values_list("pk", flat=True))
    assert {(r.outcome, r.correction_reason, r.recorded_by) for r in rows} == {("pass", REASON, "user:carla")}
    assert Evidence.objects.get(pk=wrong.pk).outcome == "fail"
    scoped = assessment_detail(system=system, framework="ai-rmf", ref="MEASURE 2.11", version=old_version)
    assert scoped.shown_status == "satisfied"
    assert AuditLogEntry.objects.filter(action="evidence.corrected", actor="user:carla").count() == 1
    with pytest.raises(ConflictError) as excinfo:
        evidence_correct(actor=personas["carla"], evidence=wrong, outcome="pass", reason=REASON)
    assert excinfo.value.message.startswith(ALREADY_CORRECTED.split("{")[0])
    assert trail_verify().ok


@pytest.mark.parametrize("model,name", [("catalog/evidence", "evidence"), ("runs/auditrun", "run"),
                                        ("approvals/riskacceptance", None), ("approvals/approvalrequest", None)])
def test_the_admin_shows_records_read_only_with_no_delete(client, personas, two_versions, model, name):
    client.force_login(personas["root"])
    personas["root"].is_staff = personas["root"].is_superuser = True
    personas["root"].save()
    rows = {"evidence": Evidence.objects.first(), "run": AuditRun.objects.first()}
    assert client.get(f"/admin/{model}/").status_code == 200
    assert client.get(f"/admin/{model}/add/").status_code == 403
    if name:
        pk = rows[name].pk
        page = client.get(f"/admin/{model}/{pk}/change/")
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert client.post(f"/admin/{model}/{pk}/change/", {"outcome": "pass"}).status_code == 403
        assert client.get(f"/admin/{model}/{pk}/delete/").status_code == 403


def test_every_admin_change_to_another_model_is_written_to_the_trail(client, personas, system):
    root = personas["root"]
    root.is_staff = root.is_superuser = True
    root.save()
    client.force_login(root)
    assessment = ControlAssessment.objects.filter(system=system, control__ref="GOVERN 1.1").first()
    response = client.post(f"/admin/catalog/controlassessment/{assessment.pk}/change/",
                           {"system": system.pk, "control": assessment.control_id, "status": "satisfied",
                            "owner": "", "notes": "set in the admin"})
    assert response.status_code == 302
    entry = AuditLogEntry.objects.filter(action="admin.changed").latest("seq")
    assert entry.actor == "user:root"
    assert entry.payload["model"] == "catalog.controlassessment" and entry.payload["object_id"] == str(assessment.pk)
    assert "Status" in entry.payload["change"] or "status" in entry.payload["change"].lower()


def test_evidence_from_a_run_speaks_for_that_runs_version(system, personas):
    version = make_version(system, "3.0.0")
    run = audited(version, "inconclusive")
    assert set(Evidence.objects.filter(audit_run_id=run.pk).values_list("version", flat=True)) == {version.pk}
    rows = evidence_record(system=system, kind="approval", outcome="pass", summary="approved", version=version,
                           actor=personas["bob"])
    assert {(r.version_id, r.recorded_by) for r in rows} == {(version.pk, "user:bob")}
