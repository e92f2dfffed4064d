"""Many workers on two queues, one killed midway: every run still finishes exactly once.

200 data-quality audits on a tiny dataset go to four worker processes, two on `cpu` and two on
`gpu`. One `cpu` worker is killed with SIGKILL once a quarter have finished: its message stays
unacknowledged (acks late), its run stops heartbeating, and the sweeper -- called here the way
beat calls it -- hands the run back. Each run must end succeeded with one `audit.finished` trail
row and each piece of its evidence written once."""

import os
import signal
import subprocess

import pytest
from django.db import transaction
from django.db.models import Count

from audits.runs.models import AuditRun, RunStatus
from audits.runs.services import audit_run_create, audit_runs_sweep
from audits.runs.worker import worker_command, worker_env
from governance.catalog.models import Evidence
from governance.trail.models import AuditLogEntry
from tests.conftest import CREDIT_SCHEMA, csv_bytes
from tests.integration.conftest import database_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RUNS = 200
ROWS = 80  # enough for 5-fold cross-validation with both classes in every fold


@pytest.fixture
def tiny_version(personas, credit_frames, credit_model):
    from governance.registry import services

    alice = personas["alice"]
    train, test = (frame.head(ROWS) for frame in credit_frames)
    system = services.system_create(actor=alice, name="Tiny", slug="tiny", purpose="Scores loans", risk_tier="low")
    train_ds = services.dataset_register(actor=alice, system=system, name="train", role="train",
                                         upload=csv_bytes(train), schema=CREDIT_SCHEMA)
    test_ds = services.dataset_register(actor=alice, system=system, name="test", role="test",
                                        upload=csv_bytes(test), schema=CREDIT_SCHEMA)
    artifact, spec = credit_model
    return services.model_version_register(actor=alice, system=system, version="1.0.0", artifact=artifact, spec=spec,
                                           train_dataset=train_ds, eval_dataset=test_ds)


@pytest.fixture
def workers(broker_available, transactional_db, tmp_path, settings):
    env = worker_env({
        "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "governance.test_settings",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    })
    procs = {}
    for name, queue in [("cpu1", "cpu"), ("cpu2", "cpu"), ("gpu1", "gpu"), ("gpu2", "gpu")]:
        cmd = worker_command(queues=queue, loglevel="warning")
        cmd[cmd.index("-n") + 1] = f"{name}-{os.getpid()}@%h"  # four distinct Celery node names
        log = open(tmp_path / f"{name}.log", "ab")
        procs[name] = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_200_runs_on_four_workers_finish_once_each_though_one_worker_is_killed(workers, tiny_version, personas,
                                                                               settings):
    # The sweeper's patience, shortened so that the killed worker's run comes back within the
    # test; a run that is merely slow and re-queued is still finished once (the claim and the
    # conditional finish see to that).
    settings.AUDIT_HEARTBEAT_TIMEOUT_SECONDS = 30
    settings.AUDIT_MAX_ATTEMPTS = 5
    with transaction.atomic():
        for i in range(RUNS):
            run = audit_run_create(actor=personas["alice"], version=tiny_version, kind="data_quality")
            if i % 2:
                # Half go to the `gpu` queue, the way a GPU kind's runs are routed (run.queue);
                # the message is sent on commit, with the queue read back from the row.
                AuditRun.objects.filter(pk=run.pk).update(queue="gpu")

    def finished():
        return AuditRun.objects.filter(status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]).count()

    assert wait_for(lambda: finished() >= RUNS // 4, timeout=300), "the workers did not start"
    workers["cpu1"].send_signal(signal.SIGKILL)
    workers["cpu1"].wait(timeout=10)

    def all_done():
        audit_runs_sweep()
        return finished() == RUNS

    assert wait_for(all_done, timeout=420, interval=5), dict(
        AuditRun.objects.values_list("status").annotate(n=Count("pk")).order_by())

    runs = AuditRun.objects.all()
    assert runs.count() == RUNS
    assert set(runs.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    assert set(runs.values_list("queue", flat=True)) == {"cpu", "gpu"}

    finished_rows = (AuditLogEntry.objects.filter(action="audit.finished").values("object_id")
                     .annotate(n=Count("pk")).order_by())
    assert len(finished_rows) == RUNS and {row["n"] for row in finished_rows} == {1}

    per_run = (Evidence.objects.filter(audit_run_id__isnull=False).values("audit_run_id")
               .annotate(rows=Count("pk"), assessments=Count("assessment", distinct=True)).order_by())
    assert len(per_run) == RUNS
    assert {row["rows"] for row in per_run} == {per_run[0]["rows"]}  # the same evidence for every run
    assert all(row["rows"] == row["assessments"] > 0 for row in per_run)  # each piece once
