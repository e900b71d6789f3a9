"""PostgreSQL restarted while a real gunicorn server (2 workers, CONN_MAX_AGE=60) holds connections.

Each worker keeps a persistent connection; the fault kills them all. With ``CONN_HEALTH_CHECKS`` (base.py)
the next requests all succeed, because a worker checks a reused connection before its first query and
reconnects; without it, a worker's first request after the fault answers 500 (the control test shows
the fault is real). Requests that arrive while the database refuses connections get the portal's 500
page at once, not a hang.

The fault is real either way:

* ``FAULT_PG_RESTART=1`` (CI, where nothing else uses the server): ``pg_ctlcluster ... restart`` (and
  ``stop``/``start`` for the outage), waiting for ``pg_isready``;
* otherwise (a shared development server): every backend of the test database except this process's
  own is terminated with ``pg_terminate_backend``, and for the outage the test database stops
  accepting connections (``ALLOW_CONNECTIONS false``). To the server's workers both look like a
  restarted or stopped PostgreSQL: the socket is closed by the server, new connections are refused.
"""

import contextlib
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection, connections
from django.urls import reverse

from ..conftest import require_or_skip
from .server import REQUEST_TIMEOUT, Visitor, running_server

pytestmark = pytest.mark.django_db(transaction=True)
REAL_RESTART = os.environ.get("FAULT_PG_RESTART") == "1"
REQUESTS_AFTER_FAULT = 12


@pytest.fixture
def postgres(transactional_db):
    require_or_skip(
        connection.vendor == "postgresql", "needs PostgreSQL (a server process cannot share the SQLite test database)"
    )
    return connection.settings_dict["NAME"]


def server_backends(database: str) -> set[int]:
    """Process ids of the connections to the test database other than this process's own."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database])
        return {pid for (pid,) in cursor.fetchall()}


def _cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _wait_until_accepting(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], timeout=30).returncode != 0:
        assert time.monotonic() < deadline, "PostgreSQL did not come back"
        time.sleep(0.5)
    # This process's own connection died with the server: drop it so the next query (and the
    # transactional test's flush at teardown) opens a new one.
    connections.close_all()


def drop_every_connection(database: str) -> None:
    """PostgreSQL goes away and comes back: every open connection of the server's workers dies."""
    if REAL_RESTART:
        _cluster("restart")
        _wait_until_accepting()
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
    # pg_terminate_backend only signals: wait until the backends have exited.
    deadline = time.monotonic() + 30
    while server_backends(database):
        assert time.monotonic() < deadline, "the terminated backends did not exit"
        time.sleep(0.05)


@contextlib.contextmanager
def database_down(database: str):
    """PostgreSQL is down for the duration of the block: open connections die and new ones are refused."""
    if REAL_RESTART:
        _cluster("stop")
        try:
            yield
        finally:
            _cluster("start")
            _wait_until_accepting()
        return
    quoted = connection.ops.quote_name(database)
    with _maintenance_connection() as maintenance:  # a database cannot refuse the session altering it
        maintenance.execute(f"ALTER DATABASE {quoted} ALLOW_CONNECTIONS false")
        drop_every_connection(database)
        try:
            yield
        finally:
            maintenance.execute(f"ALTER DATABASE {quoted} ALLOW_CONNECTIONS true")


def _maintenance_connection():
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )


def pages(tree) -> list[str]:
    """Logged-in pages that query the database: the member list and the cell's meetings."""
    return [reverse("cells:member_list"), reverse("meetings:cell_list", args=[tree.cell.pk])]


def hold_a_connection_in_every_worker(visitor: Visitor, paths: list[str], database: str, workers: int = 2) -> set[int]:
    """Send parallel requests until each worker holds its persistent connection."""
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(max_workers=workers * 2) as pool:
        while True:
            answers = list(pool.map(visitor.get, paths * workers))
            assert all(answer.status == 200 for answer in answers), (answers, visitor.server.log_tail())
            held = server_backends(database)
            if len(held) >= workers:
                return held
            assert time.monotonic() < deadline, f"only {len(held)} worker connection(s) after 60 s"


def requests_after_fault(visitor: Visitor, paths: list[str]) -> list[int]:
    """The next requests, two at a time so that both workers serve some of them."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(visitor.get, (paths * REQUESTS_AFTER_FAULT)[:REQUESTS_AFTER_FAULT]))
    return [answer.status for answer in answers]


def test_requests_after_a_postgres_restart_all_succeed(postgres, tree, people, tmp_path: Path):
    # CONN_HEALTH_CHECKS as base.py sets it (on); `CONN_HEALTH_CHECKS=0 pytest ...` makes this test fail.
    with running_server(tmp_path) as server:
        secretary = Visitor(server)
        secretary.log_in("secretary")
        held = hold_a_connection_in_every_worker(secretary, pages(tree), postgres)

        drop_every_connection(postgres)
        assert not held & server_backends(postgres), "the workers' connections must be gone"

        statuses = requests_after_fault(secretary, pages(tree))
        assert statuses == [200] * REQUESTS_AFTER_FAULT, server.log_tail()
        assert server_backends(postgres) and not held & server_backends(postgres), "the workers reconnected"
        assert "OperationalError" not in server.log.read_text()


def test_without_health_checks_a_worker_answers_500_after_the_restart(postgres, tree, people, tmp_path: Path):
    """The control: the same fault with CONN_HEALTH_CHECKS off gives the 500s the setting prevents."""
    with running_server(tmp_path, extra_env={"CONN_HEALTH_CHECKS": "0"}) as server:
        secretary = Visitor(server)
        secretary.log_in("secretary")
        hold_a_connection_in_every_worker(secretary, pages(tree), postgres)

        drop_every_connection(postgres)

        statuses = requests_after_fault(secretary, pages(tree))
        assert 500 in statuses, statuses
        # A broken connection is closed after the failed request: each worker fails once, then recovers.
        assert statuses.count(500) <= 2, statuses
        assert "OperationalError" in server.log.read_text()


def test_requests_while_postgres_is_down_get_the_error_page_at_once(postgres, tree, people, tmp_path: Path):
    with running_server(tmp_path) as server:
        secretary = Visitor(server)
        secretary.log_in("secretary")
        hold_a_connection_in_every_worker(secretary, pages(tree), postgres)

        with database_down(postgres):
            answers = [secretary.get(path) for path in pages(tree) * 2]
            anonymous = Visitor(server).get(reverse("login"))

        for answer in answers:
            assert answer.status == 500, (answer, server.log_tail())
            assert answer.elapsed < REQUEST_TIMEOUT / 2, "an answer, not a hang"
            assert "Hệ thống tạm thời gặp sự cố" in answer.text
            assert answer.headers["Content-Type"].startswith("text/html")
            assert answer.headers["Content-Security-Policy"]
        # The login page itself needs no database: it still answers.
        assert anonymous.status == 200, anonymous

        assert requests_after_fault(secretary, pages(tree)) == [200] * REQUESTS_AFTER_FAULT, server.log_tail()
