"""The demo's Adult income system, registered as `make demo` registers it and audited by the fairness
runner (called directly, as the worker would), reaches a pass or a fail on its 16,281 test rows."""

import pytest

from audits.runs.models import RunStatus
from audits.runs.services import audit_run_create, audit_run_execute

pytestmark = pytest.mark.django_db


def test_the_demo_registers_adult_once_and_its_fairness_audit_decides(personas):
    from governance.demo.setup import ADULT_FAIRNESS_PARAMS, _adult_system

    alice = personas["alice"]
    system, created = _adult_system(alice)
    assert created and _adult_system(alice) == (system, False)
    version = system.versions.get(version="1.0.0")
    assert (version.train_dataset.n_rows, version.eval_dataset.n_rows) == (32_561, 16_281)
    run = audit_run_create(actor=alice, version=version, kind="fairness", params=ADULT_FAIRNESS_PARAMS)
    assert audit_run_execute(run_id=run.pk) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    assert run.outcome in {"pass", "fail"}, run.log
    assert run.log.startswith("Fairness on UCI Adult (adult.test) (16281 rows, slices by sex, race, age)"), run.log
