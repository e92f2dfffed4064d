"""Risk acceptance from the approval page, the API and the admin (the rules: tests/approvals/test_risk.py)."""

from datetime import date, datetime, time, timedelta, timezone as dt_timezone

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from governance.trail.models import AuditLogEntry
from governance.approvals.models import RiskAcceptance
from governance.registry.tokens import pipeline_token_create
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import (
    ACCEPTANCE_WHY,
    STRICT_CHECKS,
    UNDECIDED_CHECKS,
    inconclusive_approved,
    approve,
    make_run,
    make_version,
    medium,
    with_roles,
)

pytestmark = pytest.mark.django_db

UNDECIDED, WHY = UNDECIDED_CHECKS, ACCEPTANCE_WHY


@pytest.fixture
def inconclusive(personas):
    return inconclusive_approved(personas)


def page(client, user, req):
    client.force_login(user)
    response = client.get(f"/approvals/{req.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def limit_of(run):
    return run.finished_at + timedelta(days=180)  # medium: fairness max age 180 days


# --- The approval page ---------------------------------------------------------------------

def test_the_page_lists_the_inconclusive_audit_and_offers_the_form_to_risk_owners(client, personas, inconclusive):
    req, run = inconclusive
    html = page(client, personas["bob"], req)
    assert "Inconclusive audits" in html
    assert f'href="/runs/{run.pk}/"' in html
    assert "demographic_parity_difference" in html and "0.07" in html and "straddles 0.1" in html
    assert "demographic_parity_ratio" not in html.split("Inconclusive audits")[1].split("<h2>Stages")[0]
    assert f'action="/approvals/{req.pk}/accept-risk/"' in html
    assert f'name="run" value="{run.pk}"' in html
    assert 'for="accept-justification-1"' in html and 'id="accept-justification-1"' in html
    assert f"empty means {limit_of(run):%Y-%m-%d}" in html and f'max="{limit_of(run):%Y-%m-%d}"' in html
    for persona in ("alice", "aude"):
        html = page(client, personas[persona], req)
        assert "Inconclusive audits" in html and "demographic_parity_difference" in html
        assert "accept-risk" not in html


def test_no_section_when_nothing_is_inconclusive(client, personas):
    version = make_version(medium(personas))
    make_run(version, outcome="pass")
    req = approve(version, "production", personas)
    assert "Inconclusive audits" not in page(client, personas["bob"], req)


def test_a_risk_officer_accepts_on_the_page(client, personas, inconclusive):
    req, run = inconclusive
    client.force_login(personas["bob"])
    r = client.post(f"/approvals/{req.pk}/accept-risk/", {"run": str(run.pk), "justification": WHY, "expires_at": ""})
    assert r.status_code == 302 and r["Location"] == f"/approvals/{req.pk}/"
    acceptance = RiskAcceptance.objects.get()
    assert (acceptance.accepted_by, acceptance.role, acceptance.environment) == (personas["bob"], "risk_officer",
                                                                                 "production")
    assert acceptance.expires_at == limit_of(run)  # empty date: the policy's maximum
    html = client.get(r["Location"]).content.decode()
    assert "You accepted the inconclusive fairness audit for production" in html
    assert "Accepted by" in html and "Bob (Risk officer (independent validator))" in html and WHY in html
    assert f"{limit_of(run):%Y-%m-%d %H:%M} UTC" in html
    assert "accept-risk" not in html  # accepted once per run and environment
    assert "Every requirement of the policy is met." in html


def test_the_chosen_day_ends_at_midnight_utc_and_the_last_day_at_the_limit(client, personas, inconclusive):
    req, run = inconclusive
    day = timezone.now().date() + timedelta(days=10)
    client.force_login(personas["erik"])
    client.post(f"/approvals/{req.pk}/accept-risk/", {"run": str(run.pk), "justification": WHY,
                                                      "expires_at": day.isoformat()})
    acceptance = RiskAcceptance.objects.get()
    assert acceptance.expires_at == datetime.combine(day, time.max, tzinfo=dt_timezone.utc)
    assert acceptance.role == "executive_approver"

    newer = make_run(run.version, outcome="inconclusive", checks=UNDECIDED, days_ago=0)
    client.post(f"/approvals/{req.pk}/accept-risk/", {"run": str(newer.pk), "justification": WHY,
                                                      "expires_at": f"{limit_of(newer):%Y-%m-%d}"})
    assert RiskAcceptance.objects.get(audit_run=newer).expires_at == limit_of(newer)


def test_someone_holding_both_risk_roles_chooses_one(client, personas, inconclusive):
    req, run = inconclusive
    erik = with_roles(personas["erik"], "risk_officer")
    html = page(client, erik, req)
    assert '<label for="accept-role-1">Accept as</label>' in html and 'id="accept-role-1" name="role"' in html
    r = client.post(f"/approvals/{req.pk}/accept-risk/", {"run": str(run.pk), "justification": WHY}, follow=True)
    assert "role: you hold several roles that may accept risks" in r.content.decode()
    assert not RiskAcceptance.objects.exists()
    client.post(f"/approvals/{req.pk}/accept-risk/", {"run": str(run.pk), "justification": WHY,
                                                      "role": "executive_approver"})
    assert RiskAcceptance.objects.get().role == "executive_approver"


def test_someone_without_the_role_is_told_and_nothing_is_written(client, personas, inconclusive):
    req, run = inconclusive
    client.force_login(personas["sam"])
    r = client.post(f"/approvals/{req.pk}/accept-risk/", {"run": str(run.pk), "justification": WHY}, follow=True)
    assert "Your role does not allow this (risk.accept)" in r.content.decode()
    assert not RiskAcceptance.objects.exists() and not AuditLogEntry.objects.filter(action="risk.accepted").exists()


@pytest.mark.parametrize("value,message", [
    ("31/12/2030", "accept until: enter a date as YYYY-MM-DD"),
    ("2030-02-30", "accept until: enter a date as YYYY-MM-DD"),
    ((date.today() - timedelta(days=2)).isoformat(), "expires_at must be in the future"),
    ((date.today() + timedelta(days=400)).isoformat(), "expires_at must be in the future"),
])
def test_a_bad_date_is_explained_and_nothing_is_written(client, personas, inconclusive, value, message):
    req, run = inconclusive
    client.force_login(personas["bob"])
    r = client.post(f"/approvals/{req.pk}/accept-risk/", {"run": str(run.pk), "justification": WHY,
                                                          "expires_at": value}, follow=True)
    assert message in r.content.decode()
    assert not RiskAcceptance.objects.exists() and not AuditLogEntry.objects.filter(action="risk.accepted").exists()


def test_a_short_justification_is_explained(client, personas, inconclusive):
    req, run = inconclusive
    client.force_login(personas["bob"])
    r = client.post(f"/approvals/{req.pk}/accept-risk/", {"run": str(run.pk), "justification": "fine"}, follow=True)
    assert "justification: write at least 20 characters" in r.content.decode()
    assert not RiskAcceptance.objects.exists()


def test_a_run_of_another_version_is_not_found(client, personas, inconclusive):
    req, _ = inconclusive
    other = make_run(make_version(req.version.system, "2.0.0"), outcome="inconclusive", checks=UNDECIDED)
    client.force_login(personas["bob"])
    for run_id in (str(other.pk), "not-a-uuid", ""):
        r = client.post(f"/approvals/{req.pk}/accept-risk/", {"run": run_id, "justification": WHY})
        assert r.status_code == 404
    assert client.get(f"/approvals/{req.pk}/accept-risk/").status_code == 405
    assert not RiskAcceptance.objects.exists()


# --- The API -------------------------------------------------------------------------------

def api_as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(run_id):
    return f"/api/v1/runs/{run_id}/risk-acceptances/"


def test_the_api_accepts_and_lists(personas, inconclusive):
    _, run = inconclusive
    ends = timezone.now() + timedelta(days=30)
    r = api_as(personas["bob"]).post(url(run.pk), {"environment": "production", "justification": WHY,
                                                   "expires_at": ends.isoformat()}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    acceptance = RiskAcceptance.objects.get()
    assert body["id"] == str(acceptance.pk) and body["run"] == str(run.pk) and body["kind"] == "fairness"
    assert body["version"] == str(run.version_id) and body["version_label"] == "1.0.0"
    assert (body["environment"], body["role"], body["accepted_by"], body["justification"]) == (
        "production", "risk_officer", "bob", WHY)
    assert acceptance.expires_at == ends and body["accepted_at"]

    r = api_as(personas["aude"]).get(url(run.pk))
    assert r.status_code == 200 and [a["id"] for a in r.json()] == [str(acceptance.pk)]
    r = api_as(personas["erik"]).post(url(run.pk), {"environment": "production", "justification": WHY},
                                      format="json")
    assert r.status_code == 409 and "already accepted for production (by bob)" in r.json()["message"]


def test_the_api_defaults_to_the_policys_maximum_and_takes_a_role(personas, inconclusive):
    _, run = inconclusive
    r = api_as(personas["erik"]).post(url(run.pk), {"environment": "staging", "justification": WHY,
                                                    "role": "executive_approver"}, format="json")
    assert r.status_code == 201, r.json()
    assert RiskAcceptance.objects.get().expires_at == limit_of(run)
    r = api_as(personas["bob"]).post(url(run.pk), {"environment": "production", "justification": WHY,
                                                   "role": "executive_approver"}, format="json")
    assert r.status_code == 400 and r.json()["extra"]["field"] == "role"


@pytest.mark.parametrize("body,field", [
    ({"environment": "production", "justification": "ok"}, "justification"),
    ({"environment": "prod", "justification": WHY}, "environment"),
    ({"justification": WHY}, "environment"),
    ({"environment": "production", "justification": WHY, "expires_at": "tomorrow"}, "expires_at"),
    ({"environment": "production", "justification": WHY, "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
])
def test_the_api_names_the_bad_field(personas, inconclusive, body, field):
    r = api_as(personas["bob"]).post(url(inconclusive[1].pk), body, format="json")
    assert r.status_code == 400 and r.json()["extra"]["field"] == field and r.json()["message"]
    assert not RiskAcceptance.objects.exists()


def test_the_api_refuses_other_roles_and_pipeline_tokens(personas, inconclusive):
    _, run = inconclusive
    body = {"environment": "production", "justification": WHY}
    r = api_as(personas["carla"]).post(url(run.pk), body, format="json")
    assert r.status_code == 403 and "risk.accept" in r.json()["message"]
    _, key = pipeline_token_create(name="ci", scopes=["gate:read", "batches:write"], systems=[run.system])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    for response in (client.post(url(run.pk), body, format="json"), client.get(url(run.pk))):
        assert response.status_code == 403 and "pipeline token" in response.json()["message"]
    assert APIClient().post(url(run.pk), body, format="json").status_code in (401, 403)
    assert not RiskAcceptance.objects.exists()


def test_the_api_404s_an_unknown_run_and_409s_a_failed_one(personas):
    version = make_version(medium(personas))
    failed = make_run(version, outcome="fail", checks=[dict(STRICT_CHECKS[0], outcome="fail")])
    body = {"environment": "production", "justification": WHY}
    r = api_as(personas["bob"]).post(url("00000000-0000-0000-0000-000000000000"), body, format="json")
    assert r.status_code == 404 and r.json()["extra"]["field"] == "run"
    assert api_as(personas["bob"]).get(url("00000000-0000-0000-0000-000000000000")).status_code == 404
    r = api_as(personas["bob"]).post(url(failed.pk), body, format="json")
    assert r.status_code == 409 and "this run is fail" in r.json()["message"]
    assert api_as(personas["bob"]).get(url(failed.pk)).json() == []


def test_the_schema_documents_the_endpoint(personas):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    path = schema["paths"]["/api/v1/runs/{run_id}/risk-acceptances/"]
    assert {"get", "post"} <= set(path)


# --- The admin -----------------------------------------------------------------------------

def test_the_admin_lists_acceptances_read_only(personas, inconclusive):
    model_admin = admin.site._registry[RiskAcceptance]
    request = RequestFactory().get("/admin/")
    request.user = personas["root"]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request) and not model_admin.has_delete_permission(request)
    assert model_admin.list_display == ["accepted_at", "audit_run", "environment", "accepted_by", "role", "expires_at"]
