"""Machine-readable exports: OSCAL catalogs and assessment results (valid against NIST's shipped
OSCAL 1.1.3 JSON Schemas) and model cards in Markdown and JSON."""

from __future__ import annotations

import json

import pytest

from audits.exports.oscal import validate_oscal
from tests.reports.test_service import ROBUSTNESS, stored_run

pytestmark = pytest.mark.django_db

FAIRNESS = {
    "n": 300,
    "overall": {"accuracy": {"value": 0.757, "ci": [0.71, 0.80]}},
    "features": {"sex": {"groups": [], "disparities": {
        "demographic_parity_difference": {"value": 0.153, "ci": [0.037, 0.269]},
        "equalized_odds_ratio": {"value": 0.65, "ci": [0.40, 0.89]}}}},
    "intersectional": None,
}


def download_json(response) -> dict:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return json.loads(response.content)


@pytest.mark.parametrize("framework,controls", [("ai-rmf", 72), ("iso42001", 38)])
def test_each_catalog_exports_as_a_valid_oscal_catalog(api, catalog, personas, framework, controls):
    response = api("aude").get(f"/api/v1/exports/oscal/catalogs/{framework}/")
    document = download_json(response)
    assert f'filename="{framework}.oscal-catalog.json"' in response["Content-Disposition"]
    assert validate_oscal(document, model="catalog") == []

    def count(groups):
        return sum(len(g.get("controls", [])) + count(g.get("groups", [])) for g in groups)

    assert count(document["catalog"]["groups"]) == controls


def test_an_unknown_framework_is_a_404_that_names_the_choices(api, catalog, personas):
    response = api("aude").get("/api/v1/exports/oscal/catalogs/nist-csf/")
    assert response.status_code == 404
    assert response.json() == {"message": "framework must be one of: ai-rmf, iso42001.", "extra": {"field": "framework"}}


def test_a_systems_assessment_results_are_valid_oscal_with_a_finding_per_control(api, credit_system, personas):
    system, version = credit_system
    fairness = stored_run(version, "fairness", outcome="fail", results=FAIRNESS)
    stored_run(version, "robustness", results=ROBUSTNESS)
    document = download_json(api("carla").get(f"/api/v1/exports/oscal/assessment-results/{system.slug}/"))
    assert validate_oscal(document, model="assessment-results") == []
    result = document["assessment-results"]["results"][0]
    assert len(result["findings"]) == 72 + 38
    measure = next(f for f in result["findings"] if f["title"].startswith("MEASURE 2.11"))
    assert measure["target"]["status"]["state"] == "not-satisfied"  # the failed fairness evidence
    observation = next(o for o in result["observations"] if o["title"] == "fairness audit")
    assert str(fairness.pk) in json.dumps(observation)
    assert "disparities.sex.demographic_parity_difference: 0.153 [0.037, 0.269]" in observation["description"]


def test_assessment_results_list_each_document_with_its_sha256_and_stay_valid_oscal(api, credit_system, personas):
    import datetime
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    from governance.catalog.documents import document_attach
    from governance.catalog.models import ControlAssessment

    system, _ = credit_system
    today, carla = datetime.date.today(), personas["carla"]
    assessments = ControlAssessment.objects.filter(system=system, control__ref__in=["GOVERN 2.1", "A.3.2"])
    doc = document_attach(actor=carla, system=system, assessments=list(assessments.select_related("control")),
                          kind="document", title="Roles and responsibilities", effective_on=today,
                          review_by=today + datetime.timedelta(days=365), owner=carla,
                          upload=SimpleUploadedFile("roles.md", b"# Roles\n"), filename="roles.md")
    document = download_json(api("aude").get(f"/api/v1/exports/oscal/assessment-results/{system.slug}/"))
    assert validate_oscal(document, model="assessment-results") == []
    resource = next(r for r in document["assessment-results"]["back-matter"]["resources"]
                    if r["title"] == "Roles and responsibilities")
    assert resource["rlinks"] == [{"href": f"/documents/{doc.pk}/download/", "media-type": "text/markdown",
                                   "hashes": [{"algorithm": "SHA-256", "value": hashlib.sha256(b"# Roles\n").hexdigest()}]}]
    assert {p["value"] for p in resource["props"] if p["name"] == "control-id"} == {"govern-2.1", "a.3.2"}
    result = document["assessment-results"]["results"][0]
    finding = next(f for f in result["findings"] if f["title"].startswith("GOVERN 2.1"))
    assert finding["target"]["status"]["state"] == "satisfied"
    observed = {o["uuid"]: o for o in result["observations"]}
    evidence = observed[finding["related-observations"][0]["observation-uuid"]]
    assert evidence["methods"] == ["EXAMINE"]
    assert evidence["relevant-evidence"][0]["href"] == f"#{resource['uuid']}"


def test_the_model_card_comes_as_markdown_and_as_json(api, credit_system, personas):
    system, version = credit_system
    stored_run(version, "fairness", outcome="fail", results=FAIRNESS)
    client = api("aude")
    markdown = client.get(f"/api/v1/exports/model-cards/{version.id}.md")
    assert markdown.status_code == 200 and markdown["Content-Type"] == "text/markdown; charset=utf-8"
    assert f'filename="{system.slug}-1.0.0.model-card.md"' in markdown["Content-Disposition"]
    text = markdown.content.decode()
    assert text.startswith("# Model card: Credit 1.0.0")
    assert "| overall.accuracy | 0.757 | [0.71, 0.8] |" in text
    assert version.artifact_sha256 in text and version.eval_dataset.sha256 in text

    card = download_json(client.get(f"/api/v1/exports/model-cards/{version.id}.json"))
    assert card["model_details"]["sha256"] == version.artifact_sha256
    assert card["factors"]["sensitive_features"] == ["sex", "age"]
    assert [m["kind"] for m in card["metrics"]] == ["fairness"]
    coverage = {row["framework"]: row["total"] for row in card["control_coverage"]}
    assert coverage == {"ai-rmf": 72, "iso42001": 38}


def test_exports_need_authentication(client, credit_system):
    system, version = credit_system
    for url in (f"/api/v1/exports/oscal/assessment-results/{system.slug}/", "/api/v1/exports/oscal/catalogs/ai-rmf/",
                f"/api/v1/exports/model-cards/{version.id}.json"):
        assert client.get(url).status_code in (401, 403)


def test_a_browser_session_downloads_the_exports_from_the_system_page(client, credit_system, personas):
    system, _ = credit_system
    client.force_login(personas["alice"])
    response = client.get(f"/api/v1/exports/oscal/assessment-results/{system.slug}/")
    assert response.status_code == 200
    assert f'filename="{system.slug}.oscal-assessment-results.json"' in response["Content-Disposition"]
