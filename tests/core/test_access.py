"""Nothing is read without a role: every page and API route, each role, allowed or refused.

Two tables. `PUBLIC` names the routes meant for anyone (signing in, the health check, the
gate's public key, the API's schema and its docs pages, which describe the API and hold no
data). Every other route refuses a signed-in person who holds no role with a 403 that says so,
whatever the method: the walk over the URL resolver below finds routes added later, so a new
page or endpoint that forgets its check fails here. `READS` then says, for each read, which
personas may read it; it is written out by hand, like tests/core/test_permissions_matrix.py.
"""

import uuid

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from governance.core.access import NO_ROLE
from tests.approval_fixtures import gate_key, make_version, medium  # noqa: F401

pytestmark = pytest.mark.django_db

PUBLIC = {"home", "login", "logout", "healthz", "api-gate-public-key", "schema", "swagger-ui", "redoc", "redoc-bundle",
          "metrics",  # /metrics: no role, its own gate (a scraper's token or network), closed by default
          # An affected person reports a problem or appeals a decision, and follows it by its reference
          # (governance/incidents/: throttled, size-bounded, CSRF on the page; tests/incidents/).
          "report-public", "report-public-status", "api-public-reports", "api-public-report-status"}
EVERYONE = {"alice", "oscar", "bob", "sam", "carla", "erik", "aude", "root"}
READS = {
    # pages
    "system-list": EVERYONE, "system-detail": EVERYONE, "glossary": EVERYONE, "inbox": EVERYONE,
    "approval-list": EVERYONE, "approval-detail": EVERYONE, "system-control": EVERYONE,
    "control-detail": EVERYONE, "run-list": EVERYONE, "run-detail": EVERYONE, "run-progress": EVERYONE,
    "version-privacy": EVERYONE, "dp-retraining-form": EVERYONE, "report-verify": EVERYONE,
    "report-download": EVERYONE, "report-badge": EVERYONE, "report-panel": EVERYONE,
    "trail-list": {"aude", "carla", "bob", "root"}, "trail-download": {"aude", "carla", "root"},
    # the wizard is the owner's path: starting needs system.create, its steps the step's action
    "wizard": {"alice", "oscar", "root"}, "wizard-data": {"alice", "root"}, "wizard-model": {"alice", "root"},
    "wizard-audits": {"alice", "bob", "sam", "carla", "root"}, "wizard-results": EVERYONE,
    "wizard-approval": {"alice", "root"},
    # API
    "api-system-list": EVERYONE, "api-system-detail": EVERYONE, "api-dataset-list": EVERYONE,
    "api-dataset-detail": EVERYONE, "api-version-list": EVERYONE, "api-version-detail": EVERYONE,
    "api-control-list": EVERYONE, "api-control-detail": EVERYONE, "api-assessment-list": EVERYONE,
    "api-assessment-detail": EVERYONE, "api-trail-export": {"aude", "carla", "root"},
    "api-trail-verify": {"aude", "carla", "bob", "root"}, "api-auditrun-list": EVERYONE,
    "api-auditrun-detail": EVERYONE, "api-drift-schedules": EVERYONE, "api-retraining-recommendations": EVERYONE,
    "api-privacy-budget": EVERYONE, "api-report-list": EVERYONE, "api-report-detail": EVERYONE,
    "api-report-download": EVERYONE, "export-oscal-catalog": EVERYONE,
    "export-oscal-assessment-results": EVERYONE, "export-model-card": EVERYONE, "api-approval-list": EVERYONE,
    "api-approval-detail": EVERYONE, "api-risk-acceptances": EVERYONE, "api-gate": EVERYONE,
    "api-rollback": EVERYONE,
    # incidents: the system's owner, risk and compliance officers, auditors (read only)
    "incident-list": {"alice", "bob", "carla", "aude", "root"}, "incident-detail": {"alice", "bob", "carla", "aude", "root"},
    "incident-regulator": {"carla", "aude", "root"}, "api-incident-list": {"alice", "oscar", "bob", "carla", "aude", "root"},
    "api-incident-detail": {"alice", "bob", "carla", "aude", "root"},
    "api-incident-regulator": {"carla", "aude", "root"},
}


def routes(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            if p.app_name == "admin":
                continue  # Django's admin has its own staff check
            yield from routes(p)
        elif p.name:
            yield p


@pytest.fixture
def world(personas):
    from governance.incidents.services import incident_open

    system = medium(personas)
    version = make_version(system)
    incident = incident_open(actor=personas["alice"], system=system, title="t", description="d")
    return {"slug": system.slug, "version_id": version.pk, "version": version.version, "framework": "ai_rmf",
            "ref": "GOVERN 1.1", "fmt": "json", "pk": uuid.uuid4(), "run_id": uuid.uuid4(),
            "report_id": uuid.uuid4(), "number": incident.pk, "action": "note", "reference": "x"}


def url_for(pattern, world) -> str:
    names = pattern.pattern.regex.groupindex
    kwargs = {name: world[name] for name in names}
    if pattern.name in {"api-system-detail", "api-control-detail"}:
        kwargs = {"slug": world["slug"]} if "slug" in names else {"pk": 1}
    if pattern.name in {"api-version-detail"}:
        kwargs = {"pk": world["version_id"]}
    url = reverse(pattern.name, kwargs=kwargs)
    if pattern.name in {"api-gate", "api-rollback"}:
        url += "?environment=production"
    return url


@pytest.fixture
def nemo(django_user_model):
    return django_user_model.objects.create_user("nemo", password="pw-nemo")


def test_every_route_is_public_or_a_classified_read_or_write():
    # A new route lands in PUBLIC (and in docs/security.md) or is walked below ("home" only redirects).
    names = {p.name for p in routes()}
    assert PUBLIC <= names
    assert set(READS) <= names


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_person_with_no_role_is_refused_everywhere_but_the_public_routes(world, nemo, method):
    page, api = Client(), APIClient()
    page.force_login(nemo)
    api.force_authenticate(nemo)
    leaks = {}
    for pattern in routes():
        if pattern.name in PUBLIC:
            continue
        url = url_for(pattern, world)
        client = api if url.startswith("/api/") else page
        response = getattr(client, method)(url)
        if response.status_code != 403 or b"no role" not in response.content:
            leaks[pattern.name] = response.status_code
    assert leaks == {}


def test_the_refusal_says_whom_to_ask(personas, nemo):
    api = APIClient()
    api.force_authenticate(nemo)
    body = api.get("/api/v1/systems/").json()
    assert body["message"] == NO_ROLE.format(user="nemo", whom="Root (administrator)")
    page = Client()
    page.force_login(nemo)
    response = page.get("/systems/")
    assert response.status_code == 403
    assert "Ask Root (administrator) to give you one." in response.content.decode()


def test_the_public_routes_answer_without_signing_in(world):
    for name in ["login", "healthz", "schema", "swagger-ui", "redoc"]:
        assert Client().get(reverse(name)).status_code == 200, name


@pytest.mark.parametrize("persona", sorted(EVERYONE))
def test_each_role_reads_what_its_row_allows(world, personas, persona, gate_key):
    page, api = Client(), APIClient()
    page.force_login(personas[persona])
    api.force_authenticate(personas[persona])
    by_name = {p.name: p for p in routes()}
    got = {}
    for name in READS:
        url = url_for(by_name[name], world)
        status = (api if url.startswith("/api/") else page).get(url).status_code
        assert status not in {401, 500}, (name, status)
        got[name] = status != 403
    assert got == {name: persona in who for name, who in READS.items()}
