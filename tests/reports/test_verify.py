"""verify_pdf and pdfsig_check.

Rules under test (the issue's words): the signature must cover the entire
file; any bytes or revision after the signed revision is tampering; a
digest mismatch is tampering; an exception is "invalid"; unsigned is
"unknown"; a signer not chaining to the trust roots is "invalid".
Timestamp tokens follow RFC 3161; the test TSA is pyHanko's
DummyTimeStamper behind a loopback HTTP server.
"""

import asyncio
import datetime
import hashlib
import io
import json
import os
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.timestamps import DummyTimeStamper

from audits.reports.pdf import render_pdf
from audits.reports.signing import create_dev_pki, sign_pdf
from audits.reports.verify import (
    MSG_COVERAGE,
    MSG_DIGEST,
    MSG_TIMESTAMP,
    MSG_UNKNOWN_SIGNER,
    MSG_UNSIGNED,
    MSG_UNTRUSTED,
    MSG_VALID,
    MSG_VALID_DEVELOPMENT,
    TRUST_ROOT_INVALID,
    _parse_pdfsig,
    pdfsig_check,
    verify_pdf,
)

PASSPHRASE = b"verify-tests"
TSA_TIME = datetime.datetime(2025, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def require_pdfsig():
    if shutil.which("pdfsig") is None:
        if os.environ.get("CI"):
            pytest.fail("pdfsig (poppler-utils) is required in CI")
        pytest.skip("pdfsig (poppler-utils) is not installed")


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return create_dev_pki(tmp_path_factory.mktemp("trusted"), passphrase=PASSPHRASE)


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory):
    return create_dev_pki(tmp_path_factory.mktemp("untrusted"), organisation="Mallory", passphrase=PASSPHRASE)


@pytest.fixture(scope="module")
def ca_pem(pki):
    with open(pki["ca_cert_path"], "rb") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def unsigned():
    return render_pdf("<h1>Audit report</h1><p>Results.</p>", title="Audit R-1")


@pytest.fixture(scope="module")
def signed(pki, unsigned):
    return sign_pdf(unsigned, pkcs12_path=pki["pkcs12_path"], passphrase=PASSPHRASE, reason="Audit report")


def flip(data, offset, mask=0x01):
    changed = bytearray(data)
    changed[offset] ^= mask
    return bytes(changed)


def first_signed_range_middle(data):
    """An offset inside a stream in the first signed range (before /Contents)."""
    contents = data.rindex(b"/Contents <")
    stream = data.index(b"stream", len(data) // 4)
    assert stream + 40 < contents
    return stream + 40


# --- verify_pdf ------------------------------------------------------------------

def test_a_signed_report_is_valid_and_says_its_signer_is_the_development_one(pki, ca_pem, signed):
    result = verify_pdf(signed, trust_roots=[ca_pem])

    assert (result.status, result.message, result.development) == ("valid", MSG_VALID_DEVELOPMENT, True)
    assert result.sha256 == hashlib.sha256(signed).hexdigest()
    assert result.signer_fingerprint == pki["signer_fingerprint"]
    assert result.coverage == "entire_file"
    assert datetime.datetime.fromisoformat(result.signed_at).tzinfo is not None
    assert json.loads(json.dumps(result.to_dict()))["status"] == "valid"


def test_a_report_signed_by_an_organisations_certificate_is_valid_with_no_development_marking(
        tmp_path, unsigned, monkeypatch):
    from audits.reports import signing

    monkeypatch.setattr(signing, "DEV_LABEL", "Example Org report signing")  # a certificate like an org's own
    org = create_dev_pki(tmp_path, organisation="Example Org", passphrase=PASSPHRASE)
    monkeypatch.undo()
    with open(org["ca_cert_path"], "rb") as handle:
        root = handle.read()
    signed = sign_pdf(unsigned, pkcs12_path=org["pkcs12_path"], passphrase=PASSPHRASE, reason="Audit report")
    result = verify_pdf(signed, trust_roots=[root])
    assert (result.status, result.message, result.development) == ("valid", MSG_VALID, False)


@pytest.mark.parametrize("where", ["header comment", "stream in the first range", "DocMDP /P after /Contents"])
def test_a_flipped_byte_inside_the_signed_ranges_is_tampering(ca_pem, signed, where):
    # The third case loosens DocMDP "/P 1" (no changes) to "/P 3" (annotations)
    # in the second signed range, after /Contents.
    offset, mask = {"header comment": (11, 1), "stream in the first range": (first_signed_range_middle(signed), 1),
                    "DocMDP /P after /Contents": (signed.rindex(b"/P 1") + 3, 2)}[where]

    result = verify_pdf(flip(signed, offset, mask), trust_roots=[ca_pem])

    assert (result.status, result.message) == ("tampered", MSG_DIGEST)


def test_an_appended_incremental_update_is_tampering(ca_pem, signed):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/Lang"] = generic.TextStringObject("fr")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)

    result = verify_pdf(out.getvalue(), trust_roots=[ca_pem])

    assert (result.status, result.message, result.coverage) == ("tampered", MSG_COVERAGE, "entire_revision")


def test_any_appended_bytes_are_tampering(ca_pem, signed):
    result = verify_pdf(signed + b"\n% appended\n", trust_roots=[ca_pem])

    assert (result.status, result.message) == ("tampered", MSG_COVERAGE)


def test_a_signer_outside_the_trust_roots_is_invalid(other_pki, ca_pem, unsigned):
    foreign = sign_pdf(unsigned, pkcs12_path=other_pki["pkcs12_path"], passphrase=PASSPHRASE, reason="x")

    result = verify_pdf(foreign, trust_roots=[ca_pem])

    assert (result.status, result.message) == ("invalid", MSG_UNTRUSTED)
    assert result.signer_fingerprint == other_pki["signer_fingerprint"]


def test_no_trust_roots_trust_nothing(signed):
    assert verify_pdf(signed, trust_roots=[]).status == "invalid"


def test_a_signer_missing_from_known_fingerprints_is_invalid(ca_pem, signed):
    result = verify_pdf(signed, trust_roots=[ca_pem], known_fingerprints=["00" * 32])

    assert (result.status, result.message) == ("invalid", MSG_UNKNOWN_SIGNER)


def test_known_fingerprints_ignore_case_and_colons(pki, ca_pem, signed):
    fingerprint = pki["signer_fingerprint"].upper()
    known = [":".join(fingerprint[i:i + 2] for i in range(0, len(fingerprint), 2))]

    assert verify_pdf(signed, trust_roots=[ca_pem], known_fingerprints=known).status == "valid"


def test_an_unsigned_pdf_is_unknown(ca_pem, unsigned):
    result = verify_pdf(unsigned, trust_roots=[ca_pem])

    assert (result.status, result.message, result.signer_fingerprint) == ("unknown", MSG_UNSIGNED, None)


@pytest.mark.parametrize("data", [b"not a pdf at all", b"", b"%PDF-1.7\n%%EOF", None])
def test_unreadable_input_is_invalid(ca_pem, data):
    result = verify_pdf(data, trust_roots=[ca_pem])

    assert result.status == "invalid"
    assert result.message.startswith("The file could not be validated")


@pytest.mark.parametrize("form", ["pem", "der", "cryptography", "pem str"])
def test_trust_roots_may_be_pem_der_or_certificate_objects(ca_pem, signed, form):
    cert = x509.load_pem_x509_certificate(ca_pem)
    root = {"pem": ca_pem, "der": cert.public_bytes(serialization.Encoding.DER),
            "cryptography": cert, "pem str": ca_pem.decode()}[form]

    assert verify_pdf(signed, trust_roots=[root]).status == "valid"


@pytest.mark.parametrize("roots", [None, b"garbage", [b"garbage"], [42]])
def test_malformed_trust_roots_are_a_usage_error(signed, roots):
    with pytest.raises(ValueError, match=re.escape(TRUST_ROOT_INVALID)):
        verify_pdf(signed, trust_roots=roots)


# --- RFC 3161 timestamps -----------------------------------------------------------

def _tsa_pki():
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA Root")])
    now = datetime.datetime.now(datetime.timezone.utc)

    def issue(subject, key, ca):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(root_name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        return builder.sign(root_key, hashes.SHA256())

    root = issue(root_name, root_key, True)
    leaf = issue(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]), tsa_key, False)
    key_der = tsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(leaf.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key_der), fixed_dt=TSA_TIME)
    return root, stamper


@pytest.fixture(scope="module")
def tsa():
    root, stamper = _tsa_pki()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = asyncio.run(stamper.async_request_tsa_response(request)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "root": root}
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def timestamped(pki, unsigned, tsa):
    return sign_pdf(unsigned, pkcs12_path=pki["pkcs12_path"], passphrase=PASSPHRASE,
                    reason="Audit report", tsa_url=tsa["url"])


def test_a_trusted_timestamp_gives_the_signing_time(ca_pem, tsa, timestamped):
    result = verify_pdf(timestamped, trust_roots=[ca_pem], timestamp_trust_roots=[tsa["root"]])

    assert result.status == "valid"
    assert datetime.datetime.fromisoformat(result.signed_at) == TSA_TIME


def test_an_untrusted_timestamp_makes_the_signature_invalid(ca_pem, timestamped):
    result = verify_pdf(timestamped, trust_roots=[ca_pem])

    assert (result.status, result.message) == ("invalid", MSG_TIMESTAMP)


# --- pdfsig --------------------------------------------------------------------------

def test_pdfsig_accepts_the_signed_report(tmp_path, signed):
    require_pdfsig()
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)

    report = pdfsig_check(path)

    assert report["available"] is True
    assert report["signatures"] == 1
    assert report["signature_valid"] is True
    assert report["total_document_signed"] is True
    assert "Signature is Valid." in report["raw"]
    # The dev CA is not in poppler's NSS store; trust is verify_pdf's job.
    assert report["certificate_status"]


def test_pdfsig_reports_a_digest_mismatch_on_a_flipped_byte(tmp_path, signed):
    require_pdfsig()
    path = tmp_path / "flipped.pdf"
    path.write_bytes(flip(signed, 11))

    report = pdfsig_check(path)

    assert report["signatures"] == 1
    assert report["signature_valid"] is False
    assert report["details"][0]["signature_validation"] != "Signature is Valid."


def test_pdfsig_finds_no_signature_in_an_unsigned_file(tmp_path, unsigned):
    require_pdfsig()
    path = tmp_path / "unsigned.pdf"
    path.write_bytes(unsigned)

    report = pdfsig_check(path)

    assert (report["signatures"], report["signature_valid"]) == (0, False)


def test_pdfsig_check_says_when_pdfsig_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr("audits.reports.verify.shutil.which", lambda name: None)

    report = pdfsig_check(tmp_path / "any.pdf")

    assert (report["available"], report["signatures"], report["signature_valid"]) == (False, 0, False)


# pdfsig's output format, as printed by poppler 22-25 (utils/pdfsig.cc).
PDFSIG_SAMPLE = """Digital Signature Info of: r.pdf
Signature #1:
  - Signature Field Name: Signature1
  - Signer Certificate Common Name: Signer
  - Signing Time: Jun 01 2025 12:00:00
  - Signature Type: ETSI.CAdES.detached
  - Signed Ranges: [0 - 100], [200 - 300]
  - Total document signed
  - Signature Validation: Signature is Valid.
  - Certificate Validation: Certificate issuer isn't Trusted.
Signature #2:
  - Signature Field Name: Signature2
  - Signed Ranges: [0 - 400], [500 - 600]
  - Not total document signed
  - Signature Validation: Digest Mismatch.
"""


def test_pdfsig_text_is_parsed_per_signature():
    first, second = _parse_pdfsig(PDFSIG_SAMPLE)

    assert first == {"signature_validation": "Signature is Valid.",
                     "certificate_validation": "Certificate issuer isn't Trusted.",
                     "total_document_signed": True, "signer": "Signer",
                     "signature_type": "ETSI.CAdES.detached"}
    assert second["total_document_signed"] is False
    assert second["signature_validation"] == "Digest Mismatch."
