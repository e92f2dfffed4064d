"""Freshness: every piece of evidence has a validity window (an audit's: the policy's max age,
written on the row when the audit finishes; a document's: its review-by date). When a
satisfied control's passing evidence expires, the control goes stale (the rule is
catalog/evidence.py `latest_outcomes`): a periodic task moves the stored status, which the
portfolio, the heatmap and the reports read, and tells the control's owner once, when it
changes."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from governance.catalog.evidence import assessment_status_refresh
from governance.catalog.models import AssessmentStatus, ControlAssessment, Evidence, EvidenceOutcome
from governance.notifications.services import notify

log = logging.getLogger(__name__)
SUBJECT = "{ref} on {system} is stale: its evidence expired"


def assessments_mark_stale(*, now=None) -> list[ControlAssessment]:
    """Move each satisfied control whose passing evidence expired by `now` to stale, and tell
    its owner. A control that went stale is not looked at again, so each owner hears once."""
    now = now or timezone.now()
    expired = Evidence.objects.filter(assessment=OuterRef("pk"), outcome=EvidenceOutcome.PASS, valid_until__lte=now)
    candidates = list(ControlAssessment.objects.filter(status=AssessmentStatus.SATISFIED)
                      .filter(Exists(expired)).values_list("pk", flat=True))
    stale = []
    for pk in candidates:
        with transaction.atomic():
            assessment = (ControlAssessment.objects.select_for_update(of=("self",))
                          .select_related("control", "system", "owner").get(pk=pk))
            if assessment.status != AssessmentStatus.SATISFIED:
                continue  # changed since it was listed
            if assessment_status_refresh(assessment, "freshness", now=now) and assessment.status == AssessmentStatus.STALE:
                stale.append(assessment)
                transaction.on_commit(lambda a=assessment: _tell_owner(a))
    return stale


def _tell_owner(assessment: ControlAssessment) -> None:
    owner = assessment.owner
    if owner is None or not owner.email:
        return
    ref, system = assessment.control.ref, assessment.system
    url = reverse("system-control", args=[system.slug, assessment.control.framework, ref])
    notify(event="control.stale", subject=SUBJECT.format(ref=ref, system=system.name),
           text=(f"{ref} on {system.name} was satisfied, but a piece of its evidence passed its validity window "
                 f"(an audit older than the policy allows, or a document past its review-by date).\n"
                 f"Attach a current document or run the audit again: {url}\n"),
           recipients=[owner.email], body={"system": system.slug, "control": ref, "status": "stale"}, urls=[])
