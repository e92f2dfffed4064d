"""Registering the efficiency outlook's distilled student (audits/kinds/efficiency/services.py): a child
version through the safe path, with lineage naming the run, once; a name already taken fails the run."""

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
    assert TAKEN.format(label="1.0.0-distilled", system=system.slug) in again.error
