"""SMS Portal settings.

Every setting comes from the environment (or a `.env` file beside manage.py) through
django-environ; the defaults are safe for a laptop. `.env.example` documents each variable.
A wrong value stops start-up with an `ImproperlyConfigured` naming the variable, which
manage.py prints as one line.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # real environment variables win over the file


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _bool(name: str, default: bool) -> bool:
    """A yes/no setting. Anything but the eight words below stops start-up: django-environ reads
    every unknown word as false, so a typo (`SECURE_COOKIES=ture`) silently turned a protection
    off."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of true/false, 1/0, yes/no, on/off, not {raw!r}"
    )


DEBUG = _bool("DEBUG", False)


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is not set; it is required when DEBUG is off.")
    # Local development only: a random key kept in a git-ignored file so sessions survive restarts.
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _field_encryption_keys() -> list[str]:
    """Fernet keys for provider passwords at rest, newest first (a comma-separated list rotates)."""
    keys = env.list("FIELD_ENCRYPTION_KEY", default=[])
    if keys:
        return keys
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY is not set; it is required when DEBUG is off "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        )
    # Local development only: derived from the secret key so there is nothing more to set up.
    return [base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()]


FIELD_ENCRYPTION_KEYS = _field_encryption_keys()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "smsportal.core",
    "smsportal.providers",
    "smsportal.departments",
    "smsportal.contacts",
    "smsportal.senders",
    "smsportal.routing",
    "smsportal.messaging",
    "smsportal.credits",
    "smsportal.reports",
    "smsportal.users",
    "smsportal.recurring",
    "smsportal.message_templates",
    "smsportal.api",
    "smsportal.keywords",
    "smsportal.forwarding",
    "smsportal.audit",
    "smsportal.quotas",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "smsportal.core.middleware.RefuseHugeNumbers",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "smsportal.users.middleware.AuthenticationMiddleware",  # Django's, see users/backends.py
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "smsportal.core.locale.UserPreferences",
    "django_otp.middleware.OTPMiddleware",
    "smsportal.users.middleware.TwoFactorMiddleware",
    "smsportal.core.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "smsportal.core.csp.CSPMiddleware",  # django-csp's, the header built once
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a login after repeated failures
    # Django's ModelBackend, loading the user with their preferences, two-factor state and
    # permissions in fewer queries (read afresh on every request).
    "smsportal.users.backends.ModelBackend",
]

ROOT_URLCONF = "smsportal.urls"
WSGI_APPLICATION = "smsportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "smsportal.core.context_processors.roles",
                "smsportal.core.navigation.navigation",
            ],
        },
    },
]


def _database() -> dict:
    default = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    url = env.str("DATABASE_URL", default=default)
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL ({exc})") from exc
    engine = config.get("ENGINE", "")
    if not engine or not config.get("NAME"):
        host = url.split("@")[-1]  # never echo credentials
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {host!r}")
    if engine == "django.db.backends.sqlite3":
        # The web server and the worker share the file: WAL lets readers run beside a writer,
        # IMMEDIATE takes the write lock at BEGIN (no deadlocking upgrade), and the timeout
        # waits for the lock instead of failing with "database is locked".
        config.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
                ),
            }
        )
    else:
        if engine == "django.db.backends.postgresql":
            # Django's backend, checking a kept connection by its socket before a request
            # reuses it, not by a SELECT 1 round trip (smsportal/core/postgresql/base.py).
            config["ENGINE"] = "smsportal.core.postgresql"
        config.setdefault("CONN_HEALTH_CHECKS", True)
    # Connections are kept between requests (SQLite too: opening one and running its PRAGMAs
    # was a tenth of a compose preview's request).
    config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _tasks() -> dict:
    backend = env.str("TASKS_BACKEND", default="database")
    backends = {
        "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
        "rq": {"BACKEND": "django_tasks_rq.RQBackend"},
        "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    }
    if backend not in backends:
        raise ImproperlyConfigured(
            f"TASKS_BACKEND must be one of {', '.join(backends)}, not {backend!r}"
        )
    return {"default": {**backends[backend], "QUEUES": ["default"]}}


TASKS = _tasks()
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
if TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend":
    # Workers: `manage.py rqworker --job-class django_tasks_rq.Job --with-scheduler default`.
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

try:
    globals().update(env.email_url("EMAIL_URL", default="smtp://localhost:25"))
except Exception as exc:  # django-environ raises several types for a bad URL
    raise ImproperlyConfigured(f"EMAIL_URL is not a valid email URL ({exc})") from exc
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="sms-portal@localhost")

PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="KW").upper()

# Sending: concurrent provider requests within one batch task (pooled connections), and how long
# a delivery may stay `sending` before the sweeper decides its worker died and marks it unknown.
SEND_CONCURRENCY = env.int("SEND_CONCURRENCY", default=8)
SENDING_TIMEOUT_SECONDS = env.int("SENDING_TIMEOUT_SECONDS", default=600)
# A batch renews a lease on the deliveries it is sending every third of this; the sweeper takes
# only rows whose lease ran out (their worker died), never those of a live, slow batch.
SENDING_LEASE_SECONDS = env.int("SENDING_LEASE_SECONDS", default=60)

# Incoming SMS whose first word is one of these opts the sender out (or back in).
OPT_OUT_KEYWORDS = env.list("OPT_OUT_KEYWORDS", default=["STOP", "UNSUBSCRIBE", "إلغاء", "الغاء"])
OPT_IN_KEYWORDS = env.list("OPT_IN_KEYWORDS", default=["START", "اشتراك"])
# A HELP (or its equivalents) is answered with the account's help text (Keywords page).
HELP_KEYWORDS = env.list("HELP_KEYWORDS", default=["HELP", "INFO", "مساعدة"])

# Periodic tasks enqueued by `manage.py scheduler`: (task path, interval in seconds).
PERIODIC_TASKS = [
    ("smsportal.messaging.tasks.sweep_stuck_deliveries", 60),
    ("smsportal.messaging.tasks.poll_delivery_reports", 60),
    ("smsportal.credits.tasks.refresh_all_balances", 900),
    ("smsportal.recurring.tasks.run_recurring_sends", 60),
    ("smsportal.forwarding.tasks.forward_due", 15),
]
# A recurring send's occurrence found due more than this late (no worker ran) is "missed": sent
# once late, or skipped, as the schedule says.
RECURRING_LATE_SECONDS = env.int("RECURRING_LATE_SECONDS", default=600)

# The HTTP API (smsportal/api, docs/api.md): API keys only, JSON only, problem details for every
# error, one request rate per key. API_THROTTLE_RATE is "<n>/<second|minute|hour|day>"; empty
# switches the limit off. API_MAX_BODY_KB bounds a JSON body (imports take IMPORT_MAX_UPLOAD_MB).
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/minute")
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_KB", default=1024) * 1024
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["smsportal.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["smsportal.api.permissions.ScopeAndRole"],
    "DEFAULT_PARSER_CLASSES": ["smsportal.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "smsportal.api.problems.problem_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SMS Portal API",
    "DESCRIPTION": "Send and read SMS through the portal's accounts, with its opt-outs and "
    "checks. Authenticate with `Authorization: Bearer <API key>` (keys are made on the "
    "profile page). Errors are RFC 9457 problem details.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "persistAuthorization": False},
    "ENUM_NAME_OVERRIDES": {},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Django's database sessions, each request's read made with one statement (core/sessions.py).
SESSION_ENGINE = "smsportal.core.sessions"

# Login throttling (django-axes): lock a username+address pair after repeated failures, the
# address being the client's as our trusted proxies report it (TRUSTED_PROXIES below): behind a
# proxy, REMOTE_ADDR is the proxy for everyone, and one guesser would lock a user out for all.
AXES_CLIENT_IP_CALLABLE = "smsportal.core.client_ip.client_ip"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Two-factor log-in (django-otp): each user may turn it on from their profile page; this makes
# it compulsory for Managers and superusers, who are sent to set it up before anything else.
TWO_FACTOR_REQUIRED_FOR_MANAGERS = _bool("TWO_FACTOR_REQUIRED_FOR_MANAGERS", False)
OTP_TOTP_ISSUER = "SMS Portal"  # the name the authenticator app shows beside the code

# The audit trail (django-auditlog, into our own table: smsportal/core/models.py), its changes
# kept as JSON values so the page can show before and after without parsing text.
AUDITLOG_LOGENTRY_MODEL = "core.AuditEntry"
AUDITLOG_STORE_JSON_CHANGES = True

LANGUAGE_CODE = "en-gb"
# English (British formats, as before) and Arabic, right to left. Each person picks one in their
# preferences; the log-in page follows the browser. The Arabic catalogue is committed compiled
# (locale/ar/LC_MESSAGES/django.mo; `make messages` refreshes it, tests/core/test_catalogue.py
# checks it is complete and matches the .po).
LANGUAGES = [("en-gb", "English"), ("ar", "العربية")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["smsportal.formats"]  # Arabic: 12,345.50, not Django's 12,345,50
LANGUAGE_COOKIE_SECURE = _bool("SECURE_COOKIES", not DEBUG)
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Contact imports (contacts app): an upload stops at this size while it streams in (never
# written in full first), and the file is deleted when its import ends unless kept this many
# days (0: at once) for a second look.
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=200)
IMPORT_UPLOADS_KEEP_DAYS = env.int("IMPORT_UPLOADS_KEEP_DAYS", default=0)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000


def _trusted_proxies() -> list[str]:
    """Our own reverse proxies (addresses or networks, e.g. 10.0.0.5,10.1.0.0/16): only they may
    say, in X-Forwarded-For, who the client was (log-in throttling, webhook allow-lists)."""
    entries = env.list("TRUSTED_PROXIES", default=[])
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from exc
    return entries


TRUSTED_PROXIES = _trusted_proxies()

# A provider account's address must be a public host (it receives the account's password);
# these private hosts are accepted as well. The default is the local sandbox of `make run`.
PROVIDER_PRIVATE_HOSTS = env.list("PROVIDER_PRIVATE_HOSTS", default=["127.0.0.1", "localhost"])
# Forwarding endpoints (outgoing webhooks) must be public hosts too; these private ones are
# accepted as well. Empty by default: the portal's own network is not a place to post events.
FORWARDING_PRIVATE_HOSTS = env.list("FORWARDING_PRIVATE_HOSTS", default=[])
# An endpoint gets this long to answer (connect, read), and only this much of its answer is read.
FORWARDING_TIMEOUT_SECONDS = env.float("FORWARDING_TIMEOUT_SECONDS", default=5.0)
FORWARDING_RESPONSE_MAX_BYTES = env.int("FORWARDING_RESPONSE_MAX_BYTES", default=64 * 1024)
# A failed event is tried again after 30 s, 1 min, 2 min, ... (doubling, at most an hour apart)
# for this long; then it is given up and its endpoint disabled, with the reason shown.
FORWARDING_RETRY_FIRST_SECONDS = env.int("FORWARDING_RETRY_FIRST_SECONDS", default=30)
FORWARDING_RETRY_MAX_GAP_SECONDS = env.int("FORWARDING_RETRY_MAX_GAP_SECONDS", default=3600)
FORWARDING_RETRY_FOR_SECONDS = env.int("FORWARDING_RETRY_FOR_SECONDS", default=24 * 3600)

# Security: strict when DEBUG is off (`manage.py check --deploy` is clean); each protection has a
# setting so a deployment can say otherwise on purpose, never by accident (see _bool).
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if _bool("BEHIND_TLS_PROXY", False) else None
)
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", not DEBUG)
# Cookies only over HTTPS unless DEBUG (SECURE_COOKIES=false for a local plain-HTTP benchmark).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the page (hx-headers), not the cookie
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env.str("SECURE_REFERRER_POLICY", default="same-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from our own static files, so an injected
# <script> or on*= attribute never runs. Templates hold no inline script (tests/security checks).
# Styles: <style> elements and stylesheets only from us too; htmx's own injected indicator
# <style> is switched off (meta htmx-config in base.html, the rule lives in portal.css). Style
# *attributes* stay allowed: progress bars set their computed width with style="width: N%",
# and an attribute cannot load or run anything (no url() fetch escapes img-src/font-src).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],  # Bootstrap draws its icons in CSS as data: SVGs
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        # A quiet log by default: request and task lines only when something changes
        # (smsportal/core/logfilters.py); LOG_LEVEL=DEBUG shows every one.
        "quiet_reads": {"()": "smsportal.core.logfilters.QuietReads"},
        "quiet_routine_tasks": {"()": "smsportal.core.logfilters.QuietRoutineTasks"},
        # Webhook URLs carry the account's secret token: no log line may show it.
        "redact_tokens": {"()": "smsportal.core.log_redaction.RedactWebhookTokens"},
        # A refused request (403, 400) is one line naming the user, not a traceback.
        "one_line_refusals": {"()": "smsportal.core.logfilters.OneLineRefusals"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # urllib3 logs full request URLs at DEBUG, and providers put credentials in them.
        "urllib3": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Django's own handlers print request errors a second time, unformatted: one line each.
        "django": {"handlers": ["console"], "propagate": False},
        # Django logs 403s and 400s here with the exception attached (a traceback each); the
        # filter sits on this logger, not a handler, so every handler (and a test's capture)
        # sees the one line. Its records still go up to "django"'s console handler.
        "django.request": {"filters": ["one_line_refusals"]},
        "django.server": {"handlers": ["console"], "filters": ["quiet_reads"], "propagate": False},
        "django_tasks": {"filters": ["quiet_routine_tasks"]},
        # One line per provider call ("answered (10 bytes)"): the calls' effects are logged
        # where they change something; errors are warnings.
        "smsportal.providers": {"level": "DEBUG" if LOG_LEVEL == "DEBUG" else "WARNING"},
        # The sandbox's mail server logs every connection.
        "mail.log": {"level": "WARNING"},
    },
}
