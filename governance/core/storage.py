"""The object store that connects the web server and the workers: artifacts, datasets, reports.

`settings.STORAGES["default"]` names one of the two backends below (STORAGE_BACKEND=filesystem,
the default, under MEDIA_ROOT; or STORAGE_BACKEND=s3, any S3 server). Both refuse to write a
key that exists: uploads are stored under their sha256, so an existing key already holds the
same bytes, and a signed report must never be replaced behind its record.

Reading goes through `object_verified`: the object is streamed in chunks into a local temporary
file while it is hashed, and handed over only when its sha256 is the one recorded when it was
stored. A changed object fails the audit with a message that names it, never a silent result.
"""

from __future__ import annotations

import hashlib
import tempfile
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.utils import validate_file_name
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from governance.core.exceptions import ApplicationError, ConflictError

CHUNK_BYTES = 1024 * 1024

OBJECT_EXISTS = "The stored object {name} already exists and is never overwritten."
OBJECT_CHANGED = ("The stored object {name} has changed since it was stored: its sha256 is now {actual}, "
                  "not the {expected} recorded with it. Nothing was computed from it; register the file again.")
OBJECT_MISSING = "The stored object {name} cannot be read from the object store: {problem}."


class ObjectExistsError(FileExistsError):
    """A write to a key that exists (the storages raise it; `object_create` turns it into a 409)."""


class ObjectChangedError(ApplicationError):
    """An object whose bytes no longer hash to its record, or that is gone: permanent, the run
    fails with this message."""


class ObjectStoreUnavailable(ConnectionError):
    """The store did not answer (refused, timed out, a 5xx): transient, so an audit is retried
    (a ConnectionError, which the runs' retry rule counts as passing)."""


def _refuse_existing(storage, name: str) -> str:
    validate_file_name(name, allow_relative_path=True)
    if storage.exists(name):
        raise ObjectExistsError(OBJECT_EXISTS.format(name=name))
    return name


class WriteOnceFileSystemStorage(FileSystemStorage):
    """MEDIA_ROOT, where an existing name is refused instead of renamed (Django's default would
    save `name_AbC123.ext` beside it). The file is created with O_EXCL, so a concurrent writer of
    the same name is refused too."""

    def get_available_name(self, name, max_length=None):
        return _refuse_existing(self, str(name).replace("\\", "/"))


class WriteOnceS3Storage(S3Storage):
    """An S3 bucket where every key is written once: the PUT carries `If-None-Match: *`, so the
    server itself refuses to replace an object, even when two processes race for one key."""

    def get_available_name(self, name, max_length=None):
        return _refuse_existing(self, clean_name(name))

    def _save(self, name, content):
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        params = self._get_write_parameters(key, content)
        content.seek(0)
        try:
            # put_object streams the file object; s3transfer's upload_fileobj (what the parent
            # class uses) cannot send If-None-Match.
            self.connection.meta.client.put_object(Bucket=self.bucket_name, Key=key, Body=content,
                                                   IfNoneMatch="*", **params)
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (409, 412):
                raise ObjectExistsError(OBJECT_EXISTS.format(name=cleaned)) from None
            raise
        return cleaned


def object_put(*, name: str, content: BinaryIO) -> bool:
    """Store a content-addressed object (its name holds its sha256). True when this call wrote
    it; False when the key exists already, so it holds the same bytes (reads verify that)."""
    try:
        default_storage.save(name, File(content, name=name))
    except ObjectExistsError:
        return False
    return True


def object_create(*, name: str, content: BinaryIO) -> str:
    """Write an object that must not exist yet (a signed report): a 409 naming it if it does."""
    try:
        return default_storage.save(name, File(content, name=name))
    except ObjectExistsError:
        raise ConflictError(OBJECT_EXISTS.format(name=name), field="file") from None


def object_delete(name: str) -> None:
    default_storage.delete(name)


@contextmanager
def object_verified(*, name: str, sha256: str) -> Iterator[BinaryIO]:
    """The object as a local temporary file, at its start, once its sha256 matches the record.

    It is copied chunk by chunk while hashed, so a large object never sits whole in memory and
    the bytes handed over are exactly the bytes hashed (a second read from the store could differ).
    """
    with tempfile.TemporaryFile() as local:
        digest = hashlib.sha256()
        try:
            with default_storage.open(name, "rb") as remote:
                for chunk in iter(lambda: remote.read(CHUNK_BYTES), b""):
                    digest.update(chunk)
                    local.write(chunk)
        except FileNotFoundError as exc:
            raise ObjectChangedError(OBJECT_MISSING.format(name=name, problem=exc)) from None
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (403, 404):
                raise ObjectChangedError(OBJECT_MISSING.format(name=name, problem=exc)) from None
            raise ObjectStoreUnavailable(OBJECT_MISSING.format(name=name, problem=exc)) from exc
        except BotoCoreError as exc:  # no connection, a timeout: the store may come back
            raise ObjectStoreUnavailable(OBJECT_MISSING.format(name=name, problem=exc)) from exc
        if digest.hexdigest() != sha256:
            raise ObjectChangedError(OBJECT_CHANGED.format(name=name, actual=digest.hexdigest(), expected=sha256))
        local.seek(0)
        yield local
