"""What /healthz/ reports: the database, the broker, the object store, beat and the workers of each queue.

Beat's sign of life is the stale-run sweep it sends every SWEEP_INTERVAL_SECONDS (the task
writes the "beat" heartbeat); each worker beats "worker:<name>" with its queues every
AUDIT_HEARTBEAT_INTERVAL_SECONDS (governance/celery.py). Web requests keep working without
the broker, beat or workers (the database is the truth; the sweeper delivers later), so
only a database that does not answer makes the check fail with 503; anything else missing
makes it "degraded" and says what."""

from __future__ import annotations

from celery import current_app
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection

from governance.core.heartbeat import service_heartbeats


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return {"ok": False, "error": str(exc)[:300]}
    return {"ok": True}


def _broker() -> dict:
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        return {"ok": False, "error": str(exc)[:300]}
    return {"ok": True}


def _object_store() -> dict:
    """A metadata read of one key (absent or not): reachable and allowed, without reading data."""
    try:
        default_storage.exists("healthz-probe")
    except Exception as exc:  # noqa: BLE001 - any failure means the store does not answer
        return {"ok": False, "backend": settings.STORAGE_BACKEND, "error": str(exc)[:300]}
    return {"ok": True, "backend": settings.STORAGE_BACKEND}


def health_report(*, now=None) -> tuple[dict, int]:
    """(the JSON body, its HTTP status)."""
    database = _database()
    if not database["ok"]:
        return {"status": "down", "database": database, "problems": ["the database does not answer"]}, 503
    problems = []
    broker = _broker()
    if not broker["ok"]:
        problems.append("the broker is unreachable: new work waits in the database until it is back")
    store = _object_store()
    if not store["ok"]:
        problems.append("the object store does not answer: audits and reports cannot read or write their files")
    beat_alive, beat_silent = service_heartbeats(prefix="beat", alive_within=settings.BEAT_MISSING_AFTER_SECONDS,
                                                 now=now)
    if not beat_alive:
        last = f" (last seen {beat_silent[0]['seconds_ago']} s ago)" if beat_silent else " (never seen)"
        problems.append(f"beat is missing{last}: nothing sweeps stale work or runs schedules")
    workers, silent = service_heartbeats(prefix="worker:", alive_within=settings.WORKER_MISSING_AFTER_SECONDS,
                                         now=now)
    served = {q for w in workers for q in w.get("queues", [])}
    missing = [q for q in settings.HEALTH_WORKER_QUEUES if q not in served]
    for queue in missing:
        problems.append(f"no live worker serves the '{queue}' queue")
    body = {
        "status": "degraded" if problems else "ok",
        "problems": problems,
        "database": database,
        "broker": broker,
        "object_store": store,
        "beat": {"ok": bool(beat_alive), "last": (beat_alive or beat_silent or [None])[0]},
        "workers": {"ok": not missing, "alive": workers, "missing_queues": missing,
                    "silent": [w["name"] for w in silent][:20]},
    }
    return body, 200
