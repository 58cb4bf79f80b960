"""Django settings for Nestogy, read from the environment.

Everything has a working default: with nothing set, Nestogy runs on an embedded SQLite
database in ``$NESTOGY_DATA_DIR`` (default ``./data``) with a secret key generated once and
kept there. Production sets ``DATABASE_URL`` (PostgreSQL), ``EMAIL_URL`` and
``NESTOGY_ALLOWED_HOSTS``. See docs/operations.md for the full list.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from nestogy.core.config import (
    env_bool,
    env_list,
    env_networks,
    load_or_create_secret_key,
    parse_email_url,
)

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("NESTOGY_DATA_DIR", "./data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
(DATA_DIR / "static").mkdir(exist_ok=True)

SECRET_KEY = os.environ.get("NESTOGY_SECRET_KEY") or load_or_create_secret_key(
    DATA_DIR / "secret_key"
)
DEBUG = env_bool("NESTOGY_DEBUG", False)
ALLOWED_HOSTS = env_list("NESTOGY_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("NESTOGY_CSRF_TRUSTED_ORIGINS", [])
# Public base URL used in emails (portal links, password resets).
NESTOGY_BASE_URL = os.environ.get("NESTOGY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks_db",
    "crontask",
    "ninja",
    "nestogy.core",
    "nestogy.tenancy",
    "nestogy.audit",
    "nestogy.accounts",
    "nestogy.clients",
    "nestogy.sla",
    "nestogy.routing",
    "nestogy.contracts",
    "nestogy.tickets",
    "nestogy.billing",
    "nestogy.payments",
    "nestogy.api",
    "nestogy.portal",
    "nestogy.ops",
    "nestogy.notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "nestogy.accounts.middleware.CompanyScopeMiddleware",
    "nestogy.api.auth.ApiScopeMiddleware",
]

ROOT_URLCONF = "nestogy.urls"
WSGI_APPLICATION = "nestogy.wsgi.application"
ASGI_APPLICATION = "nestogy.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "nestogy.portal.context.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite is shared by the web server, the worker and the scheduler: WAL mode, a busy timeout
# and IMMEDIATE transactions keep them from failing with "database is locked".
SQLITE_PATH = DATA_DIR / "nestogy.sqlite3"
_database_url = os.environ.get("DATABASE_URL", "").strip()
if _database_url:
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url, conn_max_age=int(os.environ.get("NESTOGY_CONN_MAX_AGE", "60"))
        )
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(SQLITE_PATH)}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=30000;PRAGMA foreign_keys=ON;"
            ),
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("NESTOGY_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- i18n / time -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Cache -----------------------------------------------------------------------------------
_redis_url = os.environ.get("REDIS_URL", "").strip()
if _redis_url:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": _redis_url}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Email -----------------------------------------------------------------------------------
MAILERS = parse_email_url(os.environ.get("EMAIL_URL", "console://"))
DEFAULT_FROM_EMAIL = os.environ.get("NESTOGY_FROM_EMAIL", "Nestogy <nestogy@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Background tasks ------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("NESTOGY_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "notifications", "billing", "sla"],
    }
}
CRONTASK = {"REDIS_URL": os.environ.get("NESTOGY_SCHEDULER_LOCK_REDIS_URL") or None}

# --- Logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("NESTOGY_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "apscheduler": {"level": "WARNING"},
    },
}

# --- API -------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NESTOGY_API_MAX_LIMIT = 200
# A token's last_used_at is written at most this often (seconds), not on every request.
NESTOGY_TOKEN_TOUCH_INTERVAL = 60

# --- Notifications ---------------------------------------------------------------------------
# See docs/notifications.md. Retries back off 1, 2, 4, ... minutes (capped) up to the limit.
NESTOGY_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NESTOGY_NOTIFY_MAX_ATTEMPTS", "6"))
NESTOGY_NOTIFY_BACKOFF_SECONDS = int(os.environ.get("NESTOGY_NOTIFY_BACKOFF_SECONDS", "60"))
NESTOGY_NOTIFY_BACKOFF_CAP_SECONDS = int(os.environ.get("NESTOGY_NOTIFY_BACKOFF_CAP_SECONDS",
                                                        "3600"))
NESTOGY_NOTIFY_BATCH_SIZE = 500
NESTOGY_NOTIFY_LOG_RETENTION_DAYS = int(os.environ.get("NESTOGY_NOTIFY_LOG_RETENTION_DAYS",
                                                       "90"))
NESTOGY_NOTIFY_TEMPLATE_DIRS: list[str] = []
# Tasks left RUNNING longer than this by a worker that died are re-queued (or failed after
# NESTOGY_TASK_MAX_TRIES runs) by the reaper in nestogy.ops.tasks.
NESTOGY_TASK_STALE_AFTER_SECONDS = int(os.environ.get("NESTOGY_TASK_STALE_AFTER_SECONDS", "3600"))
NESTOGY_TASK_MAX_TRIES = int(os.environ.get("NESTOGY_TASK_MAX_TRIES", "3"))

# --- Outgoing requests on a tenant's behalf (nestogy.core.egress) ----------------------------
# Only public addresses, unless an operator allows networks here (CIDR list, e.g. an on-premise
# relay: "10.0.0.0/8,192.168.1.10/32").
NESTOGY_EGRESS_ALLOW_NETWORKS = env_networks("NESTOGY_EGRESS_ALLOW_NETWORKS")
# Deprecated: true allows every address (use NESTOGY_EGRESS_ALLOW_NETWORKS instead).
NESTOGY_NOTIFY_ALLOW_PRIVATE_TARGETS = env_bool("NESTOGY_NOTIFY_ALLOW_PRIVATE_TARGETS", False)
