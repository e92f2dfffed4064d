"""The data-quality audit through the worker's task: planted leakage fails it and moves the
mapped controls; population shares are compared per group, age in the fairness bins."""

import pandas as pd
import pytest

from audits.runs.registry import KINDS
from audits.runs.models import RunStatus
from audits.runs.services import audit_run_create
from audits.runs.tasks import run_audit
from governance.registry import services
from governance.catalog.models import ControlAssessment, Evidence
from tests.conftest import CREDIT_SCHEMA, csv_bytes

pytestmark = pytest.mark.django_db

DATA_QUALITY_CONTROLS = {"MAP 2.3", "MEASURE 2.1", "A.7.4", "A.7.5", "A.7.6"}
CHECKS = ["missing_values", "constant_columns", "duplicate_rows", "class_imbalance", "representation",
          "split_leakage", "single_feature_leakage", "label_errors"]


@pytest.fixture
def no_enqueue(monkeypatch):
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)


@pytest.fixture
def leaky_system(personas, credit_frames, credit_model):
    """Credit data with two planted faults: 20 training rows copied into the test split, and
    a feature that is the label in disguise ("approved_flag")."""
    alice = personas["alice"]
    train, test = credit_frames
    train = train.assign(approved_flag=train["risk"])
    test = test.assign(approved_flag=test["risk"])
    test = pd.concat([test.iloc[:-20], train.iloc[:20]])
    schema = {**CREDIT_SCHEMA, "features": CREDIT_SCHEMA["features"] + ["approved_flag"]}
    system = services.system_create(actor=alice, name="Leaky", slug="leaky", purpose="Scores loans")
    train_ds = services.dataset_register(actor=alice, system=system, name="train", role="train",
                                         upload=csv_bytes(train), schema=schema)
    test_ds = services.dataset_register(actor=alice, system=system, name="test", role="test",
                                        upload=csv_bytes(test), schema=schema)
    artifact, spec = credit_model
    version = services.model_version_register(actor=alice, system=system, version="1.0.0", artifact=artifact,
                                              spec=spec, train_dataset=train_ds, eval_dataset=test_ds)
    return system, version, train


def test_planted_leakage_fails_the_audit_and_its_controls(leaky_system, personas, no_enqueue, client):
    system, version, train = leaky_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="data_quality",
                           params={"population_shares": {"sex": {"male": 0.5, "female": 0.5}}, "n_folds": 3})

    assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED

    run.refresh_from_db()
    checks = {c["name"]: c for c in run.results["checks"]}
    assert list(checks) == CHECKS
    assert run.outcome == "fail"
    leak = checks["split_leakage"]
    assert (leak["status"], leak["detail"]["exact"], leak["count"]) == ("fail", 20, 20)
    assert leak["detail"]["share_of_test"] == pytest.approx(20 / 300)
    assert checks["single_feature_leakage"]["status"] == "fail"
    assert checks["single_feature_leakage"]["examples"] == [{"feature": "approved_flag", "auc": 1.0}]
    # Examples come with the rows themselves: the first leaked test row is training row 0.
    first, second = run.results["row_examples"]["split_leakage"][:2]
    assert (first["split"], first["row"], second["split"]) == ("train", 0, "test")
    assert first["values"] == second["values"]
    assert first["values"]["credit_amount"] == int(train.iloc[0]["credit_amount"])
    # German credit is about 69 % male: a significant gap from the declared 50/50.
    sex = checks["representation"]["detail"]["sex"]
    assert sex["status"] == "warn" and sex["p_value"] < 0.05
    assert {g["group"]: round(g["expected_share"], 2) for g in sex["groups"]} == {"male": 0.5, "female": 0.5}
    assert "figures" not in run.results  # numbers only; the charts are drawn when a page renders
    assert KINDS["data_quality"].figures_for(run.results)[0]["feature"] == "sex"
    assert "to review" in run.log and "failed: split_leakage, single_feature_leakage" in run.log
    evidence = Evidence.objects.filter(audit_run_id=run.pk).select_related("assessment__control")
    assert {e.assessment.control.ref for e in evidence} == DATA_QUALITY_CONTROLS
    assert {e.outcome for e in evidence} == {"fail"}
    assert set(ControlAssessment.objects.filter(system=system, control__ref__in=DATA_QUALITY_CONTROLS)
               .values_list("status", flat=True)) == {"failed"}
    client.force_login(personas["aude"])
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "Example rows" in page and "Representation of sex" in page


def test_age_is_compared_in_the_fairness_bins(credit_system, personas, no_enqueue):
    _, version = credit_system
    shares = {"[-inf, 18.0)": 0.0, "[18.0, 25.0)": 0.2, "[25.0, 35.0)": 0.3, "[35.0, 50.0)": 0.3,
              "[50.0, 65.0)": 0.15, "[65.0, 120.0)": 0.05, "[120.0, inf)": 0.0}
    run = audit_run_create(actor=personas["bob"], version=version, kind="data_quality",
                           params={"population_shares": {"age": shares}, "n_folds": 3})

    run_audit(str(run.pk))

    run.refresh_from_db()
    representation = next(c for c in run.results["checks"] if c["name"] == "representation")
    age = representation["detail"]["age (binned)"]
    assert [g["group"] for g in age["groups"]][:6] == list(shares)[:6]
    assert sum(g["count"] for g in age["groups"]) == 700  # every training row in one bin
    assert run.results["bins"] == {"age": [18.0, 25.0, 35.0, 50.0, 65.0, 120.0]}
    assert representation["detail"]["sex"]["skipped"] == "no expected shares"


def test_warnings_without_a_failure_read_as_a_warning_with_their_own_explanation(credit_system, personas, no_enqueue,
                                                                                  client):
    from governance.core import glossary

    _, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="data_quality",
                           params={"population_shares": {"sex": {"male": 0.5, "female": 0.5}}, "n_folds": 3})
    run_audit(str(run.pk))
    run.refresh_from_db()
    statuses = {c["status"] for c in run.results["checks"]}
    assert "warn" in statuses and "fail" not in statuses
    # Stored as undecided for the gate and the controls, but never called inconclusive.
    assert run.outcome == "inconclusive"
    warning = glossary.outcome_text("inconclusive", "data_quality")
    assert warning.startswith("Warning: no check failed") and "interval" not in warning
    client.force_login(personas["aude"])
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert warning in page and glossary.OUTCOMES["inconclusive"] not in page
    assert "</span> warning</span>" in page and "</span> inconclusive</span>" not in page
    answer = client.get(f"/api/v1/audit-runs/{run.pk}/").json()
    assert (answer["outcome"], answer["outcome_label"], answer["outcome_text"]) == ("inconclusive", "warning", warning)
    evidence_page = client.get(f"/systems/{version.system.slug}/").content.decode()
    assert "</span> warning</span>" in evidence_page
