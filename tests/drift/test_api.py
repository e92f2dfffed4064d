"""The drift API: production batches from pipelines (scoped tokens) and owners, schedules,
retraining recommendations. A bad batch is a 400 naming the column, and nothing is stored."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from audits.drift.services import drift_breach_handle
from audits.runs.models import AuditRun, RunStatus
from governance.registry.models import Dataset
from tests.approval_fixtures import PipelineClient
from tests.conftest import csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline():
    """A client holding a pipeline token with the given scopes."""
    made = []

    def client_for(*scopes):
        made.append(scopes)
        return PipelineClient(*scopes, name=f"ci-{len(made)}")  # bound to the test's systems

    return client_for


@pytest.fixture
def no_enqueue(monkeypatch):
    sent = []
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: sent.append(run_id))
    return sent


def _upload(client, data: bytes, name="batch.csv", **fields):
    form = {"system": "credit", "version": "1.0.0", "file": SimpleUploadedFile(name, data), **fields}
    return client.post("/api/v1/batches/", form, format="multipart")


def _stored_files(settings):
    root = settings.MEDIA_ROOT / "datasets"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_a_pipeline_token_with_batches_write_uploads_a_batch_and_requests_its_review(
        credit_system, credit_frames, pipeline, no_enqueue, django_capture_on_commit_callbacks):
    _, test = credit_frames
    with django_capture_on_commit_callbacks(execute=True):
        r = _upload(pipeline("batches:write"), csv_bytes(test.drop(columns=["risk"]).head(40)), name="b.csv")
        assert r.status_code == 201, r.json()
        body = r.json()
        assert body["role"] == "production" and body["n_rows"] == 40 and body["schema"]["label"] is None
        assert body["review"] is None
        r = _upload(pipeline("batches:write", "gate:read"), csv_bytes(test.head(40)), name="c.csv",
                    label_column="risk")
        assert r.status_code == 201, r.json()
        assert r.json()["schema"]["label"] == "risk"
        r = pipeline("batches:write").post(  # ?review=1 asks for the review at once
            "/api/v1/batches/?review=1",
            {"system": "credit", "version": "1.0.0", "file": SimpleUploadedFile("d.csv", csv_bytes(test.head(30)))},
            format="multipart")
    assert r.status_code == 201, r.json()
    run = AuditRun.objects.get(pk=r.json()["review"]["id"])
    assert run.kind == "drift" and run.params["batch"] == r.json()["id"]
    assert run.created_by.username.startswith("pipeline-")
    assert no_enqueue == [run.pk]


def test_a_gate_read_token_may_not_upload_batches(credit_system, credit_frames, pipeline, settings):
    _, test = credit_frames
    before = _stored_files(settings)
    r = _upload(pipeline("gate:read"), csv_bytes(test.head(10)))
    assert r.status_code == 403
    assert r.json()["message"] == (
        "This pipeline token's scopes (gate:read) do not include batches:write, which this endpoint needs.")
    assert not Dataset.objects.filter(role="production").exists()
    assert _stored_files(settings) == before


def test_a_token_bound_to_another_system_may_not_post_this_ones_batches(credit_system, credit_frames, personas,
                                                                       settings):
    # One system's pipeline posting a drifted batch would revoke another system's approvals.
    from governance.registry.tokens import pipeline_token_create
    from tests.approval_fixtures import make_system

    make_system(personas["oscar"], slug="other", tier="medium")
    _, key = pipeline_token_create(name="other-ci", scopes=["batches:write"], systems=["other"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    _, test = credit_frames
    before = _stored_files(settings)
    r = _upload(client, csv_bytes(test.head(10)))
    assert r.status_code == 403
    assert r.json()["message"] == (
        "This pipeline token (other-ci) is not bound to the AI system 'credit'; it may act on: other. "
        "Create a token for that system (manage.py create_pipeline_token NAME --system credit).")
    assert not Dataset.objects.filter(role="production").exists()
    assert _stored_files(settings) == before


@pytest.mark.parametrize("persona,status", [("alice", 201), ("root", 201), ("oscar", 403), ("bob", 403), ("aude", 403)])
def test_people_upload_batches_only_for_systems_they_own(credit_system, credit_frames, api, persona, status):
    _, test = credit_frames
    r = _upload(api(persona), csv_bytes(test.head(10)))
    assert r.status_code == status, r.json()


def test_bad_batches_are_400s_naming_the_column_and_the_problem_and_store_nothing(
        credit_system, credit_frames, api, settings):
    _, test = credit_frames
    alice = api("alice")
    before = _stored_files(settings)
    non_numeric = test.head(10).astype({"duration": object})
    non_numeric.iloc[3, non_numeric.columns.get_loc("duration")] = "twelve"
    settings.MAX_UPLOAD_BYTES = 4000
    cases = [
        (csv_bytes(test.drop(columns=["duration"]).head(10)), "b.csv", "file",
         "Column(s) declared in the schema but missing from the file: duration."),
        (csv_bytes(non_numeric), "b.csv", "file",
         "Column 'duration' must be numeric (the schema declares it a numeric feature), "
         "but data row 4 holds 'twelve'."),
        (b"\x80\x04\x95 not a table", "b.pkl", "file",
         "Accepted data formats: CSV (comma-separated, with a header row) or Parquet."),
        (csv_bytes(test), "b.csv", "file",
         f"The file is {len(csv_bytes(test)):,} bytes; the limit is 4,000 bytes (MAX_UPLOAD_BYTES)."),
        (b"", "b.csv", "file", "The file is empty."),
        (csv_bytes(test.head(0)), "b.csv", "file", "The file has no data rows."),
    ]
    for data, name, field, message in cases:
        r = _upload(alice, data, name=name)
        assert r.status_code == 400, (message, r.json())
        assert r.json()["message"] == message
        assert r.json()["extra"]["field"] == field
    r = _upload(alice, csv_bytes(test.head(10)), label_column="outcome")
    assert r.status_code == 400 and r.json()["message"] == "Column 'outcome' (label_column) is missing from the file."
    assert not Dataset.objects.filter(role="production").exists()
    assert _stored_files(settings) == before


def test_a_parquet_batch_is_accepted(credit_system, credit_frames, api):
    _, test = credit_frames
    buf = io.BytesIO()
    test.head(20).to_parquet(buf, index=False)
    r = _upload(api("alice"), buf.getvalue(), name="b.parquet")
    assert r.status_code == 201, r.json()
    assert r.json()["file_format"] == "parquet"


def test_unknown_system_or_version_is_a_404_naming_the_field(credit_system, credit_frames, api):
    _, test = credit_frames
    r = api("alice").post("/api/v1/batches/", {"system": "credit", "version": "9.9.9",
                                               "file": SimpleUploadedFile("b.csv", csv_bytes(test.head(5)))},
                          format="multipart")
    assert r.status_code == 404
    assert r.json() == {"message": "version: no version '9.9.9' of credit.", "extra": {"field": "version"}}


def test_schedules_and_recommendations_over_the_api(credit_system, api):
    system, version = credit_system
    r = api("alice").post("/api/v1/drift-schedules/", {"system": "credit", "version": "1.0.0",
                                                       "crontab": "0 6 * * 1"}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["crontab"] == "0 6 * * 1" and r.json()["periodic_task"] == "Drift review: credit"
    assert PeriodicTask.objects.filter(task="audits.scheduled_drift_review").count() == 1
    r = api("aude").post("/api/v1/drift-schedules/", {"system": "credit", "version": "1.0.0",
                                                      "crontab": "@daily"}, format="json")
    assert r.status_code == 403
    assert api("aude").get("/api/v1/drift-schedules/").json()["count"] == 1

    run = AuditRun.objects.create(system=system, version=version, kind="drift", status=RunStatus.SUCCEEDED)
    rec = drift_breach_handle(run=run, review={"breach": True, "breaches": ["Predictions drifted."]})
    r = api("carla").get("/api/v1/retraining-recommendations/", {"system": "credit", "status": "unresolved"})
    assert r.status_code == 200
    [row] = r.json()["results"]
    assert (row["id"], row["version"], row["audit_run"], row["status"]) == (str(rec.pk), "1.0.0", str(run.pk), "open")
    r = api("alice").post(f"/api/v1/retraining-recommendations/{rec.pk}/resolve/", {"status": "accepted"},
                          format="json")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    r = api("alice").post(f"/api/v1/retraining-recommendations/{rec.pk}/resolve/", {"status": "dismissed"},
                          format="json")
    assert r.status_code == 403
    r = api("carla").get("/api/v1/retraining-recommendations/", {"status": "sideways"})
    assert r.status_code == 400 and r.json()["extra"] == {
        "field": "status", "accepted": ["accepted", "dismissed", "done", "open", "unresolved"]}


def test_the_pages_upload_a_batch_review_it_and_show_the_breach(
        credit_system, credit_frames, personas, client, no_enqueue, django_capture_on_commit_callbacks):
    from governance.demo.drift import shift_credit_batch

    system, version = credit_system
    _, test = credit_frames
    client.force_login(personas["alice"])
    page = client.get("/systems/credit/")
    assert page.status_code == 200
    assert b"No drift review yet." in page.content and b'action="/systems/credit/drift/batches/"' in page.content

    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/systems/credit/drift/batches/", {
            "version": str(version.pk), "review": "on",
            "file": SimpleUploadedFile("b.csv", csv_bytes(shift_credit_batch(test)))})
    run = AuditRun.objects.get(kind="drift")
    assert r.status_code == 302 and r["Location"] == f"/runs/{run.pk}/"
    run_audit = __import__("audits.runs.tasks", fromlist=["run_audit"]).run_audit
    with django_capture_on_commit_callbacks(execute=True):
        run_audit(str(run.pk))

    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "Feature &#x27;credit_amount&#x27; drifted" in page and page.count("<svg") >= 10
    # The page states the review's one error budget, and its outcome words are the drift kind's own.
    assert "α = 0.01 for the whole review, split evenly (bonferroni)" in page
    assert "Breach: a check moved beyond what sampling noise on both sides explains" in page
    assert "even allowing for uncertainty" not in page
    page = client.get("/systems/credit/").content.decode()
    assert "Retraining recommendations" in page and "Accept: retraining planned" in page
    assert "Dismiss</option>" not in page  # the owner may not dismiss their own breach

    r = client.post("/systems/credit/drift/schedule/", {"version": str(version.pk), "crontab": "custom",
                                                        "custom_crontab": "0 7 * * 2", "enabled": "on"})
    assert r.status_code == 302
    assert PeriodicTask.objects.get(name="Drift review: credit").crontab.hour == "7"
    r = client.post("/systems/credit/drift/schedule/", {"version": str(version.pk), "crontab": "custom",
                                                        "custom_crontab": "every monday"}, follow=True)
    assert "crontab: &#x27;every monday&#x27; has 2 field(s), not 5." in r.content.decode()


def test_a_review_on_a_chosen_batch_is_requested_from_the_page_and_an_unknown_batch_is_refused(
        credit_system, credit_frames, personas, client, no_enqueue):
    system, version = credit_system
    _, test = credit_frames
    client.force_login(personas["alice"])
    client.post("/systems/credit/drift/batches/", {"version": str(version.pk),
                                                   "file": SimpleUploadedFile("b.csv", csv_bytes(test))})
    batch = Dataset.objects.get(system=system, role="production")
    r = client.post("/systems/credit/drift/review/", {"version": str(version.pk), "batch": str(batch.pk)})
    run = AuditRun.objects.get(kind="drift")
    assert r.status_code == 302 and run.params["batch"] == str(batch.pk)
    r = client.post("/systems/credit/drift/review/", {"version": str(version.pk), "batch": "not-a-uuid"}, follow=True)
    assert "batch: no such dataset of this system." in r.content.decode()
    assert AuditRun.objects.filter(kind="drift").count() == 1


def test_the_page_of_a_batch_too_small_to_decide_says_insufficient_data_not_pass(
        credit_system, credit_frames, personas, client, no_enqueue, django_capture_on_commit_callbacks):
    system, version = credit_system
    _, test = credit_frames
    client.force_login(personas["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/systems/credit/drift/batches/", {
            "version": str(version.pk), "review": "on",
            "file": SimpleUploadedFile("b.csv", csv_bytes(test.head(30)))})
    run = AuditRun.objects.get(kind="drift")
    run_audit = __import__("audits.runs.tasks", fromlist=["run_audit"]).run_audit
    with django_capture_on_commit_callbacks(execute=True):
        run_audit(str(run.pk))

    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "The batch has 30 rows, fewer than the 50 a review needs to decide" in page
    assert "Insufficient data: the batch is smaller than the review needs to decide" in page
    assert "even allowing for uncertainty" not in page
    assert "insufficient data</span>" in client.get("/systems/credit/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_batch_with_review_uploaded_while_the_broker_is_down_is_201_and_keeps_its_file(
        credit_system, credit_frames, pipeline, monkeypatch, settings):
    from audits.runs.tasks import run_audit

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(run_audit, "apply_async", broker_down)
    _, test = credit_frames
    r = pipeline("batches:write").post(
        "/api/v1/batches/?review=1",
        {"system": "credit", "version": "1.0.0", "file": SimpleUploadedFile("d.csv", csv_bytes(test.head(30)))},
        format="multipart")
    assert r.status_code == 201, r.json()
    batch = Dataset.objects.get(pk=r.json()["id"])
    assert batch.file.storage.exists(batch.file.name)  # committed: its file is never deleted
    run = AuditRun.objects.get(pk=r.json()["review"]["id"])
    assert run.status == RunStatus.QUEUED and run.enqueued_at is None  # the sweeper sends it later
