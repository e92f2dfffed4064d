"""The web app and a worker that share no folder, only an S3 object store (a real SeaweedFS
server): what one uploads the other audits, the report the worker signs the web app serves and
verifies, and an object changed in the bucket fails the audit that reads it.

The two processes get different MEDIA_ROOTs; neither folder receives a file. Locally the test
skips when `weed` cannot start; in CI (CI=true or REQUIRE_SERVICES=1) it fails."""

import io
import json
import uuid

import pytest
from django.core.files.storage import default_storage

from audits.reports.models import Report, ReportStatus
from audits.runs.models import AuditRun, RunStatus
from governance.core.storage import ObjectExistsError
from governance.registry.models import ModelVersion
from tests.conftest import CREDIT_SCHEMA, csv_bytes
from tests.integration.conftest import _unavailable, wait_for
from tests.integration.seaweed import SeaweedUnavailable, start_seaweed

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory):
    try:
        server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    except SeaweedUnavailable as exc:
        _unavailable(str(exc))
    yield server
    server.stop()


@pytest.fixture
def bucket(seaweed):
    return seaweed.bucket(f"test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def web(seaweed, bucket, settings, tmp_path):
    """This process is the web server: its own MEDIA_ROOT, the bucket as its object store."""
    settings.STORAGES = {**settings.STORAGES, "default": seaweed.options(bucket)}
    settings.MEDIA_ROOT = tmp_path / "web-media"
    settings.DEBUG = True  # reports are signed with the development-only certificate, as in make demo
    return tmp_path / "web-media"


@pytest.fixture
def worker_env(seaweed, bucket, tmp_path):
    """The worker: another MEDIA_ROOT, the same bucket; DEBUG for the development signer."""
    return {**seaweed.env(bucket), "MEDIA_ROOT": str(tmp_path / "worker-media"), "DEBUG": "1"}


def files_under(folder):
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def keys(seaweed, bucket):
    return sorted(o["Key"] for o in seaweed.client().list_objects_v2(Bucket=bucket).get("Contents", []))


def finished_run(run_id, timeout=300):
    done = wait_for(lambda: AuditRun.objects.filter(pk=run_id, finished_at__isnull=False).first(), timeout=timeout)
    assert done is not None, "the worker did not finish the run"
    return done


def register_credit(client, credit_frames, credit_model):
    train, test = credit_frames
    assert client.post("/api/v1/systems/", {"name": "Credit", "slug": "credit", "purpose": "Scores loans",
                                            "risk_tier": "high"}, format="json").status_code == 201
    ids = {}
    for role, frame in (("train", train), ("test", test)):
        response = client.post("/api/v1/datasets/", {
            "system": "credit", "name": role, "role": role, "schema": json.dumps(CREDIT_SCHEMA),
            "file": io.BytesIO(csv_bytes(frame))}, format="multipart")
        assert response.status_code == 201, response.content
        ids[role] = response.json()["id"]
    artifact, spec = credit_model
    response = client.post("/api/v1/versions/", {
        "system": "credit", "version": "1.0.0", "artifact": io.BytesIO(artifact), "spec": json.dumps(spec),
        "train_dataset": ids["train"], "eval_dataset": ids["test"]}, format="multipart")
    assert response.status_code == 201, response.content
    return ModelVersion.objects.get(pk=response.json()["id"])


def test_an_upload_is_audited_and_reported_by_a_worker_that_shares_only_the_bucket(
        seaweed, bucket, web, worker, api, credit_frames, credit_model, tmp_path):
    client = api("alice")
    version = register_credit(client, credit_frames, credit_model)
    datasets = [version.train_dataset, version.eval_dataset]
    assert keys(seaweed, bucket) == sorted([f"artifacts/{version.artifact_sha256}.safetensors",
                                            *(f"datasets/{d.sha256}.csv" for d in datasets)])

    response = client.post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": "fairness",
                                                   "params": {"min_slice_count": 20}}, format="json")
    assert response.status_code == 201, response.content
    run = finished_run(response.json()["id"])
    assert run.status == RunStatus.SUCCEEDED, run.error

    response = client.post("/api/v1/reports/", {"version": str(version.pk)}, format="json")
    assert response.status_code == 201, response.content
    report = wait_for(lambda: Report.objects.exclude(status=ReportStatus.GENERATING).filter(
        pk=response.json()["id"]).first(), timeout=300)
    assert report is not None and report.status == ReportStatus.SIGNED, report and report.error
    assert report.file.name == f"reports/{report.report_number}-{report.sha256}.pdf"
    assert report.file.name in keys(seaweed, bucket)

    download = client.get(f"/api/v1/reports/{report.pk}/download/")
    assert download.status_code == 200
    pdf = b"".join(download.streaming_content)
    assert download["X-Content-SHA256"] == report.sha256
    verdict = client.post("/api/v1/reports/verify/", {"file": io.BytesIO(pdf)}, format="multipart").json()
    assert (verdict["status"], verdict["matched_by"], verdict["report"]["report_number"]) == (
        "valid", "sha256", report.report_number), verdict

    # Written once: the signed object cannot be replaced, even through the app's own storage.
    with pytest.raises(ObjectExistsError):
        default_storage.save(report.file.name, io.BytesIO(b"%PDF- forged"))
    assert seaweed.client().get_object(Bucket=bucket, Key=report.file.name)["Body"].read() == pdf
    # Only the bucket connected the two processes.
    assert files_under(web) == [] and files_under(tmp_path / "worker-media") == []


def test_an_object_changed_in_the_bucket_fails_the_audit_naming_it(
        seaweed, bucket, web, worker, api, credit_frames, credit_model):
    client = api("alice")
    version = register_credit(client, credit_frames, credit_model)
    name = version.eval_dataset.file.name
    changed = csv_bytes(credit_frames[1].assign(risk=1 - credit_frames[1]["risk"]))  # every label flipped
    seaweed.client().put_object(Bucket=bucket, Key=name, Body=changed)  # behind the app's back

    response = client.post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": "fairness",
                                                   "params": {"min_slice_count": 20}}, format="json")
    run = finished_run(response.json()["id"], timeout=120)
    assert run.status == RunStatus.FAILED and not run.results
    assert f"The stored object {name} has changed since it was stored" in run.error
    assert version.eval_dataset.sha256 in run.error
