"""The demo's policy documents: attached once, one through the crosswalk, one overdue."""

import pytest

from governance.catalog.models import ControlAssessment, Evidence, EvidenceDocument
from governance.demo.documents import demo_documents_ensure
from tests.approval_fixtures import make_system

pytestmark = pytest.mark.django_db


def test_the_demo_attaches_its_policies_once_one_through_the_crosswalk(personas):
    system = make_system(personas["alice"], slug="credit-scoring")
    assert demo_documents_ensure(log=lambda _: None) == 3
    assert demo_documents_ensure(log=lambda _: None) == 0  # idempotent
    assert EvidenceDocument.objects.filter(system=system).count() == 3
    policy = EvidenceDocument.objects.get(title="AI policy")
    assert sorted(Evidence.objects.filter(document=policy).values_list("assessment__control__ref", flat=True)) == [
        "A.2.2", "A.2.4", "GOVERN 1.1"]
    status = dict(ControlAssessment.objects.filter(system=system).values_list("control__ref", "status"))
    assert (status["GOVERN 1.1"], status["A.2.2"], status["GOVERN 2.1"], status["A.3.2"], status["GOVERN 6.1"]) == (
        "satisfied", "satisfied", "satisfied", "satisfied", "stale")


def test_the_demo_has_nothing_to_attach_to_without_its_system(personas):
    assert demo_documents_ensure(log=lambda _: None) == 0
