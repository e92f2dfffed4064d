"""The stdlib-only pipeline client: its Ed25519 verifier, and its exit codes against a local gate."""

import ast
import base64
import datetime
import hashlib
import http.server
import json
import socket
import subprocess
import sys
import threading

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from governance.gate import attestation
from tests.deploy.client import CLIENT, gate_check

ARTIFACT_SHA256 = hashlib.sha256(b"model weights").hexdigest()
TOKEN = "t0k-secret"


def seeded_key(label):
    # Deterministic keys keep failures reproducible.
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


def raw_public(private_key):
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def cryptography_verifies(public, message, signature):
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except InvalidSignature:
        return False


# --- The pure-Python Ed25519 verifier.

@pytest.mark.parametrize(
    "public_hex, message_hex, signature_hex",
    [
        # RFC 8032 section 7.1, TEST 1 (empty message).
        ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        # RFC 8032 section 7.1, TEST 2 (one byte, 0x72).
        ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ],
)
def test_rfc8032_vectors_verify_and_a_flipped_bit_does_not(public_hex, message_hex, signature_hex):
    public, message, signature = (bytes.fromhex(h) for h in (public_hex, message_hex, signature_hex))
    assert gate_check.ed25519_verify(public, message, signature) is True
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert gate_check.ed25519_verify(public, message, flipped) is False
    assert gate_check.ed25519_verify(public, message + b"!", signature) is False


GROUP_ORDER = 2 ** 252 + 27742317777372353535851937790883648493  # RFC 8032 section 5.1, L


def mutate(kind, signature, message, public):
    if kind == "valid":
        return signature, message, public
    if kind == "flip_r":
        return signature[:5] + bytes([signature[5] ^ 0x10]) + signature[6:], message, public
    if kind == "flip_s":
        return signature[:40] + bytes([signature[40] ^ 0x01]) + signature[41:], message, public
    if kind == "s_plus_l":
        # Same point equation, S not reduced: RFC 8032 5.1.7 requires rejecting S >= L.
        s = int.from_bytes(signature[32:], "little") + GROUP_ORDER
        return signature[:32] + s.to_bytes(32, "little"), message, public
    if kind == "other_message":
        return signature, message + b".", public
    if kind == "other_key":
        return signature, message, raw_public(seeded_key("someone else"))
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["valid", "flip_r", "flip_s", "s_plus_l", "other_message", "other_key"])
@pytest.mark.parametrize("label", ["one", "two"])
def test_verifier_agrees_with_cryptography(kind, label):
    key = seeded_key(label)
    message = ("gate decision for " + label).encode() * 3
    signature, message, public = mutate(kind, key.sign(message), message, raw_public(key))
    expected = kind == "valid"
    assert cryptography_verifies(public, message, signature) is expected
    assert gate_check.ed25519_verify(public, message, signature) is expected


def test_verifier_refuses_wrong_lengths():
    key = seeded_key("one")
    signature = key.sign(b"m")
    assert gate_check.ed25519_verify(raw_public(key), b"m", signature[:63]) is False
    assert gate_check.ed25519_verify(raw_public(key)[:31], b"m", signature) is False


def test_client_pae_matches_the_server_and_the_dsse_vector():
    # secure-systems-lab/dsse protocol.md "Test Vectors".
    assert gate_check.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    for payload_type, body in (("application/vnd.exämple+json", b"{}"), (attestation.PAYLOAD_TYPE, b"")):
        assert gate_check.pae(payload_type, body) == attestation.pae(payload_type, body)


def test_client_verifies_a_published_dsse_envelope():
    # secure-systems-lab/dsse testvectors/vectors.json "single-signature", signed with the
    # RFC 8032 TEST 1 key.
    envelope = {"payload": "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
                "payloadType": "application/vnd.in-toto+json", "signatures": [{"keyid": "A", "sig": (
                    "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA==")}]}
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert gate_check.verify_envelope(envelope, public) == {"_type": "https://in-toto.io/Statement/v1"}


def test_public_key_pem_is_parsed_by_hand():
    private_pem = attestation.generate_key()
    public_pem = attestation.public_key_pem(private_pem).decode()
    raw = serialization.load_pem_public_key(public_pem.encode()).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert gate_check.load_public_key(public_pem) == raw
    assert gate_check.key_id(raw) == attestation.key_id(public_pem)


@pytest.mark.parametrize("pem, message", [
    ("hello", "the public key file is not a PEM 'PUBLIC KEY'"),
    ("-----BEGIN PUBLIC KEY-----\n%%%\n-----END PUBLIC KEY-----", "the public key PEM is not valid base64"),
    (ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
     "the public key is not an Ed25519 key"),
])
def test_other_public_keys_are_refused(pem, message):
    with pytest.raises(gate_check.GateCheckError) as excinfo:
        gate_check.load_public_key(pem)
    assert str(excinfo.value) == message


def test_client_source_is_python_38_syntax_and_imports_only_the_standard_library():
    tree = ast.parse(CLIENT.read_text(encoding="utf-8"), feature_version=(3, 8))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= set(sys.stdlib_module_names)


# --- The client as a pipeline runs it, against a local gate.

class GateHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
        status, body, headers = self.server.answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # keep the test output clean


@pytest.fixture
def gate():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GateHandler)
    server.seen, server.answer = [], (500, b"{}", {})
    # A short poll interval keeps shutdown() from idling half a second per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def gate_key():
    return attestation.generate_key()


@pytest.fixture(scope="module")
def public_key_file(gate_key, tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "gate.pub.pem"
    path.write_bytes(attestation.public_key_pem(gate_key))
    return path


def in_hours(hours):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
    return moment.isoformat()


def gate_answer(decision, private_pem, **changes):
    options = {"system_slug": "credit-scoring", "version": "1.2.0", "artifact_sha256": ARTIFACT_SHA256,
               "decision": decision, "reasons": ["approved by risk officer bob"], "environment": "production",
               "policy": {"name": "high-risk", "version": 3}, "evaluated_at": in_hours(0),
               "expires_at": in_hours(1)}
    statement = attestation.make_gate_statement(**dict(options, **changes))
    return {"decision": decision, "reasons": options["reasons"], "artifact_sha256": ARTIFACT_SHA256,
            "attestation": attestation.sign_envelope(statement, private_pem=private_pem)}


def serve(gate, answer, status=200, headers=None):
    body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
    gate.answer = (status, body, headers or {})


def run_client(url, public_key_file, *extra, token=TOKEN):
    # -I -S: no user site, no site-packages, no PYTHON* variables, so any
    # third-party import would fail here exactly as on a bare CI runner.
    command = [sys.executable, "-I", "-S", str(CLIENT), "--url", url, "--system", "credit-scoring",
               "--version", "1.2.0", "--environment", "production", "--public-key", str(public_key_file), *extra]
    env = {"PYTHONPATH": ""}
    if token is not None:
        env["GOV_GATE_TOKEN"] = token
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def url_of(gate):
    return "http://127.0.0.1:%d" % gate.server_address[1]


def test_allow_exits_0_and_says_why(gate, gate_key, public_key_file):
    serve(gate, gate_answer("allow", gate_key))
    result = run_client(url_of(gate), public_key_file)
    assert result.returncode == 0, result.stderr
    assert "ALLOW: credit-scoring@1.2.0 may be deployed to production." in result.stdout
    assert "  - approved by risk officer bob" in result.stdout
    assert gate.seen == [{"path": "/api/v1/gate/credit-scoring/1.2.0/?environment=production",
                          "authorization": "Token " + TOKEN}]


def test_deny_exits_1(gate, gate_key, public_key_file):
    serve(gate, gate_answer("deny", gate_key))
    result = run_client(url_of(gate), public_key_file)
    assert result.returncode == 1, result.stderr
    assert "DENY: credit-scoring@1.2.0 must NOT be deployed to production." in result.stdout


def test_json_flag_prints_the_raw_response(gate, gate_key, public_key_file):
    answer = gate_answer("allow", gate_key)
    serve(gate, answer)
    result = run_client(url_of(gate), public_key_file, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == answer
    assert "ALLOW" in result.stderr


def tampered(gate_key):
    # A man in the middle turns a signed deny into an allow.
    answer = gate_answer("deny", gate_key)
    allow = gate_answer("allow", gate_key)["attestation"]["payload"]
    answer["attestation"]["payload"], answer["decision"] = allow, "allow"
    return answer


def signed_deny_served_as_allow(gate_key):
    return dict(gate_answer("deny", gate_key), decision="allow")


@pytest.mark.parametrize("make_answer, status, expected_stderr", [
    (tampered, 200, "attestation signature does not verify"),
    (lambda key: gate_answer("allow", attestation.generate_key()), 200, "attestation signature does not verify"),
    (signed_deny_served_as_allow, 200, "the signed decision 'deny' differs from the response's 'allow'"),
    (lambda key: gate_answer("allow", key, version="1.1.0"), 200, "the attestation is not about credit-scoring@1.2.0"),
    (lambda key: gate_answer("allow", key, environment="staging"), 200, "is for environment 'staging'"),
    (lambda key: gate_answer("allow", key, expires_at=in_hours(-1)), 200, "the attestation expired at"),
    (lambda key: b"<html>oops</html>", 200, "the gate's answer is not JSON"),
    (lambda key: {"message": "database unavailable"}, 500, "the gate answered HTTP 500: database unavailable"),
])
def test_anything_but_a_verified_answer_exits_2(gate, gate_key, public_key_file, make_answer, status, expected_stderr):
    serve(gate, make_answer(gate_key), status=status)
    result = run_client(url_of(gate), public_key_file)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected_stderr in result.stderr
    assert "do not deploy" in result.stderr
    assert result.stdout == ""


def test_an_answer_about_another_artifact_exits_2(gate, gate_key, public_key_file):
    serve(gate, gate_answer("allow", gate_key))
    result = run_client(url_of(gate), public_key_file, "--artifact-sha256", "ab" * 32)
    assert result.returncode == 2
    assert "the gate answered for artifact" in result.stderr


def test_a_redirect_is_not_followed_with_the_token(gate, public_key_file):
    serve(gate, b"", status=302, headers={"Location": "http://127.0.0.2:9/elsewhere"})
    result = run_client(url_of(gate), public_key_file)
    assert result.returncode == 2
    assert "redirected (HTTP 302)" in result.stderr
    assert len(gate.seen) == 1


def test_an_unreachable_gate_exits_2(public_key_file):
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_client("http://127.0.0.1:%d" % port, public_key_file, "--timeout", "5")
    assert result.returncode == 2
    assert "could not reach the gate" in result.stderr


def test_a_missing_token_exits_2(gate, public_key_file):
    result = run_client(url_of(gate), public_key_file, token=None)
    assert result.returncode == 2
    assert "--token is required" in result.stderr
    assert gate.seen == []


def test_url_safe_envelope_is_accepted(gate, gate_key, public_key_file):
    answer = gate_answer("allow", gate_key)
    envelope = answer["attestation"]
    envelope["payload"] = base64.urlsafe_b64encode(base64.b64decode(envelope["payload"])).decode()
    serve(gate, answer)
    assert run_client(url_of(gate), public_key_file).returncode == 0


@pytest.mark.parametrize("example, secret_source", [
    ("github-actions.yml", "${{ secrets.GOV_GATE_TOKEN }}"),
    ("gitlab-ci.yml", "GOV_GATE_TOKEN"),
    ("Jenkinsfile", "credentialsId: 'gov-gate-token', variable: 'GOV_GATE_TOKEN'"),
])
def test_ci_examples_call_the_client_with_a_stored_secret_and_a_pinned_key(example, secret_source):
    text = (CLIENT.parent / example).read_text(encoding="utf-8")
    assert "deploy/ci/gate_check.py" in text
    assert "--public-key deploy/ci/gate.pub.pem" in text
    assert secret_source in text
    assert "--token" not in text  # the token comes from the environment, not the command line
