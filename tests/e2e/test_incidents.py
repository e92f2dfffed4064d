"""End to end in headless Chromium: an applicant with no account appeals a decision on the public
page, keeps the reference and follows it; the compliance officer reads the appeal (escaped),
answers it, and walks an incident opened by a drift breach one step. Every page passes the
axe-core scan and is screenshotted."""

from __future__ import annotations

import pytest

from audits.drift.services import drift_breach_handle
from governance.incidents.models import Incident, PublicReport
from tests.approval_fixtures import approve, make_run, make_version, medium, passing_run
from tests.e2e.conftest import dump
from tests.e2e.test_dashboard import _scan

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_outsiders_appeal_and_the_incident_of_a_drift_breach(page, personas, settings):
    # A browser types faster than a person, and a loaded machine makes that race a coin toss; the rule
    # itself is tested in tests/incidents.
    settings.PUBLIC_REPORT_MIN_SECONDS = 0
    system = medium(personas)
    version = make_version(system)
    passing_run(version)
    approve(version, "production", personas)
    drift_breach_handle(run=make_run(version, kind="drift", outcome="fail"),
                        review={"breach": True, "breaches": ["PSI on credit_amount 0.41 > 0.25."]})
    incident = Incident.objects.get()
    problems: dict = {}

    # The applicant: no account.
    page.driver.delete_all_cookies()
    page.go(f"/report/{system.slug}/")
    page.wait_for(lambda: "Report a problem or appeal a decision" in page.text(), what="the public page")
    _scan(page, "public-report", problems)
    page.find("input[name=kind][value=appeal]").click()
    page.fill({"#id_decision_reference": "LN-2026-0042", "#id_version": "1.0.0",
               "#id_text": "Refused although my income covers it <script>alert(1)</script>"})
    page.submit("form.public-report-form button[type=submit]")
    shown = lambda css: " ".join(e.text for e in page.find_all(css))  # noqa: E731
    page.wait_for(lambda: shown("#reference") or shown("li.error"), what="the reference or a refusal")
    assert not shown("li.error"), shown("li.error")  # a refusal fails here, with its reason
    reference = shown("#reference")
    _scan(page, "public-report-received", problems)
    page.go(f"/report/{system.slug}/follow/")
    page.fill({"#id_reference": reference})
    page.submit("form.follow-form button[type=submit]")
    page.wait_for(lambda: "Not answered yet" in page.text(), what="the report's status")
    _scan(page, "public-report-status", problems)
    assert PublicReport.objects.get().kind == "appeal"

    # The compliance officer: the appeal, escaped, and its answer.
    page.sign_in("carla").go(f"/systems/{system.slug}/incidents/")
    page.wait_for(lambda: "<script>alert(1)</script>" in page.text("blockquote.sender-text"), what="the appeal")
    _scan(page, "incident-list", problems)
    page.fill({"textarea[name=answer]": "Re-scored with current income: approved."})
    page.submit("form.answer-form button[type=submit]")
    page.wait_for(lambda: "Answered" in page.text(".messages"), what="the answer")
    assert PublicReport.objects.get().outcome == "upheld"  # the first choice of the outcome list
    page.go(f"/systems/{system.slug}/")
    page.wait_for(lambda: "Appeals per version" in page.text("section.incidents-panel"), what="the system page's panel")
    _scan(page, "system-incidents-panel", problems)

    # The incident its drift breach opened: one step on its timeline.
    page.go(f"/incidents/{incident.pk}/")
    page.wait_for(lambda: incident.reference in page.text("h1"), what="the incident page")
    _scan(page, "incident-detail", problems)
    page.submit("form.transition-form button[type=submit]")
    page.wait_for(lambda: "Investigating" in page.text(".incident-status"), what="the step")
    _scan(page, "incident-stepped", problems)
    assert problems == {}, dump(problems)
