"""``bench/run.py --scale national`` (issue #20): the rollup reads at 1,000× province, on rollup rows only.

A dedicated database (``bench_national`` unless ``--database``) gets the organisation tree of a nation —
one Khối, ``TCCS`` đảng bộ cơ sở of ``CELLS_PER_TCCS`` chi bộ each (100,000 × 4 = 400,000 cells, 1,000× the
province's 100 × 4) — and, for every cell, ``MONTHS`` months of ``MonthlyRollup`` rows (14.4 million),
and no meeting at all: the point is the cost of the whole-tree read from the rollups, which must not
depend on the raw rows. The organisations are COPY-loaded from here; the rollup rows are made by the
server itself (``INSERT … SELECT`` over ``generate_series``: the same rows a COPY would bring, without
sending 14 million lines through the client). Then it times, median over ``--repeat`` runs:

* the Khối-level read: ``reports.rollups.meeting_counts`` and ``scored_meeting_counts`` of the Khối for the
  current year, grouped by TCCS (what the Khối dashboard's targets, heat map and quality chart sum);
* the TCCS-level read: the same for one đảng bộ cơ sở, grouped by cell;

and prints EXPLAIN (ANALYZE, BUFFERS) of the Khối-level meeting counts, whose rows read are the cells ×
the months of the period.
"""

from __future__ import annotations

import datetime
import math
import os
import statistics
import time

TCCS = 100_000
CELLS_PER_TCCS = 4
MONTHS = 36


def _month_list(today: datetime.date) -> list[datetime.date]:
    first = datetime.date(today.year - 2, 1, 1)
    months = []
    for index in range(MONTHS):
        year, month = divmod(first.month - 1 + index, 12)
        months.append(datetime.date(first.year + year, month + 1, 1))
    return months


def build(*, log=print) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from cells.models import Organisation, path_step
    from reports.models import MonthlyRollup

    timings = {}
    started = time.perf_counter()
    org_table = Organisation._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {MonthlyRollup._meta.db_table}")  # noqa: S608
        khoi = Organisation.objects.create(
            kind=Organisation.Kind.KHOI, name="Đảng bộ Khối (quốc gia, bench)", path=path_step(1), depth=1
        )
        base = khoi.path
        columns = "path, depth, kind, name, short_code, unit_type, has_seal, dues_area, parent_id"
        with cursor.copy(f"COPY {org_table} ({columns}) FROM STDIN") as copy:  # noqa: S608
            for i in range(1, TCCS + 1):
                copy.write_row(
                    (
                        base + path_step(i),
                        2,
                        Organisation.Kind.DANG_BO_CO_SO,
                        f"Đảng bộ {i}",
                        "",
                        "",
                        False,
                        "",
                        khoi.pk,
                    )
                )
        cursor.execute(f"SELECT id, path FROM {org_table} WHERE depth = 2 AND path LIKE %s", [base + "%"])  # noqa: S608
        tccs = cursor.fetchall()
        with cursor.copy(f"COPY {org_table} ({columns}) FROM STDIN") as copy:  # noqa: S608
            for pk, path in tccs:
                for j in range(1, CELLS_PER_TCCS + 1):
                    copy.write_row(
                        (path + path_step(j), 3, Organisation.Kind.CHI_BO, f"Chi bộ {j}", "", "", False, "", pk)
                    )
        timings["organisations"] = time.perf_counter() - started
        log(f"  organisations (COPY): {1 + TCCS + TCCS * CELLS_PER_TCCS} in {timings['organisations']:.1f} s")
        t0 = time.perf_counter()
        months = _month_list(timezone.localdate())
        # Per cell-month: a regular meeting held (19 in 20), a thematic one in a quarter's first month, a
        # visit in its second, a forum in June; 20 members due, 18 present; one scored meeting.
        cursor.execute(
            f"""
            INSERT INTO {MonthlyRollup._meta.db_table} (organisation_id, month, regular_held, thematic_held, forum_held,
                visits, attendance_meetings, attendance_above, attendance_rate_sum, attendance_unexcused, scored,
                counted_at)
            SELECT o.id, m.month,
                   CASE WHEN (o.id + extract(month FROM m.month)::int) %% 20 = 0 THEN 0 ELSE 1 END,
                   CASE WHEN extract(month FROM m.month)::int %% 3 = 1 THEN 1 ELSE 0 END,
                   CASE WHEN extract(month FROM m.month)::int = 6 THEN 1 ELSE 0 END,
                   CASE WHEN extract(month FROM m.month)::int %% 3 = 2 THEN 1 ELSE 0 END,
                   1, 1, 90.0, (o.id %% 7 = 0)::int,
                   jsonb_build_object(
                       'thuong_ky|' || (ARRAY['tot', 'kha', 'trung_binh', 'chua_xac_nhan'])[1 + (o.id %% 4)], 1),
                   now()
            FROM {org_table} o CROSS JOIN unnest(%s::date[]) AS m(month)
            WHERE o.kind = %s AND o.path LIKE %s
            """,  # noqa: S608
            [months, Organisation.Kind.CHI_BO, base + "%"],
        )
        rows = cursor.rowcount
        timings["rollups"] = time.perf_counter() - t0
        log(f"  rollup rows (INSERT … SELECT): {rows} in {timings['rollups']:.1f} s")
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {MonthlyRollup._meta.db_table}")  # noqa: S608
        cursor.execute(f"VACUUM ANALYZE {org_table}")  # noqa: S608
    timings["analyze"] = time.perf_counter() - t0
    return {"rows": rows, "timings": timings, "seconds": time.perf_counter() - started}


def _median_ms(fn, repeat: int, warmup: int = 2) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]


def run(args) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from cells.models import PATH_STEP_WIDTH, Organisation
    from reports import rollups
    from reports.models import MonthlyRollup
    from reports.periods import Period

    print(f"bench: national rollups ({TCCS} TCCS × {CELLS_PER_TCCS} cells × {MONTHS} months), {os.getloadavg()}")
    call_command("migrate", verbosity=0)
    khoi = Organisation.objects.filter(kind=Organisation.Kind.KHOI).order_by("path").first()
    if args.rebuild or khoi is None or not MonthlyRollup.objects.exists():
        if khoi is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {Organisation._meta.db_table} CASCADE")  # noqa: S608
        info = build()
        print(f"built in {info['seconds']:.1f} s: {info['rows']} rollup rows; {info['timings']}")
        khoi = Organisation.objects.filter(kind=Organisation.Kind.KHOI).order_by("path").first()
    if args.build_only:
        return 0
    today = timezone.localdate()
    period = Period(today.year)
    tccs = Organisation.objects.filter(depth=khoi.depth + 1, path__startswith=khoi.path).order_by("path").first()
    results = []
    for name, scope in (("Khối-level read", khoi), ("TCCS-level read", tccs)):
        length = len(scope.path) + PATH_STEP_WIDTH

        def counts(scope=scope, length=length):
            rollups.meeting_counts(scope, period, length, today)

        def scored(scope=scope, length=length):
            rollups.scored_meeting_counts(scope=scope, period=period, length=length)

        for part, fn in (("meeting counts", counts), ("scored meetings (quality chart, heat map)", scored)):
            median, p95 = _median_ms(fn, args.repeat if scope is tccs else max(5, args.repeat // 3))
            results.append((f"{name}: {part}", median, p95))
            print(f"  {name}: {part}: {median:,.1f} ms median, p95 {p95:,.1f} ms")
    cells = Organisation.objects.filter(kind=Organisation.Kind.CHI_BO).count()
    print(
        f"\n{cells} cells, {MonthlyRollup.objects.count()} rollup rows; period {period.label}: {len(period.months)} months"
    )
    print("EXPLAIN (ANALYZE, BUFFERS) of the Khối-level meeting counts:")
    length = len(khoi.path) + PATH_STEP_WIDTH
    sql, params = _meeting_counts_sql(rollups, khoi, period, length, today)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        for (line,) in cursor.fetchall():
            print("  " + line)
    print(f"\nload average {os.getloadavg()} ({os.cpu_count()} CPUs)")
    return 0


def _meeting_counts_sql(rollups, scope, period, length, today):
    """The SQL of ``rollups.meeting_counts``, compiled by running it under a capture."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        rollups.meeting_counts(scope, period, length, today)
    sql = captured.captured_queries[-1]["sql"]
    return sql, None
