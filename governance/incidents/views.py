"""Pages: the public intake (no sign-in) and the incident pages (a role that may read incidents)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from governance.core.access import role_required
from governance.core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from governance.core.forms import form_error
from governance.core.roles import can
from governance.incidents import selectors, services
from governance.incidents.forms import (
    AnswerForm,
    DetailsForm,
    FollowForm,
    IncidentForm,
    NoteForm,
    PublicReportForm,
    SeriousForm,
    TransitionForm,
)
from governance.incidents.intake import body_bound, stamp_issue
from governance.incidents.models import TRANSITIONS, IncidentStatus, PublicReport, ReportingDeadline
from governance.incidents.throttles import TOO_FREQUENT, PublicReportThrottle, PublicStatusThrottle, wait_seconds
from governance.registry.models import AISystem

# ------------------------------------------------------------------ public


def _public_system(slug):
    try:
        return services.system_accepting_reports(slug=slug)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


@csrf_protect
@require_http_methods(["GET", "POST"])
def report_public(request, slug):
    """Report a problem with, or appeal a decision of, one AI system; no account needed."""
    system = _public_system(slug)
    attributes = services.sensitive_attributes(system)
    status = 200
    if request.method == "POST":
        form = PublicReportForm(request.POST, attributes=attributes)
        try:
            body_bound(request)
            throttle = PublicReportThrottle()
            if not throttle.allow_request(request, None):
                raise _TooMany(TOO_FREQUENT.format(wait=wait_seconds(throttle)), field="body")
            if not form.is_valid():
                raise ApplicationError(form_error(form))
            data = form.cleaned_data
            report, reference = services.public_report_submit(
                system=system, kind=data["kind"], text=data["text"], stamp=data["stamp"], honeypot=data["website"],
                version=data["version"], decision_reference=data["decision_reference"],
                sensitive_attribute=data["sensitive_attribute"], sensitive_group=data["sensitive_group"])
        except ApplicationError as exc:
            status = exc.status_code
            error = exc.message
        else:
            # The reference is shown once, on this page; it is not kept anywhere it could be read back.
            return render(request, "incidents/public_received.html", {"system": system, "report": report,
                                                                       "reference": reference}, status=201)
        # Shown again as typed, with a fresh stamp to send it with.
        data = request.POST.copy()
        data["stamp"] = stamp_issue(system_slug=system.slug, now=timezone.now())
        return render(request, "incidents/public_report.html", {
            "system": system, "form": PublicReportForm(data, attributes=attributes), "error": error,
            "attributes": attributes}, status=status)
    form = PublicReportForm(attributes=attributes,
                            initial={"stamp": stamp_issue(system_slug=system.slug, now=timezone.now())})
    return render(request, "incidents/public_report.html", {"system": system, "form": form, "attributes": attributes},
                  status=status)


class _TooMany(ApplicationError):
    status_code = 429


@csrf_protect
@require_http_methods(["GET", "POST"])
def report_public_status(request, slug):
    """Follow a report by its reference (sent in a form, so it stays out of addresses and logs)."""
    system = _public_system(slug)
    report, error, status = None, "", 200
    form = FollowForm(request.POST or None)
    if request.method == "POST":
        try:
            body_bound(request)
            throttle = PublicStatusThrottle()
            if not throttle.allow_request(request, None):
                raise _TooMany(TOO_FREQUENT.format(wait=wait_seconds(throttle)), field="reference")
            if not form.is_valid():
                raise ApplicationError(form_error(form))
            report = services.public_report_by_reference(system_slug=system.slug,
                                                         reference=form.cleaned_data["reference"].strip())
        except ApplicationError as exc:
            error, status = exc.message, exc.status_code
    return render(request, "incidents/public_status.html", {"system": system, "form": form, "report": report,
                                                             "error": error}, status=status)


# ------------------------------------------------------------------ inside


@role_required
def incident_list(request, slug):
    system = get_object_or_404(AISystem, slug=slug)
    incidents = list(selectors.incidents_for_system(system=system, user=request.user,
                                                    status=request.GET.get("status", "")))
    return render(request, "incidents/incident_list.html", {
        "system": system, "incidents": incidents, "status": request.GET.get("status", ""),
        "reports": list(selectors.public_reports_for_system(system=system, user=request.user)[:50]),
        "feedback": selectors.system_appeal_figures(system=system),
        "can_manage": can(request.user, "incident.manage", system), "answer_form": AnswerForm()})


@role_required
@require_http_methods(["GET", "POST"])
def incident_new(request, slug):
    system = get_object_or_404(AISystem, slug=slug)
    if not can(request.user, "incident.manage", system):
        raise PermissionDenied("Only the system's owner, a compliance or a risk officer may open an incident.")
    form = IncidentForm(request.POST or None, system=system)
    status = 200
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise ApplicationError(form_error(form))
            data = form.cleaned_data
            incident = services.incident_open(
                actor=request.user, system=system, title=data["title"], description=data["description"],
                severity=data["severity"], versions=list(system.versions.filter(pk__in=data["versions"])),
                environments=data["environments"], serious=data["serious"],
                serious_category=data["serious_category"], occurred_at=data["occurred_at"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = exc.status_code
        else:
            messages.success(request, f"{incident.reference} opened.")
            return redirect("incident-detail", number=incident.pk)
    return render(request, "incidents/incident_new.html", {"system": system, "form": form}, status=status)


@role_required
def incident_detail(request, number):
    incident = selectors.incident_get(pk=number, user=request.user)
    manage = can(request.user, "incident.manage", incident.system)
    return render(request, "incidents/incident_detail.html", {
        "incident": incident, "system": incident.system, "can_manage": manage and incident.is_open,
        "can_export": can(request.user, "incident.export", incident.system),
        "next_statuses": [(s, IncidentStatus(s).label) for s in sorted(TRANSITIONS[incident.status])], "events": incident.events.all(),
        "deadlines": incident.deadlines.all(), "now": timezone.now(),
        "details_form": DetailsForm(initial={"owner": incident.owner_id, "severity": incident.severity,
                                             "root_cause": incident.root_cause,
                                             "corrective_action": incident.corrective_action,
                                             "corrective_notes": incident.corrective_notes}),
        "note_form": NoteForm(), "serious_form": SeriousForm(initial={"category": incident.serious_category})})


ACTIONS = {"transition": TransitionForm, "details": DetailsForm, "serious": SeriousForm, "note": NoteForm}


@role_required
@require_http_methods(["POST"])
def incident_act(request, number, action):
    """One form of the incident page: a status step, the details, seriousness, a note, a deadline met."""
    incident = selectors.incident_get(pk=number, user=request.user, action="incident.manage")
    try:
        if action == "reported":
            deadline = get_object_or_404(ReportingDeadline, pk=request.POST.get("deadline", "0") or 0,
                                         incident=incident)
            services.deadline_mark_reported(actor=request.user, deadline=deadline)
        elif action in ACTIONS:
            form = ACTIONS[action](request.POST)
            if not form.is_valid():
                raise ApplicationError(form_error(form))
            data = form.cleaned_data
            if action == "transition":
                services.incident_transition(actor=request.user, incident=incident, to=data["to"], note=data["note"])
            elif action == "details":
                services.incident_update(actor=request.user, incident=incident, **data)
            elif action == "serious":
                services.incident_set_serious(actor=request.user, incident=incident, serious=data["serious"],
                                              category=data["category"], reason=data["reason"])
            else:
                services.incident_note(actor=request.user, incident=incident, text=data["text"])
        else:
            raise Http404("No such action")
    except PermissionDeniedError:
        raise  # a refusal is the 403 page (core/middleware.py), not a message on the incident
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Recorded on the incident's timeline.")
    return redirect("incident-detail", number=incident.pk)


@role_required
def incident_regulator(request, number):
    """The facts of an Article 73 report, printable; ?format=json for the same as JSON."""
    incident = selectors.incident_get(pk=number, user=request.user, action="incident.export")
    facts = selectors.regulator_facts(incident=incident)
    if request.GET.get("format") == "json":
        return JsonResponse(facts, json_dumps_params={"indent": 2})
    return render(request, "incidents/regulator.html", {"incident": incident, "facts": facts,
                                                        "system": incident.system})


@role_required
@require_http_methods(["POST"])
def public_report_answer(request, pk):
    report = get_object_or_404(PublicReport.objects.select_related("system"), pk=pk)
    if not can(request.user, "incident.manage", report.system):
        raise PermissionDenied("Only the system's owner, a compliance or a risk officer may answer reports.")
    form = AnswerForm(request.POST)
    try:
        if request.POST.get("escalate"):
            incident = services.public_report_escalate(actor=request.user, report=report)
            messages.success(request, f"{incident.reference} opened from the report.")
            return redirect("incident-detail", number=incident.pk)
        if not form.is_valid():
            raise ApplicationError(form_error(form))
        services.public_report_answer(actor=request.user, report=report, answer=form.cleaned_data["answer"],
                                      outcome=form.cleaned_data["outcome"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Answered; the sender reads it with their reference.")
    return redirect("incident-list", slug=report.system.slug)
