"""End to end in headless Chromium: the blind-approval path. The owner asks for production
approval of a version whose required fairness audit failed, with no reason, and is stopped at the
acknowledgement step; the risk officer's one-click approval is refused the same way, until they
tick that they read what the version misses and write why. The approval page and the portfolio
pass the axe-core scan and are screenshotted."""

from __future__ import annotations

import pytest

from governance.approvals.models import ApprovalRequest
from tests.approval_fixtures import STRICT_CHECKS, make_run, make_version, medium
from tests.e2e.conftest import dump
from tests.e2e.test_dashboard import _scan

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FAILED = [dict(STRICT_CHECKS[0], outcome="fail", value=0.31,
               explanation="demographic parity difference on sex: 0.31 [0.22, 0.40] > 0.1"), *STRICT_CHECKS[1:]]
WHY = "Failure understood: the retrained 1.1.0 fixes it; this one ships behind a human review of every file."


def test_a_blind_approval_is_stopped_at_the_acknowledgement_step(page, personas):
    version = make_version(medium(personas, "loan-triage"))
    make_run(version, outcome="fail", checks=FAILED)
    problems: dict = {}

    # the owner: no acknowledgement, no reason -> the same step again, with what is missing
    page.sign_in("alice").go(f"/wizard/loan-triage/{version.pk}/approval/")
    assert "Not yet met for production:" in page.text("main form")
    page.find("#env-production").click()
    page.submit("main form button[type=submit]")
    page.wait_for(lambda: "acknowledge:" in page.text(), what="the refusal")
    assert "loan-triage@1.0.0 does not meet its production policy" in page.text()
    assert not ApprovalRequest.objects.exists()
    _scan(page, "eyes-open-request-refused", problems)
    page.find("#id_acknowledge").click()
    page.fill({"#id_justification": WHY})
    page.submit("main form button[type=submit]")
    request = page.wait_for(lambda: ApprovalRequest.objects.filter(version=version).first(), what="the request")
    assert request.acknowledged_gaps and request.justification == WHY

    # the risk officer: one click is not enough
    page.sign_in("bob").go(f"/approvals/{request.pk}/")
    assert "This version does not meet its production policy:" in page.text()
    assert "failed the policy" in page.text(".gaps")
    _scan(page, "eyes-open-approval", problems)
    page.fill({"#decision-comment": "Looks fine."})
    page.submit("button[name=decision][value=approve]")
    page.wait_for(lambda: "acknowledge:" in page.text(".messages"), what="the refused approval")
    assert not request.decisions.exists()
    assert page.find("#decision-comment").get_attribute("value") == "Looks fine."  # what was typed is kept
    page.find("#decision-ack").click()
    page.fill({"#decision-comment": WHY})
    page.submit("button[name=decision][value=approve]")
    page.wait_for(lambda: "Your decision is recorded" in page.text(".messages"), what="the decision")
    decision = request.decisions.get()
    assert decision.acknowledged_gaps == request.acknowledged_gaps
    assert "Approved knowing the version missed" in page.text()
    _scan(page, "eyes-open-approved", problems)

    # the portfolio: the failure still shows, and the gate still denies
    page.sign_in("carla").go("/systems/")
    row = page.text("table.portfolio tbody tr")
    assert "Fairness slices: fail" in row and "Production: deny" in row, row
    _scan(page, "eyes-open-portfolio", problems)
    assert problems == {}, dump(problems)
