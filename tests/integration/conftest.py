"""Integration tests run against real services: the database the settings name, and the
broker. On the embedded defaults (SQLite + filesystem broker) they always run. When a
configured service is unreachable they skip locally but FAIL in CI (CI=true or
REQUIRE_SERVICES=1), so a missing PostgreSQL or Redis can never pass silently."""

from __future__ import annotations

import os
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from audits.runs.worker import start_worker


def _must_fail() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"} or os.environ.get("REQUIRE_SERVICES") == "1"


def _unavailable(reason: str):
    if _must_fail():
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(f"service unavailable: {reason}")


@pytest.fixture(scope="session")
def broker_available():
    from governance.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=2, interval_start=0.2)
    except Exception as exc:  # noqa: BLE001 - any failure means unavailable
        _unavailable(f"broker {settings.CELERY_BROKER_URL}: {exc}")


def database_url() -> str:
    """The URL of the *test* database pytest-django created, for the worker subprocess."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker_env() -> dict:
    """Extra environment for the worker; a test module overrides it (e.g. DEBUG for signing)."""
    return {}


@pytest.fixture
def worker(broker_available, transactional_db, tmp_path, settings, worker_env):
    env = {
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "governance.test_settings",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        **worker_env,
    }
    log_path = tmp_path / "worker.log"
    proc = start_worker(queues="cpu,gpu", env=env, log_path=log_path, loglevel="info")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except Exception:  # noqa: BLE001
        proc.kill()
    if os.environ.get("SHOW_WORKER_LOG"):
        print(log_path.read_text())


def wait_for(predicate, *, timeout: float, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None
