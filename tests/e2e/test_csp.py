"""In a real browser, the site's pages break no rule of their Content-Security-Policy: no style
attribute is refused (style-src-attr 'none'), no inline script or style element either."""

import pytest

from tests.approval_fixtures import request_approval
from tests.portfolio.test_pages import finished_run, make_system, make_version

pytestmark = pytest.mark.e2e


def violations(page) -> list[str]:
    return [entry["message"] for entry in page.driver.get_log("browser")
            if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]]


def test_the_pages_a_compliance_officer_reads_break_no_rule_of_the_policy(page, personas):
    system = make_system(personas["alice"], "credit-scoring", tier="high", name="Credit scoring")
    version = make_version(system)
    runs = [finished_run(version, kind=kind) for kind in ("data_quality", "drift", "fairness")]
    request = request_approval(actor=personas["alice"], version=version, environment="staging")
    page.sign_in("carla")
    violations(page)  # the log so far (signing in), read and dropped
    for path in ("/systems/", "/systems/credit-scoring/", "/inbox/", "/controls/ai-rmf/MEASURE%202.11/",
                 f"/approvals/{request.pk}/", *(f"/runs/{run.pk}/" for run in runs)):
        page.go(path)
        page.wait_for(lambda: page.driver.execute_script("return document.readyState") == "complete", what=path)
        found = violations(page)
        assert not found, f"{path}: " + " | ".join(found)
