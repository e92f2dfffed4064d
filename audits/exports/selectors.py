"""Machine-readable exports from the database: OSCAL catalogs and assessment results, model cards.

The pure builders (oscal.py, model_card.py) take plain dicts; this module reads the rows
and shapes them. Query counts do not grow with the data.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from django.urls import reverse


from audits.exports.model_card import model_card
from audits.exports.oscal import FRAMEWORKS, assessment_results, catalog_to_oscal
from audits.runs.models import AuditRun, RunStatus
from audits.runs.registry import KINDS
from governance.catalog.controls import Framework
from governance.catalog.loader import (
    AI_RMF_FILE,
    CATALOG_DIR,
    CROSSWALK_FILE,
    ISO_FILE,
    read_catalog_file,
)
from governance.catalog.models import ControlAssessment
from governance.catalog.selectors import EVIDENCE, scoped, system_documents
from governance.core.exceptions import NotFoundError
from governance.registry.models import AISystem, ModelVersion

# The AI RMF subcategory on fairness and bias: the kinds whose evidence speaks to it measure fairness.
FAIRNESS_CONTROL = "MEASURE 2.11"
UNKNOWN_FRAMEWORK = "framework must be one of: " + ", ".join(FRAMEWORKS) + "."


def tool_version() -> str:
    try:
        return package_version("ai-governance")
    except PackageNotFoundError:
        return "0.1.0"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _user_name(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def audit_metrics(run: AuditRun) -> dict:
    """The headline numbers of a run for exports, as its kind picks them (else its results)."""
    results = run.results or {}
    kind = KINDS.get(run.kind)
    return kind.headline(results) if kind and kind.headline else results


def fairness_kinds() -> tuple[str, ...]:
    """The kinds whose evidence speaks to fairness and bias (AI RMF MEASURE 2.11)."""
    return tuple(k.name for k in KINDS.values() if FAIRNESS_CONTROL in k.controls.get(Framework.AI_RMF, []))


def _audits(runs) -> list[dict]:
    return [{"id": str(r.pk), "kind": r.kind, "status": r.status, "outcome": r.outcome, "summary": r.log,
             "finished_at": _iso(r.finished_at), "metrics": audit_metrics(r)} for r in runs]


def oscal_catalog(*, framework: str) -> dict:
    """One framework's controls as an OSCAL catalog. The document version is a digest of the
    three catalog files, so it changes exactly when the shipped catalog does."""
    if framework not in FRAMEWORKS:
        raise NotFoundError(UNKNOWN_FRAMEWORK, field="framework")
    names = (AI_RMF_FILE, ISO_FILE, CROSSWALK_FILE)
    digest = hashlib.sha256(b"".join((CATALOG_DIR / n).read_bytes() for n in names)).hexdigest()[:12]
    modified = max((CATALOG_DIR / n).stat().st_mtime for n in names)
    return catalog_to_oscal(
        framework=framework, ai_rmf=read_catalog_file(AI_RMF_FILE), iso=read_catalog_file(ISO_FILE),
        crosswalk=read_catalog_file(CROSSWALK_FILE), version=f"{tool_version()}+{digest}",
        last_modified=datetime.fromtimestamp(modified, tz=timezone.utc).isoformat(),
    )


def _system_dict(system: AISystem) -> dict:
    return {"name": system.name, "slug": system.slug, "risk_tier": system.risk_tier,
            "owner": _user_name(system.owner), "purpose": system.purpose, "intended_use": system.intended_use,
            "lifecycle_stage": system.lifecycle_stage}


def oscal_assessment_results(*, system: AISystem, version: ModelVersion | None = None, now=None) -> dict:
    """The system's control statuses, findings and audit observations as OSCAL assessment results;
    for `version`, only its own evidence and runs and the system-wide evidence (catalog.selectors.scoped)."""
    assessments = [scoped(a, version) for a in
                   ControlAssessment.objects.filter(system=system).select_related("control").prefetch_related(EVIDENCE)
                   .order_by("control__framework", "control__sort_key")]
    controls = [{
        "framework": a.control.framework, "control_id": a.control.ref, "title": a.control.title or a.control.ref,
        "status": a.shown_status, "notes": a.notes,
        "evidence": [{"id": str(e.pk), "audit_run_id": str(e.audit_run_id) if e.audit_run_id else None,
                      "kind": e.kind, "summary": e.summary, "outcome": e.outcome, "created_at": _iso(e.created_at),
                      "link": e.link, "version": e.version.version if e.version_id else None,
                      "document_id": str(e.document_id) if e.document_id else None}
                     for e in sorted(a.shown_evidence, key=lambda e: (e.created_at, str(e.pk)))],
    } for a in assessments]
    runs = AuditRun.objects.filter(system=system, status=RunStatus.SUCCEEDED).order_by("finished_at")
    if version is not None:
        runs = runs.filter(version=version)
    return assessment_results(system=_system_dict(system), controls=controls, audits=_audits(runs),
                              generated_at=(now or datetime.now(timezone.utc)).isoformat(),
                              tool_version=tool_version(), documents=_documents(system))


def _documents(system: AISystem) -> list[dict]:
    """The system's current documents and attestations, for the back-matter (with their hashes)."""
    return [{"id": str(d.pk), "title": d.title, "kind": d.kind, "sha256": d.sha256,
             "href": reverse("document-download", args=[d.pk]), "media_type": d.content_type.split(";")[0],
             "effective_on": d.effective_on.isoformat(), "review_by": d.review_by.isoformat(), "controls": d.refs}
            for d in system_documents(system=system)]


def model_card_for_version(*, version: ModelVersion) -> dict:
    system = version.system
    datasets = [d for d in (version.train_dataset, version.eval_dataset) if d is not None]
    datasets += [d for d in system.datasets.exclude(pk__in=[d.pk for d in datasets]).filter(role="reference")]
    runs = AuditRun.objects.filter(version=version, status=RunStatus.SUCCEEDED).order_by("finished_at")
    statuses = Counter(ControlAssessment.objects.filter(system=system).values_list("control__framework", "status"))
    summary: dict[str, dict[str, int]] = {}
    for (framework, status), count in statuses.items():
        summary.setdefault(framework, {})[status] = count
    return model_card(
        system=_system_dict(system),
        version={"version": version.version, "sha256": version.artifact_sha256, "format": version.artifact_format,
                 "parent": version.parent.version if version.parent else None,
                 "created_by": _user_name(version.created_by), "created_at": _iso(version.created_at),
                 "notes": version.notes},
        datasets=[{"name": d.name, "role": d.role, "sha256": d.sha256, "n_rows": d.n_rows,
                   "file_format": d.file_format, "schema": d.schema} for d in datasets],
        audits=_audits(runs), controls_summary=summary, fairness_kinds=fairness_kinds(),
    )
