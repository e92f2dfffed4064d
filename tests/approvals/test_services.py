"""The approval workflow: lifecycle, segregation of duties, expiry, revocation, notifications."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from governance.approvals import selectors as A
from governance.approvals.services import (
    approval_decide,
    approval_request_create,
    approval_request_submit,
    approval_revoke,
    approvals_audit_finished,
    approvals_expire,
    approvals_revoke_for_version,
)
from governance.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from governance.approvals.models import ApprovalDecision, ApprovalRequest
from governance.trail.models import AuditLogEntry
from governance.catalog.models import ControlAssessment, Evidence
from governance.policies.models import Policy
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import approve, high, make_run, make_version, medium, with_roles

# The workflow's mechanics; what a version misses of its policy is tests/approvals/test_eyes_open.py's.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("policy_met")]


@pytest.fixture
def credit(personas):
    system = high(personas)
    return system, make_version(system)


def test_a_request_walks_the_stages_to_approved(credit, personas, django_capture_on_commit_callbacks):
    system, version = credit
    for name in ("alice", "bob", "erik"):
        personas[name].email = f"{name}@example.org"
        personas[name].save()
    with django_capture_on_commit_callbacks(execute=True):
        req = approval_request_create(actor=personas["alice"], version=version, environment="production",
                                      justification="Retrained on 2026 data")
    assert req.status == "submitted" and req.current_stage == 1
    assert req.stages == [["risk_officer"], ["executive_approver"]]
    assert req.policy_snapshot["name"] == "High risk - production"
    assert mail.outbox[-1].subject == "Approval requested: credit@1.0.0 to production"
    assert set(mail.outbox[-1].to) == {"alice@example.org", "bob@example.org"}  # owner and stage-1 approvers

    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=personas["bob"], request=req, decision="approve", comment="Fairness reviewed")
    req.refresh_from_db()
    assert (req.status, req.current_stage) == ("in_review", 2)
    assert "erik@example.org" in mail.outbox[-1].to

    before = timezone.now()
    approval_decide(actor=personas["erik"], request=req, decision="approve")
    req.refresh_from_db()
    assert req.status == "approved" and req.approved_at >= before
    assert req.expires_at == req.approved_at + timedelta(days=180)  # the high-risk policy: 180 days
    rows = list(req.decisions.values_list("stage", "role", "user__username", "decision", "comment"))
    assert rows == [(1, "risk_officer", "bob", "approve", "Fairness reviewed"), (2, "executive_approver", "erik", "approve", "")]
    govern = ControlAssessment.objects.get(system=system, control__ref="GOVERN 1.4")
    assert govern.status == "satisfied"
    assert Evidence.objects.filter(assessment=govern, kind="approval", outcome="pass").count() == 1
    actions = list(AuditLogEntry.objects.filter(object_id=str(req.pk)).values_list("action", flat=True))
    assert actions == ["approval.requested", "approval.submitted", "approval.decision", "approval.decision"]


def test_a_draft_is_submitted_later_and_snapshots_the_policy_then(credit, personas):
    _, version = credit
    req = approval_request_create(actor=personas["alice"], version=version, environment="staging", submit=False)
    assert (req.status, req.stages) == ("draft", [])
    Policy.objects.filter(risk_tier="high", environment="staging").update(approval_stages=[["compliance_officer"]])
    approval_request_submit(actor=personas["alice"], request=req)
    req.refresh_from_db()
    assert req.status == "submitted" and req.stages == [["compliance_officer"]]
    with pytest.raises(ConflictError, match="Only a draft can be submitted; this request is submitted."):
        approval_request_submit(actor=personas["alice"], request=req)


def test_a_rejection_needs_a_comment_and_ends_the_request(credit, personas):
    _, version = credit
    req = approval_request_create(actor=personas["alice"], version=version, environment="production")
    with pytest.raises(ApplicationError, match="comment: say why you reject") as exc:
        approval_decide(actor=personas["bob"], request=req, decision="reject")
    assert exc.value.extra["field"] == "comment"
    approval_decide(actor=personas["bob"], request=req, decision="reject", comment="Inconclusive fairness on age")
    req.refresh_from_db()
    assert req.status == "rejected" and req.decided_at is not None
    with pytest.raises(ConflictError, match="This request is rejected; only submitted or in-review requests take decisions."):
        approval_decide(actor=personas["erik"], request=req, decision="approve")


def test_one_open_request_per_version_and_environment(credit, personas):
    _, version = credit
    approval_request_create(actor=personas["alice"], version=version, environment="production")
    with pytest.raises(ConflictError, match=r"credit@1.0.0 already has an approval request for production \(submitted\)"):
        approval_request_create(actor=personas["alice"], version=version, environment="production")
    approval_request_create(actor=personas["alice"], version=version, environment="staging")  # another environment
    with pytest.raises(ApplicationError, match="environment must be one of: staging, production."):
        approval_request_create(actor=personas["alice"], version=version, environment="prod")


def test_only_the_owner_or_an_admin_requests(credit, personas):
    _, version = credit
    for name in ("oscar", "bob", "aude", "erik"):
        with pytest.raises(PermissionDeniedError):
            approval_request_create(actor=personas[name], version=version, environment="production")
    assert ApprovalRequest.objects.count() == 0


# --- Segregation of duties ---------------------------------------------------------------

def test_the_requester_never_approves_even_holding_the_role(credit, personas):
    _, version = credit
    alice = with_roles(personas["alice"], "risk_officer")
    req = approval_request_create(actor=alice, version=version, environment="production")
    with pytest.raises(PermissionDeniedError, match="You requested this approval; someone else must decide it"):
        approval_decide(actor=alice, request=req, decision="approve")
    assert ApprovalDecision.objects.count() == 0


def test_the_versions_creator_never_approves_it(personas):
    system = high(personas)
    version = make_version(system, creator=personas["bob"])  # the risk officer built this one
    req = approval_request_create(actor=personas["alice"], version=version, environment="production")
    with pytest.raises(PermissionDeniedError, match="You created version 1.0.0; someone else must approve it"):
        approval_decide(actor=personas["bob"], request=req, decision="approve")


def test_one_person_never_fills_two_stages(credit, personas):
    _, version = credit
    bob = with_roles(personas["bob"], "executive_approver")
    req = approval_request_create(actor=personas["alice"], version=version, environment="production")
    approval_decide(actor=bob, request=req, decision="approve", role="risk_officer")
    with pytest.raises(PermissionDeniedError, match="You already decided this request as Risk officer"):
        approval_decide(actor=bob, request=req, decision="approve", role="executive_approver")


def test_one_person_never_fills_two_roles_of_one_stage(credit, personas):
    _, version = credit
    Policy.objects.filter(risk_tier="high", environment="production").update(
        approval_stages=[["risk_officer", "security_reviewer"]])
    bob = with_roles(personas["bob"], "security_reviewer")
    req = approval_request_create(actor=personas["alice"], version=version, environment="production")
    with pytest.raises(ApplicationError, match=r"role: you hold several roles stage 1 still needs"):
        approval_decide(actor=bob, request=req, decision="approve")
    approval_decide(actor=bob, request=req, decision="approve", role="security_reviewer")
    with pytest.raises(PermissionDeniedError, match="You already decided this request as Security reviewer"):
        approval_decide(actor=bob, request=req, decision="approve", role="risk_officer")
    req.refresh_from_db()
    assert req.status == "in_review"  # the stage still needs a risk officer
    with pytest.raises(ApplicationError, match="role: stage 1 does not need Security reviewer"):
        approval_decide(actor=with_roles(personas["sam"], "risk_officer"), request=req, decision="approve",
                        role="security_reviewer")


def test_a_stage_takes_only_its_roles(credit, personas):
    _, version = credit
    req = approval_request_create(actor=personas["alice"], version=version, environment="production")
    with pytest.raises(PermissionDeniedError) as exc:
        approval_decide(actor=personas["erik"], request=req, decision="approve")
    assert exc.value.message == "Stage 1 of 2 needs Risk officer (independent validator); your roles: Executive approver."
    with pytest.raises(PermissionDeniedError, match=r"Your role does not allow this \(approval.decide\)"):
        approval_decide(actor=personas["aude"], request=req, decision="approve")


# --- Expiry and revocation ---------------------------------------------------------------

def test_approvals_expire_and_warn_once(personas, settings, django_capture_on_commit_callbacks):
    system = medium(personas)
    version = make_version(system)
    personas["alice"].email = "alice@example.org"
    personas["alice"].save()
    req = approve(version, "production", personas)
    settings.APPROVAL_EXPIRY_WARNING_DAYS = 14
    soon = req.expires_at - timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        assert approvals_expire(now=soon) == {"expired": [], "warned": [str(req.pk)]}
    assert mail.outbox[-1].subject == f"Approval expiring on {req.expires_at.date()}: triage@1.0.0 to production"
    assert approvals_expire(now=soon + timedelta(days=1)) == {"expired": [], "warned": []}  # once

    with django_capture_on_commit_callbacks(execute=True):
        result = approvals_expire(now=req.expires_at + timedelta(seconds=1))
    assert result["expired"] == [str(req.pk)]
    req.refresh_from_db()
    assert req.status == "expired"
    assert mail.outbox[-1].subject == "Approval expired: triage@1.0.0 to production"
    assert AuditLogEntry.objects.filter(action="approval.expired", object_id=str(req.pk)).count() == 1


def test_a_failing_audit_revokes_the_approval_and_tells_people(personas, django_capture_on_commit_callbacks):
    system = medium(personas)
    version = make_version(system)
    req = approve(version, "production", personas)
    personas["bob"].email = "bob@example.org"
    personas["bob"].save()
    run = make_run(version, outcome="fail")
    with django_capture_on_commit_callbacks(execute=True):
        revoked = approvals_audit_finished(run=run, outcome="fail")
    assert [r.pk for r in revoked] == [req.pk]
    req.refresh_from_db()
    assert req.status == "revoked"
    assert req.revoked_reason == f"The fairness audit (run {run.pk}) failed against the policy; see /runs/{run.pk}/."
    assert mail.outbox[-1].subject == "Approval REVOKED: triage@1.0.0 to production"
    assert "bob@example.org" in mail.outbox[-1].to  # the approver who signed is told
    assert mail.outbox[-1].body.count(req.revoked_reason) == 1  # the reason, said once
    entry = AuditLogEntry.objects.get(action="approval.revoked")
    assert entry.actor == "audit:fairness" and entry.payload["was_approved"] is True
    assert approvals_audit_finished(run=run, outcome="pass") == []


def test_a_failing_audit_that_judged_another_version_revokes_that_version_not_the_audited_one(personas):
    # DP retraining runs on the parent but its checks judge the child it registered.
    system = medium(personas)
    parent, child = make_version(system), make_version(system, "1.1.0")
    parent_request, child_request = approve(parent, "production", personas), approve(child, "production", personas)
    run = make_run(parent, outcome="fail", kind="dp_retraining")
    revoked = approvals_audit_finished(run=run, outcome="fail", version=child)
    assert [r.pk for r in revoked] == [child_request.pk]
    parent_request.refresh_from_db()
    assert parent_request.status == "approved"


def test_a_drift_breach_revokes_every_environment_and_is_idempotent(personas):
    system = medium(personas)
    version = make_version(system)
    prod = approve(version, "production", personas)
    staging = approval_request_create(actor=personas["alice"], version=version, environment="staging")
    revoked = approvals_revoke_for_version(version=version, reason="Drift breach on income (PSI 0.31)")
    assert {r.pk for r in revoked} == {prod.pk, staging.pk}
    assert approvals_revoke_for_version(version=version, reason="again") == []
    assert set(ApprovalRequest.objects.values_list("status", flat=True)) == {"revoked"}
    rollback = Evidence.objects.filter(kind="rollback").first()
    assert rollback.summary == "triage@1.0.0 may no longer ship to production; no other version is allowed there."


def test_a_person_revokes_with_a_reason(personas):
    system = medium(personas)
    version = make_version(system)
    req = approve(version, "production", personas)
    with pytest.raises(ApplicationError, match="reason: say why the approval is revoked."):
        approval_revoke(actor=personas["carla"], request=req, reason=" ")
    with pytest.raises(PermissionDeniedError):
        approval_revoke(actor=personas["alice"], request=req, reason="changed my mind")
    approval_revoke(actor=personas["carla"], request=req, reason="Complaint from a customer group")
    req.refresh_from_db()
    assert (req.status, req.revoked_reason) == ("revoked", "Complaint from a customer group")
    with pytest.raises(ConflictError, match="This request is revoked; only a pending or approved request can be revoked."):
        approval_revoke(actor=personas["carla"], request=req, reason="again")
    # Once revoked, a new request may be opened.
    assert approval_request_create(actor=personas["alice"], version=version, environment="production").status == "submitted"


def test_awaiting_lists_what_each_person_may_decide_now(credit, personas):
    _, version = credit
    req = approval_request_create(actor=personas["alice"], version=version, environment="production")
    assert [r.pk for r in A.approvals_awaiting(user=personas["bob"])] == [req.pk]
    assert A.approvals_awaiting(user=personas["erik"]) == []  # stage 2 is not open yet
    assert A.approvals_awaiting(user=personas["alice"]) == []
    approval_decide(actor=personas["bob"], request=req, decision="approve")
    assert [r.pk for r in A.approvals_awaiting(user=personas["erik"])] == [req.pk]
    assert A.approvals_awaiting(user=personas["bob"]) == []


# --- Webhooks ------------------------------------------------------------------------------

def test_events_go_to_webhooks_on_commit_only(credit, personas, settings, monkeypatch,
                                              django_capture_on_commit_callbacks):
    _, version = credit
    settings.APPROVAL_WEBHOOK_URLS = ["http://127.0.0.1:9/hook"]
    from governance.notifications.models import WebhookDelivery

    sent = []
    monkeypatch.setattr("governance.notifications.tasks.deliver_webhook.apply_async",
                        lambda args: sent.append(WebhookDelivery.objects.get(pk=args[0])))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        approval_request_create(actor=personas["alice"], version=version, environment="production")
    assert sent == [] and not WebhookDelivery.objects.exists()  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert [(d.url, d.event, d.status) for d in sent] == [("http://127.0.0.1:9/hook", "approval.requested", "pending")]


def test_a_webhook_is_signed_with_hmac_over_timestamp_and_body(settings):
    import http.server
    import json
    import threading

    from governance.notifications.webhooks import webhook_post, webhook_signature

    settings.APPROVAL_WEBHOOK_SECRET = "s3cret"
    received = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received["body"] = self.rfile.read(int(self.headers["Content-Length"]))
            received["headers"] = dict(self.headers)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    payload = json.dumps({"event": "approval.decided", "request": {"id": "x"}})
    status = webhook_post(url=f"http://127.0.0.1:{server.server_port}/hook", event="approval.decided", payload=payload)
    thread.join(5)
    server.server_close()
    headers = received["headers"]
    assert status == 204 and received["body"] == payload.encode()
    assert headers["X-Governance-Event"] == "approval.decided"
    expected = webhook_signature("s3cret", headers["X-Governance-Timestamp"], received["body"])
    assert headers["X-Governance-Signature"] == expected
    assert webhook_signature("other", headers["X-Governance-Timestamp"], received["body"]) != expected


# --- Pages ---------------------------------------------------------------------------------

def test_the_owner_requests_and_the_approver_decides_on_the_pages(credit, personas, client):
    system, version = credit
    client.force_login(personas["alice"])
    page = client.get(f"/systems/{system.slug}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Approvals and deploy gate" in html and "Request approval" in html
    assert "No approval request for production; the model owner must request one." in html
    r = client.post(f"/systems/{system.slug}/approvals/request/",
                    {"version": str(version.pk), "environment": "production", "justification": "First release"})
    req = ApprovalRequest.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/approvals/{req.pk}/"
    html = client.get(r["Location"]).content.decode()
    assert "You cannot decide this request: Your role does not decide approvals." in html

    client.force_login(personas["bob"])
    assert "Request approval" not in client.get(f"/systems/{system.slug}/").content.decode()
    assert str(req.pk) in client.get("/approvals/").content.decode()  # awaiting bob
    html = client.get(f"/approvals/{req.pk}/").content.decode()
    assert "You sign as <strong>Risk officer (independent validator)</strong> (stage 1 of 2)" in html
    r = client.post(f"/approvals/{req.pk}/decide/", {"decision": "reject", "comment": ""})
    assert r.status_code == 400 and "comment: say why you reject" in r.content.decode()
    assert not req.decisions.exists()
    client.post(f"/approvals/{req.pk}/decide/", {"decision": "approve", "comment": "Reviewed", "role": "risk_officer"})
    req.refresh_from_db()
    assert (req.status, req.current_stage) == ("in_review", 2)


def test_the_trail_page_verifies_and_exports_for_auditors(credit, personas, client):
    client.force_login(personas["aude"])
    html = client.get("/audit-log/?verify=1").content.decode()
    assert "intact" in html and "system.created" in html
    r = client.get("/audit-log/export.jsonl")
    assert r.status_code == 200 and b"system.created" in b"".join(r.streaming_content)
