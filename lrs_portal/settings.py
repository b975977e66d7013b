"""LRS Portal settings: one module, every difference between environments an env var.

Each variable is documented in docs/configuration.md. A missing or malformed
variable stops start-up with one line naming it (see ``_fail``).
"""

import logging
import os
import sys
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from lrs_portal.email_kinds import EMAIL_KINDS
from lrs_portal.logs import structured_logging
from lrs_portal.working_days import ENGLAND_AND_WALES_BANK_HOLIDAYS, parse_holidays

# Lets typed generics such as forms.ModelForm[Model] work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _fail(name: str, problem: str) -> None:
    # One line, naming the variable; SystemExit stops manage.py, gunicorn and celery.
    sys.exit(f"Configuration error: {name} {problem}. See docs/configuration.md.")


def _raw(name: str) -> str | None:
    """The variable's value, or None when unset or empty (empty means "use default")."""
    raw = os.environ.get(name)
    return None if raw is None or raw.strip() == "" else raw


def env_bool(name: str, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    _fail(name, f"must be true or false, not {raw!r}")
    return default  # unreachable


def env_clock(name: str, default: str) -> "time":
    """A time of day written HH:MM."""
    raw = _raw(name) or default
    try:
        return time.fromisoformat(raw.strip())
    except ValueError:
        _fail(name, f"must be a time of day like 06:00, not {raw!r}")
    return time(6)  # unreachable


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        _fail(name, f"must be a whole number, not {raw!r}")
        raise
    if value < minimum:
        _fail(name, f"must be at least {minimum}")
    return value


def env_str(
    name: str, default: str | None = None, choices: set[str] | None = None
) -> str:
    raw = _raw(name)
    if raw is None:
        if default is None:
            _fail(name, "is missing")
            raise AssertionError  # unreachable
        return default
    value = raw.strip()
    if choices is not None and value not in choices:
        _fail(name, f"must be one of {', '.join(sorted(choices))}, not {value!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = _raw(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url_config(name: str, default: str, parser: Any) -> dict[str, Any]:
    raw = _raw(name) or default
    try:
        config: dict[str, Any] = parser(raw)
    except (ImproperlyConfigured, ValueError, KeyError) as exc:
        _fail(name, f"is not a usable URL ({exc.__class__.__name__})")
        raise
    return config


# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DEBUG", default=False)
# In DEBUG only, a fixed development key; with DEBUG off the variable is required.
SECRET_KEY = env_str(
    "SECRET_KEY", default="django-insecure-dev-only" if DEBUG else None
)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])
# The service's public address, for links in emails (signing links, invitations).
SERVICE_URL = env_str("SERVICE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Where people send feedback and ask for help: the phase banner, /contact, the
# suspension page and the error pages name it. The default is the demo's (a
# reserved example domain); set the real support mailbox in production.
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", default="lrs-portal-support@example.com")

INSTALLED_APPS = [
    "lrs_portal.apps.LrsAdminConfig",  # django.contrib.admin with our OTP-only site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.sessions",  # for clearsessions; our engine is lrs_portal.sessions
    "django.contrib.staticfiles",
    "whitenoise.runserver_nostatic",
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "two_factor",
    "axes",
    "guardian",
    "simple_history",
    "import_export",
    "csp",
    "crispy_forms",
    "crispy_forms_gds",
    "django_structlog",
    # Before our apps, so that registration.admin can unregister its admin pages.
    "oauth2_provider",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "lrs_portal",
    "registration",
    "records",
    "approvals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # CSP before the control-character check, so its 400 page has the headers
    # and nonce of every page; the check before sessions, so a hostile cookie is
    # never looked up (docs/decisions/0018).
    "csp.middleware.CSPMiddleware",
    "lrs_portal.hostile_input.ControlCharacterMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # English or Welsh, from the choice remembered in LANGUAGE_COOKIE_NAME, else
    # the browser's Accept-Language (docs/decisions/0034).
    "lrs_portal.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # The language switcher's post, once the CSRF check has passed (decision 34).
    "lrs_portal.middleware.LanguageSwitchMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lrs_portal.middleware.MethodNotAllowedPageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "lrs_portal.middleware.RequireMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "lrs_portal.middleware.AdminAddOnStylesMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "lrs_portal.middleware.RequestIdHeaderMiddleware",
    # Inside the request id and CSP middleware, so its 503 page has both headers.
    "lrs_portal.middleware.DatabaseUnavailableMiddleware",
    # AxesMiddleware last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lrs_portal.urls"
WSGI_APPLICATION = "lrs_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lrs_portal.context_processors.service",
            ],
        },
    },
]

# --- Database and cache -----------------------------------------------------

# SQLite in the git-ignored var/ folder by default; PostgreSQL in CI and production.
DATABASES = {
    "default": env_url_config(
        "DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        parser=environ.Env.db_url_config,
    )
}
if DATABASES["default"].get("ENGINE") not in {
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
}:
    _fail("DATABASE_URL", "must be a sqlite:/// or postgres:// URL")
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Fail fast when PostgreSQL is unreachable (health checks, requests, jobs).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# The longest any one statement of a web request may run, in milliseconds (0: no
# limit). Set by the WSGI entry point on each of its connections (lrs_portal.pg);
# a cancelled statement answers a 503 page. Also bounds a lookup's wait for its
# organisation's caps lock. Workers and commands have no such limit (decision 26).
DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", default=5000)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": env_url_config(
        "CACHE_URL", default="locmemcache://", parser=environ.Env.cache_url_config
    )
}
# Seconds any Redis client (the cache, the broker's) waits to connect and for
# each answer: a hung Redis must never hang a request.
REDIS_SOCKET_TIMEOUT_SECONDS = env_int(
    "REDIS_SOCKET_TIMEOUT_SECONDS", default=2, minimum=1
)
REDIS_CACHE_OPTIONS: dict[str, Any] = {
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
    "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"].setdefault("OPTIONS", {}).update(REDIS_CACHE_OPTIONS)

# /healthz: how long each Redis check (cache, broker) may wait to connect and to
# get an answer. Both down and hung, the page still answers within 500 ms.
HEALTH_CHECK_TIMEOUT_SECONDS = 0.2

# --- Users, sign-in and sessions --------------------------------------------

AUTH_USER_MODEL = "lrs_portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "two_factor:login"
LOGIN_REDIRECT_URL = "lrs_portal:account"
LOGOUT_REDIRECT_URL = "lrs_portal:signed-out"
PASSWORD_RESET_TIMEOUT = 60 * 60  # one hour

# Database-backed sessions with the user id stored beside each one, so that a
# suspension can end every live session of a user (architecture.md rule 5).
SESSION_ENGINE = "lrs_portal.sessions"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", default=4 * 60 * 60, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# Signed-in pages warn this long before the session ends, with a "Stay signed in"
# button (lrs_portal/static/lrs_portal/timeout-warning.js, decision 0027).
SESSION_TIMEOUT_WARNING_SECONDS = env_int(
    "SESSION_TIMEOUT_WARNING_SECONDS", default=120, minimum=30
)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "lrs_portal.views.csrf_failure"

# django-axes: lock the user-and-address combination (not the address alone,
# which would let one attacker lock out a whole college behind one NAT).
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=5, minimum=1)
AXES_COOLOFF_TIME = timedelta(
    minutes=env_int("AXES_COOLOFF_MINUTES", default=15, minimum=1)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Axes would otherwise log the typed username (an email address): personal data.
AXES_CLIENT_STR_CALLABLE = "lrs_portal.security.axes_client_str"
AXES_USERNAME_CALLABLE = "lrs_portal.security.axes_username"
# Behind N trusted proxies the client address is taken from X-Forwarded-For
# (lrs_portal.security.client_ip); with 0, from the connection.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "lrs_portal.security.client_ip"

# django-otp / two-factor-auth: MFA for staff and department roles.
OTP_TOTP_ISSUER = "LRS Portal"
TWO_FACTOR_REMEMBER_COOKIE_AGE = None
TWO_FACTOR_LOGIN_TIMEOUT = 600

# django-guardian: no anonymous user row; object permissions only for signed-in users.
# https://django-guardian.readthedocs.io/en/stable/configuration.html
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False

# django-simple-history: every tracked change records who (request user, or the
# acting user a service sets) and why, in full.
# https://django-simple-history.readthedocs.io/en/latest/historical_model.html
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# "Revert" would save a whole old row, status and privilege flags included.
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Security headers -------------------------------------------------------

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
if env_bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# django-csp 4: nonces for the two GOV.UK Frontend scripts, nothing inline otherwise.
# https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Static files, media, forms ---------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
# GOV.UK Frontend compiled by `npm run build` (frontend/build is git-ignored).
STATICFILES_DIRS = [BASE_DIR / "frontend" / "build"]
# Uploaded evidence lives outside the web root and is never served directly.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

LANGUAGE_CODE = "en-gb"
# The public and provider pages in English and Welsh (docs/decisions/0034); the
# casework admin is English only. Catalogue: locale/cy/LC_MESSAGES/django.po,
# compiled by `make setup` (lrs_portal.catalogues).
LANGUAGES = [("en-gb", "English"), ("cy", "Cymraeg")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Set only when a person chooses a language with the switcher: remembering a
# choice they made is strictly necessary (ICO, PECR regulation 6(4)).
LANGUAGE_COOKIE_NAME = "lrs_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Dates as GOV.UK writes them ("6 December 2026, 18:52"): lrs_portal/formats.
FORMAT_MODULE_PATH = ["lrs_portal.formats"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Email ------------------------------------------------------------------

vars().update(
    env_url_config(
        "EMAIL_URL", default="consolemail://", parser=environ.Env.email_url_config
    )
)
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", default="LRS Portal <no-reply@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

# --- Celery -----------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# No CELERY_BROKER_URL: no broker. Jobs run from their management commands and
# anything enqueued runs in-process, so the demo needs no Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", default="") or "memory://"
BROKER_CONFIGURED = CELERY_BROKER_URL != "memory://"
if BROKER_CONFIGURED and not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    _fail("CELERY_BROKER_URL", "must be a redis:// or rediss:// URL")
# Without a broker, enqueued work runs in-process (the demo). Tests set this to
# false so that nothing runs unless a test runs it.
CELERY_TASK_ALWAYS_EAGER = env_bool(
    "CELERY_TASK_ALWAYS_EAGER", default=not BROKER_CONFIGURED
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Europe/London"
CELERY_ENABLE_UTC = True
# Socket timeouts so that a hung Redis can never hang a web request that enqueues.
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The longest any task may run (its hard time limit; reverify_organisations has
# the longest), and Redis's visibility timeout, set together from it: an
# unacknowledged task is delivered again only after the visibility timeout, so it
# must exceed every time limit, or a second worker would start a task the first
# is still running. A worker killed mid-job is noticed long before that by its
# run's heartbeat (JOB_HEARTBEAT_*), and jobs_watch runs the job again.
JOB_LONGEST_RUN_MINUTES = env_int("JOB_LONGEST_RUN_MINUTES", default=115, minimum=70)
BROKER_VISIBILITY_MARGIN_MINUTES = 5
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
    "retry_on_timeout": False,
    "max_retries": 1,
    "visibility_timeout": (JOB_LONGEST_RUN_MINUTES + BROKER_VISIBILITY_MARGIN_MINUTES)
    * 60,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Long, idempotent jobs: acknowledge after the work, redeliver if a worker dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 60
CELERY_TASK_TIME_LIMIT = 60 * 60 + 5 * 60
# A task cut off by a lost broker connection is redelivered (acks_late) rather than
# left running unacknowledged.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep our JSON logging in workers
CELERY_BEAT_SCHEDULE_FILENAME = env_str(
    "CELERY_BEAT_SCHEDULE_FILENAME",
    default=str(BASE_DIR / "var" / "celerybeat-schedule"),
)
# The schedule lives here, reviewed like code; later issues add the nightly jobs.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Re-send emails left queued by a broker outage or a crashed worker: every
    # 10 minutes (https://crontab.guru/#*/10_*_*_*_*).
    "notifications-retry-queued": {
        "task": "lrs_portal.tasks.notification_retry_queued_task",
        "schedule": crontab(minute="*/10"),
    },
    # Delete expired sessions: daily at 03:15 (https://crontab.guru/#15_3_*_*_*).
    "sessions-clear-expired": {
        "task": "lrs_portal.tasks.sessions_clear_expired_task",
        "schedule": crontab(hour=3, minute=15),
    },
    # Data shares: reminders 30 and 7 days before the end date, closing ended
    # shares, overdue destruction certificates: daily at 03:45
    # (https://crontab.guru/#45_3_*_*_*).
    "approvals-shares-nightly": {
        "task": "approvals.tasks.shares_nightly_task",
        "schedule": crontab(hour=3, minute=45),
    },
}

# --- Nightly jobs ------------------------------------------------------------
# Each runs under an advisory lock and records a JobRun (lrs_portal.jobs); the
# times are UK local time (CELERY_TIMEZONE). Runbook: docs/runbooks/worker-and-beat.md.
CELERY_BEAT_SCHEDULE.update(
    {
        # Create the learner view log's partitions ahead, drop those past
        # retention: 01:05 (https://crontab.guru/#5_1_*_*_*).
        "records-maintain-partitions": {
            "task": "records.tasks.maintain_partitions_task",
            "schedule": crontab(hour=1, minute=5),
        },
        # Audit yesterday's (UTC) usage, catching up missed days: 01:30.
        "records-audit-usage": {
            "task": "records.tasks.audit_usage_task",
            "schedule": crontab(hour=1, minute=30),
        },
        # Re-read Companies House and the ICO register: 02:30.
        "registration-reverify-organisations": {
            "task": "registration.tasks.reverify_organisations_task",
            "schedule": crontab(hour=2, minute=30),
        },
        # The deregistration ladder: 04:00.
        "registration-housekeeping": {
            "task": "registration.tasks.housekeeping_task",
            "schedule": crontab(hour=4, minute=0),
        },
        # Compare the database's change trail with the history: 04:30.
        "lrs-portal-audit-trail": {
            "task": "lrs_portal.tasks.trail_audit_task",
            "schedule": crontab(hour=4, minute=30),
        },
        # Re-run a job whose worker died; tell caseworkers of a nightly job not
        # done by JOB_DEADLINE: every 5 minutes (https://crontab.guru/#*/5_*_*_*_*).
        "lrs-portal-jobs-watch": {
            "task": "lrs_portal.tasks.jobs_watch_task",
            "schedule": crontab(minute="*/5"),
        },
    }
)
# The DSAP secretariat (decision 17): reminders to assessors whose assessment is
# overdue, to members who have not voted before a meeting, researchers'
# accreditation ending mid-share, annual reviews: daily at 07:30
# (https://crontab.guru/#30_7_*_*_*), in working hours so emails land then.
CELERY_BEAT_SCHEDULE["approvals-secretariat-daily"] = {
    "task": "approvals.tasks.secretariat_daily_task",
    "schedule": crontab(hour=7, minute=30),
}
# Time targets, in calendar days (not working days). A request in a
# stage longer than its target shows as overdue in the admin queue and on the
# DSAP dashboard; an assessor past the assessment target is reminded once.
DSAP_STAGE_TARGET_DAYS = {
    "submitted": env_int("DSAP_TARGET_TRIAGE_DAYS", default=5, minimum=1),
    "returned": env_int("DSAP_TARGET_RETURNED_DAYS", default=30, minimum=1),
    "assessment": env_int("DSAP_TARGET_ASSESSMENT_DAYS", default=15, minimum=1),
    "panel": env_int("DSAP_TARGET_PANEL_DAYS", default=30, minimum=1),
    "deferred": env_int("DSAP_TARGET_DEFERRED_DAYS", default=30, minimum=1),
    "approved": env_int("DSAP_TARGET_RELEASE_DAYS", default=20, minimum=1),
    "approved_with_conditions": env_int(
        "DSAP_TARGET_RELEASE_DAYS", default=20, minimum=1
    ),
}
# Members who have not voted are reminded this many days before the meeting.
DSAP_VOTE_REMINDER_DAYS = env_int("DSAP_VOTE_REMINDER_DAYS", default=3, minimum=1)
# Researchers' accreditation ending during a share: warned this many days ahead.
DSAP_ACCREDITATION_WARNING_DAYS = env_int(
    "DSAP_ACCREDITATION_WARNING_DAYS", default=30, minimum=1
)
# Case file attachments (PDF only): the largest accepted, in megabytes.
DSAP_ATTACHMENT_MAX_MB = env_int("DSAP_ATTACHMENT_MAX_MB", default=10, minimum=1)

# maintain_partitions creates and drops tables, which only the log's owner role
# may do: it goes to its own queue, consumed by one worker that connects as the
# owner (docs/runbooks/worker-and-beat.md). Every other task uses "celery".
CELERY_TASK_ROUTES = {
    "records.tasks.maintain_partitions_task": {"queue": "maintenance"},
}
# The nightly jobs, by the name their JobRun rows carry, and the task that runs
# each: jobs_watch queues a job again when its run died, and tells caseworkers
# when one has not succeeded by JOB_DEADLINE (UK time, HH:MM).
NIGHTLY_JOBS = {
    "maintain_partitions": "records.tasks.maintain_partitions_task",
    "audit_usage": "records.tasks.audit_usage_task",
    "reverify_organisations": "registration.tasks.reverify_organisations_task",
    "data_shares_nightly": "approvals.tasks.shares_nightly_task",
    "housekeeping": "registration.tasks.housekeeping_task",
    "audit_trail": "lrs_portal.tasks.trail_audit_task",
}
JOB_DEADLINE = env_clock("JOB_DEADLINE", default="06:00")
# A running job renews its heartbeat this often; a run whose heartbeat is older
# than the stale limit, with its lock free, died with its worker.
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", default=30, minimum=1)
JOB_HEARTBEAT_STALE_SECONDS = env_int(
    "JOB_HEARTBEAT_STALE_SECONDS", default=150, minimum=2
)
if JOB_HEARTBEAT_STALE_SECONDS <= 2 * JOB_HEARTBEAT_SECONDS:
    _fail(
        "JOB_HEARTBEAT_STALE_SECONDS", "must be more than twice JOB_HEARTBEAT_SECONDS"
    )
# The nightly trail audit: a change on the change trail matches a history row
# (or an admin log entry) written within this many seconds of it.
TRAIL_MATCH_SECONDS = env_int("TRAIL_MATCH_SECONDS", default=120, minimum=1)
# The usage audit: lookups before or after these local hours count as night-time.
AUDIT_WORKING_HOURS = (
    env_int("AUDIT_WORKING_HOURS_START", default=7, minimum=0),
    env_int("AUDIT_WORKING_HOURS_END", default=20, minimum=1),
)
if not AUDIT_WORKING_HOURS[0] < AUDIT_WORKING_HOURS[1] <= 24:
    _fail("AUDIT_WORKING_HOURS_END", "must be after the start and at most 24")
# A user's baseline is their mean daily searches over this many earlier days,
# on days they were active, once there are at least the minimum of them.
AUDIT_BASELINE_DAYS = env_int("AUDIT_BASELINE_DAYS", default=28, minimum=7)
AUDIT_BASELINE_MINIMUM_DAYS = env_int(
    "AUDIT_BASELINE_MINIMUM_DAYS", default=5, minimum=1
)
# The purpose rules (issue 13, decision 25): an organisation's profile over the
# last this many days (today included); "near" is within this many km of its
# registered address; a share this many percentage points beyond what the
# organisation's own history or declaration implies is "far above" it; and a
# pattern a caseworker marked a false positive alerts again only once its figure
# moves this many points further.
AUDIT_PURPOSE_WINDOW_DAYS = env_int("AUDIT_PURPOSE_WINDOW_DAYS", default=5, minimum=1)
AUDIT_NEAR_KM = env_int("AUDIT_NEAR_KM", default=50, minimum=1)
AUDIT_PURPOSE_MARGIN_PERCENT = env_int(
    "AUDIT_PURPOSE_MARGIN_PERCENT", default=30, minimum=1
)
AUDIT_ACCEPTED_CHANGE_PERCENT = env_int(
    "AUDIT_ACCEPTED_CHANGE_PERCENT", default=10, minimum=1
)
# How many missed days one run catches up, at most.
AUDIT_CATCH_UP_DAYS = env_int("AUDIT_CATCH_UP_DAYS", default=31, minimum=1)
# The deregistration ladder (registration.services.housekeeping): an organisation
# suspended this long without a decision is deregistered; an ICO registration
# lapsed this long suspends it; nobody signing in or searching for this many
# months brings a warning, and deregistration this many days after it; an
# account not used for this many days is closed.
HOUSEKEEPING_SUSPENDED_DAYS = env_int(
    "HOUSEKEEPING_SUSPENDED_DAYS", default=60, minimum=1
)
HOUSEKEEPING_ICO_GRACE_DAYS = env_int(
    "HOUSEKEEPING_ICO_GRACE_DAYS", default=30, minimum=0
)
HOUSEKEEPING_DORMANT_MONTHS = env_int(
    "HOUSEKEEPING_DORMANT_MONTHS", default=12, minimum=1
)
HOUSEKEEPING_DORMANT_GRACE_DAYS = env_int(
    "HOUSEKEEPING_DORMANT_GRACE_DAYS", default=30, minimum=1
)
HOUSEKEEPING_UNUSED_ACCOUNT_DAYS = env_int(
    "HOUSEKEEPING_UNUSED_ACCOUNT_DAYS", default=90, minimum=1
)
HOUSEKEEPING_UNUSED_ACCOUNT_WARNING_DAYS = env_int(
    "HOUSEKEEPING_UNUSED_ACCOUNT_WARNING_DAYS", default=14, minimum=0
)

# --- Recertification (decision 0029) -------------------------------------------
# Each quarter every organisation's super users confirm each of their users still
# needs LRS access; users not confirmed within this many days cannot look up
# learners until they are. The daily job opens the quarter's campaigns on its
# first run in the quarter and tells those who lost access.
RECERTIFICATION_DAYS = env_int("RECERTIFICATION_DAYS", default=14, minimum=1)
CELERY_BEAT_SCHEDULE["recertification-daily"] = {
    # 06:20 every day (https://crontab.guru/#20_6_*_*_*): a quarter's campaigns
    # open on its first day, or the first day the job runs after it.
    "task": "registration.tasks.recertification_task",
    "schedule": crontab(hour=6, minute=20),
}

# --- Yearly confirmation of registration (decision 0031) ------------------------
# Each year every registered organisation's super user confirms its registration:
# asked this many days before the anniversary of its registration (the day it is
# due), reminded 7 days before and on the day, and 7 days before the end of the
# grace; housekeeping suspends it this many days after the day it was due.
YEARLY_CONFIRMATION_NOTICE_DAYS = env_int(
    "YEARLY_CONFIRMATION_NOTICE_DAYS", default=30, minimum=1
)
YEARLY_CONFIRMATION_GRACE_DAYS = env_int(
    "YEARLY_CONFIRMATION_GRACE_DAYS", default=30, minimum=1
)
CELERY_BEAT_SCHEDULE["yearly-confirmation-daily"] = {
    # 06:30 every day (https://crontab.guru/#30_6_*_*_*): opens the year's
    # confirmations as their anniversaries come near and sends the reminders.
    "task": "registration.tasks.yearly_confirmation_task",
    "schedule": crontab(hour=6, minute=30),
}

# --- Reminders (decision 0032) --------------------------------------------------
# The daily reminders job (registration.services.reminders) emails, once each:
# an applicant whose draft application has not changed for the first and again
# for the last of these many days; an applicant who has not answered a request
# for information for this many days; the director and the applicant when the
# director's signing link expires within this many days; a registered
# organisation's director and super users this many days (each, once) before a
# new agreement version's re-sign deadline, while they have not signed it.
APPLICATION_DRAFT_REMINDER_DAYS = (
    env_int("APPLICATION_DRAFT_FIRST_REMINDER_DAYS", default=7, minimum=1),
    env_int("APPLICATION_DRAFT_LAST_REMINDER_DAYS", default=21, minimum=1),
)
if APPLICATION_DRAFT_REMINDER_DAYS[0] >= APPLICATION_DRAFT_REMINDER_DAYS[1]:
    _fail(
        "APPLICATION_DRAFT_LAST_REMINDER_DAYS",
        "must be more than APPLICATION_DRAFT_FIRST_REMINDER_DAYS",
    )
APPLICATION_INFORMATION_REMINDER_DAYS = env_int(
    "APPLICATION_INFORMATION_REMINDER_DAYS", default=14, minimum=1
)
SIGNING_LINK_REMINDER_DAYS = env_int("SIGNING_LINK_REMINDER_DAYS", default=3, minimum=1)
AGREEMENT_RESIGN_REMINDER_DAYS = (
    env_int("AGREEMENT_RESIGN_FIRST_REMINDER_DAYS", default=14, minimum=1),
    env_int("AGREEMENT_RESIGN_LAST_REMINDER_DAYS", default=3, minimum=0),
)
# Caseworkers are told of each open subject access request this many days before
# its statutory deadline, and again once it is past (records.subject_access).
SUBJECT_ACCESS_REMINDER_DAYS = env_int("SUBJECT_ACCESS_REMINDER_DAYS", default=7)
CELERY_BEAT_SCHEDULE["subject-access-daily"] = {
    # 07:45 every day (https://crontab.guru/#45_7_*_*_*), in working hours.
    "task": "records.tasks.subject_access_reminders_task",
    "schedule": crontab(hour=7, minute=45),
}
CELERY_BEAT_SCHEDULE["reminders-daily"] = {
    # 07:40 every day (https://crontab.guru/#40_7_*_*_*), in working hours so the
    # emails land then; a day the beat misses is caught up the next day.
    "task": "registration.tasks.reminders_task",
    "schedule": crontab(hour=7, minute=40),
}

# --- Service levels on caseworkers' queues (decision 0032) ---------------------
# Each queue's items show their age in working days (Monday to Friday, less the
# bank holidays of England and Wales) against its service level; those past it
# are marked overdue and counted on the admin home. Applications count from their
# (latest) submission, suspension cases from opening, data share requests from
# entering the stage they wait in.
SERVICE_LEVEL_WORKING_DAYS = {
    "applications": env_int("SERVICE_LEVEL_APPLICATION_DAYS", default=10, minimum=1),
    "suspensions": env_int("SERVICE_LEVEL_SUSPENSION_DAYS", default=5, minimum=1),
    "data_share_requests": env_int(
        "SERVICE_LEVEL_DATA_SHARE_REQUEST_DAYS", default=20, minimum=1
    ),
}
# lrs_portal/working_days.py's list (gov.uk/bank-holidays), unless BANK_HOLIDAYS
# gives every date itself: comma-separated ISO dates.
try:
    BANK_HOLIDAYS = parse_holidays(env_str("BANK_HOLIDAYS", default="")) or (
        ENGLAND_AND_WALES_BANK_HOLIDAYS
    )
except ValueError:
    _fail("BANK_HOLIDAYS", "must be ISO dates (YYYY-MM-DD), comma separated")

# --- Learner lookups: real-time caps --------------------------------------------
# A user may search this many times in any hour; an organisation, on one (UTC)
# day, this multiple of its expected daily volume (declared learners per year
# over the working days), and never fewer than the minimum.
LOOKUP_USER_HOURLY_CAP = env_int("LOOKUP_USER_HOURLY_CAP", default=60, minimum=1)
LOOKUP_ORG_DAILY_MULTIPLIER = env_int(
    "LOOKUP_ORG_DAILY_MULTIPLIER", default=3, minimum=1
)
LOOKUP_ORG_DAILY_MINIMUM = env_int("LOOKUP_ORG_DAILY_MINIMUM", default=20, minimum=1)
LOOKUP_WORKING_DAYS = 200
# Batch matching (docs/batches.md): rows searched per transaction, the queue its
# task goes to, and how long a finished batch's rows and results are kept.
BATCH_CHUNK_ROWS = env_int("BATCH_CHUNK_ROWS", default=500, minimum=1)
BATCH_QUEUE = env_str("BATCH_QUEUE", default="celery")
BATCH_RESULTS_DAYS = env_int("BATCH_RESULTS_DAYS", default=30, minimum=1)
# Steps other apps add to the nightly housekeeping job (registration imports no
# app above it): each a function of ``now`` yielding housekeeping Actions.
HOUSEKEEPING_PLANS = ["records.batch_housekeeping.batch_housekeeping_plan"]

# --- API clients: OAuth 2.0 client credentials (django-oauth-toolkit) --------
# Only the token endpoint is mounted (POST /api/v1/token); each client is a
# registration.ApiClient (docs/decisions/0020-api-clients-and-tokens.md).
# https://django-oauth-toolkit.readthedocs.io/en/latest/settings.html
OAUTH2_PROVIDER = {
    # A bearer token lives at most an hour; client credentials get no refresh token.
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    # Accepts a rotated secret within its grace, refuses revoked and expired
    # clients and addresses outside the client's ranges, Basic auth only.
    "OAUTH2_VALIDATOR_CLASS": "registration.oauth.ApiClientOAuth2Validator",
    "SCOPES": {"lrs": "Search the Learning Records Service"},
    "DEFAULT_SCOPES": ["lrs"],
    # Keep only the token's SHA-256 at rest, never the reusable token (RFC 9700).
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    # Client credentials only: no authorisation codes, redirects or refresh
    # tokens are ever issued, so the strict forms of these cost nothing.
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# DOT's models are swappable; naming the default lets our models refer to it.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# How often at most an API client's "last used" time is written.
API_CLIENT_LAST_USED_EVERY = timedelta(minutes=1)
# Days before a client's expiry its super user and member are reminded (once each).
API_CLIENT_REMINDER_DAYS = (30, 7)
# --- The provider web service (/api/v1/, docs/api.md, decision 21) ----------
# Django REST framework: JSON in and out, no browsable API and no session or
# basic authentication (a provider system holds only an OAuth client's token),
# every refusal a problem document (records.api.problems).
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # The API client's bearer token from POST /api/v1/token (decision 20).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "records.api.authentication.ApiClientAuthentication"
    ],
    # Every operation needs a caller authenticated by an API client; no token
    # is a 401 saying how to get one (the schema and its docs are AllowAny).
    "DEFAULT_PERMISSION_CLASSES": ["records.api.authentication.ApiClientRequired"],
    "DEFAULT_THROTTLE_CLASSES": ["records.api.throttles.ApiClientRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "records.api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "UNAUTHENTICATED_TOKEN": None,
    # Answers are chosen by the Accept header alone: nothing in an address.
    "URL_FORMAT_OVERRIDE": None,
}
# Requests a second one API client may make, counted in the cache (Redis in
# production, shared by every gunicorn worker); more answer 429 with Retry-After.
API_RATE_LIMIT_PER_SECOND = env_int("API_RATE_LIMIT_PER_SECOND", default=10, minimum=1)
# drf-spectacular: the OpenAPI 3 document at /api/v1/schema and Swagger UI at
# /api/v1/docs, its files from drf-spectacular-sidecar (our own static files).
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "LRS Portal learner web service",
    "DESCRIPTION": "Find learners and read their learning events from a provider's "
    "management information system. Every call goes through the same checks, "
    "caps and log as the portal's pages. See docs/api.md.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    # Two answers carry the LRS's search codes (a search's, a batch row's).
    "ENUM_NAME_OVERRIDES": {
        "SearchCodeEnum": "records.api.serializers.SEARCH_CODES",
        "LearningEventCodeEnum": "records.api.serializers.LEARNING_EVENT_CODES",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"supportedSubmitMethods": []},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "records.api.schema.finish_schema",
    ],
}

# --- Logging ----------------------------------------------------------------
# Structured logs with a request id (django-structlog); no personal data.
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
# One line a request: request_finished (with the user agent, lrs_portal.logs.
# user_agent_log). request_started only at LOG_LEVEL=DEBUG (issue 21: formatting
# two JSON lines a request was the request log's main cost).
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
DJANGO_STRUCTLOG_CELERY_ENABLED = True
LOG_LEVEL = env_str(
    "LOG_LEVEL", default="INFO", choices={"DEBUG", "INFO", "WARNING", "ERROR"}
)
LOG_FORMAT = env_str(
    "LOG_FORMAT", default="console" if DEBUG else "json", choices={"json", "console"}
)

LOGGING = structured_logging(level=LOG_LEVEL, json=LOG_FORMAT == "json")

# --- Companies House and ICO register ---
# https://developer.company-information.service.gov.uk/ (domain.md 4.2)
# The REST API key (sent as the basic-auth username). Empty: no API calls; company
# checks read recorded responses from COMPANIES_HOUSE_FIXTURES (development, demo).
COMPANIES_HOUSE_API_KEY = env_str("COMPANIES_HOUSE_API_KEY", default="")
COMPANIES_HOUSE_API_URL = env_str(
    "COMPANIES_HOUSE_API_URL", default="https://api.company-information.service.gov.uk"
)
if not COMPANIES_HOUSE_API_URL.startswith("https://"):
    _fail("COMPANIES_HOUSE_API_URL", "must be an https:// URL (it is sent the API key)")
# Offline answers: company/<number>.json (profile), company/<number>/officers.json.
COMPANIES_HOUSE_FIXTURES = env_str(
    "COMPANIES_HOUSE_FIXTURES",
    default=str(BASE_DIR / "registration" / "fixtures" / "companies_house"),
)
# The longest Retry-After (seconds) worth waiting for on a 429 or 503; a longer one
# gives up at once ("try again later") rather than hold a web request or worker.
COMPANIES_HOUSE_MAX_RETRY_AFTER = env_int("COMPANIES_HOUSE_MAX_RETRY_AFTER", default=10)
# Companies House allows 600 requests in any 5 minutes per key (domain.md 4.2); the
# nightly re-verification keeps within this many requests per this many seconds.
COMPANIES_HOUSE_RATE_LIMIT = env_int(
    "COMPANIES_HOUSE_RATE_LIMIT", default=600, minimum=1
)
COMPANIES_HOUSE_RATE_PERIOD_SECONDS = env_int(
    "COMPANIES_HOUSE_RATE_PERIOD_SECONDS", default=300, minimum=1
)
# reverify_organisations stops after this long (its task's time limits are just
# above it, below the broker's visibility timeout); the next run carries on with
# the organisations read longest ago. At 600 requests in 5 minutes and two an
# organisation, 100 minutes covers about 6,000 organisations.
REVERIFY_TIME_BUDGET_MINUTES = env_int(
    "REVERIFY_TIME_BUDGET_MINUTES", default=100, minimum=1
)
if REVERIFY_TIME_BUDGET_MINUTES > JOB_LONGEST_RUN_MINUTES - 10:
    _fail(
        "REVERIFY_TIME_BUDGET_MINUTES",
        "must be at least 10 minutes below JOB_LONGEST_RUN_MINUTES (its time limit)",
    )
# Rows import_ico_register reads, compares and upserts together (the register has
# about 1.3M rows; each batch is one SELECT and one upsert on PostgreSQL).
ICO_IMPORT_BATCH_SIZE = env_int("ICO_IMPORT_BATCH_SIZE", default=2000, minimum=1)

# --- GOV.UK Notify (letters) ---
# https://docs.notifications.service.gov.uk/python.html#send-a-letter
# The one-time signing code goes by post to the director's correspondence address
# at Companies House (decision 0014). With NOTIFY_API_KEY set, letters go through
# Notify's letter API using NOTIFY_LETTER_TEMPLATE_ID (a template whose
# placeholders are listed in docs/decisions/0014-*); without it (development, the
# demo) each letter is written as a PDF to LETTERS_DIR and its code printed.
NOTIFY_API_KEY = env_str("NOTIFY_API_KEY", default="")
NOTIFY_API_URL = env_str(
    "NOTIFY_API_URL", default="https://api.notifications.service.gov.uk"
)
if not NOTIFY_API_URL.startswith("https://"):
    _fail("NOTIFY_API_URL", "must be an https:// URL (it is sent the API key)")
NOTIFY_LETTER_TEMPLATE_ID = env_str("NOTIFY_LETTER_TEMPLATE_ID", default="")
if NOTIFY_API_KEY and not NOTIFY_LETTER_TEMPLATE_ID:
    _fail("NOTIFY_LETTER_TEMPLATE_ID", "must be set when NOTIFY_API_KEY is")
LETTERS_DIR = Path(env_str("LETTERS_DIR", default=str(BASE_DIR / "var" / "letters")))

# --- GOV.UK Notify (email) ---
# https://docs.notifications.service.gov.uk/python.html#send-an-email
# With NOTIFY_API_KEY set, every email the outbox sends goes through Notify, each
# kind with its own template: one variable per kind, NOTIFY_TEMPLATE_<KIND>, listed
# with its recipients and personalisation in lrs_portal/email_kinds.py and
# docs/decisions/0028-notify-email-and-transparency.md. `check --deploy` reports a
# kind without its template (lrs_portal.E007). Without a key, EMAIL_URL's backend.
NOTIFY_EMAIL_TEMPLATE_IDS = {
    kind.name: env_str(kind.setting, default="") for kind in EMAIL_KINDS
}
# The bearer token Notify's delivery-receipt callback sends (set in Notify's API
# integration page, with the URL /notify/delivery-receipts). Empty: every
# callback is refused.
NOTIFY_CALLBACK_TOKEN = env_str("NOTIFY_CALLBACK_TOKEN", default="")
if NOTIFY_CALLBACK_TOKEN and len(NOTIFY_CALLBACK_TOKEN) < 32:
    _fail("NOTIFY_CALLBACK_TOKEN", "must be at least 32 characters")

# --- Learner view log ---
# On PostgreSQL records_learnerview is partitioned by calendar month (UTC) and
# append-only: see records/log_grants.py and docs/runbooks/database-roles.md.
# maintain_partitions archives, then drops, whole months once every row in them
# is older than this. Why 24: docs/decisions/0024-log-retention.md.
LEARNER_VIEW_RETENTION_MONTHS = env_int(
    "LEARNER_VIEW_RETENTION_MONTHS", default=24, minimum=1
)
# Where a month past retention is written (gzip and a manifest with its row count
# and SHA-256) before its partition is dropped: durable storage in production.
LEARNER_VIEW_ARCHIVE_DIR = Path(
    env_str("LEARNER_VIEW_ARCHIVE_DIR", default=str(BASE_DIR / "var" / "log-archives"))
)
# Months of empty partitions kept ready after the current one. A row whose month
# has no partition cannot be written, and then nothing is shown (rule 2).
LEARNER_VIEW_PARTITIONS_AHEAD = env_int(
    "LEARNER_VIEW_PARTITIONS_AHEAD", default=3, minimum=1
)
# The database role the web and worker processes connect as: it may only SELECT
# and INSERT the log (architecture.md rule 3). setup_database_roles creates it.
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE", default="lrs_app")
# In production the web, workers and beat refuse to start as a superuser or as a
# role that owns the tables (lrs_portal.checks). Only the worker of the
# "maintenance" queue, which creates and drops partitions, sets this to true.
DATABASE_ROLE_MAY_OWN_TABLES = env_bool("DATABASE_ROLE_MAY_OWN_TABLES", default=False)
