"""The documents API: a pipeline or a script attaches a policy or an attestation to controls,
accepts the crosswalk's proposal with one flag, lists what is current or expired, and
downloads the bytes; a refusal is a 4xx naming the field, with nothing written."""

import datetime
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.catalog.models import ControlAssessment, Evidence, EvidenceDocument
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import medium

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
POLICY = b"# AI policy\n\nWe build AI systems that are valid, fair and accountable.\n"


@pytest.fixture
def system(personas):
    return medium(personas)


def form(system, *, controls=("GOVERN 1.1",), data=POLICY, name="ai-policy.md", **kw):
    fields = {"system": system.slug, "controls": list(controls), "kind": "document", "title": "AI policy v1",
              "effective_on": TODAY.isoformat(), "review_by": (TODAY + datetime.timedelta(days=365)).isoformat(),
              "owner": "carla", **kw}
    if data is not None:
        fields["file"] = SimpleUploadedFile(name, data)
    return fields


def status_of(system, ref):
    return ControlAssessment.objects.get(system=system, control__ref=ref).status


def test_a_compliance_officer_attaches_a_policy_and_reads_it_back_with_its_hash(system, api):
    response = api("carla").post("/api/v1/documents/", form(system), format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(POLICY).hexdigest()
    assert body["controls"] == [{"framework": "ai-rmf", "ref": "GOVERN 1.1"}]
    assert body["expired"] is False and body["system"] == system.slug and body["owner"] == "carla"
    assert status_of(system, "GOVERN 1.1") == "satisfied"
    listed = api("aude").get(f"/api/v1/documents/?system={system.slug}&current=true").json()
    assert [d["id"] for d in listed["results"]] == [body["id"]]
    download = api("aude").get(body["download"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == POLICY
    assert download["Content-Disposition"] == 'attachment; filename="ai-policy.md"'


def test_with_partners_accepts_the_crosswalk_proposal_and_covers_the_iso_partners(system, api):
    response = api("carla").post("/api/v1/documents/", form(system, with_partners="true"), format="multipart")
    assert response.status_code == 201, response.content
    assert {c["ref"] for c in response.json()["controls"]} == {"GOVERN 1.1", "A.2.2", "A.2.4"}
    assert {ref: status_of(system, ref) for ref in ("A.2.2", "A.2.4")} == {"A.2.2": "satisfied", "A.2.4": "satisfied"}


def test_an_attestation_can_be_sent_as_json(system, api):
    response = api("carla").post("/api/v1/documents/", {
        **form(system, data=None), "kind": "attestation",
        "text": "The board approved the AI policy on 1 March; minutes are kept by the secretary."}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "text/plain; charset=utf-8"


def test_a_document_past_its_review_by_date_is_listed_as_expired(system, api):
    response = api("carla").post("/api/v1/documents/", form(
        system, effective_on=(TODAY - datetime.timedelta(days=400)).isoformat(),
        review_by=(TODAY - datetime.timedelta(days=1)).isoformat()), format="multipart")
    assert response.status_code == 201
    assert api("aude").get(f"/api/v1/documents/{response.json()['id']}/").json()["expired"] is True
    assert status_of(system, "GOVERN 1.1") == "stale"


def test_a_new_version_replaces_the_old_one_which_then_covers_nothing(system, api):
    first = api("carla").post("/api/v1/documents/", form(system), format="multipart").json()
    second = api("carla").post("/api/v1/documents/", form(system, data=POLICY + b"v2\n", replaces=first["id"]),
                               format="multipart")
    assert second.status_code == 201, second.content
    assert second.json()["supersedes"] == first["id"]
    assert api("carla").get(f"/api/v1/documents/{first['id']}/").json()["controls"] == []
    current = api("carla").get("/api/v1/documents/?current=true").json()["results"]
    assert [d["id"] for d in current] == [second.json()["id"]]


@pytest.mark.parametrize("change,field", [
    ({"system": "no-such-system"}, "system"),
    ({"controls": ["GOVERN 99.9"]}, "controls"),
    ({"controls": []}, "controls"),
    ({"kind": "spreadsheet"}, "kind"),
    ({"owner": "nobody-by-this-name"}, "owner"),
    ({"review_by": "2000-01-01"}, "review_by"),
    ({"replaces": "00000000-0000-0000-0000-000000000000"}, "replaces"),
    ({"file": SimpleUploadedFile("policy.pdf", b"MZ\x90\x00")}, "file"),
])
def test_a_bad_request_is_a_400_naming_the_field_and_nothing_is_written(system, api, change, field):
    response = api("carla").post("/api/v1/documents/", {**form(system), **change}, format="multipart")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["message"] or field in (body.get("extra") or {}).get("fields", {}), body
    assert not EvidenceDocument.objects.exists() and not Evidence.objects.filter(document__isnull=False).exists()


@pytest.mark.parametrize("persona,expected", [("carla", 201), ("root", 201), ("alice", 403), ("bob", 403),
                                              ("aude", 403), ("erik", 403), ("sam", 403)])
def test_who_may_attach_through_the_api(system, api, persona, expected):
    response = api(persona).post("/api/v1/documents/", form(system), format="multipart")
    assert response.status_code == expected, response.content


def test_an_account_without_a_role_reads_no_document(system, api, django_user_model):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    api("carla").post("/api/v1/documents/", form(system), format="multipart")
    nobody = django_user_model.objects.create_user("nobody", password="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=nobody).key}")
    assert client.get("/api/v1/documents/").status_code == 403
