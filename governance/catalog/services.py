"""Services that write assessments (the loader writes the catalog itself, governance/catalog/loader.py)."""

from __future__ import annotations

from django.db import transaction

from governance.catalog.models import AssessmentStatus, ControlAssessment
from governance.core.exceptions import ApplicationError
from governance.core.roles import require, user_roles
from governance.trail.services import trail_append

NA_NEEDS_REASON = "notes: say why this control does not apply to the system."
OWNER_INACTIVE = "owner: {name} cannot own a control: the account is inactive or has no role."
KEEP = object()  # "leave the owner as it is", apart from None, which clears it


def assessment_update(*, actor, assessment: ControlAssessment, status: str | None = None, notes: str | None = None,
                      owner=KEEP) -> ControlAssessment:
    """Record a status, notes or the control's owner (the person who answers for it on this
    system and sees it in their inbox); the previous owner and the new one are in the trail."""
    require(actor, "assessment.update", assessment.system)
    fields = ["updated_at"]
    if status is not None:
        if status not in AssessmentStatus.values:
            raise ApplicationError(f"status must be one of: {', '.join(AssessmentStatus.values)}.", field="status")
        reason = assessment.notes if notes is None else notes
        if status == AssessmentStatus.NOT_APPLICABLE and not (reason or "").strip():
            # "Not applicable" can waive an audit a policy requires (governance/gate/): say why.
            raise ApplicationError(NA_NEEDS_REASON, field="notes")
        assessment.status = status
        fields.append("status")
    if notes is not None:
        assessment.notes = notes
        fields.append("notes")
    payload = {"control": assessment.control.ref}
    if owner is not KEEP and owner != assessment.owner:
        if owner is not None and not (owner.is_active and user_roles(owner)):
            raise ApplicationError(OWNER_INACTIVE.format(name=owner.get_username()), field="owner")
        payload["owner_from"] = assessment.owner.get_username() if assessment.owner else None
        payload["owner"] = owner.get_username() if owner else None
        assessment.owner = owner
        fields.append("owner")
    with transaction.atomic():
        assessment.save(update_fields=fields)
        trail_append(actor=actor, action="assessment.updated", obj=assessment,
                     payload={**payload, "status": assessment.status, "notes": assessment.notes})
    return assessment
