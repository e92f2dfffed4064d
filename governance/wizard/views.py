"""The guided wizard for non-technical users:

  1 describe the system -> 2 upload data -> 3 upload the model -> 4 pick audits
  -> 5 review results -> 6 request approval

Each step's URL carries everything it needs (the system's slug, the version's id), so a user
can stop and come back. Every write goes through the one service that owns it
(the registry's, the runs' and the approvals' services): the same checks as the API.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify

from audits.runs.models import AuditRun
from audits.runs.registry import KINDS
from audits.runs.services import audit_run_create
from governance.approvals.services import approval_request_create, policy_gaps
from governance.core import glossary
from governance.core.access import role_required
from governance.core.exceptions import ApplicationError
from governance.core.forms import first_field, form_error, typed
from governance.core.roles import can
from governance.policies.models import Environment
from governance.policies.services import policy_for
from governance.registry import services
from governance.registry.datafiles import read_table
from governance.registry.models import (
    AISystem,
    Dataset,
    LifecycleStage,
    ModelVersion,
    RiskTier,
)
from governance.registry.selectors import dataset_unreferenced_delete
from governance.registry.uploads import TOO_LARGE
from governance.wizard.forms import ApprovalRequestForm, AuditsForm, DataForm, SystemForm, VersionForm

STEPS = [
    ("system", "Describe the system"),
    ("data", "Upload data"),
    ("model", "Upload the model"),
    ("audits", "Pick audits"),
    ("results", "Review results"),
    ("approval", "Request approval"),
]
TIER_HELP = {
    "low": "Low: internal tools, no decisions about people, easy to correct.",
    "medium": "Medium: supports decisions about people, with a person reviewing each one.",
    "high": "High: decides or strongly shapes outcomes for people (credit, jobs, health, access to services).",
}
ENV_HELP = {
    "staging": "Staging: a test environment; usually one reviewer signs off.",
    "production": "Production: real users and real decisions; the policy's full approval chain applies.",
}
NO_LABEL = "label: column {label!r} is not in the file. Columns in the file: {columns}."
LABEL_REQUIRED = "label: name the column that holds the real outcome (for example 'risk' or 'approved')."
NOT_COLUMNS = "sensitive: not columns of the file: {missing}. Columns in the file: {columns}."


def _steps(current: str, system=None, version=None) -> list[dict]:
    index = [key for key, _ in STEPS].index(current)
    return [{"key": key, "label": label, "number": i + 1, "state": "done" if i < index else "current" if i == index
             else "todo"} for i, (key, label) in enumerate(STEPS)]


def _page(request, template, step, context, status=200):
    return render(request, f"wizard/{template}.html", {"steps": _steps(step), "step": step, **context}, status=status)


def _forbidden(request, step, message):
    return _page(request, "forbidden", step, {"message": message}, status=403)


def _owned_system(request, slug, action):
    system = get_object_or_404(AISystem.objects.select_related("owner"), slug=slug)
    return system, can(request.user, action, system)


@role_required
def wizard_start(request):
    """Step 1: describe the AI system (name, purpose, intended use, risk tier)."""
    if not can(request.user, "system.create"):
        return _forbidden(request, "system", "Only model owners register AI systems. Ask a model owner, or an "
                                             "administrator to give you that role.")
    form = SystemForm(request.POST if request.method == "POST" else None)
    error = None
    if form.is_bound:
        try:
            fields = _cleaned(form)
            fields["slug"] = fields["slug"] or slugify(fields["name"])[:80]
            system = services.system_create(actor=request.user, **fields)
        except ApplicationError as exc:
            error = exc
        else:
            messages.success(request, f"{system.name} is registered, with one assessment per control of both "
                                      "frameworks. Next: its data.")
            return redirect("wizard-data", slug=system.slug)
    mine = AISystem.objects.filter(owner=request.user).order_by("name")[:20]
    return _page(request, "system", "system", {
        "form": typed(form), "error": error, "tiers": [(v, label, TIER_HELP[v]) for v, label in RiskTier.choices],
        "stages": LifecycleStage.choices, "mine": mine,
    }, status=400 if error else 200)


def _columns(frame) -> str:
    return ", ".join(str(c) for c in frame.columns[:30]) + (" ..." if len(frame.columns) > 30 else "")


def _schema_from(data: bytes, *, label: str, sensitive: list[str], categorical: list[str]) -> dict:
    """A schema from the file's own header: every column but the label is a feature; text
    columns are categorical unless the user says otherwise. The service validates it again."""
    frame = read_table(data, field="eval_file")
    if not label:
        raise ApplicationError(LABEL_REQUIRED, field="label")
    if label not in frame.columns:
        raise ApplicationError(NO_LABEL.format(label=label, columns=_columns(frame)), field="label")
    missing = [c for c in sensitive if c not in frame.columns]
    if missing:
        raise ApplicationError(NOT_COLUMNS.format(missing=", ".join(missing), columns=_columns(frame)),
                               field="sensitive")
    features = [str(c) for c in frame.columns if c != label]
    if not categorical:
        categorical = [c for c in features if not (frame[c].dtype.kind in "biuf")]
    return {"features": features, "label": label, "sensitive": sensitive, "categorical": categorical}


def _cleaned(form) -> dict:
    """The form's cleaned data, or its first error as the ApplicationError the page shows."""
    if not form.is_valid():
        raise ApplicationError(form_error(form), field=first_field(form))
    return form.cleaned_data


def _read(upload, field: str) -> bytes | None:
    if upload is None:
        return None
    if upload.size > settings.MAX_UPLOAD_BYTES:
        raise ApplicationError(TOO_LARGE.format(size=upload.size, limit=settings.MAX_UPLOAD_BYTES),
                               field=field)
    return upload.read()


@role_required
def wizard_data(request, slug):
    """Step 2: the evaluation data (required) and the training data (optional), one schema."""
    system, allowed = _owned_system(request, slug, "dataset.register")
    if not allowed:
        return _forbidden(request, "data", f"Only the owner of {system.name} uploads its data.")
    form = DataForm(request.POST, request.FILES) if request.method == "POST" else DataForm()
    error = None
    if form.is_bound:
        created: list[Dataset] = []
        try:
            fields = _cleaned(form)
            eval_data = _read(fields["eval_file"], "eval_file")
            if eval_data is None:
                raise ApplicationError("eval_file: choose the evaluation data file (CSV or Parquet).",
                                       field="eval_file")
            train_data = _read(fields["train_file"], "train_file")
            schema = _schema_from(eval_data, label=fields["label"], sensitive=form.names("sensitive"),
                                  categorical=form.names("categorical"))
            with transaction.atomic():  # both datasets or neither
                for field, role, data in (("eval_file", "test", eval_data), ("train_file", "train", train_data)):
                    if data is None:
                        continue
                    upload = fields[field]
                    try:
                        created.append(services.dataset_register(
                            actor=request.user, system=system, name=upload.name, role=role, upload=data,
                            schema=schema))
                    except ApplicationError as exc:
                        if exc.extra.get("field") in (None, "file"):  # name the form's field
                            exc.extra["field"] = field
                            exc.message = f"{field}: {exc.message}"
                        raise
        except ApplicationError as exc:
            for ds in created:  # rolled back: remove the files the rows would have pointed to
                dataset_unreferenced_delete(ds.file.name)
            error = exc
        else:
            messages.success(request, f"{len(created)} data file(s) registered with their fingerprints (sha256). "
                                      "Next: the model.")
            return redirect("wizard-model", slug=system.slug)
    datasets = list(system.datasets.order_by("-created_at"))
    return _page(request, "data", "data", {"system": system, "form": typed(form), "error": error, "datasets": datasets},
                 status=400 if error else 200)


@role_required
def wizard_model(request, slug):
    """Step 3: the model file (and its architecture spec, for PyTorch models)."""
    system, allowed = _owned_system(request, slug, "version.register")
    if not allowed:
        return _forbidden(request, "model", f"Only the owner of {system.name} registers its model versions.")
    datasets = list(system.datasets.order_by("-created_at"))
    tests = [d for d in datasets if d.role == "test"]
    trains = [d for d in datasets if d.role == "train"]
    initial = {"version": "1.0.0" if not system.versions.exists() else "",
               "eval_dataset": str(tests[0].pk) if tests else "", "train_dataset": str(trains[0].pk) if trains else ""}
    form = VersionForm(request.POST, request.FILES) if request.method == "POST" else VersionForm(initial=initial)
    error = None
    if form.is_bound:
        by_id = {str(d.pk): d for d in datasets}
        try:
            fields = _cleaned(form)
            artifact = _read(fields["artifact"], "artifact")
            spec = _read(fields["spec"], "spec").decode("utf-8", errors="replace") if fields["spec"] else None
            version = services.model_version_register(
                actor=request.user, system=system, version=fields["version"], artifact=artifact, spec=spec,
                eval_dataset=by_id.get(fields["eval_dataset"]), train_dataset=by_id.get(fields["train_dataset"]),
                notes=fields["notes"],
            )
        except ApplicationError as exc:
            error = exc
        else:
            messages.success(request, f"Version {version.version} is registered: the model loaded safely and "
                                      "scored the evaluation data. Next: pick the audits.")
            return redirect("wizard-audits", slug=system.slug, version_id=version.pk)
    return _page(request, "model", "model", {
        "system": system, "form": typed(form), "error": error, "tests": tests, "trains": trains,
        "versions": system.versions.order_by("-created_at")[:10],
    }, status=400 if error else 200)


def _version(slug, version_id) -> ModelVersion:
    return get_object_or_404(ModelVersion.objects.select_related("system", "eval_dataset", "train_dataset"),
                             pk=version_id, system__slug=slug)


@role_required
def wizard_audits(request, slug, version_id):
    """Step 4: which audits to run; those the policy requires are ticked and explained."""
    version = _version(slug, version_id)
    system = version.system
    if not can(request.user, "audit.request", system):
        return _forbidden(request, "audits", "Your role does not request audits on this system.")
    required = set(policy_for(risk_tier=system.risk_tier).audit_requirements or {})
    error = None
    if request.method == "POST":
        form = AuditsForm(request.POST, kinds=list(KINDS))
        try:
            chosen = _cleaned(form)["kinds"]
            with transaction.atomic():  # every audit is queued, or none
                for kind in chosen:
                    audit_run_create(actor=request.user, version=version, kind=kind)
        except ApplicationError as exc:
            error = exc
        else:
            messages.success(request, f"{len(chosen)} audit(s) queued. A worker runs them; this page follows "
                                      "their progress.")
            return redirect("wizard-results", slug=slug, version_id=version.pk)
    kinds = [{"name": k.name, "label": k.label, "term": glossary.audit(k.name), "required": k.name in required,
              "queue": k.queue, "refusal": k.refusal(version)}
             for k in KINDS.values() if k.in_wizard or k.name in required]
    return _page(request, "audits", "audits", {"system": system, "version": version, "kinds": kinds,
                                               "error": error}, status=400 if error else 200)


def _explained_checks(run) -> list[dict]:
    """The run's checks grouped by metric, each metric explained once in plain language."""
    groups: dict[str, dict] = {}
    for c in run.checks or []:
        metric = c.get("metric") or "result"
        g = groups.setdefault(metric, {"metric": metric, "term": glossary.term(metric, run.kind), "checks": [],
                                       "threshold": glossary.threshold_text(c.get("operator"), c.get("threshold"))})
        g["checks"].append(c)
    for g in groups.values():
        outcomes = {c.get("outcome") for c in g["checks"]}
        g["outcome"] = "fail" if "fail" in outcomes else "inconclusive" if "inconclusive" in outcomes else "pass"
    return list(groups.values())


@role_required
def wizard_results(request, slug, version_id):
    """Step 5: the audits' progress and results, every number explained."""
    version = _version(slug, version_id)
    latest: dict[str, AuditRun] = {}
    for run in AuditRun.objects.filter(version=version).order_by("-created_at"):
        latest.setdefault(run.kind, run)
    runs = []
    for kind, run in sorted(latest.items()):
        runs.append({"run": run, "term": glossary.audit(kind), "groups": _explained_checks(run),
                     "outcome_text": glossary.outcome_text(run.outcome, kind) if run.outcome else ""})
    finished = bool(runs) and all(r["run"].is_finished for r in runs)
    return _page(request, "results", "results", {
        "system": version.system, "version": version, "runs": runs, "finished": finished,
        "can_request": can(request.user, "approval.request", version.system),
    })


@role_required
def wizard_approval(request, slug, version_id):
    """Step 6: ask the approvers; the policy for the system's risk tier decides who signs."""
    version = _version(slug, version_id)
    system = version.system
    if not can(request.user, "approval.request", system):
        return _forbidden(request, "approval", f"Only the owner of {system.name} requests its approval.")
    form = ApprovalRequestForm(request.POST if request.method == "POST" else None)
    error = None
    if form.is_bound:
        try:
            fields = _cleaned(form)
            req = approval_request_create(actor=request.user, version=version, environment=fields["environment"],
                                          justification=fields["justification"], acknowledge=fields["acknowledge"])
        except ApplicationError as exc:
            error = exc
        else:
            messages.success(request, f"Approval requested for {version.version} in {req.environment}. The "
                                      "approvers see it in their inbox; you will see each decision here.")
            return redirect("approval-detail", pk=req.pk)
    envs = []
    for value, label in Environment.choices:
        policy = policy_for(risk_tier=system.risk_tier, environment=value)
        envs.append({"value": value, "label": label, "help": ENV_HELP.get(value, ""), "stages": policy.approval_stages,
                     "report": policy.require_signed_report,
                     "gaps": policy_gaps(version=version, environment=value)})
    return _page(request, "approval", "approval", {"system": system, "version": version, "form": typed(form),
                                                   "error": error, "envs": envs,
                                                   "any_gaps": any(e["gaps"] for e in envs)},
                 status=400 if error else 200)
