"""Read-side queries. Each page or endpoint calls one selector; query counts stay constant."""

from __future__ import annotations

from collections import OrderedDict, defaultdict

import pandas as pd
from django.db.models import Count, Prefetch, Q

from governance.datafiles import read_table
from governance.models import (
    AISystem,
    AssessmentStatus,
    Control,
    ControlAssessment,
    Dataset,
    Evidence,
    Framework,
    ModelVersion,
)
from training.artifacts import ModelHandle, load_model

DONE = [AssessmentStatus.SATISFIED, AssessmentStatus.NOT_APPLICABLE]


def dataset_frame(dataset: Dataset) -> pd.DataFrame:
    with dataset.file.open("rb") as fh:
        return read_table(fh.read(), dataset.file_format)


def version_model(version: ModelVersion) -> ModelHandle:
    with version.artifact.open("rb") as fh:
        return load_model(fh.read(), spec=version.spec or None)


def system_list_with_coverage(*, search: str = "", risk_tier: str = ""):
    """Systems annotated with per-framework coverage counts: two aggregates, one query."""
    qs = AISystem.objects.select_related("owner")
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(slug__icontains=search) | Q(purpose__icontains=search))
    if risk_tier:
        qs = qs.filter(risk_tier=risk_tier)
    annotations = {}
    for fw in Framework:
        key = fw.value.replace("-", "_")
        annotations[f"{key}_total"] = Count("assessments", filter=Q(assessments__control__framework=fw))
        annotations[f"{key}_done"] = Count(
            "assessments", filter=Q(assessments__control__framework=fw, assessments__status__in=DONE)
        )
        annotations[f"{key}_failed"] = Count(
            "assessments", filter=Q(assessments__control__framework=fw, assessments__status=AssessmentStatus.FAILED)
        )
    systems = list(qs.annotate(**annotations))
    for s in systems:
        s.coverage = {
            fw.value: {
                "label": fw.label,
                "total": getattr(s, f"{fw.value.replace('-', '_')}_total"),
                "done": getattr(s, f"{fw.value.replace('-', '_')}_done"),
                "failed": getattr(s, f"{fw.value.replace('-', '_')}_failed"),
                "percent": round(
                    100 * getattr(s, f"{fw.value.replace('-', '_')}_done") / getattr(s, f"{fw.value.replace('-', '_')}_total")
                )
                if getattr(s, f"{fw.value.replace('-', '_')}_total")
                else 0,
            }
            for fw in Framework
        }
    return systems


def system_assessments_grouped(*, system: AISystem) -> dict:
    """{framework: OrderedDict(group_ref -> {"title", "assessments": [...]})} with evidence prefetched."""
    assessments = (
        ControlAssessment.objects.filter(system=system)
        .select_related("control", "owner")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.select_related("audit_run")))
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


def system_versions(*, system: AISystem):
    return system.versions.select_related("parent", "created_by", "train_dataset", "eval_dataset").order_by("-created_at")
