"""A report is never lost to a broker that is down or a worker that dies: the row is the truth,
the sweeper sends what was not sent and takes back a build whose worker stopped beating."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.reports import service
from audits.reports.models import Report, ReportStatus
from audits.reports.tasks import build_report
from tests.reports.test_service import pki, signing, small_render  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


class Broker:
    def __init__(self):
        self.down = True
        self.sent = []

    def apply_async(self, args, queue):
        if self.down:
            raise ConnectionRefusedError("Connection refused.")
        self.sent.append(args[0])


@pytest.fixture
def broker(monkeypatch):
    broker = Broker()
    monkeypatch.setattr(build_report, "apply_async", broker.apply_async)
    return broker


def test_a_report_asked_for_while_the_broker_is_down_is_201_and_built_once_the_sweeper_sends_it(
        credit_system, personas, api, signing, small_render, broker, settings, django_capture_on_commit_callbacks):
    _, version = credit_system
    with django_capture_on_commit_callbacks(execute=True):
        r = api("alice").post("/api/v1/reports/", {"version": str(version.pk)}, format="json")
    assert r.status_code == 201, r.json()
    report = Report.objects.get(pk=r.json()["id"])
    assert report.status == ReportStatus.GENERATING and report.enqueued_at is None

    later = timezone.now() + timedelta(seconds=settings.AUDIT_UNSENT_GRACE_SECONDS + 1)
    assert service.reports_sweep(now=later)["sent"] == 0  # still down: nothing lost, tried again next sweep
    broker.down = False
    assert service.reports_sweep(now=later)["requeued"] == [str(report.pk)]
    assert service.reports_sweep(now=later)["requeued"] == []  # sent: not again while it waits
    assert broker.sent == [str(report.pk)]
    assert build_report(broker.sent[0]) == ReportStatus.SIGNED
    report.refresh_from_db()
    assert report.status == ReportStatus.SIGNED and report.file


@pytest.mark.parametrize("silent_for,taken_back", [(30, False), (60, True)])
def test_a_build_whose_worker_stopped_beating_is_taken_back_by_the_sweeper(
        credit_system, personas, signing, broker, settings, silent_for, taken_back):
    settings.AUDIT_HEARTBEAT_TIMEOUT_SECONDS = 45
    broker.down = False
    _, version = credit_system
    report = service.report_generate(actor=personas["alice"], version=version)
    beat = timezone.now()
    Report.objects.filter(pk=report.pk).update(started_at=beat, heartbeat_at=beat, enqueued_at=beat)
    result = service.reports_sweep(now=beat + timedelta(seconds=silent_for))
    report.refresh_from_db()
    assert (result["requeued"] == [str(report.pk)]) is taken_back
    assert (report.started_at is None, report.attempts) == ((True, 1) if taken_back else (False, 0))


def test_a_redelivered_message_rebuilds_a_report_whose_worker_died(credit_system, personas, signing, small_render,
                                                                  broker):
    _, version = credit_system
    report = service.report_generate(actor=personas["alice"], version=version)
    dead = timezone.now() - timedelta(hours=1)
    Report.objects.filter(pk=report.pk).update(started_at=dead, heartbeat_at=dead)
    assert build_report(str(report.pk)) == ReportStatus.SIGNED
    report.refresh_from_db()
    assert report.status == ReportStatus.SIGNED and report.attempts == 1


def test_a_live_build_is_not_taken_over_by_a_redelivered_message(credit_system, personas, signing, broker):
    _, version = credit_system
    report = service.report_generate(actor=personas["alice"], version=version)
    Report.objects.filter(pk=report.pk).update(started_at=timezone.now(), heartbeat_at=timezone.now())
    assert build_report(str(report.pk)) == "skipped"


def test_a_build_that_lost_its_worker_too_often_fails_and_frees_the_version(credit_system, personas, signing,
                                                                          broker, settings):
    settings.AUDIT_MAX_ATTEMPTS = 3
    _, version = credit_system
    report = service.report_generate(actor=personas["alice"], version=version)
    dead = timezone.now() - timedelta(hours=1)
    Report.objects.filter(pk=report.pk).update(started_at=dead, heartbeat_at=dead, attempts=2)
    assert service.reports_sweep()["failed"] == [str(report.pk)]
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and "stopped answering, 3 times" in report.error
    assert service.report_generate(actor=personas["bob"], version=version).status == ReportStatus.GENERATING
