"""Risk acceptance of inconclusive audit results, and how the gate counts it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.gate import attestation
from governance.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from governance.gate.services import gate_answer, gate_evaluate
from governance.trail.models import AuditLogEntry
from governance.approvals.models import RiskAcceptance
from governance.approvals.risk import risk_accept
from tests.deploy.client import gate_check
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import (
    ACCEPTANCE_WHY,
    STRICT_CHECKS,
    UNDECIDED_CHECKS,
    inconclusive_approved,
    make_run,
    make_version,
    medium,
)

pytestmark = pytest.mark.django_db

UNDECIDED, WHY = UNDECIDED_CHECKS, ACCEPTANCE_WHY


@pytest.fixture
def inconclusive(personas):
    _, run = inconclusive_approved(personas)
    return run.system, run.version, run


def test_an_accepted_inconclusive_run_meets_the_policy_until_the_acceptance_ends(personas, inconclusive, settings):
    settings.GATE_ATTESTATION_TTL_SECONDS = 400 * 86400
    system, version, run = inconclusive
    answer = gate_evaluate(system=system, version=version, environment="production")
    assert answer["decision"] == "deny" and "may accept the result for production" in answer["reasons"][0]

    ends = timezone.now() + timedelta(days=30)
    acceptance = risk_accept(actor=personas["bob"], run=run, environment="production", justification=WHY,
                             expires_at=ends)
    answer = gate_evaluate(system=system, version=version, environment="production")
    assert (answer["decision"], answer["reasons"]) == ("allow", [])
    assert answer["audits"][0]["met"] is True
    assert answer["audits"][0]["accepted"] == {
        "by": "bob", "role": "risk_officer", "justification": WHY,
        "accepted_at": acceptance.accepted_at.isoformat(), "expires_at": ends.isoformat()}
    assert answer["expires_at"] <= ends.isoformat()  # the allow ends with the acceptance
    # Staging is another environment: the acceptance does not speak for it.
    assert gate_evaluate(system=system, version=version, environment="staging")["audits"][0]["accepted"] is None

    later = gate_evaluate(system=system, version=version, environment="production", now=ends + timedelta(seconds=1))
    assert later["decision"] == "deny" and "was inconclusive" in later["reasons"][0]

    entry = AuditLogEntry.objects.filter(action="risk.accepted").get()
    assert entry.payload["run"] == str(run.pk) and entry.payload["justification"] == WHY
    assert entry.payload["inconclusive_checks"] == ["demographic_parity_difference on sex: 0.07"]


def test_a_newer_run_needs_its_own_acceptance(personas, inconclusive):
    system, version, run = inconclusive
    risk_accept(actor=personas["erik"], run=run, environment="production", justification=WHY)
    newer = make_run(version, outcome="inconclusive", checks=UNDECIDED, days_ago=0)
    assert gate_evaluate(system=system, version=version, environment="production")["decision"] == "deny"
    with pytest.raises(ConflictError, match="latest fairness audit"):
        risk_accept(actor=personas["bob"], run=run, environment="staging", justification=WHY)
    risk_accept(actor=personas["bob"], run=newer, environment="production", justification=WHY)
    assert gate_evaluate(system=system, version=version, environment="production")["decision"] == "allow"


@pytest.mark.parametrize("outcome,checks,message", [
    ("fail", [dict(STRICT_CHECKS[0], outcome="fail")], "this run is fail"),
    ("pass", STRICT_CHECKS, "this run is pass"),
    # Inconclusive overall but with a failed check: a failure is never accepted.
    ("inconclusive", [dict(STRICT_CHECKS[0], outcome="fail"), dict(STRICT_CHECKS[1], outcome="inconclusive")],
     "1 failed check"),
])
def test_only_an_inconclusive_result_without_failures_is_accepted(personas, outcome, checks, message):
    version = make_version(medium(personas))
    run = make_run(version, outcome=outcome, checks=checks)
    with pytest.raises(ConflictError, match=message):
        risk_accept(actor=personas["bob"], run=run, environment="production", justification=WHY)
    assert not RiskAcceptance.objects.exists()


def test_a_kind_the_policy_does_not_require_is_not_accepted(personas):
    version = make_version(medium(personas))
    run = make_run(version, kind="privacy", outcome="inconclusive", checks=[{"outcome": "inconclusive"}])
    with pytest.raises(ApplicationError, match="does not require a privacy audit"):
        risk_accept(actor=personas["bob"], run=run, environment="production", justification=WHY)


@pytest.mark.parametrize("persona", ["alice", "oscar", "sam", "carla", "aude", "root"])
def test_only_risk_owners_accept(personas, inconclusive, persona):
    with pytest.raises(PermissionDeniedError, match="risk.accept"):
        risk_accept(actor=personas[persona], run=inconclusive[2], environment="production", justification=WHY)


def test_segregation_of_duties(personas, django_user_model):
    from django.contrib.auth.models import Group

    from governance.approvals.services import approval_request_create

    system = medium(personas)
    # A risk officer who built the version, and one who requested its approval, may not accept.
    # rita is also an administrator, who may request approvals without owning the system.
    builder = django_user_model.objects.create_user("rita")
    for group in ("risk_officer", "model_owner", "admin"):
        builder.groups.add(Group.objects.get(name=group))
    version = make_version(system, creator=builder)
    run = make_run(version, outcome="inconclusive", checks=UNDECIDED)
    with pytest.raises(PermissionDeniedError, match="You created version 1.0.0"):
        risk_accept(actor=builder, run=run, environment="production", justification=WHY)
    other = make_version(system, "1.1.0", creator=personas["alice"])
    other_run = make_run(other, outcome="inconclusive", checks=UNDECIDED)
    request_approval(actor=builder, version=other, environment="production")
    with pytest.raises(PermissionDeniedError, match="requested this version's production approval"):
        risk_accept(actor=builder, run=other_run, environment="production", justification=WHY)
    # ...and whoever accepted a risk never requests the approval afterwards.
    third = make_version(system, "1.2.0", creator=personas["alice"])
    risk_accept(actor=builder, run=make_run(third, outcome="inconclusive", checks=UNDECIDED), environment="staging",
                justification=WHY)
    with pytest.raises(PermissionDeniedError, match="You accepted a risk on this version for staging"):
        approval_request_create(actor=builder, version=third, environment="staging")
    assert request_approval(actor=builder, version=third, environment="production").pk
    # The system's owner never accepts its risks, and neither does whoever asked for the
    # retraining that produced the version.
    fourth = make_version(system, "1.3.0", creator=personas["root"])
    fourth_run = make_run(fourth, outcome="inconclusive", checks=UNDECIDED)
    system.owner = builder
    system.save()
    with pytest.raises(PermissionDeniedError, match="You own Triage"):
        risk_accept(actor=builder, run=fourth_run, environment="production", justification=WHY)
    fourth.requested_by = personas["bob"]
    fourth.save(update_fields=["requested_by"])
    with pytest.raises(PermissionDeniedError, match="You requested the audit or retraining that produced"):
        risk_accept(actor=personas["bob"], run=fourth_run, environment="production", justification=WHY)


@pytest.mark.parametrize("kwargs,field", [
    ({"justification": "ok"}, "justification"),
    ({"environment": "prod"}, "environment"),
    ({"expires_at": timezone.now() - timedelta(days=1)}, "expires_at"),
    ({"expires_at": timezone.now() + timedelta(days=400)}, "expires_at"),  # medium: max age 180 days
])
def test_bad_input_names_the_field_and_writes_nothing(personas, inconclusive, kwargs, field):
    args = {"environment": "production", "justification": WHY, **kwargs}
    with pytest.raises(ApplicationError) as caught:
        risk_accept(actor=personas["bob"], run=inconclusive[2], **args)
    assert caught.value.extra["field"] == field
    assert not RiskAcceptance.objects.exists() and not AuditLogEntry.objects.filter(action="risk.accepted").exists()


def test_a_run_is_accepted_once_per_environment(personas, inconclusive):
    risk_accept(actor=personas["bob"], run=inconclusive[2], environment="production", justification=WHY)
    with pytest.raises(ConflictError, match="already accepted for production"):
        risk_accept(actor=personas["erik"], run=inconclusive[2], environment="production", justification=WHY)


def test_the_signed_answer_names_the_accepted_risk(personas, inconclusive, gate_key):
    system, version, run = inconclusive
    acceptance = risk_accept(actor=personas["bob"], run=run, environment="production", justification=WHY)
    answer = gate_answer(system=system, version=version, environment="production")
    predicate = attestation.verify_envelope(answer["attestation"], public_pem=gate_key)["predicate"]
    assert predicate["decision"] == "allow"
    assert predicate["accepted_risks"] == [{
        "audit": "fairness", "run": str(run.pk), "by": "bob", "role": "risk_officer", "justification": WHY,
        "accepted_at": acceptance.accepted_at.isoformat(), "expires_at": acceptance.expires_at.isoformat()}]
    summary = gate_check._summary(predicate, name="triage@1.0.0", environment="production",
                                  artifact_sha256=version.artifact_sha256, public_key=gate_key)
    assert f"  - fairness audit, run {run.pk}: accepted by bob (risk_officer) until" in summary
