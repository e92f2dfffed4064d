"""End to end in headless Chromium: each persona signs in; a model owner registers a model with
the wizard; its audit runs through a real worker while the progress bar moves to done; two
approvers decide in their inbox; the portfolio shows the production gate flip. Every main page
passes an axe-core scan (no serious or critical WCAG 2.1 AA violation) and is screenshotted."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from audits.runs.models import AuditRun
from governance.approvals.models import ApprovalRequest
from governance.registry.models import ModelVersion
from governance.policies.models import Policy
from tests.conftest import PERSONAS, csv_bytes
from tests.e2e.conftest import dump

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Lenient enough that the 5-epoch test model passes, so the gate can open once approved.
LENIENT = {"demographic_parity_difference": {"max": 0.9}, "demographic_parity_ratio": {"min": 0.05},
           "equalized_odds_difference": {"max": 0.95}}


def test_each_persona_signs_in_and_sees_their_role(page, personas):
    for name, role in PERSONAS.items():
        page.sign_in(name)
        header = page.text("header.top")
        assert name.title() in header, header
        assert {"model_owner": "Model owner", "risk_officer": "Risk officer", "security_reviewer": "Security reviewer",
                "compliance_officer": "Compliance officer", "executive_approver": "Executive approver",
                "auditor": "Auditor", "admin": "Administrator"}[role] in header
        assert page.path == "/systems/"
    # the model owner may register models; the auditor may not
    page.sign_in("alice")
    assert page.find_all("header nav a[href='/wizard/']")
    page.sign_in("aude")
    assert not page.find_all("header nav a[href='/wizard/']")
    page.go("/login/").driver.delete_all_cookies()
    page.go("/login/")
    assert page.axe() == []


def _scan(page, name, problems):
    found = page.axe()
    if found:
        problems[name] = found
    page.screenshot(name)


def test_wizard_audit_approvals_and_the_gate_flip(page, personas, credit_frames, credit_model, e2e_worker,
                                                  monkeypatch, tmp_path):
    from audits.runs import registry

    # A short audit (no mitigation outlook): the worker still runs the
    # real probe end to end, in seconds instead of a minute.
    fast = replace(registry.KINDS["fairness"], defaults={**registry.KINDS["fairness"].defaults,
                                                         "mitigation": False})
    monkeypatch.setitem(registry.KINDS, "fairness", fast)
    for policy in Policy.objects.filter(risk_tier="medium"):
        policy.audit_requirements = {"fairness": {"thresholds": LENIENT, "max_age_days": 180}}
        if policy.environment == "production":  # two approvers decide production
            policy.approval_stages = [["risk_officer"], ["executive_approver"]]
        policy.save()
    train, test = credit_frames
    artifact, spec = credit_model
    files = {"train": tmp_path / "train.csv", "test": tmp_path / "holdout.csv", "model": tmp_path / "model.safetensors",
             "spec": tmp_path / "spec.json"}
    files["train"].write_bytes(csv_bytes(train))
    files["test"].write_bytes(csv_bytes(test))
    files["model"].write_bytes(artifact)
    files["spec"].write_text(json.dumps(spec))
    problems: dict = {}

    # 1-3: the owner describes the system, uploads data and the model
    page.sign_in("alice").go("/wizard/")
    _scan(page, "wizard-1-system", problems)
    page.fill({"#id_name": "Loan triage", "#id_purpose": "Ranks incoming loan files for the credit team.",
               "#id_intended_use": "Decision support; a loan officer reviews every file."})
    page.find("#tier-medium").click()
    page.submit()
    page.wait_for(lambda: page.path == "/wizard/loan-triage/data/", what="the data step")
    _scan(page, "wizard-2-data", problems)
    page.fill({"#id_eval_file": files["test"], "#id_train_file": files["train"], "#id_label": "risk",
               "#id_sensitive": "sex, age"})
    page.submit()
    page.wait_for(lambda: page.path == "/wizard/loan-triage/model/", what="the model step")
    _scan(page, "wizard-3-model", problems)
    page.fill({"#id_artifact": files["model"], "#id_spec": files["spec"]})
    page.submit()
    page.wait_for(lambda: page.path.endswith("/audits/"), what="the audits step")
    version = ModelVersion.objects.get(system__slug="loan-triage", version="1.0.0")
    assert version.eval_dataset.schema["sensitive"] == ["sex", "age"]
    _scan(page, "wizard-4-audits", problems)

    # 4-5: pick the (required, pre-ticked) fairness audit; watch the bar move to done
    assert page.find("#kind-fairness").is_selected()
    page.submit()
    page.wait_for(lambda: page.path.endswith("/results/"), what="the results step")
    seen = []

    def bar():
        el = page.find("[id^=progress-]")
        seen.append((el.get_attribute("data-status"), int(el.get_attribute("data-progress"))))
        return seen[-1][0] in ("succeeded", "failed")

    page.wait_for(bar, timeout=150, interval=0.3, what="the audit to finish")
    run = AuditRun.objects.get(version=version)
    assert run.status == "succeeded", run.error
    assert seen[0][0] in ("queued", "running") and seen[0][1] < 100, seen
    assert seen[-1] == ("succeeded", 100), seen
    page.wait_for(lambda: page.find_all(".result .outcome"), what="the results after the refresh")
    assert f"{run.outcome}" in page.text(".result .outcome")
    assert "What it measures" in page.text(".result")
    _scan(page, "wizard-5-results", problems)

    # 6: request approval for production
    page.go(f"/wizard/loan-triage/{version.pk}/approval/")
    _scan(page, "wizard-6-approval", problems)
    page.find("#env-production").click()
    page.fill({"#id_justification": "First release; fairness within policy."})
    page.submit()
    request = page.wait_for(lambda: ApprovalRequest.objects.filter(version=version).first(), what="the request")
    page.wait_for(lambda: page.path == f"/approvals/{request.pk}/", what="the approval page")

    # the portfolio: production still denied
    page.sign_in("carla")
    assert "Production: deny" in page.text("table.portfolio")

    # the risk officer, then the executive, decide in their inbox
    for name, comment in (("bob", "Disparities within the policy on both features."),
                          ("erik", "Accepting the residual risk for this release.")):
        page.sign_in(name).go("/inbox/")
        assert "Loan triage 1.0.0 → Production" in page.text("article.decision")
        _scan(page, f"inbox-{name}", problems)
        page.fill({f"#comment-{request.pk}": comment})
        page.find("button.approve").click()
        page.wait_for(lambda: "You approved Loan triage 1.0.0 for production" in page.text(".messages"),
                      what=f"{name}'s decision")
    request.refresh_from_db()
    assert request.status == "approved"
    assert [d.comment for d in request.decisions.order_by("stage")] == [
        "Disparities within the policy on both features.", "Accepting the residual risk for this release."]

    # the portfolio shows the gate flip
    page.sign_in("carla").go("/systems/")
    row = page.text("table.portfolio tbody tr")
    assert "Production: allow" in row and "Fairness slices: pass" in row, row
    _scan(page, "portfolio", problems)
    page.print_pdf("portfolio")

    # the other main pages
    page.go("/systems/loan-triage/")
    _scan(page, "system", problems)
    page.print_pdf("system")
    page.find("a.cell.st-satisfied").click()
    page.wait_for(lambda: "/controls/" in page.path, what="the drill-down")
    assert "Evidence" in page.text()
    _scan(page, "control-drilldown", problems)
    for name, path in (("run", f"/runs/{run.pk}/"), ("runs", "/runs/"), ("glossary", "/glossary/"),
                       ("approvals", "/approvals/"), ("approval", f"/approvals/{request.pk}/"),
                       ("control", "/controls/ai-rmf/MEASURE%202.11/")):
        page.go(path)
        _scan(page, name, problems)
    assert problems == {}, dump(problems)


def test_the_keyboard_reaches_the_main_menu_and_the_focus_is_visible(page, personas):
    from selenium.webdriver.common.keys import Keys

    page.sign_in("carla").go("/systems/")
    body = page.find("body")
    body.send_keys(Keys.TAB)
    active = page.driver.switch_to.active_element
    assert active.text == "Skip to content"
    active.send_keys(Keys.TAB)
    active = page.driver.switch_to.active_element
    assert active.text == "AI Governance"
    outline = page.driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle", active)
    assert outline == "solid"


def test_the_portfolio_reads_at_a_glance_with_many_systems(page, personas):
    """Systems in every state the portfolio shows (findings, overdue audits, allowed, pending,
    no version), screenshotted and scanned, and the filters driven from the keyboard."""
    from selenium.webdriver.common.keys import Keys

    from tests.approval_fixtures import decide, request_approval
    from tests.portfolio.test_pages import PASSING_CHECKS, finished_run, make_system, make_version

    alice, bob = personas["alice"], personas["bob"]
    states = [("Credit scoring", "high", "validation"), ("Claims triage", "medium", "deployed"),
              ("Fraud alerts", "high", "deployed"), ("Chat assistant", "low", "development"),
              ("CV screening", "high", "design"), ("Churn model", "medium", "retired")]
    for i, (name, tier, stage) in enumerate(states):
        system = make_system(alice, name.lower().replace(" ", "-"), tier=tier, stage=stage, name=name)
        if i == 4:
            continue  # no version yet
        version = make_version(system)
        if i == 0:
            finished_run(version, outcome="fail", checks=[{**PASSING_CHECKS[0], "value": 0.31, "ci": [0.22, 0.4],
                                                           "outcome": "fail"}])
        elif i == 1:
            finished_run(version)
            request = request_approval(actor=alice, version=version, environment="production")
            decide(actor=bob, request=request, decision="approve", comment="ok")
        elif i == 2:
            finished_run(version, days_ago=120)
        elif i == 3:
            finished_run(version, outcome="inconclusive", checks=[{**PASSING_CHECKS[0], "outcome": "inconclusive"}])
            request_approval(actor=alice, version=version, environment="staging")
    page.sign_in("carla").go("/systems/")
    rows = page.find_all("table.portfolio tbody tr")
    assert len(rows) == 6
    by_name = {row.text.split("\n", 1)[0]: row.text for row in rows}
    assert "Production: allow" in by_name["Claims triage"], by_name["Claims triage"]
    assert "Fairness slices: fail" in by_name["Credit scoring"] and "4" in by_name["Credit scoring"]
    assert "no version yet" in by_name["CV screening"]
    assert "fairness audit is 120 days old (policy: 90)" in page.text("table.portfolio")
    problems = {}
    _scan(page, "portfolio-many", problems)
    assert problems == {}, dump(problems)

    # keyboard only: search, then sort by findings
    search = page.find("#q")
    search.send_keys("c", Keys.ENTER)
    page.wait_for(lambda: "q=c" in page.path, what="the search")
    assert len(page.find_all("table.portfolio tbody tr")) == 5  # every name with a "c" but "Fraud alerts"
    page.go("/systems/?sort=findings")
    assert page.text("table.portfolio tbody tr").startswith("Credit scoring")
