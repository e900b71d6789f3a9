"""Production settings (config.settings.production), each loaded in a fresh process as a server would.

``check --deploy`` is clean; a missing or weak SECRET_KEY or a missing ALLOWED_HOSTS stops start-up
with a message naming the variable; HTTPS is forced whatever the environment says; an uploaded file is
never served from MEDIA_URL, and the answers carry the Content-Security-Policy and HSTS headers.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Rk3vN8qWz1Lx5Tb9Hm2Yc7Jp4Gd6Fs0Ua-Ve_Xi+Oe=Qn!Sw@Ak#Bl$Cm%Dn"
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)
# Variables a developer's shell or CI may carry that must not leak into the production process.
CLEARED = {
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "EMAIL_HOST",
    "EMAIL_BACKEND",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "MEDIA_ROOT",
    "STATIC_ROOT",
}


def directives(policy):
    """A Content-Security-Policy header as its directives (django-csp writes them in no fixed order)."""
    return {part.split()[0]: part.split()[1:] for part in (policy or "").split(";") if part.strip()}


def production_env(tmp_path, **overrides):
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED and not k.startswith("PYTEST")}
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": SECRET,
            "ALLOWED_HOSTS": "sinhhoat.example.vn",
            "EMAIL_HOST": "smtp.example.vn",
            # Nothing here queries the database; an empty SQLite file keeps the run away from any real one.
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            "MEDIA_ROOT": str(tmp_path / "media"),
        }
    )
    environment.update(overrides)
    return {k: v for k, v in environment.items() if v is not None}


def run(args, environment):
    return subprocess.run(args, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory):
    """``collectstatic`` under production settings, once for the module (it compresses every file: ~40 s).

    Production pages, the 404 page included, link the hashed copies listed in its manifest.
    """
    root = tmp_path_factory.mktemp("production")
    static_root = root / "static"
    collected = run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"], production_env(root, STATIC_ROOT=str(static_root))
    )
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-3000:]
    return str(static_root)


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "Environment variable SECRET_KEY is missing"),
        ({"SECRET_KEY": ""}, "Environment variable SECRET_KEY is missing"),
        ({"SECRET_KEY": "matkhau-ngan"}, "Environment variable SECRET_KEY is insecure"),
        ({"SECRET_KEY": "django-insecure-" + SECRET}, "Environment variable SECRET_KEY is insecure"),
        ({"SECRET_KEY": "ab" * 40}, "Environment variable SECRET_KEY is insecure"),
        ({"ALLOWED_HOSTS": None}, "Environment variable ALLOWED_HOSTS is missing"),
        ({"ALLOWED_HOSTS": " , "}, "Environment variable ALLOWED_HOSTS is missing"),
        ({"ALLOWED_HOSTS": "*"}, "Environment variable ALLOWED_HOSTS must name the portal's hosts"),
        # Without SMTP the notices and their RSVP links would only be written to the log.
        ({"EMAIL_HOST": None}, "Environment variable EMAIL_HOST is missing"),
        ({"EMAIL_HOST": " "}, "Environment variable EMAIL_HOST is missing"),
    ],
)
def test_missing_or_weak_secret_stops_start_up_naming_the_variable(tmp_path, overrides, message):
    result = run([sys.executable, "manage.py", "check"], production_env(tmp_path, **overrides))
    assert result.returncode != 0
    assert message in result.stderr
    assert "ImproperlyConfigured" in result.stderr
    secret = overrides.get("SECRET_KEY")
    if secret:
        assert secret not in result.stderr, "the key itself must not be written to the log"


SETTINGS_SCRIPT = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in (
    "DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SESSION_COOKIE_AGE", "SESSION_EXPIRE_AT_BROWSER_CLOSE")}
    | {"validators": [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS],
       "health_checks": settings.DATABASES["default"]["CONN_HEALTH_CHECKS"]}))
"""


def test_debug_off_and_https_forced_whatever_the_environment_says(tmp_path):
    environment = production_env(
        tmp_path,
        DEBUG="1",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
    )
    result = run([sys.executable, "-c", SETTINGS_SCRIPT], environment)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 60 * 60,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_AGE": 8 * 60 * 60,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
        "validators": [
            "UserAttributeSimilarityValidator",
            "MinimumLengthValidator",
            "CommonPasswordValidator",
            "NumericPasswordValidator",
        ],
        "health_checks": True,
    }


# Writes a file where an upload of a meeting document would go, then asks for it at MEDIA_URL.
MEDIA_SCRIPT = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import Resolver404, resolve

name = default_storage.save("meetings/2026/03/bien-ban.pdf", ContentFile(b"%PDF-1.4 noi dung mat"))
path = "/" + settings.MEDIA_URL.lstrip("/") + name
try:
    view = resolve(path).func.__module__ + "." + resolve(path).func.__name__
except Resolver404:
    view = None
answers = {}
if not settings.DEBUG:
    for secure in (True, False):
        response = Client().get(path, secure=secure, HTTP_HOST=settings.ALLOWED_HOSTS[0])
        answers["https" if secure else "http"] = {
            "status": response.status_code, "body": response.content.decode(errors="replace"),
            "location": response.get("Location"), "policy": response.get("Content-Security-Policy"),
            "hsts": response.get("Strict-Transport-Security"),
        }
print(json.dumps({"path": path, "view": view, "answers": answers}))
"""


def test_uploaded_file_is_not_served_from_media_url_in_production(tmp_path, collected_static):
    result = run([sys.executable, "-c", MEDIA_SCRIPT], production_env(tmp_path, STATIC_ROOT=collected_static))
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert (tmp_path / "media" / outcome["path"].removeprefix("/media/")).exists()
    assert outcome["view"] is None, "no URL pattern may serve MEDIA_ROOT in production"
    https = outcome["answers"]["https"]
    assert https["status"] == 404
    assert "noi dung mat" not in https["body"]
    # Every answer, an error page too, carries the policy and HSTS; plain HTTP is sent to HTTPS first.
    assert directives(https["policy"]) == directives(POLICY)
    assert https["hsts"] == "max-age=31536000; includeSubDomains; preload"
    http = outcome["answers"]["http"]
    assert http["status"] == 301
    assert http["location"] == "https://sinhhoat.example.vn" + outcome["path"]


def test_the_same_path_is_served_only_by_the_development_server(tmp_path):
    """The control for the test above: under DEBUG the path does reach Django's static ``serve`` view."""
    environment = production_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="1")
    result = run([sys.executable, "-c", MEDIA_SCRIPT], environment)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["view"] == "django.views.static.serve"


# The login page as a browser gets it from the deployed portal: collected static files with hashed
# names, the policy, and a CSRF cookie marked Secure.
PAGE_SCRIPT = """
import json, re
import django
django.setup()
from django.test import Client

client = Client(HTTP_HOST="sinhhoat.example.vn")
page = client.get("/dang-nhap/", secure=True)
body = page.content.decode()
stylesheet = re.search(r'href="(/static/vendor/bootstrap/bootstrap\\.min\\.[0-9a-f]{12}\\.css)"', body)
css = client.get(stylesheet.group(1), secure=True) if stylesheet else None
print(json.dumps({
    "status": page.status_code, "policy": page.get("Content-Security-Policy"),
    "csrf_cookie": page.cookies["csrftoken"].output() if "csrftoken" in page.cookies else "",
    "stylesheet": stylesheet.group(1) if stylesheet else None,
    "css_status": css.status_code if css else None, "css_cache": css.get("Cache-Control") if css else None,
}))
"""


def test_collectstatic_and_the_login_page_work_under_production_settings(tmp_path, collected_static):
    environment = production_env(tmp_path, STATIC_ROOT=collected_static)
    result = run([sys.executable, "-c", PAGE_SCRIPT], environment)
    assert result.returncode == 0, result.stderr
    page = json.loads(result.stdout)
    assert page["status"] == 200
    assert directives(page["policy"]) == directives(POLICY)
    assert "Secure" in page["csrf_cookie"] and "HttpOnly" not in page["csrf_cookie"]
    assert page["stylesheet"], "the page links the hashed copy of the stylesheet"
    assert page["css_status"] == 200
    assert "immutable" in page["css_cache"]


def test_production_runs_without_smtp_only_when_another_mail_back_end_is_chosen(tmp_path):
    chosen = {
        "EMAIL_HOST": None,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    result = run([sys.executable, "manage.py", "check"], production_env(tmp_path, **chosen))
    assert result.returncode == 0, result.stderr
