"""Approvals with eyes open: a version that misses its policy is requested or approved only by
someone who acknowledges what it misses and says why, in writing, on the pages and in the API;
what they acknowledged is stored, signed into the gate's answer, and an audit that could not run
reads apart from one that failed."""

import pytest

from django.utils import timezone

from audits.runs.models import AuditRun, RunStatus
from governance.approvals.services import approval_decide, approval_request_create
from governance.core.exceptions import ApplicationError
from governance.gate import attestation
from governance.gate.services import gate_answer, gate_evaluate
from governance.policies.models import Policy
from governance.trail.models import AuditLogEntry
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import EYES_OPEN, high, make_run, make_version, passing_run, signed_report
from tests.deploy.client import gate_check

pytestmark = pytest.mark.django_db

FAILED = [{"metric": "demographic_parity_difference", "feature": "sex", "operator": "<=", "threshold": 0.1,
           "outcome": "fail", "value": 0.31, "explanation": "demographic parity difference on sex: 0.31 > 0.1"}]
APPROVERS = {"risk_officer": "bob", "security_reviewer": "sam", "compliance_officer": "carla",
             "executive_approver": "erik"}


@pytest.fixture
def failing(personas):
    """A high-risk version whose required fairness audit failed, with no signed report."""
    system = high(personas)
    version = make_version(system)
    make_run(version, outcome="fail", checks=FAILED)
    return version


def _requested(personas, version, stage_roles=None):
    if stage_roles:
        Policy.objects.filter(risk_tier="high", environment="production").update(approval_stages=stage_roles)
    return approval_request_create(actor=personas["alice"], version=version, environment="production",
                                   justification=EYES_OPEN, acknowledge=True)


# --- Requesting ---------------------------------------------------------------------------------

def test_requesting_a_version_that_misses_its_policy_needs_an_acknowledgement_and_a_reason(personas, failing):
    with pytest.raises(ApplicationError) as caught:
        approval_request_create(actor=personas["alice"], version=failing, environment="production",
                                justification="")
    assert caught.value.extra["field"] == "acknowledge"
    assert caught.value.message.startswith("acknowledge: credit@1.0.0 does not meet its production policy (")
    assert "The latest fairness audit" in caught.value.message and "failed the policy" in caught.value.message
    with pytest.raises(ApplicationError) as caught:
        approval_request_create(actor=personas["alice"], version=failing, environment="production",
                                justification="Ship it.", acknowledge=True)
    assert caught.value.extra["field"] == "justification"
    assert not AuditLogEntry.objects.filter(action__startswith="approval.").exists()  # nothing half-written

    req = approval_request_create(actor=personas["alice"], version=failing, environment="production",
                                  justification=EYES_OPEN, acknowledge=True)
    gaps = gate_evaluate(system=failing.system, version=failing, environment="production")["policy_gaps"]
    assert req.acknowledged_gaps == gaps and len(gaps) == 2  # the failed fairness audit, the missing report
    entry = AuditLogEntry.objects.get(action="approval.requested")
    assert entry.payload["acknowledged_gaps"] == gaps and entry.payload["justification"] == EYES_OPEN


def test_a_version_that_meets_its_policy_is_requested_and_approved_without_an_acknowledgement(personas):
    system = high(personas)
    version = make_version(system)
    passing_run(version)
    signed_report(version)
    req = approval_request_create(actor=personas["alice"], version=version, environment="production")
    approval_decide(actor=personas["bob"], request=req, decision="approve")
    assert req.acknowledged_gaps == [] and req.decisions.get().acknowledged_gaps == []


def test_the_api_refuses_a_blind_request_with_a_400_listing_the_gaps(personas, failing, api):
    r = api("alice").post("/api/v1/approvals/", {"version": str(failing.pk), "environment": "production"},
                          format="json")
    assert r.status_code == 400
    body = r.json()
    assert body["extra"]["field"] == "acknowledge" and len(body["extra"]["gaps"]) == 2
    r = api("alice").post("/api/v1/approvals/", {"version": str(failing.pk), "environment": "production",
                                                 "acknowledge": True, "justification": EYES_OPEN}, format="json")
    assert r.status_code == 201 and r.json()["acknowledged_gaps"] == body["extra"]["gaps"]


def test_the_wizard_refuses_a_blind_request_and_shows_the_acknowledgement_step(personas, failing, client):
    client.force_login(personas["alice"])
    url = f"/wizard/{failing.system.slug}/{failing.pk}/approval/"
    html = client.get(url).content.decode()
    assert "Not yet met for production:" in html and 'name="acknowledge"' in html
    r = client.post(url, {"environment": "production", "justification": ""})
    assert r.status_code == 400 and "acknowledge: credit@1.0.0 does not meet its production policy" in r.content.decode()
    assert not failing.approval_requests.exists()


# --- Deciding, per approver role ------------------------------------------------------------------

@pytest.mark.parametrize("role", sorted(APPROVERS))
def test_each_approver_must_acknowledge_the_gaps_on_the_page(personas, failing, client, role):
    req = _requested(personas, failing, [[role]])
    client.force_login(personas[APPROVERS[role]])
    page = client.get(f"/approvals/{req.pk}/").content.decode()
    assert "This version does not meet its production policy:" in page and 'id="decision-ack"' in page
    r = client.post(f"/approvals/{req.pk}/decide/", {"decision": "approve", "comment": "Looks fine to me."})
    assert r.status_code == 400
    assert "acknowledge: credit@1.0.0 does not meet its production policy" in r.content.decode()
    r = client.post(f"/approvals/{req.pk}/decide/", {"decision": "approve", "comment": "ok", "acknowledge": "on"})
    assert r.status_code == 400 and "comment: credit@1.0.0 does not meet its production policy; write at least 20" \
        in r.content.decode()
    assert not req.decisions.exists()
    r = client.post(f"/approvals/{req.pk}/decide/", {"decision": "approve", "comment": EYES_OPEN, "acknowledge": "on"})
    assert r.status_code == 302
    decision = req.decisions.get()
    assert decision.role == role and decision.acknowledged_gaps == req.acknowledged_gaps


@pytest.mark.parametrize("role", sorted(APPROVERS))
def test_each_approver_must_acknowledge_the_gaps_in_the_api(personas, failing, api, role):
    req = _requested(personas, failing, [[role]])
    client = api(APPROVERS[role])
    r = client.post(f"/api/v1/approvals/{req.pk}/decisions/", {"decision": "approve"}, format="json")
    assert r.status_code == 400
    assert r.json()["extra"]["field"] == "acknowledge" and r.json()["extra"]["gaps"] == req.acknowledged_gaps
    r = client.post(f"/api/v1/approvals/{req.pk}/decisions/",
                    {"decision": "approve", "acknowledge": True, "comment": EYES_OPEN}, format="json")
    assert r.status_code == 201
    assert r.json()["decisions"][0]["acknowledged_gaps"] == req.acknowledged_gaps


def test_a_rejection_always_needs_a_comment_and_never_an_acknowledgement(personas, failing, api):
    req = _requested(personas, failing)
    r = api("bob").post(f"/api/v1/approvals/{req.pk}/decisions/", {"decision": "reject"}, format="json")
    assert r.status_code == 400 and r.json()["extra"]["field"] == "comment"
    r = api("bob").post(f"/api/v1/approvals/{req.pk}/decisions/",
                        {"decision": "reject", "comment": "Fairness failed."}, format="json")
    assert r.status_code == 201


# --- What was acknowledged travels with the answer ------------------------------------------------

def test_the_signed_gate_answer_names_who_went_ahead_knowing_the_gaps(personas, failing, gate_key):
    req = _requested(personas, failing, [["risk_officer"]])
    approval_decide(actor=personas["bob"], request=req, decision="approve", comment=EYES_OPEN, acknowledge=True)
    answer = gate_answer(system=failing.system, version=failing, environment="production")
    predicate = attestation.verify_envelope(answer["attestation"], public_pem=gate_key)["predicate"]
    assert predicate["decision"] == "deny"  # acknowledging a gap does not close it
    assert [(a["by"], a["as"], a["justification"]) for a in predicate["acknowledged_gaps"]] == [
        ("alice", "requester", EYES_OPEN), ("bob", "risk_officer", EYES_OPEN)]
    assert predicate["acknowledged_gaps"][1]["gaps"] == req.acknowledged_gaps
    summary = gate_check._summary(predicate, name="credit@1.0.0", environment="production",
                                  artifact_sha256=failing.artifact_sha256, public_key=gate_key)
    assert "Acknowledged gaps (requested or approved knowing the version missed its policy):" in summary
    assert f"      missed: {req.acknowledged_gaps[0]}" in summary


def test_an_answer_with_nothing_acknowledged_signs_no_acknowledged_gaps(personas, gate_key):
    system = high(personas)
    version = make_version(system)
    answer = gate_answer(system=system, version=version, environment="production")
    assert "acknowledged_gaps" not in attestation.verify_envelope(answer["attestation"], public_pem=gate_key)["predicate"]


# --- Could not run is not failed -----------------------------------------------------------------

def test_an_audit_that_could_not_run_reads_apart_from_one_that_failed(personas):
    system = high(personas)
    errored = make_version(system, "1.0.0")
    AuditRun.objects.create(system=system, version=errored, kind="fairness", status=RunStatus.FAILED,
                            error="The model file is not a safetensors file.", started_at=timezone.now(),
                            finished_at=timezone.now())
    failed = make_version(system, "1.1.0")
    make_run(failed, outcome="fail", checks=FAILED)
    could_not = gate_evaluate(system=system, version=errored, environment="production")
    did_fail = gate_evaluate(system=system, version=failed, environment="production")
    assert could_not["reasons"][0].startswith("The latest fairness audit could not run (")
    assert "The model file is not a safetensors file." in could_not["reasons"][0]
    assert "did not fail the policy" in could_not["reasons"][0]
    assert could_not["audits"][0]["error"]["message"] == "The model file is not a safetensors file."
    assert did_fail["reasons"][0].startswith("The latest fairness audit (") and "failed the policy" in did_fail["reasons"][0]
    assert did_fail["audits"][0]["error"] is None
