"""Which evidence speaks to which control, and how evidence moves an assessment's status.

The map follows the design's evidence-to-control table: the evidence the platform itself
produces (the registry entry, signed reports, approvals, the audit trail, rollbacks) is mapped
here; each audit kind names its own controls in its folder (audits/kinds/<kind>/kind.py).
Evidence writes one row on every mapped control of its system; the control's status is then derived from the
latest evidence of each kind on it (each document counting as a kind of its own, a superseded
row not at all):
  any latest evidence failed       -> failed
  else any inconclusive            -> in progress
  else any pass past its validity  -> stale (an audit older than the policy allows, a document
                                      past its review-by date: catalog/freshness.py)
  else at least one passed         -> satisfied
  only informational evidence      -> in progress (it was looked at, nothing decided)
A control an owner marked "not applicable" keeps that status; its evidence is still kept.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from governance.catalog.controls import mapped_refs
from governance.catalog.models import AssessmentStatus, ControlAssessment, Evidence, EvidenceOutcome
from governance.core.exceptions import ApplicationError, ConflictError
from governance.core.roles import require
from governance.trail.services import actor_label, trail_append

EXPIRED = "expired"  # never stored: what a passing row counts as once its validity window ended


def latest_outcomes(evidence, *, now) -> list[str]:
    """The latest outcome of each kind of evidence (oldest first in `evidence`): each document
    is a kind of its own, a superseded row (a correction, a replaced document) is skipped, and
    a pass whose validity ended by `now` counts as EXPIRED. The one rule of freshness: the
    stored status (`assessment_status_refresh`, the stale sweep) and the version scope both use it."""
    superseded = {ev.supersedes_id for ev in evidence if ev.supersedes_id}
    latest: dict = {}
    for ev in evidence:
        if ev.pk in superseded:
            continue
        expired = ev.outcome == EvidenceOutcome.PASS and ev.valid_until is not None and ev.valid_until <= now
        latest[(ev.kind, ev.document_id)] = EXPIRED if expired else ev.outcome
    return list(latest.values())


COVERAGE = {"both": "an audit and a document", "audit": "an audit", "document": "a document", "none": "nothing"}


def coverage_of(evidence, *, now) -> tuple[str, bool]:
    """Which evidence covers a control ("audit", "document", "both" or "none", from COVERAGE),
    and whether any of it is current: a row of an audit or a document, not superseded, whose
    validity window is still open. The heatmap and the portfolio share this rule."""
    superseded = {ev.supersedes_id for ev in evidence if ev.supersedes_id}
    audit = document = current = False
    for ev in evidence:
        if ev.pk in superseded or not (ev.audit_run_id or ev.document_id):
            continue
        audit, document = audit or bool(ev.audit_run_id), document or bool(ev.document_id)
        current = current or ev.valid_until is None or ev.valid_until > now
    return ("both" if audit and document else "audit" if audit else "document" if document else "none"), current


def derive_status(latest_outcomes: list[str], current: str) -> str:
    if current == AssessmentStatus.NOT_APPLICABLE:
        return current
    if EvidenceOutcome.FAIL in latest_outcomes:
        return AssessmentStatus.FAILED
    if EvidenceOutcome.INCONCLUSIVE in latest_outcomes:
        return AssessmentStatus.IN_PROGRESS
    if EXPIRED in latest_outcomes:
        return AssessmentStatus.STALE
    if EvidenceOutcome.PASS in latest_outcomes:
        return AssessmentStatus.SATISFIED
    return AssessmentStatus.IN_PROGRESS if latest_outcomes else current


@transaction.atomic
def evidence_record(*, system, kind: str, outcome: str, summary: str, audit_run=None, link: str = "",
                    version=None, actor=None, valid_until=None) -> list[Evidence]:
    """Attach one piece of evidence to each control the kind maps to, and update statuses.

    The evidence speaks for `version` (by default the audit run's), or for the whole system
    when there is neither; it is current until `valid_until` (None: it does not expire).
    Its rows are sealed in the trail (trail/seals.py)."""
    refs = mapped_refs(kind)
    if version is None and audit_run is not None:
        version = audit_run.version
    recorded_by = actor_label(actor if actor is not None else ("worker" if audit_run is not None else None))
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
                assessment=assessment, version=version, audit_run_id=audit_run.pk if audit_run is not None else None,
                kind=kind, outcome=outcome, summary=summary, link=link, recorded_by=recorded_by,
                valid_until=valid_until,
            )
        )
        assessment_status_refresh(assessment, kind)
    if created:
        trail_append(actor=recorded_by, action="evidence.recorded", obj=system, seal=created, payload={
            "kind": kind, "outcome": outcome, "version": str(version.pk) if version else None,
            "controls": [e.assessment.control.ref for e in created]})
    return created


def assessment_status_refresh(assessment: ControlAssessment, kind: str, *, now=None) -> str | None:
    """Derive the assessment's status from the latest evidence of each kind; log a change and
    give the status it had before (None: unchanged)."""
    evidence = list(assessment.evidence.order_by("created_at", "pk"))
    new_status = derive_status(latest_outcomes(evidence, now=now or timezone.now()), assessment.status)
    before = assessment.status
    if new_status != assessment.status:
        trail_append(actor=None, action="control.status_changed", obj=assessment, payload={
            "control": assessment.control.ref, "from": assessment.status, "to": new_status, "evidence": kind})
        assessment.status = new_status
        assessment.save(update_fields=["status", "updated_at"])
        return before
    return None


CORRECTION_NEEDS_REASON = "reason: say why the evidence was wrong (at least {n} characters)."
BAD_OUTCOME = "outcome must be one of: {choices}."
ALREADY_CORRECTED = "This evidence was corrected already (by {pk}); correct the newest row."
MIN_REASON = 20


@transaction.atomic
def evidence_correct(*, actor, evidence: Evidence, outcome: str, reason: str) -> list[Evidence]:
    """Correct a piece of evidence: never by editing it, but with new rows (one per control the
    original speaks to) that supersede the old ones, with the reason and who corrected it."""
    system = evidence.assessment.system
    require(actor, "assessment.update", system)
    if outcome not in EvidenceOutcome.values:
        raise ApplicationError(BAD_OUTCOME.format(choices=", ".join(EvidenceOutcome.values)), field="outcome")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ApplicationError(CORRECTION_NEEDS_REASON.format(n=MIN_REASON), field="reason")
    newer = Evidence.objects.filter(supersedes=evidence).first()
    if newer is not None:
        raise ConflictError(ALREADY_CORRECTED.format(pk=newer.pk))
    siblings = [evidence]
    if evidence.audit_run_id:  # an audit wrote one row per control: correct them together
        siblings = list(Evidence.objects.filter(audit_run_id=evidence.audit_run_id, kind=evidence.kind)
                        .exclude(pk__in=Evidence.objects.filter(supersedes__isnull=False).values("supersedes"))
                        .select_related("assessment__control"))
    recorded_by = actor_label(actor)
    created = []
    for old in siblings:
        created.append(Evidence.objects.create(
            assessment=old.assessment, version=old.version, audit_run_id=old.audit_run_id, kind=old.kind,
            outcome=outcome, summary=old.summary, link=old.link, supersedes=old, correction_reason=reason,
            recorded_by=recorded_by, document_id=old.document_id, valid_until=old.valid_until))
    for row in created:
        assessment_status_refresh(ControlAssessment.objects.select_for_update(of=("self",)).select_related("control")
                        .get(pk=row.assessment_id), row.kind)
    trail_append(actor=actor, action="evidence.corrected", obj=system, seal=created, payload={
        "kind": evidence.kind, "from": evidence.outcome, "to": outcome, "reason": reason,
        "superseded": [str(old.pk) for old in siblings]})
    return created
