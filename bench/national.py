"""``bench/run.py --scale national`` (issue #20): the rollup reads at 1,000× province, on rollup rows only.

A dedicated database (``bench_national`` unless ``--database``) gets the organisation tree of a nation
(400,000 cells, 1,000× the province's 400): one Khối, ``TCCS`` đảng bộ cơ sở, each with
``PARTS_PER_TCCS`` đảng bộ bộ phận of ``CELLS_PER_PART`` chi bộ (1,000 × 20 × 20). For every cell it
holds ``MONTHS`` months of ``MonthlyRollup`` rows (14.4 million) and, above them, the ``SubtreeRollup``
rows of every organisation (about 760,000), and no meeting at all: the point is the cost of the
whole-tree read from the rollups, which must not depend on the raw rows. The organisations are
COPY-loaded from here; the rollup rows are made by the server itself (``INSERT … SELECT``: the same rows
a COPY would bring, without sending 14 million lines through the client), the sums above the cells level
by level from the bottom. Then it times, median over ``--repeat`` runs:

* the Khối-level read: ``reports.rollups.meeting_counts``, ``scored_meeting_counts`` and
  ``attendance_warning_counts`` of the Khối for the current year, grouped by TCCS (what the Khối
  dashboard's targets, heat map, quality chart and warnings sum);
* the TCCS-level read: the same for one đảng bộ cơ sở, grouped by its đảng bộ bộ phận;
* the đảng bộ bộ phận-level read: the same, grouped by cell;

and prints EXPLAIN (ANALYZE, BUFFERS) of the Khối-level meeting counts: the rows read are the Khối's
children × the months of the year, not its cells."""

from __future__ import annotations

import datetime
import math
import os
import statistics
import time

TCCS = 1_000
PARTS_PER_TCCS = 20
CELLS_PER_PART = 20
CELLS_PER_TCCS = PARTS_PER_TCCS * CELLS_PER_PART
MONTHS = 36


def _month_list(today: datetime.date) -> list[datetime.date]:
    first = datetime.date(today.year - 2, 1, 1)
    months = []
    for index in range(MONTHS):
        year, month = divmod(first.month - 1 + index, 12)
        months.append(datetime.date(first.year + year, month + 1, 1))
    return months


def _copy_level(cursor, table, columns, parents, count, depth, kind, label) -> None:
    from cells.models import path_step

    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # noqa: S608
        for pk, path in parents:
            for j in range(1, count + 1):
                copy.write_row((path + path_step(j), depth, kind, f"{label} {j}", "", "", False, "", pk))


def build(*, log=print) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from cells.models import Organisation, path_step
    from reports.models import MonthlyRollup, SubtreeRollup

    timings = {}
    started = time.perf_counter()
    org_table = Organisation._meta.db_table
    cell_table, sub_table = MonthlyRollup._meta.db_table, SubtreeRollup._meta.db_table
    columns = "path, depth, kind, name, short_code, unit_type, has_seal, dues_area, parent_id"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {cell_table}, {sub_table}")  # noqa: S608
        khoi = Organisation.objects.create(
            kind=Organisation.Kind.KHOI, name="Đảng bộ Khối (quốc gia, bench)", path=path_step(1), depth=1
        )
        base = khoi.path
        levels = (
            (TCCS, Organisation.Kind.DANG_BO_CO_SO, "Đảng bộ"),
            (PARTS_PER_TCCS, Organisation.Kind.DANG_BO_BO_PHAN, "Đảng bộ bộ phận"),
            (CELLS_PER_PART, Organisation.Kind.CHI_BO, "Chi bộ"),
        )
        parents = [(khoi.pk, base)]
        for depth, (count, kind, label) in enumerate(levels, start=2):
            _copy_level(cursor, org_table, columns, parents, count, depth, kind, label)
            cursor.execute(f"SELECT id, path FROM {org_table} WHERE depth = %s AND path LIKE %s", [depth, base + "%"])  # noqa: S608
            parents = cursor.fetchall()
        timings["organisations"] = time.perf_counter() - started
        made = 1 + TCCS * (1 + PARTS_PER_TCCS + CELLS_PER_TCCS)
        log(f"  organisations (COPY): {made} in {timings['organisations']:.1f} s")
        t0 = time.perf_counter()
        months = _month_list(timezone.localdate())
        # Per cell-month: a regular meeting held (19 in 20), a thematic one in a quarter's first month, a
        # visit in its second, a forum in June; 20 members due, 18 present; one scored meeting; in one cell
        # in five, an open task due on the 10th. With one
        # thematic meeting (visit) a quarter and one forum a year, each is its cell's first of the quarter
        # (year): the ``*_first`` marks equal the counts (reports.rollups.set_firsts).
        cursor.execute(
            f"""
            INSERT INTO {cell_table} (organisation_id, month, regular_held, thematic_held, forum_held,
                visits, attendance_meetings, attendance_above, attendance_rate_sum, attendance_unexcused,
                thematic_first, visit_first, forum_first, scored, tasks_open, counted_at)
            SELECT id, month, regular, thematic, forum, visit, 1, 1, 90.0, unexcused, thematic, visit, forum,
                   scored, tasks_open, now()
            FROM (
                SELECT o.id, m.month,
                       CASE WHEN (o.id + extract(month FROM m.month)::int) %% 20 = 0 THEN 0 ELSE 1 END AS regular,
                       CASE WHEN extract(month FROM m.month)::int %% 3 = 1 THEN 1 ELSE 0 END AS thematic,
                       CASE WHEN extract(month FROM m.month)::int = 6 THEN 1 ELSE 0 END AS forum,
                       CASE WHEN extract(month FROM m.month)::int %% 3 = 2 THEN 1 ELSE 0 END AS visit,
                       (o.id %% 7 = 0)::int AS unexcused,
                       jsonb_build_object(
                           'thuong_ky|' || (ARRAY['tot', 'kha', 'trung_binh', 'chua_xac_nhan'])[1 + (o.id %% 4)], 1
                       ) AS scored,
                       CASE WHEN o.id %% 5 = 0 THEN '{{"10": 1}}'::jsonb ELSE '{{}}'::jsonb END AS tasks_open
                FROM {org_table} o CROSS JOIN unnest(%s::date[]) AS m(month)
                WHERE o.kind = %s AND o.path LIKE %s
            ) cell_months
            """,  # noqa: S608
            [months, Organisation.Kind.CHI_BO, base + "%"],
        )
        rows = cursor.rowcount
        timings["rollups"] = time.perf_counter() - t0
        log(f"  cell rollup rows (INSERT … SELECT): {rows} in {timings['rollups']:.1f} s")
        t0 = time.perf_counter()
        # The sums above the cells, level by level from the bottom: each organisation's row is the sum of
        # its children's rows (cells' own rows, or the subtree rows of the level below). The same totals
        # as reports.rollups.subtree_totals, made by the server.
        names = [
            "regular_held", "thematic_held", "forum_held", "visits", "attendance_meetings", "attendance_above",
            "attendance_rate_sum", "attendance_unexcused", "thematic_first", "visit_first", "forum_first",
        ]  # fmt: skip
        summed = ", ".join(f"SUM(r.{name}) AS {name}" for name in names)
        for depth, source in ((3, cell_table), (2, sub_table), (1, sub_table)):
            cursor.execute(
                f"""
                INSERT INTO {sub_table} (organisation_id, month, {", ".join(names)}, scored, tasks_open,
                    counted_at)
                SELECT sums.parent_id, sums.month, {", ".join(names)}, COALESCE(scored.map, '{{}}'),
                    COALESCE(tasks_open.map, '{{}}'), now()
                FROM (
                    SELECT c.parent_id, r.month, {summed}
                    FROM {source} r JOIN {org_table} c ON c.id = r.organisation_id
                    WHERE c.depth = %s AND c.path LIKE %s
                    GROUP BY c.parent_id, r.month
                ) sums {" ".join(_keyed(name, source, org_table) for name in ("scored", "tasks_open"))}
                """,  # noqa: S608
                [depth + 1, base + "%"] * 3,
            )
            log(f"  subtree rows of depth {depth}: {cursor.rowcount} in {time.perf_counter() - t0:.1f} s")
        timings["subtrees"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (cell_table, sub_table, org_table):
            cursor.execute(f"VACUUM ANALYZE {table}")  # noqa: S608
    timings["analyze"] = time.perf_counter() - t0
    return {"rows": rows, "timings": timings, "seconds": time.perf_counter() - started}


def _keyed(name: str, source: str, org_table: str) -> str:
    """A LEFT JOIN of the map ``name`` of the children's rows added key by key per parent and month."""
    return f"""
        LEFT JOIN (
            SELECT parent_id, month, jsonb_object_agg(key, n) AS map FROM (
                SELECT c.parent_id, r.month, e.key, SUM(e.value::integer) AS n
                FROM {source} r JOIN {org_table} c ON c.id = r.organisation_id
                CROSS JOIN LATERAL jsonb_each_text(r.{name}) e
                WHERE c.depth = %s AND c.path LIKE %s
                GROUP BY c.parent_id, r.month, e.key
            ) per_key GROUP BY parent_id, month
        ) {name} ON {name}.parent_id = sums.parent_id AND {name}.month = sums.month"""  # noqa: S608


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
    from reports.models import MonthlyRollup, SubtreeRollup
    from reports.periods import Period

    print(
        f"bench: national rollups ({TCCS} TCCS × {PARTS_PER_TCCS} đảng bộ bộ phận × {CELLS_PER_PART} cells × "
        f"{MONTHS} months), {os.getloadavg()}"
    )
    call_command("migrate", verbosity=0)
    khoi = Organisation.objects.filter(kind=Organisation.Kind.KHOI).order_by("path").first()
    if args.rebuild or khoi is None or not SubtreeRollup.objects.exists():
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
    part = Organisation.objects.filter(depth=tccs.depth + 1, path__startswith=tccs.path).order_by("path").first()
    results = []
    for name, scope in (("Khối-level read", khoi), ("TCCS-level read", tccs), ("đảng bộ bộ phận-level read", part)):
        length = len(scope.path) + PATH_STEP_WIDTH

        def counts(scope=scope, length=length):
            rollups.meeting_counts(scope, period, length, today)

        def scored(scope=scope, length=length):
            rollups.scored_meeting_counts(scope=scope, period=period, length=length)

        def warned(scope=scope):
            rollups.attendance_warning_counts(scope=scope, period=period)

        def overdue(scope=scope):
            rollups.overdue_tasks_count(scope=scope, period=period, today=today)

        for what, fn in (
            ("meeting counts", counts),
            ("scored meetings (quality chart, heat map)", scored),
            ("attendance warnings", warned),
            ("overdue tasks warning", overdue),
        ):
            median, p95 = _median_ms(fn, args.repeat)
            results.append((f"{name}: {what}", median, p95))
            print(f"  {name}: {what}: {median:,.1f} ms median, p95 {p95:,.1f} ms")
    cells = Organisation.objects.filter(kind=Organisation.Kind.CHI_BO).count()
    print(
        f"\n{cells} cells, {MonthlyRollup.objects.count()} cell rollup rows, {SubtreeRollup.objects.count()} "
        f"subtree rows; period {period.label}: {len(period.months)} months"
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
