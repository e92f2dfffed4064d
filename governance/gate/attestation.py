"""Signed gate attestations: an in-toto Statement v1 in a DSSE envelope, Ed25519.

Pure (no Django), so the gate API, the report signer and tests share it.

- Statement: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
- DSSE: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md and
  envelope.md. The signature covers PAE(payloadType, payload), never the JSON
  envelope, so the payload bytes are signed exactly as they travel.

Gate contract (mirrored in deploy/ci/gate_check.py and deploy/ci/README.md):
the subject is the model artifact, named ``"<system-slug>@<version>"`` with the
artifact's sha256 as its digest; the predicate type is ``PREDICATE_TYPE`` and
the predicate holds ``decision, reasons, environment, policy, evaluated_at,
expires_at`` (see ``make_gate_statement``).
"""

import base64
import binascii
import hashlib
import json
import re

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from governance.trail.hashchain import canonical_json

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
# The project's own predicate type: a gate decision for one model version in
# one environment. It is a name, not a fetched document; bump the trailing
# version when the predicate's fields change meaning.
PREDICATE_TYPE = "https://ai-governance.example/gate-decision/v1"
DECISIONS = ("allow", "deny")

ERR_PRIVATE_KEY = "private_pem must be an unencrypted PEM (PKCS8) Ed25519 private key"
ERR_PUBLIC_KEY = "public_pem must be a PEM (SubjectPublicKeyInfo) Ed25519 public key"
ERR_SUBJECT_NAME = "subject_name must be a non-empty string"
ERR_SUBJECT_DIGEST = "subject_digest_sha256 must be 64 lowercase hex characters"
ERR_PREDICATE_TYPE = "predicate_type must be a non-empty string"
ERR_PREDICATE = "predicate must be a dict"
ERR_STATEMENT = "statement must be a dict with _type " + STATEMENT_TYPE
ERR_DECISION = "decision must be one of: " + ", ".join(DECISIONS)
ERR_REASONS = "reasons must be a list of strings"
ERR_GATE_FIELD = "{field} must be a non-empty string"
ERR_ENVELOPE = "envelope must be a dict with string payloadType, string payload and a list of signatures"
ERR_PAYLOAD_TYPE = "envelope payloadType must be " + PAYLOAD_TYPE + ", got {got!r}"
ERR_BASE64 = "envelope {field} is not valid base64"
ERR_NO_SIGNATURE = "envelope has no signature by key {keyid}"
ERR_BAD_SIGNATURE = "envelope signature by key {keyid} does not verify"
ERR_PAYLOAD = "envelope payload is not an in-toto Statement v1 JSON object"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class AttestationError(ValueError):
    """Any reason to refuse a key, a statement or an envelope."""


def _as_bytes(pem):
    # Keys often arrive as str from settings or environment variables.
    return pem.encode("ascii") if isinstance(pem, str) else pem


def _load_private(private_pem):
    try:
        key = serialization.load_pem_private_key(_as_bytes(private_pem), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise AttestationError(ERR_PRIVATE_KEY) from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise AttestationError(ERR_PRIVATE_KEY)
    return key


def _load_public(public_pem):
    try:
        key = serialization.load_pem_public_key(_as_bytes(public_pem))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise AttestationError(ERR_PUBLIC_KEY) from exc
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise AttestationError(ERR_PUBLIC_KEY)
    return key


def generate_key():
    """Return a new Ed25519 private key as unencrypted PKCS8 PEM bytes."""
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(private_pem):
    """Return the SubjectPublicKeyInfo PEM of an Ed25519 private key."""
    return _load_private(private_pem).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def key_id(public_pem):
    """Return the sha256 hex of the raw 32-byte Ed25519 public key.

    Hashing the raw key, not the PEM, gives the same id whatever the PEM's
    line breaks, and anyone can recompute it with hashlib alone.
    """
    raw = _load_public(public_pem).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw,
    )
    return hashlib.sha256(raw).hexdigest()


def pae(payload_type, body):
    """DSSE Pre-Authentication Encoding (protocol.md, "Signature Definition").

    LEN is the byte length, so a non-ASCII payload type counts its UTF-8 bytes.
    """
    type_bytes = payload_type.encode("utf-8") if isinstance(payload_type, str) else payload_type
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(body), body)


def _nonempty_str(value):
    return isinstance(value, str) and value != ""


def make_statement(*, subject_name, subject_digest_sha256, predicate_type, predicate):
    """Return an in-toto Statement v1 about one subject."""
    if not _nonempty_str(subject_name):
        raise AttestationError(ERR_SUBJECT_NAME)
    if not isinstance(subject_digest_sha256, str) or not _SHA256_HEX.fullmatch(subject_digest_sha256):
        raise AttestationError(ERR_SUBJECT_DIGEST)
    if not _nonempty_str(predicate_type):
        raise AttestationError(ERR_PREDICATE_TYPE)
    if not isinstance(predicate, dict):
        raise AttestationError(ERR_PREDICATE)
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject_name, "digest": {"sha256": subject_digest_sha256}}],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }


def gate_subject_name(*, system_slug, version):
    """The gate's subject name, ``"<system-slug>@<version>"``; clients rebuild it."""
    for field, value in (("system_slug", system_slug), ("version", version)):
        if not _nonempty_str(value):
            raise AttestationError(ERR_GATE_FIELD.format(field=field))
    return f"{system_slug}@{version}"


def make_gate_statement(
    *, system_slug, version, artifact_sha256, decision, reasons, environment,
    policy, evaluated_at, expires_at, accepted_risks=(), not_applicable=(), acknowledged_gaps=(),
    audit_trail=None,
):
    """Return the Statement for one gate decision, in the documented contract.

    ``evaluated_at`` and ``expires_at`` are ISO 8601 strings with an offset;
    clients refuse an expired attestation, so an old "allow" cannot be replayed.
    ``policy`` is any JSON value naming the policy applied (e.g. name and version).
    ``accepted_risks`` lists the inconclusive audits an "allow" relies on because a named
    person accepted them (governance/approvals/risk.py); it is in the signed predicate only when not
    empty, so a pipeline and an auditor see what the allow rests on.
    ``not_applicable`` lists the required audits waived for the system because a compliance
    officer marked the control that defines them not applicable, with the reason given.
    ``acknowledged_gaps`` lists who requested or approved the version while it missed its policy,
    what it missed then and their written justification; in the predicate only when not empty.
    ``audit_trail`` ({"seq", "hash"}) is the audit trail's newest row when the answer was
    given: every stored attestation anchors the trail outside the database, so rows cut off
    or rewritten later show (`manage.py verify_audit_log --anchor SEQ:HASH`).
    """
    if decision not in DECISIONS:
        raise AttestationError(ERR_DECISION)
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise AttestationError(ERR_REASONS)
    for field, value in (("environment", environment), ("evaluated_at", evaluated_at),
                         ("expires_at", expires_at)):
        if not _nonempty_str(value):
            raise AttestationError(ERR_GATE_FIELD.format(field=field))
    predicate = {
        "decision": decision, "reasons": list(reasons), "environment": environment,
        "policy": policy, "evaluated_at": evaluated_at, "expires_at": expires_at,
    }
    if accepted_risks:
        predicate["accepted_risks"] = list(accepted_risks)
    if not_applicable:
        predicate["not_applicable"] = list(not_applicable)
    if acknowledged_gaps:
        predicate["acknowledged_gaps"] = list(acknowledged_gaps)
    if audit_trail:
        predicate["audit_trail"] = dict(audit_trail)
    return make_statement(
        subject_name=gate_subject_name(system_slug=system_slug, version=version),
        subject_digest_sha256=artifact_sha256,
        predicate_type=PREDICATE_TYPE,
        predicate=predicate,
    )


def sign_envelope(statement, *, private_pem):
    """Sign a Statement; return the DSSE JSON envelope as a dict."""
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise AttestationError(ERR_STATEMENT)
    key = _load_private(private_pem)
    payload = canonical_json(statement)
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": key_id(public_pem), "sig": base64.b64encode(signature).decode("ascii")}],
    }


def _b64decode(text, *, field):
    # DSSE: signers may use either alphabet and verifiers MUST accept both.
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        pass
    try:
        return base64.b64decode(text, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AttestationError(ERR_BASE64.format(field=field)) from exc


def _check_envelope_shape(envelope):
    if not (
        isinstance(envelope, dict)
        and isinstance(envelope.get("payloadType"), str)
        and isinstance(envelope.get("payload"), str)
        and isinstance(envelope.get("signatures"), list)
        and all(isinstance(s, dict) for s in envelope["signatures"])
    ):
        raise AttestationError(ERR_ENVELOPE)
    if envelope["payloadType"] != PAYLOAD_TYPE:
        raise AttestationError(ERR_PAYLOAD_TYPE.format(got=envelope["payloadType"]))


def _verify_signatures(envelope, payload, *, public_pem):
    key, keyid = _load_public(public_pem), key_id(public_pem)
    message = pae(PAYLOAD_TYPE, payload)
    # keyid is an unauthenticated hint (protocol.md) and other signers name
    # keys differently, so every signature is tried; the hint only picks the
    # error message.
    for signature in envelope["signatures"]:
        if not isinstance(signature.get("sig"), str):
            raise AttestationError(ERR_ENVELOPE)
        try:
            key.verify(_b64decode(signature["sig"], field="sig"), message)
            return
        except InvalidSignature:
            continue
    claimed = [s.get("keyid") for s in envelope["signatures"]]
    if keyid in claimed or any(c in (None, "") for c in claimed):
        raise AttestationError(ERR_BAD_SIGNATURE.format(keyid=keyid))
    raise AttestationError(ERR_NO_SIGNATURE.format(keyid=keyid))


def verify_envelope(envelope, *, public_pem):
    """Return the verified Statement, or raise AttestationError saying why not."""
    _check_envelope_shape(envelope)
    payload = _b64decode(envelope["payload"], field="payload")
    _verify_signatures(envelope, payload, public_pem=public_pem)
    try:
        statement = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AttestationError(ERR_PAYLOAD) from exc
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise AttestationError(ERR_PAYLOAD)
    return statement
