"""Audit-run pages, with a live progress bar (HTMX polls the progress fragment)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from audits.figures import report_figures
from audits.models import AuditRun, RunStatus
from audits.registry import KINDS
from audits.selectors import run_list as select_runs
from audits.services import audit_run_create
from governance import glossary
from governance.exceptions import ApplicationError
from governance.models import ModelVersion


@login_required
def run_list(request):
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    runs = Paginator(select_runs(status=status if status in RunStatus.values else "",
                                 kind=kind if kind in KINDS else ""), 50).get_page(request.GET.get("page"))
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


def _results_template(kind: str) -> str | None:
    """The kind's own results template (owned by that audit's engineers), if it has one."""
    name = f"runs/results/{kind}.html"
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


@login_required
def run_detail(request, run_id):
    run = get_object_or_404(AuditRun.objects.select_related("system", "version", "created_by"), pk=run_id)
    results_template = _results_template(run.kind) if run.status == RunStatus.SUCCEEDED else None
    figures = []
    if run.status == RunStatus.SUCCEEDED and results_template is None:
        # No page of its own yet: show the kind's report figures, drawn from stored results.
        figures = [{**f, "svg": mark_safe(f["svg"])} for f in report_figures(run.kind, run.results)]  # noqa: S308
    return render(request, "runs/detail.html", {
        "run": run, "kind": KINDS.get(run.kind), "term": glossary.audit(run.kind),
        "results_template": results_template, "figures": figures,
        "params": [(key, _param_text(value)) for key, value in sorted((run.params or {}).items())],
        "checks": [{**c, "term": glossary.term(c.get("metric"), run.kind),
                    "threshold_text": glossary.threshold_text(c.get("operator"), c.get("threshold"))}
                   for c in run.checks or []],
        "outcome_text": glossary.outcome_text(run.outcome) if run.outcome else "",
    })


@login_required
def run_progress(request, run_id):
    run = get_object_or_404(AuditRun, pk=run_id)
    response = render(request, "runs/_progress.html", {"run": run})
    if run.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # reload once so the results appear
    return response


@login_required
@require_POST
def run_create(request, version_id):
    version = get_object_or_404(ModelVersion.objects.select_related("system"), pk=version_id)
    try:
        run = audit_run_create(actor=request.user, version=version, kind=request.POST.get("kind", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("system-detail", slug=version.system.slug)
    return redirect("run-detail", run_id=run.pk)
