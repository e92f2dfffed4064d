"""Liveness that measures the process, not its progress bar.

`Heartbeat` runs `beat()` on a daemon thread every `interval` seconds while a long piece of
work runs on the main thread: a step of any length keeps its run alive, and a worker that
dies (SIGKILL, OOM, a lost machine) stops beating at once. Each beat opens and closes its
own database connection, so no connection outlives the beat (a prefork worker forks while
this thread may exist; a connection left open would be shared with the child).

`service_beat` records that a process (a worker, beat) is alive; `service_heartbeats` reads
them for /healthz/.
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta

from django.db import DatabaseError, connection
from django.utils import timezone

log = logging.getLogger(__name__)


class Heartbeat:
    """`with Heartbeat(beat, interval=10): work()` calls beat() every 10 s until the block ends.
    interval <= 0 turns it off. A failing beat is logged, never raised into the work."""

    def __init__(self, beat, *, interval: float, name: str = "heartbeat"):
        self.beat = beat
        self.interval = float(interval)
        self.name = name
        self.beats = 0
        self._stop = threading.Event()
        self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
                self.beats += 1
            except Exception:  # noqa: BLE001 - a missed beat must not kill the work it reports on
                log.warning("%s: a beat failed", self.name, exc_info=True)
            finally:
                connection.close()  # this thread's own connection

    def __enter__(self):
        if self.interval > 0:
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(self.interval, 1) + 5)
        return False


def service_beat(*, name: str, detail: dict | None = None, now=None) -> None:
    """Record that `name` is alive now (one row per process, overwritten)."""
    from governance.core.models import ServiceHeartbeat

    try:
        ServiceHeartbeat.objects.update_or_create(
            name=name[:200], defaults={"seen_at": now or timezone.now(), "host": socket.gethostname()[:200],
                                       "detail": detail or {}})
    except DatabaseError:
        log.warning("could not record the heartbeat of %s", name, exc_info=True)


def service_heartbeats(*, prefix: str, alive_within: int, now=None) -> tuple[list[dict], list[dict]]:
    """(alive, silent) heartbeats whose name starts with `prefix`, as dicts for the health page."""
    from governance.core.models import ServiceHeartbeat

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=alive_within)
    alive, silent = [], []
    for row in ServiceHeartbeat.objects.filter(name__startswith=prefix).order_by("name"):
        entry = {"name": row.name, "host": row.host, "seen_at": row.seen_at.isoformat(),
                 "seconds_ago": int((now - row.seen_at).total_seconds()), **row.detail}
        (alive if row.seen_at >= cutoff else silent).append(entry)
    return alive, silent


def on_worker_ready(sender=None, **kwargs) -> None:
    """Celery's worker_ready (connected in CoreConfig.ready): each worker says it is alive, and
    which queues it serves, for /healthz/."""
    from celery import current_app
    from django.conf import settings

    queues = list(current_app.amqp.queues.consume_from or current_app.amqp.queues)
    worker_heartbeat_start(name=getattr(sender, "hostname", None) or socket.gethostname(), queues=queues,
                           interval=max(settings.AUDIT_HEARTBEAT_INTERVAL_SECONDS, 1))


def worker_heartbeat_start(*, name: str, queues: list[str], interval: float) -> Heartbeat:
    """Beat `worker:<name>` (and the queues it serves) for as long as the worker process lives."""
    detail = {"queues": sorted(queues)}
    service_beat(name=f"worker:{name}", detail=detail)
    connection.close()
    heartbeat = Heartbeat(lambda: service_beat(name=f"worker:{name}", detail=detail), interval=interval,
                          name=f"worker-heartbeat-{name}")
    return heartbeat.__enter__()  # a daemon thread: it ends with the process
