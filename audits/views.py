"""Audit-run pages, with a live progress bar (HTMX polls the progress fragment)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audits.models import AuditRun, RunStatus
from audits.registry import KINDS
from audits.selectors import run_list as select_runs
from audits.services import audit_run_create
from governance.exceptions import ApplicationError
from governance.models import ModelVersion


@login_required
def run_list(request):
    status = request.GET.get("status", "")
    runs = Paginator(select_runs(status=status if status in RunStatus.values else ""), 50).get_page(request.GET.get("page"))
    return render(request, "runs/list.html", {"runs": runs, "status": status, "statuses": RunStatus.choices})


@login_required
def run_detail(request, run_id):
    run = get_object_or_404(AuditRun.objects.select_related("system", "version", "created_by"), pk=run_id)
    return render(request, "runs/detail.html", {"run": run, "kind": KINDS.get(run.kind)})


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
