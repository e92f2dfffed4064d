"""Every list of the API filters by `system` and `version` the same way, by name or by id, and
says so in the OpenAPI schema; an unknown system or version is a 400, never every row or none."""

import pytest

from audits.runs.models import AuditRun
from governance.catalog.models import ControlAssessment
from governance.registry.filters import NO_SYSTEM, NO_VERSION
from tests.approval_fixtures import make_run, make_system, make_version
from tests.conftest import PERSONAS

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/assessments/", "/api/v1/datasets/", "/api/v1/versions/", "/api/v1/audit-runs/",
         "/api/v1/drift-schedules/", "/api/v1/approvals/", "/api/v1/reports/", "/api/v1/retraining-recommendations/"]
WITH_VERSION = ["/api/v1/versions/", "/api/v1/audit-runs/", "/api/v1/drift-schedules/", "/api/v1/approvals/",
                "/api/v1/reports/", "/api/v1/retraining-recommendations/"]


@pytest.fixture
def two_systems(personas):
    """loan-triage and credit, each with a version 1.0.0 and one fairness run."""
    systems = {}
    for slug in ("loan-triage", "credit"):
        system = make_system(personas["alice"], slug=slug)
        version = make_version(system)
        systems[slug] = (system, version, make_run(version))
    return systems


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def query_names(schema, path):
    return {p["name"] for p in schema["paths"][path]["get"].get("parameters", []) if p["in"] == "query"}


@pytest.mark.parametrize("path", LISTS)
def test_every_list_documents_system_and_none_documents_a_lookup_path(schema, path):
    names = query_names(schema, path)
    assert "system" in names
    assert not any("__" in n for n in names), names


@pytest.mark.parametrize("path", WITH_VERSION)
def test_lists_of_things_about_a_version_document_version(schema, path):
    assert "version" in query_names(schema, path)


@pytest.mark.parametrize("path", ["/api/v1/assessments/", "/api/v1/controls/"])
def test_framework_is_documented_with_its_values(schema, path):
    framework = next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "framework")
    assert framework["schema"]["enum"] == ["ai-rmf", "iso42001"]


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_assessments_filtered_by_system_slug_are_that_systems_only(api, two_systems, persona):
    system = two_systems["loan-triage"][0]
    body = api(persona).get("/api/v1/assessments/", {"system": "loan-triage", "limit": 500}).json()
    expected = ControlAssessment.objects.filter(system=system).count()
    assert expected > 0 and body["count"] == expected
    assert {row["system"] for row in body["results"]} == {"loan-triage"}


def test_one_controls_assessment_is_found_by_system_and_control_as_the_readme_says(api, two_systems):
    system = two_systems["loan-triage"][0]
    body = api("carla").get("/api/v1/assessments/", {"system": "loan-triage", "framework": "ai-rmf",
                                                     "control": "MEASURE 2.10"}).json()
    expected = ControlAssessment.objects.get(system=system, control__framework="ai-rmf", control__ref="MEASURE 2.10")
    assert [(r["id"], r["system"], r["control"]) for r in body["results"]] == [(expected.pk, "loan-triage",
                                                                                 "MEASURE 2.10")]


def test_a_system_is_found_by_its_id_too(api, two_systems):
    system = two_systems["credit"][0]
    by_id = api("carla").get("/api/v1/assessments/", {"system": str(system.pk), "framework": "ai-rmf",
                                                      "limit": 500}).json()
    by_slug = api("carla").get("/api/v1/assessments/", {"system": "credit", "framework": "ai-rmf",
                                                        "limit": 500}).json()
    assert by_id == by_slug
    assert by_id["count"] == ControlAssessment.objects.filter(system=system, control__framework="ai-rmf").count()


@pytest.mark.parametrize("path", LISTS)
def test_an_unknown_system_is_a_400_that_says_where_systems_are_listed(api, two_systems, path):
    r = api("carla").get(path, {"system": "loan-triag"})
    assert r.status_code == 400, r.json()
    assert r.json() == {"message": NO_SYSTEM.format(value="loan-triag"),
                        "extra": {"field": "system", "accepted": ["credit", "loan-triage"]}}


def test_runs_filter_by_version_id_or_by_name_within_the_system(api, two_systems):
    _, version, run = two_systems["credit"]
    by_id = api("sam").get("/api/v1/audit-runs/", {"version": str(version.pk)}).json()
    assert [r["id"] for r in by_id["results"]] == [str(run.pk)]
    by_name = api("sam").get("/api/v1/audit-runs/", {"system": "credit", "version": "1.0.0"}).json()
    assert [r["id"] for r in by_name["results"]] == [str(run.pk)]
    everywhere = api("sam").get("/api/v1/audit-runs/", {"version": "1.0.0"}).json()  # a name alone: every system's 1.0.0
    assert everywhere["count"] == AuditRun.objects.count() == 2


@pytest.mark.parametrize("value", ["9.9.9", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_version_is_a_400(api, two_systems, value):
    r = api("sam").get("/api/v1/audit-runs/", {"system": "credit", "version": value})
    assert (r.status_code, r.json()) == (400, {"message": NO_VERSION.format(value=value),
                                               "extra": {"field": "version", "accepted": ["1.0.0"]}})


def test_runs_filter_by_kind_and_refuse_an_unknown_one_listing_the_kinds(api, two_systems):
    assert api("sam").get("/api/v1/audit-runs/", {"kind": "fairness"}).json()["count"] == 2
    r = api("sam").get("/api/v1/audit-runs/", {"kind": "fairnes"})
    assert r.status_code == 400 and "fairness" in r.json()["extra"]["accepted"]


def test_approvals_filter_by_system_and_version(api, two_systems, personas):
    from tests.approval_fixtures import request_approval

    version = two_systems["credit"][1]
    request_approval(actor=personas["alice"], version=version, environment="staging")
    rows = api("bob").get("/api/v1/approvals/", {"system": "credit", "version": "1.0.0"}).json()
    assert [(r["system"], r["version_label"]) for r in rows] == [("credit", "1.0.0")]
    assert api("bob").get("/api/v1/approvals/", {"system": "loan-triage"}).json() == []


def test_signed_out_callers_are_refused_before_any_row_is_read(client, two_systems):
    assert client.get("/api/v1/assessments/", {"system": "credit"}).status_code == 401


def test_the_versions_list_takes_a_version_by_name_or_id_like_the_others(api, two_systems):
    version = two_systems["credit"][1]
    by_name = api("aude").get("/api/v1/versions/", {"system": "credit", "version": "1.0.0"}).json()
    by_id = api("aude").get("/api/v1/versions/", {"version": str(version.pk)}).json()
    assert [v["id"] for v in by_name["results"]] == [v["id"] for v in by_id["results"]] == [str(version.pk)]
    assert api("aude").get("/api/v1/versions/", {"system": "credit", "version": "2.0.0"}).status_code == 400
