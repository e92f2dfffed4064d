"""The dashboard pages: portfolio, system page, drill-down, inbox, run page, wizard, glossary."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audits.runs.models import AuditRun, RunStatus
from governance.core import glossary
from governance.catalog.evidence import evidence_record
from governance.registry.models import AISystem, Dataset, ModelVersion
from governance.approvals.models import ApprovalRequest
from governance.catalog.models import ControlAssessment
from governance.registry.services import system_create
from tests.approval_fixtures import decide, gate_key, request_approval  # noqa: F401 - a fixture
from tests.conftest import csv_bytes

pytestmark = pytest.mark.django_db

PASSING_CHECKS = [
    {"metric": "demographic_parity_difference", "feature": "sex", "value": 0.04, "ci": [0.01, 0.07],
     "threshold": 0.1, "operator": "<=", "outcome": "pass", "explanation": "Across the sex groups, the gap is 0.040."},
    {"metric": "demographic_parity_ratio", "feature": "sex", "value": 0.93, "ci": [0.88, 0.97],
     "threshold": 0.8, "operator": ">=", "outcome": "pass", "explanation": "The ratio is 0.930."},
    {"metric": "equalized_odds_difference", "feature": "sex", "value": 0.08, "ci": [0.03, 0.15],
     "threshold": 0.2, "operator": "<=", "outcome": "pass", "explanation": "The gap is 0.080."},
]


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_system(owner, slug, *, tier="medium", stage="development", name=None) -> AISystem:
    return system_create(actor=owner, name=name or slug.replace("-", " ").title(), slug=slug,
                         purpose=f"Purpose of {slug}", risk_tier=tier, lifecycle_stage=stage)


def make_version(system, version="1.0.0", *, parent=None, created_by=None) -> ModelVersion:
    """A version row without a real artifact: the pages never load the model."""
    return ModelVersion.objects.create(
        system=system, version=version, artifact=f"artifacts/{system.slug}-{version}.safetensors",
        artifact_sha256=f"{abs(hash((system.slug, version))):064d}"[:64], artifact_format="safetensors",
        parent=parent, created_by=created_by or system.owner)


def finished_run(version, *, kind="fairness", outcome="pass", checks=None, days_ago=0, results=None,
                 params=None) -> AuditRun:
    """A succeeded run with its evidence, as audits.runs.services._finish leaves it (a finished run is
    never changed afterwards: the database refuses it)."""
    at = timezone.now() - timedelta(days=days_ago)
    run = AuditRun.objects.create(system=version.system, version=version, kind=kind, status=RunStatus.SUCCEEDED,
                                  progress=100, outcome=outcome, checks=PASSING_CHECKS if checks is None else checks,
                                  log=f"{kind} summary", started_at=at, finished_at=at, results=results or {},
                                  params=params or {})
    evidence_record(system=version.system, kind=kind, outcome=outcome, summary=f"{kind} {outcome}", audit_run=run)
    return run


def portfolio_row(html: str, name: str) -> str:
    start = html.index(f">{name}</a>")
    return html[start:html.index("</tr>", start)]


# --- Portfolio -------------------------------------------------------------------------------

def populate(personas, count, start=0):
    alice = personas["alice"]
    for i in range(start, start + count):
        system = make_system(alice, f"sys-{i:02d}", tier=["low", "medium", "high"][i % 3])
        v1 = make_version(system, "1.0.0")
        v2 = make_version(system, "1.1.0", parent=v1)
        finished_run(v2, outcome="pass" if i % 2 else "fail")
        request = request_approval(actor=alice, version=v2, environment="staging")
        if i % 2:  # some live approvals (the gate answers in full), some pending (the inbox badge)
            decide(actor=personas["bob"], request=request, decision="approve")


def test_the_portfolio_costs_the_same_queries_for_one_or_ten_systems(personas, django_assert_num_queries):
    carla = login(personas["carla"])
    populate(personas, 1)
    carla.get("/systems/")  # warm the session and content-type caches
    # session, user, systems (+ latest version and its parent, owner), open findings per system,
    # live and in-review requests, versions, policies, gate runs, signed reports, approval
    # requests, decisions, gate states, latest
    # runs; for the rows shown: control ids, coverage counts, evidence coverage (audit, document,
    # current), failed controls; roles, and the inbox badge (requests, decisions); open serious
    # incidents (the high-risk policy denies them: governance/incidents/)
    with django_assert_num_queries(21):
        assert carla.get("/systems/").status_code == 200
    populate(personas, 9, start=1)
    with django_assert_num_queries(21):
        response = carla.get("/systems/")
    assert response.context["page"].paginator.count == 10


def test_the_portfolio_costs_the_same_queries_for_ten_or_thirty_systems(personas, django_assert_max_num_queries):
    # The first page, the view sorted by coverage (every system's coverage computed) and the
    # print view: what grows with the systems is rows per query, never queries
    # (BENCHMARKS.md measures 1,000).
    carla = login(personas["carla"])
    populate(personas, 10)
    carla.get("/systems/")  # warm the session and content-type caches
    counts = {}
    for url in ("/systems/", "/systems/?sort=coverage", "/systems/?size=all"):
        with django_assert_max_num_queries(40) as captured:
            assert carla.get(url).status_code == 200
        counts[url] = len(captured.captured_queries)
    populate(personas, 20, start=10)
    for url, ten in counts.items():
        with django_assert_max_num_queries(ten) as captured:
            response = carla.get(url)
        assert len(captured.captured_queries) == ten, url
    assert response.context["page"].paginator.count == 30


def test_the_portfolio_shows_tier_stage_coverage_chips_findings_and_overdue_reviews(personas):
    alice = personas["alice"]
    system = make_system(alice, "loan-triage", tier="medium", stage="validation")
    version = make_version(system)
    finished_run(version, outcome="fail", checks=[{**PASSING_CHECKS[0], "value": 0.3, "ci": [0.2, 0.4],
                                                   "outcome": "fail"}], days_ago=200)
    html = login(personas["carla"]).get("/systems/").content.decode()
    row = portfolio_row(html, "Loan Triage")
    assert "Medium" in row and "Validation" in row
    assert "Fairness slices: fail" in row
    # fairness maps to 2 AI RMF + 2 ISO controls: 4 open findings
    assert 'aria-label="4 open findings on Loan Triage"' in row
    assert "fairness audit is 200 days old (policy: 180)" in row
    assert 'aria-label="NIST AI RMF 1.0: 0% covered (0 of 72), 2 failed"' in row
    assert "Production: deny" in row and "Staging: deny" in row


def test_a_new_unaudited_version_never_hides_the_failures_of_the_version_still_shipped(personas):
    alice, bob = personas["alice"], personas["bob"]
    system = make_system(alice, "credit-scoring", tier="medium")
    shipped = make_version(system, "1.0.0")
    finished_run(shipped)
    approval = request_approval(actor=alice, version=shipped, environment="production")
    decide(actor=bob, request=approval, decision="approve")
    # later the shipped version's drift review fails, and an unaudited DP child becomes the latest
    finished_run(shipped, kind="drift", outcome="fail")
    child = make_version(system, "1.1.0-dp", parent=shipped)
    review = request_approval(actor=alice, version=child, environment="staging")
    row = portfolio_row(login(personas["carla"]).get("/systems/").content.decode(), "Credit Scoring")
    assert "latest v1.1.0-dp" in row and "v1.1.0-dp not audited" in row
    assert "Production: v1.0.0 <span class=\"muted\">approved, gate deny</span>" in row
    assert "Staging: v1.1.0-dp <span class=\"muted\">in review</span>" in row
    assert "Drift review: breach</a> <span class=\"muted\">on v1.0.0, approved for production</span>" in row
    assert review.status == "submitted"


def test_the_worst_result_reads_could_not_run_apart_from_failed(personas):
    system = make_system(personas["alice"], "broken", tier="medium")
    version = make_version(system)
    AuditRun.objects.create(system=system, version=version, kind="fairness", status=RunStatus.FAILED,
                            error="The model file is not a safetensors file.", progress=100,
                            started_at=timezone.now(), finished_at=timezone.now())
    row = portfolio_row(login(personas["carla"]).get("/systems/").content.decode(), "Broken")
    assert "Fairness slices: could not run</a> <span class=\"muted\">on v1.0.0, latest</span>" in row


def test_the_system_page_offers_to_review_the_rollback_target_on_the_batch_that_breached(personas, gate_key):
    import uuid

    from governance.gate.services import gate_answer
    from tests.approval_fixtures import approve, make_run, passing_run
    from tests.approval_fixtures import make_version as gate_version

    alice = personas["alice"]
    system = make_system(alice, "triage")
    old, new = gate_version(system, "1.0.0", minutes_ago=60), gate_version(system, "1.1.0")
    for v in (old, new):
        passing_run(v)
        approve(v, "production", personas)
    gate_answer(system=system, version=new, environment="production")  # a pipeline saw it allowed
    batch = str(uuid.uuid4())
    breach = make_run(new, kind="drift", outcome="fail", days_ago=0, params={"batch": batch})
    evidence_record(system=system, kind="drift", outcome="fail", summary="PSI 0.31", audit_run=breach, version=new)
    html = login(alice).get("/systems/triage/").content.decode()
    assert "roll back to 1.0.0" in html and "not reviewed against the batch that breached 1.1.0" in html
    assert f'<input type="hidden" name="version" value="{old.pk}"><input type="hidden" name="batch" value="{batch}">' in html
    assert "Review 1.0.0 on that batch" in html
    assert "Review 1.0.0 on that batch" not in login(personas["aude"]).get("/systems/triage/").content.decode()


def test_a_system_without_versions_says_so_instead_of_a_gate(personas):
    make_system(personas["alice"], "empty-one")
    row = portfolio_row(login(personas["aude"]).get("/systems/").content.decode(), "Empty One")
    assert "no version yet" in row


def test_the_portfolio_shows_the_gate_flip_once_the_approvers_decide(personas):
    alice, bob = personas["alice"], personas["bob"]
    system = make_system(alice, "flip", tier="medium")
    version = make_version(system, created_by=alice)
    finished_run(version)
    carla = login(personas["carla"])
    assert "Production: deny" in portfolio_row(carla.get("/systems/").content.decode(), "Flip")
    request = request_approval(actor=alice, version=version, environment="production")
    decide(actor=bob, request=request, decision="approve", comment="Fairness within policy.")
    row = portfolio_row(carla.get("/systems/").content.decode(), "Flip")
    assert "Production: allow" in row and "Staging: deny" in row
    timeline = carla.get("/systems/flip/").content.decode()
    timeline = timeline[timeline.index('<ol class="timeline">'):timeline.index("</ol>", timeline.index('<ol class="timeline">'))]
    # newest first: the approval, bob's decision, alice's request
    assert timeline.index(">approved<") < timeline.index(">approve<") < timeline.index(">requested<")
    assert "(Risk officer (independent validator), stage 1)" in timeline and "Fairness within policy." in timeline
    assert carla.get("/systems/?gate=allowed").context["page"].paginator.count == 1


def test_the_portfolio_agrees_with_the_gate_on_waivers_and_other_versions_findings(personas):
    from governance.gate.services import gate_evaluate
    from governance.catalog.services import assessment_update

    alice, bob = personas["alice"], personas["bob"]
    # A system whose fairness control is not applicable: allowed without a fairness audit.
    digits = make_system(alice, "digits", tier="medium")
    reads = make_version(digits, created_by=alice)
    assessment_update(actor=personas["carla"], assessment=ControlAssessment.objects.get(
        system=digits, control__ref="MEASURE 2.11"), status="not_applicable", notes="Reads digits, not people.")
    # A system whose new version passed and whose old one then failed (the latest evidence, so
    # an open finding of the system): the old version's finding does not block the new one.
    loans = make_system(alice, "loans", tier="medium")
    old = make_version(loans, created_by=alice)
    new = make_version(loans, "1.1.0", created_by=alice)
    finished_run(new)
    finished_run(old, outcome="fail")
    for version in (reads, new):
        decide(actor=bob, request=request_approval(actor=alice, version=version, environment="production"),
               decision="approve")
    html = login(personas["carla"]).get("/systems/").content.decode()
    for system, version, name in ((digits, reads, "Digits"), (loans, new, "Loans")):
        assert gate_evaluate(system=system, version=version, environment="production")["decision"] == "allow"
        assert "Production: allow" in portfolio_row(html, name), name
    assert 'aria-label="4 open findings on Loans"' in portfolio_row(html, "Loans")


def test_the_portfolio_filters_searches_and_sorts(personas):
    alice = personas["alice"]
    a = make_system(alice, "alpha", tier="high", stage="deployed")
    make_system(alice, "bravo", tier="low")
    c = make_system(alice, "charlie", tier="medium")
    finished_run(make_version(c), outcome="fail", checks=[])
    carla = login(personas["carla"])

    def names(query):
        return [s.slug for s in carla.get("/systems/" + query).context["systems"]]

    assert names("") == ["alpha", "bravo", "charlie"]
    assert names("?tier=high") == ["alpha"]
    assert names("?stage=deployed") == ["alpha"]
    assert names("?q=brav") == ["bravo"]
    assert names("?sort=risk") == ["alpha", "charlie", "bravo"]
    assert names("?sort=findings")[0] == "charlie"
    assert names("?attention=1") == ["charlie"]
    assert names("?gate=none") == ["alpha", "bravo"]
    assert names("?tier=bogus&sort=bogus") == ["alpha", "bravo", "charlie"]  # unknown values are ignored
    assert a.slug in names("?size=all")


# --- System page and drill-down --------------------------------------------------------------

def test_the_system_page_has_a_heatmap_cell_per_control_linking_to_its_evidence(personas):
    system = make_system(personas["alice"], "heat")
    finished_run(make_version(system), outcome="fail", checks=[])
    response = login(personas["carla"]).get("/systems/heat/")
    html = response.content.decode()
    assert html.count('class="cell st-') == 110 + 6  # 72 AI RMF + 38 ISO cells, 6 statuses in the legend
    cell = reverse("system-control", args=["heat", "ai-rmf", "MEASURE 2.11"])
    assert f'<a class="cell st-failed" href="{cell}" aria-label="MEASURE 2.11: Failed, covered by an audit"' in html

    drill = login(personas["aude"]).get(cell).content.decode()
    assert "Failed: the latest evidence failed; this is an open finding." in drill
    assert "fairness fail" in drill  # the evidence summary
    assert reverse("system-control", args=["heat", "iso42001", "A.5.4"]) in drill  # crosswalk partner


def test_a_compliance_officer_records_a_status_on_the_drill_down_and_an_auditor_cannot(personas):
    make_system(personas["alice"], "heat")
    url = reverse("system-control", args=["heat", "iso42001", "A.10.3"])
    assert 'name="status"' not in login(personas["aude"]).get(url).content.decode()
    r = login(personas["aude"]).post(url, {"status": "not_applicable", "notes": "No suppliers."}, follow=True)
    assert "Your role does not allow this (assessment.update)." in r.content.decode()
    r = login(personas["carla"]).post(url, {"status": "not_applicable", "notes": ""}, follow=True)
    assert "notes: say why this control does not apply to the system." in r.content.decode()
    assert ControlAssessment.objects.get(system__slug="heat", control__ref="A.10.3").status == "not_started"
    r = login(personas["carla"]).post(url, {"status": "not_applicable", "notes": "No third-party suppliers."},
                                      follow=True)
    assert "A.10.3 on Heat is now not applicable." in r.content.decode()
    a = ControlAssessment.objects.get(system__slug="heat", control__ref="A.10.3")
    assert (a.status, a.notes) == ("not_applicable", "No third-party suppliers.")


def test_a_compliance_officer_assigns_a_control_owner_who_then_sees_it_in_their_inbox(personas):
    from governance.trail.models import AuditLogEntry

    make_system(personas["alice"], "heat")
    url = reverse("system-control", args=["heat", "iso42001", "A.6.2.4"])
    carla = login(personas["carla"])
    assert '<option value="{}">Alice</option>'.format(personas["alice"].pk) in carla.get(url).content.decode()
    r = carla.post(url, {"status": "in_progress", "notes": "Verification plan drafted.",
                         "owner": personas["alice"].pk}, follow=True)
    assert "A.6.2.4 on Heat is now in progress, owned by Alice." in r.content.decode()
    assigned = login(personas["alice"]).get("/inbox/").content.decode()
    assert ">A.6.2.4</a>" in assigned[assigned.index('id="assigned-h"'):]
    assert assigned.count('id="assigned-h"') == 1 and "<title>Inbox" in assigned  # the title holds no sections
    # handing it over is recorded, from whom to whom
    carla.post(url, {"status": "in_progress", "notes": "Verification plan drafted.", "owner": personas["bob"].pk})
    entry = AuditLogEntry.objects.filter(action="assessment.updated").order_by("-seq").first()
    assert (entry.payload["owner_from"], entry.payload["owner"]) == ("alice", "bob")
    # an account without a role cannot own a control; the form says so and nothing changes
    stranger = type(personas["alice"]).objects.create_user("stranger")
    r = carla.post(url, {"status": "in_progress", "owner": stranger.pk}, follow=True)
    assert "owner: Select a valid choice." in r.content.decode()
    assert ControlAssessment.objects.get(system__slug="heat", control__ref="A.6.2.4").owner == personas["bob"]


def test_an_unknown_control_on_a_system_is_a_404(personas):
    make_system(personas["alice"], "heat")
    assert login(personas["aude"]).get("/systems/heat/controls/ai-rmf/NOPE 9.9/").status_code == 404


def test_runs_on_one_day_sit_apart_on_the_history_chart_and_its_legend_names_each_series_whole():
    from datetime import datetime
    from datetime import timezone as tz

    from governance.portfolio.views import history_chart

    at = datetime(2026, 12, 2, 10, 0, tzinfo=tz.utc)
    runs = [{"at": at + timedelta(minutes=5 * i), "checks": [dict(c, value=0.01 * (i + 1)) for c in PASSING_CHECKS],
             "results": None} for i in range(3)]
    svg = str(history_chart("fairness", runs)["svg"])
    assert all(f">12-02 10:{m:02d}<" in svg for m in (0, 5, 10))  # one tick per run, by time of day
    assert ">Demographic parity difference<" in svg and ">Equalized odds difference<" in svg  # not cut off
    assert "Runs, oldest to newest (finished, UTC)" in svg


def test_the_system_page_charts_fairness_over_time_and_shows_lineage(personas):
    system = make_system(personas["alice"], "hist")
    v1 = make_version(system, "1.0.0")
    v2 = make_version(system, "2.0.0-dp", parent=v1)
    finished_run(v1, days_ago=30)
    finished_run(v2, checks=[{**c, "value": c["value"] / 2} for c in PASSING_CHECKS])
    html = login(personas["carla"]).get("/systems/hist/").content.decode()
    assert "Fairness slices: worst slice per run over time" in html
    assert "Demographic parity difference (2 points, Value from 0.02 to 0.04)" in html
    # 2.0.0-dp sits in a nested list under 1.0.0
    tree = html[html.index('<ul class="tree"'):]
    assert tree.index("1.0.0") < tree.index("<ul>") < tree.index("2.0.0-dp")
    assert "derived from 1.0.0" in html


def test_the_system_page_charts_drift_from_the_reviews_results(personas):
    system = make_system(personas["alice"], "drifty")
    version = make_version(system)
    for days, psi in ((20, 0.05), (10, 0.18), (0, 0.31)):
        finished_run(version, kind="drift", outcome="pass" if psi < 0.25 else "fail", checks=[], days_ago=days,
                     results={"features": [{"name": "income", "psi": psi}, {"name": "age", "psi": psi / 2}],
                              "prediction": {"psi": psi / 3}, "performance": None})
    html = login(personas["carla"]).get("/systems/drifty/").content.decode()
    assert "Drift review: worst slice per run over time" in html
    assert "Population stability index (PSI) (3 points, Value from 0.05 to 0.31)" in html
    assert "<strong>Population stability index (PSI)</strong> 0.310 — below 0.1 is stable" in html
    assert "Fairness slices over time" in html  # no fairness run yet: a placeholder says so



def test_the_estimated_accuracy_shows_on_the_run_page_and_its_history_against_labels_on_the_system_page(personas):
    system = make_system(personas["alice"], "estimated")
    version = make_version(system)
    estimate = {"estimate": 0.72, "low": 0.66, "high": 0.78, "n": 400, "confidence": 0.95, "realized": 0.61,
                "within_interval": False, "check": None, "method": "CBPE: mean probability that each decision is right",
                "calibration": {"calibrated": False, "hl_p_value": 0.0012, "ece": 0.081, "n_reference": 300,
                                "used": "platt", "ece_after": 0.02},
                "groups": {"sex": {"groups": [{"group": "female", "n": 120, "selection_rate": 0.55, "estimate": 0.7,
                                               "low": 0.6, "high": 0.8}], "left_out": ["other"]}}}
    run = finished_run(version, kind="drift", checks=[], results={
        "features": [], "prediction": None, "performance": None, "batch": {"name": "week 2"},
        "params": {"min_group_count": 30}, "performance_estimate": estimate})

    page = login(personas["carla"]).get(f"/runs/{run.pk}/").content.decode()
    assert "Accuracy estimated from the model&#x27;s scores" in page
    assert "0.72" in page and "95% interval 0.66 to 0.78" in page
    assert "0.61 from the batch's labels" in page and "outside the interval" in page
    assert "not calibrated</span> on the 300 evaluation rows (Hosmer–Lemeshow p = 0.0012" in page
    assert "sex = female" in page and "not estimated: other" in page

    html = login(personas["carla"]).get("/systems/estimated/").content.decode()
    history = html[html.index('id="drift-estimates"'):]
    assert "Estimated accuracy (no labels) against realized" in history
    assert "week 2" in history and "0.66 to 0.78" in history and "outside the interval" in history


# --- Inbox -------------------------------------------------------------------------------------

@pytest.fixture
def pending(personas):
    alice = personas["alice"]
    system = make_system(alice, "credit", tier="high")
    version = make_version(system, created_by=alice)
    finished_run(version)
    return request_approval(actor=alice, version=version, environment="production",
                            justification="Retrained on 2026 data.")


def test_the_inbox_shows_the_risk_officer_fairness_evidence_first(personas, pending):
    html = login(personas["bob"]).get("/inbox/").content.decode()
    assert "Credit</a> 1.0.0 → Production" in html
    assert "Retrained on 2026 data." in html
    assert "Shown first: fairness slices, data quality, drift review, explainability." in html
    assert "Fairness slices: pass" in html


def test_the_inbox_shows_the_security_reviewer_security_audits(personas, pending):
    from governance.policies.models import Policy

    Policy.objects.filter(risk_tier="high", environment="production").update(
        approval_stages=[["security_reviewer"], ["executive_approver"]])
    other = request_approval(actor=personas["alice"], version=make_version(pending.version.system, "1.1.0"),
                             environment="production")
    html = login(personas["sam"]).get("/inbox/").content.decode()
    assert f'action="/inbox/{other.pk}/decide/"' in html
    assert "Adversarial robustness: not run" in html and "Privacy: not run" in html


def test_deciding_in_the_inbox_takes_one_step_with_a_comment(personas, pending):
    bob = login(personas["bob"])
    # the version misses its policy (no signed report yet): approving it blind is refused
    response = bob.post(f"/inbox/{pending.pk}/decide/", {"decision": "approve", "comment": "Disparities within policy."},
                        follow=True)
    assert response.status_code == 400
    assert "acknowledge: credit@1.0.0 does not meet its production policy" in response.content.decode()
    assert "Disparities within policy.</textarea>" in response.content.decode()  # what was typed is kept
    assert not pending.decisions.exists()
    response = bob.post(f"/inbox/{pending.pk}/decide/", {"decision": "approve", "comment": "Disparities within policy.",
                                                        "acknowledge": "on"}, follow=True)
    assert response.redirect_chain == [("/inbox/", 302)]
    assert "You approved Credit 1.0.0 for production." in response.content.decode()
    decision = pending.decisions.get()
    assert (decision.user, decision.decision, decision.comment) == (personas["bob"], "approve",
                                                                    "Disparities within policy.")
    # stage 2 now waits for the executive, with the earlier decision shown
    html = login(personas["erik"]).get("/inbox/").content.decode()
    assert "“Disparities within policy.”" in html


def test_the_inbox_card_shows_the_gate_now_and_asks_to_acknowledge_what_the_version_misses(personas, pending):
    html = login(personas["bob"]).get("/inbox/").content.decode()
    card = html[html.index(f'id="req-{pending.pk}"'):html.index("</article>")]
    assert "this version does not meet its production policy" in card
    assert "The policy requires a signed report for this version; none is signed." in card
    assert f'id="ack-{pending.pk}" name="acknowledge"' in card


def test_the_inbox_lists_findings_recommendations_ending_acceptances_and_assigned_controls(personas, pending):
    from audits.drift.models import RetrainingRecommendation
    from governance.approvals.models import RiskAcceptance

    alice, bob = personas["alice"], personas["bob"]
    version = pending.version
    finished_run(version, kind="data_quality", outcome="fail")
    drift = finished_run(version, kind="drift", outcome="fail")
    RetrainingRecommendation.objects.create(version=version, audit_run=drift, reason="PSI 0.31 on income.")
    inconclusive = finished_run(version, kind="robustness", outcome="inconclusive")
    RiskAcceptance.objects.create(audit_run=inconclusive, environment="staging", role="risk_officer",
                                  accepted_by=bob, justification="Small evaluation set; retest in a week.",
                                  expires_at=timezone.now() + timedelta(days=3))
    assessment = ControlAssessment.objects.filter(system=version.system).exclude(status="failed").first()
    assessment.owner = alice
    assessment.save()

    html = login(alice).get("/inbox/").content.decode()
    findings = html[html.index('id="findings-h"'):html.index("</section>", html.index('id="findings-h"'))]
    assert ControlAssessment.objects.filter(system=version.system, status="failed").exists()
    for a in ControlAssessment.objects.filter(system=version.system, status="failed"):
        assert f">{a.control.ref}</a>" in findings
    assert "PSI 0.31 on income." in html
    assert "Risk acceptances about to end" in html and "Adversarial robustness on Credit 1.0.0</a> for Staging" in html
    assigned = html[html.index('id="assigned-h"'):]
    assert f">{assessment.control.ref}</a>" in assigned
    # another owner sees none of it; the risk officer sees the recommendation to decide on
    oscar = login(personas["oscar"]).get("/inbox/").content.decode()
    assert 'id="findings-h"' not in oscar and "PSI 0.31" not in oscar
    assert "PSI 0.31 on income." in login(bob).get("/inbox/").content.decode()


def test_the_inbox_costs_a_fixed_number_of_queries_per_system_awaiting(personas, pending,
                                                                       django_assert_max_num_queries):
    bob = login(personas["bob"])
    bob.get("/inbox/")
    with django_assert_max_num_queries(40) as one:
        bob.get("/inbox/")
    for i in range(3):
        request_approval(actor=personas["alice"], version=make_version(pending.version.system, f"1.{i + 1}.0"),
                         environment="production")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert bob.get("/inbox/").status_code == 200


def test_rejecting_without_a_comment_is_refused_and_writes_nothing(personas, pending):
    response = login(personas["bob"]).post(f"/inbox/{pending.pk}/decide/", {"decision": "reject"}, follow=True)
    assert response.status_code == 400
    assert "Credit 1.0.0: comment: say why you reject, so the owner can act on it." in response.content.decode()
    assert not pending.decisions.exists()


def test_the_requester_cannot_decide_their_own_request(personas, pending):
    response = login(personas["alice"]).post(f"/inbox/{pending.pk}/decide/", {"decision": "approve"}, follow=True)
    assert "Credit 1.0.0: Your role does not allow this (approval.decide)." in response.content.decode()
    assert not pending.decisions.exists()


# --- Run page ----------------------------------------------------------------------------------

def test_the_run_page_shows_parameters_checks_explained_and_the_log(personas):
    version = make_version(make_system(personas["alice"], "runpage"))
    run = finished_run(version, params={"intervals": True, "mitigation": True})
    html = login(personas["aude"]).get(f"/runs/{run.pk}/").content.decode()
    assert '<th scope="row" class="mono">intervals</th><td class="mono">yes</td>' in html
    assert "The policy allows at most 0.1." in html and "The policy requires at least 0.8." in html
    assert glossary.METRICS["demographic_parity_difference"].if_fails in html
    assert "fairness summary" in html


def test_a_running_run_polls_its_progress_and_a_finished_one_refreshes_once(personas):
    version = make_version(make_system(personas["alice"], "live"))
    run = AuditRun.objects.create(system=version.system, version=version, kind="fairness", status="running",
                                  progress=40, stage="bootstrap")
    client = login(personas["aude"])
    html = client.get(f"/runs/{run.pk}/").content.decode()
    assert f'hx-get="/runs/{run.pk}/progress/" hx-trigger="every 1s"' in html
    AuditRun.objects.filter(pk=run.pk).update(status="failed", error="The version has no evaluation dataset.")
    response = client.get(f"/runs/{run.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true" and "hx-get" not in response.content.decode()
    assert "The version has no evaluation dataset." in client.get(f"/runs/{run.pk}/").content.decode()


# --- Wizard ------------------------------------------------------------------------------------

def test_the_wizard_registers_a_model_end_to_end(personas, credit_frames, credit_model, monkeypatch):
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)
    alice = login(personas["alice"])
    train, test = credit_frames
    r = alice.post("/wizard/", {"name": "Loan triage", "purpose": "Ranks loan files", "risk_tier": "medium",
                                "lifecycle_stage": "development"})
    assert r.status_code == 302 and r["Location"] == "/wizard/loan-triage/data/"
    r = alice.post("/wizard/loan-triage/data/", {
        "eval_file": SimpleUploadedFile("test.csv", csv_bytes(test)),
        "train_file": SimpleUploadedFile("train.csv", csv_bytes(train)),
        "label": "risk", "sensitive": "sex, age"})
    assert r.status_code == 302 and r["Location"] == "/wizard/loan-triage/model/"
    test_ds = Dataset.objects.get(system__slug="loan-triage", role="test")
    assert test_ds.schema["label"] == "risk" and test_ds.schema["sensitive"] == ["sex", "age"]
    assert "risk" not in test_ds.schema["features"] and "sex" in test_ds.schema["categorical"]
    assert "age" not in test_ds.schema["categorical"]  # numeric columns stay numeric

    artifact, spec = credit_model
    r = alice.post("/wizard/loan-triage/model/", {
        "version": "1.0.0", "artifact": SimpleUploadedFile("m.safetensors", artifact),
        "spec": SimpleUploadedFile("spec.json", json.dumps(spec).encode()),
        "eval_dataset": str(test_ds.pk), "train_dataset": ""})
    version = ModelVersion.objects.get(system__slug="loan-triage")
    assert r.status_code == 302 and r["Location"] == f"/wizard/loan-triage/{version.pk}/audits/"

    page = alice.get(r["Location"]).content.decode()
    assert 'id="kind-fairness" name="kinds" value="fairness" checked' in page  # required by the policy
    assert glossary.AUDITS["fairness"].matters in page
    r = alice.post(f"/wizard/loan-triage/{version.pk}/audits/", {"kinds": ["fairness"]})
    run = AuditRun.objects.get(version=version)
    assert r["Location"] == f"/wizard/loan-triage/{version.pk}/results/"

    AuditRun.objects.filter(pk=run.pk).update(status="succeeded", progress=100, outcome="pass", checks=PASSING_CHECKS,
                                              finished_at=timezone.now())
    page = alice.get(r["Location"]).content.decode()
    assert glossary.METRICS["demographic_parity_difference"].measures in page
    assert "The policy allows at most 0.1." in page

    r = alice.post(f"/wizard/loan-triage/{version.pk}/approval/", {"environment": "staging",
                                                                    "justification": "First release."})
    request = ApprovalRequest.objects.get(version=version)
    assert r["Location"] == f"/approvals/{request.pk}/"
    assert (request.environment, request.status, request.justification) == ("staging", "submitted", "First release.")


def test_the_wizard_names_the_field_when_the_label_is_not_a_column_and_writes_nothing(personas, credit_frames):
    make_system(personas["alice"], "loans")
    _, test = credit_frames
    r = login(personas["alice"]).post("/wizard/loans/data/", {
        "eval_file": SimpleUploadedFile("test.csv", csv_bytes(test)), "label": "outcome", "sensitive": "sex"})
    assert r.status_code == 400
    assert "label: column &#x27;outcome&#x27; is not in the file. Columns in the file: risk, sex, job" in r.content.decode()
    assert 'id="id_label" name="label" value="outcome" required aria-describedby="label-help error" aria-invalid="true"' \
        in r.content.decode()
    assert not Dataset.objects.exists()


def test_the_wizard_keeps_both_datasets_or_neither(personas, credit_frames, settings):
    make_system(personas["alice"], "loans")
    _, test = credit_frames
    r = login(personas["alice"]).post("/wizard/loans/data/", {
        "eval_file": SimpleUploadedFile("test.csv", csv_bytes(test)),
        "train_file": SimpleUploadedFile("train.csv", csv_bytes(test.drop(columns=["sex"]))),
        "label": "risk", "sensitive": "sex"})
    assert r.status_code == 400
    assert "train_file: Column(s) declared in the schema but missing from the file: sex." in r.content.decode()
    assert not Dataset.objects.exists()
    stored = settings.MEDIA_ROOT / "datasets"
    assert not stored.exists() or not any(stored.iterdir())  # the evaluation file was removed again


def test_the_wizard_is_for_owners(personas):
    make_system(personas["alice"], "loans")
    assert login(personas["bob"]).get("/wizard/").status_code == 403
    r = login(personas["oscar"]).get("/wizard/loans/data/")
    assert r.status_code == 403 and "Only the owner of Loans uploads its data." in r.content.decode()


def test_the_wizard_offers_first_audits_only(personas):
    version = make_version(make_system(personas["alice"], "loans"))
    html = login(personas["alice"]).get(f"/wizard/loans/{version.pk}/audits/").content.decode()
    assert 'value="fairness"' in html and 'value="data_quality"' in html
    assert 'value="drift"' not in html and 'value="dp_retraining"' not in html  # need batches / make versions


def test_the_wizard_refuses_an_empty_audit_choice(personas):
    version = make_version(make_system(personas["alice"], "loans"))
    r = login(personas["alice"]).post(f"/wizard/loans/{version.pk}/audits/", {})
    assert r.status_code == 400 and "kinds: tick at least one audit." in r.content.decode()
    assert not AuditRun.objects.exists()


# --- Navigation and glossary -------------------------------------------------------------------

def test_every_main_page_renders_for_every_persona(personas, pending):
    pages = ["/systems/", "/systems/credit/", "/inbox/", "/runs/", "/glossary/", "/approvals/"]
    for name in ("alice", "bob", "sam", "carla", "erik", "aude", "root"):
        client = login(personas[name])
        for url in pages:
            assert client.get(url).status_code == 200, (name, url)
    html = login(personas["bob"]).get("/systems/").content.decode()
    assert 'Inbox <span class="badge" aria-label="1 waiting for you">1</span>' in html


@pytest.mark.parametrize("word", ["Deploy gate", "Risk acceptance", "Waiver", "Control coverage", "Inconclusive",
                                  "Insufficient data", "Could not run", "ε (epsilon)", "Acknowledged gap"])
def test_the_glossary_page_explains_the_words_the_pages_use(personas, word):
    html = login(personas["carla"]).get("/glossary/").content.decode()
    label, meaning = next(c for c in glossary.CONCEPTS.values() if c[0] == word)
    assert f">{label}</dt><dd>{meaning}</dd>" in html.replace("&#x27;", "'")


def test_the_glossary_explains_derived_and_unknown_metrics():
    assert glossary.term("accuracy_difference").label == "Accuracy difference"
    assert glossary.term("accuracy_difference").measures.startswith("The gap between the highest and lowest group")
    assert glossary.term("ks").label == "Kolmogorov-Smirnov statistic"
    assert glossary.term("mystery_score").label == "Mystery score"
    assert glossary.term("accuracy_drop", "dp_retraining").label == "Accuracy lost to privacy"
    assert glossary.term("accuracy_drop", "robustness").label == "Accuracy drop under attack"
    assert glossary.threshold_text("max", 0.1) == "The policy allows at most 0.1."
    assert glossary.threshold_text(">=", 0.8) == "The policy requires at least 0.8."
    assert glossary.threshold_text("<=", None) == "The policy sets no threshold for this measurement."
    for key, entry in {**glossary.METRICS, **glossary.AUDITS}.items():
        assert entry.measures and entry.matters and entry.if_fails, key
