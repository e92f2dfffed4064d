"""Datasets and artifacts are read back only as the bytes they were registered with: a changed
object fails the audit that reads it, with a message naming the object."""

import pytest

from audits.runs.models import RunStatus
from audits.runs.services import audit_run_create
from audits.runs.tasks import run_audit
from governance.core.exceptions import ApplicationError
from governance.core.storage import ObjectChangedError
from governance.registry import services
from governance.registry.models import Dataset
from governance.registry.selectors import dataset_frame, version_model
from tests.conftest import CREDIT_SCHEMA, csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_enqueue(monkeypatch):
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)


def tamper(settings, name: str) -> None:
    path = settings.MEDIA_ROOT / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1  # one bit, the kind of change nobody would see by eye
    path.write_bytes(bytes(data))


def test_objects_are_stored_under_their_sha256(credit_system):
    _, version = credit_system
    assert version.artifact.name == f"artifacts/{version.artifact_sha256}.safetensors"
    assert version.eval_dataset.file.name == f"datasets/{version.eval_dataset.sha256}.csv"


def test_an_unchanged_dataset_and_model_are_read_back(credit_system, credit_frames):
    _, version = credit_system
    assert len(dataset_frame(version.eval_dataset)) == len(credit_frames[1])
    assert version_model(version).format == "safetensors"


def test_a_changed_artifact_is_refused_naming_the_object(credit_system, settings):
    _, version = credit_system
    tamper(settings, version.artifact.name)
    with pytest.raises(ObjectChangedError, match=f"The stored object {version.artifact.name} has changed"):
        version_model(version)


def test_an_audit_on_a_changed_dataset_fails_with_the_objects_name_and_stores_no_result(
        credit_system, personas, settings, no_enqueue):
    _, version = credit_system
    tamper(settings, version.train_dataset.file.name)
    run = audit_run_create(actor=personas["alice"], version=version, kind="data_quality", params={"n_folds": 3})

    assert run_audit(str(run.pk)) == RunStatus.FAILED

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and not run.results
    assert f"The stored object {version.train_dataset.file.name} has changed" in run.error
    assert version.train_dataset.sha256 in run.error


def test_the_same_file_registered_twice_shares_one_object(credit_system, personas, credit_frames, settings):
    system, version = credit_system
    again = services.dataset_register(actor=personas["alice"], system=system, name="test again", role="test",
                                      upload=csv_bytes(credit_frames[1]), schema=CREDIT_SCHEMA)
    assert again.file.name == version.eval_dataset.file.name
    assert sorted(p.name for p in (settings.MEDIA_ROOT / "datasets").iterdir()) == sorted(
        {f"{version.train_dataset.sha256}.csv", f"{version.eval_dataset.sha256}.csv"})


def test_a_refused_registration_of_a_shared_file_leaves_the_earlier_rows_object(
        credit_system, personas, credit_frames, monkeypatch):
    system, version = credit_system

    def refuse(**kwargs):
        raise ApplicationError("the trail is closed")

    monkeypatch.setattr("governance.registry.services.trail_append", refuse)
    with pytest.raises(ApplicationError):
        services.dataset_register(actor=personas["alice"], system=system, name="test again", role="test",
                                  upload=csv_bytes(credit_frames[1]), schema=CREDIT_SCHEMA)
    assert Dataset.objects.filter(system=system).count() == 2
    assert len(dataset_frame(version.eval_dataset)) == len(credit_frames[1])
