"""Write: register the efficiency outlook's distilled student as a child version of the audited one.

Only when the run asks for it (`register_student`), and only for a requester who may register
versions of the system: the student then goes through the one safe path every model takes
(`model_version_register`: safetensors + an allowlisted architecture spec), with its parent, the
parent's datasets and a lineage that names the run, so it gets its own audits and approvals like
any version. The registered version is the requester's, so the segregation of duties keeps them
from approving it. A redelivered run finds the version it already registered.

The int8 copy is not offered: its packed weights are not a state dict of an allowlisted
architecture, so the safe loader could not read it back.
"""

from __future__ import annotations

from audits.runs.runner import AuditInputError
from governance.core.exceptions import ApplicationError
from governance.core.roles import can
from governance.registry.models import ModelVersion
from governance.registry.services import model_version_register
from training.artifacts import torch_artifact

KIND = "efficiency"
NOT_ALLOWED = ("register_student: {user} may not register versions of {system}, so the distilled student was not "
               "registered; its owner may request the run with register_student instead.")
TAKEN = ("register_student: version {label!r} already exists for {system} and was not made by this run; "
         "rename or retire it first.")


def student_label(version: ModelVersion) -> str:
    return f"{version.version}-distilled"[:64]


def student_version_register(*, run, module, spec: dict, outlook: dict) -> ModelVersion:
    parent, actor, label = run.version, run.created_by, student_label(run.version)
    if actor is None or not can(actor, "version.register", run.system):
        raise AuditInputError(NOT_ALLOWED.format(user=getattr(actor, "username", "nobody"), system=run.system.slug))
    existing = ModelVersion.objects.filter(system=run.system, version=label).first()
    if existing is not None:
        if (existing.lineage.get("derived_by") or {}).get("audit_run") == str(run.pk):
            return existing
        raise AuditInputError(TAKEN.format(label=label, system=run.system.slug))
    lineage = {
        # First, short: the registry's lineage chips show the first keys, truncated.
        "efficiency": f"distilled student of {parent.version}, hidden {spec['params'].get('hidden')}",
        "distillation": {k: outlook.get(k) for k in ("method", "speedup", "size_saving", "accuracy_delta",
                                                     "agreement_with_teacher", "student_params")},
        "derived_by": {"kind": KIND, "audit_run": str(run.pk), "parent": str(parent.pk),
                       "parent_version": parent.version, "requested_by": actor.username},
    }
    notes = (f"Distilled from {parent.version} by efficiency audit run {run.pk}: {outlook['method']}; "
             f"speed-up {outlook['speedup']:.2f}x, {100 * outlook['size_saving']:.0f}% smaller, accuracy "
             f"{outlook['accuracy_delta']:+.3f} on the evaluation data.")
    try:
        return model_version_register(
            actor=actor, system=run.system, version=label, artifact=torch_artifact(module), spec=spec, parent=parent,
            train_dataset=parent.train_dataset, eval_dataset=parent.eval_dataset, notes=notes, lineage=lineage)
    except ApplicationError as exc:
        raise AuditInputError(f"register_student: {exc}") from None
