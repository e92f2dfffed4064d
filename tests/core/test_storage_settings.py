"""STORAGE_BACKEND picks the object store from the environment, and a wrong value stops the
process at start with a message that says what is accepted."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

PRINT_STORAGES = ("import json, governance.settings as s; "
                  "print(json.dumps(s.STORAGES['default'], default=str))")


def settings_with(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "STORAGE_BACKEND"))}
    return subprocess.run([sys.executable, "-c", PRINT_STORAGES], cwd=settings.BASE_DIR, capture_output=True,
                          text=True, timeout=60, env={**clean, "SECRET_KEY": "test-only", **env})


def test_the_default_is_the_write_once_filesystem_under_media_root():
    out = settings_with()
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"BACKEND": "governance.core.storage.WriteOnceFileSystemStorage"}


def test_s3_takes_its_bucket_endpoint_and_keys_from_the_environment(tmp_path):
    (tmp_path / "secret").write_text("s3cr3t\n")
    out = settings_with(STORAGE_BACKEND="s3", S3_BUCKET="governance-objects", S3_ENDPOINT_URL="http://objects:8333",
                        S3_REGION="eu-west-1", S3_ACCESS_KEY_ID="key", S3_SECRET_ACCESS_KEY_FILE=str(tmp_path / "secret"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"BACKEND": "governance.core.storage.WriteOnceS3Storage", "OPTIONS": {
        "bucket_name": "governance-objects", "endpoint_url": "http://objects:8333", "region_name": "eu-west-1",
        "access_key": "key", "secret_key": "s3cr3t", "location": "", "addressing_style": "path",
        "default_acl": None, "file_overwrite": False}}


@pytest.mark.parametrize("env, message", [
    ({"STORAGE_BACKEND": "s3"}, "STORAGE_BACKEND=s3 needs S3_BUCKET"),
    ({"STORAGE_BACKEND": "gcs"}, "STORAGE_BACKEND must be filesystem or s3, not 'gcs'"),
])
def test_a_store_that_cannot_work_stops_the_process_at_start(env, message):
    out = settings_with(**env)
    assert out.returncode != 0 and message in out.stderr
