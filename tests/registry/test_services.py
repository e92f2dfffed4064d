"""Registry services: validation, size limits, nothing half-written, permissions per role."""

import pytest
from django.core.files.storage import default_storage

from governance.registry import services
from governance.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from governance.registry.models import AISystem, Dataset, ModelVersion
from governance.catalog.models import ControlAssessment, Evidence
from tests.conftest import CREDIT_SCHEMA, csv_bytes

pytestmark = pytest.mark.django_db


def stored_files(folder):
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


def make_system(actor, slug="sys"):
    return services.system_create(actor=actor, name="S", slug=slug, purpose="p")


def test_creating_a_system_writes_assessments_and_registry_evidence(personas):
    system = make_system(personas["alice"])
    assert system.owner == personas["alice"]
    assert ControlAssessment.objects.filter(system=system).count() == 110
    refs = set(Evidence.objects.filter(assessment__system=system).values_list("assessment__control__ref", flat=True))
    assert refs == {"GOVERN 1.6", "MAP 1.1", "MAP 3.3", "A.4.2", "A.6.2.2", "A.9.4"}
    assert ControlAssessment.objects.get(system=system, control__ref="GOVERN 1.6").status == "in_progress"


def test_bad_slug_is_refused_naming_the_field(personas):
    with pytest.raises(ApplicationError) as err:
        services.system_create(actor=personas["alice"], name="S", slug="Bad Slug!", purpose="p")
    assert err.value.extra["field"] == "slug"
    assert AISystem.objects.count() == 0


@pytest.mark.parametrize("persona,allowed", [
    ("alice", True), ("root", True), ("bob", False), ("sam", False), ("carla", False), ("erik", False), ("aude", False),
])
def test_who_may_register_a_system(personas, persona, allowed):
    if allowed:
        make_system(personas[persona])
    else:
        with pytest.raises(PermissionDeniedError, match="does not allow"):
            make_system(personas[persona])


def test_a_dataset_missing_a_declared_column_is_refused_and_nothing_is_stored(personas, credit_frames):
    system = make_system(personas["alice"])
    train, _ = credit_frames
    with pytest.raises(ApplicationError) as err:
        services.dataset_register(actor=personas["alice"], system=system, name="d", role="train",
                                  upload=csv_bytes(train.drop(columns=["age"])), schema=CREDIT_SCHEMA)
    assert "missing from the file: age" in err.value.message
    assert err.value.extra["missing_columns"] == ["age"]
    assert Dataset.objects.count() == 0 and stored_files("datasets") == []


@pytest.mark.parametrize("data,message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "Accepted data formats"),
    (b"a,b\n", "no data rows"),
    (b"", "empty"),
])
def test_unreadable_tables_are_refused(personas, data, message):
    system = make_system(personas["alice"])
    with pytest.raises(ApplicationError, match=message):
        services.dataset_register(actor=personas["alice"], system=system, name="d", role="reference",
                                  upload=data, schema={"features": ["a"]})
    assert Dataset.objects.count() == 0


def test_the_upload_size_limit_holds(personas, credit_frames, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    system = make_system(personas["alice"])
    with pytest.raises(ApplicationError, match="the limit is 1,000 bytes"):
        services.dataset_register(actor=personas["alice"], system=system, name="d", role="train",
                                  upload=csv_bytes(credit_frames[0]), schema=CREDIT_SCHEMA)


def test_a_parquet_dataset_is_accepted(personas, credit_frames):
    import io

    system = make_system(personas["alice"])
    buf = io.BytesIO()
    credit_frames[1].to_parquet(buf)
    ds = services.dataset_register(actor=personas["alice"], system=system, name="d", role="test",
                                   upload=buf.getvalue(), schema=CREDIT_SCHEMA)
    assert ds.file_format == "parquet" and ds.n_rows == 300 and len(ds.sha256) == 64


def test_registering_a_version_records_sha256_format_and_lineage(credit_system, credit_model, personas):
    import hashlib

    system, version = credit_system
    artifact, spec = credit_model
    assert version.artifact_sha256 == hashlib.sha256(artifact).hexdigest()
    assert version.artifact_format == "safetensors"
    child = services.model_version_register(actor=personas["alice"], system=system, version="1.1.0",
                                            artifact=artifact, spec=spec, parent=version)
    assert child.parent == version


def test_a_duplicate_version_is_a_conflict_and_leaves_no_file(credit_system, credit_model, personas):
    system, _ = credit_system
    artifact, spec = credit_model
    before = stored_files("artifacts")
    with pytest.raises(ConflictError, match="already exists"):
        services.model_version_register(actor=personas["alice"], system=system, version="1.0.0",
                                        artifact=artifact, spec=spec)
    assert stored_files("artifacts") == before
    assert ModelVersion.objects.count() == 1


def test_a_model_that_cannot_read_the_evaluation_data_is_refused(personas, credit_model):
    from training.recipes import digits_cnn_spec, digits_frame
    from training.artifacts import torch_artifact
    from training.architectures import build_model

    system = make_system(personas["alice"])
    frame = digits_frame().head(50)
    schema = {"features": [c for c in frame.columns if c != "label"], "label": "label"}
    ds = services.dataset_register(actor=personas["alice"], system=system, name="d", role="test",
                                   upload=csv_bytes(frame), schema=schema)
    artifact, spec = credit_model
    with pytest.raises(ApplicationError, match="cannot score the evaluation dataset") as err:
        services.model_version_register(actor=personas["alice"], system=system, version="1", artifact=artifact,
                                        spec=spec, eval_dataset=ds)
    assert err.value.extra["field"] == "eval_dataset"
    ok = services.model_version_register(actor=personas["alice"], system=system, version="2",
                                         artifact=torch_artifact(build_model(digits_cnn_spec())),
                                         spec=digits_cnn_spec(), eval_dataset=ds)
    assert ok.eval_dataset == ds


@pytest.mark.parametrize("persona,allowed", [
    ("alice", True), ("root", True), ("oscar", False), ("bob", False), ("sam", False), ("carla", False),
    ("erik", False), ("aude", False),
])
def test_only_the_owner_or_an_admin_registers_versions(credit_system, credit_model, personas, persona, allowed):
    system, _ = credit_system
    artifact, spec = credit_model
    call = lambda: services.model_version_register(  # noqa: E731
        actor=personas[persona], system=system, version="9.9.9", artifact=artifact, spec=spec)
    if allowed:
        call()
    else:
        with pytest.raises(PermissionDeniedError):
            call()


