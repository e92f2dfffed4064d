"""Services that write the registry. Keyword-only, typed, `<entity>_<action>`; each checks
permissions, validates, and either writes everything or nothing."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from governance.catalog import assessments_ensure
from governance.datafiles import check_columns, clean_schema, read_table, table_format
from governance.evidence import evidence_record
from governance.exceptions import ApplicationError, ConflictError
from governance.models import AISystem, AssessmentStatus, ControlAssessment, Dataset, ModelVersion
from governance.roles import require
from governance.trail import trail_append
from training.artifacts import ArtifactError, load_model, sha256_hex

TOO_LARGE = "The file is {size:,} bytes; the limit is {limit:,} bytes (MAX_UPLOAD_BYTES)."


def _read_upload(upload, *, field: str) -> bytes:
    """Read an upload (a Django UploadedFile, a file object or bytes) within the size limit."""
    limit = settings.MAX_UPLOAD_BYTES
    if upload is None:
        raise ApplicationError("This file is required.", field=field)
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ApplicationError(TOO_LARGE.format(size=size, limit=limit), field=field)
    data = upload if isinstance(upload, bytes) else upload.read(limit + 1)
    if len(data) > limit:
        raise ApplicationError(TOO_LARGE.format(size=len(data), limit=limit), field=field)
    if not data:
        raise ApplicationError("The file is empty.", field=field)
    return data


def _validation_error(exc: ValidationError) -> ApplicationError:
    field, messages = next(iter(exc.message_dict.items())) if hasattr(exc, "message_dict") else (None, exc.messages)
    return ApplicationError(f"{field}: {' '.join(messages)}" if field else " ".join(messages), field=field,
                            extra={"errors": getattr(exc, "message_dict", {})})


def _save_file(folder: str, sha: str, ext: str, data: bytes) -> str:
    return default_storage.save(f"{folder}/{sha}.{ext}", ContentFile(data))


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
        raise _validation_error(exc) from None
    with transaction.atomic():
        system.save()
        assessments_ensure(system=system)
        evidence_record(
            system=system, kind="registry", outcome="info",
            summary=f"Registered as {system.get_risk_tier_display()} risk; purpose and intended use documented.",
        )
        trail_append(actor=actor, action="system.created", obj=system, payload={"slug": slug, "risk_tier": risk_tier})
    return system


def dataset_register(*, actor, system: AISystem, name: str, role: str, upload, schema) -> Dataset:
    require(actor, "dataset.register", system)
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError:
            raise ApplicationError("schema must be valid JSON.", field="schema") from None
    schema = clean_schema(schema)
    data = _read_upload(upload, field="file")
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
        raise _validation_error(exc) from None
    path = _save_file("datasets", sha, fmt, data)
    try:
        dataset.file.name = path
        with transaction.atomic():
            dataset.save()
            trail_append(actor=actor, action="dataset.registered", obj=dataset,
                         payload={"system": system.slug, "name": name, "role": role, "sha256": sha})
    except Exception:
        default_storage.delete(path)  # nothing half-written: no row, no orphan file
        raise
    return dataset


def model_version_register(
    *, actor, system: AISystem, version: str, artifact, spec=None, parent: ModelVersion | None = None,
    train_dataset: Dataset | None = None, eval_dataset: Dataset | None = None, notes: str = "",
    lineage: dict | None = None,
) -> ModelVersion:
    """The one safe path for every model, uploaded or produced by the platform."""
    require(actor, "version.register", system)
    data = _read_upload(artifact, field="artifact")
    if isinstance(spec, (bytes, bytearray)):
        spec = spec.decode("utf-8", errors="replace")
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
        notes=notes, lineage=lineage or {}, created_by=actor,
    )
    try:
        mv.full_clean(exclude=["artifact"], validate_constraints=False)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    path = _save_file("artifacts", sha, handle.format, data)
    try:
        mv.artifact.name = path
        with transaction.atomic():
            mv.save()
            trail_append(actor=actor, action="version.registered", obj=mv,
                         payload={"system": system.slug, "version": version, "artifact_sha256": sha})
    except IntegrityError:
        default_storage.delete(path)
        raise ConflictError(f"Version {version!r} already exists for {system.slug}.", field="version") from None
    except Exception:
        default_storage.delete(path)
        raise
    return mv


def _check_model_reads(handle, dataset: Dataset) -> None:
    """The model must accept the evaluation data's columns, or every audit would fail later."""
    from governance.selectors import dataset_frame

    frame = dataset_frame(dataset).head(5)
    try:
        handle.predict_proba(frame)
    except Exception as exc:  # noqa: BLE001 - any failure here means the pair is unusable
        raise ApplicationError(f"The model cannot score the evaluation dataset: {exc}", field="eval_dataset") from None


NA_NEEDS_REASON = "notes: say why this control does not apply to the system."


def assessment_update(*, actor, assessment: ControlAssessment, status: str | None = None, notes: str | None = None,
                      owner=None) -> ControlAssessment:
    require(actor, "assessment.update", assessment.system)
    fields = ["updated_at"]
    if status is not None:
        if status not in AssessmentStatus.values:
            raise ApplicationError(f"status must be one of: {', '.join(AssessmentStatus.values)}.", field="status")
        reason = assessment.notes if notes is None else notes
        if status == AssessmentStatus.NOT_APPLICABLE and not (reason or "").strip():
            # "Not applicable" can waive an audit a policy requires (governance/gate.py): say why.
            raise ApplicationError(NA_NEEDS_REASON, field="notes")
        assessment.status = status
        fields.append("status")
    if notes is not None:
        assessment.notes = notes
        fields.append("notes")
    if owner is not None:
        assessment.owner = owner
        fields.append("owner")
    with transaction.atomic():
        assessment.save(update_fields=fields)
        trail_append(actor=actor, action="assessment.updated", obj=assessment,
                     payload={"control": assessment.control.ref, "status": assessment.status, "notes": assessment.notes})
    return assessment
