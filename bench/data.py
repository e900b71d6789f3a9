"""The benchmark data sets: the demo generator at province and ``large`` scale, plus scores and ratings.

The tree, members, books and three years of meetings come from the demo generator itself
(``manage.py seed_demo``, i.e. ``demo.cells`` and ``demo.meetings``, all bulk inserts), called with
the bench's own scale as a ``demo.cells.Scale`` argument, so every scale is built exactly like ``province``. The generator scores only the featured cell's
meetings (through the scoring services, one meeting at a time), so this module adds, with bulk
inserts, what the dashboards and the annual report read besides: an official score for every
held, scored meeting whose minutes were adopted, and the yearly ratings of organisations and members.

A finished build leaves one row in ``bench_build`` (scale, seconds, counts): the next run finds it
and measures at once; a database without it (empty, or a build that was interrupted) is rebuilt.
"""

from __future__ import annotations

import datetime
import io
import json
import random
import time
from dataclasses import dataclass

SEED = 2026


@dataclass(frozen=True)
class BenchScale:
    name: str
    tccs: int
    cells: int
    members: int
    months: int  # months of meeting history before the current one


SCALES = {
    # Design §8: 100 TCCS, 400 cells, 6,000 members, 3 years of meetings.
    "province": BenchScale("province", tccs=100, cells=400, members=6000, months=36),
    # Issue #8: ten times the members and cells. The TCCS stay 100: the generator names the extra
    # units from a finite list, and a Khối grows by larger đảng bộ, not by more of them.
    "large": BenchScale("large", tccs=100, cells=4000, members=60000, months=36),
    # For the smoke test and for trying the harness out: builds in seconds.
    "tiny": BenchScale("tiny", tccs=4, cells=10, members=150, months=3),
}

MARKER_TABLE = "bench_build"


def demo_scale(scale: BenchScale):
    """``scale`` as the demo generator's ``Scale``, passed to ``seed_demo`` as an argument."""
    from demo.cells import Scale

    return Scale(tccs=scale.tccs, cells=scale.cells, members=scale.members)


# --- the database --------------------------------------------------------------------------


def server_and_name(database_url: str) -> tuple[str, str]:
    """``postgres://u@h:5432/name?x`` -> (``postgres://u@h:5432``, ``name``)."""
    head, _, _query = database_url.partition("?")
    scheme, _, rest = head.partition("://")
    host, _, name = rest.partition("/")
    return f"{scheme}://{host}", name


def ensure_database(server: str, name: str) -> bool:
    """Create the PostgreSQL database ``name`` on ``server`` if it is missing; True when created."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


def _marker_table() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (scale varchar(20) PRIMARY KEY, "
            "seconds double precision NOT NULL, built_at varchar(40) NOT NULL, counts text NOT NULL)"
        )


def built(scale: BenchScale) -> dict | None:
    """The record of a finished build of ``scale`` in the current database, or None."""
    from django.db import connection

    _marker_table()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seconds, built_at, counts FROM {MARKER_TABLE} WHERE scale = %s", [scale.name])
        row = cursor.fetchone()
    if row is None:
        return None
    return {"seconds": row[0], "built_at": row[1], "counts": json.loads(row[2])}


def _mark_built(scale: BenchScale, seconds: float, counts: dict) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MARKER_TABLE} WHERE scale = %s", [scale.name])
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} (scale, seconds, built_at, counts) VALUES (%s, %s, %s, %s)",
            [
                scale.name,
                seconds,
                datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                json.dumps(counts),
            ],
        )


# --- the build -----------------------------------------------------------------------------


def build(scale: BenchScale, *, log=print) -> dict:
    """Build ``scale`` in the current (empty or half-built) database; returns timings and counts."""
    from django.core.management import call_command

    from cells.models import Organisation
    from reports import rollups
    from reports.models import MonthlyRollup

    _marker_table()
    timings = {}
    started = time.perf_counter()
    out = io.StringIO()
    reset = Organisation.objects.exists()
    call_command(
        "seed_demo",
        scale=demo_scale(scale),
        history_months=scale.months,
        reset=reset,
        seed=SEED,
        stdout=out,
        stderr=out,
    )
    timings["seed_demo"] = time.perf_counter() - started
    summary = out.getvalue().strip().splitlines()
    log(f"  seed_demo --scale {scale.name}{' --reset' if reset else ''}: {timings['seed_demo']:.1f} s")
    if summary:
        log(f"    {summary[0 if not reset else min(1, len(summary) - 1)]}")

    t0 = time.perf_counter()
    scores = add_meeting_scores(rng=random.Random(SEED + 10))
    timings["scores"] = time.perf_counter() - t0
    log(f"  meeting scores (bulk): {scores} in {timings['scores']:.1f} s")
    t0 = time.perf_counter()
    ratings = add_annual_ratings(rng=random.Random(SEED + 11))
    timings["ratings"] = time.perf_counter() - t0
    log(f"  annual ratings (bulk): {ratings} in {timings['ratings']:.1f} s")
    t0 = time.perf_counter()
    # The scores above are bulk inserts (no signals): the monthly rollups (reports.rollups) are built again.
    rollups.rebuild_all()
    timings["rollups"] = time.perf_counter() - t0
    log(f"  monthly rollups (rebuild): {MonthlyRollup.objects.count()} cell-months in {timings['rollups']:.1f} s")
    t0 = time.perf_counter()
    vacuum_analyze()
    timings["analyze"] = time.perf_counter() - t0

    counts = table_counts()
    counts.update(scores=scores, ratings=ratings)
    total = time.perf_counter() - started
    timings["total"] = total
    _mark_built(scale, total, {"counts": counts, "timings": timings})
    return {"seconds": total, "timings": timings, "counts": counts}


def vacuum_analyze() -> str:
    """``VACUUM ANALYZE`` the current database (plain ``ANALYZE`` inside a transaction or off PostgreSQL).

    After every build, not only after a reset: production runs autovacuum, which marks the pages of
    a loaded table all-visible (so index-only scans need not visit the heap) and frees the rows a
    reset or a migration's rewrite left behind. Benchmark servers often run with autovacuum off, and
    a freshly loaded table whose pages are not all-visible would make the plans look worse than
    production's. VACUUM cannot run inside a transaction. Returns the statement run.
    """
    from django.db import connection

    statement = "VACUUM ANALYZE" if connection.vendor == "postgresql" and connection.get_autocommit() else "ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(statement)
    return statement


def table_counts() -> dict[str, int]:
    from cells.models import DuesPayment, Member, Organisation
    from meetings.models import Attendance, Meeting, Opinion, Task, Vote
    from scoring.models import AnnualRating, MeetingScore

    return {
        "organisations": Organisation.objects.count(),
        "cells": Organisation.objects.filter(kind__in=Organisation.CELL_KINDS).count(),
        "tccs": Organisation.objects.filter(kind__in=Organisation.TCCS_KINDS).count(),
        "members": Member.objects.count(),
        "meetings": Meeting.objects.count(),
        "attendance": Attendance.objects.count(),
        "opinions": Opinion.objects.count(),
        "votes": Vote.objects.count(),
        "tasks": Task.objects.count(),
        "meeting_scores": MeetingScore.objects.count(),
        "annual_ratings": AnnualRating.objects.count(),
        "dues_payments": DuesPayment.objects.count(),
    }


# Official levels of the adopted meetings: most are good, a few are not (the dashboards show the spread).
NO_FACTS: dict = {}
LEVEL_WEIGHTS = {"tot": 55, "kha": 33, "trung_binh": 9, "kem": 3}
LEVEL_POINTS = {"tot": (90, 100), "kha": (70, 89.5), "trung_binh": (50, 69.5), "kem": (35, 49.5)}


def add_meeting_scores(*, rng: random.Random) -> int:
    """An official (confirmed) score for every scored meeting whose minutes were adopted and that has none.

    Each score keeps the frozen copy of the scheme in force on its day, as the scoring services do;
    the per-criterion lines are not generated (no measured page or report reads them).
    """
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from meetings.models import Meeting
    from scoring import schemes as scheme_io
    from scoring.models import MeetingScore, ScoringScheme
    from scoring.selectors import SCORED_KINDS

    unscoped = [s for s in ScoringScheme.objects.order_by("effective_from") if not s.scope.exists()]
    snapshots = {s.pk: scheme_io.scheme_to_dict(s) for s in unscoped}

    def scheme_on(day: datetime.date):
        chosen = None
        for scheme in unscoped:
            if scheme.effective_from <= day and (scheme.effective_to is None or scheme.effective_to >= day):
                chosen = scheme  # the latest start wins
        return chosen

    meetings = (
        Meeting.objects.filter(kind__in=SCORED_KINDS, state=Meeting.State.MINUTES_ADOPTED, score__isnull=True)
        .order_by("pk")
        .values_list("pk", "actual_start", "planned_start", "adopted_at")
    )
    codes, weights = zip(*LEVEL_WEIGHTS.items(), strict=True)
    rows = []
    for pk, actual_start, planned_start, adopted_at in meetings.iterator(chunk_size=5000):
        day = timezone.localtime(actual_start or planned_start).date()
        scheme = scheme_on(day)
        if scheme is None:
            continue
        level = rng.choices(codes, weights=weights)[0]
        low, high = LEVEL_POINTS[level]
        total = Decimal(str(round(rng.uniform(low, high) * 2) / 2))
        adopted = adopted_at or actual_start or planned_start
        rows.append(
            MeetingScore(
                meeting_id=pk,
                scheme=scheme,
                scheme_version=scheme.version,
                scheme_snapshot=snapshots[scheme.pk],
                facts=NO_FACTS,
                state=MeetingScore.State.CONFIRMED,
                self_total=total,
                self_level=level,
                self_adopted_at=adopted,
                official_total=total,
                official_level=level,
                confirmed_at=adopted + datetime.timedelta(days=rng.randint(2, 20)),
            )
        )
    with transaction.atomic():
        copy_rows(MeetingScore, rows)
    return len(rows)


def add_annual_ratings(*, rng: random.Random) -> int:
    """Yearly ratings of every TCCS, chi bộ and active member for the last three years (``demo.scoring``).

    Past years are decided by the upper committee; the current year is self-assessed only (the
    decisions come in December), as in a real November. Loaded with COPY.
    """
    from django.db import transaction
    from django.utils import timezone

    from demo.scoring import demo_rating_rows
    from scoring.models import AnnualRating

    rows = demo_rating_rows(rng=rng, today=timezone.localdate())
    with transaction.atomic():
        copy_rows(AnnualRating, rows)
    return len(rows)


def copy_rows(model, objects: list) -> None:
    """Insert unsaved ``objects`` with COPY on PostgreSQL (bulk_create elsewhere).

    Every concrete column but the id is written; JSON values are serialised once per distinct object
    (the frozen scheme copy is the same dict for thousands of scores).
    """
    from django.db import connection

    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=1000)
        return
    from django.db.models import JSONField
    from django.utils import timezone

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    serialised: dict[int, str] = {}

    def value(obj, f):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            return now
        raw = getattr(obj, f.attname)
        if isinstance(f, JSONField):
            key = id(raw)
            if key not in serialised:
                serialised[key] = json.dumps(raw, ensure_ascii=False)
            return serialised[key]
        return raw

    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objects:
            copy.write_row([value(obj, f) for f in fields])
