"""/metrics tells an operator how many runs wait on each queue, how runs of each kind stand and
how long they took, how many the sweeper recovered, and what the gate answered -- to a scraper
with the token or on an allowed network, and to nobody else."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from audits.runs.models import AuditRun, RunStatus
from governance.metrics.views import CLOSED, REFUSED
from governance.registry.tokens import pipeline_token_create
from tests.approval_fixtures import gate_key, make_system, make_version  # noqa: F401 - gate_key is a fixture

pytestmark = pytest.mark.django_db

TOKEN = "scrape-me"


@pytest.fixture
def scraper(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    return client


def samples(client) -> dict:
    r = client.get("/metrics")
    assert r.status_code == 200, r.content
    assert r["Content-Type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.content.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def run(version, *, kind, status, queue="cpu", seconds=None, attempts=0):
    now = timezone.now()
    started = now - timedelta(seconds=seconds) if seconds is not None else None
    return AuditRun.objects.create(system=version.system, version=version, kind=kind, queue=queue, status=status,
                                   started_at=started, finished_at=now if seconds is not None else None,
                                   attempts=attempts)


@pytest.fixture
def version(personas):
    return make_version(make_system(personas["alice"], slug="triage", tier="medium"))


def test_metrics_are_closed_when_neither_a_token_nor_a_network_is_configured(settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", []
    r = APIClient().get("/metrics")
    assert r.status_code == 403 and r.json()["message"] == CLOSED


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {TOKEN}"])
def test_a_scraper_without_the_right_bearer_token_is_refused(settings, header):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = TOKEN, []
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    r = client.get("/metrics")
    assert r.status_code == 403 and r.json() == {"message": REFUSED, "extra": {"field": "Authorization"}}


@pytest.mark.parametrize(("networks", "status"), [(["127.0.0.0/8"], 200), (["10.0.0.0/8"], 403)])
def test_an_allowed_network_needs_no_token(settings, networks, status):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", networks
    assert APIClient().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == status


def test_a_forwarded_header_does_not_open_the_network_check(settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", ["10.0.0.0/8"]
    r = APIClient().get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert r.status_code == 403


def test_queue_depth_counts_the_runs_waiting_on_each_queue(scraper, version):
    for _ in range(3):
        run(version, kind="robustness", status=RunStatus.QUEUED, queue="gpu")
    run(version, kind="fairness", status=RunStatus.QUEUED, queue="cpu")
    run(version, kind="fairness", status=RunStatus.RUNNING, queue="cpu")
    got = samples(scraper)
    assert got[("governance_audit_runs_queued", (("queue", "gpu"),))] == 3
    assert got[("governance_audit_runs_queued", (("queue", "cpu"),))] == 1


def test_an_empty_queue_reports_zero_rather_than_nothing(scraper):
    got = samples(scraper)
    assert got[("governance_audit_runs_queued", (("queue", "cpu"),))] == 0
    assert got[("governance_audit_runs_queued", (("queue", "gpu"),))] == 0


def test_runs_are_counted_by_kind_and_state_with_every_state_listed(scraper, version):
    run(version, kind="fairness", status=RunStatus.SUCCEEDED, seconds=4)
    run(version, kind="fairness", status=RunStatus.SUCCEEDED, seconds=40)
    run(version, kind="fairness", status=RunStatus.FAILED, seconds=400)
    got = samples(scraper)
    assert got[("governance_audit_runs", (("kind", "fairness"), ("status", "succeeded")))] == 2
    assert got[("governance_audit_runs", (("kind", "fairness"), ("status", "failed")))] == 1
    assert got[("governance_audit_runs", (("kind", "fairness"), ("status", "queued")))] == 0


def test_run_durations_fall_into_cumulative_buckets(scraper, version):
    for seconds in (4, 40, 400):
        run(version, kind="fairness", status=RunStatus.SUCCEEDED, seconds=seconds)
    run(version, kind="fairness", status=RunStatus.RUNNING)  # not finished: not in the histogram
    got = samples(scraper)

    def bucket(le):
        return got[("governance_audit_run_duration_seconds_bucket", (("kind", "fairness"), ("le", le)))]

    assert (bucket("1.0"), bucket("5.0"), bucket("60.0"), bucket("300.0"), bucket("900.0"), bucket("+Inf")) == (
        0, 1, 2, 2, 3, 3)
    assert got[("governance_audit_run_duration_seconds_count", (("kind", "fairness"),))] == 3
    assert got[("governance_audit_run_duration_seconds_sum", (("kind", "fairness"),))] == pytest.approx(444, abs=1)


def test_sweeper_recoveries_add_up_the_times_a_run_was_handed_back(scraper, version, settings):
    from audits.runs.services import audit_runs_sweep

    settings.AUDIT_MAX_ATTEMPTS = 5
    stuck = run(version, kind="robustness", status=RunStatus.RUNNING, queue="gpu")
    AuditRun.objects.filter(pk=stuck.pk).update(heartbeat_at=timezone.now() - timedelta(hours=2))
    run(version, kind="robustness", status=RunStatus.SUCCEEDED, queue="gpu", seconds=10, attempts=1)
    audit_runs_sweep()
    got = samples(scraper)
    assert got[("governance_sweeper_recoveries_total", (("kind", "robustness"),))] == 2


def test_every_gate_answer_is_counted_with_its_decision_and_timed(scraper, version, gate_key):  # noqa: F811
    _, key = pipeline_token_create(name="ci", scopes=["gate:read"], systems=[version.system])
    pipeline = APIClient()
    pipeline.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    before = samples(scraper)
    denied = ("governance_gate_decisions_total", (("decision", "deny"), ("environment", "production")))
    for _ in range(2):
        assert pipeline.get("/api/v1/gate/triage/1.0.0/?environment=production").json()["decision"] == "deny"
    after = samples(scraper)
    assert after[denied] - before.get(denied, 0) == 2
    count = ("governance_gate_decision_seconds_count", ())
    assert after[count] - before.get(count, 0) == 2
