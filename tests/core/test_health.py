"""/healthz/ says what is missing: the broker, beat (no sweep lately), a queue without a live
worker; it fails (503) only when the database does not answer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.core.heartbeat import service_beat
from governance.core.health import health_report

pytestmark = pytest.mark.django_db


def test_with_beat_and_a_worker_per_queue_alive_the_check_is_ok(client, settings):
    settings.HEALTH_WORKER_QUEUES = ["cpu", "gpu"]
    service_beat(name="beat")
    service_beat(name="worker:cpu@h", detail={"queues": ["cpu"]})
    service_beat(name="worker:gpu0@h", detail={"queues": ["gpu"]})
    r = client.get("/healthz/")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ok", body
    assert body["problems"] == [] and body["database"]["ok"] and body["broker"]["ok"] and body["object_store"]["ok"]
    assert [w["name"] for w in body["workers"]["alive"]] == ["worker:cpu@h", "worker:gpu0@h"]


def test_a_silent_beat_and_a_queue_without_a_live_worker_make_it_degraded_and_say_so(settings):
    settings.HEALTH_WORKER_QUEUES = ["cpu", "gpu"]
    settings.BEAT_MISSING_AFTER_SECONDS, settings.WORKER_MISSING_AFTER_SECONDS = 90, 45
    now = timezone.now()
    service_beat(name="beat", now=now - timedelta(seconds=120))
    service_beat(name="worker:cpu@h", detail={"queues": ["cpu"]}, now=now - timedelta(seconds=10))
    service_beat(name="worker:gpu0@h", detail={"queues": ["gpu"]}, now=now - timedelta(seconds=60))
    body, status = health_report(now=now)
    assert status == 200 and body["status"] == "degraded"
    assert body["problems"] == [
        "beat is missing (last seen 120 s ago): nothing sweeps stale work or runs schedules",
        "no live worker serves the 'gpu' queue",
    ]
    assert body["workers"]["missing_queues"] == ["gpu"] and body["workers"]["silent"] == ["worker:gpu0@h"]


def test_nothing_ever_seen_names_beat_and_every_queue(settings):
    settings.HEALTH_WORKER_QUEUES = ["cpu"]
    body, _ = health_report()
    assert body["problems"] == ["beat is missing (never seen): nothing sweeps stale work or runs schedules",
                                "no live worker serves the 'cpu' queue"]


def test_an_unreachable_broker_is_named_and_a_database_that_does_not_answer_is_a_503(monkeypatch, client):
    monkeypatch.setattr("governance.core.health._broker", lambda: {"ok": False, "error": "Connection refused"})
    body, status = health_report()
    assert status == 200 and body["broker"] == {"ok": False, "error": "Connection refused"}
    assert body["problems"][0].startswith("the broker is unreachable")
    monkeypatch.setattr("governance.core.health._database", lambda: {"ok": False, "error": "gone"})
    r = client.get("/healthz/")
    assert r.status_code == 503 and r.json()["status"] == "down"


def test_the_sweep_task_is_beats_sign_of_life(settings):
    from audits.runs.tasks import sweep_stale_runs
    from governance.core.models import ServiceHeartbeat

    sweep_stale_runs()
    assert ServiceHeartbeat.objects.get(name="beat").detail == {"task": "audits.sweep_stale_runs"}


def test_an_object_store_that_does_not_answer_makes_it_degraded_and_says_so(settings, monkeypatch):
    settings.HEALTH_WORKER_QUEUES = []
    service_beat(name="beat")

    def unreachable(name):
        raise ConnectionError("Could not connect to the endpoint URL")

    monkeypatch.setattr("governance.core.health.default_storage.exists", unreachable)
    body, status = health_report()
    assert status == 200 and body["status"] == "degraded"
    assert body["problems"] == ["the object store does not answer: audits and reports cannot read or write their files"]
    assert body["object_store"] == {"ok": False, "backend": settings.STORAGE_BACKEND,
                                    "error": "Could not connect to the endpoint URL"}
