"""Test settings: the same as base, with fast password hashing and Django's e-mail test backend."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
AXES_ENABLED = True
LANGUAGE_CODE = "vi"
# Tasks run in-process in ordinary tests; the task tests that need the real broker and a real
# worker switch this off with the ``real_broker`` fixture (tests/conftest.py).
CELERY_TASK_ALWAYS_EAGER = True
# The access matrix walks the public verification pages for every role: the rate limit has its own test.
VERIFY_RATE_LIMIT = (10_000, 600)
# A plain backup may be asked for (`backup --no-encrypt`); without it the tests' backups are encrypted.
BACKUP_ALLOW_PLAIN = True
# No read replica in the suite, whatever the environment says: a transaction-wrapped test's rows are seen
# only on its own connection, and the suite's query counts are those of one database.
# tests/faults/test_replica.py starts a real streaming replica and adds the alias itself.
DATABASES.pop("replica", None)  # noqa: F405
# The figures' cache in this process's memory, whatever REDIS_URL says: a shared server would carry entries
# from one run to the next (tests/conftest.py empties it for every test). tests/reports/test_datacache.py
# checks the Redis backend against the real server.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "figures": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "figures"},
}
