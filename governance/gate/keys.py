"""The Ed25519 key that signs gate attestations, from settings.

GATE_SIGNING_KEY (or GATE_SIGNING_KEY_FILE) holds the PKCS8 PEM; without it the key file at
GATE_SIGNING_KEY_PATH is used, which the demo generates (`gate_key_ensure`) together with
the public key pipelines pin (gate.pub.pem beside it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from governance.core.exceptions import ApplicationError
from governance.gate import attestation

NOT_CONFIGURED = (
    "The gate's signing key is not configured: set GATE_SIGNING_KEY (or GATE_SIGNING_KEY_FILE) to an "
    "Ed25519 PKCS8 PEM, or create {path}."
)


class SigningKeyError(ApplicationError):
    status_code = 503


@dataclass(frozen=True)
class SigningKey:
    private_pem: bytes
    public_pem: bytes
    keyid: str


@lru_cache(maxsize=4)
def _load(private_pem: bytes) -> SigningKey:
    try:
        public_pem = attestation.public_key_pem(private_pem)
    except attestation.AttestationError as exc:
        raise SigningKeyError(f"The gate's signing key is unusable: {exc}.") from None
    return SigningKey(private_pem=private_pem, public_pem=public_pem, keyid=attestation.key_id(public_pem))


@lru_cache(maxsize=4)
def _read_file(path: str, mtime_ns: int) -> bytes:  # keyed on mtime: a replaced file is read again
    return Path(path).read_bytes()


def signing_key() -> SigningKey:
    configured = settings.GATE_SIGNING_KEY
    if configured:
        return _load(configured.encode("ascii") if isinstance(configured, str) else configured)
    path = Path(settings.GATE_SIGNING_KEY_PATH)
    try:
        stat = path.stat()
    except OSError:
        raise SigningKeyError(NOT_CONFIGURED.format(path=path)) from None
    return _load(_read_file(str(path), stat.st_mtime_ns))


def gate_key_ensure() -> tuple[Path, bool]:
    """Generate the key file (0600) and gate.pub.pem beside it when no key is configured.

    Returns (public key path, created). Idempotent; used by the demo."""
    path = Path(settings.GATE_SIGNING_KEY_PATH)
    public_path = path.with_name("gate.pub.pem")
    created = False
    if not settings.GATE_SIGNING_KEY and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(attestation.generate_key())
        created = True
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_bytes(signing_key().public_pem)
    return public_path, created
