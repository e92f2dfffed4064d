"""DP retraining through the worker keeps its noise calibration and grad-sample mode in
settings.DP_CACHE_DIR, so a repeated or scheduled retraining of the same version skips both."""

from __future__ import annotations

import pytest

from audits.runs.models import RunStatus
from audits.runs.services import audit_run_create
from audits.runs.tasks import run_audit
from training.dp import epsilon_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cpu_worker(settings, monkeypatch, tmp_path):
    settings.AUDIT_DEVICE = "cpu"
    settings.DP_CACHE_DIR = tmp_path / "dp-cache"
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)


def retrain(actor, version):
    run = audit_run_create(actor=actor, version=version, kind="dp_retraining",
                           params={"target_epsilon": 2.0, "epochs": 1})
    assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED, run.__class__.objects.get(pk=run.pk).error
    run.refresh_from_db()
    return run.results["dp"]


def test_a_second_retraining_reads_the_calibration_and_mode_from_the_cache_and_books_the_same_epsilon(
        credit_system, personas, settings):
    _, version = credit_system
    first = retrain(personas["sam"], version)
    assert (first["noise_calibration"], first["grad_sample_mode_source"]) == ("searched", "measured")
    assert sorted(p.name.split("-")[0] for p in settings.DP_CACHE_DIR.iterdir()) == ["grad", "noise"]
    again = retrain(personas["sam"], version)
    assert (again["noise_calibration"], again["grad_sample_mode_source"]) == ("cached", "cached")
    assert (again["noise_multiplier"], again["grad_sample_mode"]) == (first["noise_multiplier"],
                                                                       first["grad_sample_mode"])
    assert again["epsilon_spent"] == first["epsilon_spent"] == epsilon_for(
        again["noise_multiplier"], again["sample_rate"], again["steps"], again["delta"], again["accountant"])
