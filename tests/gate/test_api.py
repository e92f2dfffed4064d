"""The gate's public key is public: anyone gets it, as JSON with its fingerprint or as the PEM
file that gate_check.py --public-key reads."""

import hashlib
import urllib.request

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from rest_framework.test import APIClient

from governance.registry.tokens import pipeline_token_create
from tests.approval_fixtures import make_system, make_version, medium
from tests.conftest import PERSONAS
from tests.deploy.client import gate_check

pytestmark = pytest.mark.django_db

URL = "/api/v1/gate/public-key/"
# RFC 8032 section 7.1, TEST 1: the secret key (seed) and the public key it gives.
RFC8032_TEST1_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_TEST1_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


@pytest.fixture
def rfc_key(settings):
    """The gate signs with RFC 8032's TEST 1 key, so the public key served can be checked against the RFC."""
    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032_TEST1_SEED))
    settings.GATE_SIGNING_KEY = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii")


def callers(personas):
    """Every persona with their token, a pipeline token of either scope, a wrong token, and nobody."""
    out = {}
    from governance.registry.models import AISystem

    systems = list(AISystem.objects.all()) or [make_system(personas["alice"], slug="triage", tier="medium")]
    for name in [*sorted(PERSONAS), "pipeline gate:read", "pipeline batches:write", "a wrong token", "nobody"]:
        client = APIClient()
        if name in PERSONAS:
            client.force_authenticate(personas[name])
        elif name.startswith("pipeline"):
            scope = name.split()[1]
            _, secret = pipeline_token_create(name=scope.replace(":", "-"), scopes=[scope], systems=systems)
            client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        elif name == "a wrong token":
            client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
        out[name] = client
    return out


def test_everyone_gets_the_key_and_its_fingerprint_as_json(personas, rfc_key):
    fingerprint = hashlib.sha256(bytes.fromhex(RFC8032_TEST1_PUBLIC)).hexdigest()
    for name, client in callers(personas).items():
        r = client.get(URL)
        assert r.status_code == 200, name
        body = r.json()
        assert (body["algorithm"], body["fingerprint_sha256"], body["keyid"]) == ("ed25519", fingerprint, fingerprint)
        assert gate_check.load_public_key(body["public_key_pem"]).hex() == RFC8032_TEST1_PUBLIC


@pytest.mark.parametrize("how", ["?format=pem", "accept"])
def test_the_key_alone_comes_as_a_pem_file(client, rfc_key, how):
    r = client.get(URL + "?format=pem") if how != "accept" else client.get(URL, HTTP_ACCEPT="application/x-pem-file")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/x-pem-file; charset=ascii"
    text = r.content.decode("ascii")
    assert text.startswith("-----BEGIN PUBLIC KEY-----\n") and text.endswith("-----END PUBLIC KEY-----\n")
    assert gate_check.load_public_key(text).hex() == RFC8032_TEST1_PUBLIC


def test_an_unknown_format_is_refused_with_the_two_there_are(client, rfc_key):
    r = client.get(URL + "?format=der")
    assert (r.status_code, r.json()["extra"]) == (400, {"field": "format", "accepted": ["json", "pem"]})


def test_without_a_key_the_pem_answer_says_so_in_words(client, settings, tmp_path):
    settings.GATE_SIGNING_KEY = ""
    settings.GATE_SIGNING_KEY_PATH = tmp_path / "missing.pem"
    r = client.get(URL + "?format=pem")
    assert r.status_code == 503
    assert r.content.decode().startswith("The gate's signing key is not configured")
    assert b"BEGIN" not in r.content


def test_the_schema_says_the_endpoint_needs_no_credentials():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][URL]["get"]
    # No security requirement here, nor a global one: in OpenAPI that reads "no credentials needed",
    # while the gate itself lists the token it needs.
    assert "security" not in operation and "security" not in schema
    assert schema["paths"]["/api/v1/gate/{slug}/{version}/"]["get"]["security"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "application/x-pem-file"}


@pytest.mark.django_db(transaction=True)
def test_the_key_fetched_as_the_readme_says_verifies_the_gate_answer(live_server, personas, rfc_key, tmp_path):
    """`curl .../gate/public-key/?format=pem > gate.pub.pem`, then gate_check.py --public-key gate.pub.pem:
    a version without approval is a verified deny (exit 1), not an error (exit 2)."""
    make_version(medium(personas))
    pem = tmp_path / "gate.pub.pem"
    with urllib.request.urlopen(f"{live_server.url}{URL}?format=pem", timeout=30) as response:  # no token
        pem.write_bytes(response.read())
    _, token = pipeline_token_create(name="ci", scopes=["gate:read"], systems=["triage"])
    assert gate_check.main(["--url", live_server.url, "--system", "triage", "--version", "1.0.0",
                            "--environment", "production", "--token", token, "--public-key", str(pem)]) == 1
