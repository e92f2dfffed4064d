"""Who may do what: every role x every action, one persona per role, plus the services and
endpoints that enforce the approval, gate and trail actions.

The expected table is written out by hand, not derived from roles.PERMISSIONS, so a change
to the matrix has to be made (and reviewed) in both places.
"""

import pytest
from rest_framework.test import APIClient

from governance.approvals.services import approval_decide, approval_request_create, approval_revoke
from governance.core.exceptions import PermissionDeniedError
from governance.core.roles import PERMISSIONS, can
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import make_version, medium

# The workflow's mechanics; what a version misses of its policy is tests/approvals/test_eyes_open.py's.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("policy_met")]

PERSONAS = ["alice", "oscar", "bob", "sam", "carla", "erik", "aude", "root"]
# alice owns the system; oscar is a model owner who does not.
ALLOWED = {
    "system.view": set(PERSONAS),
    "system.create": {"alice", "oscar", "root"},
    "system.edit": {"alice", "root"},
    "dataset.register": {"alice", "root"},
    "version.register": {"alice", "root"},
    "assessment.update": {"carla", "bob", "root"},
    "document.attach": {"carla", "root"},  # and each control's owner: tests/catalog/test_documents.py
    "audit.request": {"alice", "bob", "sam", "carla", "root"},
    "report.generate": {"alice", "bob", "sam", "carla", "root"},
    "approval.request": {"alice", "root"},
    "approval.decide": {"bob", "sam", "carla", "erik"},
    "approval.revoke": {"bob", "carla", "erik", "root"},
    "risk.accept": {"bob", "erik"},
    "policy.edit": {"carla", "root"},
    "gate.read": set(PERSONAS),
    "trail.view": {"aude", "carla", "bob", "root"},
    "trail.export": {"aude", "carla", "root"},
}


def test_the_table_covers_every_action():
    # Actions other features add belong in this table too (with their own service tests).
    assert set(ALLOWED) <= set(PERMISSIONS)


@pytest.fixture
def system(personas):
    return medium(personas)


@pytest.mark.parametrize("persona", PERSONAS)
def test_role_x_action(personas, persona):
    from governance.registry.models import AISystem

    owned_by_alice = AISystem(slug="credit", owner=personas["alice"])  # `can` reads only the owner
    may = {action for action in ALLOWED if can(personas[persona], action, owned_by_alice)}
    assert may == {action for action, who in ALLOWED.items() if persona in who}


@pytest.mark.parametrize("persona", PERSONAS)
def test_requesting_an_approval(personas, system, persona):
    version = make_version(system)
    if persona in ALLOWED["approval.request"]:
        assert approval_request_create(actor=personas[persona], version=version, environment="production").pk
    else:
        with pytest.raises(PermissionDeniedError):
            approval_request_create(actor=personas[persona], version=version, environment="production")


# The medium policy's only stage needs a risk officer: other deciding roles pass the role
# check and are then refused by the stage; the rest never get past the role check.
DECIDE = {"bob": "ok", "sam": "stage", "carla": "stage", "erik": "stage"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_deciding_an_approval(personas, system, persona):
    req = approval_request_create(actor=personas["alice"], version=make_version(system), environment="production")
    outcome = DECIDE.get(persona, "role")
    if outcome == "ok":
        approval_decide(actor=personas[persona], request=req, decision="approve")
        req.refresh_from_db()
        assert req.status == "approved"
        return
    with pytest.raises(PermissionDeniedError) as exc:
        approval_decide(actor=personas[persona], request=req, decision="approve")
    expected = "Stage 1 of 1 needs" if outcome == "stage" else "Your role does not allow this (approval.decide)"
    assert exc.value.message.startswith(expected)


@pytest.mark.parametrize("persona", PERSONAS)
def test_revoking_an_approval(personas, system, persona):
    req = approval_request_create(actor=personas["alice"], version=make_version(system), environment="production")
    if persona in ALLOWED["approval.revoke"]:
        approval_revoke(actor=personas[persona], request=req, reason="Withdrawn")
    else:
        with pytest.raises(PermissionDeniedError):
            approval_revoke(actor=personas[persona], request=req, reason="Withdrawn")


@pytest.mark.parametrize("persona", PERSONAS)
def test_reading_the_gate_and_the_trail_through_the_api(personas, system, gate_key, persona):
    make_version(system)
    client = APIClient()
    client.force_authenticate(personas[persona])
    assert client.get("/api/v1/gate/triage/1.0.0/?environment=production").status_code == 200
    assert client.get("/api/v1/audit-log/verify/").status_code == (200 if persona in ALLOWED["trail.view"] else 403)
    assert client.get("/api/v1/audit-log/export/").status_code == (200 if persona in ALLOWED["trail.export"] else 403)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_trail_page(client, personas, persona):
    client.force_login(personas[persona])
    assert client.get("/audit-log/").status_code == (200 if persona in ALLOWED["trail.view"] else 403)
