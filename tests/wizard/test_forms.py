"""The wizard's steps and the pages' filters read their input through Django forms: a value out
of bounds is a 400 that names the field and writes nothing; a filter the page does not offer
is ignored, not an error."""

from __future__ import annotations

import pytest
from django.test import Client

from audits.runs.models import AuditRun
from governance.registry.models import AISystem, ModelVersion
from governance.registry.services import system_create

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def a_version(system, owner) -> ModelVersion:
    """A version row without a real artifact: these pages never load the model."""
    return ModelVersion.objects.create(system=system, version="1.0.0", artifact="artifacts/x.safetensors",
                                       artifact_sha256="0" * 64, artifact_format="safetensors", created_by=owner)


def test_a_name_longer_than_the_registry_holds_is_refused_naming_the_field(personas):
    r = login(personas["alice"]).post("/wizard/", {"name": "x" * 201, "purpose": "Ranks loan files",
                                                   "risk_tier": "medium", "lifecycle_stage": "development"})
    assert r.status_code == 400
    assert "name: Ensure this value has at most 200 characters (it has 201)." in r.content.decode()
    assert 'id="id_name" name="name" value="' + "x" * 201 in r.content.decode()  # what was typed stays
    assert not AISystem.objects.exists()


def test_an_unknown_risk_tier_is_refused_naming_the_field(personas):
    r = login(personas["alice"]).post("/wizard/", {"name": "Loans", "purpose": "p", "risk_tier": "extreme",
                                                   "lifecycle_stage": "development"})
    assert r.status_code == 400 and "risk_tier: Select a valid choice." in r.content.decode()
    assert not AISystem.objects.exists()


def test_picking_no_audit_is_refused_and_queues_nothing(personas):
    system = system_create(actor=personas["alice"], name="Loans", slug="loans", purpose="p")
    version = a_version(system, personas["alice"])
    r = login(personas["alice"]).post(f"/wizard/loans/{version.pk}/audits/", {"kinds": []})
    assert r.status_code == 400 and "kinds: tick at least one audit." in r.content.decode()
    assert not AuditRun.objects.exists()


def test_the_approval_step_keeps_what_was_typed_when_it_refuses(personas):
    system = system_create(actor=personas["alice"], name="Loans", slug="loans", purpose="p")
    version = a_version(system, personas["alice"])
    r = login(personas["alice"]).post(f"/wizard/loans/{version.pk}/approval/",
                                      {"environment": "moon", "justification": "Because."})
    assert r.status_code == 400 and "environment: Select a valid choice." in r.content.decode()
    assert ">Because.</textarea>" in r.content.decode()


@pytest.mark.parametrize("query", ["tier=extreme", "sort=price", "size=9999", "gate=maybe", "stage=x&tier=high"])
def test_a_portfolio_filter_the_page_does_not_offer_is_ignored(personas, query):
    system_create(actor=personas["alice"], name="Loans", slug="loans", purpose="p", risk_tier="high")
    r = login(personas["bob"]).get(f"/systems/?{query}")
    assert r.status_code == 200 and "Loans" in r.content.decode()


def test_a_run_filter_the_page_does_not_offer_is_ignored(personas):
    assert login(personas["bob"]).get("/runs/?status=exploded&kind=astrology").status_code == 200
