"""A real gunicorn server (``config.wsgi``, 2 sync workers) on the pytest test database, and a small
HTTP client that logs in through the login form and keeps its cookies.

The server's log (gunicorn and Django's error log) is written next to the test's temporary files and
quoted in assertion messages.
"""

import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings

from ..celery_worker import stop_process_group, test_database_url

ROOT = Path(__file__).resolve().parents[2]
REQUEST_TIMEOUT = 30  # seconds; a request still unanswered after this counts as a hang


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process, self.port, self.log = process, port, log

    def log_tail(self, size: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-size:]


@contextlib.contextmanager
def running_server(log_dir: Path, *, extra_env: dict | None = None, workers: int = 2, ready_timeout: float = 60):
    """gunicorn on a free port of 127.0.0.1, reading the test database with persistent connections."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.faults.server_settings",
            "DATABASE_URL": test_database_url(),
            "CONN_MAX_AGE": "60",
            "REDIS_URL": settings.REDIS_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
    )
    log = log_dir / f"gunicorn-{port}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                str(REQUEST_TIMEOUT),
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{server.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        yield server
    finally:
        stop_process_group(process)


class Answer:
    def __init__(self, status: int, headers, text: str, elapsed: float):
        self.status, self.headers, self.text, self.elapsed = status, headers, text, elapsed

    def __repr__(self):
        return f"<Answer {self.status} in {self.elapsed:.2f}s>"


class Visitor:
    """One browser: its own cookies, a new TCP connection per request (sync workers close them anyway)."""

    def __init__(self, server: Server):
        self.server = server
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None) -> Answer:
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        # The session and CSRF cookies are marked Secure (DEBUG off); this client sends them over plain
        # HTTP to the local server all the same, as the TLS-terminating proxy would.
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Answer(response.status, response.headers, text, time.monotonic() - started)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, data: dict) -> Answer:
        return self.request("POST", path, {"csrfmiddlewaretoken": self.csrf_token, **data})

    @property
    def csrf_token(self) -> str:
        return self.cookies.get(settings.CSRF_COOKIE_NAME, "")

    def log_in(self, username: str, password: str = "matkhau-123") -> None:
        """A real POST to the login form, with the CSRF token the form page gave."""
        from django.urls import reverse

        page = self.get(reverse("login"))
        assert page.status == 200, page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = self.request(
            "POST", reverse("login"), {"csrfmiddlewaretoken": token, "username": username, "password": password}
        )
        assert answer.status == 302, f"login failed: {answer}\n{answer.text[:2000]}\n{self.server.log_tail()}"
        assert settings.SESSION_COOKIE_NAME in self.cookies
        self._pass_second_factor(username)

    def _pass_second_factor(self, username: str) -> None:
        """Officers give the code of their authenticator app after the password (issue #21), as a person would."""
        from django.contrib.auth import get_user_model
        from django.urls import reverse

        from cells.selectors import second_factor_required
        from tests.factories import totp_code, totp_device

        user = get_user_model().objects.get(username=username)
        if not second_factor_required(user):
            return
        answer = self.post(reverse("two_factor_verify"), {"token": totp_code(totp_device(user))})
        assert answer.status == 302, f"second factor refused: {answer}\n{answer.text[:2000]}"
