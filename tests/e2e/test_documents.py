"""End to end in headless Chromium: the compliance officer attaches the AI policy to GOVERN 1.1,
keeps the crosswalk's proposal ticked, and the control and its ISO partners are satisfied.
The attach page and the control page pass the axe-core scan and are screenshotted."""

from __future__ import annotations

import datetime

import pytest

from governance.catalog.models import ControlAssessment
from tests.approval_fixtures import medium
from tests.e2e.conftest import dump
from tests.e2e.test_dashboard import _scan

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_compliance_officer_attaches_a_policy_through_the_crosswalk(page, personas, tmp_path):
    system = medium(personas)
    policy = tmp_path / "ai-policy.md"
    policy.write_text("# AI policy\n\nWe build AI systems that are valid, fair and accountable.\n")
    problems: dict = {}

    page.sign_in("carla").go(f"/systems/{system.slug}/controls/ai-rmf/GOVERN 1.1/")
    page.find("a[href$='/documents/new/']").click()
    page.wait_for(lambda: "The crosswalk proposes" in page.text(), what="the attach page")
    assert "A.2.2" in page.text("fieldset.crosswalk") and "A.2.4" in page.text("fieldset.crosswalk")
    _scan(page, "document-attach", problems)
    today = datetime.date.today()
    page.fill({"#id_title": "AI policy v1", "#id_file": str(policy)})
    # Date inputs take their value in ISO form from script; typing depends on the browser's locale.
    page.driver.execute_script(
        "document.getElementById('id_effective_on').value = arguments[0];"
        "document.getElementById('id_review_by').value = arguments[1];",
        today.isoformat(), (today + datetime.timedelta(days=365)).isoformat())
    page.submit("form.document-form button[type=submit]")
    page.wait_for(lambda: "is evidence on GOVERN 1.1, A.2.2, A.2.4" in page.text(".messages"), what="the attachment")
    statuses = dict(ControlAssessment.objects.filter(system=system, control__ref__in=["GOVERN 1.1", "A.2.2", "A.2.4"])
                    .values_list("control__ref", "status"))
    assert statuses == {"GOVERN 1.1": "satisfied", "A.2.2": "satisfied", "A.2.4": "satisfied"}
    assert "download" in page.text("table")
    _scan(page, "document-attached", problems)
    assert problems == {}, dump(problems)
