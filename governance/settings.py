"""Django settings, all from the environment. `.env.example` documents every variable."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from governance.env import envbool, envint, envlist, envsecret, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE; "
                                   "for manage.py beside `make demo`, export DEBUG=1 as the demo does).")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served by the app itself, never from a CDN
    "django_celery_results",
    "django_celery_beat",
    # One app per domain, lowest first: an app imports only from the apps above it in this list
    # (docs/architecture.md); the project package (governance/ itself) is not an app.
    "governance.core",
    "governance.trail",
    "governance.notifications",
    "governance.registry",
    "governance.catalog",
    "governance.policies",
    "audits.runs",
    "audits.drift",
    "audits.kinds",
    "audits.reports",
    "audits.exports",
    "governance.approvals",
    "governance.gate",
    "governance.portfolio",
    "governance.wizard",
    "governance.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The API refuses query parameters and values its OpenAPI schema does not document.
    "governance.core.api.StrictQueryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # base.html and login.html; each app keeps its own templates/<app>/, and each audit kind its
        # folder's templates/kinds/<kind>/ (a new kind needs no line here).
        "DIRS": [BASE_DIR / "templates", *sorted(BASE_DIR.glob("audits/kinds/*/templates"))],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "governance.core.context_processors.roles",
                "governance.portfolio.context_processors.inbox_count",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=envint("DB_CONN_MAX_AGE", 0)
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a worker subprocess in the integration tests sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    # Wait for the writer lock instead of failing at once when web and worker write together.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "system-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# Uploads: one limit for artifacts and datasets; Django's own limits keep big bodies on disk.
MAX_UPLOAD_BYTES = envint("MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024

SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY", False) else None
X_FRAME_OPTIONS = "DENY"

# In development every process (the web server, the worker, a shell) writes its emails as files
# under var/mail, so the demo's notifications are all in one place; in production, SMTP.
EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = envstr("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "governance@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "governance.core.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AI Governance API",
    "DESCRIPTION": "Registry, controls (NIST AI RMF 1.0, ISO/IEC 42001 Annex A), audits and evidence.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages' scripts come from drf-spectacular-sidecar's static files: they work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery. The database is the truth about audit runs; the broker only carries the signal.
# Default broker: kombu's filesystem transport under var/ -- no server to install.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # exchange state; default is ./control
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem://")
    else {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600)}
)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-audit leaves the message for another one
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "cpu"
# A run goes to its kind's queue (apply_async(queue=run.queue)); everything else to "cpu".
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = False  # never eager outside tests
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

AUDIT_DEVICE = envstr("AUDIT_DEVICE", "auto")
# Liveness (audits/runs/services.py, audits/reports/service.py): while a run or a report is
# built, a thread of the worker writes its heartbeat every AUDIT_HEARTBEAT_INTERVAL_SECONDS,
# whatever step it is in; one older than AUDIT_HEARTBEAT_TIMEOUT_SECONDS means the worker died,
# and the sweeper (beat, every SWEEP_INTERVAL_SECONDS) takes the work back. Defaults: a dead
# worker's run is running again within timeout + one sweep, 45 + 30 s.
AUDIT_HEARTBEAT_INTERVAL_SECONDS = envint("AUDIT_HEARTBEAT_INTERVAL_SECONDS", 5)
AUDIT_HEARTBEAT_TIMEOUT_SECONDS = envint("AUDIT_HEARTBEAT_TIMEOUT_SECONDS", 45)
if AUDIT_HEARTBEAT_INTERVAL_SECONDS > 0 and AUDIT_HEARTBEAT_TIMEOUT_SECONDS < 3 * AUDIT_HEARTBEAT_INTERVAL_SECONDS:
    raise ImproperlyConfigured("AUDIT_HEARTBEAT_TIMEOUT_SECONDS must be at least 3 x AUDIT_HEARTBEAT_INTERVAL_SECONDS, "
                               "or a busy database would make a live worker look dead.")
# Work whose message could not be sent (the broker was down at commit) is sent by the sweeper
# once it is this old; work sent but never claimed is sent again after AUDIT_STALE_QUEUED_SECONDS.
AUDIT_UNSENT_GRACE_SECONDS = envint("AUDIT_UNSENT_GRACE_SECONDS", 10)
AUDIT_STALE_QUEUED_SECONDS = envint("AUDIT_STALE_QUEUED_SECONDS", 300)
SWEEP_INTERVAL_SECONDS = envint("SWEEP_INTERVAL_SECONDS", 30)
# /healthz/ calls beat missing when no sweep ran for this long, a worker missing when it has not
# beaten for WORKER_MISSING_AFTER_SECONDS (each worker beats every AUDIT_HEARTBEAT_INTERVAL_SECONDS).
BEAT_MISSING_AFTER_SECONDS = envint("BEAT_MISSING_AFTER_SECONDS", 3 * SWEEP_INTERVAL_SECONDS)
WORKER_MISSING_AFTER_SECONDS = envint("WORKER_MISSING_AFTER_SECONDS", AUDIT_HEARTBEAT_TIMEOUT_SECONDS)
# How long an Idempotency-Key's first answer is kept for a retry (governance/core/idempotency.py).
IDEMPOTENCY_KEY_TTL_HOURS = envint("IDEMPOTENCY_KEY_TTL_HOURS", 24)
# The queues /healthz/ expects a live worker for (comma-separated).
HEALTH_WORKER_QUEUES = envlist("HEALTH_WORKER_QUEUES", ["cpu", "gpu"])
AUDIT_MAX_ATTEMPTS = envint("AUDIT_MAX_ATTEMPTS", 3)
# DP retraining (audits/kinds/dp_retraining/): the total epsilon one AI system may spend on one training
# dataset across DP retrainings, added up (basic composition). Past it a retraining still runs,
# but its results and the new version's lineage carry a warning.
try:
    PRIVACY_BUDGET_EPSILON = float(envstr("PRIVACY_BUDGET_EPSILON", "10"))
except ValueError:
    raise ImproperlyConfigured("PRIVACY_BUDGET_EPSILON must be a number, e.g. 10") from None

# Approvals and the deploy gate (governance/approvals/, governance/gate/).
# Ed25519 private key (PKCS8 PEM) that signs gate attestations; GATE_SIGNING_KEY_FILE also
# works. Unset: the key file GATE_SIGNING_KEY_PATH, which `make demo` generates.
GATE_SIGNING_KEY = envsecret("GATE_SIGNING_KEY")
GATE_SIGNING_KEY_PATH = Path(envstr("GATE_SIGNING_KEY_PATH", str(VAR_DIR / "keys" / "gate-signing.pem")))
# How long a signed gate answer stays valid at most (it expires sooner with its approval or audits).
GATE_ATTESTATION_TTL_SECONDS = envint("GATE_ATTESTATION_TTL_SECONDS", 3600)
# Days before an approval expires when the owner and approvers get an "expiring" notice.
APPROVAL_EXPIRY_WARNING_DAYS = envint("APPROVAL_EXPIRY_WARNING_DAYS", 14)
# Webhooks for approval events (requested, decided, revoked, expiring, expired): comma-separated
# URLs, each POST signed with HMAC-SHA256 of "<timestamp>.<body>" under APPROVAL_WEBHOOK_SECRET.
APPROVAL_WEBHOOK_URLS = envlist("APPROVAL_WEBHOOK_URLS", [])
APPROVAL_WEBHOOK_SECRET = envsecret("APPROVAL_WEBHOOK_SECRET")
APPROVAL_WEBHOOK_TIMEOUT_SECONDS = envint("APPROVAL_WEBHOOK_TIMEOUT_SECONDS", 10)
# Drift-breach alerts go to these URLs too (signed with the same secret).
DRIFT_WEBHOOK_URLS = envlist("DRIFT_WEBHOOK_URLS", [])

# Signed PDF reports (audits/reports/). The organisation's PKCS#12 (key + certificate +
# chain) and its passphrase. With DEBUG on and no passphrase set, a development-only CA and
# signer are generated under REPORT_DEV_PKI_DIR; with DEBUG off, report generation refuses
# to run until both are configured.
REPORT_DEV_PKI_DIR = VAR_DIR / "pki"
REPORT_SIGNING_P12 = envstr("REPORT_SIGNING_P12", str(REPORT_DEV_PKI_DIR / "signer.p12"))
REPORT_SIGNING_PASSPHRASE = envsecret("REPORT_SIGNING_PASSPHRASE")
REPORT_ORGANISATION = envstr("REPORT_ORGANISATION", "Demo Org")
# PEM files (comma-separated) whose certificates verification trusts as roots.
REPORT_TRUST_ROOTS = envlist("REPORT_TRUST_ROOTS", [str(REPORT_DEV_PKI_DIR / "dev-ca.pem")])
# Optional RFC 3161 timestamp authority, e.g. https://freetsa.org/tsr (empty: no timestamp), and
# the PEM file(s) of the root(s) its timestamp certificates chain to.
REPORT_TSA_URL = envstr("REPORT_TSA_URL", "")
REPORT_TSA_TRUST_ROOTS = envlist("REPORT_TSA_TRUST_ROOTS", [])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    # weasyprint logs every rendering step at INFO; the report task logs what matters.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}},
}
