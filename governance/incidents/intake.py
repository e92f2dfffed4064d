"""Spam resistance of the public intake without a third party: a honeypot field that people do
not see (and bots fill in) and a signed timestamp of when the form was served. A submission
sooner than PUBLIC_REPORT_MIN_SECONDS after that was not typed by a person; one later than
PUBLIC_REPORT_MAX_AGE_SECONDS replays an old form. The stamp is signed with SECRET_KEY
(django.core.signing) and names the system, so a stamp served for one system is refused on another.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from governance.core.exceptions import ApplicationError

SALT = "governance.incidents.intake"
HONEYPOT = "website"  # a field a person never sees (hidden with CSS and aria-hidden); bots fill it in
BAD_STAMP = "stamp: the form's stamp is missing or was altered; reload the form and send it again."
TOO_FAST = "stamp: the form was sent {seconds} s after it was served; take at least {minimum} s to write it."
TOO_OLD = "stamp: the form was served more than {hours} h ago; reload it and send it again."
OTHER_SYSTEM = "stamp: this form was served for another system; reload the form of this one."
HONEYPOT_FILLED = "website: leave this field empty."
USED = "stamp: this form was sent already; reload it to send another report."


def stamp_issue(*, system_slug: str, now: datetime) -> str:
    return signing.dumps({"s": system_slug, "t": int(now.timestamp()), "n": secrets.token_hex(8)}, salt=SALT,
                         compress=True)


def stamp_check(*, stamp: str, system_slug: str, honeypot: str, now: datetime) -> str:
    """The stamp's nonce, once the honeypot and the stamp are checked."""
    if honeypot:
        raise ApplicationError(HONEYPOT_FILLED, field=HONEYPOT)
    try:
        value = signing.loads(stamp or "", salt=SALT)
        served, slug, nonce = int(value["t"]), str(value["s"]), str(value["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ApplicationError(BAD_STAMP, field="stamp") from None
    if slug != system_slug:
        raise ApplicationError(OTHER_SYSTEM, field="stamp")
    age = now.timestamp() - served
    if age < settings.PUBLIC_REPORT_MIN_SECONDS:
        raise ApplicationError(TOO_FAST.format(seconds=max(0, int(age)), minimum=settings.PUBLIC_REPORT_MIN_SECONDS),
                               field="stamp")
    if age > settings.PUBLIC_REPORT_MAX_AGE_SECONDS:
        raise ApplicationError(TOO_OLD.format(hours=round(settings.PUBLIC_REPORT_MAX_AGE_SECONDS / 3600, 1)),
                               field="stamp")
    if cache.get(_spent_key(nonce)):
        raise ApplicationError(USED, field="stamp")
    return nonce


def _spent_key(nonce: str) -> str:
    return f"{SALT}:spent:{nonce}"


def stamp_spend(nonce: str) -> None:
    """Once per stamp, spent when everything else was accepted: a reloaded result page or a
    replayed request does not file the report twice (while a refused one may be corrected and sent)."""
    if not cache.add(_spent_key(nonce), 1, timeout=settings.PUBLIC_REPORT_MAX_AGE_SECONDS + 60):
        raise ApplicationError(USED, field="stamp")


class BodyTooLarge(ApplicationError):
    status_code = 413


class LengthRequired(ApplicationError):
    status_code = 411


TOO_LARGE = "body: the request is {size:,} bytes; the limit is {limit:,} bytes (PUBLIC_REPORT_MAX_BODY_BYTES)."
NO_LENGTH = "body: send the request with a Content-Length header."


def body_bound(request) -> None:
    """Refuse a body over the limit by its declared length, before anything reads it: Django
    reads a body only up to its own much larger limit (DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if not declared.isdigit():
        raise LengthRequired(NO_LENGTH, field="body")
    if int(declared) > settings.PUBLIC_REPORT_MAX_BODY_BYTES:
        raise BodyTooLarge(TOO_LARGE.format(size=int(declared), limit=settings.PUBLIC_REPORT_MAX_BODY_BYTES),
                           field="body")
