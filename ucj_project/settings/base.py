"""Settings shared by every environment. Values that differ between machines come from the
environment (see README "Configuration"); nothing here assumes a single process."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "knox",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    # The shared infrastructure (core.db): the database function its checked writes call.
    "core",
    "access",
    "jobs",
    "villages",
    "enrollment",
    "coverage",
    "portal",
    "integrations",
    "seed",
]

MIDDLEWARE = [
    # The request's context (access.context): what it learns of its caller once, and the
    # RateLimit-* headers on the answers to a caller counted against its rate.
    "access.context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx: whether a portal page was asked for by htmx (to answer with the part it replaces).
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ucj_project.urls"
WSGI_APPLICATION = "ucj_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "ucj_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.capabilities",
            ],
        },
    },
]


# SQLite in the project folder unless DATABASE_URL names another database.
def _database(url: str) -> dict:
    """A database's settings from its URL, as every connection to it is made."""
    database = env.db_url_config(url)
    database["ATOMIC_REQUESTS"] = False
    database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    database["CONN_HEALTH_CHECKS"] = True
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # Wait for a competing writer instead of failing at once with "database is locked".
        database.setdefault("OPTIONS", {})["timeout"] = 20
        database["CONN_MAX_AGE"] = 0
    elif database["ENGINE"] == "django.db.backends.postgresql" and env.bool("UCJ_DB_PREPARED", default=True):
        # Parameters bound by the server, and statements run more than a few times on a connection
        # prepared once: the server then skips planning them (about 1 ms for a few joins, more than
        # running them). Off (UCJ_DB_PREPARED=0) behind a pooler that cannot keep prepared statements.
        database.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    return database


DATABASES = {"default": _database(env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}

# Background jobs (README "Background jobs", docs/jobs.md): django-tasks with its database
# backend, the queue in the database above (SQLite or PostgreSQL); `manage.py run_worker` runs
# them, as many workers as wanted. A job's heartbeat every UCJ_JOB_HEARTBEAT seconds; one silent
# for UCJ_JOB_STALE_AFTER seconds is taken for dead and queued again, at most UCJ_JOB_MAX_ATTEMPTS
# runs in all. UCJ_JOB_SCHEDULES: the jobs the workers enqueue once per period (local time).
TASKS = {"default": {"BACKEND": env.str("UCJ_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")}}
UCJ_JOB_HEARTBEAT = env.float("UCJ_JOB_HEARTBEAT", default=2.0)
UCJ_JOB_STALE_AFTER = env.float("UCJ_JOB_STALE_AFTER", default=120.0)
UCJ_JOB_MAX_ATTEMPTS = env.int("UCJ_JOB_MAX_ATTEMPTS", default=3)
UCJ_JOB_SCHEDULES = {"expire_enrollments": "day", "snapshot_coverage": "day"}
# Imports of a file larger than this from the portal run as a background job, with a progress bar.
UCJ_IMPORT_JOB_BYTES = env.int("UCJ_IMPORT_JOB_BYTES", default=1_000_000)
# Exports from the portal of more rows than this run as a background job, with a progress bar (the
# API's run as one when asked: `background=true`). A job's file is kept this many hours for its
# requester, then deleted by the workers' upkeep.
UCJ_EXPORT_JOB_ROWS = env.int("UCJ_EXPORT_JOB_ROWS", default=20_000)
UCJ_EXPORT_FILE_HOURS = env.float("UCJ_EXPORT_FILE_HOURS", default=24.0)

# A PostgreSQL streaming replica of the primary, for the reads that may go there (core.routing:
# coverage figures and lists, never older than the data version the caller has seen). Without
# one there is no `replica` connection, no router and no middleware: nothing changes.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = _database(DATABASE_REPLICA_URL)
    if {DATABASES["default"]["ENGINE"], DATABASES["replica"]["ENGINE"]} != {"django.db.backends.postgresql"}:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs PostgreSQL, as a streaming replica of DATABASE_URL.")
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)  # out of reach: primary
    DATABASE_ROUTERS = ["core.routing.ReplicaRouter"]
    # Second: the request's routing is open before its token or session is read.
    MIDDLEWARE.insert(1, "core.routing.ReplicaReadsMiddleware")
# Off (0): every read on the primary while a replica stays configured.
UCJ_REPLICA_READS = env.bool("UCJ_REPLICA_READS", default=True)
# A replica found out of reach is not tried again for this long (its reads go to the primary).
UCJ_REPLICA_RETRY_SECONDS = env.float("UCJ_REPLICA_RETRY_SECONDS", default=10.0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every server process (throttle counts, login failures): the database.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "ucj_cache",
    },
    # Computed coverage answers, per server process: each entry is keyed by the data version
    # (coverage.caching), so processes never need to agree on what is stale. Django's
    # local-memory cache, handing back answers kept whole without copying them (core.cache).
    "coverage": {
        "BACKEND": "core.cache.LocalCache",
        "LOCATION": "ucj-coverage",
        "TIMEOUT": env.int("UCJ_COVERAGE_CACHE_SECONDS", default=300),
        "OPTIONS": {"MAX_ENTRIES": env.int("UCJ_COVERAGE_CACHE_ENTRIES", default=2000)},
    },
    # The counts of lists, per server process, keyed by the list's filters, its caller and the
    # data version (core.api.pagination): the pages after a list's first are not counted again.
    "counts": {
        "BACKEND": "core.cache.LocalCache",
        "LOCATION": "ucj-counts",
        "TIMEOUT": env.int("UCJ_LIST_COUNT_CACHE_SECONDS", default=300),
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}

AUTHENTICATION_BACKENDS = ["access.backends.ThrottledModelBackend"]
# Django's database sessions, read in one hand-written statement (with the data version along).
SESSION_ENGINE = "access.sessions"
UCJ_LOGIN_MAX_FAILURES = env.int("UCJ_LOGIN_MAX_FAILURES", default=5)
UCJ_LOGIN_LOCK_SECONDS = env.int("UCJ_LOGIN_LOCK_SECONDS", default=900)

# Hashed, expiring API tokens (django-rest-knox). People get TOKEN_TTL; clients their own.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("UCJ_TOKEN_TTL_HOURS", default=10)),
    "AUTH_HEADER_PREFIX": "Token",
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic gathers the files a production server serves (a throwaway folder for the
# contract check's server: contract/live.py).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))

# Request bodies above this size are refused before they are parsed (413).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)

REST_FRAMEWORK = {
    # Token first: an unauthenticated request gets 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "access.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Last: counts callers none of the above recognised, before permissions refuse them.
        "access.throttling.AnonymousRateLimit",
    ],
    # Deny by default: every view declares what it needs (core.api.permissions, access.api.permissions).
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.DenyAll"],
    "DEFAULT_THROTTLE_CLASSES": [
        "access.throttling.TokenRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("UCJ_RATE_TOKEN", default="600/min"),
        "anon": env.str("UCJ_RATE_ANON", default="60/min"),
        "login": env.str("UCJ_RATE_LOGIN", default="10/min"),
        # Per caller without the personal-data right, per NIK looked up (see README).
        "nik_lookup": env.str("UCJ_RATE_NIK_LOOKUP", default="1000/day"),
    },
    # JSON bodies with a bounded nesting depth (core.api.parsers): too deep is a 400.
    # JSON bodies only (the schema then offers no form or multipart body that a generated client
    # would send and the API refuse); the spreadsheet upload declares its own multipart parser.
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "core.api.ordering.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    # `?format=` that the address does not produce: a 400 naming those it does (DRF: a 404).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.negotiation.ContentNegotiation",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "core.api.browsable.BrowsableAPIRendererWithoutStoredData",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

DRF_STANDARDIZED_ERRORS = {
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "EXCEPTION_HANDLER_CLASS": "core.api.errors.UcjExceptionHandler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "UCJ Desa API",
    "DESCRIPTION": (
        "Village apparatus and their BPJS Ketenagakerjaan (Jamsostek) protection: "
        "regions, workers, enrollment and coverage."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "EnrollmentStatusEnum": "enrollment.choices.EnrollmentStatus",
        "EventKindEnum": "enrollment.choices.EventKind",
        "EventSourceEnum": "enrollment.choices.EventSource",
        "AccessKindEnum": "access.choices.AccessKind",
        "JobStateEnum": "jobs.choices.JobState",
        "CoverageKindEnum": "coverage.choices.CoverageKind",
        "RegencyKindEnum": "villages.choices.RegencyKind",
        "VillageKindEnum": "villages.choices.VillageKind",
    },
    # Request bodies get components of their own (`WorkerWriteRequest`): read-only fields
    # (`id`, `version` of an answer) are then never asked of a generated client.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.postprocess_rate_limit_headers",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# A list counts its rows up to this many; beyond, `count` is null (see core.api.pagination).
UCJ_LIST_COUNT_LIMIT = env.int("UCJ_LIST_COUNT_LIMIT", default=100_000)

# Enrollment rules (days).
UCJ_FUTURE_HORIZON_DAYS = env.int("UCJ_FUTURE_HORIZON_DAYS", default=31)
UCJ_PAID_UNTIL_HORIZON_DAYS = env.int("UCJ_PAID_UNTIL_HORIZON_DAYS", default=400)
UCJ_LAPSE_GRACE_DAYS = env.int("UCJ_LAPSE_GRACE_DAYS", default=0)
# The change feed (/api/v1/changes/) keeps every change: history is never pruned. A number of days
# here makes a cursor older than that answer 410 (for when old history is ever moved elsewhere).
UCJ_CHANGE_FEED_RETENTION_DAYS = env.int("UCJ_CHANGE_FEED_RETENTION_DAYS", default=None)

# Webhooks (/api/v1/subscriptions/, README "Webhooks"): receivers at https addresses on public
# networks only, unless allowed here (plain http; private, loopback, link-local addresses).
UCJ_WEBHOOK_ALLOW_HTTP = env.bool("UCJ_WEBHOOK_ALLOW_HTTP", default=False)
UCJ_WEBHOOK_ALLOW_PRIVATE = env.bool("UCJ_WEBHOOK_ALLOW_PRIVATE", default=False)
# The CloudEvents `source` of every delivery: a URI naming this service (its address).
UCJ_WEBHOOK_SOURCE = env.str("UCJ_WEBHOOK_SOURCE", default="urn:ucj-desa")
# Seconds a receiver has to answer; retries after UCJ_WEBHOOK_BACKOFF seconds doubled each failure
# (at most UCJ_WEBHOOK_BACKOFF_MAX, plus up to a tenth of jitter); disabled once at least
# UCJ_WEBHOOK_DISABLE_AFTER_ATTEMPTS attempts in a row failed over at least ..._HOURS hours.
UCJ_WEBHOOK_TIMEOUT = env.float("UCJ_WEBHOOK_TIMEOUT", default=10.0)
UCJ_WEBHOOK_BACKOFF = env.float("UCJ_WEBHOOK_BACKOFF", default=10.0)
UCJ_WEBHOOK_BACKOFF_MAX = env.float("UCJ_WEBHOOK_BACKOFF_MAX", default=3600.0)
UCJ_WEBHOOK_DISABLE_AFTER_ATTEMPTS = env.int("UCJ_WEBHOOK_DISABLE_AFTER_ATTEMPTS", default=8)
UCJ_WEBHOOK_DISABLE_AFTER_HOURS = env.float("UCJ_WEBHOOK_DISABLE_AFTER_HOURS", default=24.0)
# After a rotation the previous secret signs too (a second signature) for this long.
UCJ_WEBHOOK_SECRET_GRACE_HOURS = env.float("UCJ_WEBHOOK_SECRET_GRACE_HOURS", default=24.0)
# Every worker looks for subscriptions with changes to deliver this often (run_worker); a run reads
# the feed UCJ_WEBHOOK_BATCH changes at a time. The delivery log is kept UCJ_WEBHOOK_LOG_DAYS days.
UCJ_WEBHOOK_POLL_SECONDS = env.float("UCJ_WEBHOOK_POLL_SECONDS", default=1.0)
UCJ_WEBHOOK_BATCH = env.int("UCJ_WEBHOOK_BATCH", default=100)
UCJ_WEBHOOK_LOG_DAYS = env.int("UCJ_WEBHOOK_LOG_DAYS", default=30)

# Spreadsheet imports: largest upload (413 beyond), most rows, most bytes a workbook may unpack to.
UCJ_IMPORT_MAX_BYTES = env.int("UCJ_IMPORT_MAX_BYTES", default=30 * 1024 * 1024)
UCJ_IMPORT_MAX_ROWS = env.int("UCJ_IMPORT_MAX_ROWS", default=100_000)
# A BPJS extract for a reconciliation: a branch's or a province's whole membership list.
UCJ_RECONCILE_MAX_BYTES = env.int("UCJ_RECONCILE_MAX_BYTES", default=100 * 1024 * 1024)
UCJ_RECONCILE_MAX_ROWS = env.int("UCJ_RECONCILE_MAX_ROWS", default=600_000)
UCJ_IMPORT_MAX_UNPACKED_BYTES = env.int("UCJ_IMPORT_MAX_UNPACKED_BYTES", default=400 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# The portal (portal/): its login page, and where a login leads.
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
