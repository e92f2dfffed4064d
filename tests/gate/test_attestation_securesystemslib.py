"""An outside DSSE implementation verifies the gate's attestation: securesystemslib (the library
under in-toto and python-tuf) checks the envelope the gate API returns against the gate's
Ed25519 public key, and refuses one whose statement was changed after signing."""

import base64
import copy
import json

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from rest_framework.test import APIClient
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey

from governance.gate import attestation
from governance.registry.tokens import pipeline_token_create
from tests.approval_fixtures import gate_key  # noqa: F401 - a fixture
from tests.gate.test_services import allowed_medium

pytestmark = pytest.mark.django_db


@pytest.fixture
def answer(personas, gate_key):  # noqa: F811
    system, _ = allowed_medium(personas)
    _, token = pipeline_token_create(name="ci", scopes=["gate:read"], systems=[system])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    r = client.get("/api/v1/gate/triage/1.0.0/?environment=production")
    assert r.status_code == 200, r.json()
    return r.json()


def sslib_key(public_pem: bytes) -> SSlibKey:
    # The gate's key id is the sha256 of the raw public key; securesystemslib takes it as given.
    return SSlibKey.from_crypto(load_pem_public_key(public_pem), keyid=attestation.key_id(public_pem),
                                scheme="ed25519")


def test_securesystemslib_verifies_the_gate_answers_envelope_and_reads_its_statement(answer, gate_key):  # noqa: F811
    envelope = Envelope.from_dict(answer["attestation"])
    key = sslib_key(gate_key)
    assert set(envelope.verify([key], threshold=1)) == {key.keyid}
    statement = json.loads(envelope.payload)
    assert statement["predicate"]["decision"] == answer["decision"] == "allow"
    assert statement["subject"][0]["digest"]["sha256"] == answer["artifact_sha256"]


def test_securesystemslib_refuses_an_envelope_whose_decision_was_changed(answer, gate_key):  # noqa: F811
    tampered = copy.deepcopy(answer["attestation"])
    statement = json.loads(base64.b64decode(tampered["payload"]))
    statement["predicate"]["decision"] = "deny"
    tampered["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    with pytest.raises(VerificationError):
        Envelope.from_dict(tampered).verify([sslib_key(gate_key)], threshold=1)


def test_securesystemslib_refuses_another_keys_signature(answer):
    other = attestation.public_key_pem(attestation.generate_key())
    with pytest.raises(VerificationError):
        Envelope.from_dict(answer["attestation"]).verify([sslib_key(other)], threshold=1)
