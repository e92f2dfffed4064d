"""Reads: incidents a person may see, the panel of the system page, the gate's one query,
the regulator's facts, the appeal figures and the report's section."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, Q

from audits.drift.selectors import production_rows_by_version
from governance.core.exceptions import NotFoundError
from governance.core.roles import PERMISSIONS, can, require, user_roles
from governance.incidents.feedback import Appeal, appeal_figures
from governance.incidents.models import (
    Incident,
    IncidentStatus,
    PublicReport,
    ReportKind,
    ReportStatus,
)
from governance.registry.models import AISystem

NO_INCIDENT = "No such incident."


def incident_get(*, pk, user, action: str = "incident.view") -> Incident:
    """The incident, if `user` may read it (a 403 names the roles; the same 404 for an unknown id)."""
    require(user, action)  # no system given: is the role one that may, for any system?
    incident = (Incident.objects.select_related("system__owner", "owner", "audit_run")
                .prefetch_related("versions", "events", "deadlines__reminders", "reports").filter(pk=pk).first())
    if incident is None:
        raise NotFoundError(NO_INCIDENT)
    require(user, action, incident.system)
    return incident


def incidents_for_system(*, system: AISystem, user, status: str = ""):
    require(user, "incident.view", system)
    rows = Incident.objects.filter(system=system).select_related("owner").prefetch_related("versions", "deadlines")
    if status == "open":
        rows = rows.exclude(status=IncidentStatus.CLOSED)
    elif status:
        rows = rows.filter(status=status)
    return rows


def incidents_visible(*, user):
    """Every incident of the systems `user` may read incidents of (an owner: their own)."""
    require(user, "incident.view")
    rows = Incident.objects.select_related("system", "owner").prefetch_related("versions")
    if not user_roles(user) & PERMISSIONS["incident.view"]:  # let in as a system's owner only: their own
        rows = rows.filter(system__owner=user)
    return rows


def public_reports_for_system(*, system: AISystem, user):
    require(user, "incident.view", system)
    return PublicReport.objects.filter(system=system).select_related("version", "incident")


def open_serious_incidents(*, version_ids: list) -> dict:
    """{version_id: [open serious Incident, oldest first]}: the gate's one extra statement."""
    if not version_ids:
        return {}
    through = Incident.versions.through
    out: dict = {}
    rows = (through.objects.filter(modelversion_id__in=version_ids, incident__serious=True)
            .exclude(incident__status=IncidentStatus.CLOSED).select_related("incident")
            .order_by("incident__opened_at", "incident_id"))
    for link in rows:
        out.setdefault(link.modelversion_id, []).append(link.incident)
    return out


def system_appeal_figures(*, system: AISystem) -> dict:
    appeals = [Appeal(version=v or "", attribute=a, group=g, outcome=o) for v, a, g, o in
               PublicReport.objects.filter(system=system, kind=ReportKind.APPEAL)
               .values_list("version__version", "sensitive_attribute", "sensitive_group", "outcome")]
    return appeal_figures(appeals, decisions=production_rows_by_version(system=system))


def system_incidents_panel(*, system: AISystem, user) -> dict:
    """What the system page shows: open incidents, unanswered reports, appeal figures."""
    if not can(user, "incident.view", system):
        return {"visible": False}
    incidents = list(Incident.objects.filter(system=system).exclude(status=IncidentStatus.CLOSED)
                     .prefetch_related("versions", "deadlines")[:10])
    waiting = PublicReport.objects.filter(system=system).exclude(status=ReportStatus.ANSWERED).count()
    return {"visible": True, "incidents": incidents, "waiting_reports": waiting,
            "feedback": system_appeal_figures(system=system),
            "can_manage": can(user, "incident.manage", system)}


def report_section(report) -> dict | None:
    """The signed report's section on feedback and incidents (registered in receivers.py)."""
    system = report.system
    figures = system_appeal_figures(system=system)
    incidents = list(Incident.objects.filter(system=system).filter(Q(versions=report.version) | Q(versions=None))
                     .distinct().prefetch_related(Prefetch("deadlines")))
    return {"id": "feedback", "title": "Incidents, feedback and appeals (MANAGE 4.1, MEASURE 3.3)",
            "template": "incidents/report_section.html",
            "context": {"figures": figures, "incidents": incidents, "version": report.version.version}}


def regulator_facts(*, incident: Incident) -> dict:
    """The facts a serious-incident report to a market surveillance authority asks for (Art. 73
    of Regulation (EU) 2024/1689 and the Commission's reporting template): who provides the
    system, which system and versions, what happened and when, the deadline applied, what was
    done, and whom to contact. Dates are ISO 8601 in UTC."""
    system = incident.system
    deadlines = list(incident.deadlines.all())
    return {
        "reference": incident.reference,
        "provider": {"name": settings.REPORT_ORGANISATION,
                     "contact": settings.REPORT_CONTACT or settings.DEFAULT_FROM_EMAIL},
        "system": {"name": system.name, "slug": system.slug, "purpose": system.purpose,
                   "intended_use": system.intended_use, "risk_tier": system.risk_tier},
        "versions": [{"version": v.version, "artifact_sha256": v.artifact_sha256} for v in incident.versions.all()],
        "environments": incident.environments,
        "incident": {"title": incident.title, "description": incident.description, "severity": incident.severity,
                     "serious": incident.serious, "category": incident.serious_category or None,
                     "category_label": incident.get_serious_category_display() or None,
                     "status": incident.status, "source": incident.source},
        "dates": {"occurred_at": incident.occurred_at, "aware_at": incident.aware_at,
                  "opened_at": incident.opened_at, "closed_at": incident.closed_at},
        "deadlines": [{"jurisdiction": d.jurisdiction, "legal_basis": d.legal_basis, "days": d.days,
                       "due_at": d.due_at, "reported_at": d.reported_at} for d in deadlines],
        "root_cause": incident.root_cause or None,
        "corrective_action": {"action": incident.corrective_action or None,
                              "label": incident.get_corrective_action_display() or None,
                              "notes": incident.corrective_notes or None},
        "owner": (incident.owner.get_full_name() or incident.owner.get_username()) if incident.owner else None,
    }
