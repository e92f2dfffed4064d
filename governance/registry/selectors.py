"""Read the registry: a dataset's table, a version's model, a system's versions as a tree."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
from django.shortcuts import get_object_or_404

from governance.core.storage import object_delete, object_verified
from governance.registry.datafiles import read_table
from governance.registry.models import AISystem, Dataset, ModelVersion
from training.artifacts import ModelHandle, load_model


def dataset_frame(dataset: Dataset) -> pd.DataFrame:
    """The dataset's table, read from its object once the object's sha256 matches the record
    (a changed file fails the audit that reads it, naming the object)."""
    with object_verified(name=dataset.file.name, sha256=dataset.sha256) as fh:
        return read_table(fh, dataset.file_format)


def version_artifact_bytes(version: ModelVersion) -> bytes:
    """The artifact's bytes, checked against its recorded sha256 (bounded by MAX_UPLOAD_BYTES
    when it was registered; the loaders need them whole)."""
    with object_verified(name=version.artifact.name, sha256=version.artifact_sha256) as fh:
        return fh.read()


def version_model(version: ModelVersion) -> ModelHandle:
    return load_model(version_artifact_bytes(version), spec=version.spec or None)


def dataset_unreferenced_delete(name: str) -> None:
    """Delete a dataset object no row points to any more (after a rolled-back registration);
    one that an earlier row shares, the same bytes under the same sha256, stays."""
    if not Dataset.objects.filter(file=name).exists():
        object_delete(name)


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
