"""What each broker needs so that a long GPU audit is delivered once and never handed to a
second worker while the first still runs it. Settings call these with values from the
environment; they import nothing from Django apps.

- filesystem (the default, no server): the demo and the tests on one machine.
- Redis: unacknowledged messages come back after `visibility_timeout`; it must exceed the
  longest audit, or a second worker starts the same run (the claim makes it a no-op, but the
  GPU time is spent twice until then).
- RabbitMQ (recommended for production): a message stays with its consumer until acked, so
  no timeout to size -- except the server's `consumer_timeout` (see README). Queues are
  durable; `quorum` makes them replicated, and Celery then uses per-consumer QoS because
  quorum queues refuse a global one (`worker_detect_quorum_queues`, on by default).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

QUEUES = ("cpu", "gpu")
QUEUE_TYPES = ("classic", "quorum")


def broker_kind(url: str) -> str:
    scheme = url.split("://", 1)[0].lower()
    if scheme in {"redis", "rediss", "sentinel"}:
        return "redis"
    if scheme in {"amqp", "amqps", "pyamqp"}:
        return "rabbitmq"
    return scheme


def transport_options(url: str, *, broker_dir, max_runtime_seconds: int, visibility_timeout: int | None) -> dict:
    kind = broker_kind(url)
    if kind == "filesystem":
        return {
            "data_folder_in": str(broker_dir / "queue"),
            "data_folder_out": str(broker_dir / "queue"),
            "processed_folder": str(broker_dir / "processed"),
            "control_folder": str(broker_dir / "control"),  # exchange state; default is ./control
            "store_processed": False,
        }
    if kind == "redis":
        timeout = visibility_timeout if visibility_timeout is not None else 2 * max_runtime_seconds
        if timeout <= max_runtime_seconds:
            raise ImproperlyConfigured(
                f"CELERY_VISIBILITY_TIMEOUT ({timeout}s) must exceed AUDIT_MAX_RUNTIME_SECONDS "
                f"({max_runtime_seconds}s): Redis would hand a running audit to a second worker"
            )
        return {"visibility_timeout": timeout}
    return {}


def task_queues(url: str, *, queue_type: str) -> tuple[Queue, ...] | None:
    """The `cpu` and `gpu` queues, declared durable (and quorum when asked) on RabbitMQ;
    None elsewhere, where Celery creates them from their names."""
    if queue_type not in QUEUE_TYPES:
        raise ImproperlyConfigured(f"CELERY_QUEUE_TYPE must be one of {', '.join(QUEUE_TYPES)}, not {queue_type!r}")
    if broker_kind(url) != "rabbitmq":
        return None
    arguments = {"x-queue-type": queue_type}
    return tuple(
        Queue(name, Exchange(name, type="direct", durable=True), routing_key=name, durable=True,
              queue_arguments=arguments)
        for name in QUEUES
    )
