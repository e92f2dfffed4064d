#!/usr/bin/env python3
"""Ask the AI governance gate whether a model version may ship, and verify the signed answer.

One file, Python 3.8+ standard library only: copy it into your pipeline next to
the gate's public key (commit both, so a changed key shows up in review).

    python gate_check.py --url https://gov.example.com --system credit-scoring \\
        --version 1.2.0 --environment production --public-key gate.pub.pem

--url defaults to $GOV_URL, --token to $GOV_GATE_TOKEN (prefer the variable:
arguments show up in process listings), --public-key to $GOV_GATE_PUBLIC_KEY.

Exit status: 0 allow, 1 deny, 2 any error (network, HTTP status other than
200, a redirect, bad JSON, a bad, mismatched or expired attestation). It fails
closed: only a verified "allow" exits 0.

Contract with the server
------------------------
Request:   GET {url}/api/v1/gate/{system}/{version}/?environment={environment}
           Authorization: Token <token>
Response:  200, JSON object; other fields are ignored:
           {"decision": "allow" | "deny", "reasons": ["..."],
            "artifact_sha256": "<sha256 hex of the model artifact>",
            "attestation": <DSSE envelope>}
Attestation: a DSSE envelope (https://github.com/secure-systems-lab/dsse,
           payloadType "application/vnd.in-toto+json") whose Ed25519 signature
           covers PAE(payloadType, payload); payload = an in-toto Statement v1:
           subject       [{"name": "<system>@<version>",
                           "digest": {"sha256": <artifact_sha256>}}]
           predicateType "https://ai-governance.example/gate-decision/v1"
           predicate     {"decision", "reasons", "environment", "policy",
                          "evaluated_at", "expires_at"}  (times: ISO 8601 with offset),
                         "accepted_risks" when an allow rests on a risk acceptance,
                         "not_applicable" when a required audit is waived,
                         "acknowledged_gaps" when the version was requested or
                         approved while it missed its policy,
                         and "audit_trail" {"seq", "hash"}: the trail's newest row
Checks:    a signature verifies with the pinned public key; the subject is
           <system>@<version> with digest artifact_sha256 (and --artifact-sha256
           when given); the signed decision and environment equal the response's
           decision and the requested environment; expires_at is in the future,
           so an old "allow" cannot be replayed. The reasons printed are the
           signed ones, not the response's unsigned copy.
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import http.client
import ipaddress
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://ai-governance.example/gate-decision/v1"
DECISIONS = ("allow", "deny")
EXIT_ALLOW, EXIT_DENY, EXIT_ERROR = 0, 1, 2
# A gate answer is a few KiB; refusing more keeps a hostile server from
# making the pipeline buffer gigabytes.
MAX_RESPONSE_BYTES = 1024 * 1024
# SubjectPublicKeyInfo DER for Ed25519 (RFC 8410 section 4): SEQUENCE {
# SEQUENCE { OID 1.3.101.112 }, BIT STRING (32 bytes) } is this prefix + key.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


class GateCheckError(Exception):
    """Anything that keeps us from a verified decision; exits 2."""


# --- Ed25519 verification: RFC 8032 section 5.1.7, following the reference
# arithmetic of section 6 (extended homogeneous coordinates). Verification
# only, on public data, so constant time does not matter here.

_P = 2 ** 255 - 19
_Q = 2 ** 252 + 27742317777372353535851937790883648493  # the group order L


def _inv(x):
    return pow(x, _P - 2, _P)


_D = -121665 * _inv(121666) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _point_add(p1, p2):
    a = (p1[1] - p1[0]) * (p2[1] - p2[0]) % _P
    b = (p1[1] + p1[0]) * (p2[1] + p2[0]) % _P
    c = 2 * p1[3] * p2[3] * _D % _P
    d = 2 * p1[2] * p2[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f, g * h, f * g, e * h)


def _point_mul(scalar, point):
    result = (0, 1, 1, 0)  # the neutral element
    while scalar > 0:
        if scalar & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        scalar >>= 1
    return result


def _point_equal(p1, p2):
    # x1/z1 == x2/z2 and y1/z1 == y2/z2, without inversions.
    return ((p1[0] * p2[2] - p2[0] * p1[2]) % _P == 0
            and (p1[1] * p2[2] - p2[1] * p1[2]) % _P == 0)


def _recover_x(y, sign):
    if y >= _P:
        return None  # non-canonical encoding
    x2 = (y * y - 1) * _inv(_D * y * y + 1)
    if x2 % _P == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None  # not on the curve
    return _P - x if (x & 1) != sign else x


def _point_decompress(data):
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_G = _point_decompress((4 * _inv(5) % _P).to_bytes(32, "little"))  # base point: y = 4/5, x even


def ed25519_verify(public_key, message, signature):
    """True if ``signature`` (64 bytes) is valid for ``message`` under ``public_key`` (32 bytes)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a_point = _point_decompress(public_key)
    r_point = _point_decompress(signature[:32])
    if a_point is None or r_point is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _Q:
        return False  # RFC 8032 5.1.7 step 1: reject a malleable S
    digest = hashlib.sha512(signature[:32] + public_key + message).digest()
    h = int.from_bytes(digest, "little") % _Q
    return _point_equal(_point_mul(s, _G), _point_add(r_point, _point_mul(h, a_point)))


# --- Keys, DSSE, the statement.

def load_public_key(pem_text):
    """Return the raw 32-byte key from an Ed25519 SubjectPublicKeyInfo PEM."""
    lines = [line.strip() for line in pem_text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != "-----BEGIN PUBLIC KEY-----" or lines[-1] != "-----END PUBLIC KEY-----":
        raise GateCheckError("the public key file is not a PEM 'PUBLIC KEY'")
    try:
        der = base64.b64decode("".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        raise GateCheckError("the public key PEM is not valid base64")
    if len(der) != 44 or not der.startswith(ED25519_SPKI_PREFIX):
        raise GateCheckError("the public key is not an Ed25519 key")
    return der[len(ED25519_SPKI_PREFIX):]


def key_id(public_key):
    """The key's fingerprint as the server names it: sha256 hex of the raw key."""
    return hashlib.sha256(public_key).hexdigest()


def pae(payload_type, body):
    """DSSE Pre-Authentication Encoding; lengths are byte counts."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(type_bytes), type_bytes, len(body), body)


def _b64decode(text, field):
    # DSSE allows the standard and the URL-safe alphabet; accept both.
    if not isinstance(text, str):
        raise GateCheckError("attestation %s is not a string" % field)
    for altchars in (None, b"-_"):
        try:
            return base64.b64decode(text, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
    raise GateCheckError("attestation %s is not valid base64" % field)


def verify_envelope(envelope, public_key):
    """Return the Statement inside a DSSE envelope signed by ``public_key``."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("signatures"), list):
        raise GateCheckError("the response has no DSSE attestation envelope")
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise GateCheckError("attestation payloadType is %r, expected %r"
                             % (envelope.get("payloadType"), PAYLOAD_TYPE))
    payload = _b64decode(envelope.get("payload"), "payload")
    message = pae(PAYLOAD_TYPE, payload)
    # keyid is an unauthenticated hint (DSSE protocol.md), so try every signature.
    signatures = [s.get("sig") for s in envelope["signatures"] if isinstance(s, dict)]
    if not any(ed25519_verify(public_key, message, _b64decode(sig, "signature")) for sig in signatures):
        raise GateCheckError("attestation signature does not verify with key %s" % key_id(public_key))
    try:
        statement = json.loads(payload.decode("utf-8"))
    except ValueError:
        raise GateCheckError("attestation payload is not JSON")
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise GateCheckError("attestation payload is not an in-toto Statement v1")
    return statement


def _parse_time(text, field):
    try:
        # fromisoformat accepts "Z" only from Python 3.11.
        moment = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise GateCheckError("signed %s %r is not an ISO 8601 time with an offset" % (field, text))
    return moment


def _check_subject(statement, *, name, artifact_sha256):
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        subjects = []
    matching = [s for s in subjects if isinstance(s, dict) and s.get("name") == name]
    # Exactly one: two subjects of the same name could carry two digests.
    if len(matching) != 1:
        raise GateCheckError("the attestation is not about %s" % name)
    digest = matching[0].get("digest")
    signed_sha256 = digest.get("sha256") if isinstance(digest, dict) else None
    if not isinstance(signed_sha256, str) or signed_sha256.lower() != artifact_sha256.lower():
        raise GateCheckError("the attestation's artifact sha256 %r differs from %r"
                             % (signed_sha256, artifact_sha256))


def check_statement(statement, response, *, system, version, environment, artifact_sha256=None, now=None):
    """Check the verified Statement against the request and response; return its predicate."""
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise GateCheckError("attestation predicateType is %r, expected %r"
                             % (statement.get("predicateType"), PREDICATE_TYPE))
    served_sha256 = response.get("artifact_sha256")
    if not isinstance(served_sha256, str):
        raise GateCheckError("the response has no artifact_sha256")
    if artifact_sha256 is not None and artifact_sha256.lower() != served_sha256.lower():
        raise GateCheckError("the gate answered for artifact %s, not %s" % (served_sha256, artifact_sha256))
    _check_subject(statement, name="%s@%s" % (system, version), artifact_sha256=served_sha256)
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict) or predicate.get("decision") not in DECISIONS:
        raise GateCheckError("the signed predicate has no allow/deny decision")
    if predicate["decision"] != response.get("decision"):
        raise GateCheckError("the signed decision %r differs from the response's %r"
                             % (predicate["decision"], response.get("decision")))
    if predicate.get("environment") != environment:
        raise GateCheckError("the attestation is for environment %r, not %r"
                             % (predicate.get("environment"), environment))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if _parse_time(predicate.get("expires_at"), "expires_at") <= now:
        raise GateCheckError("the attestation expired at %s" % predicate.get("expires_at"))
    return predicate


# --- HTTP.

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would forward the Authorization header to wherever a redirect
    # points, even another host; refuse instead and let the user fix --url.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise GateCheckError("the server redirected (HTTP %d) to %s; use that address as --url" % (code, newurl))


def gate_url(base_url, system, version, environment):
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GateCheckError("--url must be an http(s) address, got %r" % base_url)
    path = "/api/v1/gate/%s/%s/" % (urllib.parse.quote(system, safe=""), urllib.parse.quote(version, safe=""))
    query = urllib.parse.urlencode({"environment": environment})
    return base_url.rstrip("/") + path + "?" + query


def _is_loopback(host):
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error_detail(body):
    # The server's error handler answers {"message": ..., "extra": ...}.
    try:
        message = json.loads(body.decode("utf-8")).get("message")
    except (ValueError, AttributeError):
        message = None
    return ": %s" % message if isinstance(message, str) else ""


def fetch(url, token, timeout):
    """GET the gate answer; return the body bytes of a 200 response."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if url.startswith("http://") and not _is_loopback(host):
        print("warning: sending the gate token over plain http to %s" % host, file=sys.stderr)
    request = urllib.request.Request(url, headers={
        "Authorization": "Token %s" % token, "Accept": "application/json",
        "User-Agent": "gate_check.py",
    })
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_RESPONSE_BYTES + 1)
            status = response.status
    except urllib.error.HTTPError as exc:
        raise GateCheckError("the gate answered HTTP %d%s" % (exc.code, _error_detail(exc.read(65536))))
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise GateCheckError("could not reach the gate at %s: %s" % (url, getattr(exc, "reason", exc)))
    if status != 200:
        raise GateCheckError("the gate answered HTTP %d, expected 200" % status)
    if len(body) > MAX_RESPONSE_BYTES:
        raise GateCheckError("the gate's answer is larger than %d bytes" % MAX_RESPONSE_BYTES)
    return body


# --- Command line.

def parse_args(argv):
    parser = argparse.ArgumentParser(description="Ask the AI governance gate; exit 0 allow, 1 deny, 2 error.")
    parser.add_argument("--url", default=os.environ.get("GOV_URL"), help="base URL (default $GOV_URL)")
    parser.add_argument("--system", required=True, help="AI system slug, e.g. credit-scoring")
    parser.add_argument("--version", required=True, help="model version, e.g. 1.2.0")
    parser.add_argument("--environment", required=True, help="deployment environment, e.g. production")
    parser.add_argument("--token", default=os.environ.get("GOV_GATE_TOKEN"), help="API token (default $GOV_GATE_TOKEN)")
    parser.add_argument("--public-key", default=os.environ.get("GOV_GATE_PUBLIC_KEY"),
                        help="gate's Ed25519 public key PEM file (default $GOV_GATE_PUBLIC_KEY)")
    parser.add_argument("--artifact-sha256", help="refuse unless the gate's answer is about this artifact")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the gate (default 30)")
    parser.add_argument("--json", action="store_true", help="print the raw response on stdout, the summary on stderr")
    args = parser.parse_args(argv)
    for option, value in (("--url", args.url), ("--token", args.token), ("--public-key", args.public_key)):
        if not value:
            parser.error("%s is required (or set its environment variable)" % option)
    return args


def _read_public_key(path):
    try:
        with open(path, encoding="ascii") as handle:
            return load_public_key(handle.read())
    except (OSError, UnicodeDecodeError) as exc:
        raise GateCheckError("cannot read the public key %s: %s" % (path, exc))


def _summary(predicate, *, name, environment, artifact_sha256, public_key):
    verdict = "may be deployed to" if predicate["decision"] == "allow" else "must NOT be deployed to"
    lines = [
        "%s: %s %s %s." % (predicate["decision"].upper(), name, verdict, environment),
        "  artifact sha256: %s" % artifact_sha256,
        "  policy: %s" % json.dumps(predicate.get("policy")),
        "  evaluated at %s; attestation valid until %s" % (predicate.get("evaluated_at"), predicate.get("expires_at")),
        "  signature verified with key %s" % key_id(public_key),
    ]
    trail = predicate.get("audit_trail")
    if isinstance(trail, dict):
        # Keep this line with the build log: `verify_audit_log --anchor SEQ:HASH` checks it later.
        lines.append("  audit trail anchor: %s:%s" % (trail.get("seq"), trail.get("hash")))
    reasons = predicate.get("reasons")
    if isinstance(reasons, list) and reasons:
        lines.append("Reasons:")
        lines.extend("  - %s" % reason for reason in reasons)
    waived = predicate.get("not_applicable")
    if isinstance(waived, list) and waived:
        lines.append("Not applicable to this system (recorded by a compliance officer):")
        for item in waived:
            if isinstance(item, dict):
                lines.append("  - %s audit (control %s): %s" % tuple(item.get(k) for k in ("audit", "control", "reason")))
    accepted = predicate.get("accepted_risks")
    if isinstance(accepted, list) and accepted:
        lines.append("Accepted risks (inconclusive audits a named person accepted in writing):")
        for risk in accepted:
            if isinstance(risk, dict):
                lines.append("  - %s audit, run %s: accepted by %s (%s) until %s: %s" % tuple(
                    risk.get(k) for k in ("audit", "run", "by", "role", "expires_at", "justification")))
    acknowledged = predicate.get("acknowledged_gaps")
    if isinstance(acknowledged, list) and acknowledged:
        lines.append("Acknowledged gaps (requested or approved knowing the version missed its policy):")
        for item in acknowledged:
            if isinstance(item, dict):
                lines.append("  - %s (%s) on %s: %s" % tuple(item.get(k) for k in ("by", "as", "at", "justification")))
                gaps = item.get("gaps")
                if isinstance(gaps, list):
                    lines.extend("      missed: %s" % gap for gap in gaps)
    return "\n".join(lines)


def run(args):
    public_key = _read_public_key(args.public_key)
    body = fetch(gate_url(args.url, args.system, args.version, args.environment), args.token, args.timeout)
    if args.json:
        print(body.decode("utf-8", errors="replace"))
    try:
        response = json.loads(body.decode("utf-8"))
    except ValueError:
        raise GateCheckError("the gate's answer is not JSON")
    if not isinstance(response, dict):
        raise GateCheckError("the gate's answer is not a JSON object")
    statement = verify_envelope(response.get("attestation"), public_key)
    predicate = check_statement(statement, response, system=args.system, version=args.version,
                                environment=args.environment, artifact_sha256=args.artifact_sha256)
    summary = _summary(predicate, name="%s@%s" % (args.system, args.version), environment=args.environment,
                       artifact_sha256=response["artifact_sha256"], public_key=public_key)
    print(summary, file=sys.stderr if args.json else sys.stdout)
    return EXIT_ALLOW if predicate["decision"] == "allow" else EXIT_DENY


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except GateCheckError as exc:
        message = str(exc)
    except Exception as exc:  # fail closed on anything unforeseen, never exit 0 or 1
        message = "unexpected %s: %s" % (type(exc).__name__, exc)
    print("gate check failed: %s\nTreat this as a deny: do not deploy." % message, file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
