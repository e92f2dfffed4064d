"""No audit judges a model whose outputs are NaN or infinite: argmax reads a NaN row as the first
class, so such a model "predicted" one class everywhere and could read fair, private, unpoisoned
or fast. Each kind that scores the model stops with the reason instead (audits/kinds/common.py)."""

import numpy as np
import pytest
import torch

from audits.kinds.common import NON_FINITE, finite_outputs
from audits.runs.models import AuditRun, RunStatus
from audits.runs.runner import AuditInputError
from audits.runs.services import audit_run_create
from audits.runs.tasks import run_audit
from governance.registry import services
from training.architectures import build_model
from training.artifacts import torch_artifact


def test_finite_scores_pass_and_a_nan_or_infinite_row_names_how_many():
    scores = np.array([[0.2, 0.8], [0.5, 0.5]])
    assert finite_outputs(scores).tolist() == scores.tolist()
    with pytest.raises(AuditInputError) as caught:
        finite_outputs(np.array([[0.2, 0.8], [np.nan, 0.1], [np.inf, 0.0]]), rows="held-out rows")
    assert str(caught.value) == NON_FINITE.format(n=2, m=3, rows="held-out rows")


@pytest.fixture
def nan_version(credit_system, personas, monkeypatch):
    """The credit MLP's architecture and spec with every weight NaN, as a diverged training leaves it."""
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)
    system, version = credit_system
    module = build_model(version.spec)
    with torch.no_grad():
        for weight in module.parameters():
            weight.fill_(float("nan"))
    return services.model_version_register(actor=personas["alice"], system=system, version="1.0.1-nan",
                                           artifact=torch_artifact(module), spec=version.spec,
                                           train_dataset=version.train_dataset, eval_dataset=version.eval_dataset)


@pytest.mark.django_db
@pytest.mark.parametrize("kind,params", [
    ("fairness", {"mitigation": False}),
    ("explainability", {"n_repeats": 2, "n_random": 19, "n_randomized_models": 1}),
    ("privacy", {"inversion": False}),
    ("poisoning", {"rates": [0.1]}),
    ("efficiency", {"batch_sizes": [1], "min_repeats": 2, "repeats": 2, "outlook": False, "distillation": False}),
    ("robustness", {"epsilons": [0.0, 0.1], "max_samples": 20}),
])
def test_a_model_that_outputs_nan_fails_the_run_with_the_reason_and_no_verdict(nan_version, personas, kind, params):
    run = audit_run_create(actor=personas["sam"], version=nan_version, kind=kind, params=params)
    assert run_audit(str(run.pk)) == RunStatus.FAILED
    run = AuditRun.objects.get(pk=run.pk)
    assert run.outcome == "" and run.checks == []
    assert "outputs are not finite (NaN or infinite)" in run.error
