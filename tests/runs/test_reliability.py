"""When the broker or a worker fails, nothing committed is lost and nothing runs twice:
an enqueue that fails still answers 201 and the sweeper sends the run once; the worker's
heartbeat is time-based, so a long step stays alive and a dead worker's run is taken back."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from audits.runs.models import AuditRun, RunStatus
from audits.runs.runner import RunOutcome
from audits.runs.services import (
    audit_run_beat,
    audit_run_claim,
    audit_run_create,
    audit_run_execute,
    audit_runs_sweep,
)
from governance.core.heartbeat import Heartbeat

pytestmark = pytest.mark.django_db


class Broker:
    """Stands in for run_audit.apply_async: down (raises) or up (records what it was sent)."""

    def __init__(self):
        self.down = True
        self.sent = []

    def apply_async(self, args, queue):
        if self.down:
            raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")
        self.sent.append((args[0], queue))


@pytest.fixture
def broker(monkeypatch):
    broker = Broker()
    monkeypatch.setattr("audits.runs.tasks.run_audit.apply_async", broker.apply_async)
    return broker


def test_a_broker_that_is_down_still_gets_a_201_and_the_sweeper_sends_the_run_once_it_is_back(
        credit_system, personas, api, broker, settings, django_capture_on_commit_callbacks):
    _, version = credit_system
    with django_capture_on_commit_callbacks(execute=True):
        r = api("alice").post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": "fairness"}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["status"] == "queued"
    run = AuditRun.objects.get(pk=r.json()["id"])
    assert run.enqueued_at is None and broker.sent == []

    now = timezone.now()
    assert audit_runs_sweep(now=now)["requeued"] == []  # within the grace: the on-commit send may still come
    later = now + timedelta(seconds=settings.AUDIT_UNSENT_GRACE_SECONDS + 1)
    assert audit_runs_sweep(now=later) == {"requeued": [str(run.pk)], "sent": 0, "failed": []}  # still down

    broker.down = False
    assert audit_runs_sweep(now=later)["sent"] == 1
    assert broker.sent == [(str(run.pk), "cpu")]
    run.refresh_from_db()
    assert run.enqueued_at is not None and run.status == RunStatus.QUEUED
    audit_runs_sweep(now=later + timedelta(seconds=1))
    assert broker.sent == [(str(run.pk), "cpu")]  # sent once: not again while it waits for a worker


def _running(version, actor, *, heartbeat_at, attempts=0):
    run = audit_run_create(actor=actor, version=version, kind="fairness")
    AuditRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=heartbeat_at,
                                              heartbeat_at=heartbeat_at, enqueued_at=heartbeat_at,
                                              worker_host="w1", attempts=attempts)
    return run


@pytest.mark.parametrize("silent_for,taken_back", [(44, False), (46, True)])
def test_a_run_is_taken_back_only_once_its_heartbeat_is_older_than_the_timeout(
        credit_system, personas, broker, settings, silent_for, taken_back):
    settings.AUDIT_HEARTBEAT_TIMEOUT_SECONDS = 45
    broker.down = False
    _, version = credit_system
    beat = timezone.now()
    run = _running(version, personas["alice"], heartbeat_at=beat)
    result = audit_runs_sweep(now=beat + timedelta(seconds=silent_for))
    run.refresh_from_db()
    assert (result["requeued"] == [str(run.pk)]) is taken_back
    assert run.status == (RunStatus.QUEUED if taken_back else RunStatus.RUNNING)
    assert run.attempts == (1 if taken_back else 0)


def test_a_redelivered_message_reclaims_a_run_whose_worker_died_instead_of_skipping_it(
        credit_system, personas, settings):
    settings.AUDIT_HEARTBEAT_TIMEOUT_SECONDS = 45
    _, version = credit_system
    beat = timezone.now()
    run = _running(version, personas["alice"], heartbeat_at=beat)
    assert audit_run_claim(run_id=run.pk, worker_host="w2", now=beat + timedelta(seconds=10)) is False  # alive
    assert audit_run_claim(run_id=run.pk, worker_host="w2", now=beat + timedelta(seconds=50)) is True  # dead
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.worker_host == "w2" and run.attempts == 1
    # ...and the dead worker's claim can no longer beat or finish it.
    assert audit_run_beat(run_id=run.pk, started_at=beat) is False
    assert audit_run_beat(run_id=run.pk, started_at=run.started_at) is True


def test_a_run_that_lost_its_worker_too_often_is_failed_not_reclaimed(credit_system, personas, settings):
    settings.AUDIT_MAX_ATTEMPTS = 3
    _, version = credit_system
    beat = timezone.now() - timedelta(hours=1)
    run = _running(version, personas["alice"], heartbeat_at=beat, attempts=2)
    assert audit_run_claim(run_id=run.pk, worker_host="w2") is False
    assert audit_runs_sweep()["failed"] == [str(run.pk)]
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "Abandoned by worker w1 3 times" in run.error


def test_the_worker_heartbeats_while_one_long_step_runs_without_progress(credit_system, personas, settings,
                                                                        monkeypatch):
    settings.AUDIT_HEARTBEAT_INTERVAL_SECONDS = 0.01
    _, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="fairness")
    beats, three = [], threading.Event()

    def beat(*, run_id, started_at, now=None):  # the thread's own DB connection cannot see the test's rows
        beats.append((run_id, started_at))
        if len(beats) >= 3:
            three.set()
        return True

    def long_step(*, run, progress):  # one step, no progress reported, longer than three beats
        assert three.wait(10), "the heartbeat thread did not beat during the step"
        return RunOutcome(outcome="pass", summary="ok", results={})

    monkeypatch.setattr("audits.runs.services.audit_run_beat", beat)
    monkeypatch.setattr("audits.kinds.fairness.runner.run", long_step)
    assert audit_run_execute(run_id=run.pk) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    assert len(beats) >= 3 and set(beats) == {(run.pk, run.started_at)}  # the claim's own heartbeat


def test_a_heartbeat_that_fails_is_logged_and_does_not_stop_the_work_or_the_next_beats():
    calls, twice = [], threading.Event()

    def flaky():
        calls.append(1)
        if len(calls) >= 2:
            twice.set()
        raise RuntimeError("database is down")

    with Heartbeat(flaky, interval=0.01) as heartbeat:
        assert twice.wait(10)
    assert heartbeat.beats == 0 and len(calls) >= 2
    assert not heartbeat._thread.is_alive()


def test_a_heartbeat_with_interval_zero_starts_no_thread():
    with Heartbeat(lambda: None, interval=0) as heartbeat:
        pass
    assert heartbeat._thread is None
