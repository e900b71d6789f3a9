"""Settings of the benchmark process: production settings (``config.settings.base``, DEBUG off) with
two differences that do not change what a request costs:

* static files are served by name (``StaticFilesStorage``) instead of the manifest storage, so the
  harness needs no ``collectstatic`` run in the working tree;
* e-mail goes to Django's in-memory back end (the reminder fan-out never reaches an SMTP server).

``MEDIA_ROOT`` comes from the environment (``bench/run.py`` points it at ``bench/.media-<scale>``).
"""

from config.settings.base import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
