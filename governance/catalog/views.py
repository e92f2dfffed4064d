"""Control pages: one control across systems, and one control on one system (where a compliance
or risk officer records a status and notes). Thin: check access, call one selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from governance.catalog.documents import document_attach as attach
from governance.catalog.forms import AssessmentForm, DocumentForm
from governance.catalog.models import Control, ControlAssessment, EvidenceDocument
from governance.catalog.selectors import (
    assessment_detail,
    control_partners,
    current_documents,
    partner_assessments,
)
from governance.catalog.selectors import (
    control_detail as select_control,
)
from governance.catalog.services import assessment_update
from governance.core import glossary
from governance.core.access import role_required
from governance.core.exceptions import ApplicationError
from governance.core.forms import form_error
from governance.core.roles import can
from governance.registry.models import AISystem
from governance.registry.selectors import version_scope


@role_required
def system_control(request, slug, framework, ref):
    """Drill-down from a heatmap cell: one control on one system, with all its evidence; a
    compliance or risk officer records a status and notes here (governance/catalog/services.py)."""
    system = get_object_or_404(AISystem, slug=slug)
    scope = version_scope(system=system, label=request.GET.get("version"))
    try:
        assessment = assessment_detail(system=system, framework=framework, ref=ref, version=scope)
    except ControlAssessment.DoesNotExist:
        raise Http404("No such control on this system") from None
    if request.method == "POST":
        # Post, then redirect: the page is reloaded with the status, or the error, as a message.
        form = AssessmentForm(request.POST)
        try:
            if not form.is_valid():
                raise ApplicationError(form_error(form))
            assessment_update(actor=request.user, assessment=assessment, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            who = assessment.owner
            owner = f", owned by {who.get_full_name() or who.get_username()}" if who else ""
            messages.success(request, f"{assessment.control.ref} on {system.name} is now "
                                      f"{assessment.get_status_display().lower()}{owner}.")
        return redirect(request.get_full_path())
    form = AssessmentForm(initial={"status": assessment.status, "notes": assessment.notes, "owner": assessment.owner_id})
    return render(request, "catalog/assessment.html", {
        "system": system, "a": assessment, "control": assessment.control, "scope": scope,
        "versions": system.versions.order_by("-created_at").only("id", "version"),
        "partners": partner_assessments(system=system, control=assessment.control),
        "status_text": glossary.status_text(assessment.shown_status),
        "form": form,
        "can_update": can(request.user, "assessment.update", system),
        "can_attach": can(request.user, "document.attach", system, assessment=assessment),
    })


@role_required
def control_detail(request, framework, ref):
    try:
        control = select_control(framework=framework, ref=ref)
    except Control.DoesNotExist:
        raise Http404("No such control") from None
    assessments = control.assessments.select_related("system").prefetch_related("evidence").order_by("system__name")
    return render(
        request,
        "catalog/control.html",
        {"control": control, "partners": control_partners(control), "assessments": assessments},
    )


@role_required
def document_attach(request, slug, framework, ref):
    """Attach a document or a written attestation to one control of a system; the crosswalk
    proposes the partner controls in the other framework, and accepting the proposal (the
    partners are ticked) attaches it to them too: test once, satisfy both."""
    system = get_object_or_404(AISystem, slug=slug)
    try:
        assessment = (ControlAssessment.objects.select_related("control", "system")
                      .get(system=system, control__framework=framework, control__ref=ref))
    except ControlAssessment.DoesNotExist:
        raise Http404("No such control on this system") from None
    if not can(request.user, "document.attach", system, assessment=assessment):
        raise PermissionDenied("Only the compliance officer or this control's owner may attach documents to it.")
    partners = partner_assessments(system=system, control=assessment.control)
    for p in partners:
        p.may_attach = can(request.user, "document.attach", system, assessment=p)
    ticked = set(request.POST.getlist("partners")) if request.method == "POST" else None
    for p in partners:  # the proposal: every partner the user may attach to, until they untick it
        p.checked = p.may_attach and (ticked is None or str(p.pk) in ticked)
    documents = current_documents([system.pk])
    status = 200
    if request.method == "POST":
        form = DocumentForm(request.POST, request.FILES, partners=partners, documents=documents)
        try:
            if not form.is_valid():
                raise ApplicationError(form_error(form))
            data = form.cleaned_data
            doc = attach(actor=request.user, system=system, assessments=[assessment, *data["partners"]],
                         kind=data["kind"], title=data["title"], effective_on=data["effective_on"],
                         review_by=data["review_by"], owner=data["owner"], upload=data["file"],
                         filename=getattr(data["file"], "name", ""), text=data["text"], replaces=data["replaces"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = exc.status_code
        else:
            refs = ", ".join([assessment.control.ref, *(p.control.ref for p in data["partners"])])
            messages.success(request, f"\u201c{doc.title}\u201d is evidence on {refs} until {doc.review_by}.")
            return redirect("system-control", slug=system.slug, framework=framework, ref=ref)
    else:
        form = DocumentForm(partners=partners, documents=documents, initial={
            "owner": assessment.owner_id or request.user.pk,
            "partners": [p.pk for p in partners if p.may_attach]})
    return render(request, "catalog/document_attach.html", {
        "system": system, "a": assessment, "control": assessment.control, "form": form, "partners": partners,
    }, status=status)


# Served only as a download, never rendered: whatever a document contains (a Markdown file
# full of <script>), the browser saves it rather than runs it.
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
                    "Cache-Control": "private, no-store"}


@role_required
def document_download(request, pk):
    doc = get_object_or_404(EvidenceDocument.objects.select_related("system"), pk=pk)
    if not can(request.user, "system.view", doc.system):
        raise PermissionDenied("Your role does not allow this (system.view).")
    return download_response(doc)


def download_response(doc: EvidenceDocument):
    """The document's bytes as an attachment (the page and the API alike)."""
    if doc.file:
        response = FileResponse(default_storage.open(doc.file.name, "rb"), as_attachment=True,
                                filename=doc.filename or f"document-{doc.pk}", content_type=doc.content_type)
    else:
        response = HttpResponse(doc.text.encode("utf-8"), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="attestation-{doc.pk}.txt"'
    for name, value in DOWNLOAD_HEADERS.items():
        response[name] = value
    return response
