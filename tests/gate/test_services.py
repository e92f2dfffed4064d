"""The deploy gate: reasons, constant queries, signed attestations, rollback, and the client."""

import base64
import datetime
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from governance.gate import attestation
from governance.approvals.services import approval_decide, approvals_revoke_for_version
from governance.catalog.evidence import evidence_record
from governance.core.exceptions import ApplicationError
from governance.gate.services import gate_answer, gate_evaluate, gate_evaluate_many
from governance.trail.models import AuditLogEntry
from governance.catalog.models import ControlAssessment
from governance.gate.models import GateState
from governance.registry.tokens import pipeline_token_create
from tests.deploy.client import gate_check
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import (
    STRICT_CHECKS,
    approve,
    high,
    make_run,
    make_version,
    medium,
    passing_run,
    signed_report,
)

pytestmark = pytest.mark.django_db


def allowed_medium(personas, slug="triage", label="1.0.0", minutes_ago=0):
    system = medium(personas, slug) if isinstance(slug, str) else slug
    version = make_version(system, label, minutes_ago=minutes_ago)
    passing_run(version)
    approve(version, "production", personas)
    return system, version


# --- Reasons -------------------------------------------------------------------------------

def test_a_new_high_risk_version_is_denied_with_every_missing_piece(personas):
    system = high(personas)
    version = make_version(system)
    answer = gate_evaluate(system=system, version=version, environment="production")
    assert answer["decision"] == "deny"
    assert answer["reasons"] == [
        "No successful fairness audit on this version; run one.",
        "The policy requires a signed report for this version; none is signed. Generate and sign one.",
        "No approval request for production; the model owner must request one.",
    ]
    assert answer["artifact_sha256"] == version.artifact_sha256
    assert answer["policy"]["name"] == "High risk - production"
    assert answer["audits"][0] == {"kind": "fairness", "required": True, "max_age_days": 90, "run": None,
                                   "outcome": None, "finished_at": None, "age_days": None, "met": False,
                                   "accepted": None, "not_applicable": None,
                                   "error": None}


def test_a_version_meeting_the_policy_is_allowed_until_the_attestation_ttl(personas, settings):
    settings.GATE_ATTESTATION_TTL_SECONDS = 600
    system, version = allowed_medium(personas)
    now = timezone.now()
    answer = gate_evaluate(system=system, version=version, environment="production", now=now)
    assert (answer["decision"], answer["reasons"]) == ("allow", [])
    assert answer["expires_at"] == (now + timedelta(seconds=600)).astimezone(datetime.timezone.utc).isoformat(
        timespec="microseconds")
    assert answer["audits"][0]["met"] is True and answer["audits"][0]["age_days"] == 1.0
    assert [d["role"] for d in answer["approvals"]] == ["risk_officer"]
    # Staging has its own approval: production's does not count there.
    assert gate_evaluate(system=system, version=version, environment="staging")["reasons"] == [
        "No approval request for staging; the model owner must request one."]


def test_an_allow_expires_with_the_audit_that_supports_it(personas, settings):
    settings.GATE_ATTESTATION_TTL_SECONDS = 10 * 86400
    system = medium(personas)
    version = make_version(system)
    run = passing_run(version, days_ago=175)  # medium: max age 180 days
    approve(version, "production", personas)
    answer = gate_evaluate(system=system, version=version, environment="production")
    assert answer["decision"] == "allow"
    assert answer["expires_at"] == (run.finished_at + timedelta(days=180)).isoformat(timespec="microseconds")


@pytest.mark.parametrize("outcome,checks,days_ago,reason", [
    ("inconclusive", [dict(STRICT_CHECKS[0], outcome="inconclusive"), *STRICT_CHECKS[1:]], 1,
     "The latest fairness audit (run {run}, {day}) was inconclusive (1 check could not be decided), and "
     "inconclusive does not meet the policy: evaluate on more data, or a risk officer or executive approver may "
     "accept the result for production in writing."),
    # Each check's sentence becomes a clause of the reason: no ".;" between them.
    ("fail", [dict(STRICT_CHECKS[0], outcome="fail", explanation="DP difference on sex 0.25 > 0.1."),
              dict(STRICT_CHECKS[1], outcome="fail", explanation="DP ratio on sex 0.7 < 0.8."), *STRICT_CHECKS[2:]], 1,
     "The latest fairness audit (run {run}, {day}) failed the policy: DP difference on sex 0.25 > 0.1; "
     "DP ratio on sex 0.7 < 0.8."),
    ("pass", STRICT_CHECKS, 200, "The latest fairness audit is 200 days old; the policy allows 180. Run it again."),
    ("pass", [dict(c, threshold=0.3) for c in STRICT_CHECKS], 1,
     "The latest fairness audit (run {run}, {day}) was judged against other thresholds than the policy now sets; "
     "run it again."),
])
def test_an_audit_that_is_not_a_fresh_pass_denies(personas, outcome, checks, days_ago, reason):
    system = medium(personas)
    version = make_version(system)
    run = make_run(version, outcome=outcome, checks=checks, days_ago=days_ago)
    answer = gate_evaluate(system=system, version=version, environment="production")
    assert answer["reasons"][0] == reason.format(run=str(run.pk)[:8], day=run.finished_at.strftime("%Y-%m-%d"))


def test_the_latest_run_counts_not_an_older_pass(personas):
    system = medium(personas)
    version = make_version(system)
    passing_run(version, days_ago=3)
    make_run(version, outcome="fail", days_ago=1)
    assert gate_evaluate(system=system, version=version, environment="production")["reasons"][0].startswith(
        "The latest fairness audit (run")


def test_a_signed_report_must_cover_the_latest_audit(personas):
    system = high(personas)
    version = make_version(system)
    report = signed_report(version)
    passing_run(version, days_ago=0)  # finished after the report was signed
    answer = gate_evaluate(system=system, version=version, environment="production")
    assert "The signed report R-2026-0001 predates the latest fairness audit; sign a new report." in answer["reasons"]
    assert answer["report_sha256"] == report.sha256


def test_open_findings_deny(personas):
    system, version = allowed_medium(personas)
    # Failed by hand: a finding about the system, so it blocks every version.
    ControlAssessment.objects.filter(system=system, control__ref__in=["MEASURE 2.11", "A.5.4"]).update(status="failed")
    answer = gate_evaluate(system=system, version=version, environment="production")
    assert answer["reasons"] == [
        "2 control(s) have open findings from this version's audits or about the system: MEASURE 2.11, A.5.4. "
        "Resolve them, or record why they do not apply.",
        # It was approved (so allowed) before: the answer says where to roll back to.
        "No other version of triage is allowed in production to roll back to."]


def test_a_required_audit_is_waived_where_its_control_is_marked_not_applicable(personas, gate_key):
    from governance.catalog.services import assessment_update

    system = medium(personas, "digits")
    version = make_version(system)
    approve(version, "production", personas)
    assert gate_evaluate(system=system, version=version, environment="production")["reasons"][0] == (
        "No successful fairness audit on this version; run one.")
    reason = "Reads 8x8 scans of handwritten digits; it decides nothing about people."
    fairness = ControlAssessment.objects.get(system=system, control__framework="ai-rmf", control__ref="MEASURE 2.11")
    assessment_update(actor=personas["carla"], assessment=fairness, status="not_applicable", notes=reason)
    answer = gate_answer(system=system, version=version, environment="production")
    assert (answer["decision"], answer["reasons"]) == ("allow", [])
    assert answer["audits"][0]["not_applicable"] == {"control": "MEASURE 2.11", "reason": reason}
    predicate = attestation.verify_envelope(answer["attestation"], public_pem=gate_key)["predicate"]
    assert predicate["not_applicable"] == [{"audit": "fairness", "control": "MEASURE 2.11", "reason": reason}]
    summary = gate_check._summary(predicate, name="digits@1.0.0", environment="production",
                                  artifact_sha256=version.artifact_sha256, public_key=gate_key)
    assert f"  - fairness audit (control MEASURE 2.11): {reason}" in summary
    # Marking a control not applicable needs a reason; another control does not waive fairness.
    with pytest.raises(ApplicationError, match="say why this control does not apply"):
        assessment_update(actor=personas["carla"], assessment=ControlAssessment.objects.get(
            system=system, control__ref="MEASURE 2.2"), status="not_applicable", notes=" ")
    assessment_update(actor=personas["carla"], assessment=fairness, status="in_progress")
    assert gate_evaluate(system=system, version=version, environment="production")["decision"] == "deny"


def test_a_failing_audit_is_a_finding_of_its_own_version_only(personas):
    system, old = allowed_medium(personas, label="1.0.0", minutes_ago=60)
    _, new = allowed_medium(personas, system, label="1.1.0")
    drift = make_run(new, kind="drift", outcome="fail", days_ago=0)
    evidence_record(system=system, kind="drift", outcome="fail", summary="PSI 0.31 > 0.25 on income", audit_run=drift)
    refs = ["MEASURE 2.4", "MANAGE 2.2", "MANAGE 4.1", "A.6.2.6"]
    assert set(ControlAssessment.objects.filter(system=system, status="failed").values_list("control__ref", flat=True)) \
        == set(refs)
    answers = gate_evaluate_many(system=system, versions=[old, new], environments=["production"])
    assert answers[(new.pk, "production")]["open_findings"] == refs
    assert (answers[(old.pk, "production")]["decision"], answers[(old.pk, "production")]["open_findings"]) == ("allow", [])
    # A later pass on the same version clears its finding; the other version's stays its own.
    evidence_record(system=system, kind="drift", outcome="pass", summary="PSI 0.02",
                    audit_run=make_run(new, kind="drift", outcome="pass", days_ago=0))
    assert gate_evaluate(system=system, version=new, environment="production")["decision"] == "allow"


@pytest.mark.parametrize("state,reason", [
    ("pending", "The production approval is in review: stage 2 of 2 still needs Executive approver."),
    ("rejected", "The production approval was rejected by bob (Risk officer (independent validator)) on {day}: "
                 "Not enough evaluation data"),
])
def test_an_unfinished_or_rejected_approval_denies(personas, state, reason):
    system = high(personas)
    version = make_version(system)
    req = request_approval(actor=personas["alice"], version=version, environment="production")
    if state == "pending":
        decide(actor=personas["bob"], request=req, decision="approve")
    else:
        approval_decide(actor=personas["bob"], request=req, decision="reject", comment="Not enough evaluation data")
    answer = gate_evaluate(system=system, version=version, environment="production")
    assert answer["reasons"][-1] == reason.format(day=timezone.now().strftime("%Y-%m-%d"))


def test_the_gate_reads_in_constant_queries(personas, django_assert_num_queries):
    system = medium(personas)
    one = make_version(system, "1.0.0")
    passing_run(one)
    approve(one, "production", personas)
    five = make_version(system, "2.0.0")
    for days in range(5):
        passing_run(five, days_ago=days + 1)
    for _ in range(4):
        req = approve(five, "production", personas)
        approvals_revoke_for_version(version=five, reason="re-approval drill")
    approve(five, "production", personas)
    system.refresh_from_db()
    # policy, audit runs, findings, approval requests, their decisions, gate states
    for version in (one, five):
        with django_assert_num_queries(6):
            assert gate_evaluate(system=system, version=version, environment="production")["decision"] == "allow"
    with django_assert_num_queries(6):
        gate_evaluate_many(system=system, versions=[one, five], environments=["production"])
    assert req.pk  # the loop above really made requests


def test_findings_and_risk_acceptances_read_in_constant_queries(personas, django_assert_num_queries):
    from governance.approvals.risk import risk_accept

    system = medium(personas)
    undecided = [dict(STRICT_CHECKS[0], outcome="inconclusive"), *STRICT_CHECKS[1:]]
    versions = []
    for label in ("1.0.0", "1.1.0", "1.2.0"):
        version = make_version(system, label)
        run = make_run(version, outcome="inconclusive", checks=undecided)
        evidence_record(system=system, kind="fairness", outcome="inconclusive", summary="300 rows", audit_run=run)
        risk_accept(actor=personas["bob"], run=run, environment="production", justification="x" * 40)
        approve(version, "production", personas)
        drift = make_run(version, kind="drift", outcome="fail", days_ago=0)
        evidence_record(system=system, kind="drift", outcome="fail", summary="PSI 0.3", audit_run=drift)
        versions.append(version)
    # policy, audit runs, risk acceptances, findings, approval requests, their decisions, gate states
    # (gate_evaluate_many: a denied, once-allowed version's answer also searches for a rollback)
    for version in versions:
        with django_assert_num_queries(7):
            answer = gate_evaluate_many(system=system, versions=[version], environments=["production"])[
                (version.pk, "production")]
        assert answer["decision"] == "deny" and answer["audits"][0]["accepted"]["by"] == "bob"
        assert answer["open_findings"] == ["MEASURE 2.4", "MANAGE 2.2", "MANAGE 4.1", "A.6.2.6"]
    with django_assert_num_queries(7):
        gate_evaluate_many(system=system, versions=versions, environments=["production", "staging"])


# --- The API, the attestation, the trail ------------------------------------------------------

@pytest.fixture
def pipeline(gate_key):
    return PipelineClient("gate:read", name="ci")  # made at its first request, bound to the test's systems


def test_the_endpoint_returns_a_signed_answer_that_verifies(personas, pipeline, gate_key):
    system, version = allowed_medium(personas)
    r = pipeline.get("/api/v1/gate/triage/1.0.0/?environment=production")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["decision"] == "allow" and body["artifact_sha256"] == version.artifact_sha256
    statement = attestation.verify_envelope(body["attestation"], public_pem=gate_key)
    assert statement["subject"] == [{"name": "triage@1.0.0", "digest": {"sha256": version.artifact_sha256}}]
    assert statement["predicate"]["decision"] == "allow" and statement["predicate"]["environment"] == "production"
    assert statement["predicate"]["expires_at"] == body["expires_at"]
    # It anchors the audit trail: the newest row, which is this first answer's own log entry.
    newest = AuditLogEntry.objects.order_by("-seq").first()
    assert newest.action == "gate.decision_changed"
    assert statement["predicate"]["audit_trail"] == body["audit_trail"] == {"seq": newest.seq, "hash": newest.hash}
    # The stdlib client accepts it too.
    public = gate_check.load_public_key(gate_key.decode())
    signed = gate_check.verify_envelope(body["attestation"], public)
    gate_check.check_statement(signed, body, system="triage", version="1.0.0", environment="production")


def test_a_forged_or_altered_attestation_is_rejected(personas, pipeline, gate_key):
    allowed_medium(personas)
    ControlAssessment.objects.filter(control__ref="MEASURE 2.11").update(status="failed")
    body = pipeline.get("/api/v1/gate/triage/1.0.0/?environment=production").json()
    assert body["decision"] == "deny"
    public = gate_check.load_public_key(gate_key.decode())
    # Altered: flip the signed decision to allow, keep the signature.
    statement = json.loads(base64.b64decode(body["attestation"]["payload"]))
    statement["predicate"]["decision"] = "allow"
    altered = dict(body["attestation"], payload=base64.b64encode(attestation.canonical_json(statement)).decode())
    with pytest.raises(attestation.AttestationError, match="does not verify"):
        attestation.verify_envelope(altered, public_pem=gate_key)
    with pytest.raises(gate_check.GateCheckError, match="signature does not verify"):
        gate_check.verify_envelope(altered, public)
    # Forged: a well-formed "allow" signed by another key.
    forged = attestation.sign_envelope(statement, private_pem=attestation.generate_key())
    with pytest.raises(gate_check.GateCheckError, match="signature does not verify"):
        gate_check.verify_envelope(forged, public)
    # Replayed into another answer: the unsigned decision disagrees with the signed one.
    signed = gate_check.verify_envelope(body["attestation"], public)
    with pytest.raises(gate_check.GateCheckError, match="differs from the response's 'allow'"):
        gate_check.check_statement(signed, dict(body, decision="allow"), system="triage", version="1.0.0",
                                   environment="production")


def test_bad_requests_name_the_field(personas, pipeline):
    medium(personas)
    r = pipeline.get("/api/v1/gate/triage/1.0.0/")
    assert r.status_code == 400 and r.json() == {
        "message": "environment is required: one of staging, production.", "extra": {"field": "environment"}}
    r = pipeline.get("/api/v1/gate/triage/9.9.9/?environment=production")
    assert r.status_code == 404 and r.json()["message"] == "No version '9.9.9' of triage."
    r = pipeline.get("/api/v1/gate/nope/1.0.0/?environment=production")
    assert r.status_code == 404 and r.json()["message"] == "No AI system 'nope'."
    make_version(medium(personas, "other"))
    r = pipeline.get("/api/v1/gate/other/1.0.0/?environment=qa")
    assert r.status_code == 400 and r.json()["message"] == (
        "environment: 'qa' is not accepted; use one of 'production', 'staging'.")


def test_only_a_changed_answer_is_written_to_the_trail(personas, gate_key):
    system = medium(personas)
    version = make_version(system)
    passing_run(version)
    for _ in range(2):
        gate_answer(system=system, version=version, environment="production", actor="pipeline:ci")
    changes = AuditLogEntry.objects.filter(action="gate.decision_changed")
    assert [(e.payload["from"], e.payload["to"]) for e in changes] == [(None, "deny")]
    approve(version, "production", personas)
    for _ in range(2):
        gate_answer(system=system, version=version, environment="production", actor="pipeline:ci")
    assert [(e.payload["from"], e.payload["to"], e.actor) for e in changes.all()] == [
        (None, "deny", "pipeline:ci"), ("deny", "allow", "pipeline:ci")]
    assert GateState.objects.get(version=version).first_allowed_at is not None


def test_a_version_denied_after_being_allowed_names_the_rollback(personas, pipeline, gate_key):
    system, old = allowed_medium(personas, label="1.0.0", minutes_ago=60)
    _, new = allowed_medium(personas, system, label="1.1.0")
    assert pipeline.get("/api/v1/gate/triage/1.1.0/?environment=production").json()["decision"] == "allow"
    approvals_revoke_for_version(version=new, reason="Drift breach on income (PSI 0.31 > 0.25)")
    body = pipeline.get("/api/v1/gate/triage/1.1.0/?environment=production").json()
    assert body["decision"] == "deny"
    assert body["rollback"]["version"] == "1.0.0" and body["rollback"]["artifact_sha256"] == old.artifact_sha256
    assert body["reasons"][-2:] == [
        f"The production approval was revoked on {timezone.now():%Y-%m-%d}: Drift breach on income (PSI 0.31 > 0.25)",
        "Roll back to 1.0.0, the last version still allowed in production."]
    signed = attestation.verify_envelope(body["attestation"], public_pem=gate_key)
    assert signed["predicate"]["reasons"][-1] == "Roll back to 1.0.0, the last version still allowed in production."
    change = AuditLogEntry.objects.filter(action="gate.decision_changed").last()
    assert (change.payload["to"], change.payload["rollback_to"]) == ("deny", "1.0.0")

    r = pipeline.get("/api/v1/rollback/triage/?environment=production")
    assert r.status_code == 200 and (r.json()["version"], r.json()["decision"]) == ("1.0.0", "allow")
    approvals_revoke_for_version(version=old, reason="Same drift")
    r = pipeline.get("/api/v1/rollback/triage/?environment=production")
    assert r.status_code == 404 and r.json()["message"] == "No version of triage is currently allowed in production."


def test_a_rollback_after_a_production_breach_says_whether_the_target_saw_that_batch(personas, pipeline, gate_key):
    import uuid

    system, old = allowed_medium(personas, label="1.0.0", minutes_ago=60)
    _, new = allowed_medium(personas, system, label="1.1.0")
    assert pipeline.get("/api/v1/gate/triage/1.1.0/?environment=production").json()["decision"] == "allow"
    batch = str(uuid.uuid4())
    breach = make_run(new, kind="drift", outcome="fail", days_ago=0, params={"batch": batch})
    evidence_record(system=system, kind="drift", outcome="fail", summary="PSI 0.31 on income", audit_run=breach,
                    version=new)

    body = pipeline.get("/api/v1/gate/triage/1.1.0/?environment=production").json()
    assert body["decision"] == "deny" and body["rollback"]["version"] == "1.0.0"
    assert body["rollback"]["breach"] == {"version": "1.1.0", "run": str(breach.pk), "batch": batch}
    assert body["rollback"]["reviewed_against_breach"] is None
    assert body["rollback"]["review_request"] == {"method": "POST", "url": "/api/v1/audit-runs/", "body": {
        "version": str(old.pk), "kind": "drift", "params": {"batch": batch}}}
    assert body["reasons"][-1] == ("Roll back to 1.0.0, the last version still allowed in production; it has not "
                                   "been reviewed against the production batch that breached 1.1.0: review it "
                                   "first (rollback.review_request).")
    r = pipeline.get("/api/v1/rollback/triage/?environment=production").json()
    assert r["version"] == "1.0.0" and r["rollback"]["review_request"]["body"]["version"] == str(old.pk)

    reviewed = make_run(old, kind="drift", outcome="pass", days_ago=0, params={"batch": batch})
    body = pipeline.get("/api/v1/gate/triage/1.1.0/?environment=production").json()
    assert body["rollback"]["reviewed_against_breach"] == {"run": str(reviewed.pk), "status": "succeeded",
                                                          "outcome": "pass"}
    assert "review_request" not in body["rollback"]
    assert body["reasons"][-1].endswith("reviewed against the production batch that breached 1.1.0: drift pass.")


def test_the_public_key_endpoint_serves_the_verifying_key(personas, pipeline, gate_key):
    medium(personas)  # a system for the pipeline's token to be bound to
    body = pipeline.get("/api/v1/gate/public-key/").json()
    assert body["public_key_pem"].encode() == gate_key
    assert body["keyid"] == attestation.key_id(gate_key)


def test_without_a_key_the_gate_says_how_to_configure_one(personas, pipeline, settings, tmp_path):
    settings.GATE_SIGNING_KEY = ""
    settings.GATE_SIGNING_KEY_PATH = tmp_path / "missing.pem"
    make_version(medium(personas))
    r = pipeline.get("/api/v1/gate/triage/1.0.0/?environment=production")
    assert r.status_code == 503
    assert r.json()["message"].startswith("The gate's signing key is not configured: set GATE_SIGNING_KEY")


@pytest.mark.django_db(transaction=True)
def test_the_pipeline_client_exits_0_on_allow_and_1_on_deny(live_server, personas, gate_key, tmp_path, capsys):
    system, version = allowed_medium(personas)
    _, key = pipeline_token_create(name="ci", scopes=["gate:read"], systems=[system])
    pub = tmp_path / "gate.pub.pem"
    pub.write_bytes(gate_key)
    args = ["--url", live_server.url, "--system", "triage", "--version", "1.0.0", "--environment", "production",
            "--token", key, "--public-key", str(pub), "--artifact-sha256", version.artifact_sha256]
    assert gate_check.main(args) == 0
    out = capsys.readouterr().out
    assert "ALLOW: triage@1.0.0 may be deployed to production." in out
    head = AuditLogEntry.objects.order_by("-seq").first()
    assert f"  audit trail anchor: {head.seq}:{head.hash}" in out
    approvals_revoke_for_version(version=version, reason="Drift breach")
    assert gate_check.main(args) == 1
    assert gate_check.main([*args[:-2], "--artifact-sha256", "0" * 64]) == 2  # another artifact: error, not allow
