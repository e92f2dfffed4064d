"""Nothing is lost, and nothing runs twice, when the broker or a worker fails.

1. A PRIVATE redis-server (started here on a free port) is the broker. It is stopped; an audit,
   a production batch with its review, a report and an approval decision (with a webhook to a
   local receiver) each answer 201; the broker starts again, a worker starts, the sweepers run
   (this test plays beat: it calls them) and each piece of work is done exactly once, with every
   file present. A client's retry with the same Idempotency-Key creates nothing.
2. A worker is SIGKILLed during one long step (longer than the heartbeat timeout, which the live
   worker's heartbeat thread never lets it trip); the run is taken back and finishes once,
   within two minutes.

The only settings shortened from the defaults, for the worker subprocesses and this process:
AUDIT_HEARTBEAT_INTERVAL_SECONDS=1 and AUDIT_HEARTBEAT_TIMEOUT_SECONDS=5 (defaults 5 and 45),
AUDIT_UNSENT_GRACE_SECONDS=0 here (default 10), and the sweeps are called every second instead
of beat's SWEEP_INTERVAL_SECONDS (30).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.reports.models import Report, ReportStatus
from audits.reports.service import reports_sweep
from audits.runs.models import AuditRun, RunStatus
from audits.runs.services import audit_runs_sweep
from audits.runs.worker import start_worker, worker_env
from governance.approvals.services import approval_request_create
from governance.catalog.models import Evidence
from governance.notifications.models import DeliveryStatus, WebhookDelivery
from governance.notifications.services import webhooks_sweep
from governance.registry.models import Dataset
from governance.trail.models import AuditLogEntry
from tests.approval_fixtures import make_version, medium, passing_run
from tests.conftest import csv_bytes
from tests.integration.conftest import database_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SHORT = {"AUDIT_HEARTBEAT_INTERVAL_SECONDS": "1", "AUDIT_HEARTBEAT_TIMEOUT_SECONDS": "5"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, to stop and start at will."""

    def __init__(self, workdir):
        self.port, self.workdir, self.proc = _free_port(), workdir, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(self._answers, timeout=10), "the private redis-server did not start"

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


def _fresh_pools():
    """Make this process's Celery app connect anew (to the broker the environment now names)."""
    from governance.celery import app

    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def private_broker(tmp_path, monkeypatch):
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    redis.start()
    # Celery reads CELERY_BROKER_WRITE_URL before its configuration (and CELERY_BROKER_URL, which
    # CI sets, before app.conf): this process publishes to the private broker only.
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", redis.url)
    _fresh_pools()
    yield redis
    redis.stop()
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL")
    _fresh_pools()


@pytest.fixture
def receiver():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((self.headers["X-Governance-Event"], self.headers["X-Governance-Delivery"]))
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def _worker_env(broker_url, **extra):
    return {"DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "governance.test_settings",
            "MEDIA_ROOT": str(django_settings.MEDIA_ROOT), "CELERY_BROKER_URL": broker_url, "DEBUG": "1",
            **SHORT, **extra}


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _sweep_all():
    return audit_runs_sweep(), reports_sweep(), webhooks_sweep()


def test_work_submitted_while_the_broker_is_down_is_done_exactly_once_when_it_is_back(
        private_broker, receiver, credit_system, credit_frames, personas, api, settings, tmp_path):
    settings.DEBUG = True  # reports are signed with the development certificate, here and in the worker
    settings.AUDIT_HEARTBEAT_TIMEOUT_SECONDS = 5
    settings.AUDIT_UNSENT_GRACE_SECONDS = 0  # what was not sent is sent at the first sweep
    url, received = receiver
    _, version = credit_system
    triage = make_version(medium(personas))
    passing_run(triage)
    approval = approval_request_create(actor=personas["alice"], version=triage, environment="production")
    settings.APPROVAL_WEBHOOK_URLS = [url]
    _, test = credit_frames

    private_broker.stop()
    audit = {"version": str(version.pk), "kind": "fairness", "params": {"mitigation": False}}
    r_audit = api("alice").post("/api/v1/audit-runs/", audit, format="json", HTTP_IDEMPOTENCY_KEY="audit-1")
    batch_form = {"system": "credit", "version": "1.0.0", "file": SimpleUploadedFile("b.csv", csv_bytes(test.head(60)))}
    r_batch = api("alice").post("/api/v1/batches/?review=1", batch_form, format="multipart")
    r_report = api("alice").post("/api/v1/reports/", {"version": str(version.pk)}, format="json")
    r_decision = api("bob").post(f"/api/v1/approvals/{approval.pk}/decisions/",
                                 {"decision": "approve", "comment": "meets its policy"}, format="json")
    answers = [r.status_code for r in (r_audit, r_batch, r_report, r_decision)]
    assert answers == [201, 201, 201, 201], [r.json() for r in (r_audit, r_batch, r_report, r_decision)]
    batch = Dataset.objects.get(pk=r_batch.json()["id"])
    assert default_storage.exists(batch.file.name)  # the batch keeps its file
    runs = [r_audit.json()["id"], r_batch.json()["review"]["id"]]
    assert set(AuditRun.objects.filter(pk__in=runs).values_list("status", flat=True)) == {RunStatus.QUEUED}
    assert WebhookDelivery.objects.filter(event="approval.decided", status=DeliveryStatus.PENDING).count() == 1

    private_broker.start()
    proc = start_worker(queues="cpu,gpu", env=_worker_env(private_broker.url), log_path=tmp_path / "worker.log")
    try:
        def all_done():
            _sweep_all()  # this test plays beat
            report = Report.objects.get(pk=r_report.json()["id"])
            finished = AuditRun.objects.filter(pk__in=runs, status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED])
            sent = WebhookDelivery.objects.filter(event="approval.decided", status=DeliveryStatus.SENT)
            return finished.count() == 2 and report.status != ReportStatus.GENERATING and sent.exists()

        assert wait_for(all_done, timeout=240, interval=1), (tmp_path / "worker.log").read_text()[-3000:]
        _sweep_all()
        time.sleep(2)  # give a duplicate, were there one, the time to be consumed
    finally:
        _stop(proc)

    for run in AuditRun.objects.filter(pk__in=runs):
        assert run.status == RunStatus.SUCCEEDED, run.error
        assert run.attempts == 0
        assert AuditLogEntry.objects.filter(action="audit.started", object_id=str(run.pk)).count() == 1
        assert AuditLogEntry.objects.filter(action="audit.finished", object_id=str(run.pk)).count() == 1
    assert Evidence.objects.filter(audit_run_id=runs[0]).count() == 4
    report = Report.objects.get(pk=r_report.json()["id"])
    assert report.status == ReportStatus.SIGNED, report.error
    assert default_storage.exists(report.file.name) and default_storage.exists(batch.file.name)
    delivery = WebhookDelivery.objects.get(event="approval.decided")
    assert received.count(("approval.decided", str(delivery.pk))) == 1

    again = api("alice").post("/api/v1/audit-runs/", audit, format="json", HTTP_IDEMPOTENCY_KEY="audit-1")
    assert again.status_code == 201 and again.json()["id"] == r_audit.json()["id"]
    assert AuditRun.objects.filter(kind="fairness", version=version).count() == 1


def _slow_worker(tmp_path, marker, name):
    env = worker_env(_worker_env(django_settings.CELERY_BROKER_URL, SLOW_STEP_MARKER=str(marker),
                                 SLOW_STEP_SECONDS="8"))
    cmd = [sys.executable, "-c", "import tests.integration.slow_step as s; s.main()", "-A", "governance", "worker",
           "-Q", "cpu", "-P", "solo", "--without-mingle", "--without-gossip", "-l", "info", "-n", f"{name}@%h"]
    log = open(tmp_path / f"{name}.log", "ab")
    return subprocess.Popen(cmd, cwd=django_settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)


def test_a_run_whose_worker_is_killed_mid_step_finishes_once_within_two_minutes(
        broker_available, credit_system, personas, api, settings, tmp_path):
    settings.AUDIT_HEARTBEAT_TIMEOUT_SECONDS = 5
    _, version = credit_system
    marker = tmp_path / "steps"
    first = _slow_worker(tmp_path, marker, "first")
    second = None
    try:
        r = api("alice").post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": "fairness",
                                                      "params": {"mitigation": False}},
                              format="json")
        assert r.status_code == 201
        run_id = r.json()["id"]
        assert wait_for(lambda: marker.exists() and marker.read_text().count("\n") >= 1, timeout=120), \
            (tmp_path / "first.log").read_text()[-3000:]
        # The step outlasts the timeout; the live worker's heartbeat keeps the sweeper away.
        for _ in range(6):
            audit_runs_sweep()
            time.sleep(1)
        run = AuditRun.objects.get(pk=run_id)
        assert (run.status, run.attempts) == (RunStatus.RUNNING, 0)

        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        second = _slow_worker(tmp_path, marker, "second")

        def finished():
            audit_runs_sweep()  # this test plays beat
            return AuditRun.objects.filter(pk=run_id, status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]).first()

        done = wait_for(finished, timeout=120, interval=1)
        assert done is not None, (tmp_path / "second.log").read_text()[-3000:]
        assert time.monotonic() - killed_at < 120
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                _stop(proc)
    assert done.status == RunStatus.SUCCEEDED, done.error
    assert done.attempts == 1  # taken back once
    assert AuditLogEntry.objects.filter(action="audit.started", object_id=str(run_id)).count() == 2
    assert AuditLogEntry.objects.filter(action="audit.finished", object_id=str(run_id)).count() == 1
    assert Evidence.objects.filter(audit_run_id=run_id).count() == 4
