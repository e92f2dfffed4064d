"""PAdES certification signatures for report PDFs, and a development PKI.

A report is signed once, by the platform, with a *certification* (DocMDP)
signature whose permission is "no changes allowed": any later revision is
a violation that readers (Adobe, pdfsig, pyHanko) flag. Reports are never
edited; a new report supersedes an old one.

PDF/A and signing: pyHanko always signs by appending an incremental update,
so the rendered bytes (and their PDF/A structures) are kept as they are.
When the document has an XMP packet, pyHanko 0.38 rewrites it in the same
update, keeping every existing property (``pdfaid:part`` and
``pdfaid:conformance`` included) and setting ``pdf:Producer`` and
``xmp:ModifyDate``; the invisible signature widget gets the Print flag that
PDF/A asks for (``pyhanko.sign.fields.InvisSigSettings``). Two details of
that rewrite would break PDF/A's rule that Info entries equal their XMP
counterparts, so ``_align_info_with_xmp`` handles them in the same update.
"""

import datetime
import hashlib
import io
import os
from functools import lru_cache
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

DEV_LABEL = "DEVELOPMENT ONLY - NOT FOR PRODUCTION"
CA_CERT_FILE = "dev-ca.pem"
PKCS12_FILE = "signer.p12"

PASSPHRASE_REQUIRED = "passphrase must be non-empty bytes."
ORGANISATION_INVALID = "organisation must be a non-empty string of at most 64 characters."
PDF_NOT_BYTES = "pdf must be the bytes of a PDF file."
REASON_REQUIRED = "reason must be a non-empty string."
FIELD_NAME_REQUIRED = "field_name must be a non-empty string."
TSA_URL_INVALID = "tsa_url must be an http:// or https:// URL."
ALREADY_SIGNED = "The PDF is already signed; a certification signature must be the first."
PKCS12_NO_CERTIFICATE = "The PKCS#12 file holds no certificate and key."
KEY_TYPE_UNSUPPORTED = "Only RSA and ECDSA signing keys are supported."

_CA_DAYS = 3650
_SIGNER_DAYS = 825
_TSA_TIMEOUT_S = 10


def _check_passphrase(passphrase):
    if not isinstance(passphrase, bytes) or not passphrase:
        raise ValueError(PASSPHRASE_REQUIRED)


def _fingerprint(cert):
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _name(common_name, organisation):
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEV_LABEL),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
    ])


def _key_usage(*, signer):
    return x509.KeyUsage(
        digital_signature=signer, content_commitment=signer,
        key_encipherment=False, data_encipherment=False, key_agreement=False,
        key_cert_sign=not signer, crl_sign=not signer,
        encipher_only=False, decipher_only=False,
    )


def _issue(*, subject, issuer, public_key, issuer_key, days, ca):
    # Backdated a few minutes so a verifier with a slightly slow clock
    # does not see a not-yet-valid certificate.
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(_key_usage(signer=not ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _write_atomically(path, data, mode):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _generate(directory, organisation, passphrase):
    # The CA key lives only in memory: once the signer is issued nobody can
    # mint further certificates that chain to this development root.
    # The CA signs only certificates, so it can use fast ECDSA P-256. The signer signs
    # the PDF and uses RSA 2048: with an ECDSA signature pyHanko declares the ISO 32002
    # extension and /Version 2.0 in the catalog, which a PDF/A-3 (PDF 1.7) file must not.
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{DEV_LABEL} Root CA", organisation)
    ca_cert = _issue(subject=ca_name, issuer=ca_name, public_key=ca_key.public_key(),
                     issuer_key=ca_key, days=_CA_DAYS, ca=True)
    signer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer_cert = _issue(subject=_name(f"{DEV_LABEL} Signer", organisation), issuer=ca_name,
                         public_key=signer_key.public_key(), issuer_key=ca_key,
                         days=_SIGNER_DAYS, ca=False)
    p12 = pkcs12.serialize_key_and_certificates(
        b"report-signer", signer_key, signer_cert, [ca_cert],
        serialization.BestAvailableEncryption(passphrase),
    )
    _write_atomically(directory / CA_CERT_FILE, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write_atomically(directory / PKCS12_FILE, p12, 0o600)


def _load_pkcs12(pkcs12_path, passphrase):
    _check_passphrase(passphrase)
    key, cert, chain = _parse_pkcs12(Path(pkcs12_path).read_bytes(), bytes(passphrase))
    if cert is None or key is None:
        raise ValueError(PKCS12_NO_CERTIFICATE)
    return key, cert, list(chain)


@lru_cache(maxsize=4)
def _parse_pkcs12(data, passphrase):
    # Decrypting the PKCS#12 (its key derivation) costs about 0.1 s, and one report build
    # read it three times (configuration, development marking, signature). Keyed by the
    # file's bytes, so a replaced certificate is read afresh; a wrong passphrase raises and
    # is not cached.
    key, cert, chain = pkcs12.load_key_and_certificates(data, passphrase)
    return key, cert, tuple(chain)


def is_development_signer(pkcs12_path, passphrase) -> bool:
    """Whether the signing certificate is a development one (its subject carries DEV_LABEL):
    such reports carry a visible marking on every page."""
    _, cert, _ = _load_pkcs12(pkcs12_path, passphrase)
    return DEV_LABEL in cert.subject.rfc4514_string()


def _root_of(cert, chain):
    """The self-signed certificate of the chain (PKCS#12 does not fix the order)."""
    roots = [c for c in chain if c.subject == c.issuer]
    return roots[0] if roots else (chain[-1] if chain else cert)


def _asn1(cert):
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class _LoadedKeySigner(signers.Signer):
    """A pyHanko signer over a key loaded once.

    pyHanko's SimpleSigner re-parses its DER key for every signature it
    makes (two per PDF: a size estimate, then the real one), and for RSA
    keys that parse re-runs key validation: about 0.3 s each at 3072 bits.
    """

    def __init__(self, key, cert, chain):
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise ValueError(KEY_TYPE_UNSUPPORTED)
        self._key = key
        registry = SimpleCertificateStore()
        registry.register_multiple([_asn1(c) for c in chain])
        super().__init__(signing_cert=_asn1(cert), cert_registry=registry)

    async def async_sign_raw(self, data, digest_algorithm, dry_run=False):
        # The mechanism pyHanko picks for these key types without PSS is
        # RSA PKCS#1 v1.5 or ECDSA, each over ``digest_algorithm``.
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), hash_algorithm)
        return self._key.sign(data, ec.ECDSA(hash_algorithm))


def create_dev_pki(directory, *, organisation="Demo Org", passphrase):
    """Create (or reuse) a development CA and a report-signing certificate.

    Writes ``dev-ca.pem`` (the root, to give verifiers as a trust root) and
    ``signer.p12`` (signer key + certificate + chain) under ``directory``.
    No CA key is written. If ``signer.p12`` exists it is reused as is (the
    ``organisation`` argument is then ignored) and ``dev-ca.pem`` is
    rewritten from its chain when missing or different.
    """
    _check_passphrase(passphrase)
    if not isinstance(organisation, str) or not 0 < len(organisation) <= 64:
        raise ValueError(ORGANISATION_INVALID)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    created = not (directory / PKCS12_FILE).exists()
    if created:
        _generate(directory, organisation, passphrase)
    _key, signer_cert, chain = _load_pkcs12(directory / PKCS12_FILE, passphrase)
    root = _root_of(signer_cert, chain)
    ca_pem = root.public_bytes(serialization.Encoding.PEM)
    ca_path = directory / CA_CERT_FILE
    if not ca_path.exists() or ca_path.read_bytes() != ca_pem:
        _write_atomically(ca_path, ca_pem, 0o644)
    return {
        "ca_cert_path": str(ca_path),
        "pkcs12_path": str(directory / PKCS12_FILE),
        "signer_fingerprint": _fingerprint(signer_cert),
        "ca_fingerprint": _fingerprint(root),
        "created": created,
    }


def certificate_fingerprint(pkcs12_path, passphrase):
    """SHA-256 (lower-case hex) of the signer certificate's DER encoding."""
    _key, cert, _chain = _load_pkcs12(pkcs12_path, passphrase)
    return _fingerprint(cert)


def _align_info_with_xmp(writer):
    """Keep the Info dictionary equal to the XMP packet pyHanko will write.

    pyHanko sets XMP pdf:Producer to "pyHanko x.y" but *appends* that to an
    existing Info /Producer ("Typst 0.15.1; pyHanko x.y"), and it
    computes "now" separately for Info /ModDate and xmp:ModifyDate (they
    can differ by a second). Setting the Info producer to exactly what XMP
    will say, and dropping the optional Info /ModDate, keeps them equal.
    """
    try:
        info_ref = writer.trailer.raw_get("/Info")
    except KeyError:
        return
    info = info_ref.get_object()
    info["/Producer"] = generic.TextStringObject(VENDOR)
    info.pop("/ModDate", None)
    writer.mark_update(info_ref)


def _check_sign_options(pdf, reason, field_name, tsa_url):
    if not isinstance(pdf, (bytes, bytearray)) or not pdf:
        raise ValueError(PDF_NOT_BYTES)
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(REASON_REQUIRED)
    if not isinstance(field_name, str) or not field_name.strip():
        raise ValueError(FIELD_NAME_REQUIRED)
    if tsa_url is not None and not str(tsa_url).startswith(("http://", "https://")):
        raise ValueError(TSA_URL_INVALID)


def sign_pdf(pdf, *, pkcs12_path, passphrase, reason, location=None, signer_name=None,
             tsa_url=None, field_name="Signature1"):
    """Certify ``pdf`` with a PAdES (ETSI.CAdES.detached) signature.

    DocMDP permission is "no changes allowed". With ``tsa_url`` the CMS
    signature carries an RFC 3161 signature timestamp from that TSA.
    Returns the signed PDF bytes (the input plus one incremental update).
    Runs an event loop internally: call it from synchronous code (a Celery
    task, a management command), not from inside a running loop.
    """
    _check_sign_options(pdf, reason, field_name, tsa_url)
    _check_passphrase(passphrase)
    signer = _LoadedKeySigner(*_load_pkcs12(pkcs12_path, passphrase))
    writer = IncrementalPdfFileWriter(io.BytesIO(bytes(pdf)))
    if writer.prev.embedded_signatures:
        raise ValueError(ALREADY_SIGNED)
    _align_info_with_xmp(writer)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
        reason=reason,
        location=location,
        name=signer_name,
    )
    timestamper = HTTPTimeStamper(tsa_url, timeout=_TSA_TIMEOUT_S) if tsa_url else None
    output = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper)
    return output.getvalue()
