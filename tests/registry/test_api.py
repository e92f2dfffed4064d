"""The REST API end to end: token auth, uploads, errors as {"message", "extra"}."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from audits.runs.models import AuditRun
from governance.catalog.models import ControlAssessment
from governance.registry.models import Dataset, ModelVersion
from tests.conftest import CREDIT_SCHEMA, csv_bytes

pytestmark = pytest.mark.django_db


def test_round_trip_register_upload_and_audit(api, credit_frames, credit_model, monkeypatch,
                                              django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: sent.append(run_id))
    alice = api("alice")
    r = alice.post("/api/v1/systems/", {"name": "Credit", "slug": "credit", "purpose": "Scores loans",
                                        "risk_tier": "high"}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["owner"] == "alice"

    train, test = credit_frames
    ids = {}
    for role, frame in (("train", train), ("test", test)):
        r = alice.post("/api/v1/datasets/", {
            "system": "credit", "name": role, "role": role, "schema": json.dumps(CREDIT_SCHEMA),
            "file": SimpleUploadedFile(f"{role}.csv", csv_bytes(frame), content_type="text/csv")}, format="multipart")
        assert r.status_code == 201, r.json()
        ids[role] = r.json()["id"]

    artifact, spec = credit_model
    r = alice.post("/api/v1/versions/", {
        "system": "credit", "version": "1.0.0", "spec": json.dumps(spec), "train_dataset": ids["train"],
        "eval_dataset": ids["test"], "artifact": SimpleUploadedFile("m.safetensors", artifact)}, format="multipart")
    assert r.status_code == 201, r.json()
    version_id = r.json()["id"]
    assert len(r.json()["artifact_sha256"]) == 64

    r = alice.get("/api/v1/controls/", {"framework": "ai-rmf", "function": "MEASURE", "limit": 500})
    assert r.json()["count"] == 22
    r = alice.get("/api/v1/controls/", {"search": "privacy"})
    assert "MEASURE 2.10" in [c["ref"] for c in r.json()["results"]]
    r = alice.get("/api/v1/controls/", {"framework": "iso42001", "category": "A.6.2"})
    assert r.json()["count"] == 7

    with django_capture_on_commit_callbacks(execute=True):
        r = alice.post("/api/v1/audit-runs/", {"version": version_id, "kind": "fairness"}, format="json")
    assert r.status_code == 201, r.json()
    run_id = r.json()["id"]
    assert [str(x) for x in sent] == [run_id]
    r = alice.get(f"/api/v1/audit-runs/{run_id}/")
    assert r.json()["status"] == "queued" and r.json()["progress"] == 0

    carla = api("carla")
    assessment = ControlAssessment.objects.get(system__slug="credit", control__ref="GOVERN 1.1")
    # "Not applicable" can waive a required audit, so it needs a reason: 400, nothing written.
    r = carla.patch(f"/api/v1/assessments/{assessment.pk}/", {"status": "not_applicable", "notes": " "},
                    format="json")
    assert r.status_code == 400 and r.json()["extra"]["field"] == "notes"
    assessment.refresh_from_db()
    assert (assessment.status, assessment.notes) == ("not_started", "")
    r = carla.patch(f"/api/v1/assessments/{assessment.pk}/", {"status": "not_applicable", "notes": "n/a"},
                    format="json")
    assert r.status_code == 200 and r.json()["status"] == "not_applicable"
    r = carla.patch(f"/api/v1/assessments/{assessment.pk}/", {"owner": "alice"}, format="json")
    assert r.status_code == 200 and r.json()["owner"] == "alice"
    r = carla.patch(f"/api/v1/assessments/{assessment.pk}/", {"owner": "nobody-here"}, format="json")
    assert r.status_code == 400 and r.json()["extra"]["field"] == "owner"


def test_validation_errors_are_400_and_name_the_field(api):
    r = api("alice").post("/api/v1/systems/", {"name": "x", "purpose": "p"}, format="json")
    assert r.status_code == 400
    assert r.json()["message"] == "slug: This field is required."
    assert r.json()["extra"]["field"] == "slug"


def test_a_pickle_upload_is_a_400_naming_the_accepted_formats(api, credit_system, tmp_path):
    import pickle

    r = api("alice").post("/api/v1/versions/", {
        "system": "credit", "version": "2.0.0",
        "artifact": SimpleUploadedFile("model.pkl", pickle.dumps({"a": 1}))}, format="multipart")
    assert r.status_code == 400
    assert r.json()["message"].startswith("Accepted model formats")
    assert r.json()["extra"]["field"] == "artifact"
    assert ModelVersion.objects.filter(version="2.0.0").count() == 0


def test_a_bad_dataset_is_400_and_nothing_is_stored(api, credit_system, credit_frames):
    r = api("alice").post("/api/v1/datasets/", {
        "system": "credit", "name": "x", "role": "train", "schema": json.dumps(CREDIT_SCHEMA),
        "file": SimpleUploadedFile("x.csv", csv_bytes(credit_frames[0].drop(columns=["sex"])))}, format="multipart")
    assert r.status_code == 400
    assert "sex" in r.json()["message"]
    assert Dataset.objects.filter(name="x").count() == 0


def test_unknown_ids_are_404_or_name_the_field(api, credit_system):
    alice = api("alice")
    assert alice.get("/api/v1/systems/nope/").status_code == 404
    assert alice.get("/api/v1/audit-runs/00000000-0000-0000-0000-000000000000/").status_code == 404
    r = alice.post("/api/v1/audit-runs/", {"version": "00000000-0000-0000-0000-000000000000", "kind": "fairness"},
                   format="json")
    assert r.status_code == 400 and r.json()["extra"]["field"] == "version"
    assert r.json()["message"].startswith("version: no such model version")


def test_permissions_are_enforced_on_the_server(api, credit_system):
    _, version = credit_system
    r = api("aude").post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": "fairness"}, format="json")
    assert r.status_code == 403
    assert "does not allow" in r.json()["message"]
    assert AuditRun.objects.count() == 0
    assert APIClient().get("/api/v1/systems/").status_code == 401


def test_openapi_schema_and_docs_are_served(client, personas):
    assert client.get("/api/schema/").status_code == 200
    client.force_login(personas["aude"])
    assert client.get("/api/docs/").status_code == 200


def test_json_fields_come_as_file_parts_too(api, credit_frames, credit_model, personas):
    """`-F schema=@schema.json` and `-F spec=@spec.json`, as curl users write them, work like the text form."""
    alice = api("alice")
    assert alice.post("/api/v1/systems/", {"name": "Credit", "slug": "credit", "purpose": "Scores loans"},
                      format="json").status_code == 201
    r = alice.post("/api/v1/datasets/", {
        "system": "credit", "name": "holdout", "role": "test",
        "schema": SimpleUploadedFile("schema.json", json.dumps(CREDIT_SCHEMA).encode(), content_type="application/json"),
        "file": SimpleUploadedFile("holdout.csv", csv_bytes(credit_frames[1]), content_type="text/csv")},
        format="multipart")
    assert r.status_code == 201, r.json()
    assert Dataset.objects.get(pk=r.json()["id"]).schema["label"] == CREDIT_SCHEMA["label"]
    artifact, spec = credit_model
    r = alice.post("/api/v1/versions/", {
        "system": "credit", "version": "1.0.0", "eval_dataset": r.json()["id"],
        "spec": SimpleUploadedFile("spec.json", json.dumps(spec).encode(), content_type="application/json"),
        "artifact": SimpleUploadedFile("m.safetensors", artifact)}, format="multipart")
    assert r.status_code == 201, r.json()
    assert ModelVersion.objects.get(pk=r.json()["id"]).spec == spec


def test_a_spec_file_that_is_not_json_is_a_400_naming_the_field(api, credit_system, credit_model):
    artifact, _ = credit_model
    r = api("alice").post("/api/v1/versions/", {
        "system": "credit", "version": "2.0.0", "spec": SimpleUploadedFile("spec.json", b"architecture: mlp"),
        "artifact": SimpleUploadedFile("m.safetensors", artifact)}, format="multipart")
    assert r.status_code == 400
    assert r.json()["message"] == "spec: The file is not valid JSON: Expecting value: line 1 column 1 (char 0)."
    assert not ModelVersion.objects.filter(version="2.0.0").exists()


@pytest.mark.parametrize("path,script", [("/api/docs/", "/static/drf_spectacular_sidecar/swagger-ui-dist/"),
                                         ("/api/redoc/", "/api/redoc/redoc.standalone.js")])
def test_the_docs_pages_load_their_scripts_from_this_app(client, path, script):
    html = client.get(path).content.decode()
    assert script in html
    assert "http://" not in html and "https://" not in html
