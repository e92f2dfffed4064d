"""Services that write assessments (the loader writes the catalog itself, governance/catalog/loader.py)."""

from __future__ import annotations

from django.db import transaction

from governance.catalog.models import AssessmentStatus, ControlAssessment
from governance.core.exceptions import ApplicationError
from governance.core.roles import require
from governance.trail.services import trail_append

NA_NEEDS_REASON = "notes: say why this control does not apply to the system."


def assessment_update(*, actor, assessment: ControlAssessment, status: str | None = None, notes: str | None = None,
                      owner=None) -> ControlAssessment:
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
    if owner is not None:
        assessment.owner = owner
        fields.append("owner")
    with transaction.atomic():
        assessment.save(update_fields=fields)
        trail_append(actor=actor, action="assessment.updated", obj=assessment,
                     payload={"control": assessment.control.ref, "status": assessment.status, "notes": assessment.notes})
    return assessment
