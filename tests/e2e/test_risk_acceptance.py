"""End to end in headless Chromium: a risk officer accepts an inconclusive fairness result on the
approval page, signs the stage, and the page's gate card turns from deny to allow. Both states
pass the axe-core scan and are screenshotted."""

from __future__ import annotations

import pytest

from governance.approvals.models import ApprovalRequest, RiskAcceptance
from tests.e2e.conftest import dump
from tests.e2e.test_dashboard import _scan
from tests.approval_fixtures import STRICT_CHECKS, make_run, make_version, medium, request_approval

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

UNDECIDED = [dict(STRICT_CHECKS[0], outcome="inconclusive", value=0.071,
                  explanation="demographic parity difference on sex: 0.071 [0.012, 0.134] straddles 0.1"),
             *STRICT_CHECKS[1:]]
WHY = "300 held-out rows: the interval straddles 0.10 and no check failed; re-evaluated on Q3 data."


def test_a_risk_officer_accepts_an_inconclusive_result_and_the_gate_opens(page, personas):
    version = make_version(medium(personas))
    run = make_run(version, outcome="inconclusive", checks=UNDECIDED)
    request = request_approval(actor=personas["alice"], version=version, environment="production")
    problems: dict = {}

    page.sign_in("bob").go(f"/approvals/{request.pk}/")
    assert "deny" in page.text(".card .chip") and "was inconclusive" in page.text()
    assert "0.071" in page.text("section.card table")
    _scan(page, "risk-acceptance-form", problems)
    page.fill({"#accept-justification-1": WHY})
    page.submit("form[action$='/accept-risk/'] button[type=submit]")
    page.wait_for(lambda: "You accepted the inconclusive fairness audit" in page.text(".messages"),
                  what="the acceptance")
    acceptance = RiskAcceptance.objects.get(audit_run=run, environment="production")
    assert (acceptance.accepted_by.username, acceptance.justification) == ("bob", WHY)
    assert "accepted" in page.text("section.card h3") and WHY in page.text("section.card")

    page.fill({"#decision-comment": "Residual fairness risk accepted above; evidence otherwise complete."})
    page.submit("button[name=decision][value=approve]")
    page.wait_for(lambda: "Your decision is recorded" in page.text(".messages"), what="the decision")
    request = ApprovalRequest.objects.get(pk=request.pk)
    assert request.status == "approved"
    assert page.text(".card .chip").startswith("allow")
    _scan(page, "risk-accepted-allow", problems)
    assert problems == {}, dump(problems)
