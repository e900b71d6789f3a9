"""Settings for every environment; production differs only by environment variables.

A malformed value stops start-up with a message naming the variable (see ``_fail``).
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _fail(name, value, expected):
    raise ImproperlyConfigured(f"Environment variable {name}={value!r} is malformed: expected {expected}.")


def _bool(name, default):
    raw = env.str(name, default=None)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    return _fail(name, raw, "true/false, 1/0, yes/no or on/off")


def _int(name, default):
    raw = env.str(name, default=None)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return _fail(name, raw, "an integer")


DEBUG = _bool("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    # Development and tests only: `manage.py check --deploy` flags this prefix (security.W009).
    SECRET_KEY = "django-insecure-development-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = [
    h.strip() for h in env.str("ALLOWED_HOSTS", default="127.0.0.1,localhost,testserver").split(",") if h.strip()
]
# Absolute address of the portal, for links in e-mails (the one-click RSVP link).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Adopted documents are signed (PAdES, pyHanko) when a PKCS#12 certificate is given; without it the
# portal works unchanged and the document pages say the documents are not signed (issue #14).
PDF_SIGNING_P12 = env.str("PDF_SIGNING_P12", default="")
# The public verification page (no login): lookups per client address, per window of seconds.
VERIFY_RATE_LIMIT = (_int("VERIFY_RATE_LIMIT", 30), 600)
PDF_SIGNING_PASSWORD = env.str("PDF_SIGNING_PASSWORD", default="")
if PDF_SIGNING_P12 and not Path(PDF_SIGNING_P12).is_file():
    _fail("PDF_SIGNING_P12", PDF_SIGNING_P12, "the path of a PKCS#12 (.p12/.pfx) file")
if not SITE_URL.startswith(("http://", "https://")):
    _fail("SITE_URL", SITE_URL, "a URL starting with http:// or https://")
# `manage.py backup` encrypts with this key (32 random bytes, URL-safe base64: `manage.py backup
# --generate-key`); a backup holds members' personal data (Luật 91/2025/QH15). Without it the backup
# refuses, except `--no-encrypt` where BACKUP_ALLOW_PLAIN (DEBUG; the tests) allows a plain one.
BACKUP_KEY = env.str("BACKUP_KEY", default="")
if BACKUP_KEY:
    from lib.encryption import InvalidKey, parse_key

    try:
        parse_key(BACKUP_KEY)
    except InvalidKey as _error:
        _fail("BACKUP_KEY", "…", str(_error))
BACKUP_ALLOW_PLAIN = DEBUG
# The place on the date line of Party documents ("Đông Hà, ngày 05 tháng 02 năm 2026").
DOCUMENT_PLACE = env.str("DOCUMENT_PLACE", default="Đông Hà")
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env.str("CSRF_TRUSTED_ORIGINS", default="").split(",") if o.strip()]
for origin in CSRF_TRUSTED_ORIGINS:
    if not origin.startswith(("http://", "https://")):
        _fail("CSRF_TRUSTED_ORIGINS", origin, "a comma-separated list of URLs starting with http:// or https://")

INSTALLED_APPS = [
    "config.apps.PortalAdminConfig",  # django.contrib.admin, behind the second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "csp",  # django-csp: its checks of the CONTENT_SECURITY_POLICY setting
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Its lookups and the unaccent/pg_trgm migration operations; on SQLite it does nothing.
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "cells.apps.AxesConfig",  # django-axes, named in Vietnamese in the admin
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_celery_beat",
    "cells",
    "meetings",
    "scoring",
    "reports",
    "demo",  # the top layer: demo data, seed_demo, backup, restore
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "cells.middleware.PrivateResponseMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cells.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the password, officers (and anyone who enrolled) pass the second factor before any page.
    "cells.middleware.SecondFactorMiddleware",
    "cells.middleware.SessionActivityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # After a write, this browser reads from the primary for a while (lib.replica); without a replica: not loaded.
    "lib.replica.ReadYourWritesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "cells.context_processors.navigation",
            ],
        },
    },
]


# Database: SQLite unless DATABASE_URL is given.
def _database(name, url, schemes=("postgres", "postgresql", "pgsql", "sqlite")):
    """A database URL as Django's DATABASES entry, or a start-up error naming the variable."""
    if url.split("://", 1)[0] not in schemes:
        _fail(name, url, "a postgres:// URL" if "sqlite" not in schemes else "a postgres:// or sqlite:/// URL")
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for bad URLs
        _fail(name, url, f"a database URL such as postgres://user@host:5432/name ({exc})")
    if not config.get("ENGINE"):
        _fail(name, url, "a supported scheme (postgres://, sqlite:///)")
    if "postgresql" in config["ENGINE"] and not config.get("NAME"):
        _fail(name, url, "a database name after the host")
    return config


_database_url = env.str("DATABASE_URL", default="")
if _database_url:
    DATABASES = {"default": _database("DATABASE_URL", _database_url)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DATABASES["default"].setdefault("CONN_MAX_AGE", _int("CONN_MAX_AGE", 60))
# Persistent connections die when PostgreSQL restarts: a request that reuses one checks it first (one
# "SELECT 1"), so the first request of every worker reconnects instead of answering 500.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", _bool("CONN_HEALTH_CHECKS", True))

# A streaming read replica (a hot standby of DATABASE_URL's server): the dashboards, their drill-downs and
# exports and the annual report read from it through lib.replica (its docstring: read-your-writes and the
# fallback to the primary). Unset: one database, nothing changes.
_replica_url = env.str("DATABASE_REPLICA_URL", default="")
if _replica_url:
    if "postgresql" not in DATABASES["default"]["ENGINE"]:
        _fail("DATABASE_REPLICA_URL", _replica_url, "no replica unless DATABASE_URL is a PostgreSQL database")
    DATABASES["replica"] = _database("DATABASE_REPLICA_URL", _replica_url, schemes=("postgres", "postgresql", "pgsql"))
    DATABASES["replica"].setdefault("CONN_MAX_AGE", DATABASES["default"]["CONN_MAX_AGE"])
    # No "SELECT 1" before a kept replica connection is reused: a broken one fails the view's first replica
    # read, and lib.replica reads the page again from the primary (so a request costs at most one query more).
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = False
    # A replica that does not answer costs a request this many seconds, once per REPLICA_CHECK_SECONDS.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", _int("REPLICA_CONNECT_TIMEOUT", 2))
    # A test runner never creates, migrates or flushes a database on the standby (it is read-only): the
    # alias reads the primary's test database. The pytest suite has no replica (config/settings/test.py);
    # tests/faults/test_replica.py starts a real one.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["lib.replica.ReplicaRouter"]
# The replica is read while it is at most this many seconds behind, checked at most this often per process.
REPLICA_MAX_LAG_SECONDS = _int("REPLICA_MAX_LAG_SECONDS", 5)
REPLICA_CHECK_SECONDS = _int("REPLICA_CHECK_SECONDS", 5)
# After a write (any non-safe request) the browser's replica reads go to the primary this many seconds:
# at least the staleness the replica may have, so that the writer's next page shows the write.
READ_YOUR_WRITES_SECONDS = _int("READ_YOUR_WRITES_SECONDS", 10)
for _name, _seconds in [
    ("REPLICA_MAX_LAG_SECONDS", REPLICA_MAX_LAG_SECONDS),
    ("REPLICA_CHECK_SECONDS", REPLICA_CHECK_SECONDS),
]:
    if _seconds < 0:
        _fail(_name, _seconds, "a number of seconds, 0 or more")
if READ_YOUR_WRITES_SECONDS < REPLICA_MAX_LAG_SECONDS + REPLICA_CHECK_SECONDS:
    _fail(
        "READ_YOUR_WRITES_SECONDS",
        READ_YOUR_WRITES_SECONDS,
        "at least REPLICA_MAX_LAG_SECONDS + REPLICA_CHECK_SECONDS (the replica may be that far behind)",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Behind the TLS proxy REMOTE_ADDR is the proxy's: the client's address is the entry the proxy appends
# to X-Forwarded-For, this many places from the right (lib/client_address.py). 0: no proxy, REMOTE_ADDR.
TRUSTED_PROXY_COUNT = _int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    _fail("TRUSTED_PROXY_COUNT", TRUSTED_PROXY_COUNT, "0 (no proxy) or the number of proxies in front")

# Login throttling (django-axes), three limits over the cooling period (cells/throttle.py says why):
# an account at one address, an account from every address, one address across accounts.
AXES_HANDLER = "cells.throttle.LoginThrottleHandler"
AXES_CLIENT_IP_CALLABLE = "lib.client_address.client_address"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_FAILURE_LIMIT = _int("AXES_FAILURE_LIMIT", 5)
LOGIN_USERNAME_FAILURE_LIMIT = _int("LOGIN_USERNAME_FAILURE_LIMIT", 10)
LOGIN_ADDRESS_FAILURE_LIMIT = _int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
for _name, _limit in [
    ("AXES_FAILURE_LIMIT", AXES_FAILURE_LIMIT),
    ("LOGIN_USERNAME_FAILURE_LIMIT", LOGIN_USERNAME_FAILURE_LIMIT),
    ("LOGIN_ADDRESS_FAILURE_LIMIT", LOGIN_ADDRESS_FAILURE_LIMIT),
]:
    if _limit < 1:
        _fail(_name, _limit, "a positive number of failed logins")
AXES_COOLOFF_TIME = _int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
# Wrong passwords typed while locked do not extend the lock: it always lifts at the time the page says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "cells.throttle.lockout_response"
AXES_RESET_ON_SUCCESS = True
# "Quên mật khẩu": the link in the mail works once, for this many seconds; requests per client
# address and per e-mail address (counted whether the address has an account or not) per window.
PASSWORD_RESET_TIMEOUT = _int("PASSWORD_RESET_TIMEOUT", 2 * 60 * 60)
if PASSWORD_RESET_TIMEOUT < 3600:
    _fail("PASSWORD_RESET_TIMEOUT", PASSWORD_RESET_TIMEOUT, "at least 3600 seconds (the mail says how many hours)")
PASSWORD_RESET_RATE_LIMIT = (_int("PASSWORD_RESET_PER_ADDRESS", 10), _int("PASSWORD_RESET_PER_EMAIL", 3), 3600)

# Second factor (django-otp, TOTP): who must have it is cells.selectors.SECOND_FACTOR_REQUIRED_ROLES.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Sinh hoạt chi bộ")
# After a wrong code the next try waits 1, 2, 4, 8 … seconds (django-otp's throttling), per device.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_RECOVERY_THROTTLE_FACTOR = 1

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("Tiếng Anh"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))  # where collectstatic writes
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# E-mail: SMTP settings from the environment; the console backend when none is given.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if env.str("EMAIL_HOST", default="")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = _int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = _bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    _fail("EMAIL_USE_SSL", "true", "not both EMAIL_USE_TLS and EMAIL_USE_SSL")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent-mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cổng sinh hoạt chi bộ <no-reply@localhost>")

# Celery: a real broker when REDIS_URL is given, tasks run eagerly otherwise.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    _fail("REDIS_URL", REDIS_URL, "a URL such as redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = _int("CELERY_TASK_TIME_LIMIT", 15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = _int("CELERY_TASK_SOFT_TIME_LIMIT", 14 * 60)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Fail fast when the broker is down: the outbox (Notification rows) is swept again later.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
# The dashboards' figures (reports.datacache, issue #20): cached under the data version, which every
# committed write to a counted table raises. Shared by all processes through Redis when there is one (its
# own key prefix; never cleared as a whole: the broker may use the same database); this process's memory
# otherwise, which is just as correct (the version is in the database) but computed once per process.
# A cache server that does not answer within the timeouts costs the page its computation, not an error.
DASHBOARD_CACHE_SECONDS = _int("DASHBOARD_CACHE_SECONDS", 60)
if DASHBOARD_CACHE_SECONDS < 0:
    _fail("DASHBOARD_CACHE_SECONDS", DASHBOARD_CACHE_SECONDS, "0 (no cache) or more seconds")
DASHBOARD_CACHE_VERSION = 1  # raise when the cached parts' templates or figures change shape
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "figures": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal-figures",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "figures"}
    ),
}
# The reminder fan-out (issue #20): recipients claimed and written per transaction (meetings.reminders), and
# e-mails sent per worker task over one connection to the mail server (cells.services.notifications).
REMINDER_BATCH_SIZE = _int("REMINDER_BATCH_SIZE", 500)
NOTIFICATION_EMAIL_BATCH_SIZE = _int("NOTIFICATION_EMAIL_BATCH_SIZE", 250)
# Every periodic job, in one place; django-celery-beat stores it in the database at beat start.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    "notification-email-sweep": {"task": "cells.tasks.notification_email_sweep", "schedule": 300.0},
    # Report runs asked for while the broker was down (or whose worker died) are queued again.
    "report-runs-requeue": {"task": "reports.tasks.report_runs_requeue", "schedule": 300.0},
    # Reminder rules (meetings.reminders): hourly in office hours, local time; each run is idempotent.
    "reminders-dispatch": {"task": "meetings.tasks.reminders_dispatch", "schedule": crontab(minute=5, hour="7-20")},
    # Questions asked between meetings whose deadline has passed (meetings.async_decisions): closed once each.
    "async-decisions-close": {"task": "meetings.tasks.async_decisions_close", "schedule": 300.0},
    # The monthly rollups (reports.rollups) checked against a fresh count, drift repaired and reported.
    "rollups-verify": {"task": "reports.tasks.rollups_verify", "schedule": crontab(minute=40, hour=2)},
}

# Production hardening: on unless DEBUG.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Scripts and styles from the portal only, sent by django-csp (csp.middleware.CSPMiddleware); the pages
# have no inline script or style. The policy may be given whole in CONTENT_SECURITY_POLICY (directives
# separated by ";"); an empty one turns the header off. A view that sets its own header keeps it.
_csp = env.str(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
)
CONTENT_SECURITY_POLICY = (
    {
        "DIRECTIVES": {part.split()[0]: part.split()[1:] or [True] for part in _csp.split(";") if part.strip()},
    }
    if _csp.strip()
    else None
)
# A session ends after a working day, or when the browser closes (shared office computers).
SESSION_COOKIE_AGE = _int("SESSION_COOKIE_AGE", 8 * 60 * 60)
if SESSION_COOKIE_AGE <= 0:
    _fail("SESSION_COOKIE_AGE", SESSION_COOKIE_AGE, "a positive number of seconds")
SESSION_EXPIRE_AT_BROWSER_CLOSE = _bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)

# Upload limits for member imports and meeting documents.
MEMBER_IMPORT_MAX_BYTES = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
