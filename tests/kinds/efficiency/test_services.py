"""Registering the efficiency outlook's variants (audits/kinds/efficiency/services.py): a child version
through the safe path, with lineage naming the run, once; a name already taken fails the run. The int8
copy reads back as exactly the model the outlook measured, and gets the audits that need no gradients."""

from __future__ import annotations

import pytest

from audits.kinds.efficiency.services import TAKEN
from audits.runs.models import RunStatus
from audits.runs.services import audit_run_create
from audits.runs.tasks import run_audit
from governance.registry.models import ModelVersion
from governance.registry.selectors import version_model
from tests.kinds.efficiency.test_runner import FAST


@pytest.mark.django_db
def test_the_distilled_student_can_be_registered_as_a_child_version_once(credit_system, personas, settings,
                                                                          monkeypatch):
    settings.AUDIT_DEVICE = "cpu"
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)
    system, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="efficiency",
                           params={**FAST, "register_student": True, "distillation_epochs": 2})
    assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    registered = run.results["distillation"]["registered_version"]
    child = ModelVersion.objects.get(pk=registered["id"])
    assert (child.version, child.parent_id, child.created_by) == ("1.0.0-distilled", version.pk, personas["alice"])
    assert child.lineage["derived_by"]["audit_run"] == str(run.pk)
    assert child.spec["params"]["hidden"] == [8, 4] and child.eval_dataset == version.eval_dataset
    assert version_model(child).module is not None  # read back through the safe loader
    again = audit_run_create(actor=personas["alice"], version=version, kind="efficiency",
                             params={**FAST, "register_student": True, "distillation_epochs": 2})
    assert run_audit(str(again.pk)) == RunStatus.FAILED
    again.refresh_from_db()
    assert TAKEN.format(param="register_student", label="1.0.0-distilled", system=system.slug) in again.error


@pytest.mark.django_db
def test_the_int8_copy_is_registered_as_the_parents_weights_and_reads_back_as_the_measured_model(
        credit_system, credit_frames, personas, settings, monkeypatch):
    import numpy as np

    from audits.runs.registry import KINDS
    from governance.core.exceptions import ApplicationError
    from training.quantization import quantize_dynamic_int8

    settings.AUDIT_DEVICE = "cpu"
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)
    system, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="efficiency",
                           params={**FAST, "distillation": False, "register_int8": True})
    assert run_audit(str(run.pk)) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    child = ModelVersion.objects.get(pk=run.results["outlook"]["registered_version"]["id"])
    assert (child.version, child.parent_id, child.created_by) == ("1.0.0-int8", version.pk, personas["alice"])
    assert child.spec == {**version.spec, "quantization": "dynamic-int8"}
    assert child.artifact_sha256 == version.artifact_sha256  # the float weights pin the int8 model
    assert child.lineage["derived_by"]["audit_run"] == str(run.pk) and "int8" in child.notes
    loaded = version_model(child)
    assert loaded.quantized
    _, test = credit_frames
    measured = quantize_dynamic_int8(version_model(version).module)
    x = loaded.encode(test.drop(columns=["risk"]))
    import torch

    with torch.no_grad():
        expected = torch.softmax(measured(torch.as_tensor(x, dtype=torch.float32)), dim=1).numpy()
    assert np.array_equal(loaded.predict_proba(test.drop(columns=["risk"])), expected)
    # Its own audits: fairness runs on it; an attack through gradients is refused before it queues.
    fairness = audit_run_create(actor=personas["alice"], version=child, kind="fairness", params={})
    assert run_audit(str(fairness.pk)) == RunStatus.SUCCEEDED
    with pytest.raises(ApplicationError) as refused:
        audit_run_create(actor=personas["alice"], version=child, kind="robustness", params={})
    assert str(refused.value.message) == KINDS["robustness"].refusal(child)
    assert "int8 copy" in refused.value.message and "its float parent 1.0.0" in refused.value.message
