"""Incidents: open (by hand, from a drift breach or a failed audit, from an outside report),
walk the status through to closure, record root cause and corrective action, start the
reporting clock of a serious incident and remind before each deadline; and the public intake.

Every change is an IncidentEvent (the incident's own timeline, append-only) and a trail row,
in one transaction. Messages leave only once that transaction has committed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.core.exceptions import ApplicationError, ConflictError, NotFoundError
from governance.core.roles import Role, require, user_roles
from governance.incidents import clocks
from governance.incidents.intake import stamp_check, stamp_spend
from governance.incidents.models import (
    TRANSITIONS,
    AppealOutcome,
    CorrectiveAction,
    DeadlineReminder,
    Incident,
    IncidentEvent,
    IncidentSource,
    IncidentStatus,
    PublicReport,
    ReportingDeadline,
    ReportKind,
    ReportStatus,
    TEXT_MAX,
    TEXT_MIN,
    SeriousCategory,
    Severity,
)
from governance.notifications.services import notify
from governance.policies.models import Environment
from governance.registry.models import AISystem, ModelVersion
from governance.registry.uploads import validation_error
from governance.trail.services import actor_label, trail_append

log = logging.getLogger(__name__)

BAD_SEVERITY = "severity must be one of: {choices}."
BAD_CATEGORY = "serious_category must be one of: {choices}."
NEEDS_CATEGORY = "serious_category: a serious incident needs its Article 73 category (death, widespread or other)."
BAD_ENVIRONMENT = "environments: each must be one of: {choices}."
OTHER_SYSTEM_VERSION = "versions: {label} is not a version of {system}."
NEEDS_TITLE = "title: say in a few words what happened."
NEEDS_DESCRIPTION = "description: describe what happened and whom it affected."
BAD_TRANSITION = "status: an incident that is {current} cannot become {to}; next: {allowed}."
CLOSE_NEEDS = "{field}: record the {what} before closing the incident."
BAD_ACTION = "corrective_action must be one of: {choices}."
OWNER_INACTIVE = "owner: {name} cannot own an incident: the account is inactive or may not manage incidents."
AWARE_IN_FUTURE = "aware_at: the moment you became aware cannot be in the future."
OCCURRED_AFTER_AWARE = "occurred_at: the incident cannot have occurred after you became aware of it."
ALREADY_REPORTED = "This deadline was met already: reported on {when}."
CLOSED = "The incident is closed; open a new one for what happened since."
NOTE_EMPTY = "text: write the note."
# The public intake.
NOT_ACCEPTING = "No system {slug!r} takes reports here."
BAD_KIND = "kind must be one of: problem, appeal."
UNKNOWN_VERSION = "version: {system} has no version {label!r}."
BAD_ATTRIBUTE = "sensitive_attribute must be one of the characteristics this system records: {choices}."
NO_ATTRIBUTES = "sensitive_attribute: this system records no sensitive characteristics; leave it empty."
BAD_GROUP = "sensitive_group: up to 40 letters, digits, spaces and . , ' - (for example 'female' or '25-34')."
GROUP_WITHOUT_ATTRIBUTE = "sensitive_group: choose the characteristic it belongs to (sensitive_attribute) first."
BAD_DECISION_REF = "decision_reference: up to 100 letters, digits and - _ . / : # (as printed on the decision)."
TEXT_LENGTH = "text: write between {low} and {high} characters (you wrote {n})."
APPEAL_NEEDS_REF = "decision_reference: an appeal names the decision it appeals (the reference on the letter or screen)."
UNKNOWN_REFERENCE = "No report with this reference for this system."
BAD_OUTCOME = "outcome must be one of: upheld, overturned (for an appeal); empty for a problem report."
OUTCOME_NEEDED = "outcome: say whether the decision was upheld or overturned."
ANSWER_EMPTY = "answer: write the answer the sender will read."
ANSWERED = "This report was answered already ({when})."

GROUP_RE = re.compile(r"^[\w .,'-]{1,40}$")
DECISION_RE = re.compile(r"^[A-Za-z0-9_.:/#-]{1,100}$")
INCIDENT_MANAGERS = (Role.COMPLIANCE_OFFICER, Role.RISK_OFFICER, Role.ADMIN)


def _user(actor) -> AbstractBaseUser | None:
    return actor if isinstance(actor, AbstractBaseUser) else None


def _require(actor, action: str, system) -> None:
    """People need the role; the platform itself ("audit:drift", "worker", "public") acts by its rules."""
    if _user(actor) is not None:
        require(actor, action, system)


def _event(incident: Incident, *, actor, kind: str, text: str, now, data: dict | None = None) -> IncidentEvent:
    event = IncidentEvent(incident=incident, at=now, actor=actor_label(actor), kind=kind, text=text[:10000],
                          data=data or {})
    event.save()
    trail_append(actor=actor, action=f"incident.{kind}", obj=incident,
                 payload={"incident": incident.reference, "text": event.text, **(data or {})})
    return event


def _full_clean(obj, **kwargs) -> None:
    try:
        obj.full_clean(**kwargs)
    except ValidationError as exc:
        raise validation_error(exc) from None


def _may_manage(user) -> bool:
    return bool(user and user.is_active and user_roles(user) & {Role.MODEL_OWNER, *INCIDENT_MANAGERS})


# ------------------------------------------------------------------ opening


def incident_open(*, actor, system: AISystem, title: str, description: str, severity: str = Severity.MEDIUM,
                  versions: list[ModelVersion] = (), environments: list[str] = (), serious: bool = False,
                  serious_category: str = "", owner=None, occurred_at: datetime | None = None,
                  aware_at: datetime | None = None, source: str = IncidentSource.MANUAL, audit_run=None,
                  now: datetime | None = None) -> Incident:
    """Open an incident. By hand: the owner of the system, a compliance or risk officer."""
    _require(actor, "incident.manage", system)
    now = now or timezone.now()
    aware_at = aware_at or now
    if severity not in Severity.values:
        raise ApplicationError(BAD_SEVERITY.format(choices=", ".join(Severity.values)), field="severity")
    if not (title or "").strip():
        raise ApplicationError(NEEDS_TITLE, field="title")
    if not (description or "").strip():
        raise ApplicationError(NEEDS_DESCRIPTION, field="description")
    environments = list(dict.fromkeys(environments))
    if set(environments) - set(Environment.values):
        raise ApplicationError(BAD_ENVIRONMENT.format(choices=", ".join(Environment.values)), field="environments")
    for v in versions:
        if v.system_id != system.pk:
            raise ApplicationError(OTHER_SYSTEM_VERSION.format(label=v.version, system=system.slug), field="versions")
    if aware_at > now:
        raise ApplicationError(AWARE_IN_FUTURE, field="aware_at")
    if occurred_at and occurred_at > aware_at:
        raise ApplicationError(OCCURRED_AFTER_AWARE, field="occurred_at")
    owner = owner or system.owner
    if not _may_manage(owner):
        raise ApplicationError(OWNER_INACTIVE.format(name=owner.get_username()), field="owner")
    if serious:
        _check_category(serious_category)
    incident = Incident(system=system, title=title.strip()[:200], description=description.strip(), severity=severity,
                        environments=environments, owner=owner, source=source, audit_run=audit_run,
                        occurred_at=occurred_at, aware_at=aware_at, opened_by=actor_label(actor))
    _full_clean(incident, exclude=["audit_run"])
    with transaction.atomic():
        incident.save()
        incident.versions.set(versions)
        _event(incident, actor=actor, kind="opened", now=now, text=f"Opened ({incident.get_source_display()}): "
               f"{incident.title}", data={"source": source, "severity": severity, "environments": environments,
                                          "versions": [v.version for v in versions],
                                          "run": str(audit_run.pk) if audit_run else None})
        if serious:
            _start_clock(incident, actor=actor, category=serious_category, now=now)
        _notify_later(incident, "incident.opened", f"Incident {incident.reference} opened: {incident.title}")
    return incident


def _check_category(category: str) -> None:
    if not category:
        raise ApplicationError(NEEDS_CATEGORY, field="serious_category")
    if category not in SeriousCategory.values:
        raise ApplicationError(BAD_CATEGORY.format(choices=", ".join(SeriousCategory.values)), field="serious_category")


def version_allowed_in_production(version: ModelVersion) -> bool:
    """Was the version allowed to ship to production: the gate once answered allow there, or a
    production approval was granted (it may be revoked by now: by the very breach, say).

    Read through the reverse relations the gate and the approvals keep on the version, so this
    app (below them) names neither."""
    env = Environment.PRODUCTION
    return (version.gate_states.filter(environment=env, first_allowed_at__isnull=False).exists()
            or version.approval_requests.filter(environment=env, approved_at__isnull=False).exists())


def incident_open_for_run(*, run, version: ModelVersion, source: str, reason: str,
                          now: datetime | None = None) -> Incident | None:
    """The incident of a drift breach or a failed audit on a version allowed in production;
    None for any other version. Once per run: the same run (a redelivered breach, or the
    breach's own audit_finished) finds the incident it opened."""
    existing = Incident.objects.filter(audit_run=run).first()
    if existing is not None:
        return existing
    if not version_allowed_in_production(version):
        return None
    system = version.system
    serious = system.risk_tier in settings.INCIDENT_AUTO_SERIOUS_TIERS
    what = "Drift breach" if source == IncidentSource.DRIFT else f"Failed {run.kind} audit"
    try:
        with transaction.atomic():
            return incident_open(
                actor=f"audit:{run.kind}", system=system, title=f"{what} on {version.version} in production",
                description=reason + (" Opened as serious: the system is "
                                      f"{system.get_risk_tier_display().lower()} risk (INCIDENT_AUTO_SERIOUS_TIERS); "
                                      "a person decides whether it is." if serious else ""),
                severity=Severity.HIGH, versions=[version], environments=[Environment.PRODUCTION],
                serious=serious, serious_category=SeriousCategory.OTHER if serious else "", source=source,
                audit_run=run, now=now)
    except IntegrityError:  # a concurrent delivery of the same run won
        return Incident.objects.filter(audit_run=run).first()


# ------------------------------------------------------------------ the walk to closure


def incident_transition(*, actor, incident: Incident, to: str, note: str = "",
                        now: datetime | None = None) -> Incident:
    _require(actor, "incident.manage", incident.system)
    now = now or timezone.now()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        allowed = TRANSITIONS.get(incident.status, set())
        if to not in allowed:
            raise ConflictError(BAD_TRANSITION.format(current=incident.status, to=to,
                                                      allowed=", ".join(sorted(allowed)) or "none (closed is final)"),
                                extra={"field": "status"})
        if to == IncidentStatus.CLOSED:
            if not incident.root_cause.strip():
                raise ApplicationError(CLOSE_NEEDS.format(field="root_cause", what="root cause"), field="root_cause")
            if not incident.corrective_action:
                raise ApplicationError(CLOSE_NEEDS.format(field="corrective_action", what="corrective action"),
                                       field="corrective_action")
        previous = incident.status
        incident.status = to
        incident.closed_at = now if to == IncidentStatus.CLOSED else None
        incident.save(update_fields=["status", "closed_at"])
        _event(incident, actor=actor, kind="status", now=now,
               text=f"{IncidentStatus(previous).label} -> {IncidentStatus(to).label}" + (f": {note}" if note else ""),
               data={"from": previous, "to": to})
    return incident


def incident_update(*, actor, incident: Incident, now: datetime | None = None, **changes) -> Incident:
    """Change the owner, severity, root cause or corrective action; one event per field changed."""
    _require(actor, "incident.manage", incident.system)
    now = now or timezone.now()
    allowed = {"owner", "severity", "root_cause", "corrective_action", "corrective_notes"}
    unknown = set(changes) - allowed
    if unknown:
        raise ApplicationError(f"{sorted(unknown)[0]}: cannot be changed here.", field=sorted(unknown)[0])
    if "severity" in changes and changes["severity"] not in Severity.values:
        raise ApplicationError(BAD_SEVERITY.format(choices=", ".join(Severity.values)), field="severity")
    if changes.get("corrective_action") and changes["corrective_action"] not in CorrectiveAction.values:
        raise ApplicationError(BAD_ACTION.format(choices=", ".join(CorrectiveAction.values)), field="corrective_action")
    if "owner" in changes and not _may_manage(changes["owner"]):
        owner = changes["owner"]
        raise ApplicationError(OWNER_INACTIVE.format(name=owner.get_username() if owner else "nobody"), field="owner")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if not incident.is_open:
            raise ConflictError(CLOSED)
        changed = []
        for name, value in changes.items():
            if name in ("root_cause", "corrective_notes"):
                value = (value or "").strip()
            if getattr(incident, name) != value:
                setattr(incident, name, value)
                changed.append(name)
        if not changed:
            return incident
        _full_clean(incident, exclude=["audit_run", "versions"])
        incident.save(update_fields=changed)
        for name in changed:
            value = getattr(incident, name)
            shown = value.get_username() if name == "owner" else str(value)
            _event(incident, actor=actor, kind=name, now=now, text=f"{name.replace('_', ' ').capitalize()}: {shown}",
                   data={name: shown})
    return incident


def incident_note(*, actor, incident: Incident, text: str, now: datetime | None = None) -> IncidentEvent:
    _require(actor, "incident.manage", incident.system)
    if not (text or "").strip():
        raise ApplicationError(NOTE_EMPTY, field="text")
    with transaction.atomic():
        return _event(incident, actor=actor, kind="note", text=text.strip(), now=now or timezone.now())


# ------------------------------------------------------------------ serious incidents and their clock


def incident_set_serious(*, actor, incident: Incident, serious: bool, category: str = "", reason: str = "",
                         now: datetime | None = None) -> Incident:
    """Mark an incident serious (its reporting clock starts from `aware_at`) or not serious (the
    deadlines not yet met are withdrawn, with the reason on the timeline)."""
    _require(actor, "incident.manage", incident.system)
    now = now or timezone.now()
    if serious:
        _check_category(category)
    elif not (reason or "").strip():
        raise ApplicationError("reason: say why the incident is not serious.", field="reason")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if serious:
            _start_clock(incident, actor=actor, category=category, now=now)
        elif incident.serious:
            withdrawn = list(incident.deadlines.filter(reported_at__isnull=True).values_list("jurisdiction", flat=True))
            incident.deadlines.filter(reported_at__isnull=True).delete()
            incident.serious, incident.serious_category = False, ""
            incident.save(update_fields=["serious", "serious_category"])
            _event(incident, actor=actor, kind="not_serious", now=now, text=f"Not a serious incident: {reason.strip()}",
                   data={"withdrawn": withdrawn})
    return incident


def _start_clock(incident: Incident, *, actor, category: str, now) -> list[ReportingDeadline]:
    """Create (or, for a changed category, move) one deadline per jurisdiction and its reminders."""
    try:
        planned = clocks.deadlines(category=category, aware_at=incident.aware_at, table=settings.INCIDENT_DEADLINES)
    except ValueError as exc:
        raise ApplicationError(str(exc), field="serious_category") from None
    incident.serious, incident.serious_category = True, category
    incident.save(update_fields=["serious", "serious_category"])
    rows = []
    for d in planned:
        row, _ = ReportingDeadline.objects.update_or_create(
            incident=incident, jurisdiction=d.jurisdiction,
            defaults={"category": d.category, "days": d.days, "legal_basis": d.legal_basis, "starts_at": d.starts_at,
                      "due_at": d.due_at})
        row.reminders.filter(sent_at__isnull=True).delete()
        for hours, send_at in clocks.reminder_times(due_at=d.due_at, starts_at=d.starts_at,
                                                    hours_before=settings.INCIDENT_REMINDER_HOURS):
            DeadlineReminder.objects.get_or_create(deadline=row, hours_before=hours, defaults={"send_at": send_at})
        rows.append(row)
    _event(incident, actor=actor, kind="serious", now=now,
           text=f"Serious incident ({SeriousCategory(category).label}); report by "
                + "; ".join(f"{r.due_at:%Y-%m-%d %H:%M} UTC ({r.jurisdiction}, {r.legal_basis})" for r in rows),
           data={"category": category, "deadlines": {r.jurisdiction: r.due_at.isoformat() for r in rows}})
    return rows


def deadline_mark_reported(*, actor, deadline: ReportingDeadline, now: datetime | None = None) -> ReportingDeadline:
    """The report went to the authority: the deadline is met and its reminders stop."""
    incident = deadline.incident
    _require(actor, "incident.manage", incident.system)
    now = now or timezone.now()
    with transaction.atomic():
        updated = ReportingDeadline.objects.filter(pk=deadline.pk, reported_at__isnull=True).update(
            reported_at=now, reported_by=actor_label(actor))
        deadline.refresh_from_db()
        if not updated:
            raise ConflictError(ALREADY_REPORTED.format(when=f"{deadline.reported_at:%Y-%m-%d}"))
        late = now > deadline.due_at
        _event(incident, actor=actor, kind="reported", now=now,
               text=f"Reported to the {deadline.jurisdiction} authority" + (" (after the deadline)" if late else ""),
               data={"jurisdiction": deadline.jurisdiction, "due_at": deadline.due_at.isoformat(), "late": late})
    return deadline


def _recipients(incident: Incident) -> list[str]:
    """The incident's owner and every active compliance officer."""
    User = get_user_model()
    users = set(User.objects.filter(is_active=True, groups__name=Role.COMPLIANCE_OFFICER))
    if incident.owner is not None:
        users.add(incident.owner)
    return sorted({u.email for u in users if u.email})


def _body(incident: Incident, event: str, extra: dict | None = None) -> dict:
    return {"event": event, "incident": {"reference": incident.reference, "title": incident.title,
                                         "system": incident.system.slug, "status": incident.status,
                                         "serious": incident.serious, "url": _url(incident)}, **(extra or {})}


def _url(incident: Incident) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/incidents/{incident.pk}/"


def _notify_later(incident: Incident, event: str, subject: str, extra: dict | None = None) -> None:
    def send():
        notify(event=event, subject=subject, recipients=_recipients(incident), urls=[],
               text=f"{subject}\n\n{incident.description}\n\n{_url(incident)}\n", body=_body(incident, event, extra))

    transaction.on_commit(send, robust=True)


def reminders_send(*, now: datetime | None = None) -> int:
    """Send every reminder whose time has come, each once: a reminder is claimed by the one
    UPDATE that sets its sent_at, so two beat runs (or two workers) never both send it. A
    deadline already met sends nothing. Returns how many were sent."""
    now = now or timezone.now()
    due = (DeadlineReminder.objects.filter(sent_at__isnull=True, send_at__lte=now, deadline__reported_at__isnull=True)
           .select_related("deadline__incident__system", "deadline__incident__owner").order_by("send_at"))
    sent = 0
    for reminder in due:
        with transaction.atomic():
            if not DeadlineReminder.objects.filter(pk=reminder.pk, sent_at__isnull=True).update(sent_at=now):
                continue  # another sender claimed it
            deadline, incident = reminder.deadline, reminder.deadline.incident
            left = deadline.due_at - now
            hours = max(0, int(left.total_seconds() // 3600))
            subject = (f"Report {incident.reference} to the {deadline.jurisdiction} authority by "
                       f"{deadline.due_at:%Y-%m-%d %H:%M} UTC ({hours} h left)")
            _event(incident, actor="system", kind="reminder", now=now, text=subject,
                   data={"jurisdiction": deadline.jurisdiction, "hours_before": reminder.hours_before})
            _notify_later(incident, "incident.deadline", subject, {"deadline": {
                "jurisdiction": deadline.jurisdiction, "due_at": deadline.due_at.isoformat(),
                "legal_basis": deadline.legal_basis, "hours_before": reminder.hours_before}})
            sent += 1
    return sent


# ------------------------------------------------------------------ the public intake


def system_accepting_reports(*, slug: str) -> AISystem:
    """Every registered system takes reports, except a retired one: people affected by a
    decision must be able to appeal it without the owner having to remember to opt in."""
    system = AISystem.objects.filter(slug=slug).exclude(lifecycle_stage="retired").first()
    if system is None:
        raise NotFoundError(NOT_ACCEPTING.format(slug=slug[:80]))
    return system


def sensitive_attributes(system: AISystem) -> list[str]:
    """The sensitive characteristics the system's datasets declare (schema["sensitive"])."""
    names = set()
    for schema in system.datasets.values_list("schema", flat=True):
        names.update(str(n) for n in (schema or {}).get("sensitive") or [])
    return sorted(names)


def reference_hash(reference: str) -> str:
    return hashlib.sha256(reference.encode("utf-8")).hexdigest()


def public_report_submit(*, system: AISystem, kind: str, text: str, stamp: str, honeypot: str = "",
                         version: str = "", decision_reference: str = "", sensitive_attribute: str = "",
                         sensitive_group: str = "", now: datetime | None = None) -> tuple[PublicReport, str]:
    """Take a report or an appeal from outside; return it and the reference its sender keeps
    (shown once, stored only as its hash). Everything is checked before anything is written."""
    now = now or timezone.now()
    nonce = stamp_check(stamp=stamp, system_slug=system.slug, honeypot=honeypot, now=now)
    if kind not in ReportKind.values:
        raise ApplicationError(BAD_KIND, field="kind")
    text = (text or "").strip()
    if not TEXT_MIN <= len(text) <= TEXT_MAX:
        raise ApplicationError(TEXT_LENGTH.format(low=TEXT_MIN, high=TEXT_MAX, n=len(text)), field="text")
    found = None
    if version:
        found = ModelVersion.objects.filter(system=system, version=version[:64]).first()
        if found is None:
            raise ApplicationError(UNKNOWN_VERSION.format(system=system.name, label=version[:64]), field="version")
    decision_reference = (decision_reference or "").strip()
    if decision_reference and not DECISION_RE.match(decision_reference):
        raise ApplicationError(BAD_DECISION_REF, field="decision_reference")
    if kind == ReportKind.APPEAL and not decision_reference:
        raise ApplicationError(APPEAL_NEEDS_REF, field="decision_reference")
    sensitive_attribute, sensitive_group = (sensitive_attribute or "").strip(), (sensitive_group or "").strip()
    if sensitive_attribute:
        declared = sensitive_attributes(system)
        if not declared:
            raise ApplicationError(NO_ATTRIBUTES, field="sensitive_attribute")
        if sensitive_attribute not in declared:
            raise ApplicationError(BAD_ATTRIBUTE.format(choices=", ".join(declared)), field="sensitive_attribute")
    if sensitive_group:
        if not sensitive_attribute:
            raise ApplicationError(GROUP_WITHOUT_ATTRIBUTE, field="sensitive_group")
        if not GROUP_RE.match(sensitive_group):
            raise ApplicationError(BAD_GROUP, field="sensitive_group")
    reference = secrets.token_urlsafe(18)  # 144 bits: not guessed, not enumerated
    report = PublicReport(system=system, version=found, kind=kind, text=text, decision_reference=decision_reference,
                          sensitive_attribute=sensitive_attribute, sensitive_group=sensitive_group.lower(),
                          reference_hash=reference_hash(reference))
    _full_clean(report)
    stamp_spend(nonce)
    with transaction.atomic():
        report.save()
        trail_append(actor="public", action=f"public_report.{kind}", obj=report,
                     payload={"kind": kind, "version": found.version if found else None,
                              "sensitive_attribute": sensitive_attribute or None})
        transaction.on_commit(lambda: _report_notify(report), robust=True)
    return report, reference


def _report_notify(report: PublicReport) -> None:
    User = get_user_model()
    users = set(User.objects.filter(is_active=True, groups__name=Role.COMPLIANCE_OFFICER))
    users.add(report.system.owner)
    recipients = sorted({u.email for u in users if u.email} | ({settings.REPORT_CONTACT} - {""}))
    subject = f"New {report.get_kind_display().lower()} about {report.system.name}"
    # The sender's text stays out of the email: it is read on the page, escaped, by someone signed in.
    notify(event="public_report.received", subject=subject, recipients=recipients, urls=[],
           text=f"{subject}.\n\n{settings.SITE_URL.rstrip('/')}/systems/{report.system.slug}/incidents/\n",
           body={"event": "public_report.received", "system": report.system.slug, "kind": report.kind,
                 "id": str(report.pk)})


def public_report_by_reference(*, system_slug: str, reference: str) -> PublicReport:
    """The report of `system_slug` with this reference; the same 404 for an unknown reference
    and for one of another system, so a reference never says whether it exists elsewhere."""
    report = (PublicReport.objects.select_related("system")
              .filter(system__slug=system_slug, reference_hash=reference_hash(reference or "")).first())
    if report is None:
        raise NotFoundError(UNKNOWN_REFERENCE)
    return report


def public_report_answer(*, actor, report: PublicReport, answer: str, outcome: str = "",
                         now: datetime | None = None) -> PublicReport:
    """Answer a report; an appeal's answer says whether the decision was upheld or overturned
    (the overturn rate, MEASURE 3.3)."""
    _require(actor, "incident.manage", report.system)
    now = now or timezone.now()
    answer = (answer or "").strip()
    if not answer:
        raise ApplicationError(ANSWER_EMPTY, field="answer")
    if report.kind == ReportKind.APPEAL:
        if not outcome:
            raise ApplicationError(OUTCOME_NEEDED, field="outcome")
        if outcome not in AppealOutcome.values:
            raise ApplicationError(BAD_OUTCOME, field="outcome")
    elif outcome:
        raise ApplicationError(BAD_OUTCOME, field="outcome")
    with transaction.atomic():
        locked = PublicReport.objects.select_for_update().get(pk=report.pk)
        if locked.status == ReportStatus.ANSWERED:
            raise ConflictError(ANSWERED.format(when=f"{locked.answered_at:%Y-%m-%d}"))
        locked.answer, locked.outcome, locked.status = answer, outcome, ReportStatus.ANSWERED
        locked.answered_at, locked.answered_by = now, actor_label(actor)
        _full_clean(locked)
        locked.save()
        trail_append(actor=actor, action="public_report.answered", obj=locked,
                     payload={"kind": locked.kind, "outcome": outcome or None})
    return locked


def public_report_escalate(*, actor, report: PublicReport, now: datetime | None = None) -> Incident:
    """Open an incident from a report (its text becomes the description, still shown escaped)."""
    _require(actor, "incident.manage", report.system)
    if report.incident_id:
        return report.incident
    with transaction.atomic():
        incident = incident_open(
            actor=actor, system=report.system, title=f"{report.get_kind_display()} from outside",
            description=report.text, versions=[report.version] if report.version else [],
            environments=[Environment.PRODUCTION], source=IncidentSource.REPORT, aware_at=report.created_at, now=now)
        PublicReport.objects.filter(pk=report.pk).update(incident=incident, status=ReportStatus.IN_REVIEW)
        trail_append(actor=actor, action="public_report.escalated", obj=report, payload={"incident": incident.reference})
    return incident
