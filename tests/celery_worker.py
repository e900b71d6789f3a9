"""Start a real ``celery worker`` process against the test database, for the task tests.

Other runs may share the Redis server: a test that passes ``queues`` gets a worker that consumes
(and publishes its own follow-up tasks) only on those queues, and routes the test process's tasks
there with ``route_tasks_to``. Without ``queues`` the worker uses Celery's default queue as before.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
QUEUE_ENV = "PORTAL_TEST_CELERY_QUEUE"

if os.environ.get(QUEUE_ENV):
    # Imported as the worker's app (``celery -A tests.celery_worker``): publish follow-up tasks
    # (e.g. the e-mails a reminder run queues) to the test's own queue, never to the shared default one.
    from config.celery import app  # noqa: F401

    app.conf.task_default_queue = os.environ[QUEUE_ENV]
    app.conf.task_routes = {"*": {"queue": os.environ[QUEUE_ENV]}}

    if os.environ.get("TEST_REPORT_PDF_DELAY"):
        from celery.signals import task_prerun

        @task_prerun.connect
        def _slow_report_pdf(**_kwargs):
            """A report PDF that takes ``TEST_REPORT_PDF_DELAY`` seconds: a test kills the worker meanwhile."""
            from reports import exports

            if getattr(exports.annual_report_pdf, "slowed", False):
                return
            original = exports.annual_report_pdf

            def slowed(content):
                time.sleep(float(os.environ["TEST_REPORT_PDF_DELAY"]))
                return original(content)

            slowed.slowed = True
            exports.annual_report_pdf = slowed


@contextlib.contextmanager
def route_tasks_to(queue: str):
    """Route every task this process publishes to ``queue`` (the default queue again afterwards)."""
    from config.celery import app

    previous = app.conf.task_routes

    def reset(routes):
        app.conf.task_routes = routes
        app.amqp.flush_routes()
        app.amqp.__dict__.pop("router", None)  # a cached_property holding the old routes

    reset({"*": {"queue": queue}})
    try:
        yield queue
    finally:
        reset(previous)


def purge_queue(queue: str) -> None:
    """Drop the messages left on a test queue, and those a killed worker held unacknowledged for it."""
    import json

    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(queue)
    for tag, raw in client.hgetall("unacked").items():
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def test_database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@contextlib.contextmanager
def running_worker(
    *,
    mail_dir: Path,
    extra_env: dict | None = None,
    ready_timeout: float = 60,
    queues: list[str] | None = None,
    concurrency: int = 1,
):
    """A worker on the real broker, reading the test database, writing e-mails as files to ``mail_dir``.

    With ``queues`` it consumes only those queues and publishes its own tasks to the first one.
    ``concurrency`` above 1 runs a prefork pool of that many processes instead of the solo pool.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "CONN_MAX_AGE": "0",
            **(extra_env or {}),
        }
    )
    pool = ["--pool=solo"] if concurrency == 1 else ["--pool=prefork", f"--concurrency={concurrency}"]
    app_module, queue_args = "config", []
    if queues:
        app_module, queue_args = "tests.celery_worker", ["-Q", ",".join(queues)]
        env[QUEUE_ENV] = queues[0]
    log = mail_dir.parent / f"worker-{time.monotonic_ns()}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                app_module,
                "worker",
                *pool,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
                *queue_args,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + ready_timeout
        while "ready." not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield process
    finally:
        stop_process_group(process)


def stop_process_group(process: subprocess.Popen, *, timeout: float = 20) -> None:
    """SIGTERM the process group started with ``start_new_session=True``; SIGKILL it if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(condition, *, timeout: float = 30, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class SlowFileEmailBackend:
    """The file back end, with a mail server slow to close the session (``TEST_EMAIL_DELAY`` seconds).

    Lets a test kill a worker in the middle of a batch: a new file appears, and the worker is then
    still busy with that message for a while.
    """

    def __init__(self, *args, **kwargs):
        from django.core.mail.backends.filebased import EmailBackend

        self._backend = EmailBackend(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def send_messages(self, email_messages):
        sent = self._backend.send_messages(email_messages)
        time.sleep(float(os.environ.get("TEST_EMAIL_DELAY", "0")))
        return sent


def mail_recipients(mail_dir: Path) -> list[str]:
    """The ``To:`` address of every message written by the file e-mail back end."""
    import email

    recipients = []
    for path in sorted(mail_dir.iterdir()):
        # The file back end separates messages with a line of 79 dashes.
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                recipients.append(email.message_from_string(chunk.strip() + "\n")["To"])
    return recipients
