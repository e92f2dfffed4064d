"""Uploads: read within the size limit, store under their sha256, name the field that is wrong."""

from __future__ import annotations

import io
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from governance.core.exceptions import ApplicationError
from governance.core.storage import object_delete, object_put

TOO_LARGE = "The file is {size:,} bytes; the limit is {limit:,} bytes (MAX_UPLOAD_BYTES)."


def read_upload(upload, *, field: str) -> bytes:
    """Read an upload (a Django UploadedFile, a file object or bytes) within the size limit."""
    limit = settings.MAX_UPLOAD_BYTES
    if upload is None:
        raise ApplicationError("This file is required.", field=field)
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ApplicationError(TOO_LARGE.format(size=size, limit=limit), field=field)
    data = upload if isinstance(upload, bytes) else upload.read(limit + 1)
    if len(data) > limit:
        raise ApplicationError(TOO_LARGE.format(size=len(data), limit=limit), field=field)
    if not data:
        raise ApplicationError("The file is empty.", field=field)
    return data


def validation_error(exc: ValidationError) -> ApplicationError:
    field, messages = next(iter(exc.message_dict.items())) if hasattr(exc, "message_dict") else (None, exc.messages)
    return ApplicationError(f"{field}: {' '.join(messages)}" if field else " ".join(messages), field=field,
                            extra={"errors": getattr(exc, "message_dict", {})})


@contextmanager
def stored(folder: str, sha: str, ext: str, data: bytes):
    """Store the file under its sha256 and give its key; the block runs in a transaction. When
    the block fails before that transaction commits (no row was written), delete the object
    again if this call wrote it: no orphan, and an object an earlier row already points to (the
    same bytes) stays. Once it has committed, never: a failure after the commit (an on-commit
    hook, such as a broker that is down) must not take a committed row's file."""
    path = f"{folder}/{sha}.{ext}"
    created = object_put(name=path, content=io.BytesIO(data))
    committed = []
    try:
        with transaction.atomic():
            # The first hook of this transaction: it runs before any hook the block adds can fail.
            transaction.on_commit(lambda: committed.append(True), robust=True)
            yield path
    except BaseException:
        if created and not committed:
            object_delete(path)
        raise
