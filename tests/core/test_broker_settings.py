"""Each broker gets the options that keep a long audit with the worker that runs it."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from governance.broker import broker_kind, task_queues, transport_options

SIX_HOURS = 6 * 3600


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("redis://127.0.0.1:6379/12", "redis"),
        ("rediss://cache:6380/0", "redis"),
        ("amqp://guest:guest@127.0.0.1:5672//", "rabbitmq"),
        ("pyamqp://rabbit/", "rabbitmq"),
        ("filesystem://", "filesystem"),
    ],
)
def test_a_broker_url_names_its_kind(url, kind):
    assert broker_kind(url) == kind


def test_redis_keeps_a_message_invisible_for_twice_the_longest_audit_by_default():
    options = transport_options("redis://h/0", broker_dir=Path("/x"), max_runtime_seconds=SIX_HOURS,
                                visibility_timeout=None)
    assert options == {"visibility_timeout": 2 * SIX_HOURS}


def test_redis_refuses_a_visibility_timeout_shorter_than_the_longest_audit():
    with pytest.raises(ImproperlyConfigured, match="must exceed AUDIT_MAX_RUNTIME_SECONDS"):
        transport_options("redis://h/0", broker_dir=Path("/x"), max_runtime_seconds=SIX_HOURS,
                          visibility_timeout=3600)


def test_rabbitmq_needs_no_visibility_timeout():
    assert transport_options("amqp://h//", broker_dir=Path("/x"), max_runtime_seconds=SIX_HOURS,
                             visibility_timeout=None) == {}


def test_the_filesystem_broker_keeps_its_folders_under_the_broker_dir():
    options = transport_options("filesystem://", broker_dir=Path("/var/b"), max_runtime_seconds=SIX_HOURS,
                                visibility_timeout=None)
    assert options["data_folder_in"] == "/var/b/queue"
    assert options["control_folder"] == "/var/b/control"


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_rabbitmq_declares_durable_cpu_and_gpu_queues_of_the_type_asked(queue_type):
    queues = task_queues("amqp://h//", queue_type=queue_type)
    assert [q.name for q in queues] == ["cpu", "gpu"]
    assert all(q.durable and q.routing_key == q.name for q in queues)
    assert all(q.queue_arguments == {"x-queue-type": queue_type} for q in queues)


def test_other_brokers_let_celery_create_the_queues_from_their_names():
    assert task_queues("redis://h/0", queue_type="classic") is None


def test_an_unknown_queue_type_is_refused_by_name():
    with pytest.raises(ImproperlyConfigured, match="CELERY_QUEUE_TYPE must be one of classic, quorum, not 'lazy'"):
        task_queues("amqp://h//", queue_type="lazy")
