"""The incident pages and API per role: owners, compliance and risk officers read and manage
their systems' incidents, auditors read only, the others nothing; the regulator's facts are for
compliance officers and auditors; the system page and the signed report show the appeal figures."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from governance.incidents.models import Incident
from governance.incidents.services import incident_open, public_report_answer
from tests.approval_fixtures import medium

pytestmark = pytest.mark.django_db
READERS = {"alice", "bob", "carla", "aude", "root"}
MANAGERS = {"alice", "bob", "carla", "root"}
EXPORTERS = {"carla", "aude", "root"}
EVERYONE = ["alice", "oscar", "bob", "sam", "carla", "erik", "aude", "root"]


@pytest.fixture
def incident(personas):
    system = medium(personas)
    return incident_open(actor=personas["alice"], system=system, title="Stale features",
                         description="<b>bold</b> claims", serious=True, serious_category="other")


def client(personas, name, api=False):
    c = APIClient() if api else Client()
    c.force_login(personas[name])
    return c


@pytest.mark.parametrize("persona", EVERYONE)
def test_each_role_reads_incidents_as_its_row_allows(personas, incident, persona):
    page, api = client(personas, persona), client(personas, persona, api=True)
    read = {"list": page.get("/systems/triage/incidents/").status_code,
            "detail": page.get(f"/incidents/{incident.pk}/").status_code,
            "api": api.get(f"/api/v1/incidents/{incident.pk}/").status_code,
            "regulator": page.get(f"/incidents/{incident.pk}/regulator/").status_code,
            "regulator-api": api.get(f"/api/v1/incidents/{incident.pk}/regulator-report/").status_code}
    readable = persona in READERS
    assert read == {"list": 200 if readable else 403, "detail": 200 if readable else 403,
                    "api": 200 if readable else 403,
                    "regulator": 200 if persona in EXPORTERS else 403,
                    "regulator-api": 200 if persona in EXPORTERS else 403}


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_managers_move_an_incident(personas, incident, persona):
    response = client(personas, persona, api=True).post(f"/api/v1/incidents/{incident.pk}/transition/",
                                                        {"to": "investigating"}, format="json")
    assert response.status_code == (200 if persona in MANAGERS else 403)
    assert Incident.objects.get().status == ("investigating" if persona in MANAGERS else "open")


def test_a_disallowed_step_is_a_409_naming_the_status(personas, incident):
    response = client(personas, "carla", api=True).post(f"/api/v1/incidents/{incident.pk}/transition/",
                                                        {"to": "closed"}, format="json")
    assert response.status_code == 409 and response.json()["extra"]["field"] == "status"


def test_an_incident_opened_through_the_api(personas):
    medium(personas)
    api = client(personas, "bob", api=True)
    response = api.post("/api/v1/incidents/", {"system": "triage", "title": "Outage", "description": "No scores",
                                               "versions": ["9.9"]}, format="json")
    assert response.status_code == 404 and response.json()["extra"]["field"] == "versions"
    response = api.post("/api/v1/incidents/", {"system": "triage", "title": "Outage", "description": "No scores",
                                               "severity": "critical", "environments": ["production"]}, format="json")
    assert response.status_code == 201 and response.json()["reference"].startswith("INC-")
    assert api.get("/api/v1/incidents/?system=triage&status=open").json()[0]["title"] == "Outage"
    assert api.get("/api/v1/incidents/?colour=red").status_code == 400  # undocumented parameter


def test_the_incident_page_walks_a_step_and_escapes_the_description(personas, incident):
    page = client(personas, "carla")
    html = page.get(f"/incidents/{incident.pk}/").content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert "Regulation (EU) 2024/1689, Art. 73(2)" in html
    page.post(f"/incidents/{incident.pk}/transition/", {"to": "investigating", "note": "on it"})
    assert Incident.objects.get().status == "investigating"
    page.post(f"/incidents/{incident.pk}/transition/", {"to": "closed"})  # refused, said on the page
    assert Incident.objects.get().status == "investigating"


def test_the_system_page_and_the_signed_report_show_the_appeal_figures(personas, incident):
    from audits.reports.context import report_context
    from audits.reports.models import Report
    from django.utils import timezone
    from governance.incidents.models import PublicReport
    from tests.approval_fixtures import make_version

    version = make_version(incident.system)
    report = PublicReport.objects.create(system=incident.system, version=version, kind="appeal", text="x" * 30,
                                         reference_hash="b" * 64, sensitive_attribute="sex", sensitive_group="female")
    public_report_answer(actor=personas["carla"], report=report, answer="Re-scored: approved.", outcome="overturned")
    html = client(personas, "carla").get("/systems/triage/").content.decode()
    assert "Incidents, reports and appeals" in html and "Appeals per sensitive group" in html
    assert "Appeals per sensitive group" not in client(personas, "sam").get("/systems/triage/").content.decode()
    signed = Report.objects.create(report_number="R-1", system=incident.system, version=version, status="signed",
                                   sha256="c" * 64, created_by=personas["carla"])
    context = report_context(report=Report.objects.select_related("system", "version").get(pk=signed.pk),
                             generated_at=timezone.now())
    [section] = context["sections"]
    assert section["template"] == "incidents/report_section.html"
    assert section["context"]["figures"]["by_version"][0]["overturned"] == 1
    assert [i.reference for i in section["context"]["incidents"]] == [incident.reference]


def test_an_incident_opened_by_hand_on_its_page(personas):
    system = medium(personas)
    page = client(personas, "bob")
    assert client(personas, "aude").get("/systems/triage/incidents/new/").status_code == 403
    refused = page.post("/systems/triage/incidents/new/", {"title": "", "description": "d", "severity": "low"})
    assert refused.status_code == 400 and not Incident.objects.exists()
    done = page.post("/systems/triage/incidents/new/", {
        "title": "Scores missing", "description": "The scoring job stopped at 03:00.", "severity": "high",
        "environments": ["production"], "serious": "on", "serious_category": "widespread"})
    incident = Incident.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/incidents/{incident.pk}/"
    assert (incident.system, incident.serious, incident.deadlines.get().days) == (system, True, 2)


def test_a_report_from_outside_becomes_an_incident(personas):
    from governance.incidents.models import PublicReport
    from governance.incidents.services import public_report_escalate

    system = medium(personas)
    report = PublicReport.objects.create(system=system, kind="problem", text="The page scored me twice.",
                                         reference_hash="d" * 64)
    from governance.core.exceptions import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):  # auditors read only
        public_report_escalate(actor=personas["aude"], report=report)
    incident = public_report_escalate(actor=personas["carla"], report=report)
    assert (incident.source, incident.description) == ("report", "The page scored me twice.")
    report.refresh_from_db()
    assert (report.incident, report.status) == (incident, "in_review")
    assert public_report_escalate(actor=personas["carla"], report=report) == incident  # once


def test_the_reports_section_renders_its_tables(personas, incident):
    from django.template.loader import render_to_string

    from governance.incidents.feedback import Appeal, appeal_figures

    figures = appeal_figures([Appeal("1.0.0", "sex", "female", "overturned")], decisions={"1.0.0": 200})
    html = render_to_string("incidents/report_section.html", {"section": {
        "figures": figures, "incidents": [incident], "version": "1.0.0"}})
    assert "0.0050 [0.0001, 0.0275]" in html  # 1 appeal of 200 decisions, exact interval
    assert incident.reference in html and "Another serious incident (Art. 73(2))" in html


def test_an_owner_lists_only_their_own_systems_incidents(personas, incident):
    from tests.approval_fixtures import make_system

    other = make_system(personas["oscar"], slug="other", tier="low")
    incident_open(actor=personas["oscar"], system=other, title="Oscar's", description="d")
    titles = {name: {row["title"] for row in client(personas, name, api=True).get("/api/v1/incidents/").json()}
              for name in ("alice", "oscar", "aude")}
    assert titles == {"alice": {"Stale features"}, "oscar": {"Oscar's"}, "aude": {"Stale features", "Oscar's"}}
