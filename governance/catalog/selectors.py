"""Read the catalog and a system's assessments. Each page calls one selector; query counts stay constant."""

from __future__ import annotations

from collections import OrderedDict, defaultdict

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils import timezone

from governance.catalog.evidence import COVERAGE, coverage_of, derive_status, latest_outcomes
from governance.catalog.models import (
    AssessmentStatus,
    Control,
    ControlAssessment,
    Evidence,
    EvidenceDocument,
    Framework,
)
from governance.core.roles import Role
from governance.registry.models import AISystem

# Evidence with the version it speaks for, newest first (the pages label each row with it).
EVIDENCE = Prefetch("evidence", queryset=Evidence.objects.select_related("version").order_by("-created_at", "-pk"))


def scoped(assessment: ControlAssessment, version=None) -> ControlAssessment:
    """Set `shown_evidence` and `shown_status` on a prefetched assessment: for a version, its own
    evidence and the system-wide evidence, and the status they alone give (another version's
    results never show as this one's); with no version, everything, and the stored status."""
    evidence = list(assessment.evidence.all())
    if version is None:
        assessment.shown_evidence, assessment.shown_status = evidence, assessment.status
        assessment.coverage, assessment.current = coverage_of(evidence, now=timezone.now())
        return assessment
    mine = [ev for ev in evidence if ev.version_id in (None, version.pk)]
    assessment.coverage, assessment.current = coverage_of(mine, now=timezone.now())
    if assessment.status == AssessmentStatus.NOT_APPLICABLE or not evidence:
        status = assessment.status  # a waiver, or a status set by hand before any evidence
    else:  # oldest first, so the newest of each kind wins
        status = derive_status(latest_outcomes(mine[::-1], now=timezone.now()), AssessmentStatus.NOT_STARTED)
    assessment.shown_evidence, assessment.shown_status = mine, status
    return assessment


def status_label(status: str) -> str:
    return AssessmentStatus(status).label if status in AssessmentStatus.values else status


def system_assessments_grouped(*, system: AISystem, version=None) -> dict:
    """{framework: OrderedDict(group_ref -> {"title", "assessments": [...]})} with evidence
    prefetched, scoped to `version` when given (`scoped`)."""
    assessments = (
        ControlAssessment.objects.filter(system=system)
        .select_related("control", "owner")
        .prefetch_related(EVIDENCE)
        .order_by("control__framework", "control__sort_key")
    )
    grouped: dict[str, OrderedDict] = {fw.value: OrderedDict() for fw in Framework}
    for a in assessments:
        scoped(a, version)
        a.shown_status_label = status_label(a.shown_status)
        groups = grouped[a.control.framework]
        group = groups.setdefault(
            a.control.group_ref, {"ref": a.control.group_ref, "title": a.control.group_title, "assessments": [], "counts": defaultdict(int)}
        )
        group["assessments"].append(a)
        group["counts"][a.shown_status] += 1
    for groups in grouped.values():
        for group in groups.values():
            group["counts"] = dict(group["counts"])
    return grouped


def control_detail(*, framework: str, ref: str) -> Control:
    return (
        Control.objects.prefetch_related("iso_links__iso", "ai_rmf_links__ai_rmf")
        .get(framework=framework, ref=ref)
    )


def control_partners(control: Control) -> list[Control]:
    if control.framework == Framework.AI_RMF:
        return [link.iso for link in control.iso_links.all()]
    return [link.ai_rmf for link in control.ai_rmf_links.all()]


def assessment_detail(*, system: AISystem, framework: str, ref: str, version=None) -> ControlAssessment:
    assessment = (
        ControlAssessment.objects.filter(system=system, control__framework=framework, control__ref=ref)
        .select_related("control", "owner", "system")
        .prefetch_related(EVIDENCE, "control__iso_links__iso", "control__ai_rmf_links__ai_rmf")
        .get()
    )
    scoped(assessment, version)
    assessment.shown_status_label = status_label(assessment.shown_status)
    return assessment


def partner_assessments(*, system: AISystem, control: Control) -> list[ControlAssessment]:
    """The crosswalk partners of `control`, as assessed on `system`."""
    partners = control_partners(control)
    return list(ControlAssessment.objects.filter(system=system, control__in=partners).select_related("control")
                .order_by("control__framework", "control__sort_key"))


def controls_heatmap(grouped: dict) -> list[dict]:
    """The system's assessments as a heatmap: framework -> group (AI RMF function or ISO
    objective) -> row (AI RMF category or ISO sub-objective) -> cells. No query: it reshapes
    what system_assessments_grouped loaded."""
    out = []
    for fw in Framework:
        groups = []
        for ref, g in grouped.get(fw.value, {}).items():
            rows: OrderedDict = OrderedDict()
            for a in g["assessments"]:
                key = a.control.category_ref or ""
                row = rows.setdefault(key, {"ref": key, "title": a.control.category_title if key else "", "cells": []})
                row["cells"].append(a)
            groups.append({"ref": ref, "title": g["title"], "rows": list(rows.values()), "counts": g["counts"],
                           "total": len(g["assessments"])})
        cells = [a for g in grouped.get(fw.value, {}).values() for a in g["assessments"]]
        covered = {key: sum(1 for a in cells if a.coverage == key) for key in COVERAGE}
        current = sum(1 for a in cells if a.current)
        out.append({"framework": fw.value, "label": fw.label, "groups": groups, "coverage": covered,
                    "current": current, "total": len(cells),
                    "current_percent": round(100 * current / len(cells)) if cells else 0})
    return out


def owner_choices():
    """Active accounts with a role, by name: the people who can answer for a control."""
    return (get_user_model().objects.filter(is_active=True, groups__name__in=Role.values).distinct()
            .order_by("first_name", "last_name", "username"))


def current_documents(system_ids):
    """The documents and attestations of these systems that nothing replaced, newest first."""
    return (EvidenceDocument.objects.filter(system_id__in=list(system_ids))
            .exclude(pk__in=EvidenceDocument.objects.filter(supersedes__isnull=False).values("supersedes"))
            .select_related("owner").order_by("-created_at"))


def system_documents(*, system: AISystem) -> list[EvidenceDocument]:
    """The system's current documents, each with `refs` and `expired` (documents_annotated)."""
    return documents_annotated(list(current_documents([system.pk])))


def documents_annotated(docs: list[EvidenceDocument]) -> list[EvidenceDocument]:
    """Give each document `refs` (the controls it covers now, by framework order; none for a
    replaced one) and `expired` (past its review-by day): one query for any number."""
    refs: dict = defaultdict(list)
    rows = (Evidence.objects.filter(document__in=docs)
            .exclude(pk__in=Evidence.objects.filter(supersedes__isnull=False).values("supersedes"))
            .order_by("assessment__control__framework", "assessment__control__sort_key")
            .values_list("document_id", "assessment__control__framework", "assessment__control__ref"))
    for doc_id, framework, ref in rows:
        refs[doc_id].append((framework, ref))
    today = timezone.now().date()
    for doc in docs:
        doc.refs = refs.get(doc.pk, [])
        doc.expired = doc.review_by < today
    return docs
