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
