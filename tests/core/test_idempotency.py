"""Idempotency-Key: a retry with the same key (same user or token) gets the first answer and
creates nothing; the same key with another body is a 422 that says so; failures store nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.runs.models import AuditRun
from governance.core.idempotency import KEY_REUSED
from governance.core.models import IdempotencyKey
from governance.registry.models import Dataset
from governance.registry.tokens import pipeline_token_create
from tests.conftest import csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)


def _run(client, version, key, **body):
    return client.post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": "fairness", **body},
                       format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_gets_the_first_answer_and_creates_no_second_run(credit_system, api):
    _, version = credit_system
    client = api("alice")
    first = _run(client, version, "k-1")
    again = _run(client, version, "k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert AuditRun.objects.count() == 1


def test_the_same_key_with_a_different_body_is_a_422_that_says_so_and_creates_nothing(credit_system, api):
    _, version = credit_system
    client = api("alice")
    assert _run(client, version, "k-2").status_code == 201
    r = _run(client, version, "k-2", params={"seed": 3})
    assert r.status_code == 422
    assert r.json()["message"] == KEY_REUSED.format(key="k-2", scope="POST /api/v1/audit-runs/")
    assert r.json()["extra"]["field"] == "Idempotency-Key"
    assert AuditRun.objects.count() == 1


def test_keys_are_per_user_and_requests_without_a_key_are_not_deduplicated(credit_system, api):
    _, version = credit_system
    assert _run(api("alice"), version, "shared").status_code == 201
    assert _run(api("bob"), version, "shared").status_code == 201  # bob's key is his own
    api("alice").post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": "fairness"}, format="json")
    api("alice").post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": "fairness"}, format="json")
    assert AuditRun.objects.count() == 4


def test_a_request_that_failed_stores_nothing_so_the_fixed_request_may_reuse_its_key(credit_system, api):
    _, version = credit_system
    client = api("alice")
    assert _run(client, version, "k-3", params={"nope": 1}).status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert _run(client, version, "k-3").status_code == 201
    assert AuditRun.objects.count() == 1


def test_a_key_longer_than_255_characters_is_a_400_naming_the_header(credit_system, api):
    _, version = credit_system
    r = _run(api("alice"), version, "k" * 256)
    assert r.status_code == 400 and r.json()["extra"]["field"] == "Idempotency-Key"
    assert AuditRun.objects.count() == 0


def test_a_pipeline_retrying_a_batch_upload_with_its_key_stores_one_batch_and_one_review(
        credit_system, credit_frames):
    from rest_framework.test import APIClient

    system, _ = credit_system
    _, test = credit_frames
    _, key = pipeline_token_create(name="ci", scopes=["batches:write"], systems=[system])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    def upload(rows):
        form = {"system": "credit", "version": "1.0.0", "file": SimpleUploadedFile("b.csv", csv_bytes(test.head(rows)))}
        return client.post("/api/v1/batches/?review=1", form, format="multipart", HTTP_IDEMPOTENCY_KEY="batch-7")

    first, again = upload(30), upload(30)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert Dataset.objects.filter(role="production").count() == 1 and AuditRun.objects.count() == 1
    assert upload(31).status_code == 422  # another file under the same key


def test_the_schema_documents_the_header_on_the_writes_that_create_work(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    def headers(path, method="post"):
        return {p["name"] for p in schema["paths"][path][method].get("parameters", []) if p["in"] == "header"}

    for path in ["/api/v1/audit-runs/", "/api/v1/batches/", "/api/v1/reports/", "/api/v1/approvals/",
                 "/api/v1/approvals/{id}/decisions/", "/api/v1/retraining-recommendations/{id}/dp-retrain/"]:
        assert "Idempotency-Key" in headers(path), path


def test_answers_older_than_the_ttl_are_pruned_and_newer_ones_kept(credit_system, api, settings):
    from datetime import timedelta

    from django.utils import timezone

    from governance.core.idempotency import idempotency_keys_prune

    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    _, version = credit_system
    _run(api("alice"), version, "old")
    _run(api("alice"), version, "new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_keys_prune() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
