"""Monthly rollups (issue #20): each cell's meetings of a month counted once, for the whole-tree figures.

A row of ``MonthlyRollup`` holds, for one cell and one month (the meetings' ``period_month``, the month
they count for, set from the local day in Asia/Ho_Chi_Minh), the counts the dashboards' meeting targets,
the Khối's heat map and the quality chart add up: regular, thematic and forum meetings held, the meetings
an upper-level committee member attended (visits), the attendance sums of the meetings with someone due
(meetings, above the target, the sum of their rates, unexcused absences) and the held, scored meetings by
kind and official level. Every count is made here, by ``_count``, with the definitions of
``meetings.indicators`` and the base querysets of ``reports.counting`` — the same ones the figures read
from the meetings (``figures._meeting_counts_from_records``, ``heatmap.scored_meeting_counts``
with ``source="records"``); nothing is defined twice.

Above the cells, ``SubtreeRollup`` holds the same counts summed for each organisation over every cell
below it (the Khối, a TCCS, a đảng bộ bộ phận), so a whole-tree figure reads one row per child and month
(``_parts``) instead of one per cell. The cells that met at least once in a quarter (a year) cannot be
added across months from per-month counts; ``set_firsts`` marks, per cell, the first month of the
quarter (year) it met, and those marks add up.

Writes: ``recount(cell, month)`` counts one cell-month again from the meetings and stores it with the
cell's other months of the year (their first-month marks) and adds the change into the rows above the
cell, all in the caller's transaction, under one transaction-level advisory lock that every rollup
writer takes first (``_lock``). ``reports.receivers`` calls it on every save or delete of a meeting, a
change of its upper-level guests, of its score or of one of its tasks, and on
``meetings.signals.meeting_counts_changed`` (the set-based attendance recount); a subtree moved in the tree moves its sums (``moved``); a bulk load
(the demo, the benchmark, a restore) calls ``rebuild_all``. ``verify`` (nightly, ``reports.tasks``)
counts everything again, compares the cells' rows and the sums above them, repairs and reports any drift.

The rows also hold, per cell and month, the open tasks by the day they are due (``tasks_open``; a task
counts in the month of its due date, not of its meeting): the "overdue tasks" warning on any day is the
sum of the entries before that day (``overdue_tasks_count``).

What is not here, and read from the records as before: the month in progress' planning (it depends on
the day it is read), ratings, documents and commitments (of the year, on a reference day, from the
member register), and the other warnings (the minutes overdue by the hour, the plans and visits of the
month or quarter checked, the dues book).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
from dataclasses import dataclass, field

from django.db import connection, connections, transaction
from django.db.models import Count, ExpressionWrapper, F, FloatField, IntegerField, Max, Min, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from cells.models import Organisation
from cells.selectors import ancestor_ids
from lib import dates
from meetings import indicators
from meetings.models import Meeting, Task

from .counting import ATTENDANCE_KINDS, SCORED_KINDS, UNSCORED, _group, _held, _of_cells_in, cells_in
from .models import MonthlyRollup, SubtreeRollup
from .periods import NEVER, Period, _months_span

logger = logging.getLogger(__name__)

# Every month: the indicators' "for the months first..last" with the rows grouped by month.
ALWAYS = {"first": NEVER, "last": datetime.date(9999, 12, 1)}
COUNT_FIELDS = (
    "regular_held",
    "thematic_held",
    "forum_held",
    "visits",
    "attendance_meetings",
    "attendance_above",
    "attendance_rate_sum",
    "attendance_unexcused",
)
FIRST_FIELDS = ("thematic_first", "visit_first", "forum_first")
SUMMED_FIELDS = COUNT_FIELDS + FIRST_FIELDS
# The maps, added key by key: "kind|level" → scored meetings; "day" → open tasks due that day.
MAP_FIELDS = ("scored", "tasks_open")
STORED_FIELDS = SUMMED_FIELDS + MAP_FIELDS


def attendance_rate():
    """A meeting's attendance rate in %, from its stored counts (the figures' own expression)."""
    present, base = F("attendance_present"), F("attendance_base")
    return ExpressionWrapper(Cast(present, FloatField()) * 100 / Cast(base, FloatField()), output_field=FloatField())


def score_level():
    """A meeting's official quality level, ``UNSCORED`` before confirmation (or without a score)."""
    return Coalesce(NullIf("score__official_level", Value("")), Value(UNSCORED))


def scored_key(kind: str, level: str) -> str:
    return f"{kind}|{level}"


# --- counting ---------------------------------------------------------------------------------


def _selection(*, cells=None, months=None, id_range=None) -> tuple[Q, Q]:
    """What a count covers, as conditions on the meetings and on the tasks: the organisations ``cells``
    (ids) or those with an id in ``id_range`` [low, high), the months ``months`` (None: every one) — a
    meeting's ``period_month``, a task's due date."""
    meetings, tasks = Q(), Q()
    if cells is not None:
        meetings &= Q(organisation_id__in=sorted(cells))
        tasks &= Q(meeting__organisation_id__in=sorted(cells))
    if id_range is not None:
        low, high = id_range
        meetings &= Q(organisation_id__gte=low, organisation_id__lt=high)
        tasks &= Q(meeting__organisation_id__gte=low, meeting__organisation_id__lt=high)
    if months is not None:
        months = sorted({m.replace(day=1) for m in months})
        meetings &= Q(period_month__in=months)
        due = Q(pk__in=[])
        for month in months:
            due |= Q(due_date__gte=month, due_date__lt=dates.add_months(month, 1))
        tasks &= due
    return meetings, tasks


def _count(*, cells=None, months=None, id_range=None, guest_meetings=None) -> dict[tuple[int, datetime.date], dict]:
    """Per (cell, month) of the meetings and tasks ``_selection`` chooses: the rollup's counts (three
    grouped queries).

    Only cell-months with a counted meeting or an open task due appear. ``guest_meetings``: as
    ``indicators.visits_q``.
    """
    where, task_where = _selection(cells=cells, months=months, id_range=id_range)
    counted = Q(attendance_base__gt=0)  # the attendance figures count the meetings with someone due
    rows = (
        _held(ALWAYS["first"], ALWAYS["last"], ATTENDANCE_KINDS)
        .filter(where)
        .order_by()
        .values("organisation_id", "period_month")
        .annotate(
            regular_held=Count("pk", filter=indicators.regular_held_q(**ALWAYS)),
            thematic_held=Count("pk", filter=indicators.thematic_held_q(**ALWAYS)),
            forum_held=Count("pk", filter=indicators.forums_held_q(**ALWAYS)),
            visits=Count("pk", filter=indicators.visits_q(**ALWAYS, guest_meetings=guest_meetings)),
            attendance_meetings=Count("pk", filter=counted),
            attendance_above=Count("pk", filter=counted & indicators.attendance_target_q(met=True)),
            attendance_rate_sum=Sum(attendance_rate(), filter=counted),
            attendance_unexcused=Sum("attendance_unexcused", filter=counted),
        )
    )
    result: dict[tuple[int, datetime.date], dict] = {}
    for row in rows:
        key = (row.pop("organisation_id"), row.pop("period_month"))
        row["attendance_rate_sum"] = float(row["attendance_rate_sum"] or 0)
        row["attendance_unexcused"] = row["attendance_unexcused"] or 0
        result[key] = {**_zero(), **row}
    scored = (
        _held(ALWAYS["first"], ALWAYS["last"], SCORED_KINDS)
        .filter(where)
        .order_by()
        .values("organisation_id", "period_month", "kind", level=score_level())
        .annotate(meetings=Count("pk"))
    )
    for row in scored:
        key = (row["organisation_id"], row["period_month"])
        entry = result.setdefault(key, _zero())
        entry["scored"][scored_key(row["kind"], row["level"])] = row["meetings"]
    # The open tasks of the cells' meetings, by the month and day they are due.
    tasks = (
        Task.objects.filter(
            indicators.task_open_q(),
            task_where,
            due_date__isnull=False,
            meeting__organisation__kind__in=Organisation.CELL_KINDS,
        )
        .order_by()
        .values("meeting__organisation_id", "due_date")
        .annotate(tasks=Count("pk"))
    )
    for row in tasks:
        due = row["due_date"]
        entry = result.setdefault((row["meeting__organisation_id"], due.replace(day=1)), _zero())
        entry["tasks_open"][task_day(due)] = row["tasks"]
    return result


def task_day(due: datetime.date) -> str:
    """The key of a due date in its month's ``tasks_open`` map."""
    return f"{due.day:02d}"


WRITERS_LOCK = 2_020_062_000  # pg_advisory_xact_lock's key: one rollup writer at a time


def _lock() -> None:
    """Every rollup write takes this lock first and keeps it until its transaction ends.

    One lock for all (not one per cell-month): a cell's row is counted with its other months of the
    year (the ``*_first`` fields), and every write adds into the rows of the organisations above the
    cell, which all writers share (the Khối's). Taken first and alone, it cannot deadlock; the
    writers it orders are short (a few statements each) and already met on the Khối's row."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [WRITERS_LOCK])


def stored(organisation_id: int, month: datetime.date) -> dict | None:
    row = MonthlyRollup.objects.filter(organisation_id=organisation_id, month=month).values(*STORED_FIELDS).first()
    return row


# --- the first month of a quarter (year) in which a cell met ----------------------------------------


def set_firsts(rows: dict[tuple[int, datetime.date], dict]) -> None:
    """Set ``thematic_first``, ``visit_first`` and ``forum_first`` of every (cell, month) row, in place.

    A row counts 1 in ``thematic_first`` when its cell held a thematic meeting that month and in no
    earlier month of the same quarter (``visit_first``: an upper-level visit; ``forum_first``: a forum,
    in no earlier month of the year). Summed over a quarter's months they give the cells that met at
    least once in it, the figures' "cell-quarters met" (``meetings.indicators``), and so they can be
    added across cells and organisations where a COUNT(DISTINCT cell) could not."""
    seen: set[tuple] = set()
    for cell, month in sorted(rows):
        row = rows[(cell, month)]
        quarter = (cell, month.year, (month.month - 1) // 3)
        for field_name, count_name, span in (
            ("thematic_first", "thematic_held", ("t", *quarter)),
            ("visit_first", "visits", ("v", *quarter)),
            ("forum_first", "forum_held", ("f", cell, month.year)),
        ):
            first = row.get(count_name, 0) > 0 and span not in seen
            row[field_name] = int(first)
            if row.get(count_name, 0) > 0:
                seen.add(span)


# --- adding rows ---------------------------------------------------------------------------------


def _zero() -> dict:
    return {**dict.fromkeys(SUMMED_FIELDS, 0), "attendance_rate_sum": 0.0, **{name: {} for name in MAP_FIELDS}}


def _copy(row: dict) -> dict:
    """A row whose maps are its own (``_add`` changes maps in place)."""
    return {**row, **{name: dict(row.get(name) or {}) for name in MAP_FIELDS}}


def _add(total: dict, row: dict, sign: int = 1) -> None:
    for name in SUMMED_FIELDS:
        total[name] = total.get(name, 0) + sign * (row.get(name) or 0)
    for map_name in MAP_FIELDS:
        entries = total.setdefault(map_name, {})
        for key, value in (row.get(map_name) or {}).items():
            entries[key] = entries.get(key, 0) + sign * int(value)
            if not entries[key]:
                del entries[key]


def _is_zero(row: dict) -> bool:
    return not any(row.get(name) for name in MAP_FIELDS) and all(
        abs(row.get(name) or 0) < 1e-6 if name == "attendance_rate_sum" else not row.get(name) for name in SUMMED_FIELDS
    )


def ancestors_of(cell_ids) -> dict[int, list[int]]:
    """Each cell's organisations above it, by id (``cells.selectors.ancestor_ids``): two queries. Only
    the cells' rows are summed above them (``counting._of_cells_in``): another organisation has none."""
    return ancestor_ids(
        dict(
            Organisation.objects.filter(pk__in=list(cell_ids), kind__in=Organisation.CELL_KINDS).values_list(
                "pk", "path"
            )
        )
    )


def subtree_totals(cell_rows: dict[tuple[int, datetime.date], dict], ancestors: dict[int, list[int]]) -> dict:
    """The cells' rows summed for each organisation above them and month: what ``SubtreeRollup`` holds."""
    totals: dict[tuple[int, datetime.date], dict] = {}
    for (cell, month), row in cell_rows.items():
        for organisation_id in ancestors.get(cell, ()):
            _add(totals.setdefault((organisation_id, month), _zero()), row)
    return {key: row for key, row in totals.items() if not _is_zero(row)}


# --- writing -------------------------------------------------------------------------------------


def _cell_rows(where: Q) -> tuple[dict, dict]:
    """The stored cell rows matching ``where``: (cell, month) → counts, and (cell, month) → pk."""
    rows, pks = {}, {}
    for row in MonthlyRollup.objects.filter(where).values("pk", "organisation_id", "month", *STORED_FIELDS):
        key = (row.pop("organisation_id"), row.pop("month"))
        pks[key] = row.pop("pk")
        rows[key] = row
    return rows, pks


def _of_years(cells, years) -> Q:
    return Q(
        organisation_id__in=sorted(cells),
        month__gte=datetime.date(min(years), 1, 1),
        month__lte=datetime.date(max(years), 12, 1),
    )


def _write_cells(before: dict, after: dict, pks: dict) -> None:
    """Store ``after`` where it differs from ``before`` (rows made, changed, dropped): a few statements."""
    gone = [pks[key] for key in before if key not in after]
    if gone:
        MonthlyRollup.objects.filter(pk__in=gone).delete()
    now = timezone.now()
    made = [
        MonthlyRollup(organisation_id=o, month=m, counted_at=now, **values)
        for (o, m), values in sorted(after.items())
        if (o, m) not in before
    ]
    MonthlyRollup.objects.bulk_create(made, batch_size=2000)
    changed = [
        MonthlyRollup(pk=pks[key], organisation_id=key[0], month=key[1], counted_at=now, **values)
        for key, values in sorted(after.items())
        if key in before and not _same(before[key], values)
    ]
    if changed:
        MonthlyRollup.objects.bulk_update(changed, [*STORED_FIELDS, "counted_at"], batch_size=500)


def _write_subtrees(before: dict, after: dict) -> None:
    """Add the change of the cell rows (``after`` less ``before``) into the rows above the cells."""
    changes: dict[tuple[int, datetime.date], dict] = {}
    for key in set(before) | set(after):
        change = _zero()
        _add(change, after.get(key, {}))
        _add(change, before.get(key, {}), -1)
        if not _is_zero(change):
            changes[key] = change
    if not changes:
        return
    ancestors = ancestors_of({cell for cell, _m in changes})
    keys = {(o, month) for (cell, month) in changes for o in ancestors.get(cell, ())}
    if not keys:
        return
    rows = {
        (row.organisation_id, row.month): row
        for row in SubtreeRollup.objects.filter(
            organisation_id__in={o for o, _m in keys}, month__in={m for _o, m in keys}
        )
    }
    totals: dict[tuple[int, datetime.date], dict] = {}
    for (cell, month), change in sorted(changes.items()):
        for organisation_id in ancestors.get(cell, ()):
            key = (organisation_id, month)
            if key not in totals:
                totals[key] = _values_of(rows[key]) if key in rows else _zero()
            _add(totals[key], change)
    _replace_subtrees(totals, rows)


def _values_of(row) -> dict:
    values = {name: getattr(row, name) for name in SUMMED_FIELDS}
    for name in MAP_FIELDS:
        values[name] = dict(getattr(row, name) or {})
    return values


def _replace_subtrees(totals: dict, rows: dict) -> None:
    """Make the stored rows ``rows`` (key → SubtreeRollup) of the keys of ``totals`` hold ``totals``."""
    now = timezone.now()
    gone = [rows[key].pk for key, values in totals.items() if key in rows and _is_zero(values)]
    if gone:
        SubtreeRollup.objects.filter(pk__in=gone).delete()
    SubtreeRollup.objects.bulk_create(
        [
            SubtreeRollup(organisation_id=o, month=m, counted_at=now, **values)
            for (o, m), values in sorted(totals.items())
            if (o, m) not in rows and not _is_zero(values)
        ],
        batch_size=2000,
    )
    changed = []
    for key, values in sorted(totals.items()):
        if key in rows and not _is_zero(values):
            row = rows[key]
            for name, value in values.items():
                setattr(row, name, value)
            row.counted_at = now
            changed.append(row)
    if changed:
        SubtreeRollup.objects.bulk_update(changed, [*STORED_FIELDS, "counted_at"], batch_size=500)


def _recount(cells, months) -> dict:
    """Count every cell × month of ``cells`` and ``months`` again, store it with the cells' other months
    of those years (their ``*_first``) and add the change into the rows above (under the writers' lock)."""
    years = {m.year for m in months}
    before, pks = _cell_rows(_of_years(cells, years))
    counts = _count(cells=cells, months=months)
    after = {key: _copy(values) for key, values in before.items()}
    for cell in cells:
        for month in months:
            after.pop((cell, month), None)
    after.update(counts)
    set_firsts(after)
    _write_cells(before, after, pks)
    _write_subtrees(before, after)
    return after


def recount(organisation_id: int, month: datetime.date) -> dict | None:
    """Count one cell-month again from its meetings and store it (or drop its row: nothing counted),
    with the rows above it. In the caller's transaction (one is opened if there is none)."""
    month = month.replace(day=1)
    with transaction.atomic():
        _lock()
        after = _recount([organisation_id], [month])
    return after.get((organisation_id, month))


def repair(organisation_id: int, month: datetime.date) -> dict | None:
    """Count one cell-month again and sum the rows above it again (the ``rollup_recount`` task, for a
    row known or feared wrong: a change is not added, the sums are redone), from the cell's parent up
    to the Khối, each from its children's rows of the year (``_resum``): one row per child and month."""
    month = month.replace(day=1)
    with transaction.atomic():
        _lock()
        before, pks = _cell_rows(_of_years([organisation_id], [month.year]))
        after = {key: _copy(values) for key, values in before.items()}
        after.pop((organisation_id, month), None)
        after.update(_count(cells=[organisation_id], months=[month]))
        set_firsts(after)
        _write_cells(before, after, pks)
        months = sorted({m for _o, m in after} | {m for _o, m in before} | {month})
        # Bottom-up: each sum is redone from rows already right.
        for ancestor in reversed(ancestors_of([organisation_id]).get(organisation_id, [])):
            _resum([ancestor], months=months, repair=True)
    return after.get((organisation_id, month))


def _children_sums(parent_ids, months=None, instead=None) -> dict[tuple[int, datetime.date], dict]:
    """What ``SubtreeRollup`` should hold for ``parent_ids``, per month (``months``: those only), from
    their children's rows: a child cell's own row and every child's subtree row. Right when the
    children's rows are right, which ``verify`` checks first (the deepest level first).

    ``instead``: (model, organisation id, month) → the values a stored row should have had (None: no
    row), taken in its place — a dry run's corrections of the level below, which it does not write."""
    instead = instead or {}
    children = dict(Organisation.objects.filter(parent_id__in=list(parent_ids)).values_list("pk", "parent_id"))
    cells = Organisation.objects.filter(pk__in=list(children), kind__in=Organisation.CELL_KINDS).values_list(
        "pk", flat=True
    )
    in_months = Q(month__in=months) if months is not None else Q()
    totals: dict[tuple[int, datetime.date], dict] = {}
    for model, ids in ((MonthlyRollup, list(cells)), (SubtreeRollup, list(children))):
        if not ids:
            continue
        for row in model.objects.filter(in_months, organisation_id__in=ids).values(
            "organisation_id", "month", *STORED_FIELDS
        ):
            if (model, row["organisation_id"], row["month"]) not in instead:
                _add(totals.setdefault((children[row["organisation_id"]], row["month"]), _zero()), row)
        chosen = set(ids)
        for (of_model, organisation_id, month), values in instead.items():
            if of_model is model and organisation_id in chosen and values and (months is None or month in months):
                _add(totals.setdefault((children[organisation_id], month), _zero()), values)
    return {key: row for key, row in totals.items() if not _is_zero(row)}


def _resum(parent_ids, *, months=None, repair: bool, instead=None) -> tuple[dict, int]:
    """Compare the stored subtree rows of ``parent_ids`` (``months``: those only) with their children's
    rows summed (``_children_sums``, with ``instead``); repair those that differ when ``repair``. The
    differing keys with the values they should have, and how many organisation-months were compared."""
    expected = _children_sums(parent_ids, months, instead)
    in_months = Q(month__in=months) if months is not None else Q()
    rows = {
        (row.organisation_id, row.month): row
        for row in SubtreeRollup.objects.filter(in_months, organisation_id__in=list(parent_ids))
    }
    wrong = {
        key: expected.get(key, _zero())
        for key in sorted(set(expected) | set(rows))
        if not _same(expected.get(key, _zero()), _values_of(rows[key]) if key in rows else _zero())
    }
    if repair and wrong:
        _replace_subtrees(wrong, {key: rows[key] for key in wrong if key in rows})
    return wrong, len(set(expected) | set(rows))


# More cell-months than this in one write (a set-based attendance recount of a bulk load) are
# recounted together, set-based, under a table lock.
BULK_PAIRS = 50


def recount_pairs(pairs) -> None:
    """``recount`` each (cell, month) once."""
    chosen = sorted({(o, m.replace(day=1)) for o, m in pairs if o and m})
    if len(chosen) > BULK_PAIRS:
        _recount_bulk(chosen)
        return
    for organisation_id, month in chosen:
        recount(organisation_id, month)


def _lock_table() -> None:
    """Keep every other rollup writer out until the transaction ends (they wait, then count again)."""
    _lock()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (MonthlyRollup, SubtreeRollup):
                cursor.execute(f"LOCK TABLE {model._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


def _recount_bulk(pairs: list[tuple[int, datetime.date]]) -> None:
    """Every cell × month of ``pairs`` (a superset of them) counted again and stored, set-based."""
    with transaction.atomic():
        _lock_table()
        _recount(sorted({o for o, _m in pairs}), sorted({m for _o, m in pairs}))


def recount_meetings(meeting_ids) -> None:
    """``recount`` the cell-months of these meetings."""
    recount_pairs(Meeting.objects.filter(pk__in=list(meeting_ids)).values_list("organisation_id", "period_month"))


def moved(*, organisation: Organisation, old_ancestors: list[int], new_ancestors: list[int]) -> None:
    """A subtree moved in the tree (``cells.signals.organisation_moved``): its cells' rows leave the
    organisations it was under and join those it is now under. In the move's transaction."""
    if is_suspended():
        return
    with transaction.atomic():
        _lock()
        # ``organisation`` holds its new path (``organisation_move`` reloads it before it signals).
        rows, _pks = _cell_rows(
            Q(organisation__path__startswith=organisation.path, organisation__kind__in=Organisation.CELL_KINDS)
        )
        if not rows:
            return
        leaving = subtree_totals(rows, {cell: old_ancestors for cell, _m in rows})
        joining = subtree_totals(rows, {cell: new_ancestors for cell, _m in rows})
        keys = set(leaving) | set(joining)
        stored_rows = {
            (row.organisation_id, row.month): row
            for row in SubtreeRollup.objects.filter(
                organisation_id__in={o for o, _m in keys}, month__in={m for _o, m in keys}
            )
        }
        totals = {}
        for key in keys:
            totals[key] = _values_of(stored_rows[key]) if key in stored_rows else _zero()
            _add(totals[key], joining.get(key, {}))
            _add(totals[key], leaving.get(key, {}), -1)
        _replace_subtrees(totals, stored_rows)


_suspended = threading.local()


@contextlib.contextmanager
def suspended():
    """A bulk load (the demo, a restore, the benchmark): the receivers do nothing meanwhile, and every
    rollup is rebuilt at the end, in the same transaction as the load when it runs in one."""
    _suspended.depth = getattr(_suspended, "depth", 0) + 1
    try:
        yield
    finally:
        _suspended.depth -= 1
    if not _suspended.depth:
        rebuild_all()


def is_suspended() -> bool:
    return getattr(_suspended, "depth", 0) > 0


# --- rebuilding and checking --------------------------------------------------------------------


def count_all() -> dict[tuple[int, datetime.date], dict]:
    """Every cell-month counted from the meetings (the guests read once, not per meeting), with its
    ``*_first`` counts."""
    guests = Meeting.upper_guests.through.objects.values("meeting_id")
    counts = _count(guest_meetings=guests)
    set_firsts(counts)
    return counts


def rebuild_all() -> int:
    """Replace every rollup row with a fresh count (after a bulk load: demo, benchmark, restore).

    One transaction; the tables are locked against the receivers' writes meanwhile."""
    with transaction.atomic():
        _lock_table()
        counts = count_all()
        MonthlyRollup.objects.all().delete()
        now = timezone.now()
        MonthlyRollup.objects.bulk_create(
            [MonthlyRollup(organisation_id=o, month=m, counted_at=now, **values) for (o, m), values in counts.items()],
            batch_size=2000,
        )
        SubtreeRollup.objects.all().delete()
        _replace_subtrees(subtree_totals(counts, ancestors_of({cell for cell, _m in counts})), {})
    return len(counts)


def _same(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    for name in SUMMED_FIELDS:
        if name == "attendance_rate_sum":
            # A sum of floating rates: equal up to the order of the additions.
            if abs(a[name] - b[name]) > 1e-6 * max(1.0, abs(a[name])):
                return False
        elif a.get(name, 0) != b.get(name, 0):
            return False
    return all((a.get(name) or {}) == (b.get(name) or {}) for name in MAP_FIELDS)


@dataclass
class Drift:
    """What ``verify`` found: the cell-months whose stored row differed from a fresh count, and the
    organisation-months whose sum of the cells below differed (all repaired)."""

    checked: int = 0
    repaired: list[tuple[int, datetime.date]] = field(default_factory=list)
    subtrees_repaired: list[tuple[int, datetime.date]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.repaired) + len(self.subtrees_repaired)


# ``verify`` reads so many organisations at a time (their meetings, their rows): its memory and each of
# its transactions stay the same size however large the tree (national: 421,000 organisations).
VERIFY_CHUNK = 500


def _id_ranges(size: int):
    """Ranges [low, high) of organisation ids, ``size`` wide, covering every meeting and cell row."""
    lows, highs = [], []
    for model in (Meeting, MonthlyRollup):
        bounds = model.objects.aggregate(low=Min("organisation_id"), high=Max("organisation_id"))
        if bounds["low"] is not None:
            lows.append(bounds["low"])
            highs.append(bounds["high"])
    if not lows:
        return []
    return [(low, low + size) for low in range(min(lows), max(highs) + 1, size)]


def _verify_cells(drift: Drift, *, repair: bool, instead: dict) -> None:
    """Every cell-month counted again from the meetings, a range of organisations at a time, and
    compared with the stored rows; each that differs is confirmed under the writers' lock, so that a
    write committed meanwhile is not taken for drift, and repaired (a dry run notes in ``instead``
    what it would have written, for the sums above)."""
    guests = Meeting.upper_guests.through.objects.values("meeting_id")
    for low, high in _id_ranges(VERIFY_CHUNK):
        fresh = _count(id_range=(low, high), guest_meetings=guests)
        set_firsts(fresh)
        rows = {
            (row.pop("organisation_id"), row.pop("month")): row
            for row in MonthlyRollup.objects.filter(organisation_id__gte=low, organisation_id__lt=high).values(
                "organisation_id", "month", *STORED_FIELDS
            )
        }
        drift.checked += len(set(fresh) | set(rows))
        for key in sorted(set(fresh) | set(rows)):
            if _same(fresh.get(key), rows.get(key)):
                continue
            with transaction.atomic():
                _lock()
                # The cell's row alone: the sums above are checked next, from the repaired rows.
                before, pks = _cell_rows(Q(organisation_id=key[0], month=key[1]))
                year, _pks = _cell_rows(_of_years([key[0]], [key[1].year]))
                counted = dict(year)
                counted.pop(key, None)
                counted.update(_count(cells=[key[0]], months=[key[1]]))
                set_firsts(counted)
                if _same(before.get(key), counted.get(key)):
                    continue  # changed and rolled up meanwhile: no drift
                if repair:
                    _write_cells(before, {key: counted[key]} if key in counted else {}, pks)
                else:
                    instead[(MonthlyRollup, *key)] = counted.get(key)
            drift.repaired.append(key)
            logger.warning(
                "monthly rollup drift: cell %s month %s: stored %s, counted %s", *key, before, counted.get(key)
            )


def _verify_subtrees(drift: Drift, *, repair: bool, instead: dict) -> None:
    """Every sum above the cells compared with its children's rows, level by level from the deepest,
    so each level is checked against rows already checked (and repaired): a sum equals its children's
    exactly when it equals the cells' below it. Chunks of ``VERIFY_CHUNK`` organisations, each in its
    own transaction under the writers' lock (a writer changes a sum and the rows below it together).
    A dry run (``repair=False``) checks each level against the corrections of the levels below as if
    written (``instead``), so that it reports what a repair would."""
    # The organisations with children, and any holding a sum (a row on one without is drift).
    parents = set(
        Organisation.objects.filter(parent__isnull=False).order_by().values_list("parent_id", flat=True).distinct()
    )
    parents |= set(SubtreeRollup.objects.order_by().values_list("organisation_id", flat=True).distinct())
    levels: dict[int, list[int]] = {}
    for organisation_id, depth in Organisation.objects.filter(pk__in=parents).order_by("pk").values_list("pk", "depth"):
        levels.setdefault(depth, []).append(organisation_id)
    for depth in sorted(levels, reverse=True):
        ids = levels[depth]
        for start in range(0, len(ids), VERIFY_CHUNK):
            chunk = ids[start : start + VERIFY_CHUNK]
            with transaction.atomic():
                _lock()
                wrong, compared = _resum(chunk, repair=repair, instead=instead)
            drift.checked += compared
            if not repair:
                instead.update({(SubtreeRollup, *key): values for key, values in wrong.items()})
            for key in sorted(wrong):
                drift.subtrees_repaired.append(key)
                logger.warning("subtree rollup drift: organisation %s month %s", *key)


def verify(*, repair: bool = True) -> Drift:
    """Count every cell-month again and compare with the stored rows; repair each that differs. Then
    check every sum above the cells against the rows below it and repair the sums that differ.

    Both read a chunk of organisations at a time (``VERIFY_CHUNK``), so a national tree is checked in
    bounded memory; the work is linear in the meetings and the rows, once each."""
    drift = Drift()
    instead: dict = {}  # a dry run's corrections, not written
    _verify_cells(drift, repair=repair, instead=instead)
    _verify_subtrees(drift, repair=repair, instead=instead)
    return drift


# --- reading ---------------------------------------------------------------------------------


@dataclass
class _Parts:
    """What a whole-tree read sums: row sets with their signs, and the path of every organisation whose
    rows they hold (to group them by ``path[:length]``, as ``counting._group`` does in SQL)."""

    sets: list[tuple[object, int]]
    paths: dict[int, str]

    @property
    def signs(self) -> list[int]:
        return [sign for _rows, sign in self.sets]

    def group(self, organisation_id: int, length: int | None) -> str:
        path = self.paths[organisation_id]
        return path[:length] if length else path


def _parts(scope: Organisation, period: Period, *, children: bool) -> _Parts:
    """Row sets whose sum, with their signs, is the sum of the rows of the scope's cells active in the
    period (``counting._of_cells_in``), read one row per organisation and month — per child of the scope
    (``children``) or for the scope itself:

    * the rows of the active cells among those organisations (the scope itself, if a cell; its
      children that are cells);
    * the subtree rows of those organisations (every cell below them);
    * less the rows of the cells further down that are not active in the period (dissolved before it,
      founded after it): few, found through the organisations' dates and partial indexes.

    The organisations are looked up first, in one query (the ``parent`` index finds a scope's children);
    the rows are then read by organisation id through their (organisation, month) index, with no join to
    the organisations — a join the planner answered with a scan of the whole tree at national scale."""
    those = Q(parent=scope) if children else Q(pk=scope.pk)
    inactive = Q(active_from__gt=period.end) | Q(active_to__lt=period.start)
    further = Q(depth__gt=scope.depth + 1) if children else ~Q(pk=scope.pk)
    active_cells = cells_in(scope, period)
    lookups = [
        (MonthlyRollup, 1, active_cells.filter(those)),
        (SubtreeRollup, 1, Organisation.objects.filter(those).exclude(kind__in=Organisation.CELL_KINDS)),
        (
            MonthlyRollup,
            -1,
            Organisation.objects.filter(
                further, inactive, path__startswith=scope.path, kind__in=Organisation.CELL_KINDS
            ),
        ),
        # The scope itself, if a cell, among its children's groups (a chi bộ cơ sở's own dashboard).
        *([(MonthlyRollup, 1, active_cells.filter(pk=scope.pk))] if children else []),
    ]
    found = _union([orgs.order_by().values("pk", "path") for _model, _sign, orgs in lookups])
    ids: dict[int, list[int]] = {}
    paths: dict[int, str] = {}
    for row in found:
        ids.setdefault(row["part"], []).append(row["pk"])
        paths[row["pk"]] = row["path"]
    sets = [
        (model.objects.filter(organisation_id__in=sorted(ids[index])), sign)
        for index, (model, sign, _orgs) in enumerate(lookups)
        if index in ids
    ]
    return _Parts(sets, paths)


def _of_cells(scope: Organisation, period: Period):
    return MonthlyRollup.objects.filter(_of_cells_in(scope, period))


def _year_of(period: Period) -> Q:
    return Q(month__gte=period.year_start, month__lte=datetime.date(period.year, 12, 1))


def _union(querysets):
    """The rows of the querysets (alike in their columns) in one query, each with ``part``, its index."""
    marked = [qs.annotate(part=Value(index, output_field=IntegerField())) for index, qs in enumerate(querysets)]
    return marked[0].union(*marked[1:], all=True) if len(marked) > 1 else marked[0]


def _combine(rows, signs: list[int], key_of, names) -> dict:
    """The rows of ``_union`` added per ``key_of(row)``, each with the sign of its part."""
    totals: dict = {}
    for row in rows:
        sign = signs[row["part"]]
        total = totals.setdefault(key_of(row), dict.fromkeys(names, 0))
        for name in names:
            total[name] += sign * (row[name] or 0)
    return totals


MEETING_COUNT_NAMES = (
    "regular",
    "thematic",
    "thematic_now",
    "visits",
    "visits_now",
    "forum_cells",
    "meetings",
    "above",
    "rate_sum",
    "unexcused",
)


def meeting_counts(scope: Organisation, period: Period, length: int | None, today: datetime.date) -> list[dict]:
    """``figures._meeting_counts_from_records``, summed from the rollups: per child of the scope, its
    rows of the months of the year (``_parts``: one row per child and month, not per cell). The cells
    that met in a quarter (year) are the sums of ``*_first`` over its months (``set_firsts``)."""
    first_month, last_month = _months_span(period.ended_months(today))
    ended_quarters = period.ended_quarters(today)
    first_quarter, last_quarter = _months_span(ended_quarters)
    last_quarter = dates.add_months(last_quarter, 2) if ended_quarters else NEVER
    current_quarter = period.current_quarter(today)
    now_first, now_last = (current_quarter, dates.add_months(current_quarter, 2)) if current_quarter else (NEVER, NEVER)
    in_period = Q(month__gte=period.start, month__lte=period.end)

    def months(first, last):
        return Q(month__gte=first, month__lte=last)

    def summed(rows, grp):
        # (The sums are named apart from the model's fields, which an annotation may not shadow.)
        return (
            rows.filter(_year_of(period))
            .order_by()
            .values(grp=grp)
            .annotate(
                sum_regular=Sum("regular_held", filter=months(first_month, last_month)),
                sum_thematic=Sum("thematic_first", filter=months(first_quarter, last_quarter)),
                sum_thematic_now=Sum("thematic_first", filter=months(now_first, now_last)),
                sum_visits=Sum("visit_first", filter=months(first_quarter, last_quarter)),
                sum_visits_now=Sum("visit_first", filter=months(now_first, now_last)),
                sum_forum_cells=Sum("forum_first"),
                sum_meetings=Sum("attendance_meetings", filter=in_period),
                sum_above=Sum("attendance_above", filter=in_period),
                sum_rate_sum=Sum("attendance_rate_sum", filter=in_period),
                sum_unexcused=Sum("attendance_unexcused", filter=in_period),
            )
        )

    if length:
        parts = _parts(scope, period, children=True)
        signs = parts.signs
        found = _union([summed(rows, F("organisation_id")) for rows, _sign in parts.sets]) if parts.sets else []
        rows = [
            {name: row[f"sum_{name}"] for name in MEETING_COUNT_NAMES} | row | {"grp": parts.group(row["grp"], length)}
            for row in found
        ]
    else:
        # Grouped by cell (the annual report's cell level), the cells' own rows are read.
        signs = [1]
        found = _union([summed(_of_cells(scope, period), _group("organisation__path", None))])
        rows = [{name: row[f"sum_{name}"] for name in MEETING_COUNT_NAMES} | row for row in found]
    totals = _combine(rows, signs, lambda row: row["grp"], MEETING_COUNT_NAMES)
    return [{"grp": grp, **sums, "rate_sum": float(sums["rate_sum"])} for grp, sums in totals.items()]


def attendance_warning_counts(*, scope: Organisation, period: Period) -> dict[str, int]:
    """The attendance warnings' counts summed from the rollups: the period's meetings with someone due
    that are not above the target, and their unexcused absences (``warnings._attendance_warning_counts``).
    Read from the scope's own subtree rows (``_parts`` at its depth)."""
    names = ("due", "above", "absent")
    parts = _parts(scope, period, children=False)
    counted = (
        _union(
            [
                rows.filter(month__gte=period.start, month__lte=period.end)
                .order_by()
                .values("month")
                .annotate(
                    due=Sum("attendance_meetings"), above=Sum("attendance_above"), absent=Sum("attendance_unexcused")
                )
                for rows, _sign in parts.sets
            ]
        )
        if parts.sets
        else []
    )
    counts = _combine(counted, parts.signs, lambda row: None, names).get(None, dict.fromkeys(names, 0))
    return {"low_attendance": counts["due"] - counts["above"], "unexcused": counts["absent"]}


def overdue_tasks_count(*, scope: Organisation, period: Period, today: datetime.date) -> int:
    """The "overdue tasks" warning summed from the rollups: the open tasks of the scope's cells active in
    the period (``meetings.indicators.task_overdue_q``) due within the period and before ``today`` —
    the entries of the ``tasks_open`` maps of the months up to today's, for the days before today.
    Read from the scope's own subtree rows (``_parts`` at its depth)."""
    last = min(period.end, today - datetime.timedelta(days=1))
    if last < period.start:
        return 0
    parts = _parts(scope, period, children=False)
    if not parts.sets:
        return 0
    rows = _union(
        [
            rows.filter(month__gte=period.start, month__lte=last).order_by().values("month", "tasks_open")
            for rows, _sign in parts.sets
        ]
    )
    signs = parts.signs
    total = 0
    for row in rows:
        month = row["month"]
        for day, tasks in (row["tasks_open"] or {}).items():
            if month.replace(day=int(day)) <= last:
                total += signs[row["part"]] * int(tasks)
    return total


def _scored_entries(rows) -> list[tuple]:
    """(part, organisation_id, month, "kind|level", meetings) of every entry of the ``scored`` maps of
    the rows of a ``_union`` of ``values("organisation_id", "month", "scored")`` querysets."""
    if connection.vendor != "postgresql":
        # SQLite (the embedded default) has no jsonb_each_text: the same entries, in Python.
        return [
            (row["part"], row["organisation_id"], row["month"], key, int(value))
            for row in rows
            for key, value in (row["scored"] or {}).items()
        ]
    # Where the router sends this read (the replica inside replica_reads(), lib/replica.py), not the primary.
    alias = rows.db
    sql, params = rows.query.get_compiler(using=alias).as_sql()
    with connections[alias].cursor() as cursor:
        # No GROUP BY: a row is already one organisation's month in one part (the rollups' unique key).
        cursor.execute(
            "SELECT sub.part, sub.organisation_id, sub.month, entry.key, entry.value::integer "  # noqa: S608 - ORM SQL
            f"FROM ({sql}) sub CROSS JOIN LATERAL jsonb_each_text(sub.scored) entry",
            params,
        )
        return cursor.fetchall()


def scored_meeting_counts(*, scope: Organisation, period: Period, length: int) -> list[dict]:
    """``heatmap.scored_meeting_counts`` summed from the rollups: the period's held, scored meetings per
    month, group, kind and official level (``_parts``: one row per child and month).

    The database finds the rows and lists the entries of their ``scored`` maps ("kind|level" →
    meetings); they are added per group here. Grouping them in SQL as well cost more than it saved at
    national scale: the planner, which cannot see into the maps, chose a parallel plan and JIT for it."""
    parts = _parts(scope, period, children=True)
    if not parts.sets:
        return []
    rows = _union(
        [
            rows.filter(month__gte=period.start, month__lte=period.end)
            .order_by()
            .values("organisation_id", "month", "scored")
            for rows, _sign in parts.sets
        ]
    )
    signs = parts.signs
    groups: dict[int, str] = {}
    totals: dict[tuple, int] = {}
    for part, organisation_id, month, key, value in _scored_entries(rows):
        grp = groups.get(organisation_id)
        if grp is None:
            grp = groups[organisation_id] = parts.group(organisation_id, length)
        total_key = (month, grp, key)
        totals[total_key] = totals.get(total_key, 0) + signs[part] * value
    levels: dict[str, tuple[str, str]] = {}
    result = []
    for (month, grp, key), meetings in totals.items():
        if meetings:
            if key not in levels:
                kind, _bar, level = key.partition("|")
                levels[key] = (kind, level)
            kind, level = levels[key]
            result.append({"period_month": month, "kind": kind, "grp": grp, "level": level, "meetings": meetings})
    return result


# --- the nightly check, reported ----------------------------------------------------------------


def verify_and_report() -> Drift:
    """The nightly check (``reports.tasks.rollups_verify``): repair any drift, and tell the Khối.

    Drift is a bug or a write that went around the services (raw SQL, a bulk load without
    ``suspended``): each repaired cell-month is logged; if there is any, one change-log row on each
    Khối and a notification to its administrators say how many and which."""
    from django.utils.translation import gettext as _

    from cells.models import Member, Role
    from cells.services.audit import audit_log
    from cells.services.notifications import notification_send

    drift = verify(repair=True)
    if not drift.count:
        logger.info("monthly rollups: %s cell-months checked, no drift", drift.checked)
        return drift
    repaired = drift.repaired + drift.subtrees_repaired
    names = dict(Organisation.objects.filter(pk__in={o for o, _m in repaired}).values_list("pk", "name"))
    examples = [f"{names.get(o, o)} {m:%m/%Y}" for o, m in repaired[:20]]
    found = _("%(count)s chi bộ-tháng") % {"count": len(drift.repaired)}
    if drift.subtrees_repaired:
        found = _("%(cells)s chi bộ-tháng và %(sums)s tháng của số cộng dồn cấp trên") % {
            "cells": len(drift.repaired),
            "sums": len(drift.subtrees_repaired),
        }
    with transaction.atomic():
        for khoi in Organisation.objects.filter(kind=Organisation.Kind.KHOI):
            audit_log(
                actor=None,
                action="reports.rollup.repair",
                instance=khoi,
                organisation=khoi,
                after={
                    "cell_months": len(drift.repaired),
                    "organisation_months": len(drift.subtrees_repaired),
                    "checked": drift.checked,
                    "examples": examples,
                },
            )
            admins = Member.objects.filter(
                user__role_assignments__role=Role.KHOI_ADMIN,
                user__role_assignments__organisation=khoi,
                user__role_assignments__end__isnull=True,
            ).distinct()
            notification_send(
                members=list(admins),
                kind="reports.rollup_drift",
                subject=_("Số liệu tổng hợp tháng đã được đối chiếu và sửa"),
                body=_(
                    "Lần đối chiếu hằng đêm thấy %(found)s có số liệu tổng hợp khác với số đếm lại từ "
                    "hồ sơ và đã sửa theo hồ sơ: %(examples)s. Các bảng điều hành nay khớp với hồ sơ; nếu việc này "
                    "lặp lại, hãy báo cho bộ phận kỹ thuật."
                )
                % {"found": found, "examples": ", ".join(examples)},
                organisation=khoi,
            )
    logger.warning("monthly rollups: %s of %s rows drifted and were repaired", drift.count, drift.checked)
    return drift
