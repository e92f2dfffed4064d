"""Tests for audits/exports/oscal.py.

Reference values:
- The schemas: NIST OSCAL v1.1.3 release assets. The assessment-results schema's SHA-256
  (d9e34757...c4c3) is the one published for that asset; see audits/exports/schemas/SOURCES.md.
- Counts: NIST AI 100-1 (AI RMF 1.0) Tables 1-4 have 4 functions, 19 categories and 72
  subcategories; ISO/IEC 42001:2023 Annex A Table A.1 has 9 objectives (A.2-A.10) and 38
  controls; the NIST-listed crosswalk has 201 subcategory -> Annex A pairs. These are the
  "counts" blocks of the shared reference files (see their SOURCES.md).
- MEASURE 2.11's statement is quoted from NIST AI 100-1, Table 3.
- Unicode general categories (for \\p{L}, \\p{N}): U+00E9 "é" is Ll, U+0416 "Ж" is Lu,
  U+0663 "٣" is Nd, U+00BD "½" is No, U+0020 space is Zs (Unicode Character Database).
"""

import copy
import hashlib
import json
import re
import uuid
from pathlib import Path

import pytest

from audits.exports import oscal
from audits.exports.oscal import (
    ERR_CONTROL_FRAMEWORK,
    ERR_CONTROL_ID,
    ERR_CROSSWALK,
    ERR_DUPLICATE,
    ERR_FRAMEWORK,
    ERR_MISSING,
    ERR_MODEL,
    ERR_OUTCOME,
    ERR_STATUS,
    ERR_TIMESTAMP,
    ERR_UNICODE_CLASS,
    ERR_VERSION,
    ISO_TEXT_NOTE,
    assessment_results,
    catalog_to_oscal,
    oscal_control_id,
    translate_unicode_classes,
    validate_oscal,
)

# The catalog the project ships (governance/catalog/data/, from ../shared/reference with its sources).
CATALOG_DIR = Path(__file__).resolve().parents[2] / "governance" / "catalog" / "data"
AR_SCHEMA_SHA256 = "d9e34757f0c12aff61f52b821f0b8f83ba0ba75b3a149a202b08ba82f82bc4c3"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ai-governance:oscal")
RUN_1 = "2f1c1b8e-1111-4aaa-8bbb-000000000001"
RUN_2 = "2f1c1b8e-1111-4aaa-8bbb-000000000002"


def _reference(name):
    return json.loads((CATALOG_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sources():
    return {
        "ai_rmf": _reference("nist_ai_rmf_1_0.json"),
        "iso": _reference("iso_iec_42001_annex_a.json"),
        "crosswalk": _reference("crosswalk_ai_rmf_iso42001.json"),
    }


def _catalog(sources, framework, version="1.0.0", last_modified="2026-01-01T00:00:00Z"):
    return catalog_to_oscal(framework=framework, version=version, last_modified=last_modified, **sources)


def _walk(groups):
    """All groups and all controls below a list of groups."""
    found_groups, found_controls = [], []
    for group in groups:
        found_groups.append(group)
        found_controls += group.get("controls", [])
        more_groups, more_controls = _walk(group.get("groups", []))
        found_groups += more_groups
        found_controls += more_controls
    return found_groups, found_controls


# ---------------------------------------------------------------- shipped schemas


def test_the_assessment_results_schema_is_the_official_release_asset():
    data = (oscal.SCHEMA_DIR / "oscal_assessment-results_schema.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == AR_SCHEMA_SHA256


@pytest.mark.parametrize("model, schema_id", [
    ("catalog", "http://csrc.nist.gov/ns/oscal/1.1.3/oscal-catalog-schema.json"),
    ("assessment-results", "http://csrc.nist.gov/ns/oscal/1.1.3/oscal-ar-schema.json"),
])
def test_the_schemas_are_oscal_1_1_3(model, schema_id):
    schema = json.loads((oscal.SCHEMA_DIR / oscal.SCHEMA_FILES[model]).read_text(encoding="utf-8"))
    assert schema["$id"] == schema_id
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_validate_rejects_an_unknown_model():
    with pytest.raises(ValueError, match=f"^{re.escape(ERR_MODEL)}$"):
        validate_oscal({}, model="profile")


# ---------------------------------------------------------------- catalogs


def test_the_ai_rmf_catalog_is_valid_and_has_4_functions_19_categories_72_controls(sources):
    document = _catalog(sources, "ai-rmf")
    assert validate_oscal(document, model="catalog") == []
    groups, controls = _walk(document["catalog"]["groups"])
    assert [g["id"] for g in document["catalog"]["groups"]] == ["govern", "map", "measure", "manage"]
    assert len([g for g in groups if g["class"] == "category"]) == 19
    assert len(controls) == 72
    assert len({c["id"] for c in controls}) == 72


def test_the_iso_catalog_is_valid_and_has_9_objectives_38_controls(sources):
    document = _catalog(sources, "iso42001")
    assert validate_oscal(document, model="catalog") == []
    groups, controls = _walk(document["catalog"]["groups"])
    assert len(document["catalog"]["groups"]) == 9
    assert len(controls) == 38
    life_cycle = next(g for g in groups if g["id"] == "a.6")
    assert [g["id"] for g in life_cycle["groups"]] == ["a.6.1", "a.6.2"]


def test_an_ai_rmf_control_carries_its_statement_label_and_crosswalk(sources):
    _, controls = _walk(_catalog(sources, "ai-rmf")["catalog"]["groups"])
    measure = next(c for c in controls if c["id"] == "measure-2.11")
    assert measure["title"] == "MEASURE 2.11"
    assert measure["parts"][0] == {
        "id": "measure-2.11_smt", "name": "statement",
        "prose": "Fairness and bias – as identified in the MAP function – are evaluated and results are documented.",
    }
    govern = next(c for c in controls if c["id"] == "govern-1.1")
    assert {"name": "label", "value": "GOVERN 1.1"} in govern["props"]
    # Crosswalk row GOVERN 1.1 -> A.2.2, A.2.4 and clauses 4.1, 6.2.
    related = [l["resource-fragment"] for l in govern["links"] if l["rel"] == "related"]
    assert related == ["a.2.2", "a.2.4"]
    clauses = [p["value"] for p in govern["props"] if p["name"] == "iso42001-clause"]
    assert clauses == ["4.1", "6.2"]


def test_crosswalk_links_point_at_the_partner_catalog_both_ways(sources):
    for framework, partner in (("ai-rmf", "iso42001"), ("iso42001", "ai-rmf")):
        catalog = _catalog(sources, framework)["catalog"]
        resources = {r["uuid"]: r for r in catalog["back-matter"]["resources"]}
        _, controls = _walk(catalog["groups"])
        related = [l for c in controls for l in c.get("links", []) if l["rel"] == "related"]
        assert len(related) == 201  # the crosswalk's subcategory -> Annex A pairs
        targets = {resources[l["href"][1:]]["rlinks"][0]["href"] for l in related}
        assert targets == {oscal.CATALOG_FILENAMES[partner]}


def test_iso_a_2_2_links_back_to_the_subcategories_that_map_to_it(sources):
    _, controls = _walk(_catalog(sources, "iso42001")["catalog"]["groups"])
    control = next(c for c in controls if c["id"] == "a.2.2")
    assert control["title"] == "AI policy"
    related = [l["resource-fragment"] for l in control["links"] if l["rel"] == "related"]
    assert related == ["govern-1.1", "govern-1.2", "map-1.4", "map-4.1"]


def test_the_iso_catalog_reproduces_no_control_text(sources):
    _, controls = _walk(_catalog(sources, "iso42001")["catalog"]["groups"])
    statements = [p["prose"] for c in controls for p in c["parts"] if p["name"] == "statement"]
    assert statements == [ISO_TEXT_NOTE] * 38


def test_catalogs_are_deterministic_with_uuid5_ids(sources):
    first = _catalog(sources, "ai-rmf")
    assert _catalog(sources, "ai-rmf") == first
    assert first["catalog"]["uuid"] == str(uuid.uuid5(NAMESPACE, "catalog/ai-rmf/1.0.0"))
    later = _catalog(sources, "ai-rmf", last_modified="2026-06-01T00:00:00Z")
    assert later["catalog"]["uuid"] == first["catalog"]["uuid"]
    assert _catalog(sources, "ai-rmf", version="1.0.1")["catalog"]["uuid"] != first["catalog"]["uuid"]


def test_catalogs_round_trip_through_json(sources):
    document = _catalog(sources, "iso42001")
    assert json.loads(json.dumps(document)) == document


def test_catalog_back_matter_cites_the_sources(sources):
    resources = _catalog(sources, "ai-rmf")["catalog"]["back-matter"]["resources"]
    titles = [r["title"] for r in resources]
    assert titles[0] == "Artificial Intelligence Risk Management Framework (AI RMF 1.0), NIST AI 100-1"
    assert resources[0]["document-ids"] == [{"scheme": "http://www.doi.org/", "identifier": "10.6028/NIST.AI.100-1"}]
    assert "NIST AI RMF to ISO/IEC FDIS 42001 AI Management system Crosswalk" in titles


def test_catalog_rejects_a_crosswalk_row_for_an_unknown_control(sources):
    crosswalk = copy.deepcopy(sources["crosswalk"])
    crosswalk["mappings"][0]["iso42001"].append("A.99.1")
    with pytest.raises(ValueError, match=re.escape(ERR_CROSSWALK.format(value="A.99.1", framework="iso42001"))):
        catalog_to_oscal(framework="ai-rmf", ai_rmf=sources["ai_rmf"], iso=sources["iso"], crosswalk=crosswalk,
                         version="1", last_modified="2026-01-01T00:00:00Z")


@pytest.mark.parametrize("kwargs, message", [
    ({"framework": "nist-csf"}, ERR_FRAMEWORK),
    ({"version": " 1.0"}, ERR_VERSION),
    ({"version": ""}, ERR_VERSION),
    ({"last_modified": "2026-01-01T00:00:00"},
     ERR_TIMESTAMP.format(field="last_modified", value="2026-01-01T00:00:00")),
    ({"last_modified": "yesterday"}, ERR_TIMESTAMP.format(field="last_modified", value="yesterday")),
])
def test_catalog_options_are_checked(sources, kwargs, message):
    options = {"framework": "ai-rmf", "version": "1.0.0", "last_modified": "2026-01-01T00:00:00Z", **kwargs}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        catalog_to_oscal(**options, **sources)


@pytest.mark.parametrize("framework, ref, expected", [
    ("ai-rmf", "GOVERN 1.1", "govern-1.1"),
    ("ai-rmf", "MEASURE 2.11", "measure-2.11"),
    ("iso42001", "A.6.2.4", "a.6.2.4"),
])
def test_oscal_control_ids_are_tokens(framework, ref, expected):
    assert oscal_control_id(framework=framework, control_id=ref) == expected


@pytest.mark.parametrize("framework, ref", [("ai-rmf", "MEASURE2.11"), ("ai-rmf", "A.2.2"), ("iso42001", "B.2.2")])
def test_oscal_control_id_rejects_foreign_ids(framework, ref):
    message = ERR_CONTROL_ID.format(field="control_id", value=ref, framework=framework)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        oscal_control_id(framework=framework, control_id=ref)


# ---------------------------------------------------------------- the \p{..} patterns


@pytest.mark.parametrize("text, ok", [
    ("govern-1.1", True), ("é_ß.Ж-2", True), ("_x", True), ("a٣½", True),
    ("1abc", False), ("a b", False), ("-a", False), ("", False),
])
def test_token_pattern_matches_unicode_letters_and_numbers(text, ok):
    pattern = translate_unicode_classes(r"^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$")
    assert bool(re.search(pattern, text)) is ok


def test_unicode_classes_work_inside_brackets_and_negated():
    assert re.fullmatch(translate_unicode_classes(r"[\p{N}x]+"), "x٣1")
    assert re.fullmatch(translate_unicode_classes(r"\P{L}+"), "12 -")
    assert not re.fullmatch(translate_unicode_classes(r"\P{L}+"), "1a")


@pytest.mark.parametrize("pattern, escape, name", [(r"\p{Xx}", "p", "Xx"), (r"[\P{L}]", "P", "L")])
def test_untranslatable_unicode_classes_raise(pattern, escape, name):
    with pytest.raises(ValueError, match=f"^{re.escape(ERR_UNICODE_CLASS.format(escape=escape, name=name))}$"):
        translate_unicode_classes(pattern)


def test_token_ids_are_checked_by_the_schema(sources):
    document = _catalog(sources, "iso42001")
    document["catalog"]["groups"][0]["id"] = "ünïcode-1"
    assert validate_oscal(document, model="catalog") == []
    document["catalog"]["groups"][0]["id"] = "1 bad"
    assert validate_oscal(document, model="catalog") == [
        "/catalog/groups/0/id: '1 bad' does not match '^(\\\\p{L}|_)(\\\\p{L}|\\\\p{N}|[.\\\\-_])*$'"
    ]


# ---------------------------------------------------------------- assessment results


def _system():
    return {"name": "Credit scoring", "slug": "credit-scoring", "risk_tier": "high", "owner": "alice",
            "purpose": "Scores loan applications.", "lifecycle_stage": "deployed"}


def _audits():
    return [
        {"id": RUN_2, "kind": "drift", "status": "succeeded", "finished_at": "2026-03-02T10:00:00Z",
         "summary": "No drift.", "metrics": {"max_psi": 0.03}},
        {"id": RUN_1, "kind": "fairness", "status": "succeeded", "finished_at": "2026-03-01T10:00:00+01:00",
         "summary": "Fairness: 3 of 4 checks passed.",
         "metrics": {"n": 300, "disparities": {"sex": {"dpd": {"value": 0.12, "ci": [0.05, 0.2]}}}, "slices": [{}]}},
    ]


def _evidence(id_, run, outcome="pass", created="2026-03-01T09:00:01Z", kind="fairness"):
    return {"id": id_, "audit_run_id": run, "kind": kind, "summary": f"evidence {id_}", "outcome": outcome,
            "created_at": created}


def _controls():
    return [
        {"framework": "ai-rmf", "control_id": "MEASURE 2.11", "title": "", "status": "failed",
         "notes": "Disparity above threshold.", "evidence": [_evidence("e1", RUN_1, "fail")]},
        {"framework": "iso42001", "control_id": "A.5.4", "status": "in_progress", "notes": "",
         "title": "Assessing AI system impact on individuals or groups of individuals",
         "evidence": [_evidence("e2", RUN_1, "fail"),
                      _evidence("e3", None, created="2026-02-01T09:00:00Z", kind="document")]},
        {"framework": "ai-rmf", "control_id": "GOVERN 1.1", "title": "", "status": "not_applicable", "notes": "",
         "evidence": []},
        {"framework": "ai-rmf", "control_id": "MEASURE 2.4", "title": "", "status": "satisfied", "notes": "",
         "evidence": [_evidence("e4", RUN_2, created="2026-03-02T10:00:00Z", kind="drift")]},
        {"framework": "iso42001", "control_id": "A.2.2", "title": "AI policy", "status": "not_started",
         "notes": "", "evidence": []},
    ]


def _results(**overrides):
    options = {"system": _system(), "controls": _controls(), "audits": _audits(),
               "generated_at": "2026-03-03T00:00:00Z", "tool_version": "0.1.0", **overrides}
    return assessment_results(**options)


def test_assessment_results_are_valid_oscal():
    document = _results()
    assert validate_oscal(document, model="assessment-results") == []
    assert json.loads(json.dumps(document)) == document


def test_one_observation_per_audit_run_and_per_loose_evidence():
    result = _results()["assessment-results"]["results"][0]
    observations = result["observations"]
    # Runs ordered by finish time (10:00+01:00 is 09:00Z, before RUN_2), then evidence e3.
    assert [o["title"] for o in observations] == ["fairness audit", "drift audit", "document evidence"]
    assert [o["methods"] for o in observations] == [["TEST"], ["TEST"], ["EXAMINE"]]
    assert observations[0]["collected"] == "2026-03-01T09:00:00Z"
    assert observations[0]["description"] == (
        "Fairness: 3 of 4 checks passed.\n\nMetrics (value [interval] where the audit computed one):\n"
        "- disparities.sex.dpd: 0.12 [0.05, 0.2]\n- n: 300"
    )
    # The fairness run produced e1 (MEASURE 2.11) and e2 (A.5.4): one entry for the run, one each.
    evidence_ids = [[p["value"] for p in e.get("props", []) if p["name"] == "evidence-id"]
                    for e in observations[0]["relevant-evidence"]]
    assert evidence_ids == [[], ["e1"], ["e2"]]
    assert (result["start"], result["end"]) == ("2026-02-01T09:00:00Z", "2026-03-02T10:00:00Z")


@pytest.mark.parametrize("ref, state, reason, implementation", [
    ("MEASURE 2.11", "not-satisfied", "fail", None),
    ("A.5.4", "not-satisfied", "other", "partial"),
    ("GOVERN 1.1", "satisfied", "other", "not-applicable"),
    ("MEASURE 2.4", "satisfied", "pass", "implemented"),
    ("A.2.2", "not-satisfied", "other", "planned"),
])
def test_one_finding_per_control_with_its_status(ref, state, reason, implementation):
    findings = _results()["assessment-results"]["results"][0]["findings"]
    assert len(findings) == 5
    finding = next(f for f in findings if f["title"].startswith(ref))
    target = finding["target"]
    assert target["status"] == {"state": state, "reason": reason}
    assert target.get("implementation-status") == ({"state": implementation} if implementation else None)
    assert target["target-id"] == f"{oscal.oscal_id(ref)}_smt"


def test_findings_relate_to_the_observations_of_their_evidence():
    result = _results()["assessment-results"]["results"][0]
    titles = {o["uuid"]: o["title"] for o in result["observations"]}
    a_5_4 = next(f for f in result["findings"] if f["title"].startswith("A.5.4"))
    assert [titles[r["observation-uuid"]] for r in a_5_4["related-observations"]] == [
        "fairness audit", "document evidence"]
    govern = next(f for f in result["findings"] if f["title"].startswith("GOVERN 1.1"))
    assert "related-observations" not in govern


def test_reviewed_controls_list_each_framework_s_controls():
    selections = _results()["assessment-results"]["results"][0]["reviewed-controls"]["control-selections"]
    assert [[c["control-id"] for c in s["include-controls"]] for s in selections] == [
        ["measure-2.11", "govern-1.1", "measure-2.4"], ["a.5.4", "a.2.2"]]


def test_the_system_is_a_local_component():
    components = _results()["assessment-results"]["results"][0]["local-definitions"]["components"]
    system = components[0]
    assert (system["type"], system["title"], system["status"]) == ("this-system", "Credit scoring",
                                                                    {"state": "operational"})
    assert {"name": "risk-tier", "value": "high", "ns": oscal.NS} in system["props"]


def test_assessment_results_are_deterministic_and_uuids_are_per_subject():
    first = _results()
    assert _results() == first
    later = _results(generated_at="2026-04-01T00:00:00Z")
    assert later["assessment-results"]["uuid"] != first["assessment-results"]["uuid"]
    finding = first["assessment-results"]["results"][0]["findings"][0]["uuid"]
    assert finding == str(uuid.uuid5(NAMESPACE, "finding/credit-scoring/ai-rmf/measure-2.11"))
    assert later["assessment-results"]["results"][0]["findings"][0]["uuid"] == finding


def test_a_broken_document_fails_validation_with_messages():
    document = _results()
    del document["assessment-results"]["uuid"]
    document["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "done"
    assert validate_oscal(document, model="assessment-results") == [
        "/assessment-results: 'uuid' is a required property",
        "/assessment-results/results/0/findings/0/target/status/state: 'done' is not one of "
        "['satisfied', 'not-satisfied']",
    ]


def test_an_empty_assessment_is_still_valid():
    document = _results(controls=[], audits=[])
    result = document["assessment-results"]["results"][0]
    assert validate_oscal(document, model="assessment-results") == []
    assert result["reviewed-controls"] == {"control-selections": [{"description": "No controls were assessed."}]}
    assert (result["start"], result["end"]) == ("2026-03-03T00:00:00Z", "2026-03-03T00:00:00Z")


def _with(index, **changes):
    controls = _controls()
    controls[index] = {**controls[index], **changes}
    return controls


@pytest.mark.parametrize("overrides, message", [
    ({"controls": _with(0, status="done")}, ERR_STATUS.format(index=0, value="done")),
    ({"controls": _with(0, framework="nist")}, ERR_CONTROL_FRAMEWORK.format(index=0, value="nist")),
    ({"controls": _with(0, control_id="MEASURE2.11")},
     ERR_CONTROL_ID.format(field="controls[0].control_id", value="MEASURE2.11", framework="ai-rmf")),
    ({"controls": _with(1, control_id="MEASURE 2.11", framework="ai-rmf")},
     ERR_DUPLICATE.format(index=1, framework="ai-rmf", value="MEASURE 2.11")),
    ({"controls": _with(0, evidence=[_evidence("e1", RUN_1, "maybe")])},
     ERR_OUTCOME.format(index=0, item=0, value="maybe")),
    ({"controls": _with(0, evidence=[_evidence("e1", RUN_1, created="2026-03-01 09:00")])},
     ERR_TIMESTAMP.format(field="controls[0].evidence[0].created_at", value="2026-03-01 09:00")),
    ({"generated_at": "2026-03-03"}, ERR_TIMESTAMP.format(field="generated_at", value="2026-03-03")),
    ({"system": {"name": "x"}}, ERR_MISSING.format(field="system.slug")),
    ({"tool_version": " "}, ERR_MISSING.format(field="tool_version")),
])
def test_assessment_inputs_are_checked(overrides, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        _results(**overrides)


def test_a_finding_title_names_its_control_once():
    controls = [dict(c, title=c["control_id"]) if c["framework"] == "ai-rmf" else c for c in _controls()]
    titles = [f["title"] for f in _results(controls=controls)["assessment-results"]["results"][0]["findings"]]
    assert "GOVERN 1.1" in titles and not any(t.startswith("GOVERN 1.1 GOVERN") for t in titles)
    assert all(t.split()[0] != t.split()[1] for t in titles if len(t.split()) > 1)


SHA = hashlib.sha256(b"# AI policy").hexdigest()
POLICY_DOC = {"id": "d1", "title": "AI policy", "kind": "document", "sha256": SHA, "href": "/documents/d1/download/",
              "media_type": "text/markdown", "effective_on": "2026-01-01", "review_by": "2026-12-31",
              "controls": [("ai-rmf", "GOVERN 1.1"), ("iso42001", "A.2.2")]}


def test_documents_are_back_matter_resources_with_their_hash_and_a_stale_control_is_not_satisfied():
    controls = _controls()
    controls[4] = {**controls[4], "status": "stale",
                   "evidence": [{**_evidence("e5", None, kind="document"), "document_id": "d1"}]}
    document = _results(controls=controls, documents=[POLICY_DOC])
    assert validate_oscal(document, model="assessment-results") == []
    resource = next(r for r in document["assessment-results"]["back-matter"]["resources"] if r["title"] == "AI policy")
    assert resource["uuid"] == oscal.document_resource_uuid("d1")
    assert resource["rlinks"][0]["hashes"] == [{"algorithm": "SHA-256", "value": SHA}]
    result = document["assessment-results"]["results"][0]
    finding = next(f for f in result["findings"] if f["title"].startswith("A.2.2"))
    assert finding["target"]["status"] == {"state": "not-satisfied", "reason": "other"}
    observation = next(o for o in result["observations"] if o["uuid"] == finding["related-observations"][0]["observation-uuid"])
    assert observation["relevant-evidence"][0]["href"] == f"#{resource['uuid']}"


def test_a_document_without_a_sha256_is_refused():
    with pytest.raises(ValueError, match=re.escape(oscal.ERR_SHA256.format(index=0, value="abc"))):
        _results(documents=[{**POLICY_DOC, "sha256": "abc"}])
