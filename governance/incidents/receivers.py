"""The incidents app reacts to the audits below it: a drift breach or a failed audit of a
version allowed in production opens an incident (once per run); and it gives the signed
report its appeal figures (MEASURE 3.3) through the reports' section registry."""

from __future__ import annotations

from django.dispatch import receiver

from audits.drift.signals import drift_breached
from audits.reports.sections import register_section
from audits.runs.signals import audit_finished
from governance.incidents import selectors, services
from governance.incidents.models import IncidentSource


@receiver(drift_breached)
def open_after_drift_breach(sender, *, version, reason, run, **kwargs) -> int:
    services.incident_open_for_run(run=run, version=version, source=IncidentSource.DRIFT, reason=reason)
    return 0  # the signal's answers count revoked approvals (audits/drift/services.py); this revokes none


@receiver(audit_finished)
def open_after_failed_audit(sender, *, run, outcome, version=None, **kwargs):
    if outcome != "fail":
        return
    judged = version or run.version
    services.incident_open_for_run(run=run, version=judged, source=IncidentSource.AUDIT,
                                   reason=f"The {run.kind} audit {run.pk} of {judged.version} failed the policy.")


register_section(selectors.report_section)
