"""Lighthouse on the member's and the secretary's pages as production serves them (issue #15 item 8).

    .venv/bin/python bench/lighthouse.py [--json bench/lighthouse.json] [--keep DIR] [--port 8765]

What it does, in a scratch folder (deleted afterwards unless ``--keep``):

1. a demo database in a temporary SQLite file (``migrate``, ``seed_demo``);
2. the production static files: ``collectstatic`` with the storage ``config/settings/base.py`` picks when DEBUG is
   off, WhiteNoise's ``CompressedManifestStaticFilesStorage`` (hashed names, gzip and Brotli copies);
3. gunicorn with DEBUG off on 127.0.0.1:PORT, WhiteNoise serving those files (far-future caching, compressed);
4. logs in through the login page as ``dangvien`` (member) and ``bithu`` (secretary);
5. runs ``npx --yes lighthouse@12.2.3`` (``--runs`` times per page, 3 by default: the median run is reported) with Debian's Chromium (``CHROME_PATH=/usr/bin/chromium``), its default
   mobile profile (Moto G Power, simulated slow 4G and 4× CPU), ``--only-categories=performance,accessibility``,
   the session cookie passed with ``--extra-headers``, on the member home, the RSVP page and the secretary home;
6. prints LCP, total transfer (KB), performance and accessibility scores per page, against the targets
   LCP ≤ 1.5 s and ≤ 150 KB transferred.

Plain HTTP on the loopback address: the secure-cookie flags are turned off for this server only
(SESSION_COOKIE_SECURE=0, CSRF_COOKIE_SECURE=0), as a TLS proxy in front of gunicorn would make them work.
Needs Node.js with npm (npx fetches Lighthouse from the npm registry on first use) and Debian's chromium.
Exit status 0 when every page meets both targets, 1 otherwise, 2 when something could not run.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = "lighthouse@12.2.3"
CHROME_PATH = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run --disable-quic"
)
LCP_TARGET_S = 1.5
TRANSFER_TARGET_KB = 150.0
ATTEMPTS = 3
PASSWORD = "demo-2026"  # demo.cells.DEMO_PASSWORD


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _environment(scratch: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "0",
            "DATABASE_URL": f"sqlite:///{scratch / 'demo.sqlite3'}",
            "STATIC_ROOT": str(scratch / "staticfiles"),
            "MEDIA_ROOT": str(scratch / "media"),
            "SECRET_KEY": "lighthouse-bench-" + "k" * 40 + "-not-a-production-key-0123456789",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_SSL_REDIRECT": "0",
        }
    )
    return env


def _run(command: list[str], env: dict[str, str], label: str) -> str:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"{label} failed (exit {done.returncode})")
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return done.stdout


def _page_paths(env: dict[str, str]) -> dict[str, str]:
    """The three pages' paths in the seeded demo, from Django itself (the RSVP link is signed with SECRET_KEY)."""
    script = (
        "import json\n"
        "from django.urls import reverse\n"
        "from cells.models import Member, Position\n"
        "from meetings.models import Meeting\n"
        "from meetings.services import rsvp_token\n"
        "from django.utils import timezone\n"
        "member = Member.objects.get(user__username='dangvien')\n"
        "cell = Position.objects.get(member__user__username='bithu', kind=Position.Kind.SECRETARY,"
        " end__isnull=True).organisation\n"
        "upcoming = (Meeting.objects.filter(organisation=cell, state=Meeting.State.NOTIFIED,"
        " planned_start__gt=timezone.now()).order_by('planned_start').first())\n"
        "print(json.dumps({'member home': reverse('meetings:my_home'),"
        " 'RSVP page': reverse('meetings:rsvp', args=[rsvp_token(meeting=upcoming, member=member)]),"
        " 'secretary home': reverse('meetings:cell_home', args=[cell.pk])}))\n"
    )
    output = _run([_python(), "manage.py", "shell", "-c", script], env, "page addresses")
    return json.loads(output.strip().splitlines()[-1])


def _wait_for(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not listen on port {port} within {timeout:.0f} s")


def _log_in(base: str, username: str) -> str:
    """The session cookie after logging in through the real login form (CSRF token and all)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/dang-nhap/").read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    data = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf}).encode()
    request = urllib.request.Request(base + "/dang-nhap/", data=data, headers={"Referer": base + "/dang-nhap/"})
    opener.open(request).read()
    session = next((cookie.value for cookie in jar if cookie.name == "sessionid"), None)
    if session is None:
        raise SystemExit(f"logging in as {username} failed: no session cookie")
    return f"sessionid={session}"


def _lighthouse(url: str, cookie: str, report: Path) -> dict:
    env = {**os.environ, "CHROME_PATH": CHROME_PATH}
    command = [
        "npx",
        "--yes",
        LIGHTHOUSE,
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        "--only-categories=performance,accessibility",
        "--form-factor=mobile",
        f"--chrome-flags={CHROME_FLAGS}",
        "--extra-headers",
        json.dumps({"Cookie": cookie}),
    ]
    for attempt in range(1, ATTEMPTS + 1):
        report.unlink(missing_ok=True)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode == 0 and report.exists():
            lhr = json.loads(report.read_text(encoding="utf-8"))
            if not lhr.get("runtimeError"):
                return lhr
        # Lighthouse sometimes loses the trace on a busy machine (NO_NAVSTART, NO_FCP): run it again.
        print(
            f"    lighthouse attempt {attempt} on {url} failed (exit {done.returncode}): "
            f"{(done.stderr.strip().splitlines() or [''])[-1][:200]}",
            file=sys.stderr,
            flush=True,
        )
    raise SystemExit(f"lighthouse failed on {url} {ATTEMPTS} times")


def _figures(name: str, url: str, lhr: dict) -> dict:
    audits, categories = lhr["audits"], lhr["categories"]
    lcp_s = audits["largest-contentful-paint"]["numericValue"] / 1000
    transfer_kb = audits["total-byte-weight"]["numericValue"] / 1024
    requests = [item for item in audits["network-requests"]["details"]["items"]]
    return {
        "page": name,
        "url": url,
        "lcp_s": round(lcp_s, 2),
        "fcp_s": round(audits["first-contentful-paint"]["numericValue"] / 1000, 2),
        "transfer_kb": round(transfer_kb, 1),
        "requests": len(requests),
        "performance": round(categories["performance"]["score"] * 100),
        "accessibility": round(categories["accessibility"]["score"] * 100),
        "met": lcp_s <= LCP_TARGET_S and transfer_kb <= TRANSFER_TARGET_KB,
        "resources": [
            {
                "url": item["url"].split("?")[0].rsplit("/", 1)[-1] or item["url"],
                "kb": round(item.get("transferSize", 0) / 1024, 1),
            }
            for item in requests
        ],
        "failed_accessibility_audits": [
            ref["id"]
            for ref in categories["accessibility"]["auditRefs"]
            if ref.get("weight") and (audits[ref["id"]].get("score") is not None) and audits[ref["id"]]["score"] < 1
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json", type=Path, help="write the figures (and each page's resources) to this file")
    parser.add_argument("--keep", type=Path, help="keep the scratch folder (database, static files, reports) here")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page; the median run is reported (3)")
    parser.add_argument(
        "--page", action="append", help="only this page (repeatable): member home, RSVP page, secretary home"
    )
    options = parser.parse_args(argv)
    for tool in ("npx", CHROME_PATH):
        if not shutil.which(tool):
            print(f"{tool} is not installed", file=sys.stderr)
            return 2

    scratch = options.keep or Path(tempfile.mkdtemp(prefix="lighthouse-"))
    scratch.mkdir(parents=True, exist_ok=True)
    env = _environment(scratch, options.port)
    base = f"http://127.0.0.1:{options.port}"
    print(f"Scratch folder {scratch}", flush=True)
    server = None
    try:
        if not (scratch / "demo.sqlite3").exists():
            _run([_python(), "manage.py", "migrate", "--noinput", "-v0"], env, "migrate")
            _run([_python(), "manage.py", "seed_demo", "-v0"], env, "seed_demo")
        _run(
            [_python(), "manage.py", "collectstatic", "--noinput", "--clear", "-v0"],
            env,
            "collectstatic (hashed, gzip + Brotli)",
        )
        paths = _page_paths(env)
        gunicorn = str(Path(_python()).with_name("gunicorn"))
        server = subprocess.Popen(
            [
                gunicorn if Path(gunicorn).exists() else "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{options.port}",
                "--workers",
                str(options.workers),
                "--access-logfile",
                str(scratch / "access.log"),
                "--error-logfile",
                str(scratch / "gunicorn.log"),
            ],
            cwd=ROOT,
            env=env,
        )
        _wait_for(options.port, server)
        cookies = {"member": _log_in(base, "dangvien"), "secretary": _log_in(base, "bithu")}
        pages = [("member home", "member"), ("RSVP page", "member"), ("secretary home", "secretary")]
        results = []
        for name, who in [page for page in pages if not options.page or page[0] in options.page]:
            url = base + paths[name]
            started = time.perf_counter()
            runs = [
                _figures(name, url, _lighthouse(url, cookies[who], scratch / f"{name.replace(' ', '-')}-{run}.json"))
                for run in range(options.runs)
            ]
            runs.sort(key=lambda row: row["lcp_s"])
            median = dict(runs[len(runs) // 2], lcp_runs_s=[row["lcp_s"] for row in runs])
            results.append(median)
            print(f"  lighthouse {name}, {options.runs} runs: {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if options.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)

    print(
        f"\nLighthouse {LIGHTHOUSE.split('@')[1]}, mobile profile; targets LCP ≤ {LCP_TARGET_S} s, "
        f"transfer ≤ {TRANSFER_TARGET_KB:.0f} KB"
    )
    print(f"(the median of {options.runs} runs by LCP; every run's LCP in brackets)")
    print(f"{'page':<16} {'LCP s':>6} {'FCP s':>6} {'KB':>7} {'req':>4} {'perf':>5} {'a11y':>5}  met  LCP of each run")
    for row in results:
        print(
            f"{row['page']:<16} {row['lcp_s']:>6.2f} {row['fcp_s']:>6.2f} {row['transfer_kb']:>7.1f} "
            f"{row['requests']:>4} {row['performance']:>5} {row['accessibility']:>5}  {'yes' if row['met'] else 'NO ':<3}"
            f"  {row['lcp_runs_s']}"
        )
        if row["failed_accessibility_audits"]:
            print(f"    accessibility audits not passed: {', '.join(row['failed_accessibility_audits'])}")
    print(f"load average {os.getloadavg()[0]:.2f} (Lighthouse's simulated throttling scales the CPU time it observed)")
    if options.json:
        options.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if all(row["met"] for row in results) else 1


if __name__ == "__main__":
    sys.exit(main())
