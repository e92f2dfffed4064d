"""Write: register one of the efficiency outlook's variants as a child version of the audited one.

Only when the run asks for it (`register_student`, `register_int8`), and only for a requester who
may register versions of the system: the variant then goes through the one safe path every model
takes (`model_version_register`: safetensors + an allowlisted architecture spec), with its parent,
the parent's datasets and a lineage that names the run, so it gets its own audits and approvals
like any version. The registered version is the requester's, so the segregation of duties keeps
them from approving it. A redelivered run finds the version it already registered.

The distilled student is its own weights. The int8 copy is registered as the parent's float
weights with ``"quantization": "dynamic-int8"`` in its spec (training/quantization.py): its packed
int8 weights are not a state dict the safe loader reads, and quantizing is a pure function of the
float weights, so the loader rebuilds exactly the int8 model the outlook measured.
"""

from __future__ import annotations

from audits.runs.runner import AuditInputError
from governance.core.exceptions import ApplicationError
from governance.core.roles import can
from governance.registry.models import ModelVersion
from governance.registry.services import model_version_register
from training.artifacts import torch_artifact
from training.quantization import DYNAMIC_INT8

KIND = "efficiency"
NOT_ALLOWED = ("{param}: {user} may not register versions of {system}, so the {what} was not registered; its "
               "owner may request the run with {param} instead.")
TAKEN = ("{param}: version {label!r} already exists for {system} and was not made by this run; "
         "rename or retire it first.")
OUTLOOK_KEYS = ("method", "speedup", "size_saving", "accuracy_delta", "agreement_with_teacher", "student_params")


def student_label(version: ModelVersion) -> str:
    return f"{version.version}-distilled"[:64]


def int8_label(version: ModelVersion) -> str:
    return f"{version.version}-int8"[:64]


def student_version_register(*, run, module, spec: dict, outlook: dict) -> ModelVersion:
    parent = run.version
    return _child_register(
        run=run, param="register_student", what="distilled student", label=student_label(parent),
        artifact=torch_artifact(module), spec=spec, outlook=outlook, key="distillation",
        lineage_line=f"distilled student of {parent.version}, hidden {spec['params'].get('hidden')}",
        made=f"Distilled from {parent.version}")


def int8_version_register(*, run, artifact: bytes, outlook: dict) -> ModelVersion:
    """The int8 copy as a child version: the parent's float weights (`artifact`, its registered file)
    and its spec with the quantization named."""
    parent = run.version
    return _child_register(
        run=run, param="register_int8", what="int8 copy", label=int8_label(parent), artifact=artifact,
        spec={**parent.spec, "quantization": DYNAMIC_INT8}, outlook=outlook, key="quantization",
        lineage_line=f"dynamic int8 copy of {parent.version} (Linear layers)",
        made=f"Quantized from {parent.version}")


def _child_register(*, run, param: str, what: str, label: str, artifact: bytes, spec: dict, outlook: dict,
                    key: str, lineage_line: str, made: str) -> ModelVersion:
    parent, actor = run.version, run.created_by
    if actor is None or not can(actor, "version.register", run.system):
        raise AuditInputError(NOT_ALLOWED.format(param=param, user=getattr(actor, "username", "nobody"),
                                                 system=run.system.slug, what=what))
    existing = ModelVersion.objects.filter(system=run.system, version=label).first()
    if existing is not None:
        if (existing.lineage.get("derived_by") or {}).get("audit_run") == str(run.pk):
            return existing
        raise AuditInputError(TAKEN.format(param=param, label=label, system=run.system.slug))
    lineage = {
        KIND: lineage_line,  # first, short: the registry's lineage chips show the first keys, truncated
        key: {k: outlook.get(k) for k in OUTLOOK_KEYS if k in outlook},
        "derived_by": {"kind": KIND, "audit_run": str(run.pk), "parent": str(parent.pk),
                       "parent_version": parent.version, "requested_by": actor.username},
    }
    notes = (f"{made} by efficiency audit run {run.pk}: {outlook['method']}; speed-up {outlook['speedup']:.2f}x, "
             f"{100 * outlook['size_saving']:.0f}% smaller, accuracy {outlook['accuracy_delta']:+.3f} on the "
             f"evaluation data.")
    try:
        return model_version_register(
            actor=actor, system=run.system, version=label, artifact=artifact, spec=spec, parent=parent,
            train_dataset=parent.train_dataset, eval_dataset=parent.eval_dataset, notes=notes, lineage=lineage)
    except ApplicationError as exc:
        raise AuditInputError(f"{param}: {exc}") from None
