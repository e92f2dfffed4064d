"""Settings for the test suite: the real settings with test-only secrets and folders.

Tests get their own broker, media and database folders under var/test/, so a running
`make demo` is never disturbed by a test run (and vice versa).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("VAR_DIR", str(__import__("pathlib").Path(__file__).resolve().parent.parent / "var" / "test"))

from governance.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never used outside tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
# The test client and the live server speak plain HTTP (tests/deploy/ checks the production values).
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0

from django.db.backends.signals import connection_created  # noqa: E402


def _allow_test_flushes(sender, connection, **kwargs):
    # Django flushes PostgreSQL test databases with TRUNCATE, which the trail's guard refuses
    # unless the session says so (governance/trail/migrations/0003_guard_head_and_truncate.py).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET governance.trail_truncate = 'allowed'")


connection_created.connect(_allow_test_flushes, dispatch_uid="allow-test-flushes")

# No heartbeat threads in the unit tests' process (they would race the test's transaction);
# the integration tests' worker subprocesses set AUDIT_HEARTBEAT_INTERVAL_SECONDS themselves.
from governance.env import envint  # noqa: E402

AUDIT_HEARTBEAT_INTERVAL_SECONDS = envint("AUDIT_HEARTBEAT_INTERVAL_SECONDS", 0)
