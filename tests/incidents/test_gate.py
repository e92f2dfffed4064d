"""The gate knows: a policy that denies open serious incidents denies such a version, and the
signed answer names the incident; closing it (or a policy that does not ask) lets the rest decide.
The gate reads it in one more statement, only when a policy asks."""

from __future__ import annotations

import base64
import json

import pytest

from governance.gate.services import gate_answer, gate_evaluate, gate_evaluate_many
from governance.incidents.services import incident_open, incident_transition, incident_update
from governance.policies.models import Policy
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import approve, make_version, medium, passing_run

pytestmark = pytest.mark.django_db


def allowed(personas):
    system = medium(personas)
    version = make_version(system)
    passing_run(version)
    approve(version, "production", personas)
    return system, version


def serious(personas, system, version):
    return incident_open(actor=personas["carla"], system=system, title="Refusals for one postcode",
                         description="Every applicant of one postcode was refused.", versions=[version],
                         environments=["production"], serious=True, serious_category="other")


def test_the_gate_denies_a_version_with_an_open_serious_incident_and_the_signed_answer_says_why(
        personas, gate_key):
    system, version = allowed(personas)
    Policy.objects.filter(risk_tier="medium").update(deny_open_serious_incidents=True)
    assert gate_evaluate(system=system, version=version, environment="production")["decision"] == "allow"
    incident = serious(personas, system, version)
    answer = gate_answer(system=system, version=version, environment="production")
    why = (f"Serious incident {incident.reference} ('Refusals for one postcode', opened "
           f"{incident.opened_at:%Y-%m-%d}) is open on this version; the policy denies a version with an open "
           "serious incident until the incident is closed.")
    assert answer["decision"] == "deny" and why in answer["reasons"]
    assert answer["open_serious_incidents"][0]["reference"] == incident.reference
    statement = json.loads(base64.b64decode(answer["attestation"]["payload"]))
    assert statement["predicate"]["decision"] == "deny" and why in statement["predicate"]["reasons"]
    # Closed, it no longer blocks.
    for step in ("investigating", "mitigated"):
        incident_transition(actor=personas["carla"], incident=incident, to=step)
    incident_update(actor=personas["carla"], incident=incident, root_cause="A stale postcode table.",
                    corrective_action="retraining")
    incident_transition(actor=personas["carla"], incident=incident, to="closed")
    assert gate_evaluate(system=system, version=version, environment="production")["decision"] == "allow"


def test_a_policy_that_does_not_ask_lets_the_version_through(personas):
    system, version = allowed(personas)
    serious(personas, system, version)
    assert not Policy.objects.get(risk_tier="medium", environment="production").deny_open_serious_incidents
    assert gate_evaluate(system=system, version=version, environment="production")["decision"] == "allow"


def test_another_versions_incident_does_not_block_this_one(personas):
    system, version = allowed(personas)
    Policy.objects.filter(risk_tier="medium").update(deny_open_serious_incidents=True)
    serious(personas, system, make_version(system, "2.0.0"))
    assert gate_evaluate(system=system, version=version, environment="production")["decision"] == "allow"


def test_high_risk_policies_deny_open_serious_incidents_by_default(personas):
    assert set(Policy.objects.filter(deny_open_serious_incidents=True).values_list("risk_tier", flat=True)) == {"high"}


def test_the_incidents_cost_the_gate_one_statement_only_when_a_policy_asks(personas, django_assert_num_queries):
    system, version = allowed(personas)
    with django_assert_num_queries(6):
        gate_evaluate(system=system, version=version, environment="production")
    Policy.objects.filter(risk_tier="medium").update(deny_open_serious_incidents=True)
    serious(personas, system, version)
    # (gate_evaluate_many: gate_evaluate would also search a rollback for the denied, once-allowed version)
    other = make_version(system, "2.0.0")
    with django_assert_num_queries(7):
        answers = gate_evaluate_many(system=system, versions=[version, other],
                                     environments=["production", "staging"])
    assert answers[(version.pk, "production")]["decision"] == "deny"
