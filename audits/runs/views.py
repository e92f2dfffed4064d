"""Audit-run pages, with a live progress bar (HTMX polls the progress fragment)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from audits.runs.models import AuditRun, RunStatus
from audits.runs.forms import RunFilterForm, RunRequestForm
from audits.runs.params import POLICY_KEY
from audits.runs.registry import KINDS
from audits.runs.selectors import run_list as select_runs
from audits.runs.services import audit_run_create
from governance.core import glossary
from governance.core.access import role_required
from governance.core.exceptions import ApplicationError
from governance.core.forms import form_error
from governance.registry.models import ModelVersion


@role_required
def run_list(request):
    filters = RunFilterForm(request.GET)
    filters.is_valid()
    status, kind = filters.cleaned_data.get("status", ""), filters.cleaned_data.get("kind", "")
    runs = Paginator(select_runs(status=status, kind=kind), 50).get_page(request.GET.get("page"))
    return render(request, "runs/list.html", {"runs": runs, "status": status, "statuses": RunStatus.choices,
                                              "kind": kind, "kinds": [(k, v.label) for k, v in KINDS.items()]})


def _param_text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _params_context(params: dict) -> dict:
    """The run's parameters, each with where it came from: "set by policy X" or the request/defaults."""
    by_policy = params.get(POLICY_KEY) or {}
    names = set(by_policy.get("params") or ())
    return {"params": [(key, _param_text(value), key in names) for key, value in sorted(params.items())
                       if key != POLICY_KEY],
            "params_policy": by_policy.get("policy") if names else None}


def _safe_figures(figures: list[dict]) -> list[dict]:
    return [{**f, "svg": mark_safe(f["svg"])} for f in figures]  # noqa: S308 - charts escape their text


@role_required
def run_detail(request, run_id):
    run = get_object_or_404(AuditRun.objects.select_related("system", "version", "created_by"), pk=run_id)
    kind = KINDS.get(run.kind)
    shown = kind if run.status == RunStatus.SUCCEEDED else None  # results only of a finished audit
    return render(request, "runs/detail.html", {
        "run": run, "kind": kind, "term": glossary.audit(run.kind),
        # The kind's own results section (its folder's template), else its charts alone.
        "results_template": shown.results_template if shown else None,
        "figures": _safe_figures(shown.figures_for(run.results)) if shown else [],
        **(shown.page_context(run.results or {}) if shown and shown.page_context else {}),
        **_params_context(run.params or {}),
        "checks": [{**c, "term": glossary.term(c.get("metric"), run.kind),
                    "threshold_text": " ".join(filter(None, (
                        glossary.threshold_text(c.get("operator"), c.get("threshold")),
                        _sentence(glossary.setting_text(c.get("judged_at")))))),
                    "outcome_label": glossary.check_outcome_label(c)}
                   for c in run.checks or []],
        "outcome_text": glossary.outcome_text(run.outcome, run.kind) if run.outcome else "",
    })


def _sentence(text: str) -> str:
    """'at ε = 0.1 (policy; L-inf, PGD)' -> 'At ε = 0.1 (policy; L-inf, PGD).'; '' stays ''."""
    return f"{text[0].upper()}{text[1:]}." if text else ""


@role_required
def run_progress(request, run_id):
    run = get_object_or_404(AuditRun, pk=run_id)
    response = render(request, "runs/_progress.html", {"run": run})
    if run.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # reload once so the results appear
    return response


@role_required
@require_POST
def run_create(request, version_id):
    version = get_object_or_404(ModelVersion.objects.select_related("system"), pk=version_id)
    form = RunRequestForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError(form_error(form))
        run = audit_run_create(actor=request.user, version=version, kind=form.cleaned_data["kind"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("system-detail", slug=version.system.slug)
    return redirect("run-detail", run_id=run.pk)
