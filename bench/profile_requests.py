"""CPU per request in one process (issue #20, item 5): the mix of bench/load.py replayed through
Django's test client, with ``time.process_time`` around each request, and its queries counted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/load.py \\
        --database bench_load_province --profile [--repeat 20] [--cprofile FILE]

Called by ``bench/load.py --profile`` (the same plan, the same settings as gunicorn's: DEBUG off,
production middleware). No server and no locust: the figure is the CPU the Django process spends per
page, which is what caps the requests a core serves (on a shared machine steadier than response
times; PostgreSQL's own CPU is not in it). The overall figure weighs the pages as the load test's
users ask for them (bench/locustfile.py: 4 secretaries, 4 members confirming, 2 committee members,
the same think time). ``--cprofile FILE`` writes the cProfile statistics of the whole replay.
"""

from __future__ import annotations

import cProfile
import random
import re
import statistics
import time

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _client(user=None):
    from django.test import Client

    from bench.run import Bench

    client = Client()
    if user is not None:
        client.force_login(user)
        Bench._pass_second_factor(client, user)
    return client


def _pages(plan: dict) -> list[tuple[str, float, object]]:
    """(page, share of the load test's requests, a function making one request and returning its status)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.in_bulk(plan["accounts"].values(), field_name="username")
    secretary = _client(users[plan["accounts"]["secretary"]])
    committee = _client(users[plan["accounts"]["committee"]])
    anonymous = _client()
    rng = random.Random(20)

    def get(client, url):
        return lambda: client.get(url() if callable(url) else url).status_code

    def rsvp_post():
        path = rng.choice(plan["rsvp_paths"])
        member = _client()
        page = member.get(path).content.decode()
        token = CSRF.search(page)
        start = time.process_time()
        status = member.post(
            path, {"csrfmiddlewaretoken": token.group(1) if token else "", "answer": "yes"}
        ).status_code
        return status, time.process_time() - start

    # Locust's tasks: a secretary and a committee member ask for one page a think time (weights per task);
    # a member confirming asks for three (the page, the POST, the page again). Users 4 : 4 : 2.
    secretary_share, member_share, committee_share = 4 * 1, 4 * 3, 2 * 1
    total = secretary_share + member_share + committee_share
    s, m, c = secretary_share / total, member_share / total, committee_share / total
    dashboards = plan["tccs_dashboards"]
    return [
        ("cell page", s * 2 / 9, get(secretary, plan["cell_page"])),
        ("meeting list", s * 2 / 9, get(secretary, plan["meeting_list"])),
        ("meeting page", s * 3 / 9, get(secretary, lambda: rng.choice(plan["meetings"]))),
        ("member list (filtered)", s * 2 / 9, get(secretary, lambda: rng.choice(plan["member_lists"]))),
        ("RSVP page", m * 2 / 3, get(anonymous, lambda: rng.choice(plan["rsvp_paths"]))),
        ("RSVP POST (yes)", m * 1 / 3, rsvp_post),
        ("Khối dashboard", c * 3 / 11, get(committee, plan["khoi_dashboard"])),
        ("ĐUCS dashboard", c * 3 / 11, get(committee, lambda: rng.choice(dashboards))),
        ("drill-down", c * 4 / 11, get(committee, lambda: _drill(committee, plan))),
        ("cell page (largest cell)", c * 1 / 11, get(committee, plan["big_cell_page"])),
        ("login page", 0.0, get(anonymous, plan["login"])),
    ]


_DRILLS: list[str] = []


def _drill(client, plan) -> str:
    if not _DRILLS:
        page = client.get(plan["khoi_dashboard"]).content.decode()
        _DRILLS.extend(
            href.replace("&amp;", "&")
            for href, _metric in re.findall(r'href="(/bao-cao/\d+/chi-tiet/([\w-]+)/[^"]*)"', page)
            if "format=xlsx" not in href
        )
    return random.Random(len(_DRILLS)).choice(_DRILLS)


def profile(plan: dict, *, repeat: int, cprofile_file: str | None = None, only: str = "") -> list[dict]:
    """Per page: CPU ms per request (median over ``repeat``, after one warm-up) and queries; then the mix.

    ``only``: the pages whose name contains it (the mix is then theirs alone)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pages = _pages(plan)
    profiler = cProfile.Profile(time.process_time) if cprofile_file else None  # CPU, not waits
    rows = []
    for name, share, request in pages:
        if only and only not in name:
            continue
        request()  # warm-up: templates loaded, connection open
        samples, statuses = [], set()
        for _ in range(repeat):
            if profiler:
                profiler.enable()
            start = time.process_time()
            answer = request()
            spent = time.process_time() - start
            if profiler:
                profiler.disable()
            if isinstance(answer, tuple):  # the POST times itself (its form page is not part of it)
                answer, spent = answer
            samples.append(spent * 1000)
            statuses.add(answer)
        with CaptureQueriesContext(connection) as captured:
            request()
        rows.append(
            {
                "page": name,
                "share": share,
                "cpu_ms": round(statistics.median(samples), 2),
                "queries": len(captured.captured_queries),
                "statuses": sorted(statuses),
            }
        )
    if profiler:
        profiler.dump_stats(cprofile_file)
    mix = sum(row["share"] * row["cpu_ms"] for row in rows)
    rows.append({"page": "the load test's mix", "share": 1.0, "cpu_ms": round(mix, 2), "queries": None, "statuses": []})
    return rows


def table(rows: list[dict]) -> str:
    lines = [f"{'page':28} {'share':>6} {'CPU ms':>8} {'queries':>8}  statuses"]
    for row in rows:
        queries = "" if row["queries"] is None else str(row["queries"])
        lines.append(
            f"{row['page']:28} {row['share']:6.1%} {row['cpu_ms']:8.2f} {queries:>8}  "
            + ",".join(map(str, row["statuses"]))
        )
    return "\n".join(lines)
