"""Report pages: generate (from the system page), download, verify (upload), and the panel
fragment the system page polls while a report is being generated. Thin: parse, check access,
call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from audits.reports.forms import ReportRequestForm, VerifyForm
from audits.reports.models import Report, ReportStatus
from audits.reports.selectors import reports_for_system
from audits.reports.service import report_generate, report_verify
from governance.core.access import role_required
from governance.core.exceptions import ApplicationError
from governance.core.forms import form_error
from governance.core.roles import can
from governance.registry.models import AISystem


@role_required
@require_POST
def report_create(request):
    form = ReportRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return redirect("/systems/")
    version = form.cleaned_data["version"]
    try:
        report = report_generate(actor=request.user, version=version)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Report {report.report_number} is being generated and signed; it appears below when ready.")
    # Not reverse("system-detail"): the API router's "system-detail" shadows the page's name.
    return redirect(f"/systems/{version.system.slug}/#reports")


def _signed_report(request, report_id) -> Report:
    report = get_object_or_404(Report.objects.select_related("system"), pk=report_id)
    if not can(request.user, "system.view", report.system):
        raise PermissionDenied
    if report.status != ReportStatus.SIGNED or not report.file:
        raise Http404("This report has no signed file.")
    return report


@role_required
def report_download(request, report_id):
    report = _signed_report(request, report_id)
    response = FileResponse(report.file.open("rb"), content_type="application/pdf", as_attachment=True,
                            filename=f"{report.report_number}.pdf")
    response["X-Content-SHA256"] = report.sha256
    return response


@role_required
def report_badge(request, report_id):
    """The stored file, verified now: a chip the system page loads lazily for each report."""
    report = _signed_report(request, report_id)
    try:
        with report.file.open("rb") as fh:
            result = report_verify(upload=fh.read())
    except (OSError, ApplicationError):
        result = {"status": "missing", "message": "The stored file of this report cannot be read."}
    return render(request, "reports/_badge.html", {"result": result, "report": report})


@role_required
def report_panel(request, slug):
    system = get_object_or_404(AISystem, slug=slug)
    return render(request, "reports/_panel.html", {
        "system": system, "reports": reports_for_system(system=system),
        "can_generate": can(request.user, "report.generate", system)})


@role_required
@require_http_methods(["GET", "POST"])
def report_verify_page(request):
    context = {}
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
        upload = form.cleaned_data["file"] if form.is_valid() else None
        try:
            context["result"] = report_verify(upload=upload)
        except ApplicationError as exc:
            context["error"] = exc.message
            return render(request, "reports/verify.html", context, status=exc.status_code)
        context["filename"] = upload.name
    return render(request, "reports/verify.html", context)
