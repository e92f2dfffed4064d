"""Development PKI and PAdES certification signing.

References: ETSI EN 319 142-1 (PAdES baseline: SubFilter ETSI.CAdES.detached),
ISO 32000-1 12.8.2.2 (DocMDP, permission P=1: no changes allowed),
ISO 19005-3 6.6.4 (PDF/A identification in XMP), and 6.6.2 of ISO 19005-2/-3
plus ISO 32000 14.3.3 (Info entries and their XMP equivalents must agree).
"""

import hashlib
import io
import re
import shutil
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import read_certification_data

from audits.reports.pdf import render_pdf
from audits.reports.verify import verify_pdf
from audits.reports.signing import (
    ALREADY_SIGNED,
    DEV_LABEL,
    ORGANISATION_INVALID,
    PASSPHRASE_REQUIRED,
    PDF_NOT_BYTES,
    REASON_REQUIRED,
    TSA_URL_INVALID,
    certificate_fingerprint,
    create_dev_pki,
    sign_pdf,
)

PASSPHRASE = b"correct horse battery staple"
PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"
PDF_NS = "{http://ns.adobe.com/pdf/1.3/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return create_dev_pki(tmp_path_factory.mktemp("pki"), organisation="Acme Bank", passphrase=PASSPHRASE)


@pytest.fixture(scope="module")
def unsigned():
    return render_pdf("<h1>Audit report</h1><p>Results.</p>", title="Audit R-1", author="Acme Bank")


@pytest.fixture(scope="module")
def signed(pki, unsigned):
    return sign_pdf(unsigned, pkcs12_path=pki["pkcs12_path"], passphrase=PASSPHRASE,
                    reason="Audit report R-1", location="Brussels", signer_name="Governance Platform")


def load_p12(path):
    with open(path, "rb") as handle:
        return pkcs12.load_key_and_certificates(handle.read(), PASSPHRASE)


def xmp_fields(reader):
    """All XMP properties, attributes and simple elements alike, by expanded name."""
    xmp = ET.fromstring(reader.root["/Metadata"].get_object().data)
    fields = {}
    for description in xmp.iter(f"{RDF}Description"):
        fields.update(description.attrib)
        fields.update({child.tag: child.text for child in description if child.text and child.text.strip()})
    return fields


# --- create_dev_pki ------------------------------------------------------------

def test_dev_pki_writes_a_ca_certificate_and_a_pkcs12_with_the_chain(pki):
    key, cert, chain = load_p12(pki["pkcs12_path"])
    ca_pem = Path(pki["ca_cert_path"]).read_bytes()

    assert key is not None
    assert [c.public_bytes(serialization.Encoding.PEM) for c in chain] == [ca_pem]
    cert.verify_directly_issued_by(chain[0])
    assert pki["created"] is True


def test_dev_pki_names_say_development_only(pki):
    _, cert, chain = load_p12(pki["pkcs12_path"])

    for certificate in (cert, chain[0]):
        common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert DEV_LABEL in common_name
        assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Acme Bank"


def test_dev_pki_keeps_no_ca_key_and_a_private_pkcs12(pki):
    names = sorted(p.name for p in Path(pki["pkcs12_path"]).parent.iterdir())

    assert names == ["dev-ca.pem", "signer.p12"]
    assert stat.S_IMODE(Path(pki["pkcs12_path"]).stat().st_mode) == 0o600


def test_dev_pki_is_idempotent(pki, tmp_path):
    directory = tmp_path / "again"
    shutil.copytree(Path(pki["pkcs12_path"]).parent, directory)

    again = create_dev_pki(directory, passphrase=PASSPHRASE)

    assert again["created"] is False
    assert again["signer_fingerprint"] == pki["signer_fingerprint"]
    assert again["ca_fingerprint"] == pki["ca_fingerprint"]


def test_dev_pki_restores_a_missing_ca_certificate_from_the_chain(pki, tmp_path):
    directory = tmp_path / "restore"
    shutil.copytree(Path(pki["pkcs12_path"]).parent, directory)
    original = (directory / "dev-ca.pem").read_bytes()
    (directory / "dev-ca.pem").unlink()

    create_dev_pki(directory, passphrase=PASSPHRASE)

    assert (directory / "dev-ca.pem").read_bytes() == original


def test_fingerprint_is_the_sha256_of_the_signer_certificate_der(pki):
    _, cert, _ = load_p12(pki["pkcs12_path"])
    expected = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()

    assert certificate_fingerprint(pki["pkcs12_path"], PASSPHRASE) == expected
    assert pki["signer_fingerprint"] == expected


@pytest.mark.parametrize("passphrase", [b"", "text", None])
def test_dev_pki_needs_a_bytes_passphrase(tmp_path, passphrase):
    with pytest.raises(ValueError, match=re.escape(PASSPHRASE_REQUIRED)):
        create_dev_pki(tmp_path, passphrase=passphrase)


@pytest.mark.parametrize("organisation", ["", "x" * 65, None])
def test_dev_pki_checks_the_organisation(tmp_path, organisation):
    with pytest.raises(ValueError, match=re.escape(ORGANISATION_INVALID)):
        create_dev_pki(tmp_path, organisation=organisation, passphrase=PASSPHRASE)


# --- sign_pdf --------------------------------------------------------------------

def test_signature_is_a_pades_certification_with_no_changes_allowed(signed):
    reader = PdfFileReader(io.BytesIO(signed))
    (embedded,) = reader.embedded_signatures

    assert embedded.field_name == "Signature1"
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert embedded.sig_object["/Reason"] == "Audit report R-1"
    assert embedded.sig_object["/Location"] == "Brussels"
    assert embedded.sig_object["/Name"] == "Governance Platform"
    assert read_certification_data(reader).permission == MDPPerm.NO_CHANGES


def test_signing_appends_an_incremental_update(unsigned, signed):
    assert signed.startswith(unsigned)
    assert len(signed) > len(unsigned)


def test_signing_keeps_the_pdfa_identification(signed):
    fields = xmp_fields(PdfFileReader(io.BytesIO(signed)))

    assert fields[PDFAID + "part"] == "3"
    assert fields[PDFAID + "conformance"] == "B"


def test_signing_keeps_info_and_xmp_equal(signed):
    reader = PdfFileReader(io.BytesIO(signed))
    info, fields = reader.trailer["/Info"], xmp_fields(reader)

    assert info["/Producer"] == fields[PDF_NS + "Producer"]
    assert "/ModDate" not in info
    assert info["/Title"] == "Audit R-1"
    title = ET.fromstring(reader.root["/Metadata"].get_object().data).find(f".//{DC}title//{RDF}li")
    assert title.text == "Audit R-1"


def test_signing_an_already_signed_pdf_is_refused(pki, signed):
    with pytest.raises(ValueError, match=re.escape(ALREADY_SIGNED)):
        sign_pdf(signed, pkcs12_path=pki["pkcs12_path"], passphrase=PASSPHRASE, reason="again")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"pdf": b""}, PDF_NOT_BYTES),
        ({"pdf": "text"}, PDF_NOT_BYTES),
        ({"reason": " "}, REASON_REQUIRED),
        ({"passphrase": b""}, PASSPHRASE_REQUIRED),
        ({"tsa_url": "ftp://tsa.example"}, TSA_URL_INVALID),
    ],
)
def test_sign_pdf_checks_its_options(pki, unsigned, changes, message):
    options = {"pdf": unsigned, "pkcs12_path": pki["pkcs12_path"], "passphrase": PASSPHRASE,
               "reason": "Audit report", **changes}
    pdf = options.pop("pdf")

    with pytest.raises(ValueError, match=re.escape(message)):
        sign_pdf(pdf, **options)


def test_a_wrong_passphrase_fails(pki, unsigned):
    with pytest.raises(ValueError):
        sign_pdf(unsigned, pkcs12_path=pki["pkcs12_path"], passphrase=b"wrong", reason="x")


def test_an_unreachable_tsa_fails_the_signing(pki, unsigned):
    # Port 9 (discard) on loopback is closed: proves the TSA is really asked.
    with pytest.raises(Exception):
        sign_pdf(unsigned, pkcs12_path=pki["pkcs12_path"], passphrase=PASSPHRASE,
                 reason="x", tsa_url="http://127.0.0.1:9/tsa")


def _rsa_pkcs12(path):
    """A one-off RSA CA and signer, as a production PKCS#12 might hold."""
    ca_key, key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    now = datetime.datetime.now(datetime.timezone.utc)

    def issue(name, public_key, ca):
        usage = x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                              encipher_only=False, decipher_only=False)
        return (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name).public_key(public_key)
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .add_extension(usage, critical=True).sign(ca_key, hashes.SHA256()))

    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RSA test CA")])
    ca = issue(ca_name, ca_key.public_key(), True)
    cert = issue(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RSA signer")]), key.public_key(), False)
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"rsa", key, cert, [ca], serialization.BestAvailableEncryption(PASSPHRASE)))
    return ca


def test_an_rsa_pkcs12_signs_as_well(tmp_path, unsigned):
    ca = _rsa_pkcs12(tmp_path / "rsa.p12")

    signed = sign_pdf(unsigned, pkcs12_path=tmp_path / "rsa.p12", passphrase=PASSPHRASE, reason="x")

    assert verify_pdf(signed, trust_roots=[ca]).status == "valid"


def test_the_signing_file_is_decrypted_once_per_process_until_it_changes(tmp_path, monkeypatch):
    from audits.reports import signing

    first = create_dev_pki(tmp_path / "a", organisation="Acme Bank", passphrase=PASSPHRASE)
    second = create_dev_pki(tmp_path / "b", organisation="Other Bank", passphrase=PASSPHRASE)
    decrypted = []
    real = signing.pkcs12.load_key_and_certificates
    monkeypatch.setattr(signing.pkcs12, "load_key_and_certificates",
                        lambda data, passphrase: decrypted.append(data) or real(data, passphrase))
    signing._parse_pkcs12.cache_clear()
    path = Path(first["pkcs12_path"])

    for _ in range(3):
        assert certificate_fingerprint(path, PASSPHRASE) == first["signer_fingerprint"]
    shutil.copyfile(second["pkcs12_path"], path)  # the certificate is replaced in place

    assert certificate_fingerprint(path, PASSPHRASE) == second["signer_fingerprint"]
    assert len(decrypted) == 2
    with pytest.raises(ValueError):
        certificate_fingerprint(path, b"wrong passphrase")
    signing._parse_pkcs12.cache_clear()
