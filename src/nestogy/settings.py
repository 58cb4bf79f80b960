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
from django.utils.csp import CSP

from nestogy.core.config import (
    env_bool,
    env_int,
    env_list,
    env_networks,
    load_or_create_secret_key,
    parse_email_url,
    parse_proxy_ssl_header,
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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
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
    "nestogy.timesheets",
    "nestogy.payments",
    "nestogy.api",
    "nestogy.portal",
    "nestogy.workspace",
    "nestogy.ops",
    "nestogy.notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "nestogy.core.middleware.RequestSizeLimitMiddleware",
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
                "django.template.context_processors.csp",
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
LOGIN_URL = "/app/login/"  # staff sign in to the workspace; the admin is for operators
SESSION_COOKIE_HTTPONLY = True
# Staff second factor (django-otp, docs/workspace.md): the authenticator app shows "Nestogy".
# Wrong codes are counted by nestogy.core.throttle (per account and per address, like
# passwords), so the devices' own growing delays are switched off.
OTP_TOTP_ISSUER = "Nestogy"
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# Secure cookies: see "HTTPS, security headers, CSP" below.

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
# Days a staff invitation link stays valid (re-sending starts a new period).
NESTOGY_INVITATION_DAYS = int(os.environ.get("NESTOGY_INVITATION_DAYS", "7"))
# At most one invitation mail per address and company this often (resend, or revoke and invite).
NESTOGY_INVITATION_RESEND_SECONDS = int(os.environ.get("NESTOGY_INVITATION_RESEND_SECONDS",
                                                       "300"))

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

# --- HTTPS, security headers, CSP (docs/operations.md, "HTTPS and security headers") -------
# HTTPS-only behaviour (secure cookies, redirect to https, HSTS) is switched on by the
# operator: by an https:// NESTOGY_BASE_URL, or NESTOGY_HTTPS=true. `make run` serves plain
# HTTP on 127.0.0.1, where secure cookies would break sign-in, so it stays off there.
NESTOGY_HTTPS = env_bool("NESTOGY_HTTPS", NESTOGY_BASE_URL.startswith("https://"))
SESSION_COOKIE_SECURE = env_bool("NESTOGY_SECURE_COOKIES", NESTOGY_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("NESTOGY_SSL_REDIRECT", NESTOGY_HTTPS)
# Health checks from the host or the orchestrator speak plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("NESTOGY_HSTS_SECONDS", 31_536_000 if NESTOGY_HTTPS else 0,
                              minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("NESTOGY_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("NESTOGY_HSTS_PRELOAD", False)
# Trusted only when the operator names the header their TLS-terminating proxy sets (and
# strips from clients), e.g. NESTOGY_PROXY_SSL_HEADER=X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = parse_proxy_ssl_header(os.environ.get("NESTOGY_PROXY_SSL_HEADER", ""))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# One policy for every page (admin, portal, API docs): nothing from other origins, inline
# scripts and styles only with the per-response nonce, images also as data: URLs (company
# logos are embedded that way). form-action is left open: paying an invoice redirects the
# portal's form to the payment gateway's checkout page.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
if NESTOGY_HTTPS:
    SECURE_CSP["upgrade-insecure-requests"] = True
# security.W021 asks for HSTS preloading. Preloading is an opt-in (NESTOGY_HSTS_PRELOAD):
# once the header says "preload", anyone may submit the domain to the browsers' preload
# lists, which is hard to undo. With HTTPS on and preloading deliberately off, the warning
# is silenced rather than printed on every deploy check.
SILENCED_SYSTEM_CHECKS = ["security.W021"] if SECURE_HSTS_SECONDS and not SECURE_HSTS_PRELOAD \
    else []

# --- Throttling and request size limits (docs/operations.md) -------------------------------
# How many reverse proxies in front of Nestogy append to X-Forwarded-For. 0: the client is
# REMOTE_ADDR and X-Forwarded-For is ignored (a client can send it). N: the N-th address
# from the right of X-Forwarded-For. Used by the sign-in and password-reset throttles.
NESTOGY_TRUSTED_PROXY_COUNT = env_int("NESTOGY_TRUSTED_PROXY_COUNT", 0, minimum=0)
# Largest request body accepted at all (multipart uploads), checked on Content-Length before
# the body is read; the portal's per-company attachment limit (at most 50 MB) is a separate,
# smaller check.
NESTOGY_MAX_REQUEST_BYTES = env_int("NESTOGY_MAX_REQUEST_MB", 55, minimum=1) * 1024 * 1024
# Any other body (JSON, form fields, webhooks) is held in memory: at most this much.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("NESTOGY_MAX_BODY_MB", 5, minimum=1) * 1024 * 1024
# Uploaded files larger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10

# --- Notification template overrides (docs/notifications.md, "The sandbox") ----------------
# A company's overrides render in a sandbox; these bound each one.
NESTOGY_NOTIFY_OVERRIDE_MAX_CHARS = env_int("NESTOGY_NOTIFY_OVERRIDE_MAX_CHARS", 10_000,
                                            minimum=100)
NESTOGY_NOTIFY_OVERRIDE_MAX_OUTPUT = env_int("NESTOGY_NOTIFY_OVERRIDE_MAX_OUTPUT", 200_000,
                                             minimum=1000)
NESTOGY_NOTIFY_OVERRIDE_MAX_SECONDS = float(os.environ.get("NESTOGY_NOTIFY_OVERRIDE_MAX_SECONDS",
                                                           "1.0"))

# --- Secrets at rest and the notification sender (see docs/operations.md, "Secrets") --------
# Fernet keys that encrypt stored secrets, comma-separated, the first encrypts (rotation: put
# a new key first, keep the old ones after it, run `nestogy rotate_secrets`). Empty: the key
# file NESTOGY_SECRETS_KEY_FILE, by default $NESTOGY_DATA_DIR/secrets_key (generated once).
NESTOGY_SECRETS_KEYS = env_list("NESTOGY_SECRETS_KEY", [])
NESTOGY_SECRETS_KEY_FILE = os.environ.get("NESTOGY_SECRETS_KEY_FILE", "").strip() or None
# Domains every company may send notification mail from without verifying the address.
NESTOGY_SENDER_DOMAINS = [d.lower().lstrip("@") for d in env_list("NESTOGY_SENDER_DOMAINS", [])]
# How long a sender verification link stays valid, and the wait between two requests.
NESTOGY_SENDER_VERIFY_MAX_AGE_HOURS = int(os.environ.get("NESTOGY_SENDER_VERIFY_MAX_AGE_HOURS",
                                                         "48"))
NESTOGY_SENDER_VERIFY_COOLDOWN_SECONDS = 300
