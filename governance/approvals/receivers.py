"""The approvals app reacts to the audits: a failed audit or a drift breach means the evidence
the approvers signed on no longer holds, so the version's approvals are revoked."""

from __future__ import annotations

from django.dispatch import receiver

from audits.drift.signals import drift_breached
from audits.runs.signals import audit_finished
from governance.approvals import services


@receiver(audit_finished)
def revoke_after_failed_audit(sender, *, run, outcome, version=None, **kwargs):
    services.approvals_audit_finished(run=run, outcome=outcome, version=version)


@receiver(drift_breached)
def revoke_after_drift_breach(sender, *, version, reason, **kwargs) -> int:
    """How many approvals the breach revoked (the drift alert says so)."""
    return len(services.approvals_revoke_for_version(version=version, reason=reason, actor="audit:drift"))
