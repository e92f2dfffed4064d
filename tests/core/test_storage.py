"""The object store: keys are written once, and a read hands over bytes only when they hash to
the sha256 recorded with them."""

import hashlib
import io

import pytest
from botocore.config import Config
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from governance.core.exceptions import ConflictError
from governance.core.storage import (
    CHUNK_BYTES,
    OBJECT_CHANGED,
    ObjectChangedError,
    ObjectExistsError,
    ObjectStoreUnavailable,
    object_create,
    object_put,
    object_verified,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_default_storage_refuses_to_overwrite_a_key_instead_of_renaming_it():
    default_storage.save("reports/R-1.pdf", ContentFile(b"signed"))
    with pytest.raises(ObjectExistsError, match="reports/R-1.pdf already exists"):
        default_storage.save("reports/R-1.pdf", ContentFile(b"forged"))
    with default_storage.open("reports/R-1.pdf") as fh:
        assert fh.read() == b"signed"
    assert default_storage.listdir("reports")[1] == ["R-1.pdf"]


def test_creating_an_existing_object_is_a_conflict_naming_it():
    object_create(name="reports/R-2.pdf", content=io.BytesIO(b"signed"))
    with pytest.raises(ConflictError) as exc:
        object_create(name="reports/R-2.pdf", content=io.BytesIO(b"forged"))
    assert exc.value.message == "The stored object reports/R-2.pdf already exists and is never overwritten."


def test_a_content_addressed_object_is_stored_once_and_the_second_put_says_so():
    data = b"a,b\n1,2\n"
    name = f"datasets/{sha(data)}.csv"
    assert object_put(name=name, content=io.BytesIO(data)) is True
    assert object_put(name=name, content=io.BytesIO(data)) is False
    assert default_storage.listdir("datasets")[1] == [f"{sha(data)}.csv"]


def test_a_verified_read_gives_the_bytes_of_an_unchanged_object_across_chunks():
    data = bytes(range(256)) * (CHUNK_BYTES // 256 * 2 + 3)  # more than two chunks
    object_put(name="artifacts/big.bin", content=io.BytesIO(data))
    with object_verified(name="artifacts/big.bin", sha256=sha(data)) as fh:
        assert fh.read() == data


def test_a_changed_object_is_refused_with_a_message_naming_it_and_both_hashes(settings):
    data = b"weights"
    object_put(name="artifacts/m.safetensors", content=io.BytesIO(data))
    (settings.MEDIA_ROOT / "artifacts" / "m.safetensors").write_bytes(b"weightz")  # changed behind its record
    with pytest.raises(ObjectChangedError) as exc:
        with object_verified(name="artifacts/m.safetensors", sha256=sha(data)):
            pytest.fail("a changed object must not be handed over")
    assert exc.value.message == OBJECT_CHANGED.format(name="artifacts/m.safetensors", actual=sha(b"weightz"),
                                                      expected=sha(data))


def test_a_missing_object_is_refused_naming_it():
    with pytest.raises(ObjectChangedError, match="The stored object datasets/gone.csv cannot be read"):
        with object_verified(name="datasets/gone.csv", sha256="0" * 64):
            pass



def test_a_store_that_does_not_answer_is_a_passing_problem_not_a_changed_object(settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "governance.core.storage.WriteOnceS3Storage",
        "OPTIONS": {"bucket_name": "governance-objects", "endpoint_url": "http://127.0.0.1:9", "access_key": "k",
                    "secret_key": "s", "region_name": "us-east-1", "addressing_style": "path",
                    "client_config": Config(retries={"max_attempts": 1}, connect_timeout=1)}}}
    with pytest.raises(ObjectStoreUnavailable, match="datasets/x.csv cannot be read") as exc:
        with object_verified(name="datasets/x.csv", sha256="0" * 64):
            pass
    assert isinstance(exc.value, ConnectionError)  # the runs' retry rule (audits/runs/services.py TRANSIENT)
