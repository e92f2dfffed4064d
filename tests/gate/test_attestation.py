import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from governance.gate.attestation import (
    ERR_BAD_SIGNATURE,
    ERR_BASE64,
    ERR_DECISION,
    ERR_ENVELOPE,
    ERR_NO_SIGNATURE,
    ERR_PAYLOAD,
    ERR_PAYLOAD_TYPE,
    ERR_PREDICATE,
    ERR_PREDICATE_TYPE,
    ERR_PRIVATE_KEY,
    ERR_PUBLIC_KEY,
    ERR_REASONS,
    ERR_STATEMENT,
    ERR_SUBJECT_DIGEST,
    ERR_SUBJECT_NAME,
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    AttestationError,
    generate_key,
    key_id,
    make_gate_statement,
    make_statement,
    pae,
    public_key_pem,
    sign_envelope,
    verify_envelope,
)
from governance.trail.hashchain import canonical_json

ARTIFACT_SHA256 = hashlib.sha256(b"model weights").hexdigest()

# RFC 8032 section 7.1, TEST 1 and TEST 2 secret keys (seeds); the DSSE test
# vectors below were signed with them.
RFC8032_TEST1_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_TEST2_SEED = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
# DSSE test vectors, secure-systems-lab/dsse testvectors/vectors.json (commit
# 82043adf78bb4e67c208f9ffa72b38804ea6a0c4): the payload {"_type":"https://in-toto.io/Statement/v1"}
# signed by TEST 1 ("single-signature") and by TEST 2 ("threshold-two-distinct-keys").
DSSE_VECTOR_PAYLOAD = "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ=="
DSSE_VECTOR_SIG_TEST1 = "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA=="
DSSE_VECTOR_SIG_TEST2 = "c1+67/aT0yqEpwx8PsVY3MLHsj9D0CZ014/Fv/QlG59P+9CobUZ7xECJ/V3USG0Ob9CiE5LjReEZUzNF2l7eBw=="


def seed_private_pem(seed_hex):
    return ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex)).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def private_pem():
    return generate_key()


@pytest.fixture(scope="module")
def public_pem(private_pem):
    return public_key_pem(private_pem)


def gate_statement(decision="deny"):
    return make_gate_statement(
        system_slug="credit-scoring", version="1.2.0", artifact_sha256=ARTIFACT_SHA256,
        decision=decision, reasons=["fairness audit older than 30 days"], environment="production",
        policy={"name": "high-risk", "version": 3},
        evaluated_at="2025-01-31T12:00:00+00:00", expires_at="2025-01-31T13:00:00+00:00",
    )


def refusal(envelope, public_pem):
    with pytest.raises(AttestationError) as excinfo:
        verify_envelope(envelope, public_pem=public_pem)
    return str(excinfo.value)


# --- PAE and published DSSE vectors.

def test_pae_matches_the_dsse_protocol_test_vector():
    # secure-systems-lab/dsse protocol.md, "Test Vectors": PAYLOAD_TYPE
    # http://example.com/HelloWorld, SERIALIZED_BODY "hello world".
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters():
    # "application/vnd.exämple+json" is 28 characters but 29 UTF-8 bytes (ä = C3 A4);
    # protocol.md defines LEN as the byte length (dsse vectors.json "non-ascii-payload-type").
    assert pae("application/vnd.exämple+json", b"{}") == b"DSSEv1 29 application/vnd.ex\xc3\xa4mple+json 2 {}"


def test_pae_of_an_empty_body_ends_with_a_space():
    # dsse vectors.json "empty-payload": pae hex ...2b6a736f6e203020 = "...+json 0 ".
    assert pae(PAYLOAD_TYPE, b"") == b"DSSEv1 28 application/vnd.in-toto+json 0 "


@pytest.mark.parametrize("seed, sig", [(RFC8032_TEST1_SEED, DSSE_VECTOR_SIG_TEST1),
                                       (RFC8032_TEST2_SEED, DSSE_VECTOR_SIG_TEST2)])
def test_published_dsse_envelopes_verify(seed, sig):
    envelope = {"payload": DSSE_VECTOR_PAYLOAD, "payloadType": PAYLOAD_TYPE,
                "signatures": [{"sig": sig, "keyid": "A"}]}
    statement = verify_envelope(envelope, public_pem=public_key_pem(seed_private_pem(seed)))
    assert statement == {"_type": STATEMENT_TYPE}


def test_published_url_safe_envelope_decodes_then_fails_only_as_a_statement():
    # dsse vectors.json "url-safe-base64": a valid signature over the bytes FB FF BF 3E 3F,
    # both fields in the URL-safe alphabet. The signature must pass; the bytes are no JSON.
    envelope = {"payload": "-_-_Pj8=", "payloadType": PAYLOAD_TYPE, "signatures": [{
        "sig": "P-_KHICeR7tI6S_YyejJTRtrXhcQyQ2LYPaL8h90KjC9qN8HU_svOQ6TuDOT1HIrsGW886DbWNWcCmX5twLrAw==",
        "keyid": "A"}]}
    assert refusal(envelope, public_key_pem(seed_private_pem(RFC8032_TEST1_SEED))) == ERR_PAYLOAD


def test_published_payload_type_swap_is_refused():
    # dsse vectors.json "payload-type-swapped": signed as in-toto, relabelled.
    envelope = {"payload": DSSE_VECTOR_PAYLOAD, "payloadType": "application/vnd.example.other+json",
                "signatures": [{"sig": DSSE_VECTOR_SIG_TEST1, "keyid": "A"}]}
    got = refusal(envelope, public_key_pem(seed_private_pem(RFC8032_TEST1_SEED)))
    assert got == ERR_PAYLOAD_TYPE.format(got="application/vnd.example.other+json")


# --- Keys.

def test_key_id_is_sha256_of_the_raw_public_key():
    # RFC 8032 section 7.1 TEST 1 public key.
    raw = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert key_id(public_key_pem(seed_private_pem(RFC8032_TEST1_SEED))) == hashlib.sha256(raw).hexdigest()


def test_generated_key_is_unencrypted_pkcs8_ed25519(private_pem):
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    key = serialization.load_pem_private_key(private_pem, password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)


def test_keys_may_be_given_as_str(private_pem):
    assert public_key_pem(private_pem.decode()) == public_key_pem(private_pem)


def test_a_non_ed25519_or_garbled_private_key_is_refused():
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    for pem in (ec_pem, b"not a key"):
        with pytest.raises(AttestationError) as excinfo:
            public_key_pem(pem)
        assert str(excinfo.value) == ERR_PRIVATE_KEY


def test_a_non_ed25519_public_key_is_refused(private_pem):
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    envelope = sign_envelope(gate_statement(), private_pem=private_pem)
    assert refusal(envelope, ec_public) == ERR_PUBLIC_KEY


# --- Statements.

def test_gate_statement_follows_the_documented_contract():
    assert gate_statement() == {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "credit-scoring@1.2.0", "digest": {"sha256": ARTIFACT_SHA256}}],
        "predicateType": "https://ai-governance.example/gate-decision/v1",
        "predicate": {
            "decision": "deny", "reasons": ["fairness audit older than 30 days"],
            "environment": "production", "policy": {"name": "high-risk", "version": 3},
            "evaluated_at": "2025-01-31T12:00:00+00:00", "expires_at": "2025-01-31T13:00:00+00:00",
        },
    }


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"subject_name": ""}, ERR_SUBJECT_NAME),
        ({"subject_digest_sha256": "ab" * 31}, ERR_SUBJECT_DIGEST),
        ({"subject_digest_sha256": ARTIFACT_SHA256.upper()}, ERR_SUBJECT_DIGEST),
        ({"predicate_type": None}, ERR_PREDICATE_TYPE),
        ({"predicate": ["decision"]}, ERR_PREDICATE),
    ],
)
def test_make_statement_rejects_bad_options(changes, message):
    options = {"subject_name": "s@1", "subject_digest_sha256": ARTIFACT_SHA256,
               "predicate_type": PREDICATE_TYPE, "predicate": {}}
    with pytest.raises(AttestationError) as excinfo:
        make_statement(**dict(options, **changes))
    assert str(excinfo.value) == message


@pytest.mark.parametrize("changes, message", [({"decision": "maybe"}, ERR_DECISION),
                                              ({"reasons": "stale"}, ERR_REASONS)])
def test_make_gate_statement_rejects_bad_options(changes, message):
    options = {"system_slug": "s", "version": "1", "artifact_sha256": ARTIFACT_SHA256, "decision": "allow",
               "reasons": [], "environment": "production", "policy": None,
               "evaluated_at": "2025-01-31T12:00:00+00:00", "expires_at": "2025-01-31T13:00:00+00:00"}
    with pytest.raises(AttestationError) as excinfo:
        make_gate_statement(**dict(options, **changes))
    assert str(excinfo.value) == message


def test_only_statements_are_signed(private_pem):
    with pytest.raises(AttestationError) as excinfo:
        sign_envelope({"decision": "allow"}, private_pem=private_pem)
    assert str(excinfo.value) == ERR_STATEMENT


# --- Round trip.

def test_sign_then_verify_returns_the_statement(private_pem, public_pem):
    envelope = sign_envelope(gate_statement(), private_pem=private_pem)
    assert verify_envelope(envelope, public_pem=public_pem) == gate_statement()


def test_envelope_carries_canonical_json_and_the_key_id(private_pem, public_pem):
    envelope = sign_envelope(gate_statement(), private_pem=private_pem)
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert base64.b64decode(envelope["payload"]) == canonical_json(gate_statement())
    assert [s["keyid"] for s in envelope["signatures"]] == [key_id(public_pem)]
    json.dumps(envelope)  # plain JSON, ready for a response body


def test_url_safe_base64_is_accepted(private_pem, public_pem):
    envelope = sign_envelope(gate_statement(), private_pem=private_pem)
    envelope["payload"] = base64.urlsafe_b64encode(base64.b64decode(envelope["payload"])).decode()
    sig = envelope["signatures"][0]
    sig["sig"] = base64.urlsafe_b64encode(base64.b64decode(sig["sig"])).decode()
    assert verify_envelope(envelope, public_pem=public_pem) == gate_statement()


# --- Forgeries.

def test_a_payload_altered_after_signing_is_refused(private_pem, public_pem):
    envelope = sign_envelope(gate_statement("deny"), private_pem=private_pem)
    envelope["payload"] = base64.b64encode(canonical_json(gate_statement("allow"))).decode()
    assert refusal(envelope, public_pem) == ERR_BAD_SIGNATURE.format(keyid=key_id(public_pem))


def test_a_signature_by_another_key_is_refused_as_not_ours(public_pem):
    envelope = sign_envelope(gate_statement("allow"), private_pem=generate_key())
    assert refusal(envelope, public_pem) == ERR_NO_SIGNATURE.format(keyid=key_id(public_pem))


def test_a_signature_by_another_key_claiming_our_key_id_is_refused_as_bad(public_pem):
    envelope = sign_envelope(gate_statement("allow"), private_pem=generate_key())
    envelope["signatures"][0]["keyid"] = key_id(public_pem)
    assert refusal(envelope, public_pem) == ERR_BAD_SIGNATURE.format(keyid=key_id(public_pem))


def test_a_swapped_payload_type_is_refused(private_pem, public_pem):
    envelope = sign_envelope(gate_statement(), private_pem=private_pem)
    envelope["payloadType"] = "application/json"
    assert refusal(envelope, public_pem) == ERR_PAYLOAD_TYPE.format(got="application/json")


def test_an_envelope_without_signatures_is_refused(private_pem, public_pem):
    envelope = dict(sign_envelope(gate_statement(), private_pem=private_pem), signatures=[])
    assert refusal(envelope, public_pem) == ERR_NO_SIGNATURE.format(keyid=key_id(public_pem))


@pytest.mark.parametrize("field", ["payload", "sig"])
def test_bad_base64_is_refused(private_pem, public_pem, field):
    envelope = sign_envelope(gate_statement(), private_pem=private_pem)
    if field == "payload":
        envelope["payload"] = "not base64!"
    else:
        envelope["signatures"][0]["sig"] = "not base64!"
    assert refusal(envelope, public_pem) == ERR_BASE64.format(field=field)


@pytest.mark.parametrize("envelope", [None, [], {"payloadType": PAYLOAD_TYPE, "payload": ""},
                                      {"payloadType": PAYLOAD_TYPE, "payload": "", "signatures": ["x"]}])
def test_a_malformed_envelope_is_refused(public_pem, envelope):
    assert refusal(envelope, public_pem) == ERR_ENVELOPE


def test_a_signed_payload_that_is_no_statement_is_refused(private_pem, public_pem):
    # A correctly signed payload of another kind must not pass as a gate answer.
    payload = b'{"decision":"allow"}'
    key = serialization.load_pem_private_key(private_pem, password=None)
    envelope = {"payloadType": PAYLOAD_TYPE, "payload": base64.b64encode(payload).decode(),
                "signatures": [{"sig": base64.b64encode(key.sign(pae(PAYLOAD_TYPE, payload))).decode()}]}
    assert refusal(envelope, public_pem) == ERR_PAYLOAD
