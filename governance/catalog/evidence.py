"""Which evidence speaks to which control, and how evidence moves an assessment's status.

The map follows the design's evidence-to-control table: the evidence the platform itself
produces (the registry entry, signed reports, approvals, the audit trail, rollbacks) is mapped
here; each audit kind names its own controls in its folder (audits/kinds/<kind>/kind.py).
Evidence writes one row on every mapped control of its system; the control's status is then derived from the
latest evidence of each kind on it:
  any latest evidence failed       -> failed
  else any inconclusive            -> in progress
  else at least one passed         -> satisfied
  only informational evidence      -> in progress (it was looked at, nothing decided)
A control an owner marked "not applicable" keeps that status; its evidence is still kept.
"""

from __future__ import annotations

from django.db import transaction

from governance.catalog.controls import mapped_refs
from governance.catalog.models import AssessmentStatus, ControlAssessment, Evidence, EvidenceOutcome
from governance.trail.services import trail_append

def derive_status(latest_outcomes: list[str], current: str) -> str:
    if current == AssessmentStatus.NOT_APPLICABLE:
        return current
    if EvidenceOutcome.FAIL in latest_outcomes:
        return AssessmentStatus.FAILED
    if EvidenceOutcome.INCONCLUSIVE in latest_outcomes:
        return AssessmentStatus.IN_PROGRESS
    if EvidenceOutcome.PASS in latest_outcomes:
        return AssessmentStatus.SATISFIED
    return AssessmentStatus.IN_PROGRESS if latest_outcomes else current


@transaction.atomic
def evidence_record(*, system, kind: str, outcome: str, summary: str, audit_run=None, link: str = "") -> list[Evidence]:
    """Attach one piece of evidence to each control the kind maps to, and update statuses."""
    refs = mapped_refs(kind)
    assessments = list(
        ControlAssessment.objects.select_for_update(of=("self",))  # not the shared catalog rows
        .filter(system=system)
        .select_related("control")
        .filter(control__ref__in=[ref for _, ref in refs])
    )
    wanted = set(refs)
    created = []
    for assessment in assessments:
        if (assessment.control.framework, assessment.control.ref) not in wanted:
            continue
        created.append(
            Evidence.objects.create(
                assessment=assessment, audit_run_id=audit_run.pk if audit_run is not None else None, kind=kind,
                outcome=outcome, summary=summary, link=link,
            )
        )
        latest = {}
        for ev in assessment.evidence.order_by("created_at"):
            latest[ev.kind] = ev.outcome
        new_status = derive_status(list(latest.values()), assessment.status)
        if new_status != assessment.status:
            trail_append(actor=None, action="control.status_changed", obj=assessment, payload={
                "control": assessment.control.ref, "from": assessment.status, "to": new_status, "evidence": kind})
            assessment.status = new_status
            assessment.save(update_fields=["status", "updated_at"])
    return created
