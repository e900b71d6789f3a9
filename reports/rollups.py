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

Writes: ``recount(cell, month)`` counts one cell-month again from the meetings and stores it, in the
caller's transaction, under a transaction-level advisory lock on the cell-month (two writers of the
same cell-month take turns, so the second counts what the first committed). ``reports.receivers``
calls it on every save or delete of a meeting, a change of its upper-level guests or of its score, and
on ``meetings.signals.meeting_counts_changed`` (the set-based attendance recount); a bulk load (the
demo, the benchmark, a restore) calls ``rebuild_all``. ``verify`` (nightly, ``reports.tasks``) counts
everything again, compares, repairs and reports any drift.

What is not here, and read from the records as before: the month in progress' planning (it depends on
the day it is read), ratings, documents and commitments (of the year, on a reference day, from the
member register), and the warnings (overdue on today).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
from dataclasses import dataclass, field

from django.db import connection, connections, transaction
from django.db.models import Count, ExpressionWrapper, F, FloatField, IntegerField, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, ExtractQuarter, NullIf

from cells.models import Organisation
from lib import dates
from meetings import indicators
from meetings.models import Meeting

from .counting import ATTENDANCE_KINDS, SCORED_KINDS, UNSCORED, _group, _held, _of_cells_in
from .models import MonthlyRollup
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


def _count(where: Q, *, guest_meetings=None) -> dict[tuple[int, datetime.date], dict]:
    """Per (cell, month) of the meetings matching ``where``: the rollup's counts (two grouped queries).

    Only cell-months with a counted meeting appear. ``guest_meetings``: as ``indicators.visits_q``.
    """
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
        result[key] = {**row, "scored": {}}
    scored = (
        _held(ALWAYS["first"], ALWAYS["last"], SCORED_KINDS)
        .filter(where)
        .order_by()
        .values("organisation_id", "period_month", "kind", level=score_level())
        .annotate(meetings=Count("pk"))
    )
    for row in scored:
        key = (row["organisation_id"], row["period_month"])
        entry = result.setdefault(key, {**dict.fromkeys(COUNT_FIELDS, 0), "attendance_rate_sum": 0.0, "scored": {}})
        entry["scored"][scored_key(row["kind"], row["level"])] = row["meetings"]
    return result


def _lock(organisation_id: int, month: datetime.date) -> None:
    if connection.vendor != "postgresql":
        return
    # The two-key form: its keys are apart from the one-key (bigint) locks.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [organisation_id, month.year * 12 + month.month])


def _store(organisation_id: int, month: datetime.date, counts: dict | None) -> None:
    if counts is None:
        MonthlyRollup.objects.filter(organisation_id=organisation_id, month=month).delete()
    else:
        MonthlyRollup.objects.update_or_create(organisation_id=organisation_id, month=month, defaults=counts)


def stored(organisation_id: int, month: datetime.date) -> dict | None:
    row = (
        MonthlyRollup.objects.filter(organisation_id=organisation_id, month=month)
        .values(*COUNT_FIELDS, "scored")
        .first()
    )
    return row


def recount(organisation_id: int, month: datetime.date) -> dict | None:
    """Count one cell-month again from its meetings and store it (or drop its row: nothing counted).

    In the caller's transaction (one is opened if there is none), under the cell-month's lock."""
    month = month.replace(day=1)
    with transaction.atomic():
        _lock(organisation_id, month)
        counts = _count(Q(organisation_id=organisation_id, period_month=month)).get((organisation_id, month))
        _store(organisation_id, month, counts)
    return counts


# More cell-months than this in one write (a set-based attendance recount of a bulk load) are
# recounted together, set-based, under a table lock instead of one advisory lock each.
BULK_PAIRS = 50


def recount_pairs(pairs) -> None:
    """``recount`` each (cell, month) once, in a stable order (two writers lock in the same order)."""
    chosen = sorted({(o, m.replace(day=1)) for o, m in pairs if o and m})
    if len(chosen) > BULK_PAIRS:
        _recount_bulk(chosen)
        return
    for organisation_id, month in chosen:
        recount(organisation_id, month)


def _lock_table() -> None:
    """Keep every other rollup writer out until the transaction ends (they wait, then count again)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {MonthlyRollup._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


def _recount_bulk(pairs: list[tuple[int, datetime.date]]) -> None:
    """Every cell × month of ``pairs`` (a superset of them) counted again and stored, set-based."""
    cells = sorted({o for o, _m in pairs})
    months = sorted({m for _o, m in pairs})
    with transaction.atomic():
        _lock_table()
        counts = _count(Q(organisation_id__in=cells, period_month__in=months))
        MonthlyRollup.objects.filter(organisation_id__in=cells, month__in=months).delete()
        MonthlyRollup.objects.bulk_create(_rows_of(counts), batch_size=2000)


def recount_meetings(meeting_ids) -> None:
    """``recount`` the cell-months of these meetings."""
    recount_pairs(Meeting.objects.filter(pk__in=list(meeting_ids)).values_list("organisation_id", "period_month"))


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
    """Every cell-month counted from the meetings (the guests read once, not per meeting)."""
    guests = Meeting.upper_guests.through.objects.values("meeting_id")
    return _count(Q(), guest_meetings=guests)


def _rows_of(counts: dict) -> list[MonthlyRollup]:
    return [MonthlyRollup(organisation_id=o, month=m, **values) for (o, m), values in counts.items()]


def rebuild_all() -> int:
    """Replace every rollup row with a fresh count (after a bulk load: demo, benchmark, restore).

    One transaction; the table is locked against the receivers' writes meanwhile."""
    with transaction.atomic():
        _lock_table()
        counts = count_all()
        MonthlyRollup.objects.all().delete()
        MonthlyRollup.objects.bulk_create(_rows_of(counts), batch_size=2000)
    return len(counts)


def _same(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    for name in COUNT_FIELDS:
        if name == "attendance_rate_sum":
            # A sum of floating rates: equal up to the order of the additions.
            if abs(a[name] - b[name]) > 1e-6:
                return False
        elif a[name] != b[name]:
            return False
    return (a.get("scored") or {}) == (b.get("scored") or {})


@dataclass
class Drift:
    """What ``verify`` found: the cell-months whose stored row differed from a fresh count (repaired)."""

    checked: int = 0
    repaired: list[tuple[int, datetime.date]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.repaired)


def verify(*, repair: bool = True) -> Drift:
    """Count every cell-month again and compare with the stored rows; repair each that differs.

    A difference is confirmed cell-month by cell-month under its lock (``recount``), so that a write
    committed while the whole count ran is not taken for drift."""
    fresh = count_all()
    rows = {
        (row.pop("organisation_id"), row.pop("month")): row
        for row in MonthlyRollup.objects.values("organisation_id", "month", *COUNT_FIELDS, "scored")
    }
    drift = Drift(checked=len(set(fresh) | set(rows)))
    for key in sorted(set(fresh) | set(rows)):
        if _same(fresh.get(key), rows.get(key)):
            continue
        with transaction.atomic():
            _lock(*key)
            before = stored(*key)
            counts = _count(Q(organisation_id=key[0], period_month=key[1])).get(key)
            if _same(before, counts):
                continue  # changed and rolled up meanwhile: no drift
            if repair:
                _store(key[0], key[1], counts)
        drift.repaired.append(key)
        logger.warning("monthly rollup drift: cell %s month %s: stored %s, counted %s", *key, before, counts)
    return drift


# --- reading ----------------------------------------------------------------------------------


def _rollups_of(scope: Organisation, period: Period):
    """The rollup rows of the scope's cells active in the period, for the months of its year."""
    return MonthlyRollup.objects.filter(
        _of_cells_in(scope, period), month__gte=period.year_start, month__lte=datetime.date(period.year, 12, 1)
    )


def _cell_quarter():
    return ExpressionWrapper(F("organisation_id") * 10 + ExtractQuarter("month"), output_field=IntegerField())


def meeting_counts(scope: Organisation, period: Period, length: int | None, today: datetime.date) -> list[dict]:
    """``figures._meeting_counts_from_records``, summed from the rollups: one grouped query over the
    scope's cell-months of the year (no meeting row read)."""
    first_month, last_month = _months_span(period.ended_months(today))
    ended_quarters = period.ended_quarters(today)
    first_quarter, last_quarter = _months_span(ended_quarters)
    last_quarter = dates.add_months(last_quarter, 2) if ended_quarters else NEVER
    current_quarter = period.current_quarter(today)
    now_first, now_last = (current_quarter, dates.add_months(current_quarter, 2)) if current_quarter else (NEVER, NEVER)
    in_period = Q(month__gte=period.start, month__lte=period.end)

    def months(first, last):
        return Q(month__gte=first, month__lte=last)

    rows = list(
        _rollups_of(scope, period)
        .order_by()
        .values(grp=_group("organisation__path", length))
        .annotate(
            sum_regular=Sum("regular_held", filter=months(first_month, last_month)),
            sum_thematic=Count(
                _cell_quarter(), distinct=True, filter=Q(thematic_held__gt=0) & months(first_quarter, last_quarter)
            ),
            sum_thematic_now=Count(
                "organisation", distinct=True, filter=Q(thematic_held__gt=0) & months(now_first, now_last)
            ),
            sum_visits=Count(
                _cell_quarter(), distinct=True, filter=Q(visits__gt=0) & months(first_quarter, last_quarter)
            ),
            sum_visits_now=Count("organisation", distinct=True, filter=Q(visits__gt=0) & months(now_first, now_last)),
            sum_forum_cells=Count("organisation", distinct=True, filter=Q(forum_held__gt=0)),
            sum_meetings=Sum("attendance_meetings", filter=in_period),
            sum_above=Sum("attendance_above", filter=in_period),
            sum_rate_sum=Sum("attendance_rate_sum", filter=in_period),
            sum_unexcused=Sum("attendance_unexcused", filter=in_period),
        )
    )
    # (The sums are named apart from the model's fields, which an annotation may not shadow.)
    result = []
    for row in rows:
        sums = {name.removeprefix("sum_"): value or 0 for name, value in row.items() if name != "grp"}
        result.append({"grp": row["grp"], **sums, "rate_sum": float(sums["rate_sum"])})
    return result


def attendance_warning_counts(*, scope: Organisation, period: Period) -> dict[str, int]:
    """The attendance warnings' counts summed from the rollups: the period's meetings with someone due
    that are not above the target, and their unexcused absences (``warnings._attendance_warning_counts``)."""
    counts = (
        MonthlyRollup.objects.filter(_of_cells_in(scope, period), month__gte=period.start, month__lte=period.end)
        .order_by()
        .aggregate(due=Sum("attendance_meetings"), above=Sum("attendance_above"), absent=Sum("attendance_unexcused"))
    )
    return {"low_attendance": (counts["due"] or 0) - (counts["above"] or 0), "unexcused": counts["absent"] or 0}


def scored_meeting_counts(*, scope: Organisation, period: Period, length: int) -> list[dict]:
    """``heatmap.scored_meeting_counts`` summed from the rollups: the period's held, scored meetings per
    month, group, kind and official level (one grouped query over the scope's cell-months)."""
    rows = (
        MonthlyRollup.objects.filter(_of_cells_in(scope, period), month__gte=period.start, month__lte=period.end)
        .order_by()
        .values("month", "scored", grp=_group("organisation__path", length))
    )
    if connection.vendor != "postgresql":
        # SQLite (the embedded default) has no jsonb_each_text: the same sums, in Python.
        totals: dict[tuple, int] = {}
        for row in rows:
            for key, value in (row["scored"] or {}).items():
                totals[(row["month"], row["grp"], key)] = totals.get((row["month"], row["grp"], key), 0) + int(value)
        return [
            {
                "period_month": month,
                "kind": key.partition("|")[0],
                "grp": grp,
                "level": key.partition("|")[2],
                "meetings": n,
            }
            for (month, grp, key), n in totals.items()
        ]
    # Where the router sends this read (the replica inside replica_reads(), lib/replica.py), not the primary.
    alias = rows.db
    sql, params = rows.query.get_compiler(using=alias).as_sql()
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT sub.month, sub.grp, entry.key, SUM(entry.value::integer) "  # noqa: S608 - compiled ORM SQL
            f"FROM ({sql}) sub CROSS JOIN LATERAL jsonb_each_text(sub.scored) entry "
            "GROUP BY sub.month, sub.grp, entry.key",
            params,
        )
        result = []
        for month, grp, key, meetings in cursor.fetchall():
            kind, _bar, level = key.partition("|")
            result.append({"period_month": month, "kind": kind, "grp": grp, "level": level, "meetings": int(meetings)})
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
    names = dict(Organisation.objects.filter(pk__in={o for o, _m in drift.repaired}).values_list("pk", "name"))
    examples = [f"{names.get(o, o)} {m:%m/%Y}" for o, m in drift.repaired[:20]]
    with transaction.atomic():
        for khoi in Organisation.objects.filter(kind=Organisation.Kind.KHOI):
            audit_log(
                actor=None,
                action="reports.rollup.repair",
                instance=khoi,
                organisation=khoi,
                after={"cell_months": drift.count, "checked": drift.checked, "examples": examples},
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
                    "Lần đối chiếu hằng đêm thấy %(count)s chi bộ-tháng có số liệu tổng hợp khác với số đếm lại từ "
                    "hồ sơ và đã sửa theo hồ sơ: %(examples)s. Các bảng điều hành nay khớp với hồ sơ; nếu việc này "
                    "lặp lại, hãy báo cho bộ phận kỹ thuật."
                )
                % {"count": drift.count, "examples": ", ".join(examples)},
                organisation=khoi,
            )
    logger.warning("monthly rollups: %s of %s cell-months drifted and were repaired", drift.count, drift.checked)
    return drift
