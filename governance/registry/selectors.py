"""Read the registry: a dataset's table, a version's model, a system's versions as a tree."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
from django.shortcuts import get_object_or_404

from governance.registry.datafiles import read_table
from governance.registry.models import AISystem, Dataset, ModelVersion
from training.artifacts import ModelHandle, load_model


def dataset_frame(dataset: Dataset) -> pd.DataFrame:
    with dataset.file.open("rb") as fh:
        return read_table(fh.read(), dataset.file_format)


def version_model(version: ModelVersion) -> ModelHandle:
    with version.artifact.open("rb") as fh:
        return load_model(fh.read(), spec=version.spec or None)


def system_versions(*, system: AISystem):
    return system.versions.select_related("parent", "created_by", "train_dataset", "eval_dataset").order_by("-created_at")


def version_lineage(versions) -> list[dict]:
    """Versions as a tree (parent -> children), newest roots first: [{"version", "depth", "children"}]."""
    versions = list(versions)
    known = {v.pk for v in versions}
    children: dict = defaultdict(list)
    roots = []
    for v in sorted(versions, key=lambda v: v.created_at):
        if v.parent_id in known:
            children[v.parent_id].append(v)
        else:
            roots.append(v)

    def node(v, depth):
        return {"version": v, "depth": depth, "children": [node(c, depth + 1) for c in children.get(v.pk, [])]}

    return [node(v, 0) for v in reversed(roots)]


def version_scope(*, system: AISystem, label: str | None) -> ModelVersion | None:
    """The version a page is scoped to (?version=1.2.0), or None for the whole system; an
    unknown label is a 404, so a scoped page never silently shows the whole system."""
    if not label:
        return None
    return get_object_or_404(ModelVersion.objects.select_related("system"), system=system, version=label)
