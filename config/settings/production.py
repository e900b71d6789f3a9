"""Production: ``DJANGO_SETTINGS_MODULE=config.settings.production``.

Everything still comes from the environment through base.py; this module only refuses to start without
a real SECRET_KEY, ALLOWED_HOSTS and a way to send e-mail (EMAIL_HOST), and turns on what must never be off in production: DEBUG off, HTTPS
only (redirect, secure cookies, HSTS for a year) and the static files' manifest storage. Uploaded files
are never served from MEDIA_URL (config/urls.py adds that route under DEBUG only); they go out through
the access-checked download views.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import STORAGES, env

# Django's own test of a weak key (security.W009): shorter than 50, fewer than 5 distinct characters,
# or the placeholder prefix.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5


def _required(name, problem):
    raise ImproperlyConfigured(
        f"Environment variable {name} {problem} (DJANGO_SETTINGS_MODULE=config.settings.production)."
    )


DEBUG = False

# The key itself never goes into the message: start-up errors end up in logs.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    _required(
        "SECRET_KEY",
        "is missing: set it to a random string of at least 50 characters, e.g. the output "
        'of `python -c "import secrets; print(secrets.token_urlsafe(64))"`',
    )
if (
    len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH
    or len(set(SECRET_KEY)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    or SECRET_KEY.startswith("django-insecure-")
):
    _required(
        "SECRET_KEY",
        f"is insecure ({len(SECRET_KEY)} characters): use a random string of at least "
        f"{SECRET_KEY_MIN_LENGTH} characters that does not start with 'django-insecure-'",
    )

ALLOWED_HOSTS = [h.strip() for h in env.str("ALLOWED_HOSTS", default="").split(",") if h.strip()]
if not ALLOWED_HOSTS:
    _required(
        "ALLOWED_HOSTS", "is missing: set it to the portal's host names, comma-separated (e.g. sinhhoat.example.vn)"
    )
if "*" in ALLOWED_HOSTS:
    _required("ALLOWED_HOSTS", "must name the portal's hosts, not '*'")

# E-mail carries the notices and their one-click RSVP links. Without EMAIL_HOST base.py falls back to
# the console back end, and in production the links would only reach the log: refuse to start unless
# an SMTP server is named, or another back end is chosen on purpose (EMAIL_BACKEND, e.g. the file
# back end for a mail relay that picks the files up).
if not env.str("EMAIL_HOST", default="").strip() and not env.str("EMAIL_BACKEND", default="").strip():
    _required(
        "EMAIL_HOST",
        "is missing: set it to the SMTP server that sends the notices and RSVP links "
        "(with EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS), or set "
        "EMAIL_BACKEND explicitly if the portal must run without SMTP",
    )

# HTTPS only. Behind a reverse proxy that terminates TLS, the proxy must set X-Forwarded-Proto
# (SECURE_PROXY_SSL_HEADER in base.py) and drop any value the client sent.
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True

# Static files are collected (`manage.py collectstatic`) and served by WhiteNoise with hashed names.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
