"""The gate reacts to the approvals: when an approved version may no longer ship, it names the
version to roll back to (the newest one still allowed) and records that as evidence; and it
tells the approvals what a version misses of its policy, so nobody requests or approves it blind."""

from __future__ import annotations

from django.dispatch import receiver

from governance.approvals.services import register_policy_gaps
from governance.approvals.signals import approval_revoked
from governance.catalog.evidence import evidence_record
from governance.gate.services import policy_gaps, rollback_target

register_policy_gaps(policy_gaps)


@receiver(approval_revoked)
def rollback_after_revocation(sender, *, request, was_approved, **kwargs):
    """The rollback target (a ModelVersion), or None; nothing to do for a request never approved."""
    if not was_approved:
        return None
    system, version = request.version.system, request.version
    target = rollback_target(system=system, environment=request.environment, exclude=version)
    evidence_record(system=system, kind="rollback", outcome="info", version=version,
                    summary=f"{system.slug}@{version.version} may no longer ship to {request.environment}; "
                            + (f"roll back to {target.version} (last version still allowed)." if target
                               else "no other version is allowed there."),
                    link=f"/approvals/{request.pk}/")
    return target
