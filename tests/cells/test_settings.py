"""Settings from the environment: a malformed value stops start-up with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_settings(**env):
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    environment.update(env)
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_are_sqlite_and_eager_celery():
    result = _load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_postgres_and_redis_urls_are_used():
    result = _load_settings(DATABASE_URL="postgres://u@db:5432/portal", REDIS_URL="redis://r:6379/0")
    assert result.stdout.split() == ["django.db.backends.postgresql", "False"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "postgres://u@db:5432"),
        ("DATABASE_URL", "nosuchdb://x"),
        ("REDIS_URL", "localhost:6379"),
        ("EMAIL_PORT", "twenty-five"),
        ("CONN_HEALTH_CHECKS", "sometimes"),
        ("BACKUP_KEY", "not-a-32-byte-key"),
    ],
)
def test_malformed_value_stops_start_up_naming_the_variable(name, value):
    result = _load_settings(**{name: value})
    assert result.returncode != 0
    assert f"Environment variable {name}=" in result.stderr


def test_check_deploy_is_clean_under_production_environment():
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "portal.example.vn",
            "SECRET_KEY": "k7#Vq9!mZ2@xR4$wL8^tN6&pB3*cF5(hJ1)dG0_sY-uE+iO=aQ",
            "SECURE_SSL_REDIRECT": "1",
            "SECURE_HSTS_SECONDS": "31536000",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
            "SECURE_HSTS_PRELOAD": "1",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
