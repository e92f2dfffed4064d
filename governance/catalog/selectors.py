"""Read the catalog and a system's assessments. Each page calls one selector; query counts stay constant."""

from __future__ import annotations

from collections import OrderedDict, defaultdict

from governance.catalog.models import Control, ControlAssessment, Framework
from governance.registry.models import AISystem


def system_assessments_grouped(*, system: AISystem) -> dict:
    """{framework: OrderedDict(group_ref -> {"title", "assessments": [...]})} with evidence prefetched."""
    assessments = (
        ControlAssessment.objects.filter(system=system)
        .select_related("control", "owner")
        .prefetch_related("evidence")
        .order_by("control__framework", "control__sort_key")
    )
    grouped: dict[str, OrderedDict] = {fw.value: OrderedDict() for fw in Framework}
    for a in assessments:
        groups = grouped[a.control.framework]
        group = groups.setdefault(
            a.control.group_ref, {"ref": a.control.group_ref, "title": a.control.group_title, "assessments": [], "counts": defaultdict(int)}
        )
        group["assessments"].append(a)
        group["counts"][a.status] += 1
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


def assessment_detail(*, system: AISystem, framework: str, ref: str) -> ControlAssessment:
    return (
        ControlAssessment.objects.filter(system=system, control__framework=framework, control__ref=ref)
        .select_related("control", "owner", "system")
        .prefetch_related("evidence", "control__iso_links__iso", "control__ai_rmf_links__ai_rmf")
        .get()
    )


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
        out.append({"framework": fw.value, "label": fw.label, "groups": groups})
    return out
