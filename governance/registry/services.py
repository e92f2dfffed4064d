"""Services that write the registry. Keyword-only, typed, `<entity>_<action>`; each checks
permissions, validates, and either writes everything or nothing."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from governance.core.exceptions import ApplicationError, ConflictError
from governance.core.jsonbounds import JSONBoundsError, json_loads_bounded, json_text_check, json_value_check
from governance.core.roles import require
from governance.registry.datafiles import (
    check_columns,
    clean_schema,
    read_table,
    table_format,
)
from governance.registry.models import AISystem, Dataset, ModelVersion
from governance.registry.selectors import dataset_frame
from governance.registry.signals import system_registered
from governance.registry.uploads import read_upload, stored, validation_error
from governance.trail.services import trail_append
from training.artifacts import ArtifactError, load_model, sha256_hex


def system_create(
    *, actor, name: str, slug: str, purpose: str, risk_tier: str = "medium", lifecycle_stage: str = "development",
    intended_use: str = "", owner=None,
) -> AISystem:
    require(actor, "system.create")
    system = AISystem(
        name=name, slug=slug, purpose=purpose, intended_use=intended_use, risk_tier=risk_tier,
        lifecycle_stage=lifecycle_stage, owner=owner or actor,
    )
    try:
        system.full_clean()
    except ValidationError as exc:
        raise validation_error(exc) from None
    with transaction.atomic():
        system.save()
        system_registered.send(sender=AISystem, system=system)  # the catalog adds its assessments
        trail_append(actor=actor, action="system.created", obj=system, payload={"slug": slug, "risk_tier": risk_tier})
    return system


def dataset_register(*, actor, system: AISystem, name: str, role: str, upload, schema) -> Dataset:
    require(actor, "dataset.register", system)
    schema = clean_schema(_bounded_json(schema, field="schema", parse=True))
    data = read_upload(upload, field="file")
    fmt = table_format(data)
    frame = read_table(data, fmt)
    check_columns(frame, schema, require_label=role in {"train", "test"})
    sha = sha256_hex(data)
    dataset = Dataset(
        system=system, name=name, role=role, file_format=fmt, sha256=sha, size_bytes=len(data),
        n_rows=len(frame), schema=schema, created_by=actor,
    )
    try:
        dataset.full_clean(exclude=["file"])
    except ValidationError as exc:
        raise validation_error(exc) from None
    with stored("datasets", sha, fmt, data) as path, transaction.atomic():
        dataset.file.name = path
        dataset.save()
        trail_append(actor=actor, action="dataset.registered", obj=dataset,
                     payload={"system": system.slug, "name": name, "role": role, "sha256": sha})
    return dataset


def model_version_register(
    *, actor, system: AISystem, version: str, artifact, spec=None, parent: ModelVersion | None = None,
    train_dataset: Dataset | None = None, eval_dataset: Dataset | None = None, notes: str = "",
    lineage: dict | None = None, requested_by=None,
) -> ModelVersion:
    """The one safe path for every model, uploaded or produced by the platform.

    `requested_by`: who asked for the audit or retraining that produced it, when that is not `actor`."""
    require(actor, "version.register", system)
    data = read_upload(artifact, field="artifact")
    if isinstance(spec, (bytes, bytearray)):
        spec = spec.decode("utf-8", errors="replace")
    # Bounded before anything recurses into it; training/artifacts.py parses a text spec with its own messages.
    spec = _bounded_json(spec, field="spec", parse=False)
    try:
        handle = load_model(data, spec=spec)
    except ArtifactError as exc:
        raise ApplicationError(str(exc), field=exc.field) from None
    for label, obj in (("parent", parent), ("train_dataset", train_dataset), ("eval_dataset", eval_dataset)):
        if obj is not None and obj.system_id != system.pk:
            raise ApplicationError(f"{label} belongs to another AI system.", field=label)
    if eval_dataset is not None:
        _check_model_reads(handle, eval_dataset)
    sha = sha256_hex(data)
    mv = ModelVersion(
        system=system, version=version, artifact_sha256=sha, artifact_format=handle.format,
        spec=handle.spec, parent=parent, train_dataset=train_dataset, eval_dataset=eval_dataset,
        notes=notes, lineage=lineage or {}, created_by=actor, requested_by=requested_by,
    )
    try:
        mv.full_clean(exclude=["artifact"], validate_constraints=False)
    except ValidationError as exc:
        raise validation_error(exc) from None
    try:
        with stored("artifacts", sha, handle.format, data) as path, transaction.atomic():
            mv.artifact.name = path
            mv.save()
            trail_append(actor=actor, action="version.registered", obj=mv,
                         payload={"system": system.slug, "version": version, "artifact_sha256": sha})
    except IntegrityError:
        raise ConflictError(f"Version {version!r} already exists for {system.slug}.", field="version") from None
    return mv


def _bounded_json(value, *, field: str, parse: bool):
    """A JSON field's value with its nesting and size bounded (governance/core/jsonbounds.py); text is
    parsed when `parse`, else only scanned. The web forms and the API both come through here."""
    try:
        if isinstance(value, str):
            if not parse:
                json_text_check(value)
                return value
            return json_loads_bounded(value)
        json_value_check(value)
    except JSONBoundsError as exc:
        raise ApplicationError(f"{field}: {exc.message}", field=field) from None
    return value


def _check_model_reads(handle, dataset: Dataset) -> None:
    """The model must accept the evaluation data's columns, or every audit would fail later."""
    frame = dataset_frame(dataset).head(5)
    try:
        handle.predict_proba(frame)
    except Exception as exc:  # noqa: BLE001 - any failure here means the pair is unusable
        raise ApplicationError(f"The model cannot score the evaluation dataset: {exc}", field="eval_dataset") from None
