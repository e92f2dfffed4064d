"""`Idempotency-Key`: a client's retry of a write gets the first answer, not a second copy.

A write that creates work (an audit run, a production batch, a report, a DP retraining, an
approval request or decision) may carry an `Idempotency-Key` header. The first request with
a key runs and, when it succeeds (2xx), its answer is stored with the key in the same
transaction as the work it did. A later request with the same key, by the same user or
pipeline token, on the same method and path, gets that answer again (marked
`Idempotent-Replayed: true`) and does nothing. The same key with a different body or query
is a 422 that says so: a new request needs a new key. A request that failed (4xx/5xx) stores
nothing, so it may be retried with its key once it is fixed.

Keys are kept IDEMPOTENCY_KEY_TTL_HOURS (24) and then pruned by the sweep: a retry comes
within minutes, and the table does not grow without end.

Two requests with one key at the same time: both run, the second to commit hits the key's
unique constraint, its work is rolled back, and it answers with the first one's answer.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from governance.core.exceptions import ApplicationError
from governance.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_TOO_LONG = "Idempotency-Key: at most {limit} characters (a UUID is a good key); this one has {length}."
KEY_REUSED = (
    "Idempotency-Key {key!r} was already used on {scope} with a different request (body, files or query); "
    "it answers only the request it was first used with. Use a new key for a new request."
)
REPLAYED_HEADER = "Idempotent-Replayed"

PARAMETER = OpenApiParameter(
    HEADER, str, location=OpenApiParameter.HEADER, required=False,
    description=(
        "Optional; any unique string of up to 255 characters (a UUID is a good one). A retry with the same key, "
        "by the same user or token, gets the first successful answer again (with `Idempotent-Replayed: true`) "
        "and creates nothing new. The same key with a different body or query is refused with 422."
    ),
)


class IdempotencyKeyReused(ApplicationError):
    status_code = 422


def _owner(request) -> str:
    auth = getattr(request, "auth", None)
    meta = getattr(auth, "_meta", None)
    # A pipeline token is its own client; a person's API token (whose pk is its secret) or session is the user.
    if meta is not None and meta.label_lower != "authtoken.token":
        return f"{meta.label_lower}:{auth.pk}"[:80]
    return f"user:{request.user.pk}"


def _fingerprint(request) -> str:
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict (form, multipart): every value of every name
        data = {name: values for name, values in data.lists() if name not in request.FILES}
    files = {}
    for name, upload in request.FILES.lists():
        digests = []
        for f in upload:
            h = hashlib.sha256()
            for chunk in f.chunks():
                h.update(chunk)
            f.seek(0)
            digests.append(h.hexdigest())
        files[name] = digests
    canonical = json.dumps({"data": data, "files": files, "query": sorted(request.query_params.lists())},
                           cls=DjangoJSONEncoder, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused(KEY_REUSED.format(key=stored.key, scope=stored.scope), field=HEADER)
    return Response(stored.response, status=stored.status_code, headers={REPLAYED_HEADER: "true"})


def idempotent(view_method):
    """Decorate an API view's post/create: honours the `Idempotency-Key` header (see the module)."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return view_method(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise ApplicationError(KEY_TOO_LONG.format(limit=MAX_KEY_LENGTH, length=len(key)), field=HEADER)
        ident = {"owner": _owner(request), "scope": f"{request.method} {request.path}"[:300], "key": key}
        fingerprint = _fingerprint(request)
        stored = IdempotencyKey.objects.filter(**ident).first()
        if stored is not None:
            return _replay(stored, fingerprint)
        try:
            with transaction.atomic():
                response = view_method(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
                    # In the work's transaction: the answer is stored if and only if the work commits.
                    IdempotencyKey.objects.create(**ident, fingerprint=fingerprint, status_code=response.status_code,
                                                  response=body)
        except IntegrityError:
            stored = IdempotencyKey.objects.filter(**ident).first()
            if stored is None:  # not the key's: the view's own error
                raise
            return _replay(stored, fingerprint)
        return response

    return wrapper


def idempotency_keys_prune(*, now=None) -> int:
    """Forget the answers older than IDEMPOTENCY_KEY_TTL_HOURS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
