"""Pages for DP retraining: the parameter form, the approval of a drift
recommendation, and a version's privacy record.

Thin: parse, call one service, tell the user what happened, go to the run or back. The other
security audits need no page of their own: the system page's audit form starts them with
their defaults, and their results render in their folder's templates/kinds/<kind>/results.html.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from audits.drift.models import RetrainingRecommendation
from audits.drift.services import retraining_recommendation_open
from audits.kinds.dp_retraining.forms import FIELDS, DPRetrainingForm
from audits.kinds.dp_retraining.services import (
    ACCOUNTANTS,
    KIND,
    dp_params_clean,
    may_approve_retraining,
    privacy_budget,
    retraining_from_recommendation,
)
from audits.runs.models import AuditRun
from audits.runs.registry import KINDS
from audits.runs.services import audit_run_create
from governance.core.access import role_required
from governance.core.exceptions import ApplicationError
from governance.core.forms import form_error
from governance.core.roles import can, require
from governance.registry.models import ModelVersion


def _version(version_id) -> ModelVersion:
    return get_object_or_404(ModelVersion.objects.select_related("system", "train_dataset", "eval_dataset", "parent"),
                             pk=version_id)


def _form_params(post) -> dict:
    """The posted parameters through the form; one too long is refused here, before the check."""
    form = DPRetrainingForm(post)
    if not form.is_valid():
        raise ApplicationError(form_error(form))
    return form.values()


@role_required
def dp_retraining_form(request, version_id):
    """GET: the parameters, the data's privacy budget so far, and any open drift recommendation."""
    version = _version(version_id)
    require(request.user, "system.view", version.system)
    values = {k: ("" if v is None else v) for k, v in KINDS[KIND].defaults.items() if k in FIELDS}
    error, status = "", 200
    if request.method == "POST":
        form = DPRetrainingForm(request.POST)
        values = form.values()
        try:
            if not form.is_valid():
                raise ApplicationError(form_error(form))
            params = dp_params_clean({**KINDS[KIND].defaults, **values})
            run = audit_run_create(actor=request.user, version=version, kind=KIND,
                                   params={k: params[k] for k in FIELDS})
        except ApplicationError as exc:
            error, status = exc.message, getattr(exc, "status_code", 400)
        else:
            return redirect("run-detail", run_id=run.pk)
    train = version.train_dataset
    return render(request, "kinds/dp_retraining/form.html", {
        "version": version, "system": version.system, "values": values, "error": error,
        "accountants": ACCOUNTANTS, "n_train": train.n_rows if train else None,
        "budget": privacy_budget(system=version.system, dataset_sha256=train.sha256) if train else None,
        "recommendation": retraining_recommendation_open(version=version),
        "may_request": can(request.user, "audit.request", version.system),
        "may_approve": may_approve_retraining(request.user, version),
    }, status=status)


@role_required
@require_POST
def recommendation_dp_retrain(request, pk):
    rec = get_object_or_404(RetrainingRecommendation.objects.select_related("version__system"), pk=pk)
    try:
        run = retraining_from_recommendation(actor=request.user, recommendation=rec, params=_form_params(request.POST))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("system-detail", args=[rec.version.system.slug]) + "#drift")
    messages.success(request, f"DP retraining of {rec.version.version} approved and queued.")
    return redirect("run-detail", run_id=run.pk)


@role_required
def version_privacy(request, version_id):
    """A version's privacy record: its DP lineage, the budget of its training data, the runs about it."""
    version = _version(version_id)
    require(request.user, "system.view", version.system)
    dp = (version.lineage or {}).get("dp")
    sha = (dp or {}).get("train_sha256") or (version.train_dataset.sha256 if version.train_dataset else None)
    runs = (AuditRun.objects.filter(version=version, kind__in=["privacy", KIND]).order_by("-created_at")
            .only("id", "kind", "status", "outcome", "created_at")[:10])
    return render(request, "kinds/dp_retraining/version_privacy.html", {
        "version": version, "system": version.system, "dp": dp, "derived": (version.lineage or {}).get("derived_by"),
        "budget": privacy_budget(system=version.system, dataset_sha256=sha) if sha else None,
        "runs": runs, "children": version.children.filter(lineage__has_key="dp").only("id", "version", "lineage"),
    })
