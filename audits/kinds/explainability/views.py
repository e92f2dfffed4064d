"""The explainability audit's one page of its own: explaining a case someone asked about.

Thin: the form checks the inputs, one service call requests the audit, the user goes to it."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audits.kinds.explainability.forms import CaseForm
from audits.runs.models import AuditRun, RunStatus
from audits.runs.params import params_requested
from audits.runs.registry import KINDS
from audits.runs.services import audit_run_create
from governance.core.access import role_required
from governance.core.exceptions import ApplicationError
from governance.core.forms import form_error

NOT_EXPLAINED = "Only a finished explainability audit has the inputs a case needs."


@role_required
@require_POST
def explain_case(request, run_id):
    """POST: a new explainability audit of the run's version, with its settings, that also
    explains the posted case; a bad value is a 400 naming the input."""
    run = get_object_or_404(AuditRun.objects.select_related("system", "version"), pk=run_id, kind="explainability")
    fields = (run.results or {}).get("case_fields")
    if run.status != RunStatus.SUCCEEDED or not fields:
        return render(request, "kinds/explainability/case.html", {"run": run, "error": NOT_EXPLAINED}, status=400)
    form = CaseForm(request.POST, fields=fields)
    try:
        if not form.is_valid():
            raise ApplicationError(form_error(form))
        params = {k: v for k, v in params_requested(defaults=KINDS["explainability"].defaults,
                                                    stored=run.params).items() if k != "cases"}
        new = audit_run_create(actor=request.user, version=run.version, kind="explainability",
                               params={**params, "cases": [form.case_params()]})
    except ApplicationError as exc:
        return render(request, "kinds/explainability/case.html", {"run": run, "form": form, "error": exc.message},
                      status=getattr(exc, "status_code", 400))
    return redirect(f"/runs/{new.pk}/#cases")
