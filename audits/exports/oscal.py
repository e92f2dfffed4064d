"""OSCAL 1.1.3 exports: the two controls catalogs, and the assessment results of one AI system.

Pure functions, no Django: the caller reads the database and passes plain dicts; every
function returns a plain JSON-serialisable dict. ``validate_oscal`` checks a document
against NIST's official JSON Schemas shipped in ``schemas/`` (provenance in SOURCES.md).

Catalogs
    One catalog per framework (``framework="ai-rmf"`` or ``"iso42001"``), as NIST and ISO
    publish them separately and their texts have different licences. AI RMF: a group per
    function and per category, a control per subcategory, with the official statement as
    a ``statement`` part. ISO/IEC 42001 Annex A: a group per objective (and per A.6.1/A.6.2
    sub-objective), a control per Annex A control with its title only; the control text is
    copyrighted, so the statement part only says where to read it. Control ids are OSCAL
    tokens (no spaces): ``GOVERN 1.1`` -> ``govern-1.1``, ``A.6.2.4`` -> ``a.6.2.4``.
    Crosswalk partners are ``links`` with ``rel="related"`` that point at the partner
    catalog's back-matter resource plus a ``resource-fragment`` (the partner control id),
    the OSCAL way to reference a control in another document.

Assessment results
    One result: the system and this tool as components in ``local-definitions``; one
    observation per audit run (method TEST, metrics in the description) and one per piece
    of evidence that no listed audit run produced (TEST if it names a run, else EXAMINE);
    one finding per control whose ``target.status.state`` is ``satisfied`` or
    ``not-satisfied`` (see ``FINDING_STATUS``), related to the observations of its evidence.
    OSCAL requires ``import-ap``; there is no separate assessment plan document, so it
    points at a back-matter resource that describes the continuous audit process.

UUIDs are uuid5 on ``UUID_NAMESPACE`` over a readable name, so the same input gives the
same document, and an object keeps its UUID across exports (OSCAL asks UUIDs to be
"assigned per-subject").
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft7Validator, ValidationError, validators
from jsonschema.exceptions import best_match

from audits.exports.model_card import CONTROL_STATUSES, FRAMEWORK_LABELS, format_metric, headline_metrics
from audits.exports.timestamps import ERR_TIMESTAMP, parse_aware_time  # noqa: F401 - ERR_TIMESTAMP is part of this API

OSCAL_VERSION = "1.1.3"
TOOL_NAME = "ai-governance"
# Namespace of this project's own prop and part names (OSCAL reserves names without ns).
NS = "urn:ai-governance:oscal"
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, NS)
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SCHEMA_FILES = {
    "catalog": "oscal_catalog_schema.json",
    "assessment-results": "oscal_assessment-results_schema.json",
}
FRAMEWORKS = ("ai-rmf", "iso42001")
# Prefix of a control id in prose: "ISO/IEC 42001:2023 A.6.2.4", "NIST AI RMF 1.0 MAP 1.1".
REF_LABELS = {"ai-rmf": "NIST AI RMF 1.0", "iso42001": "ISO/IEC 42001:2023"}
# File names the exported catalogs are published under; links between them use these.
CATALOG_FILENAMES = {
    "ai-rmf": "nist-ai-rmf-1.0.oscal-catalog.json",
    "iso42001": "iso-iec-42001-2023-annex-a.oscal-catalog.json",
}
AI_RMF_FUNCTIONS = ("GOVERN", "MAP", "MEASURE", "MANAGE")
EVIDENCE_OUTCOMES = ("pass", "fail", "inconclusive", "info")
# Our status -> (OSCAL objective state, reason, implementation-status state or None).
# OSCAL has only satisfied / not-satisfied: work not finished is not satisfied, and a control
# judged not applicable is satisfied with implementation state "not-applicable" (the original
# status is kept in the finding's "control-status" prop either way).
FINDING_STATUS = {
    "satisfied": ("satisfied", "pass", "implemented"),
    # Implemented, but a piece of its evidence expired (catalog/freshness.py): not satisfied now.
    "stale": ("not-satisfied", "other", "implemented"),
    "failed": ("not-satisfied", "fail", None),
    "in_progress": ("not-satisfied", "other", "partial"),
    "not_started": ("not-satisfied", "other", "planned"),
    "not_applicable": ("satisfied", "other", "not-applicable"),
}
# Registry lifecycle stage -> OSCAL component status.
COMPONENT_STATE = {"design": "under-development", "development": "under-development",
                   "validation": "under-development", "deployed": "operational", "retired": "disposition"}
ISO_TEXT_NOTE = ("The control text is in ISO/IEC 42001:2023, Annex A, Table A.1. It is copyrighted "
                 "and not reproduced here: this catalog carries identifiers and titles only.")

ERR_FRAMEWORK = "framework must be one of 'ai-rmf', 'iso42001'"
ERR_MODEL = "model must be one of 'catalog', 'assessment-results'"
ERR_VERSION = "version must be a non-empty string without leading or trailing whitespace"
ERR_MISSING = "{field} is required"
ERR_SHA256 = "documents[{index}].sha256 must be 64 lowercase hex digits, got {value!r}"
ERR_CONTROL_ID = "{field}: {value!r} is not a {framework} control id"
ERR_CROSSWALK = "crosswalk refers to {value!r}, which is not in the {framework} catalog"
ERR_CONTROL_FRAMEWORK = "controls[{index}].framework must be one of 'ai-rmf', 'iso42001', got {value!r}"
ERR_STATUS = ("controls[{index}].status must be one of 'satisfied', 'failed', 'in_progress', "
              "'not_started', 'not_applicable', got {value!r}")
ERR_DUPLICATE = "controls[{index}]: {framework} {value!r} is listed twice"
ERR_OUTCOME = ("controls[{index}].evidence[{item}].outcome must be one of 'pass', 'fail', "
               "'inconclusive', 'info', got {value!r}")
ERR_UNICODE_CLASS = "schema pattern uses \\{escape}{{{name}}}, which this validator cannot translate"

_CONTROL_ID_PATTERNS = {
    "ai-rmf": re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE) \d+\.\d+$"),
    "iso42001": re.compile(r"^A\.\d+(\.\d+)+$"),
}


def oscal_id(ref: str) -> str:
    """The OSCAL token for a framework id: ``GOVERN 1.1`` -> ``govern-1.1``, ``A.2`` -> ``a.2``."""
    return ref.strip().lower().replace(" ", "-")


def oscal_control_id(*, framework: str, control_id: str) -> str:
    """Checked form of ``oscal_id`` for a control (AI RMF subcategory or Annex A control)."""
    if framework not in FRAMEWORKS:
        raise ValueError(ERR_FRAMEWORK)
    if not isinstance(control_id, str) or not _CONTROL_ID_PATTERNS[framework].match(control_id):
        raise ValueError(ERR_CONTROL_ID.format(field="control_id", value=control_id, framework=framework))
    return oscal_id(control_id)


# ---------------------------------------------------------------- shared helpers


def _uuid(*parts) -> str:
    return str(uuid.uuid5(UUID_NAMESPACE, "/".join(str(p) for p in parts)))


def _timestamp(value, field: str) -> str:
    """Parse an ISO 8601 date-time with a timezone and return it in UTC with a ``Z``: the
    schemas' DateTimeWithTimezone pattern allows only real-world offsets, UTC always passes."""
    return parse_aware_time(value, field).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _require(record: dict, keys, where: str) -> None:
    for key in keys:
        if not isinstance(record, dict) or key not in record:
            raise ValueError(ERR_MISSING.format(field=f"{where}.{key}"))


def _prop(name: str, value, *, ns: str | None = NS) -> dict | None:
    """A prop, or None when the value is empty. OSCAL prop values are single-line and
    trimmed (StringDatatype), so whitespace runs are collapsed to one space."""
    text = " ".join(str(value).split()) if value is not None else ""
    if not text:
        return None
    prop = {"name": name, "value": text}
    if ns:
        prop["ns"] = ns
    return prop


def _props(*props) -> list[dict]:
    return [p for p in props if p is not None]


def _compact(obj: dict) -> dict:
    """Drop empty lists and None values: OSCAL arrays have minItems 1."""
    return {k: v for k, v in obj.items() if v not in (None, [], {})}


def _github_url(source: dict) -> str:
    return f"https://github.com/{source['repo']}/blob/{source['commit']}/{source['path']}"


def _sort_id(ref: str, order: int = 0) -> str:
    """Zero-padded so that text order is framework order: GOVERN 1.2 < GOVERN 1.10."""
    padded = re.sub(r"\d+", lambda m: f"{int(m.group()):02d}", oscal_id(ref))
    return f"{order:02d}-{padded}" if order else padded


# ---------------------------------------------------------------- catalogs


def catalog_to_oscal(*, framework: str, ai_rmf: dict, iso: dict, crosswalk: dict, version: str,
                     last_modified: str) -> dict:
    """One framework's controls as an OSCAL catalog, with crosswalk links to the other one.

    ``ai_rmf``, ``iso`` and ``crosswalk`` are the three files of governance/catalog/data/ as
    parsed JSON (all three are needed either way: links go both ways). ``version`` is the
    catalog's document version; ``last_modified`` an ISO 8601 date-time with a timezone.
    The catalog UUID depends on framework and version only, so re-exporting the same
    catalog revision gives the same document.
    """
    if framework not in FRAMEWORKS:
        raise ValueError(ERR_FRAMEWORK)
    if not isinstance(version, str) or not version or version != version.strip():
        raise ValueError(ERR_VERSION)
    modified = _timestamp(last_modified, "last_modified")
    mappings = _checked_mappings(ai_rmf, iso, crosswalk)
    resources = _catalog_resources(framework, ai_rmf, iso, crosswalk)
    if framework == "ai-rmf":
        groups = [_ai_rmf_function(f, mappings, resources) for f in ai_rmf["functions"]]
    else:
        groups = [_iso_objective(o, _reverse(mappings), resources) for o in iso["objectives"]]
    return {"catalog": {
        "uuid": _uuid("catalog", framework, version),
        "metadata": _catalog_metadata(framework, version, modified, resources),
        "groups": groups,
        "back-matter": {"resources": list(resources.values())},
    }}


def _checked_mappings(ai_rmf: dict, iso: dict, crosswalk: dict) -> dict[str, dict]:
    """Crosswalk rows by AI RMF id; a row naming an id absent from a catalog is an error,
    since its link would point nowhere."""
    rmf_ids = {s["id"] for f in ai_rmf["functions"] for c in f["categories"] for s in c["subcategories"]}
    iso_ids = {c["id"] for o in iso["objectives"] for c in o["controls"]}
    mappings = {}
    for row in crosswalk["mappings"]:
        if row["ai_rmf"] not in rmf_ids:
            raise ValueError(ERR_CROSSWALK.format(value=row["ai_rmf"], framework="ai-rmf"))
        for ref in row.get("iso42001", []):
            if ref not in iso_ids:
                raise ValueError(ERR_CROSSWALK.format(value=ref, framework="iso42001"))
        mappings[row["ai_rmf"]] = row
    return mappings


def _reverse(mappings: dict[str, dict]) -> dict[str, list[str]]:
    """Annex A id -> the AI RMF subcategories that map to it, in AI RMF order."""
    reverse: dict[str, list[str]] = {}
    for rmf_id, row in mappings.items():
        for ref in row.get("iso42001", []):
            reverse.setdefault(ref, []).append(rmf_id)
    return reverse


def _catalog_metadata(framework: str, version: str, modified: str, resources: dict) -> dict:
    if framework == "ai-rmf":
        title = "NIST AI RMF 1.0 (NIST AI 100-1): Core functions, categories and subcategories"
        remarks = ("Statements as printed in NIST AI 100-1, a work of the U.S. Government. Links to "
                   "ISO/IEC 42001 Annex A controls follow the crosswalk cited in the back matter.")
    else:
        title = "ISO/IEC 42001:2023 Annex A: reference control objectives and controls (identifiers and titles)"
        remarks = ISO_TEXT_NOTE + " Links to NIST AI RMF subcategories follow the crosswalk cited in the back matter."
    return {
        "title": title,
        "last-modified": modified,
        "version": version,
        "oscal-version": OSCAL_VERSION,
        "props": [_prop("framework", framework)],
        "links": [{"href": f"#{resources['source']['uuid']}", "rel": "reference",
                   "text": resources["source"]["title"]}],
        "remarks": remarks,
    }


def _catalog_resources(framework: str, ai_rmf: dict, iso: dict, crosswalk: dict) -> dict[str, dict]:
    """Back matter, keyed by role: the framework's source, where the machine-readable data
    came from, the crosswalk, and the partner catalog (target of the crosswalk links)."""
    partner = "iso42001" if framework == "ai-rmf" else "ai-rmf"
    source = ai_rmf["source"] if framework == "ai-rmf" else iso["source"]
    return {
        "source": _ai_rmf_source(source) if framework == "ai-rmf" else _iso_source(source, iso),
        "data": _data_resource(framework, source["data_taken_from"]),
        "crosswalk": _crosswalk_resource(crosswalk["source"]),
        "partner": _catalog_resource(partner),
    }


def _ai_rmf_source(source: dict) -> dict:
    doi = source.get("doi", "")
    return _compact({
        "uuid": _uuid("resource", "source", "ai-rmf"),
        "title": f"{source['title']}, {source['identifier']}",
        "description": f"{source['publisher']}, {source['date']}. Text from {source['sections']}.",
        "document-ids": [{"scheme": "http://www.doi.org/", "identifier": doi.removeprefix("https://doi.org/")}]
        if doi else [],
        "citation": {"text": f"NIST. {source['title']}. {source['identifier']}, {source['date']}. {doi}".strip()},
        "rlinks": [{"href": source["url"], "media-type": "application/pdf"}] + ([{"href": doi}] if doi else []),
        "remarks": source.get("license"),
    })


def _iso_source(source: dict, iso: dict) -> dict:
    return _compact({
        "uuid": _uuid("resource", "source", "iso42001"),
        "title": source["standard"],
        "description": " ".join(x for x in (f"{source['publisher']}.", iso.get("note") and f"{iso['note']}.") if x),
        "citation": {"text": source["standard"]},
        "rlinks": [{"href": source["url"]}],
        "remarks": ISO_TEXT_NOTE,
    })


def _data_resource(framework: str, taken_from: dict) -> dict:
    return _compact({
        "uuid": _uuid("resource", "data", framework),
        "title": f"Machine-readable source of the {FRAMEWORK_LABELS[framework]} data",
        "description": f"{taken_from['repo']}, {taken_from['path']}, commit {taken_from['commit']}.",
        "rlinks": [{"href": _github_url(taken_from)}],
        "remarks": taken_from.get("note"),
    })


def _crosswalk_resource(source: dict) -> dict:
    description = " ".join(x for x in (
        f"Provider: {source['provider']}." if source.get("provider") else "",
        source.get("iso_version_mapped", ""), source.get("nist_disclaimer", ""),
    ) if x)
    return _compact({
        "uuid": _uuid("resource", "crosswalk", "ai-rmf", "iso42001"),
        "title": source["title"],
        "description": description,
        "rlinks": [{"href": source["url"], "media-type": "application/pdf"}],
        "remarks": source.get("transformation"),
    })


def _catalog_resource(framework: str) -> dict:
    return {
        "uuid": _uuid("resource", "catalog", framework),
        "title": f"OSCAL catalog: {FRAMEWORK_LABELS[framework]}",
        "rlinks": [{"href": CATALOG_FILENAMES[framework], "media-type": "application/oscal.catalog+json"}],
    }


def _label_props(ref: str, order: int = 0) -> list[dict]:
    # "label" and "sort-id" are OSCAL-defined prop names, so they carry no ns.
    return _props(_prop("label", ref, ns=None), _prop("sort-id", _sort_id(ref, order), ns=None))


def _partner_links(partner: str, refs: list[str], resources: dict) -> list[dict]:
    links = [{"href": f"#{resources['partner']['uuid']}", "rel": "related",
              "resource-fragment": oscal_id(ref), "text": f"{REF_LABELS[partner]} {ref}"}
             for ref in refs]
    if links:
        links.append({"href": f"#{resources['crosswalk']['uuid']}", "rel": "reference",
                      "text": resources["crosswalk"]["title"]})
    return links


def _ai_rmf_function(function: dict, mappings: dict, resources: dict) -> dict:
    ref = function["id"]
    order = AI_RMF_FUNCTIONS.index(ref) + 1 if ref in AI_RMF_FUNCTIONS else 0
    overview = function.get("description")
    parts = [{"id": f"{oscal_id(ref)}_ovw", "name": "overview", "prose": overview}] if overview else []
    return _compact({
        "id": oscal_id(ref),
        "class": "function",
        "title": function["title"],
        "props": _label_props(ref, order),
        "parts": parts,
        "groups": [_ai_rmf_category(c, order, mappings, resources) for c in function["categories"]],
    })


def _ai_rmf_category(category: dict, order: int, mappings: dict, resources: dict) -> dict:
    # The AI RMF gives categories no short title; the id is the title and the official
    # category statement (the data file's "title") is the statement part.
    ref = category["id"]
    return {
        "id": oscal_id(ref),
        "class": "category",
        "title": ref,
        "props": _label_props(ref, order),
        "parts": [{"id": f"{oscal_id(ref)}_smt", "name": "statement", "prose": category["title"]}],
        "controls": [_ai_rmf_control(s, order, mappings.get(s["id"], {}), resources)
                     for s in category["subcategories"]],
    }


def _ai_rmf_control(sub: dict, order: int, mapping: dict, resources: dict) -> dict:
    ref = sub["id"]
    clauses = mapping.get("iso42001_clauses", [])
    links = _partner_links("iso42001", mapping.get("iso42001", []), resources)
    if clauses and not links:
        links = [{"href": f"#{resources['crosswalk']['uuid']}", "rel": "reference",
                  "text": resources["crosswalk"]["title"]}]
    notes = [{"name": "crosswalk-note", "ns": NS, "prose": note} for note in mapping.get("notes", [])]
    return _compact({
        "id": oscal_id(ref),
        "class": "subcategory",
        "title": ref,
        "props": _label_props(ref, order) + _props(*(_prop("iso42001-clause", c) for c in clauses)),
        "links": links,
        "parts": [{"id": f"{oscal_id(ref)}_smt", "name": "statement", "prose": sub["text"]}] + notes,
    })


def _iso_objective(objective: dict, reverse: dict, resources: dict) -> dict:
    subs = objective.get("sub_objectives") or []
    sub_ids = {s["id"] for s in subs}
    controls = objective["controls"]
    groups = [
        _compact({
            "id": oscal_id(s["id"]),
            "class": "sub-objective",
            "title": s["title"],
            "props": _label_props(s["id"]),
            "controls": [_iso_control(c, reverse, resources) for c in controls if c.get("sub_objective") == s["id"]],
        })
        for s in subs
    ]
    return _compact({
        "id": oscal_id(objective["id"]),
        "class": "objective",
        "title": objective["title"],
        "props": _label_props(objective["id"]),
        "groups": groups,
        "controls": [_iso_control(c, reverse, resources) for c in controls if c.get("sub_objective") not in sub_ids],
    })


def _iso_control(control: dict, reverse: dict, resources: dict) -> dict:
    ref = control["id"]
    alt_titles = _props(*(_prop("alt-title", t) for t in control.get("alt_titles", [])))
    return _compact({
        "id": oscal_id(ref),
        "class": "control",
        "title": control["title"],
        "props": _label_props(ref) + alt_titles,
        "links": _partner_links("ai-rmf", reverse.get(ref, []), resources),
        # A statement part that only points at the standard: findings target "<id>_smt".
        "parts": [{"id": f"{oscal_id(ref)}_smt", "name": "statement", "prose": ISO_TEXT_NOTE}],
    })


# ---------------------------------------------------------------- assessment results


def assessment_results(*, system: dict, controls: list[dict], audits: list[dict], generated_at: str,
                       tool_version: str, documents: list[dict] = ()) -> dict:
    """One AI system's control statuses and audit evidence as OSCAL assessment results.

    ``system`` = {"name", "slug", "risk_tier", "owner", "purpose"} (optional "intended_use",
    "lifecycle_stage"); ``controls`` = [{"framework", "control_id", "title", "status", "notes",
    "evidence": [{"id", "audit_run_id", "kind", "summary", "outcome", "created_at"}]}]
    (optional evidence "link"); ``audits`` = [{"id", "kind", "status", "finished_at",
    "summary", "metrics"}]. Timestamps are ISO 8601 with a timezone; they come out in UTC.
    """
    when = _timestamp(generated_at, "generated_at")
    _require(system, ("name", "slug", "risk_tier", "owner", "purpose"), "system")
    if not isinstance(tool_version, str) or not tool_version.strip():
        raise ValueError(ERR_MISSING.format(field="tool_version"))
    checked = _checked_controls(controls)
    runs = sorted((_checked_audit(a, i) for i, a in enumerate(audits)),
                  key=lambda r: (_instant(r["finished_at"]), r["id"]))
    slug = system["slug"]
    components = _components(system, tool_version)
    resources = {**_ar_resources(system), **_document_resources(documents)}
    observations, observed = _observations(slug, checked, runs, components, when)
    start, end = _window(checked, runs, when)
    result = _compact({
        "uuid": _uuid("result", slug, when),
        "title": f"Assessment of {system['name']}",
        "description": (f"Control status and audit evidence for {system['name']} ({slug}), "
                        f"exported {when} by {TOOL_NAME} {tool_version}."),
        "start": start,
        "end": end,
        "local-definitions": {"components": list(components.values())},
        "reviewed-controls": _reviewed_controls(checked, resources),
        "observations": observations,
        "findings": [_finding(slug, c, observed, components["tool"]["uuid"]) for c in checked],
    })
    return {"assessment-results": {
        "uuid": _uuid("assessment-results", slug, when),
        "metadata": {
            "title": f"Assessment results: {system['name']}",
            "last-modified": when,
            "version": when,
            "oscal-version": OSCAL_VERSION,
            "props": _props(_prop("system", slug), _prop("tool-version", tool_version)),
        },
        "import-ap": {"href": f"#{resources['plan']['uuid']}"},
        "results": [result],
        "back-matter": {"resources": list(resources.values())},
    }}


def _checked_controls(controls: list[dict]) -> list[dict]:
    checked, seen = [], set()
    for index, control in enumerate(controls):
        _require(control, ("framework", "control_id", "title", "status"), f"controls[{index}]")
        framework, ref = control["framework"], control["control_id"]
        if framework not in FRAMEWORKS:
            raise ValueError(ERR_CONTROL_FRAMEWORK.format(index=index, value=framework))
        if control["status"] not in CONTROL_STATUSES:
            raise ValueError(ERR_STATUS.format(index=index, value=control["status"]))
        if not _CONTROL_ID_PATTERNS[framework].match(str(ref)):
            raise ValueError(ERR_CONTROL_ID.format(field=f"controls[{index}].control_id", value=ref,
                                                   framework=framework))
        if (framework, ref) in seen:
            raise ValueError(ERR_DUPLICATE.format(index=index, framework=framework, value=ref))
        seen.add((framework, ref))
        evidence = [_checked_evidence(e, index, i) for i, e in enumerate(control.get("evidence") or [])]
        checked.append({**control, "oscal_id": oscal_id(ref), "evidence": evidence})
    return checked


def _checked_evidence(item: dict, index: int, position: int) -> dict:
    where = f"controls[{index}].evidence[{position}]"
    _require(item, ("id", "kind", "summary", "outcome", "created_at"), where)
    if item["outcome"] not in EVIDENCE_OUTCOMES:
        raise ValueError(ERR_OUTCOME.format(index=index, item=position, value=item["outcome"]))
    return {**item, "id": str(item["id"]), "audit_run_id": _str_or_none(item.get("audit_run_id")),
            "created_at": _timestamp(item["created_at"], f"{where}.created_at")}


def _checked_audit(audit: dict, index: int) -> dict:
    _require(audit, ("id", "kind", "status", "finished_at", "summary", "metrics"), f"audits[{index}]")
    finished = audit["finished_at"]
    return {**audit, "id": str(audit["id"]),
            "finished_at": _timestamp(finished, f"audits[{index}].finished_at") if finished else None}


def _instant(stamp: str | None) -> datetime:
    """Sort key for normalised timestamps (text order is wrong when fractions differ)."""
    return datetime.fromisoformat(stamp) if stamp else datetime.min.replace(tzinfo=timezone.utc)


def _str_or_none(value) -> str | None:
    return None if value is None or value == "" else str(value)


def _components(system: dict, tool_version: str) -> dict[str, dict]:
    stage = system.get("lifecycle_stage")
    this_system = _compact({
        "uuid": _uuid("component", "system", system["slug"]),
        "type": "this-system",
        "title": system["name"],
        "description": system["purpose"] or system["name"],
        "purpose": system.get("intended_use") or None,
        "props": _props(_prop("slug", system["slug"]), _prop("risk-tier", system["risk_tier"]),
                        _prop("owner", system["owner"]), _prop("lifecycle-stage", stage)),
        "status": {"state": COMPONENT_STATE.get(stage, "other")},
    })
    tool = {
        "uuid": _uuid("component", "tool"),
        "type": "software",
        "title": TOOL_NAME,
        "description": f"{TOOL_NAME} {tool_version}: runs the technical audits and exports this document.",
        "props": _props(_prop("version", tool_version)),
        "status": {"state": "operational"},
    }
    return {"system": this_system, "tool": tool}


def _ar_resources(system: dict) -> dict[str, dict]:
    plan = _compact({
        "uuid": _uuid("resource", "assessment-plan", system["slug"]),
        "title": f"Assessment plan: {system['name']}",
        "description": (f"There is no separate OSCAL assessment plan. {TOOL_NAME} audits every model "
                        "version of the system as its risk-tier policy requires and records each result "
                        "as evidence on the mapped controls; the results below are that record."),
        "props": _props(_prop("risk-tier", system["risk_tier"])),
    })
    return {"plan": plan, **{fw: _catalog_resource(fw) for fw in FRAMEWORKS}}


def document_resource_uuid(document_id) -> str:
    return _uuid("resource", "document", str(document_id))


def _document_resources(documents) -> dict[str, dict]:
    """A back-matter resource per document: a link to its download with its SHA-256, so a
    reader holding a copy can tell it is the one the controls rest on."""
    out = {}
    for index, doc in enumerate(documents):
        _require(doc, ("id", "title", "kind", "sha256", "href", "review_by", "controls"), f"documents[{index}]")
        if not re.fullmatch(r"[0-9a-f]{64}", str(doc["sha256"])):
            raise ValueError(ERR_SHA256.format(index=index, value=doc["sha256"]))
        refs = [f"{REF_LABELS[fw]} {ref}" for fw, ref in doc["controls"]]
        out[f"document:{doc['id']}"] = _compact({
            "uuid": document_resource_uuid(doc["id"]),
            "title": doc["title"],
            "description": f"{doc['kind'].capitalize()} attached as evidence to {', '.join(refs) or 'no control'}.",
            "props": _props(_prop("document-kind", doc["kind"]), _prop("effective-on", doc.get("effective_on")),
                            _prop("review-by", doc["review_by"]),
                            *(_prop("control-id", oscal_id(ref)) for _, ref in doc["controls"])),
            "rlinks": [_compact({"href": doc["href"], "media-type": doc.get("media_type") or None,
                                 "hashes": [{"algorithm": "SHA-256", "value": doc["sha256"]}]})],
        })
    return out


def _window(controls: list[dict], runs: list[dict], when: str) -> tuple[str, str]:
    """First and last evidence timestamps (all already UTC ``Z``); the export time if none."""
    stamps = [r["finished_at"] for r in runs if r["finished_at"]]
    stamps += [e["created_at"] for c in controls for e in c["evidence"]]
    if not stamps:
        return when, when
    ordered = sorted(stamps, key=_instant)
    return ordered[0], ordered[-1]


def _observations(slug: str, controls: list[dict], runs: list[dict], components: dict, when: str):
    """One observation per audit run, one per piece of evidence no listed run produced.
    Returns the observations and a map evidence id -> observation UUID for the findings."""
    refs = {
        "subjects": [{"subject-uuid": components["system"]["uuid"], "type": "component"}],
        "origins": [{"actors": [{"type": "tool", "actor-uuid": components["tool"]["uuid"]}]}],
    }
    produced, loose = _evidence_by_run(controls, {r["id"] for r in runs})
    observations, observed = [], {}
    for run in runs:
        entries = produced.get(run["id"], [])
        observation = _run_observation(slug, run, entries, refs, when)
        observed.update({item["id"]: observation["uuid"] for _, item in entries})
        observations.append(observation)
    for control, item in sorted(loose, key=lambda pair: (_instant(pair[1]["created_at"]), pair[1]["id"])):
        observation = _evidence_observation(slug, control, item, refs)
        observed[item["id"]] = observation["uuid"]
        observations.append(observation)
    return observations, observed


def _evidence_by_run(controls: list[dict], run_ids: set[str]):
    """Evidence grouped under the listed audit run that produced it; the rest, once per id."""
    produced: dict[str, list[tuple[dict, dict]]] = {}
    loose: dict[str, tuple[dict, dict]] = {}
    for control in controls:
        for item in control["evidence"]:
            if item["audit_run_id"] in run_ids:
                produced.setdefault(item["audit_run_id"], []).append((control, item))
            else:
                loose.setdefault(item["id"], (control, item))
    return produced, list(loose.values())


def _run_observation(slug: str, run: dict, entries: list[tuple[dict, dict]], refs: dict, when: str) -> dict:
    return _compact({
        "uuid": _uuid("observation", slug, "audit", run["id"]),
        "title": f"{run['kind']} audit",
        "description": _audit_description(run),
        "props": _props(_prop("audit-run-id", run["id"]), _prop("audit-kind", run["kind"]),
                        _prop("audit-status", run["status"])),
        "methods": ["TEST"],
        "origins": refs["origins"],
        "subjects": refs["subjects"],
        "relevant-evidence": [_run_evidence(run)] + [_evidence_entry(c, e) for c, e in entries],
        "collected": run["finished_at"] or when,
    })


def _evidence_observation(slug: str, control: dict, item: dict, refs: dict) -> dict:
    tested = item["audit_run_id"] is not None
    return _compact({
        "uuid": _uuid("observation", slug, "evidence", item["id"]),
        "title": f"{item['kind']} evidence",
        "description": item["summary"] or f"{item['kind']} evidence.",
        "props": _props(_prop("evidence-id", item["id"]), _prop("audit-run-id", item["audit_run_id"])),
        # Evidence that names an audit run came from a test; anything else was examined,
        # by a person this export does not name, so it has no tool origin.
        "methods": ["TEST" if tested else "EXAMINE"],
        "origins": refs["origins"] if tested else [],
        "subjects": refs["subjects"],
        "relevant-evidence": [_evidence_entry(control, item)],
        "collected": item["created_at"],
    })


def _audit_description(run: dict) -> str:
    lines = [run["summary"] or f"{run['kind']} audit, status {run['status']}."]
    metrics = headline_metrics(run["metrics"] or {})
    if metrics:
        lines += ["", "Metrics (value [interval] where the audit computed one):"]
        lines += [f"- {m['name']}: {format_metric(m)}" for m in metrics]
    return "\n".join(lines)


def _run_evidence(run: dict) -> dict:
    return {
        "description": f"Audit run {run['id']} ({run['kind']}), status {run['status']}.",
        "props": _props(_prop("audit-run-id", run["id"])),
    }


def _evidence_entry(control: dict, item: dict) -> dict:
    label = f"{REF_LABELS[control['framework']]} {control['control_id']}"
    document = item.get("document_id")
    return _compact({
        "href": f"#{document_resource_uuid(document)}" if document else (item.get("link") or "").strip() or None,
        "description": f"{label}: {item['summary']} (outcome: {item['outcome']})",
        "props": _props(_prop("evidence-id", item["id"]), _prop("evidence-kind", item["kind"]),
                        _prop("outcome", item["outcome"]), _prop("control-id", control["oscal_id"])),
    })


def _finding_title(control: dict) -> str:
    """"A.5.4 AI system impact assessment"; an AI RMF subcategory's title is its reference
    already, so "GOVERN 1.1" once, not twice."""
    ref, title = control["control_id"], (control["title"] or "").strip()
    return title if title.startswith(ref) else f"{ref} {title}".strip()


def _finding(slug: str, control: dict, observed: dict, tool_uuid: str) -> dict:
    state, reason, implementation = FINDING_STATUS[control["status"]]
    related = list(dict.fromkeys(observed[e["id"]] for e in control["evidence"]))
    label = f"{REF_LABELS[control['framework']]} {control['control_id']}"
    target = _compact({
        "type": "statement-id",
        "target-id": f"{control['oscal_id']}_smt",
        "status": {"state": state, "reason": reason},
        "implementation-status": {"state": implementation} if implementation else None,
    })
    return _compact({
        "uuid": _uuid("finding", slug, control["framework"], control["oscal_id"]),
        "title": _finding_title(control),
        "description": (control.get("notes") or "").strip() or f"{label}: {control['status'].replace('_', ' ')}.",
        "props": _props(_prop("framework", control["framework"]), _prop("control-status", control["status"])),
        "origins": [{"actors": [{"type": "tool", "actor-uuid": tool_uuid}]}],
        "target": target,
        "related-observations": [{"observation-uuid": uid} for uid in related],
    })


def _reviewed_controls(controls: list[dict], resources: dict) -> dict:
    selections = []
    for framework in FRAMEWORKS:
        ids = [c["oscal_id"] for c in controls if c["framework"] == framework]
        if ids:
            selections.append({
                "description": f"{FRAMEWORK_LABELS[framework]} controls assessed for this system.",
                "props": _props(_prop("framework", framework)),
                "links": [{"href": f"#{resources[framework]['uuid']}", "rel": "reference",
                           "text": resources[framework]["title"]}],
                "include-controls": [{"control-id": i} for i in ids],
            })
    return {"control-selections": selections or [{"description": "No controls were assessed."}]}


# ---------------------------------------------------------------- validation

MAX_MESSAGE = 300


def validate_oscal(document: dict, *, model: str) -> list[str]:
    """Error messages from NIST's OSCAL 1.1.3 JSON Schema for ``model``; empty when valid.

    Each message is ``"<JSON pointer>: <reason>"``, sorted by location.
    """
    if model not in SCHEMA_FILES:
        raise ValueError(ERR_MODEL)
    errors = sorted(_validator(model).iter_errors(document),
                    key=lambda e: ([str(p) for p in e.absolute_path], e.message))
    return [_message(e) for e in errors]


def _message(error: ValidationError) -> str:
    pointer = "/" + "/".join(str(p) for p in error.absolute_path)
    text = error.message
    if error.context:  # anyOf / allOf: the generic message hides which branch failed and why
        text += f" ({best_match(error.context).message})"
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return f"{pointer}: {text}"


@lru_cache(maxsize=None)
def _validator(model: str):
    schema = json.loads((SCHEMA_DIR / SCHEMA_FILES[model]).read_text(encoding="utf-8"))
    # Only "pattern" is replaced, see _pattern; every other keyword is jsonschema's draft-07 one.
    cls = validators.extend(Draft7Validator, {"pattern": _pattern})
    return cls(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def _pattern(validator, pattern: str, instance, schema):
    """draft-07 "pattern", with the schemas' \\p{L} and \\p{N} made explicit for Python's re."""
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(translate_unicode_classes(pattern))


def translate_unicode_classes(pattern: str) -> str:
    r"""Rewrite ``\p{X}`` (Unicode general category X, e.g. L, N, Lu) as an explicit class.

    Python's ``re`` has no ``\p``; the OSCAL schemas use ``\p{L}`` and ``\p{N}`` in
    TokenDatatype. Inside ``[...]`` the ranges are inserted bare, outside they get
    brackets. ``\P{X}`` (negation) is supported outside brackets only; anything this
    cannot express raises ValueError rather than validating less than the schema says.
    """
    out, i, in_class = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            match = re.match(r"\\([pP])\{([A-Za-z]+)\}", pattern[i:])
            if match:
                escape, name = match.groups()
                ranges = _category_ranges(name, escape)
                if escape == "P" and in_class:
                    raise ValueError(ERR_UNICODE_CLASS.format(escape=escape, name=name))
                out.append(ranges if in_class else f"[{'^' if escape == 'P' else ''}{ranges}]")
                i += match.end()
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


def _category_ranges(name: str, escape: str) -> str:
    table = _unicode_categories()
    spans = sorted(span for category, found in table.items() if category.startswith(name) for span in found)
    if not spans or len(name) > 2:
        raise ValueError(ERR_UNICODE_CLASS.format(escape=escape, name=name))
    merged = [list(spans[0])]
    for low, high in spans[1:]:
        if low == merged[-1][1] + 1:
            merged[-1][1] = high
        else:
            merged.append([low, high])
    return "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in merged)


@lru_cache(maxsize=1)
def _unicode_categories() -> dict[str, list[tuple[int, int]]]:
    """General category -> code point ranges, from Python's unicodedata (one pass, cached)."""
    table: dict[str, list[tuple[int, int]]] = {}
    start, current = 0, unicodedata.category(chr(0))
    for cp in range(1, 0x110000):
        category = unicodedata.category(chr(cp))
        if category != current:
            table.setdefault(current, []).append((start, cp - 1))
            start, current = cp, category
    table.setdefault(current, []).append((start, 0x10FFFF))
    return table
