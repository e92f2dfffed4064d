"""Services that write assessments (the loader writes the catalog itself, governance/catalog/loader.py)."""

from __future__ import annotations

from django.db import transaction

from governance.catalog.models import AssessmentStatus, ControlAssessment, Evidence, EvidenceOutcome
from governance.core.exceptions import ApplicationError
from governance.core.roles import require, user_roles
from governance.trail.services import actor_label, trail_append

NA_NEEDS_REASON = "notes: say why this control does not apply to the system."
OWNER_INACTIVE = "owner: {name} cannot own a control: the account is inactive or has no role."
WAIVER = "waiver"  # the evidence kind of a "not applicable" marking, and of its withdrawal
KEEP = object()  # "leave the owner as it is", apart from None, which clears it


def assessment_update(*, actor, assessment: ControlAssessment, status: str | None = None, notes: str | None = None,
                      owner=KEEP) -> ControlAssessment:
    """Record a status, notes or the control's owner (the person who answers for it on this
    system and sees it in their inbox); the previous owner and the new one are in the trail.

    Marking a control not applicable waives the audits it defines (governance/gate/), so the
    waiver, and its withdrawal, is also an evidence row: append-only, and sealed in the trail."""
    require(actor, "assessment.update", assessment.system)
    if status is not None and status not in AssessmentStatus.values:
        raise ApplicationError(f"status must be one of: {', '.join(AssessmentStatus.values)}.", field="status")
    reason = (assessment.notes if notes is None else notes or "").strip()
    if status == AssessmentStatus.NOT_APPLICABLE and not reason:
        raise ApplicationError(NA_NEEDS_REASON, field="notes")
    owner_changes = owner is not KEEP and owner != assessment.owner
    if owner_changes and owner is not None and not (owner.is_active and user_roles(owner)):
        raise ApplicationError(OWNER_INACTIVE.format(name=owner.get_username()), field="owner")

    payload = {"control": assessment.control.ref}
    fields = ["updated_at"]
    was_waived = assessment.status == AssessmentStatus.NOT_APPLICABLE
    if status is not None:
        assessment.status = status
        fields.append("status")
    if notes is not None:
        assessment.notes = notes
        fields.append("notes")
    if owner_changes:
        payload["owner_from"] = assessment.owner.get_username() if assessment.owner else None
        payload["owner"] = owner.get_username() if owner else None
        assessment.owner = owner
        fields.append("owner")
    waived = assessment.status == AssessmentStatus.NOT_APPLICABLE
    with transaction.atomic():
        assessment.save(update_fields=fields)
        seal = []
        if waived != was_waived:
            summary = (f"Marked not applicable: {reason}" if waived
                       else f"No longer marked not applicable (now {assessment.get_status_display().lower()}).")
            seal.append(Evidence.objects.create(assessment=assessment, kind=WAIVER, outcome=EvidenceOutcome.INFO,
                                                summary=summary, recorded_by=actor_label(actor)))
        trail_append(actor=actor, action="assessment.updated", obj=assessment, seal=seal,
                     payload={**payload, "status": assessment.status, "notes": assessment.notes})
    return assessment
