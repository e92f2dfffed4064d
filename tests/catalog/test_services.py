"""Assessments: who may update one (compliance and risk officers, admins), on the server."""

import pytest

from governance.catalog import services
from governance.catalog.models import ControlAssessment
from governance.core.exceptions import PermissionDeniedError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona,allowed", [
    ("carla", True), ("bob", True), ("root", True), ("alice", False), ("sam", False), ("erik", False), ("aude", False),
])
def test_who_may_update_a_control_assessment(credit_system, personas, persona, allowed):
    system, _ = credit_system
    assessment = ControlAssessment.objects.get(system=system, control__ref="GOVERN 1.1")
    if allowed:
        services.assessment_update(actor=personas[persona], assessment=assessment, status="satisfied", notes="ok")
        assessment.refresh_from_db()
        assert assessment.status == "satisfied"
    else:
        with pytest.raises(PermissionDeniedError):
            services.assessment_update(actor=personas[persona], assessment=assessment, status="satisfied")


def test_a_waiver_and_its_withdrawal_are_append_only_evidence_sealed_in_the_trail(credit_system, personas):
    from governance.catalog.models import Evidence
    from governance.trail.services import trail_verify

    system, _ = credit_system
    assessment = ControlAssessment.objects.get(system=system, control__ref="A.10.3")
    services.assessment_update(actor=personas["carla"], assessment=assessment, status="not_applicable",
                               notes="No third-party suppliers.")
    services.assessment_update(actor=personas["carla"], assessment=assessment, notes="No third-party suppliers at all.")
    services.assessment_update(actor=personas["carla"], assessment=assessment, status="in_progress")
    rows = list(Evidence.objects.filter(assessment=assessment, kind="waiver").order_by("created_at"))
    assert [(e.summary, e.recorded_by, e.version_id) for e in rows] == [
        ("Marked not applicable: No third-party suppliers.", "user:carla", None),
        ("No longer marked not applicable (now in progress).", "user:carla", None)]
    assert trail_verify().ok
