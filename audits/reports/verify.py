"""Verify a signed report PDF, with pyHanko and with poppler's pdfsig.

Statuses, decided in this order (the first that applies wins):

* ``invalid``  -- the file could not be read or validated at all (any
  exception, garbage bytes included).
* ``unknown``  -- the file is a readable PDF with no signature.
* ``tampered`` -- the file is not exactly what was signed: the signed
  digest does not match (a byte changed inside the signed ranges), or the
  signature does not cover the whole file (an incremental update, a second
  signature or any other bytes appended after the signed revision), or the
  changes break the DocMDP policy.
* ``invalid``  -- the file is intact but the signature cannot be relied on:
  the signature value does not verify, the signer does not chain to the
  given trust roots, the signer is not one of ``known_fingerprints``, or a
  signature timestamp is present but broken or untrusted.
* ``valid``    -- one intact signature, covering the entire file, by a
  trusted (and, if given, known) certificate.

Integrity is judged before trust on purpose: "this file was changed after
signing" is the more useful message, whoever signed it.
"""

import hashlib
import io
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

STATUSES = ("valid", "invalid", "tampered", "unknown")

TRUST_ROOT_INVALID = "trust_roots must be a list of PEM/DER bytes or cryptography certificates."
MSG_UNREADABLE = "The file could not be validated: {error}"
MSG_UNSIGNED = "No signature found."
MSG_DIGEST = "The document was changed after signing: its digest does not match the signature."
MSG_COVERAGE = (
    "The signature does not cover the entire file: "
    "content was added after the signed revision."
)
MSG_DOCMDP = "The document was modified in a way its certification does not allow."
MSG_BAD_SIGNATURE = "The signature value does not verify."
MSG_UNTRUSTED = "The signer's certificate does not chain to a trusted root."
MSG_UNKNOWN_SIGNER = "The signer's certificate is not one of the known report-signing certificates."
MSG_TIMESTAMP = "The signature timestamp is broken or not trusted."
MSG_NOT_ACCEPTED = "The signature does not meet the validation policy."
MSG_VALID = "Valid signature covering the entire file, by a trusted certificate."

_PDFSIG_TIMEOUT_S = 30


@dataclass(frozen=True)
class VerificationResult:
    status: str
    message: str
    sha256: str
    signer_fingerprint: str | None = None
    signed_at: str | None = None  # ISO 8601; from a trusted timestamp if any
    coverage: str | None = None  # e.g. "entire_file", "entire_revision"
    signer_subject: str | None = None

    def to_dict(self):
        return asdict(self)


def _as_pyca_certs(item):
    if isinstance(item, pyca_x509.Certificate):
        return [item]
    if isinstance(item, str):
        item = item.encode("ascii")
    if not isinstance(item, (bytes, bytearray)):
        raise ValueError(TRUST_ROOT_INVALID)
    # cryptography parses eagerly; asn1crypto would defer errors in a bad
    # root until validation, where they would look like a bad *file*.
    if b"-----BEGIN" in item:
        return pyca_x509.load_pem_x509_certificates(bytes(item))
    return [pyca_x509.load_der_x509_certificate(bytes(item))]


def _load_roots(trust_roots):
    if trust_roots is None or isinstance(trust_roots, (bytes, str)):
        raise ValueError(TRUST_ROOT_INVALID)
    try:
        certs = [cert for item in trust_roots for cert in _as_pyca_certs(item)]
    except Exception as error:  # a malformed root is the caller's error, not the file's
        raise ValueError(TRUST_ROOT_INVALID) from error
    return [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs]


def _context(roots):
    # Only the given roots (an empty list trusts nothing), no network: the
    # verifier must give the same answer offline and cannot be made to fetch.
    return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")


def _signed_at(status):
    ts = status.timestamp_validity
    if ts is not None and ts.trusted:
        return ts.timestamp.isoformat()
    if status.signer_reported_dt is not None:
        return status.signer_reported_dt.isoformat()
    return None


def _classify(status, fingerprint, known):
    """Map one pyHanko status to (status, message), per the module rules."""
    if not status.intact:
        return "tampered", MSG_DIGEST
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return "tampered", MSG_COVERAGE
    if status.docmdp_ok is False:
        return "tampered", MSG_DOCMDP
    if not status.valid:
        return "invalid", MSG_BAD_SIGNATURE
    if not status.trusted:
        return "invalid", MSG_UNTRUSTED
    if known is not None and fingerprint not in known:
        return "invalid", MSG_UNKNOWN_SIGNER
    ts = status.timestamp_validity
    if ts is not None and not (ts.intact and ts.valid and ts.trusted):
        return "invalid", MSG_TIMESTAMP
    if not status.bottom_line:
        return "invalid", MSG_NOT_ACCEPTED
    return "valid", MSG_VALID


def _check_signatures(data, roots, ts_roots, known):
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    signatures = reader.embedded_signatures
    if not signatures:
        return {"status": "unknown", "message": MSG_UNSIGNED}
    # Every signature must pass. With two or more, the earlier ones cannot
    # cover the whole file, so the result is "tampered" -- our reports carry
    # exactly one signature.
    result = None
    for embedded in signatures:
        status = validate_pdf_signature(
            embedded,
            signer_validation_context=_context(roots),
            ts_validation_context=_context(ts_roots),
            # Any revision after the signed one is tampering by our rules, so
            # pyHanko's (slow) analysis of what an update changed is moot.
            skip_diff=True,
        )
        fingerprint = hashlib.sha256(status.signing_cert.dump()).hexdigest()
        verdict, message = _classify(status, fingerprint, known)
        result = {
            "status": verdict, "message": message,
            "signer_fingerprint": fingerprint, "signed_at": _signed_at(status),
            "coverage": status.coverage.name.lower() if status.coverage is not None else None,
            "signer_subject": status.signing_cert.subject.human_friendly,
        }
        if verdict != "valid":
            break
    return result


def verify_pdf(data, *, trust_roots, known_fingerprints=None, timestamp_trust_roots=None):
    """Verify the signature(s) of a report PDF; never raises on bad files.

    ``trust_roots``: PEM/DER bytes (a PEM may hold several certificates) or
    cryptography certificates. ``known_fingerprints``: optional SHA-256 hex
    fingerprints of the acceptable signer certificates. Timestamps are
    checked against ``timestamp_trust_roots`` (default: ``trust_roots``).
    """
    roots = _load_roots(trust_roots)
    ts_roots = roots if timestamp_trust_roots is None else _load_roots(timestamp_trust_roots)
    known = None if known_fingerprints is None else {
        str(f).replace(":", "").lower() for f in known_fingerprints
    }
    data = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else b""
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        result = _check_signatures(data, roots, ts_roots, known)
    except Exception as error:  # by rule: any failure to validate is "invalid"
        result = {"status": "invalid", "message": MSG_UNREADABLE.format(error=error)}
    return VerificationResult(sha256=sha256, **result)


# --- poppler pdfsig, as an independent second opinion ----------------------

_SIG_HEADER = re.compile(r"^Signature #\d+:", re.MULTILINE)
_FIELD = re.compile(r"^\s*- (?P<key>[^:\n]+?)(?:: (?P<value>.*))?$", re.MULTILINE)


def _parse_pdfsig(text):
    blocks = _SIG_HEADER.split(text)[1:]
    details = []
    for block in blocks:
        fields = {m["key"].strip(): (m["value"] or "").strip() for m in _FIELD.finditer(block)}
        details.append({
            "signature_validation": fields.get("Signature Validation", ""),
            "certificate_validation": fields.get("Certificate Validation", ""),
            "total_document_signed": "Total document signed" in fields,
            "signer": fields.get("Signer Certificate Common Name", ""),
            "signature_type": fields.get("Signature Type", ""),
        })
    return details


def pdfsig_check(path, *, nssdir=None):
    """Run poppler's ``pdfsig`` on a file and parse its report.

    pdfsig exits 0 even on a digest mismatch, so the text is what counts.
    ``signature_valid`` is True only if every signature reads "Signature is
    Valid." and covers the total document. Certificate trust comes from
    pdfsig's NSS store (``nssdir``); without the dev CA there it reports
    "Certificate issuer isn't Trusted.", which ``certificate_status`` shows
    as it is -- trust is judged by ``verify_pdf``, not here.
    """
    executable = shutil.which("pdfsig")
    if executable is None:
        return _pdfsig_report(False, "")
    command = [executable] + (["-nssdir", str(nssdir)] if nssdir else []) + [str(path)]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=_PDFSIG_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return _pdfsig_report(True, f"pdfsig timed out after {_PDFSIG_TIMEOUT_S} s")
    return _pdfsig_report(True, completed.stdout + completed.stderr)


def _pdfsig_report(available, raw):
    details = _parse_pdfsig(raw)
    return {
        "available": available,
        "signatures": len(details),
        "signature_valid": bool(details) and all(
            d["signature_validation"] == "Signature is Valid." and d["total_document_signed"]
            for d in details
        ),
        "total_document_signed": bool(details) and all(d["total_document_signed"] for d in details),
        "certificate_status": details[0]["certificate_validation"] if details else "",
        "raw": raw,
        "details": details,
    }
