"""The efficiency audit's runner (audits/kinds/efficiency/runner.py): budgets are judged like every
other check, no budget means informational evidence, and a run through the worker stores every
figure and writes evidence on MEASURE 2.12, MAP 3.2, MANAGE 2.1 and A.4.5. No timing is asserted."""

from __future__ import annotations

import pandas as pd
import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from sklearn.linear_model import LogisticRegression

from audits.kinds.efficiency import probe
from audits.kinds.efficiency.runner import (
    NO_GPU,
    NO_SENSITIVE,
    NOT_BINARY,
    budget_checks,
    check_price_table,
    fairness_judge,
    measure_model,
    summary,
)
from audits.kinds.efficiency.thresholds import PRICE_TABLE
from audits.reports import service as reports
from audits.reports.context import report_context
from audits.runs.models import RunStatus
from audits.runs.runner import AuditInputError
from audits.runs.services import audit_run_create
from audits.runs.tasks import run_audit
from governance.catalog.models import Evidence
from governance.policies.services import policy_for
from tests.reports.test_service import enqueued, pki, signing  # noqa: F401  (fixtures)
from training.artifacts import ModelHandle

FAST = {"batch_sizes": [1, 8], "warmup": 1, "warmup_seconds": 0.0, "min_repeats": 3, "repeats": 3, "max_seconds": 1.0,
        "outlook": True,
        "outlook_batch_size": 8}


def result(*, p95_batch1=12.0, rows_per_s=1000.0, peak=300 * 2**20, cost=0.05):
    def batch(size, p95):
        return {"batch_size": size, "per_batch_ms": {"p50": 1.0, "p95": p95, "p99": p95}, "rows_per_s": rows_per_s,
                "peak_memory_bytes": peak, "cost_per_million": cost}

    return {"device": "cpu", "parameters": 1522, "artifact_bytes": 9000, "ready_s": 0.05,
            "price_table": PRICE_TABLE, "outlook": {"status": "not_applicable"},
            "devices": [{"device": "cpu", "memory_method": "fake", "batches": [batch(1, p95_batch1), batch(8, 20.0)]}]}


def by_metric(checks):
    return {c["metric"]: c for c in checks}


def test_each_budget_is_a_point_check_on_its_figure():
    checks = by_metric(budget_checks(result(), {"p95_latency_ms_batch1": {"max": 10}, "cost_per_million": {"max": 0.1},
                                                "peak_memory_mib": {"max": 256}}))
    assert (checks["p95_latency_ms_batch1"]["value"], checks["p95_latency_ms_batch1"]["outcome"]) == (12.0, "fail")
    assert (checks["cost_per_million"]["value"], checks["cost_per_million"]["outcome"]) == (0.05, "pass")
    assert (checks["peak_memory_mib"]["value"], checks["peak_memory_mib"]["outcome"]) == (300.0, "fail")
    assert checks["cost_per_million"]["feature"] == "batch 1 on cpu"
    assert "priced from the table dated 2024-06 in USD" in checks["cost_per_million"]["explanation"]


def test_a_cost_budget_may_name_its_batch_size_and_an_unmeasured_one_is_inconclusive():
    res = result()
    res["devices"][0]["batches"][1]["cost_per_million"] = 0.5
    at_8 = budget_checks(res, {"cost_per_million": {"max": 0.1, "batch_size": 8}})[0]
    assert (at_8["value"], at_8["outcome"], at_8["feature"]) == (0.5, "fail", "batch 8 on cpu")
    at_32 = budget_checks(res, {"cost_per_million": {"max": 0.1, "batch_size": 32}})[0]
    assert (at_32["value"], at_32["outcome"]) == (None, "inconclusive")


def test_without_budgets_the_audit_is_informational():
    assert budget_checks(result(), {}) == []
    text = summary(result(), [], "High risk - production")
    assert text.endswith("'High risk - production' sets no efficiency budgets: informational evidence.")
    assert text.startswith("Efficiency on cpu (1,522 parameters, 9,000 bytes, ready in 0.05 s): p95 latency 12.00 ms "
                           "at batch 1, 1,000 rows/s at batch 8; 0.05 USD per million predictions at batch 8")


def test_the_fairness_judge_reads_the_fairness_probes_disparities_per_feature():
    # Group a: both selected (selection rate 1, TPR 1, FPR 1); group b: neither (0, 0, 0).
    frame = pd.DataFrame({"y": [1, 0, 1, 0], "g": ["a", "a", "b", "b"]})
    judge, why = fairness_judge(frame, "y", ["g"], [0, 1], min_slice_count=1)
    assert why is None
    assert judge(pd.Series([1, 1, 0, 0]).to_numpy()) == {
        "g": {"demographic_parity_difference": 1.0, "equalized_odds_difference": 1.0}}
    assert judge(pd.Series([1, 0, 1, 0]).to_numpy()) == {
        "g": {"demographic_parity_difference": 0.0, "equalized_odds_difference": 0.0}}


def test_without_sensitive_features_or_a_binary_model_there_are_no_fairness_deltas():
    frame = pd.DataFrame({"y": [1, 0], "g": ["a", "b"]})
    assert fairness_judge(frame, "y", [], [0, 1]) == (None, NO_SENSITIVE)
    assert fairness_judge(frame, "y", ["g"], [0, 1, 2]) == (None, NOT_BINARY)


def test_the_default_price_table_is_usable_and_a_broken_one_is_refused_by_name():
    assert check_price_table(PRICE_TABLE) is PRICE_TABLE
    with pytest.raises(AuditInputError, match="devices.cpu.per_hour must be a number >= 0"):
        check_price_table({"devices": {"cpu": {"per_hour": "cheap"}}})
    with pytest.raises(AuditInputError, match="it needs a non-empty 'devices' object"):
        check_price_table({"currency": "EUR"})
    with pytest.raises(AuditInputError, match="grams_co2e_per_kwh must be a number >= 0 or null"):
        check_price_table({"devices": {"cpu": {"per_hour": 1}}, "grams_co2e_per_kwh": -5})


def test_a_scikit_learn_model_is_given_the_schemas_features_only(cpu_worker):
    frame = pd.DataFrame({"a": [0.0, 1, 2, 3], "row_id": ["x", "y", "z", "w"], "y": [0, 1, 0, 1]})
    model = ModelHandle(format="skops", estimator=LogisticRegression().fit(frame[["a"]], frame["y"]))
    res = measure_model(model, frame, "y", params=FAST, prices=PRICE_TABLE, artifact_bytes=1, load_s=0.0,
                        feature_columns=["a"])
    assert res["parameters"] == 2 and [b["batch_size"] for b in res["devices"][0]["batches"]] == [1, 8]


@pytest.fixture
def cpu_worker(settings):
    settings.AUDIT_DEVICE = "cpu"


def test_a_scikit_learn_model_is_timed_on_frame_rows_and_priced_from_the_table(cpu_worker):
    frame = pd.DataFrame({"a": [0.0, 1, 2, 3, 4, 5], "b": [1.0, 0, 1, 0, 1, 1], "y": [0, 1, 0, 1, 1, 0]})
    model = ModelHandle(format="skops", estimator=LogisticRegression().fit(frame[["a", "b"]], frame["y"]))
    res = measure_model(model, frame, "y", params=FAST, prices=PRICE_TABLE, artifact_bytes=123, load_s=0.5)
    (cpu,) = res["devices"]
    assert [b["batch_size"] for b in cpu["batches"]] == [1, 8] and all(b["repeats"] == 3 for b in cpu["batches"])
    for b in cpu["batches"]:
        assert b["cost_per_million"] == pytest.approx(probe.cost_per_million(b["rows_per_s"], 0.17))
    assert res["parameters"] == 3 and res["artifact_bytes"] == 123 and res["ready_s"] >= 0.5
    assert res["comparison"] == {"note": NO_GPU}
    assert res["outlook"]["status"] == "not_applicable"
    if cpu["energy_method"] == probe.NOT_MEASURABLE:  # this worker exposes no RAPL: it says why, with no number
        assert cpu["energy_reason"] and all(b["energy_j_per_1000"] is None for b in cpu["batches"])



@pytest.mark.django_db
def test_a_run_through_the_worker_stores_its_figures_evidence_page_and_report_section(
        credit_system, personas, settings, monkeypatch, client, signing, enqueued):  # noqa: F811
    settings.AUDIT_DEVICE = "cpu"
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)
    system, version = credit_system
    policy = policy_for(risk_tier=system.risk_tier)
    policy.audit_requirements = {**policy.audit_requirements, "efficiency": {
        "thresholds": {"p95_latency_ms_batch1": {"max": 60000}, "peak_memory_mib": {"max": 10**6}},
        "price_table": {**PRICE_TABLE, "as_of": "2026-01", "devices": {"cpu": {"per_hour": 3.6}}}}}
    policy.save()
    run = audit_run_create(actor=personas["alice"], version=version, kind="efficiency", params=FAST)
    assert run.queue == "gpu"
    assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    r = run.results
    assert r["price_table"]["as_of"] == "2026-01" and r["devices"][0]["price_per_hour"] == 3.6
    assert r["n_eval_rows"] == 300 and r["parameters"] > 0 and r["format"] == "safetensors"
    assert r["outlook"]["status"] == "ok" and r["outlook"]["batch_size"] == 8
    deltas = r["outlook"]["fairness_delta"]
    assert set(deltas) == {"sex", "age"} and r["outlook"]["fairness_note"] is None
    for feature, d in deltas.items():  # int8 minus float32, each from the fairness probe's own figures
        f, q = (r["outlook"]["models"][m]["fairness"][feature] for m in ("float32", "int8_dynamic"))
        assert d["demographic_parity_difference"] == pytest.approx(
            q["demographic_parity_difference"] - f["demographic_parity_difference"])
    assert {c["metric"]: c["outcome"] for c in run.checks} == {"p95_latency_ms_batch1": "pass",
                                                                 "peak_memory_mib": "pass"}
    refs = set(Evidence.objects.filter(audit_run_id=run.pk).values_list("assessment__control__ref", flat=True))
    assert refs == {"MEASURE 2.12", "MAP 3.2", "MANAGE 2.1", "A.4.5"}

    client.force_login(personas["aude"])
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "Throughput by batch size" in page and "Price table used (dated 2026-01)" in page
    assert "Outlook: dynamic int8 quantization on a copy" in page and "What int8 quantization changes for groups" in page
    assert "Outlook: a distilled student on a copy" in page

    report = reports.report_generate(actor=personas["alice"], version=version)
    context = report_context(report=report, generated_at=timezone.now())
    section = next(a for a in context["audits"] if a["kind"] == "efficiency")
    assert section["template"] == "kinds/efficiency/report.html"
    html = render_to_string("reports/report.html", {**context, "base_css": ""})
    assert "Policy budgets" in html and "Price table used (dated 2026-01)" in html


@pytest.mark.django_db
def test_bad_parameters_are_refused_and_fail_a_run_stored_with_them(credit_system, personas, settings,
                                                                     monkeypatch):
    from audits.runs.models import AuditRun
    from governance.core.exceptions import ApplicationError

    settings.AUDIT_DEVICE = "cpu"
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)
    system, version = credit_system
    with pytest.raises(ApplicationError) as caught:
        audit_run_create(actor=personas["alice"], version=version, kind="efficiency",
                         params={**FAST, "batch_sizes": [0]})
    assert caught.value.extra["field"] == "params.batch_sizes"
    assert not AuditRun.objects.exists()
    # A row written another way (an older run, the admin) still fails with the probe's message.
    run = AuditRun.objects.create(system=system, version=version, kind="efficiency", queue="gpu",
                                  params={**FAST, "batch_sizes": [0]})
    assert run_audit(str(run.pk)) == RunStatus.FAILED
    run.refresh_from_db()
    assert probe.ERR_BATCH_SIZES in run.error

