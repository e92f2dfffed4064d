"""Documentary evidence: a policy attached to a control keeps it satisfied until its review-by
date, the crosswalk carries it to the partner controls, nothing is half-written on a refusal,
and a document is only ever downloaded."""

import datetime
import html

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from django.test import TestCase

from governance.catalog.documents import ALREADY_REPLACED, TOO_LARGE, document_attach
from governance.catalog.freshness import assessments_mark_stale
from governance.catalog.models import ControlAssessment, Evidence, EvidenceDocument
from governance.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from governance.trail.models import AuditLogEntry
from governance.trail.services import trail_verify
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import medium

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
POLICY = b"# AI policy\n\nWe build AI systems that are valid, fair and accountable.\n"


@pytest.fixture
def system(personas):
    return medium(personas)


def control(system, ref):
    return ControlAssessment.objects.select_related("control").get(system=system, control__ref=ref)


def attach(system, actor, refs=("GOVERN 1.1",), *, data=POLICY, name="ai-policy.md", review_by=None, **kw):
    return document_attach(
        actor=actor, system=system, assessments=[control(system, r) for r in refs], kind=kw.pop("kind", "document"),
        title=kw.pop("title", "AI policy v1"), effective_on=kw.pop("effective_on", TODAY - datetime.timedelta(days=30)),
        review_by=review_by or TODAY + datetime.timedelta(days=335), owner=kw.pop("owner", actor),
        upload=SimpleUploadedFile(name, data) if data is not None else None, filename=name, **kw)


def nothing_written():
    return not EvidenceDocument.objects.exists() and not Evidence.objects.filter(document__isnull=False).exists()


@pytest.mark.parametrize("persona,allowed", [
    ("carla", True), ("root", True), ("bob", False), ("alice", False), ("sam", False), ("erik", False), ("aude", False),
])
def test_who_may_attach_a_document_to_a_control(system, personas, persona, allowed):
    if allowed:
        attach(system, personas[persona])
        assert control(system, "GOVERN 1.1").status == "satisfied"
    else:
        with pytest.raises(PermissionDeniedError):
            attach(system, personas[persona])
        assert nothing_written()


def test_a_control_owner_may_attach_to_the_controls_they_own_and_no_other(system, personas):
    from governance.catalog.services import assessment_update

    assessment_update(actor=personas["carla"], assessment=control(system, "GOVERN 1.1"), owner=personas["sam"])
    attach(system, personas["sam"])
    with pytest.raises(PermissionDeniedError, match="the control's owner"):
        attach(system, personas["sam"], refs=("GOVERN 1.1", "A.2.2"))


def test_a_document_is_stored_under_its_sha256_sealed_and_append_only(system, personas):
    import hashlib

    doc = attach(system, personas["carla"], refs=("GOVERN 1.1", "A.2.2"))
    assert doc.sha256 == hashlib.sha256(POLICY).hexdigest()
    assert doc.content_type == "text/markdown; charset=utf-8" and doc.size_bytes == len(POLICY)
    assert default_storage.open(doc.file.name).read() == POLICY
    rows = Evidence.objects.filter(document=doc).select_related("assessment__control")
    assert sorted(r.assessment.control.ref for r in rows) == ["A.2.2", "GOVERN 1.1"]
    entry = AuditLogEntry.objects.get(action="document.attached")
    assert entry.payload["sha256"] == doc.sha256 and len(entry.payload["sealed"]) == 3
    with pytest.raises(DatabaseError), transaction.atomic():
        EvidenceDocument.objects.filter(pk=doc.pk).update(title="edited")
    assert trail_verify().ok


@pytest.mark.parametrize("name,data,field", [
    ("policy.md", b"\x7fELF\x02\x01", "file"),
    ("setup.exe", b"MZ\x90", "file"),
    ("policy.pdf", b"not a pdf", "file"),
    ("policy.md", b"", "file"),
])
def test_a_bad_file_is_refused_naming_the_field_and_nothing_is_written(system, personas, name, data, field):
    with pytest.raises(ApplicationError) as exc:
        attach(system, personas["carla"], data=data, name=name)
    assert exc.value.extra["field"] == field and exc.value.status_code == 400
    assert nothing_written()
    assert not default_storage.exists("documents") or not default_storage.listdir("documents")[1]


def test_a_document_over_the_limit_is_refused_before_it_is_read(system, personas, settings):
    settings.DOCUMENT_MAX_BYTES = 10
    with pytest.raises(ApplicationError) as exc:
        attach(system, personas["carla"])
    assert exc.value.message == TOO_LARGE.format(size=len(POLICY), limit=10)
    assert nothing_written()


def test_an_attestation_is_its_text_with_the_text_hashed(system, personas):
    import hashlib

    words = "I attest that the AI policy was approved by the board on 1 March."
    doc = attach(system, personas["carla"], kind="attestation", data=None, text=words)
    assert doc.sha256 == hashlib.sha256(words.encode()).hexdigest() and not doc.file
    with pytest.raises(ApplicationError) as exc:
        attach(system, personas["carla"], kind="attestation", data=None, text="too short")
    assert exc.value.extra["field"] == "text"


def test_review_by_must_come_after_the_effective_date(system, personas):
    with pytest.raises(ApplicationError) as exc:
        attach(system, personas["carla"], effective_on=TODAY, review_by=TODAY)
    assert exc.value.extra["field"] == "review_by"
    assert nothing_written()


def test_a_document_past_its_review_by_date_makes_the_control_stale_and_tells_its_owner_once(system, personas):
    from governance.catalog.services import assessment_update

    personas["carla"].email = "carla@example.org"
    personas["carla"].save()
    assessment_update(actor=personas["carla"], assessment=control(system, "GOVERN 1.1"), owner=personas["carla"])
    attach(system, personas["carla"], review_by=TODAY + datetime.timedelta(days=10))
    assert control(system, "GOVERN 1.1").status == "satisfied"
    later = datetime.datetime.combine(TODAY + datetime.timedelta(days=11), datetime.time(9), tzinfo=datetime.timezone.utc)
    with TestCase.captureOnCommitCallbacks(execute=True):
        stale = assessments_mark_stale(now=later)
    assert [a.control.ref for a in stale] == ["GOVERN 1.1"]
    assert control(system, "GOVERN 1.1").status == "stale"
    assert len(mail.outbox) == 1 and "GOVERN 1.1" in mail.outbox[0].subject
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert assessments_mark_stale(now=later) == []
    assert len(mail.outbox) == 1


def test_an_expired_document_attached_today_leaves_the_control_stale_at_once(system, personas):
    attach(system, personas["carla"], effective_on=TODAY - datetime.timedelta(days=400),
           review_by=TODAY - datetime.timedelta(days=1))
    assert control(system, "GOVERN 1.1").status == "stale"


def test_attaching_through_the_crosswalk_proposal_also_covers_the_iso_partners(system, personas, client):
    client.force_login(personas["carla"])
    url = f"/systems/{system.slug}/controls/ai-rmf/GOVERN 1.1/documents/new/"
    page = client.get(url)
    assert page.status_code == 200
    proposed = {p.control.ref: p for p in page.context["partners"]}
    assert set(proposed) == {"A.2.2", "A.2.4"} and all(p.checked for p in proposed.values())
    response = client.post(url, {
        "kind": "document", "title": "AI policy v1", "effective_on": TODAY.isoformat(),
        "review_by": (TODAY + datetime.timedelta(days=365)).isoformat(), "owner": personas["carla"].pk,
        "partners": [p.pk for p in proposed.values()], "file": SimpleUploadedFile("ai-policy.md", POLICY)})
    assert response.status_code == 302
    assert {ref: control(system, ref).status for ref in ("GOVERN 1.1", "A.2.2", "A.2.4")} == {
        "GOVERN 1.1": "satisfied", "A.2.2": "satisfied", "A.2.4": "satisfied"}


def test_the_attach_page_refuses_a_bad_upload_with_a_4xx_naming_the_field(system, personas, client):
    client.force_login(personas["carla"])
    url = f"/systems/{system.slug}/controls/ai-rmf/GOVERN 1.1/documents/new/"
    response = client.post(url, {
        "kind": "document", "title": "Installer", "effective_on": TODAY.isoformat(),
        "review_by": (TODAY + datetime.timedelta(days=365)).isoformat(), "owner": personas["carla"].pk,
        "file": SimpleUploadedFile("policy.pdf", b"MZ\x90\x00")})
    assert response.status_code == 400
    assert "file: 'policy.pdf' is named .pdf but its content is a program" in html.unescape(response.content.decode())
    assert nothing_written()


def test_the_attach_page_is_forbidden_to_whoever_may_not_attach(system, personas, client):
    client.force_login(personas["alice"])
    assert client.get(f"/systems/{system.slug}/controls/ai-rmf/GOVERN 1.1/documents/new/").status_code == 403


def test_a_document_is_served_only_as_a_download_never_rendered(system, personas, client):
    script = b"<html><body><script>alert(document.cookie)</script></body></html>"
    doc = attach(system, personas["carla"], data=script, name="policy.md")
    client.force_login(personas["aude"])
    response = client.get(f"/documents/{doc.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="policy.md"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == script


def test_a_replacement_supersedes_the_old_version_on_every_control_it_covered(system, personas):
    old = attach(system, personas["carla"], refs=("GOVERN 1.1", "A.2.2"))
    new = attach(system, personas["carla"], refs=("GOVERN 1.1",), data=POLICY + b"v2", title="AI policy v2",
                 replaces=old)
    assert new.supersedes_id == old.pk
    new_rows = Evidence.objects.filter(document=new).select_related("assessment__control", "supersedes")
    assert sorted((r.assessment.control.ref, r.supersedes.document_id) for r in new_rows) == [
        ("A.2.2", old.pk), ("GOVERN 1.1", old.pk)]
    with pytest.raises(ConflictError, match=ALREADY_REPLACED):
        attach(system, personas["carla"], data=POLICY + b"v3", replaces=old)


def test_a_replaced_expired_version_no_longer_makes_the_control_stale(system, personas):
    old = attach(system, personas["carla"], effective_on=TODAY - datetime.timedelta(days=400),
                 review_by=TODAY - datetime.timedelta(days=1))
    assert control(system, "GOVERN 1.1").status == "stale"
    attach(system, personas["carla"], data=POLICY + b"v2", replaces=old)
    assert control(system, "GOVERN 1.1").status == "satisfied"


def test_the_stale_sweep_is_a_periodic_task_that_moves_each_expired_control_once(system, personas, monkeypatch):
    from types import SimpleNamespace

    from django_celery_beat.models import PeriodicTask

    from governance.catalog.tasks import mark_stale_controls

    assert PeriodicTask.objects.get(name="Mark stale controls").task == "catalog.mark_stale_controls"
    attach(system, personas["carla"], refs=("GOVERN 1.1", "A.2.2"), review_by=TODAY + datetime.timedelta(days=5))
    assert mark_stale_controls() == {"stale": 0}  # still current today
    later = datetime.datetime.combine(TODAY + datetime.timedelta(days=6), datetime.time(1), tzinfo=datetime.timezone.utc)
    monkeypatch.setattr("governance.catalog.freshness.timezone", SimpleNamespace(now=lambda: later))
    assert mark_stale_controls() == {"stale": 2}
    assert mark_stale_controls() == {"stale": 0}
