"""A real streaming replica (issue #20 item 6): a second PostgreSQL cluster on this machine, made with
``pg_basebackup -R`` from the test database's server, hot standby on a free port; the ``replica`` alias
points at its copy of the test database (the copy holds the whole cluster, ``test_<name>`` included).

Checked: the dashboard's reads go to the replica (a unit written while replay is paused is not on the
page, and is once replay catches up); a write goes to the primary and reaches the replica; the writer's
next page reads from the primary; the dashboard answers 200 from the primary while the replica lags
(replay paused, REPLICA_MAX_LAG_SECONDS exceeded) and while it is stopped, and reads the replica again
once it is back; a replica read costs at most one query more than the same page on the primary.

Needs PostgreSQL, its binaries (``/usr/lib/postgresql/<major>/bin``) and a ``replication`` line in the
primary's pg_hba.conf (.ci/run adds it). As root the cluster runs as the ``postgres`` user (initdb and
pg_ctl refuse root). The cluster is stopped and its directory deleted after this module, failed or not.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cells import services
from cells.models import Organisation
from cells.selectors import second_factor_required
from lib import replica

from ..conftest import require_or_skip
from ..factories import pass_second_factor
from ..replica import replica_alias

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
NEW_UNIT = "Chi bộ Công ty Cấp nước"
WAIT = 60  # seconds: the longest wait for the replica to start or to replay


def _free_port(start: int = 5442) -> int:
    for port in range(start, start + 100):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port for the replica")


@dataclass
class Cluster:
    bin_dir: Path
    root: Path
    port: int
    run_as: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    def run(self, program: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        command = [*self.run_as, str(self.bin_dir / program), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/tmp")
        assert result.returncode == 0, (command, result.stdout, result.stderr, self.log_tail())
        return result

    def log_tail(self) -> str:
        log = self.root / "log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""

    def start(self) -> None:
        """Start it and wait until it streams from the primary (its WAL receiver is connected)."""
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", str(WAIT), "start")
        deadline = time.monotonic() + WAIT
        while self.sql("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'", "postgres")[0] == 0:
            assert time.monotonic() < deadline, f"the replica does not stream: {self.log_tail()}"
            time.sleep(0.1)

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def sql(self, statement: str, database: str):
        """One statement on the replica (autocommit), its first row."""
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True) as c:
            return c.execute(statement).fetchone()


def _primary_settings() -> dict[str, str]:
    """What a hot standby must have at least as much of as its primary."""
    names = ("max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions")
    with connection.cursor() as cursor:
        values = {}
        for name in (*names, "max_locks_per_transaction"):
            cursor.execute(f"SHOW {name}")
            values[name] = cursor.fetchone()[0]
    return values


def _configure(cluster: Cluster, primary: dict[str, str]) -> None:
    """The copy has no configuration of its own (Debian keeps it in /etc/postgresql): write it."""
    lines = [
        f"port = {cluster.port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{cluster.root}'",
        "hot_standby = on",
        "shared_buffers = 16MB",
        "fsync = off",
        *(f"{name} = {value}" for name, value in primary.items()),
    ]
    files = {
        "postgresql.conf": "\n".join(lines) + "\n",
        "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        "pg_ident.conf": "",
    }
    for name, text in files.items():
        path = cluster.data / name
        path.write_text(text)
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")
        path.chmod(0o600)


def _make_cluster(db: dict, major: int) -> Cluster:
    bin_dir = Path(f"/usr/lib/postgresql/{major}/bin")
    require_or_skip(
        all((bin_dir / p).exists() for p in ("pg_basebackup", "pg_ctl")),
        f"the PostgreSQL {major} binaries (pg_basebackup, pg_ctl) are not in {bin_dir}",
    )
    root = Path(f"/tmp/portal-replica-{os.getpid()}")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(mode=0o700)
    run_as = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    return Cluster(bin_dir=bin_dir, root=root, port=_free_port(), run_as=run_as)


@pytest.fixture(scope="module")
def streaming_replica(django_db_setup, django_db_blocker):
    """The replica cluster, running, with the ``replica`` alias on its copy of the test database.

    Module-scoped: the alias exists before pytest-django builds each test's case (``databases``).
    """
    with django_db_blocker.unblock():
        require_or_skip(connection.vendor == "postgresql", "needs PostgreSQL (a streaming replica of its server)")
        db = dict(connection.settings_dict)
        major = connection.pg_version // 10000
        primary = _primary_settings()
    cluster = _make_cluster(db, major)
    try:
        cluster.run(
            "pg_basebackup",
            *(
                "-h",
                db.get("HOST") or "127.0.0.1",
                "-p",
                str(db.get("PORT") or 5432),
                "-U",
                db.get("USER") or "postgres",
            ),
            *("-D", str(cluster.data), "-R", "-X", "stream", "-c", "fast"),
        )
        _configure(cluster, primary)
        cluster.start()
        entry = {key: db[key] for key in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST")}
        with replica_alias(**entry, PORT=str(cluster.port), CONN_MAX_AGE=60, OPTIONS={"connect_timeout": 2}):
            yield cluster
    finally:
        with contextlib.suppress(Exception):
            cluster.run("pg_ctl", "-D", str(cluster.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(autouse=True)
def _checked_every_request(streaming_replica, settings):
    """The replica is checked on every replica read here, so that a fault is seen at the next page."""
    settings.REPLICA_CHECK_SECONDS = 0
    # Lag is not the subject of most tests: on a shared server the WAL of other databases keeps the
    # replica a fraction of a second behind, at times a few seconds; the lag test sets its own limit.
    settings.REPLICA_MAX_LAG_SECONDS = 30
    replica.reset_health()
    yield
    replica.reset_health()
    connections["replica"].close()


def _primary_lsn() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return cursor.fetchone()[0]


def wait_for_replica(cluster: Cluster, function: str = "pg_last_wal_replay_lsn") -> None:
    """Until the replica has replayed (or received) everything the primary has written so far."""
    lsn, database = _primary_lsn(), connection.settings_dict["NAME"]
    deadline = time.monotonic() + WAIT
    while not cluster.sql(f"SELECT {function}() >= '{lsn}'::pg_lsn", database)[0]:
        assert time.monotonic() < deadline, f"the replica did not reach {lsn}: {cluster.log_tail()}"
        time.sleep(0.1)


@contextlib.contextmanager
def replay_paused(cluster: Cluster):
    database = connection.settings_dict["NAME"]
    cluster.sql("SELECT pg_wal_replay_pause()", database)
    try:
        yield
    finally:
        cluster.sql("SELECT pg_wal_replay_resume()", database)


def logged_in(user) -> Client:
    """A browser of its own for ``user`` (the test's ``client_for`` has one browser)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if second_factor_required(user):
        pass_second_factor(client, user)
    return client


def dashboard(client, tree):
    """The Khối dashboard, and the queries it made on the primary and on the replica."""
    with CaptureQueriesContext(connections["default"]) as on_primary:
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            response = client.get(reverse("reports:dashboard", args=[tree.khoi.pk]))
    assert response.status_code == 200
    return response, len(on_primary), len(on_replica)


def _add_unit(client, tree):
    """The Khối admin adds a cell under the Khối on the portal's page: a write, by a POST."""
    response = client.post(
        reverse("cells:organisation_create", args=[tree.khoi.pk]),
        {
            "kind": "chi_bo_co_so",
            "name": NEW_UNIT,
            "short_code": "CB",
            "unit_type": "agency",
            "active_from": "01/03/2026",
        },
    )
    assert response.status_code == 302, response.content[:2000]


def test_reads_go_to_the_replica_and_the_writer_s_next_page_to_the_primary(
    streaming_replica, tree, people, client_for, settings
):
    settings.REPLICA_MAX_LAG_SECONDS = 600  # paused replay below must not count as lag here
    wait_for_replica(streaming_replica)
    viewer = client_for(people.viewer)
    page, on_primary, on_replica = dashboard(viewer, tree)
    assert tree.tccs.name in page.text and on_replica > 1 and replica.replica_lag() is not None
    # Only what comes before the view (the session and the user) is read from the primary.
    assert on_primary <= 3, on_primary

    with replay_paused(streaming_replica):
        admin = logged_in(people.admin)
        _add_unit(admin, tree)
        # The write is on the primary; the replica has it (received) but has not replayed it.
        assert Organisation.objects.using("default").filter(name=NEW_UNIT).exists()
        wait_for_replica(streaming_replica, "pg_last_wal_receive_lsn")
        assert not Organisation.objects.using("replica").filter(name=NEW_UNIT).exists()
        # The viewer reads the replica: not there yet. The writer's next page reads the primary: there.
        page, _primary, on_replica = dashboard(viewer, tree)
        assert NEW_UNIT not in page.text and on_replica > 1
        page, _primary, on_replica = dashboard(admin, tree)
        assert NEW_UNIT in page.text and on_replica == 0

    wait_for_replica(streaming_replica)
    assert Organisation.objects.using("replica").filter(name=NEW_UNIT).exists()
    page, _primary, on_replica = dashboard(viewer, tree)
    assert NEW_UNIT in page.text and on_replica > 1


def test_a_replica_read_costs_at_most_one_query_more(streaming_replica, tree, people, client_for, settings):
    # Both pages computed (the second would otherwise come from the figures' cache: reports.datacache).
    settings.DASHBOARD_CACHE_SECONDS = 0
    wait_for_replica(streaming_replica)
    viewer = client_for(people.viewer)
    _page, on_primary, on_replica = dashboard(viewer, tree)
    assert on_replica > 1
    # The same page pinned to the primary (a POST first: read-your-writes).
    viewer.post(reverse("set_language"), {"language": "vi", "next": "/"})
    _page, alone, none = dashboard(viewer, tree)
    assert none == 0
    assert on_primary + on_replica <= alone + 1, (on_primary, on_replica, alone)


def test_the_annual_report_reads_its_figures_from_the_replica(streaming_replica, tree, people):
    from reports.services import annual_report_content

    wait_for_replica(streaming_replica)
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        content = annual_report_content(scope=tree.khoi, year=2026)
    assert content["levels"][1]["rows"] and len(on_replica) > 1


def test_a_lagging_replica_leaves_the_dashboard_on_the_primary(streaming_replica, tree, people, client_for, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 1
    wait_for_replica(streaming_replica)
    viewer = client_for(people.viewer)
    with replay_paused(streaming_replica):
        services.organisation_create(parent=tree.khoi, kind=Organisation.Kind.CHI_BO_CO_SO, name=NEW_UNIT)
        wait_for_replica(streaming_replica, "pg_last_wal_receive_lsn")
        time.sleep(1.5)
        page, _primary, on_replica = dashboard(viewer, tree)
        # One query on the replica (the check found it behind), the page from the primary.
        assert NEW_UNIT in page.text and on_replica == 1 and replica.replica_lag() > 1
    # Replay resumed: the replica is read again (with the fixture's limit: see _checked_every_request).
    settings.REPLICA_MAX_LAG_SECONDS = 30
    wait_for_replica(streaming_replica)
    page, _primary, on_replica = dashboard(viewer, tree)
    assert NEW_UNIT in page.text and on_replica > 1 and replica.replica_lag() < 30


def test_a_stopped_replica_leaves_the_dashboard_on_the_primary(streaming_replica, tree, people, client_for, settings):
    wait_for_replica(streaming_replica)
    viewer = client_for(people.viewer)
    settings.REPLICA_CHECK_SECONDS = 600
    assert NEW_UNIT not in dashboard(viewer, tree)[0].text and replica.replica_usable()
    services.organisation_create(parent=tree.khoi, kind=Organisation.Kind.CHI_BO_CO_SO, name=NEW_UNIT)
    streaming_replica.stop()
    try:
        # The last check said "usable": the page's first replica read fails, and the page is read again
        # from the primary; the replica is marked down.
        page = viewer.get(reverse("reports:dashboard", args=[tree.khoi.pk]))
        assert page.status_code == 200 and NEW_UNIT in page.text and not replica.replica_usable()
        # Checked again at each page: refused at once, the primary answers.
        settings.REPLICA_CHECK_SECONDS = 0
        started = time.monotonic()
        page = viewer.get(reverse("reports:dashboard", args=[tree.khoi.pk]))
        assert page.status_code == 200 and NEW_UNIT in page.text and replica.replica_lag() is None
        assert time.monotonic() - started < 10
    finally:
        streaming_replica.start()
    wait_for_replica(streaming_replica)
    page, _primary, on_replica = dashboard(viewer, tree)
    assert NEW_UNIT in page.text and on_replica > 1
