"""Load test (issue #9, item 7): gunicorn and locust, simulated users against the province data set.

    .venv/bin/pip install -r bench/requirements-load.txt
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/load.py \\
        --users 50 --spawn-rate 10 --duration 60 --json bench/load-province.json

Works on the benchmark database ``bench_<scale>`` of the DATABASE_URL server (built by bench/run.py;
this script never builds it). Steps: find the pages, ids and signed RSVP links the simulated users
need (a Django setup step, written to a temporary JSON plan); ``collectstatic`` into a temporary
STATIC_ROOT; start gunicorn on ``config.wsgi`` with ``config.settings.base`` set up by environment as
in production (DEBUG off, WhiteNoise, manifest storage) on a free port; run
``locust --headless -f bench/locustfile.py``; stop gunicorn. Prints requests/s, median and 95th
percentile per page and overall, the answers by status code, the load average before and after, the
CPU used by gunicorn, PostgreSQL and locust, and any traceback from the gunicorn log. Exit status 1 when any
request got a 5xx or no answer at all (a dropped connection is what a proxy turns into a 502).
See bench/README.md, "Load test".
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VENV_BIN = Path(sys.executable).parent
# Settings gunicorn runs with: the production settings, STATIC_ROOT moved out of the working tree.
SETTINGS_MODULE = "portal_load_settings"
SETTINGS_SOURCE = '''\
"""Written by bench/load.py: the production settings, collectstatic output in a temporary directory."""
from pathlib import Path

from config.settings.base import *  # noqa: F403

STATIC_ROOT = Path({static_root!r})
'''


# --- the data set --------------------------------------------------------------------------


def configure(args) -> str:
    """Point Django at ``bench_<scale>``; stop with instructions when it is missing or not built."""
    from bench.data import SCALES, server_and_name

    url = os.environ.get("DATABASE_URL", "")
    if url.split("://", 1)[0] not in ("postgres", "postgresql", "pgsql"):
        sys.exit(
            "bench/load.py runs against PostgreSQL only: set DATABASE_URL to the server of the benchmark "
            "data, e.g.\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/load.py"
        )
    server, _name = server_and_name(url)
    name = args.database or f"bench_{args.scale}"
    build_hint = (
        f"build it first (about a minute at province scale):\n"
        f"  DATABASE_URL={server}/postgres .venv/bin/python bench/run.py --scale {args.scale} "
        f"{'--database ' + name + ' ' if args.database else ''}--build-only"
    )
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            sys.exit(f"database {name} does not exist on {server}: {build_hint}")
    os.environ["DATABASE_URL"] = f"{server}/{name}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from bench import data

    if data.built(SCALES[args.scale]) is None:
        sys.exit(f"database {name} holds no finished {args.scale} build: {build_hint}")
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        # bench/run.py migrates before it measures; this script leaves the schema to it.
        sys.exit(
            f"database {name} lacks {len(pending)} migration(s) of the working tree "
            f"({', '.join(f'{m.app_label}.{m.name}' for m, _backwards in pending)}): apply them with\n"
            f"  DATABASE_URL={server}/postgres .venv/bin/python bench/run.py --scale {args.scale} "
            f"{'--database ' + name + ' ' if args.database else ''}--build-only"
        )
    return f"{server}/{name}"


def second_factor_codes(user, count: int) -> list[str]:
    """Recovery codes for the committee users' second factor (issue #21): the account is enrolled (a TOTP
    device) and gets ``count`` fresh single-use codes, one per simulated login, as after the code page.
    Without them every committee page answers 302 to the code page."""
    import base64

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cells.models import RecoveryCode, RecoveryCodeDevice
    from cells.services.accounts import recovery_code_format

    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [base64.b32encode(secrets.token_bytes(10)).decode() for _n in range(count)]
    RecoveryCode.objects.bulk_create([RecoveryCode(device=device, code_hash=RecoveryCode.digest(c)) for c in codes])
    return [recovery_code_format(code) for code in codes]


def prepare_plan(*, rsvp_margin: datetime.timedelta, logins: int = 50) -> dict:
    """What the simulated users open: accounts, ids found in the data, signed RSVP links."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q
    from django.urls import reverse
    from django.utils import timezone

    from cells.models import Member, Organisation, RoleAssignment
    from demo.cells import DEMO_PASSWORD
    from meetings.models import Attendance, Meeting
    from meetings.services import rsvp_token

    users = {u.username: u for u in get_user_model().objects.filter(username__in=["capuy", "danguy", "bithu"])}
    missing = {"capuy", "danguy", "bithu"} - set(users)
    if missing:
        sys.exit(f"the demo accounts {sorted(missing)} are missing from the data set (demo.cells creates them)")
    root = Organisation.objects.get(depth=1, kind=Organisation.Kind.KHOI)
    cell = Organisation.objects.get(
        pk=RoleAssignment.objects.filter(user=users["bithu"]).values_list("organisation", flat=True).first()
    )
    officer_tccs = RoleAssignment.objects.filter(user=users["danguy"]).values_list("organisation", flat=True).first()
    cells = Organisation.objects.filter(kind__in=Organisation.CELL_KINDS)
    # The đảng ủy cơ sở a committee member opens: the five largest and the demo officer's, by cell count.
    tccs = sorted(
        Organisation.objects.filter(kind__in=Organisation.TCCS_KINDS),
        key=lambda org: -cells.filter(path__startswith=org.path).count(),
    )
    tccs_ids = list(dict.fromkeys([org.pk for org in tccs[:5]] + [officer_tccs]))
    # The secretary's own meetings, latest first: the ones a secretary goes back to.
    meeting_ids = list(
        Meeting.objects.filter(organisation=cell).order_by("-planned_start").values_list("pk", flat=True)[:12]
    )
    big_cell = cells.annotate(n=Count("members", filter=Q(members__state=Member.State.ACTIVE))).order_by("-n").first()

    # One-click links: unexempted rows of notified meetings that start after the run has ended.
    now = timezone.now()
    rows = (
        Attendance.objects.filter(meeting__state=Meeting.State.NOTIFIED, meeting__planned_start__gt=now + rsvp_margin)
        .exclude(presence=Attendance.Presence.EXEMPT)
        .select_related("meeting", "member")
        .order_by("pk")
    )
    rsvp_open = rows.exists()
    if rsvp_open:
        meetings = sorted({row.meeting_id for row in rows})
        rsvp_note = (
            f"{rows.count()} members of {len(meetings)} notified meeting(s) that start later "
            f"({', '.join(map(str, meetings))}); answers are written to the database"
        )
    else:
        # No meeting open for answers: links to the latest held meetings. The page shows them closed
        # and the POST is refused by the service (200 with the message), so no row is written.
        rows = (
            Attendance.objects.filter(meeting__state=Meeting.State.MINUTES_ADOPTED)
            .select_related("meeting", "member")
            .order_by("-meeting__planned_start", "pk")[:50]
        )
        rsvp_note = (
            "no notified meeting starts after the run: links to held meetings (answers refused, nothing written)"
        )
    rsvp_paths = [reverse("meetings:rsvp", args=[rsvp_token(meeting=row.meeting, member=row.member)]) for row in rows]

    return {
        "password": DEMO_PASSWORD,
        "accounts": {"secretary": "bithu", "committee": "capuy", "officer": "danguy"},
        "login": reverse("login"),
        "second_factor": reverse("two_factor_verify"),
        "recovery_codes": second_factor_codes(users["capuy"], logins),
        "khoi_dashboard": reverse("reports:dashboard", args=[root.pk]),
        "tccs_dashboards": [reverse("reports:dashboard", args=[pk]) for pk in tccs_ids],
        "cell_page": reverse("cells:organisation_detail", args=[cell.pk]),
        "big_cell_page": reverse("cells:organisation_detail", args=[big_cell.pk]),
        "meeting_list": reverse("meetings:cell_list", args=[cell.pk]),
        "meetings": [reverse("meetings:detail", args=[pk]) for pk in meeting_ids],
        "member_lists": [
            reverse("cells:member_list") + query
            for query in ("?status=chinh_thuc", "?q=Nguy%E1%BB%85n", "?exempt=no", "?status=du_bi")
        ],
        "rsvp_paths": rsvp_paths,
        "rsvp_open": rsvp_open,
        "rsvp_note": rsvp_note,
    }


# --- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(*, database_url: str, workdir: Path, scale: str, port: int) -> dict:
    """Production settings by environment (config/settings/base.py), except what plain HTTP needs."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        PYTHONPATH=os.pathsep.join([str(workdir), str(ROOT)]),
        DATABASE_URL=database_url,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=f"http://127.0.0.1:{port}",
        # Production is behind HTTPS; this server speaks plain HTTP, where a client keeps secure cookies to itself.
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        MEDIA_ROOT=str(ROOT / "bench" / f".media-{scale}"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
    )
    return env


def write_settings(workdir: Path) -> None:
    (workdir / f"{SETTINGS_MODULE}.py").write_text(SETTINGS_SOURCE.format(static_root=str(workdir / "static")))


def collectstatic(env: dict, workdir: Path) -> None:
    """Collect with the production storage (hashed names, compressed copies, manifest), as a deployment does."""
    write_settings(workdir)
    command = [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "--clear", "-v", "0"]
    log = workdir / "collectstatic.log"
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        sys.exit(f"collectstatic failed with the production storage (a deployment would stop too); see {log}")


def start_gunicorn(args, env: dict, port: int, log: Path) -> subprocess.Popen:
    command = [
        str(VENV_BIN / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        args.worker_class,
        "--workers",
        str(args.workers),
        "--graceful-timeout",
        "10",
        "--timeout",
        "30",
        "--keep-alive",
        str(args.keepalive),
        "--log-level",
        "warning",
        "--error-logfile",
        "-",
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    out = log.open("a")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_up(server: subprocess.Popen, base: str, path: str, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(base + path, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {path} with 200 within {timeout:.0f} s")


def check_static(base: str, login_path: str) -> str:
    """A stylesheet the login page links to must answer 200 (WhiteNoise, hashed name from the manifest)."""
    with urllib.request.urlopen(base + login_path, timeout=10) as response:
        html = response.read().decode()
    found = re.search(r'href="(/static/[^"]+\.css)"', html)
    if not found:
        raise RuntimeError("the login page links no stylesheet under /static/")
    with urllib.request.urlopen(base + found.group(1), timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"{found.group(1)} answered {response.status}")
    return found.group(1)


def cpu_times(*, master: int, database_url: str) -> dict[str, dict[int, float]]:
    """CPU seconds used so far by gunicorn (master and workers) and by the PostgreSQL backends of the
    data set's database (any client's). Less sensitive to a busy machine than response times."""
    import psycopg

    server, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        backends = [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name]
            )
        ]
    workers = [pid for pid in _pids() if _stat(pid)[1] == master]
    return {
        "gunicorn": {pid: _stat(pid)[0] for pid in [master, *workers]},
        "postgres": {pid: _stat(pid)[0] for pid in backends},
    }


def cpu_used(start: dict, end: dict) -> dict[str, float]:
    return {
        part: round(sum(seconds - start[part].get(pid, 0.0) for pid, seconds in end[part].items()), 2) for part in end
    }


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _stat(pid: int) -> tuple[float, int]:
    """(user + system CPU seconds, parent pid) of a process from /proc; (0, 0) once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0, 0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[1])


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # graceful: workers finish their requests
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def tracebacks(log: Path, limit: int = 5) -> list[str]:
    """The first ``limit`` tracebacks (with the log line before each) in the gunicorn log."""
    lines = log.read_text(errors="replace").splitlines()
    found, index = [], 0
    while index < len(lines) and len(found) < limit:
        if lines[index].startswith("Traceback"):
            end = index + 1
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                end += 1
            found.append("\n".join(lines[max(0, index - 1) : end + 1]))
            index = end
        index += 1
    return found


# --- the figures ---------------------------------------------------------------------------


def figures(run: dict) -> tuple[list[dict], dict[str, int], dict[str, int]]:
    """Per page and overall: requests, requests/s, median and 95th percentile (nearest rank), failures;
    the answers by HTTP status; the failures by page and reason."""
    seconds = max(run.get("stopped", 0) - run.get("started", 0), 1e-9)
    by_page: dict[tuple[str, str], list] = {}
    for method, name, ms, _status, failure in run["samples"]:
        by_page.setdefault((method, name), []).append((ms, failure))
    rows = []
    for (method, name), samples in sorted(by_page.items(), key=lambda item: item[0][1]):
        rows.append(_row(method, name, samples, seconds))
    rows.append(_row("", "all requests", [(ms, failure) for _m, _n, ms, _s, failure in run["samples"]], seconds))
    statuses = Counter(str(status) for *_rest, status, _failure in run["samples"])
    failures = Counter(
        f"{method} {name}: {failure}" for method, name, _ms, _status, failure in run["samples"] if failure
    )
    return rows, dict(sorted(statuses.items())), dict(failures.most_common())


def _row(method: str, name: str, samples: list, seconds: float) -> dict:
    times = sorted(ms for ms, _failure in samples)
    return {
        "method": method,
        "name": name,
        "requests": len(times),
        "rps": round(len(times) / seconds, 2),
        "median_ms": statistics.median(times) if times else None,
        "p95_ms": times[max(0, math.ceil(0.95 * len(times)) - 1)] if times else None,
        "max_ms": times[-1] if times else None,
        "failures": sum(1 for _ms, failure in samples if failure),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> dict:
    one, five, fifteen = os.getloadavg()
    return {"load_1m": round(one, 2), "load_5m": round(five, 2), "load_15m": round(fifteen, 2), "cpus": os.cpu_count()}


def table(stats: list[dict]) -> str:
    header = ("page", "requests", "req/s", "median ms", "p95 ms", "max ms", "failures")
    rows = [header] + [
        (
            f"{s['method']} {s['name']}".strip(),
            str(s["requests"]),
            f"{s['rps']:.2f}",
            _fmt(s["median_ms"]),
            _fmt(s["p95_ms"]),
            _fmt(s["max_ms"]),
            str(s["failures"]),
        )
        for s in stats
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if index in (0, len(rows) - 2):  # under the header, above the overall row
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


# --- command line --------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated users (default 50)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second (default 10)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument(
        "--worker-class",
        choices=["gthread", "sync"],
        default="gthread",
        help="gunicorn worker class (default gthread; see bench/README.md)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    parser.add_argument(
        "--keepalive",
        type=int,
        default=10,
        help="seconds gunicorn keeps an idle connection (default 10, above the 5 s think time: "
        "with gunicorn's 2 s a user's next request can race the close and get a reset)",
    )
    parser.add_argument("--scale", default="province", help="data set bench_<scale> (default province)")
    parser.add_argument("--database", help="database name on the DATABASE_URL server (default bench_<scale>)")
    parser.add_argument("--json", metavar="FILE", help="write the figures to FILE as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (plan, CSV, gunicorn log)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="no server: replay the users' pages in this process and print the CPU ms and queries of each "
        "(bench/profile_requests.py)",
    )
    parser.add_argument("--repeat", type=int, default=20, help="with --profile: requests per page (default 20)")
    parser.add_argument("--cprofile", metavar="FILE", help="with --profile: write cProfile statistics to FILE")
    parser.add_argument("--page", default="", help="with --profile: only the pages whose name contains this")
    return parser.parse_args(argv)


def profile_in_process(args, plan: dict) -> int:
    """``--profile``: CPU ms and queries per page in this process, and the load test's mix (no server)."""
    from bench import profile_requests

    before = load_average()
    rows = profile_requests.profile(plan, repeat=args.repeat, cprofile_file=args.cprofile, only=args.page)
    print(profile_requests.table(rows))
    print(f"load average before {before['load_1m']}, after {load_average()['load_1m']} ({os.cpu_count()} CPUs)")
    if args.json:
        Path(args.json).write_text(json.dumps({"profile": rows, "repeat": args.repeat}, ensure_ascii=False, indent=2))
        print(f"wrote {args.json}")
    if args.cprofile:
        print(f"cProfile statistics in {args.cprofile} (python -m pstats {args.cprofile})")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if not (VENV_BIN / "locust").exists():
        sys.exit(f"locust is not installed in {VENV_BIN.parent}: .venv/bin/pip install -r bench/requirements-load.txt")
    # One key for this process and the server: the RSVP links are signed here and checked there.
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    database_url = configure(args)
    plan = prepare_plan(rsvp_margin=datetime.timedelta(seconds=args.duration + 600), logins=args.users)
    if args.profile:
        return profile_in_process(args, plan)
    from django.db import connections

    connections.close_all()
    workdir = Path(tempfile.mkdtemp(prefix="portal-load-"))
    plan_file = workdir / "plan.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False, indent=2))
    print(
        f"load: {args.users} users ({args.spawn_rate:g}/s) for {args.duration} s on {database_url}; "
        f"gunicorn {args.worker_class} {args.workers} workers"
        + (f" × {args.threads} threads" if args.worker_class == "gthread" else "")
    )
    print(f"RSVP links: {plan['rsvp_note']}")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(database_url=database_url, workdir=workdir, scale=args.scale, port=port)
    log = workdir / "gunicorn.log"
    collectstatic(env, workdir)
    before = load_average()
    server = start_gunicorn(args, env, port, log)
    samples_file, locust_log = workdir / "samples.json", workdir / "locust.log"
    try:
        try:
            wait_until_up(server, base, plan["login"])
            stylesheet = check_static(base, plan["login"])
        except (RuntimeError, OSError) as error:
            sys.exit(f"{error}; see {log}")
        print(f"gunicorn up on {base}; {stylesheet} answers 200; locust running …", flush=True)
        locust_env = dict(os.environ, PORTAL_LOAD_PLAN=str(plan_file), PORTAL_LOAD_SAMPLES=str(samples_file))
        cpu_start, locust_cpu_start = cpu_times(master=server.pid, database_url=database_url), _children_cpu()
        with locust_log.open("w") as out:
            locust = subprocess.run(
                [
                    str(VENV_BIN / "locust"),
                    "--headless",
                    "-f",
                    str(ROOT / "bench" / "locustfile.py"),
                    "-u",
                    str(args.users),
                    "-r",
                    str(args.spawn_rate),
                    "-t",
                    f"{args.duration}s",
                    "--host",
                    base,
                    "--csv",
                    str(workdir / "locust"),
                    "--only-summary",
                    "--stop-timeout",
                    "10",
                ],
                cwd=ROOT,
                env=locust_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        after = load_average()
        cpu = {
            **cpu_used(cpu_start, cpu_times(master=server.pid, database_url=database_url)),
            "locust": round(_children_cpu() - locust_cpu_start, 2),
        }
    finally:
        stop_gunicorn(server)
    if not samples_file.exists():
        sys.exit(f"locust ended (exit {locust.returncode}) without writing its samples; see {locust_log}")

    run = json.loads(samples_file.read_text())
    pages, statuses, failures = figures(run)
    server_errors = sum(n for code, n in statuses.items() if code == "0" or code.startswith("5"))
    found = tracebacks(log)
    total = pages[-1]
    print()
    print(table(pages))
    print(
        f"\nanswers by status: {', '.join(f'{code}: {n}' for code, n in statuses.items()) or '—'}"
        " (0: no answer; -1: not sent, the form page had no CSRF token)"
    )
    print(f"5xx or no answer: {server_errors}")
    for failure, count in failures.items():
        print(f"  failure ×{count}: {failure}")
    print(
        f"overall: {total['rps']:.1f} requests/s, median {_fmt(total['median_ms'])} ms, "
        f"p95 {_fmt(total['p95_ms'])} ms, {total['failures']} failures of {total['requests']} requests"
    )
    print(
        f"load average before {before['load_1m']}, after {after['load_1m']} ({after['cpus']} CPUs); "
        "locust and gunicorn share the machine"
    )
    served = total["requests"]
    print(
        f"CPU during the run: gunicorn {cpu['gunicorn']:.1f} s ({1000 * cpu['gunicorn'] / max(served, 1):.0f} ms "
        f"a request), PostgreSQL backends {cpu['postgres']:.1f} s ({1000 * cpu['postgres'] / max(served, 1):.0f} ms "
        f"a request), locust {cpu['locust']:.1f} s"
    )
    if found:
        print(f"\n{len(found)} traceback(s) in the gunicorn log (the first ones):\n")
        print("\n\n".join(found))
    if args.json:
        payload = {
            "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "database": database_url.rsplit("/", 1)[-1],
            "users": args.users,
            "spawn_rate": args.spawn_rate,
            "duration_s": args.duration,
            "measured_s": round(run.get("stopped", 0) - run.get("started", 0), 1),
            "gunicorn": {
                "worker_class": args.worker_class,
                "workers": args.workers,
                "keepalive_s": args.keepalive,
                "threads": args.threads if args.worker_class == "gthread" else 1,
            },
            "machine_before": before,
            "machine_after": after,
            "cpu_seconds": cpu,
            "rsvp": plan["rsvp_note"],
            "statuses": statuses,
            "server_errors": server_errors,
            "failures": failures,
            "pages": pages,
            "tracebacks": found,
        }
        Path(args.json).write_text(json.dumps(payload, ensure_ascii=False, indent=2))
        print(f"wrote {args.json}")
    if args.keep or found or server_errors:
        print(f"work directory kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
