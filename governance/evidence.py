"""Which evidence speaks to which control, and how evidence moves an assessment's status.

The map follows docs/DESIGN (the evidence-to-control table). An audit writes one Evidence
row on every mapped control of its system; the control's status is then derived from the
latest evidence of each kind on it:
  any latest evidence failed       -> failed
  else any inconclusive            -> in progress
  else at least one passed         -> satisfied
  only informational evidence      -> in progress (it was looked at, nothing decided)
A control an owner marked "not applicable" keeps that status; its evidence is still kept.
"""

from __future__ import annotations

from django.db import transaction

from governance.models import AssessmentStatus, ControlAssessment, Evidence, EvidenceOutcome, Framework
from governance.trail import trail_append

EVIDENCE_MAP: dict[str, dict[str, list[str]]] = {
    "registry": {Framework.AI_RMF: ["GOVERN 1.6", "MAP 1.1", "MAP 3.3"], Framework.ISO42001: ["A.4.2", "A.6.2.2", "A.9.4"]},
    "data_quality": {Framework.AI_RMF: ["MAP 2.3", "MEASURE 2.1"], Framework.ISO42001: ["A.7.4", "A.7.5", "A.7.6"]},
    "performance": {Framework.AI_RMF: ["MEASURE 2.3", "MEASURE 2.5"], Framework.ISO42001: ["A.6.2.4"]},
    "fairness": {Framework.AI_RMF: ["MEASURE 2.11", "MEASURE 2.2"], Framework.ISO42001: ["A.5.4", "A.7.4"]},
    "robustness": {Framework.AI_RMF: ["MEASURE 2.7", "MEASURE 2.6"], Framework.ISO42001: ["A.6.2.4"]},
    "poisoning": {Framework.AI_RMF: ["MEASURE 2.7"], Framework.ISO42001: ["A.7.5", "A.7.4"]},
    "privacy": {Framework.AI_RMF: ["MEASURE 2.10", "MANAGE 1.3"], Framework.ISO42001: ["A.5.4", "A.7.2"]},
    "dp_retraining": {Framework.AI_RMF: ["MEASURE 2.10", "MANAGE 1.3"], Framework.ISO42001: ["A.5.4", "A.7.2"]},
    "drift": {Framework.AI_RMF: ["MEASURE 2.4", "MANAGE 2.2", "MANAGE 4.1"], Framework.ISO42001: ["A.6.2.6"]},
    "report": {Framework.AI_RMF: ["MEASURE 2.1", "GOVERN 4.2"], Framework.ISO42001: ["A.6.2.7", "A.8.3"]},
    "approval": {Framework.AI_RMF: ["GOVERN 1.4", "GOVERN 2.3", "MANAGE 1.1"], Framework.ISO42001: ["A.3.2", "A.6.2.5"]},
    "audit_trail": {Framework.AI_RMF: ["GOVERN 4.3"], Framework.ISO42001: ["A.6.2.8"]},
    "rollback": {Framework.AI_RMF: ["GOVERN 1.7", "MANAGE 2.4"], Framework.ISO42001: ["A.6.2.6"]},
}


def defining_control(kind: str) -> str:
    """The AI RMF subcategory an audit kind speaks to first (fairness: MEASURE 2.11). When a
    compliance officer marks it "not applicable" for a system, with a reason, a policy's
    requirement of that audit is waived for the system (governance/gate.py)."""
    return EVIDENCE_MAP[kind][Framework.AI_RMF][0]


def mapped_refs(kind: str) -> list[tuple[str, str]]:
    return [(framework, ref) for framework, refs in EVIDENCE_MAP[kind].items() for ref in refs]


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
                assessment=assessment, audit_run=audit_run, kind=kind, outcome=outcome, summary=summary, link=link
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
