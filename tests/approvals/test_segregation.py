"""Segregation of duties: the system's owner, the version's creator, the request's requester and
whoever asked for the audit or retraining that produced the version never approve it, whatever
other roles they hold. Checked in the service, the API and the page, one persona per case."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from governance.approvals.models import ApprovalDecision
from governance.approvals.services import SOD_OWNER, SOD_PRODUCER, approval_decide
from governance.core.exceptions import PermissionDeniedError
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import make_system, make_version, request_approval, with_roles

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("policy_met")]


@pytest.fixture
def dora(django_user_model, catalog):
    """A model owner who is also a risk officer: she owns her system, so she never approves it."""
    return with_roles(django_user_model.objects.create_user("dora", first_name="Dora"), "model_owner", "risk_officer")


@pytest.fixture
def owned_by_dora(personas, dora):
    system = make_system(dora, slug="dual", tier="medium")  # one stage: a risk officer
    version = make_version(system, creator=personas["root"])
    return request_approval(actor=personas["root"], version=version, environment="production")


@pytest.fixture
def retrained_for_bob(personas):
    """A version the platform registered in alice's name for a retraining bob asked for."""
    system = make_system(personas["alice"], slug="triage", tier="medium")
    version = make_version(system)
    version.requested_by = personas["bob"]
    version.save(update_fields=["requested_by"])
    return request_approval(actor=personas["alice"], version=version, environment="production")


def test_the_owner_of_the_system_never_approves_it_even_as_a_risk_officer(owned_by_dora, dora):
    with pytest.raises(PermissionDeniedError) as refused:
        approval_decide(actor=dora, request=owned_by_dora, decision="approve")
    assert refused.value.message == SOD_OWNER.format(system="Dual")


def test_whoever_asked_for_the_retraining_never_approves_what_it_produced(retrained_for_bob, personas):
    with pytest.raises(PermissionDeniedError) as refused:
        approval_decide(actor=personas["bob"], request=retrained_for_bob, decision="approve")
    assert refused.value.message == SOD_PRODUCER.format(version="1.0.0")


@pytest.mark.parametrize("case", ["owner", "producer"])
def test_the_api_refuses_them_with_403_and_the_reason(owned_by_dora, retrained_for_bob, dora, personas, case):
    req, person, message = ((owned_by_dora, dora, SOD_OWNER.format(system="Dual")) if case == "owner" else
                            (retrained_for_bob, personas["bob"], SOD_PRODUCER.format(version="1.0.0")))
    api = APIClient()
    api.force_authenticate(person)
    response = api.post(f"/api/v1/approvals/{req.pk}/decisions/", {"decision": "approve"}, format="json")
    assert (response.status_code, response.json()["message"]) == (403, message)
    assert not ApprovalDecision.objects.filter(request=req).exists()


@pytest.mark.parametrize("case", ["owner", "producer"])
def test_the_page_refuses_them_and_records_nothing(owned_by_dora, retrained_for_bob, dora, personas, case):
    req, person = (owned_by_dora, dora) if case == "owner" else (retrained_for_bob, personas["bob"])
    page = Client()
    page.force_login(person)
    response = page.post(f"/approvals/{req.pk}/decide/", {"decision": "approve", "comment": ""})
    assert response.status_code == 400
    assert "segregation of duties" in response.content.decode()
    assert not ApprovalDecision.objects.filter(request=req).exists()


def test_an_independent_risk_officer_approves_both(owned_by_dora, retrained_for_bob, personas, dora):
    # bob is independent of dora's system; for alice's retrained version, another risk officer is.
    approval_decide(actor=personas["bob"], request=owned_by_dora, decision="approve")
    rhea = with_roles(type(dora).objects.create_user("rhea"), "risk_officer")
    approval_decide(actor=rhea, request=retrained_for_bob, decision="approve")
    assert ApprovalDecision.objects.filter(decision="approve").count() == 2


def test_the_inbox_does_not_offer_them_what_they_may_not_decide(owned_by_dora, retrained_for_bob, dora, personas):
    from governance.approvals.selectors import approvals_awaiting

    assert owned_by_dora not in approvals_awaiting(user=dora)
    assert retrained_for_bob not in approvals_awaiting(user=personas["bob"])
    assert owned_by_dora in approvals_awaiting(user=personas["bob"])
