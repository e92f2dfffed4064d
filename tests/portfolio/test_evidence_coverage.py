"""The portfolio and the heatmap say, per control, whether an audit, a document, both or
nothing covers it, and what share of each framework's controls has current evidence; they
apply one rule and agree, and the portfolio reads it in one query whatever the documents."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.catalog.documents import document_attach
from governance.catalog.models import ControlAssessment
from tests.portfolio.test_pages import finished_run, login, make_system, make_version

pytestmark = pytest.mark.django_db
TODAY = datetime.date.today()


def attach(system, actor, refs, *, review_by, name="policy.md"):
    assessments = list(ControlAssessment.objects.filter(system=system, control__ref__in=refs).select_related("control"))
    return document_attach(actor=actor, system=system, assessments=assessments, kind="document", title=name,
                           effective_on=TODAY - datetime.timedelta(days=400), review_by=review_by, owner=actor,
                           upload=SimpleUploadedFile(name, f"# {name}\n{refs}".encode()), filename=name)


@pytest.fixture
def covered(personas):
    """MEASURE 2.11 by a fairness audit and a document; GOVERN 1.1 and A.2.2 by a current
    document; GOVERN 2.1 by an expired one (stale)."""
    system = make_system(personas["alice"], "covered")
    finished_run(make_version(system), outcome="pass")  # fairness: MEASURE 2.11, MEASURE 2.2, A.5.4, A.7.4
    carla = personas["carla"]
    attach(system, carla, ["GOVERN 1.1", "A.2.2", "MEASURE 2.11"], review_by=TODAY + datetime.timedelta(days=30))
    attach(system, carla, ["GOVERN 2.1"], review_by=TODAY - datetime.timedelta(days=1), name="roles.md")
    return system


def test_the_heatmap_marks_what_covers_each_control_and_the_share_with_current_evidence(personas, covered):
    response = login(personas["carla"]).get("/systems/covered/")
    heatmap = {fw["framework"]: fw for fw in response.context["heatmap"]}
    cells = {a.control.ref: a for fw in heatmap.values() for g in fw["groups"] for row in g["rows"]
             for a in row["cells"]}
    assert {ref: cells[ref].coverage for ref in ["MEASURE 2.11", "MEASURE 2.2", "GOVERN 1.1", "GOVERN 2.1", "MAP 1.1"]} \
        == {"MEASURE 2.11": "both", "MEASURE 2.2": "audit", "GOVERN 1.1": "document", "GOVERN 2.1": "document",
            "MAP 1.1": "none"}  # the registry entry is evidence, but neither an audit nor a document
    assert cells["GOVERN 2.1"].shown_status == "stale" and not cells["GOVERN 2.1"].current
    # AI RMF: MEASURE 2.11, 2.2 (audit), GOVERN 1.1 (document) current; GOVERN 2.1 expired.
    assert (heatmap["ai-rmf"]["current"], heatmap["ai-rmf"]["coverage"]) == (
        3, {"both": 1, "audit": 1, "document": 2, "none": 68})
    assert (heatmap["iso42001"]["current"], heatmap["iso42001"]["coverage"]) == (
        3, {"both": 0, "audit": 2, "document": 1, "none": 35})  # A.5.4, A.7.4 by the audit; A.2.2
    html = response.content.decode()
    assert 'aria-label="GOVERN 2.1: Stale (evidence expired), covered by a document"' in html
    assert "4% of controls have current evidence (3 of 72)" in html


def test_the_portfolio_counts_the_same_as_the_heatmap(personas, covered):
    response = login(personas["carla"]).get("/systems/")
    row = next(s for s in response.context["page"].object_list if s.slug == "covered")
    ai, iso = row.coverage["ai-rmf"], row.coverage["iso42001"]
    assert (ai["current"], ai["evidence"], ai["stale"]) == (3, {"both": 1, "audit": 1, "document": 2, "none": 68}, 1)
    assert (iso["current"], iso["evidence"]) == (3, {"both": 0, "audit": 2, "document": 1, "none": 35})
    assert ai["current_percent"] == 4
    assert "current 4% · A+D 1 · A 1 · D 2 · none 68" in response.content.decode()


def test_documents_cost_the_portfolio_no_query(personas, covered, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    carla = login(personas["carla"])
    carla.get("/systems/")
    with CaptureQueriesContext(connection) as before:
        carla.get("/systems/")
    other = make_system(personas["alice"], "more")
    for i in range(5):
        attach(other, personas["carla"], ["GOVERN 1.2", "A.9.3"], review_by=TODAY + datetime.timedelta(days=9),
               name=f"p{i}.md")
    with django_assert_num_queries(len(before.captured_queries)):
        carla.get("/systems/")
