"""DP retraining's services and selectors: the new version, the privacy budget, and starting a
retraining from a drift recommendation.

Who registers the DP version. Every model, uploaded or produced here, goes through
`governance.registry.services.model_version_register`, whose actor must be allowed "version.register"
(the system's owner, or an admin). The run's requester registers it when they may; otherwise
(a risk officer or security reviewer asked for the retraining) the platform registers it on
behalf of the system's owner, and the lineage says so: `requested_by`, `registered_by` and
`on_behalf_of_owner`.

Privacy budget. Per AI system and training dataset (by sha256, so a re-upload of the same
bytes is the same data), the epsilons and deltas of every registered DP version trained on it
add up: basic sequential composition (Dwork & Roth 2014, Thm. 3.16). It is an upper bound;
tighter accounting across separate trainings would need their full noise histories. Past
PRIVACY_BUDGET_EPSILON a retraining still runs (blocking it would leave a failing model in
place) but its results, its version's lineage and the run summary carry a warning.

From a drift recommendation. `retraining_from_recommendation` is the approval the policy asks
for: an actor holding a role of the system's policy's first approval stage (a risk officer by
default: the independent validator, AI RMF MEASURE 1.3) or an admin accepts the
recommendation, which starts the DP retraining run in their name. The version's creator never
approves its own retraining. When the run registers the new version, the recommendation is
closed ("done") with that version.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import transaction

from audits.drift.models import RecommendationStatus, RetrainingRecommendation
from audits.drift.services import retraining_recommendation_resolve
from audits.runs.models import AuditRun, RunStatus
from audits.runs.registry import KINDS
from audits.runs.runner import AuditInputError
from audits.runs.services import audit_run_create
from governance.core.exceptions import (
    ApplicationError,
    ConflictError,
    PermissionDeniedError,
)
from governance.core.roles import Role, can, user_roles
from governance.policies.services import policy_for
from governance.registry.models import ModelVersion
from governance.registry.services import model_version_register
from governance.trail.services import trail_append
from training.artifacts import torch_artifact

KIND = "dp_retraining"
NOT_APPROVER = ("Starting a retraining from a drift recommendation needs the approval the policy asks for: "
                "a {roles} (or an admin), who is not the version's creator.")
ALREADY_RUNNING = "A DP retraining for this recommendation is already {status}: run {run}."
NOT_OPEN = "This recommendation is {status}; only an open or accepted one can start a retraining."
NOT_ACCEPTED = ("params.recommendation: {rec} was not accepted for DP retraining by an approver; use "
                "POST /api/v1/retraining-recommendations/{rec}/dp-retrain/ (a risk officer or admin).")
NO_OWNER = "The system's owner {owner} may not register versions, so the DP version cannot be registered."
BUDGET_WARNING = ("Privacy budget exceeded: {spent:.3g} of {limit:g} epsilon spent on training data {sha} "
                  "across {n} DP version(s), basic composition.")


# ------------------------------------------------------------------ parameters

ACCOUNTANTS = ("prv", "rdp")  # as training/dp.py; repeated so pages need not import torch
BAD_NUMBER = "params.{name} must be a number greater than 0{upper}, not {value!r}."
BAD_INT = "params.{name} must be a whole number of at least 1, not {value!r}."
BAD_ACCOUNTANT = "params.accountant must be one of prv, rdp, not {value!r}."
BAD_LABEL = ("params.new_version must start with a letter or digit and hold only letters, digits and . _ + -, "
             "not {value!r}.")


def dp_params_clean(params: dict) -> dict:
    """Check DP retraining parameters before anything is queued or trained; errors name the field.

    Text from a form is converted ("3" -> 3.0, "" -> None). delta's upper bound 1/N needs the
    data and is checked by training/dp.py when the run starts."""
    import re

    out = dict(params)
    for name, upper, optional in (("target_epsilon", None, False), ("max_grad_norm", None, False),
                                  ("delta", 1.0, True)):
        value = out.get(name)
        if optional and value in (None, ""):
            out[name] = None
            continue
        try:
            number = float(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or not number > 0 or number != number or (upper is not None and number >= upper):
            raise ApplicationError(BAD_NUMBER.format(name=name, upper=f" and below {upper:g}" if upper else "",
                                                     value=value), field=f"params.{name}")
        out[name] = number
    for name in ("epochs", "batch_size"):
        value = out.get(name)
        if value in (None, ""):
            out[name] = None
            continue
        try:
            number = int(value) if not isinstance(value, (bool, float)) else None
        except (TypeError, ValueError):
            number = None
        if number is None or number < 1:
            raise ApplicationError(BAD_INT.format(name=name, value=value), field=f"params.{name}")
        out[name] = number
    if out.get("accountant") not in ACCOUNTANTS:
        raise ApplicationError(BAD_ACCOUNTANT.format(value=out.get("accountant")), field="params.accountant")
    label = out.get("new_version") or None
    if label is not None and not (isinstance(label, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}", label)):
        raise ApplicationError(BAD_LABEL.format(value=label), field="params.new_version")
    out["new_version"] = label
    return out


# ------------------------------------------------------------------ selectors


def dp_version_for_run(*, run: AuditRun) -> ModelVersion | None:
    """The version a DP retraining run registered (a redelivered run finds it and does not retrain)."""
    return ModelVersion.objects.filter(system_id=run.system_id, lineage__derived_by__audit_run=str(run.pk)).first()


def privacy_budget(*, system, dataset_sha256: str, exclude_run=None) -> dict:
    """Epsilon and delta spent on one training dataset of a system, by basic composition (one query)."""
    versions = (ModelVersion.objects.filter(system=system, lineage__dp__train_sha256=dataset_sha256)
                .order_by("created_at").only("id", "version", "lineage", "created_at"))
    entries = [
        {"id": str(v.pk), "version": v.version, "epsilon": float(v.lineage["dp"]["epsilon_spent"]),
         "delta": float(v.lineage["dp"]["delta"]), "created_at": v.created_at.isoformat()}
        for v in versions
        if exclude_run is None or (v.lineage.get("derived_by") or {}).get("audit_run") != str(exclude_run.pk)
    ]
    spent = sum(e["epsilon"] for e in entries)
    limit = float(settings.PRIVACY_BUDGET_EPSILON)
    return {"dataset_sha256": dataset_sha256, "epsilon_spent": spent, "delta_spent": sum(e["delta"] for e in entries),
            "limit_epsilon": limit, "exceeded": spent > limit, "versions": entries,
            "composition": "basic (sequential): epsilons and deltas add up (Dwork & Roth 2014, Thm. 3.16)"}


def privacy_budgets(*, system) -> list[dict]:
    """Every training dataset of a system that DP versions were trained on, with its budget (one query)."""
    by_sha: dict[str, list] = {}
    for v in ModelVersion.objects.filter(system=system, lineage__has_key="dp").order_by("created_at"):
        dp = v.lineage["dp"]
        if "train_sha256" in dp:
            by_sha.setdefault(dp["train_sha256"], []).append(
                {"id": str(v.pk), "version": v.version, "epsilon": float(dp["epsilon_spent"]),
                 "delta": float(dp["delta"]), "created_at": v.created_at.isoformat()})
    limit = float(settings.PRIVACY_BUDGET_EPSILON)
    out = []
    for sha, entries in by_sha.items():
        spent = sum(e["epsilon"] for e in entries)
        out.append({"dataset_sha256": sha, "epsilon_spent": spent, "delta_spent": sum(e["delta"] for e in entries),
                    "limit_epsilon": limit, "exceeded": spent > limit, "versions": entries})
    return out


def budget_after(before: dict, *, epsilon: float, delta: float, version_label: str) -> dict:
    """The budget once this retraining's (epsilon, delta) is added, with the warning when past the limit."""
    spent = before["epsilon_spent"] + epsilon
    out = {**before, "epsilon_before": before["epsilon_spent"], "epsilon_spent": spent,
           "delta_spent": before["delta_spent"] + delta, "exceeded": spent > before["limit_epsilon"],
           "this_retraining": {"version": version_label, "epsilon": epsilon, "delta": delta}}
    out["warning"] = BUDGET_WARNING.format(
        spent=spent, limit=before["limit_epsilon"], sha=before["dataset_sha256"][:12], n=len(before["versions"]) + 1,
    ) if out["exceeded"] else ""
    return out


def may_approve_retraining(user, version: ModelVersion) -> bool:
    roles = user_roles(user)
    if Role.ADMIN in roles:
        return True
    return bool(roles & approver_roles(version.system)) and version.created_by_id != user.pk


def approver_roles(system) -> set[str]:
    stages = policy_for(risk_tier=system.risk_tier).approval_stages or [[Role.RISK_OFFICER.value]]
    return set(stages[0])


def accepted_recommendation(*, run: AuditRun) -> RetrainingRecommendation | None:
    """The recommendation a DP run closes, if the run was started through an approver's acceptance.

    A `recommendation` param that did not come from `retraining_from_recommendation` fails the
    run: it would otherwise close a recommendation nobody approved."""
    rec_id = (run.params or {}).get("recommendation")
    if not rec_id:
        return None
    try:
        uuid.UUID(str(rec_id))
    except ValueError:
        raise AuditInputError(NOT_ACCEPTED.format(rec=rec_id)) from None
    rec = RetrainingRecommendation.objects.filter(pk=rec_id, version_id=run.version_id).first()
    # DONE too: a redelivered run finds the recommendation it already closed.
    if (rec is None or rec.status not in (RecommendationStatus.ACCEPTED, RecommendationStatus.DONE)
            or str(run.pk) not in rec.resolution_note
            or run.created_by is None or not may_approve_retraining(run.created_by, run.version)):
        raise AuditInputError(NOT_ACCEPTED.format(rec=rec_id))
    return rec


# ------------------------------------------------------------------ services


def _registrant(run: AuditRun):
    """(actor, on behalf of the owner?) for model_version_register; see the module docstring."""
    if run.created_by is not None and can(run.created_by, "version.register", run.system):
        return run.created_by, False
    owner = run.system.owner
    if not can(owner, "version.register", run.system):
        raise PermissionDeniedError(NO_OWNER.format(owner=owner.username))
    return owner, True


def dp_version_register(*, run: AuditRun, module, record: dict, budget: dict, label: str) -> ModelVersion:
    """Register the DP-retrained module as a child of the audited version, through the one safe path."""
    parent = run.version
    actor, on_behalf = _registrant(run)
    train = parent.train_dataset
    dp = {**record, "train_sha256": train.sha256, "train_dataset": str(train.pk)}
    lineage = {
        # First, short: the registry's lineage chips show the first keys, truncated.
        "privacy": f"DP-SGD ε={record['epsilon_spent']:.2f} δ={record['delta']:.0e} {record['accountant'].upper()}",
        "dp": dp,
        "derived_by": {
            "kind": KIND, "audit_run": str(run.pk), "parent": str(parent.pk), "parent_version": parent.version,
            "requested_by": run.created_by.username if run.created_by else None, "registered_by": actor.username,
            "on_behalf_of_owner": on_behalf,
        },
        "privacy_budget": {k: budget[k] for k in ("epsilon_before", "epsilon_spent", "delta_spent", "limit_epsilon",
                                                   "exceeded", "warning", "composition")},
    }
    notes = (f"Differentially private retraining of {parent.version} (DP-SGD with Opacus): "
             f"ε = {record['epsilon_spent']:.3g} (target {record['epsilon_target']:g}), δ = {record['delta']:.2g}, "
             f"{record['accountant'].upper()} accountant; audit run {run.pk}.")
    return model_version_register(
        actor=actor, system=run.system, version=label, artifact=torch_artifact(module), spec=parent.spec,
        parent=parent, train_dataset=train, eval_dataset=parent.eval_dataset, notes=notes, lineage=lineage,
        requested_by=run.created_by,
    )


def recommendation_close(*, recommendation: RetrainingRecommendation, new_version: ModelVersion, run: AuditRun):
    """The retrained version exists: close the drift recommendation with it (drift's own service)."""
    actor, _ = _registrant(run)  # closing is the owner's call in drift's rules; we act for them
    return retraining_recommendation_resolve(
        actor=actor, recommendation=recommendation, status=RecommendationStatus.DONE, new_version=new_version,
        note=f"{recommendation.resolution_note} Retrained as {new_version.version} by run {run.pk}.".strip(),
    )


def retraining_from_recommendation(*, actor, recommendation: RetrainingRecommendation,
                                   params: dict | None = None) -> AuditRun:
    """An approver accepts a drift recommendation and starts the DP retraining it asks for."""
    version = recommendation.version
    if not may_approve_retraining(actor, version):
        labels = " or ".join(sorted(Role(r).label.lower() for r in approver_roles(version.system) if r in Role.values))
        raise PermissionDeniedError(NOT_APPROVER.format(roles=labels or "risk officer"))
    if params is not None and not isinstance(params, dict):
        raise ApplicationError("params must be a JSON object.", field="params")
    params = dp_params_clean({**KINDS[KIND].defaults, **(params or {})})
    with transaction.atomic():
        rec = RetrainingRecommendation.objects.select_for_update().get(pk=recommendation.pk)
        if not rec.is_open:
            raise ConflictError(NOT_OPEN.format(status=rec.get_status_display().lower()), field="recommendation")
        running = (AuditRun.objects.filter(kind=KIND, version=version, params__recommendation=str(rec.pk))
                   .exclude(status=RunStatus.FAILED).first())
        if running is not None:
            raise ConflictError(ALREADY_RUNNING.format(status=running.status, run=running.pk), field="recommendation")
        run = audit_run_create(actor=actor, version=version, kind=KIND,
                               params={**(params or {}), "recommendation": str(rec.pk)})
        rec.status = RecommendationStatus.ACCEPTED
        rec.resolution_note = f"DP retraining approved by {actor.username}: run {run.pk}."
        rec.full_clean()
        rec.save(update_fields=["status", "resolution_note"])
        trail_append(actor=actor, action="retraining.approved", obj=rec, payload={
            "version": str(version.pk), "run": str(run.pk), "kind": KIND, "params": run.params})
    return run
