"""Concurrent approval decisions and trail appends, through real parallel requests.

Each thread is its own client with its own database connection, released together by a
barrier. On PostgreSQL (CI) the request row's `select_for_update` serialises them; on SQLite
(locally) the write lock taken first does. Either way exactly one decision wins per role and
the audit trail stays one unbroken chain.
"""

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from governance.approvals.services import approval_request_create
from governance.approvals.models import ApprovalDecision, ApprovalRequest
from governance.trail.models import AuditLogEntry
from governance.policies.models import Policy
from governance.trail.services import trail_append, trail_verify
from tests.approval_fixtures import make_version, medium, passing_run

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def in_parallel(calls):
    """Run each call in its own thread, all started at once; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def risk_officers(django_user_model, n):
    group = Group.objects.get(name="risk_officer")
    users = []
    for i in range(n):
        user = django_user_model.objects.create_user(f"risk{i}", password="pw")
        user.groups.add(group)
        users.append(user)
    return users


def decide_as(user, request_id, decision, comment="ok"):
    client = Client()
    client.force_login(user)
    url = f"/api/v1/approvals/{request_id}/decisions/"
    return lambda: client.post(url, {"decision": decision, "comment": comment}, content_type="application/json")


def _meets_its_policy(personas):
    """A medium-risk version with the passing fairness audit its policy asks for, so approvers
    need no acknowledgement and the race is the only thing tested."""
    version = make_version(medium(personas))
    passing_run(version)
    return version


def test_parallel_approvals_of_one_stage_record_exactly_one(personas, django_user_model):
    req = approval_request_create(actor=personas["alice"], version=_meets_its_policy(personas), environment="production")
    officers = risk_officers(django_user_model, 4)
    responses = in_parallel([decide_as(u, req.pk, "approve") for u in officers])
    codes = sorted(getattr(r, "status_code", repr(r)) for r in responses)
    assert codes == [201, 409, 409, 409], responses
    refused = [r.json()["message"] for r in responses if r.status_code == 409]
    assert set(refused) == {"This request is approved; only submitted or in-review requests take decisions."}
    assert ApprovalDecision.objects.filter(request=req).count() == 1
    assert ApprovalRequest.objects.get(pk=req.pk).status == "approved"
    assert trail_verify().ok


def test_an_approval_racing_a_rejection_leaves_a_consistent_request(personas):
    Policy.objects.filter(risk_tier="medium", environment="production").update(
        approval_stages=[["risk_officer", "security_reviewer"]])
    req = approval_request_create(actor=personas["alice"], version=_meets_its_policy(personas), environment="production")
    responses = in_parallel([decide_as(personas["bob"], req.pk, "approve"),
                             decide_as(personas["sam"], req.pk, "reject", "Robustness not yet reviewed")])
    decisions = list(ApprovalDecision.objects.filter(request=req).order_by("decided_at", "pk")
                     .values_list("decision", flat=True))
    req.refresh_from_db()
    assert req.status == "rejected"  # whichever came first, the rejection ends the request
    assert decisions in (["approve", "reject"], ["reject"])
    assert sorted(r.status_code for r in responses) == ([201, 201] if len(decisions) == 2 else [201, 409])


def test_parallel_appends_keep_one_chain(personas):
    alice = personas["alice"]
    before = AuditLogEntry.objects.count()

    def append_ten(n):
        return lambda: [trail_append(actor=f"thread:{n}", action="test.append", obj=alice, payload={"i": i}).seq
                        for i in range(10)]

    results = in_parallel([append_ten(n) for n in range(4)])
    seqs = sorted(s for r in results for s in r)
    assert seqs == list(range(before + 1, before + 41))
    assert trail_verify().ok
