"""How the demo and the integration tests start a real Celery worker subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def worker_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    # The `celery` command reads BROKER_URL / RESULT_BACKEND and lets them override the app
    # config; drop them so the worker uses exactly what settings (CELERY_BROKER_URL) say.
    env.pop("BROKER_URL", None)
    env.pop("RESULT_BACKEND", None)
    env.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    env["PYTHONUNBUFFERED"] = "1"
    # The demo worker shares 2 cores with the web server; torch's default of one thread per
    # core oversubscribes them and runs small models many times slower.
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra or {})
    return env


def worker_command(*, queues: str = "cpu,gpu", beat: bool = False, loglevel: str = "info") -> list[str]:
    cmd = [
        sys.executable, "-m", "celery", "-A", "governance", "worker", "-Q", queues, "-P", "solo",
        "--without-mingle", "--without-gossip", "-l", loglevel, "-n", f"demo-{os.getpid()}@%h",
    ]
    if beat:
        cmd += ["-B", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]
    return cmd


def start_worker(*, queues: str = "cpu,gpu", beat: bool = False, env: dict | None = None, log_path=None,
                 loglevel: str = "info"):
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    return subprocess.Popen(
        worker_command(queues=queues, beat=beat, loglevel=loglevel), cwd=settings.BASE_DIR, env=worker_env(env), stdout=log, stderr=subprocess.STDOUT
    )
