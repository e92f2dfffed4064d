"""Pipeline tokens: stored hashed, shown once, and able to do exactly what their scopes say."""

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from governance.core.exceptions import ApplicationError, ConflictError
from governance.registry.models import AISystem, PipelineToken
from governance.registry.tokens import (
    PipelineTokenAuthentication,
    TokenScopePermission,
    pipeline_token_create,
    pipeline_token_revoke,
)
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import make_system, make_version, medium

pytestmark = pytest.mark.django_db


def client_with(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


class BatchUpload(APIView):
    """Stands in for the drift feature's batch upload endpoint, which opts in the same way."""

    authentication_classes = [PipelineTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [TokenScopePermission]
    required_scope = "batches:write"

    def post(self, request):
        return Response({"ok": True}, status=201)


def upload_with(key):
    request = APIRequestFactory().post("/api/v1/batches/", {}, format="json", HTTP_AUTHORIZATION=f"Token {key}")
    return BatchUpload.as_view()(request)


def test_only_the_hash_is_stored_and_the_secret_is_shown_once(personas):
    system = make_system(personas["alice"], slug="triage", tier="medium")
    token, key = pipeline_token_create(name="ci-deploy", scopes=["gate:read", "batches:write"], systems=["triage"])
    assert list(token.systems.all()) == [system]
    assert key.startswith("gov_") and len(key) == 4 + 43
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(PipelineToken.objects.values().get())  # nothing stores the secret itself
    assert token.scopes == ["batches:write", "gate:read"]
    assert token.user.username == "pipeline-ci-deploy" and not token.user.has_usable_password()
    with pytest.raises(ConflictError, match="name: a pipeline token named 'ci-deploy' already exists."):
        pipeline_token_create(name="ci-deploy", scopes=["gate:read"], systems=["triage"])


@pytest.mark.parametrize("scopes,message", [
    ([], "scopes: name at least one of: gate:read, batches:write."),
    (["admin"], "scopes: unknown scope 'admin'; accepted: gate:read, batches:write."),
])
def test_scopes_are_checked(db, scopes, message):
    with pytest.raises(ApplicationError) as exc:
        pipeline_token_create(name="ci", scopes=scopes, systems=["triage"])
    assert exc.value.message == message and exc.value.extra == {"field": "scopes"}


@pytest.mark.parametrize("systems,message", [
    ([], "systems: name at least one AI system (its slug) this token may act on."),
    (["nope"], "systems: no AI system 'nope'."),
])
def test_a_token_names_the_systems_it_may_act_on(personas, systems, message):
    medium(personas)
    with pytest.raises(ApplicationError) as exc:
        pipeline_token_create(name="ci", scopes=["gate:read"], systems=systems)
    assert exc.value.message == message and exc.value.extra == {"field": "systems"}
    assert not PipelineToken.objects.exists()


def test_the_command_prints_the_token_once(personas, capsys):
    medium(personas)
    call_command("create_pipeline_token", "release", "--scopes", "gate:read", "--system", "triage")
    out = capsys.readouterr()
    key = out.out.strip()
    assert PipelineToken.objects.get(name="release").key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert "it is not shown again" in out.err


@pytest.fixture
def tokens(personas, gate_key):
    medium(personas)  # the system the tokens are bound to
    return {scope: pipeline_token_create(name=scope.replace(":", "-"), scopes=[scope], systems=["triage"])[1]
            for scope in ("gate:read", "batches:write")}


def test_a_gate_read_token_reads_the_gate_but_cannot_upload_batches(personas, tokens):
    make_version(AISystem.objects.get(slug="triage"))
    r = client_with(tokens["gate:read"]).get("/api/v1/gate/triage/1.0.0/?environment=production")
    assert r.status_code == 200 and r.json()["decision"] == "deny"
    r = upload_with(tokens["gate:read"])
    assert r.status_code == 403
    assert r.data["message"] == "This pipeline token's scopes (gate:read) do not include batches:write, which this " \
                                "endpoint needs."


def test_a_batches_write_token_uploads_but_cannot_read_the_gate(personas, tokens):
    make_version(AISystem.objects.get(slug="triage"))
    assert upload_with(tokens["batches:write"]).status_code == 201
    r = client_with(tokens["batches:write"]).get("/api/v1/gate/triage/1.0.0/?environment=production")
    assert r.status_code == 403
    assert r.json()["message"] == ("This pipeline token's scopes (batches:write) do not include gate:read, which this "
                                   "endpoint needs.")


@pytest.mark.parametrize("path", ["/api/v1/systems/", "/api/v1/approvals/", "/api/v1/audit-log/export/"])
def test_a_token_is_no_credential_outside_its_endpoints(personas, tokens, path):
    r = client_with(tokens["gate:read"]).get(path)
    assert r.status_code == 401


@pytest.mark.parametrize("path", ["/systems/", "/approvals/", "/audit-log/"])
def test_a_token_cannot_use_session_only_pages(personas, tokens, path):
    r = client_with(tokens["gate:read"]).get(path)
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_a_revoked_or_unknown_token_is_refused(personas, tokens):
    make_version(AISystem.objects.get(slug="triage"))
    token = PipelineToken.objects.get(name="gate-read")
    pipeline_token_revoke(token=token)
    for key in (tokens["gate:read"], "gov_not-a-real-token"):
        r = client_with(key).get("/api/v1/gate/triage/1.0.0/?environment=production")
        assert r.status_code == 401 and r.json()["message"] == "Invalid or revoked pipeline token."


def test_people_read_the_gate_with_their_own_credentials(personas, gate_key):
    make_version(medium(personas))
    client = APIClient()
    client.force_authenticate(personas["aude"])
    assert client.get("/api/v1/gate/triage/1.0.0/?environment=production").status_code == 200
    assert APIClient().get("/api/v1/gate/triage/1.0.0/?environment=production").status_code == 401


def test_last_used_is_written_at_most_every_five_minutes(personas, tokens):
    make_version(AISystem.objects.get(slug="triage"))
    client = client_with(tokens["gate:read"])
    client.get("/api/v1/gate/triage/1.0.0/?environment=production")
    token = PipelineToken.objects.get(name="gate-read")
    first = token.last_used_at
    assert first is not None
    client.get("/api/v1/gate/triage/1.0.0/?environment=production")
    token.refresh_from_db()
    assert token.last_used_at == first
    PipelineToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=6))
    client.get("/api/v1/gate/triage/1.0.0/?environment=production")
    token.refresh_from_db()
    assert token.last_used_at > first


def test_the_demo_makes_a_key_and_a_pipeline_token_once(personas, settings, tmp_path):
    import stat

    from governance.demo.setup import _gate_ensure

    settings.GATE_SIGNING_KEY = ""
    settings.GATE_SIGNING_KEY_PATH = tmp_path / "keys" / "gate-signing.pem"
    credit = make_system(personas["alice"], slug="credit-scoring")
    lines = []
    _gate_ensure(lines.append)
    _gate_ensure(lines.append)
    assert stat.S_IMODE(settings.GATE_SIGNING_KEY_PATH.stat().st_mode) == 0o600
    assert (tmp_path / "keys" / "gate.pub.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert lines[0].startswith("gate attestation key: generated") and lines[2].startswith("gate attestation key: present")
    key = lines[1].rsplit(" ", 1)[1]
    demo_ci = PipelineToken.objects.get(name="demo-ci")
    assert demo_ci.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert list(demo_ci.systems.all()) == [credit]
    assert lines[3].startswith("pipeline token demo-ci: exists")


def test_a_token_acts_only_on_the_systems_it_is_bound_to(personas, tokens):
    # One system's pipeline can neither read another's gate nor post it a (drifted) batch.
    make_system(personas["oscar"], slug="other", tier="medium")
    make_version(AISystem.objects.get(slug="other"))
    refused = ("This pipeline token ({name}) is not bound to the AI system 'other'; it may act on: triage. "
               "Create a token for that system (manage.py create_pipeline_token NAME --system other).")
    for path in ("/api/v1/gate/other/1.0.0/?environment=production", "/api/v1/rollback/other/?environment=production"):
        r = client_with(tokens["gate:read"]).get(path)
        assert (r.status_code, r.json()["message"]) == (403, refused.format(name="gate-read"))


def test_a_token_bound_to_no_system_is_refused_on_every_one(personas, tokens):
    # What a token made before binding existed comes out as (migration 0003): refused, not allowed.
    make_version(AISystem.objects.get(slug="triage"))
    PipelineToken.objects.get(name="gate-read").systems.clear()
    r = client_with(tokens["gate:read"]).get("/api/v1/gate/triage/1.0.0/?environment=production")
    assert r.status_code == 403 and "it may act on: none." in r.json()["message"]
