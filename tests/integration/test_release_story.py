"""The demo's release story end to end: a real worker audits and signs, the personas approve, the
pipeline client (over HTTP, verifying the attestation) sees deny -> allow -> deny with a rollback."""

import pytest

from governance.approvals.models import ApprovalRequest, RiskAcceptance
from governance.trail.models import AuditLogEntry
from governance.gate.models import GateState
from governance.trail.services import trail_verify

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_env():
    return {"DEBUG": "1"}  # the worker signs reports with the development-only certificate


@pytest.fixture
def demo_credit(catalog, settings, tmp_path):
    from governance.demo.setup import _credit_system, demo_users_ensure, roles_ensure

    settings.DEBUG = True  # report_ensure checks the signing configuration here too
    roles_ensure()
    demo_users_ensure()
    from django.contrib.auth import get_user_model

    system, _ = _credit_system(get_user_model().objects.get(username="olivia"))
    return system


def test_the_release_story(demo_credit, worker):
    from governance.demo.release import demo_release

    lines = []
    exits = demo_release(alive=lambda: worker.poll() is None, timeout=300, log=lines.append)
    story = "\n".join(lines)
    # The client exits 1 on deny and 0 on allow, after verifying each signed answer.
    assert exits == {"before": 1, "approved": 0, "drifted": 1, "rollback": "1.1.0"}, story
    # The breach came from a production batch that 1.1.0 was never reviewed on: the answer says so.
    assert ("Roll back to 1.1.0, the last version still allowed in production; it has not been reviewed "
            "against the production batch that breached 1.2.0: review it first (rollback.review_request).") in story
    assert RiskAcceptance.objects.filter(environment="production").count() == 2
    revoked = ApprovalRequest.objects.get(version__version="1.2.0")
    assert revoked.status == "revoked" and "drift" in revoked.revoked_reason.lower()
    assert ApprovalRequest.objects.get(version__version="1.1.0").status == "approved"
    state = GateState.objects.get(version__version="1.2.0", environment="production")
    assert state.decision == "deny" and state.first_allowed_at is not None
    changes = [e.payload["to"] for e in AuditLogEntry.objects.filter(action="gate.decision_changed",
                                                                      object_id=str(revoked.version_id))]
    assert changes == ["deny", "allow", "deny"]
    assert trail_verify().ok
    # The breach opened a serious incident with its Article 73 clock; the gate names it too.
    from governance.incidents.models import Incident, PublicReport

    incident = Incident.objects.get(source="drift_breach")
    assert incident.serious and incident.deadlines.get().legal_basis == "Regulation (EU) 2024/1689, Art. 73(2)"
    assert f"{incident.reference} opened from the breach" in story
    assert any(incident.reference in r for r in state.reasons)
    # One appeal from outside, overturned.
    appeal = PublicReport.objects.get()
    assert (appeal.kind, appeal.version.version, appeal.outcome) == ("appeal", "1.2.0", "overturned")

    # A second run does nothing again, and says what the gate says now.
    again = demo_release(alive=lambda: worker.poll() is None, timeout=60, log=lines.append)
    assert again == {"drifted": 1, "rollback": "1.1.0"}
