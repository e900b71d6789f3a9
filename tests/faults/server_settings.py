"""Settings of the gunicorn server the fault tests start: base settings as in production (DEBUG off,
persistent connections, CONN_HEALTH_CHECKS and REDIS_URL from the environment), with three differences
that do not touch the faults under test:

* static files by name (``StaticFilesStorage``), so no ``collectstatic`` run is needed;
* the test suite's password hasher, so the users tests/factories.py creates can log in;
* e-mail kept in memory.
"""

from config.settings.base import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
