"""Django settings, all from the environment. `.env.example` documents every variable."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

from governance import broker
from governance.env import envbool, envint, envlist, envsecret, envstr, envtable

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
    "csp",  # its system check flags a policy written in the settings format before version 4
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
    # After approvals, so that its receivers of a breach or a failed audit run after the approvals'
    # revocation (lock order: approval requests before the trail head, governance/trail/services.py);
    # before the gate, which reads its open serious incidents. It imports neither.
    "governance.incidents",
    "governance.gate",
    "governance.metrics",
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
    "csp.middleware.CSPMiddleware",
    # A project error a page view did not catch answers with its 4xx and message (core/middleware.py).
    "governance.core.middleware.ApplicationErrorPages",
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
                "csp.context_processors.nonce",
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
    # Wait for the writer lock instead of failing at once when web and worker write together, and
    # take it when a transaction begins: a deferred transaction that reads first and then writes
    # while the other process writes gets "database is locked" at once, without waiting (SQLite
    # cannot let both upgrade), which the demo's web process met while its worker swept.
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
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
# DP retraining's cache of noise calibrations and measured grad-sample modes (training/cache.py).
DP_CACHE_DIR = Path(envstr("DP_CACHE_DIR", str(VAR_DIR / "cache" / "dp")))

# Artifacts, datasets and signed reports live in one object store that the web server and every
# worker reach: the local filesystem under MEDIA_ROOT (the default; every process must share the
# folder), or an S3 bucket (workers on other machines need only its address and keys). Keys are
# sha256-addressed and written once (governance/core/storage.py); a reader checks the hash.
STORAGE_BACKEND = envstr("STORAGE_BACKEND", "filesystem")
if STORAGE_BACKEND == "filesystem":
    _OBJECTS = {"BACKEND": "governance.core.storage.WriteOnceFileSystemStorage"}
elif STORAGE_BACKEND == "s3":
    if not envstr("S3_BUCKET"):
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs S3_BUCKET (and S3_ENDPOINT_URL for a server other than AWS).")
    _OBJECTS = {
        "BACKEND": "governance.core.storage.WriteOnceS3Storage",
        "OPTIONS": {
            "bucket_name": envstr("S3_BUCKET"),
            "endpoint_url": envstr("S3_ENDPOINT_URL") or None,
            "region_name": envstr("S3_REGION") or None,
            # Unset: boto3's own chain (AWS_* variables, ~/.aws, an instance or pod role).
            "access_key": envsecret("S3_ACCESS_KEY_ID") or None,
            "secret_key": envsecret("S3_SECRET_ACCESS_KEY") or None,
            "location": envstr("S3_PREFIX", ""),
            # Self-hosted servers (SeaweedFS, MinIO) answer on one host name, not per-bucket ones.
            "addressing_style": envstr("S3_ADDRESSING_STYLE", "path" if envstr("S3_ENDPOINT_URL") else "auto"),
            "default_acl": None,  # private objects; downloads go through the app's permission checks
            "file_overwrite": False,
        },
    }
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be filesystem or s3, not {STORAGE_BACKEND!r}")
STORAGES = {
    "default": _OBJECTS,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads: one limit for artifacts and datasets; Django's own limits keep big bodies on disk.
MAX_UPLOAD_BYTES = envint("MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Documentary evidence (policies, procedures: governance/catalog/documents.py) has its own, smaller limit.
DOCUMENT_MAX_BYTES = envint("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024
# Tables (datasets, production batches) are bounded before pandas expands them: Parquet from its
# footer, CSV from its header and while it is read (governance/registry/datafiles.py). A 0.9 MB
# Parquet file can hold 10^8 rows. UCI Adult is 48,842 rows x 15 columns.
TABLE_MAX_ROWS = envint("TABLE_MAX_ROWS", 2_000_000)
TABLE_MAX_COLUMNS = envint("TABLE_MAX_COLUMNS", 1_000)
TABLE_MAX_CELLS = envint("TABLE_MAX_CELLS", 50_000_000)
TABLE_MAX_BYTES = envint("TABLE_MAX_BYTES", 1024 * 1024 * 1024)  # a Parquet file's uncompressed size

# Transport security. Strict when DEBUG is off, so that `manage.py check --deploy` is clean with
# the production settings of deploy/README.md; each is settable for a setup that needs otherwise.
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY", False) else None
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
# The health check answers plain HTTP: container and load-balancer probes do not speak TLS.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)  # a year
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4: one dict of directives). Every page serves its own
# scripts and styles: no script runs unless it comes from here (or carries the request's nonce,
# {{ CSP_NONCE }}), and <style> elements need the nonce too. No style *attribute* applies
# (`style-src-attr 'none'`): the templates use classes from app.css, and the coverage bars and charts
# are SVG, whose presentation attributes (width, fill) CSP does not govern. The API docs pages and
# DRF's browsable API set style attributes as they render, and get their own policy
# (governance/core/docs.py, governance/core/renderers.py).
# CSP_REPORT_URI: where browsers report violations; CSP_REPORT_ONLY=true: report, do not block.
_CSP = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, CSP_NONCE],
        "style-src-elem": [CSP_SELF, CSP_NONCE],
        "style-src-attr": [CSP_NONE],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        **({"report-uri": envstr("CSP_REPORT_URI")} if envstr("CSP_REPORT_URI") else {}),
    },
}
if envbool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

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
    # Signed in and holding a role (governance/core/access.py); what the role allows, each view or service checks.
    "DEFAULT_PERMISSION_CLASSES": ["governance.core.access.RoleRequired"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "governance.core.renderers.BrowsableAPIRenderer",
    ],
    # JSON bodies have their nesting bounded before they are parsed (governance/core/jsonbounds.py).
    "DEFAULT_PARSER_CLASSES": [
        "governance.core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "governance.core.errors.exception_handler",
    # Only the public intake (governance/incidents/api.py) is throttled, per client address.
    "DEFAULT_THROTTLE_RATES": {
        "public_reports": envstr("PUBLIC_REPORT_RATE", "5/hour"),
        "public_report_status": envstr("PUBLIC_REPORT_STATUS_RATE", "60/hour"),
    },
    # Behind a proxy, the number of proxies whose X-Forwarded-For the throttle trusts (0: the socket's address).
    "NUM_PROXIES": envint("NUM_PROXIES", 0),
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
    # Choice sets that several serializers share get one name each in the schema, not a hash suffix.
    "ENUM_NAME_OVERRIDES": {
        "AssessmentStatusEnum": "governance.catalog.models.AssessmentStatus",
        "RunStatusEnum": "audits.runs.models.RunStatus",
        "DocumentKindEnum": "governance.catalog.models.DocumentKind",
    },
}

# Celery. The database is the truth about audit runs; the broker only carries the signal.
# Default broker: kombu's filesystem transport under var/ -- no server to install.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "filesystem://")
# The longest an audit may run (a GPU robustness or DP retraining on a large model). Redis's
# visibility timeout defaults to twice it; RabbitMQ's consumer_timeout must exceed it (README).
AUDIT_MAX_RUNTIME_SECONDS = envint("AUDIT_MAX_RUNTIME_SECONDS", 6 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = broker.transport_options(
    CELERY_BROKER_URL, broker_dir=BROKER_DIR, max_runtime_seconds=AUDIT_MAX_RUNTIME_SECONDS,
    visibility_timeout=envint("CELERY_VISIBILITY_TIMEOUT", 0) or None,
)
# RabbitMQ: durable classic queues by default; CELERY_QUEUE_TYPE=quorum replicates them across
# a cluster (Celery then switches to per-consumer QoS by itself: worker_detect_quorum_queues).
CELERY_QUEUE_TYPE = envstr("CELERY_QUEUE_TYPE", "classic")
CELERY_TASK_QUEUES = broker.task_queues(CELERY_BROKER_URL, queue_type=CELERY_QUEUE_TYPE)
CELERY_WORKER_DETECT_QUORUM_QUEUES = True
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-audit leaves the message for another one
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a worker holds only the audit it runs: an idle GPU node takes the next
CELERY_TASK_DEFAULT_QUEUE = "cpu"
# A run goes to its kind's queue (apply_async(queue=run.queue)); everything else to "cpu".
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = False  # never eager outside tests
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# /metrics (Prometheus): closed unless a scraper presents METRICS_TOKEN as a bearer token or
# connects from one of METRICS_ALLOWED_NETWORKS (CIDRs, matched against the socket's address,
# never a forwarded header). Neither set: every request is refused.
METRICS_TOKEN = envsecret("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = envlist("METRICS_ALLOWED_NETWORKS", [])

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

# Incidents (governance/incidents/). Reporting periods of a serious incident, in days from the
# moment the provider became aware, per jurisdiction and category (death / widespread / other).
# Default: Regulation (EU) 2024/1689 (the EU AI Act), Article 73: 15 days (73(2)); 10 days where
# a person died (73(4)); 2 days for a widespread infringement or a serious disruption of critical
# infrastructure (73(3)). INCIDENT_DEADLINES="eu:other=15,death=10,widespread=2;uk:other=30" adds or changes them.
INCIDENT_DEADLINES = envtable("INCIDENT_DEADLINES", {"eu": {"other": 15, "death": 10, "widespread": 2}})
# Hours before each deadline when the incident's owner and the compliance officers are reminded.
INCIDENT_REMINDER_HOURS = [int(h) for h in envlist("INCIDENT_REMINDER_HOURS", ["48", "24"])]
# An incident opened automatically (drift breach, failed audit of a version allowed in production)
# on a system of these tiers starts as serious ("other"), so its clock runs until a person decides.
INCIDENT_AUTO_SERIOUS_TIERS = envlist("INCIDENT_AUTO_SERIOUS_TIERS", ["high"])
# The public intake (/report/<system>/): the largest request body, and how soon and how late after
# the form was served a submission is taken (a bot posts at once; a stale form is a replay).
PUBLIC_REPORT_MAX_BODY_BYTES = envint("PUBLIC_REPORT_MAX_BODY_BYTES", 16 * 1024)
PUBLIC_REPORT_MIN_SECONDS = envint("PUBLIC_REPORT_MIN_SECONDS", 3)
PUBLIC_REPORT_MAX_AGE_SECONDS = envint("PUBLIC_REPORT_MAX_AGE_SECONDS", 2 * 3600)
# Where an outside report is sent for an answer (the compliance officers always are).
REPORT_CONTACT = envstr("REPORT_CONTACT", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
