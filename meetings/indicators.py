"""The indicators of the resolution, each defined once (issue #13).

Every figure the portal shows or acts on about meetings — on the dashboards, in their warnings and
drill-downs, on the supervision page, in the reminders, in the annual report and in the scoring
evidence — reads its definition here: which meetings count, by which date, against which threshold,
and when a period is still in progress. The callers only group and count.

Thresholds, with their sources (``shared/reference/domain-research.md``):

* ``PLANNING_DEADLINE_DAY`` — the regular meeting of a month is planned (its notice sent) by the 25th
  of that month: the design's early warning "no regular meeting planned by the 25th" (design §3,
  reports). The notice and the meeting's own start are the evidence, never when a row was written.
* ``MINUTES_DUE`` — the minutes are adopted and the conclusion reported upward within 2 days of the
  meeting (HD 42-HD/BTCTW, 28/10/2025, as reported in domain-research §3.2; confidence L).
* ``ATTENDANCE_TARGET`` — "trên 85 %" of the members due attend every meeting (seed resolution §I.2):
  a meeting at exactly 85 % does not meet it.
* Thematic meetings "ít nhất 1 lần/quý" (seed §II; HD 12 and HD 42 keep it), an upper-level committee
  member at each cell's meeting "ít nhất 1 lần/quý" (seed §II): one is enough to meet each.
* ``FORUMS_PER_YEAR_MIN`` — forums: the seed asks each cell for "tối thiểu mỗi năm từ 01 đến 02 diễn
  đàn" (seed §II, after Kế hoạch 47-KH/TU). "Tối thiểu" makes the range a floor: one forum meets the
  target, and a third is not a failure (the seed sets no upper bound, only a minimum of 1 to 2).
* ``task_on_time_q`` — a task of a resolution is done on time when it was completed on or before its
  due date; one without a due date, when it was completed by the end of the meeting that reviews the
  resolution's results (HD 42-HD/BTCTW line 6.1 "kết quả lãnh đạo thực hiện kết luận, nghị quyết kỳ
  trước": the monthly resolution's tasks are reported at the next month's meeting).
* ``UNPAID_DUES_MONTHS`` — three months of a year unpaid (Điều lệ Đảng Art. 8.2): it lives with the
  dues book in ``cells.selectors`` (the layer below) and is re-exported here.

A period (month, quarter, year) that has not ended is *in progress*: it is counted against what is
due so far. A month's regular meeting is met once held; it fails when the month ends without a held
meeting, or when the planning deadline passes without a plan; until then it is in progress. A
quarter's thematic meeting or visit, a year's forum: met once held, failed when the period ends
without, in progress until then.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import Organisation
from cells.selectors import UNPAID_DUES_MONTHS  # noqa: F401 - re-exported: one home, in the dues book's layer
from lib.dates import add_months, local_midnight, month_end, quarter_end, quarter_start
from lib.formatting import date_text as fmt_date
from lib.formatting import month_label, quarter_label
from lib.query import period_query

from . import kinds
from .models import Meeting, Task

# --- thresholds -----------------------------------------------------------------------------

PLANNING_DEADLINE_DAY = 25
MINUTES_DUE = datetime.timedelta(days=2)
# The conclusion reported to the upper level within 2 days of the meeting (seed §II "báo cáo cấp trên";
# the 2 days from the HD 42-HD/BTCTW repositories, domain-research §3.2 and §13, confidence L).
REPORT_UP_DUE = datetime.timedelta(days=2)
ATTENDANCE_TARGET = 85
# "tối thiểu mỗi năm từ 01 đến 02 diễn đàn" (seed §II): at least one forum a year meets the target.
FORUMS_PER_YEAR_MIN = 1

# --- which meetings count -------------------------------------------------------------------

# Each tuple derived from the meeting-kind registry (meetings.kinds), HELD_STATES written there once.
HELD_STATES = kinds.HELD_STATES
# The monthly regular meeting in its two forms (at most one per cell and month: a constraint).
REGULAR_KINDS = Meeting.REGULAR_KINDS
THEMATIC_KINDS = kinds.KindCodes("thematic")
# Meetings of the whole cell: their attendance counts, and an upper-level guest at one of them is a
# visit. Not the chi ủy's own meeting, nor a party group's.
CELL_MEETING_KINDS = kinds.KindCodes("cell_meeting")
# Meetings whose quality is scored (design §3 "scoring").
SCORED_KINDS = kinds.KindCodes("scored")

# --- unit statuses --------------------------------------------------------------------------

MET = "met"
FAILED = "failed"
IN_PROGRESS = "in_progress"
NOT_STARTED = "not_started"


# --- calendar: lib.dates and lib.formatting, re-exported for the readers of ``indicators.*`` -------------


@dataclass(frozen=True)
class Period:
    """A year, or one quarter or month of it. Year targets (ratings, documents, forums) use the year."""

    year: int
    quarter: int | None = None
    month: int | None = None

    @property
    def months(self) -> list[datetime.date]:
        if self.month:
            numbers = [self.month]
        elif self.quarter:
            numbers = list(range(self.quarter * 3 - 2, self.quarter * 3 + 1))
        else:
            numbers = list(range(1, 13))
        return [datetime.date(self.year, number, 1) for number in numbers]

    @property
    def start(self) -> datetime.date:
        return self.months[0]

    @property
    def end(self) -> datetime.date:
        return month_end(self.months[-1])

    @property
    def year_start(self) -> datetime.date:
        return datetime.date(self.year, 1, 1)

    @property
    def year_end(self) -> datetime.date:
        return datetime.date(self.year, 12, 31)

    @property
    def quarters(self) -> list[datetime.date]:
        """First days of the quarters the period touches."""
        return sorted({quarter_start(m) for m in self.months})

    def ended(self, today: datetime.date) -> bool:
        return today > self.end

    def in_progress(self, today: datetime.date) -> bool:
        return self.start <= today <= self.end

    def started_months(self, today: datetime.date) -> list[datetime.date]:
        return [m for m in self.months if m <= today]

    def ended_months(self, today: datetime.date) -> list[datetime.date]:
        return [m for m in self.months if month_end(m) < today]

    def current_month(self, today: datetime.date) -> datetime.date | None:
        """The period's month that contains ``today`` (in progress), if any."""
        first = today.replace(day=1)
        return first if first in self.months else None

    def ended_quarters(self, today: datetime.date) -> list[datetime.date]:
        return [q for q in self.quarters if quarter_end(q) < today]

    def current_quarter(self, today: datetime.date) -> datetime.date | None:
        first = quarter_start(today)
        return first if first in self.quarters else None

    def checked_month(self, today: datetime.date) -> datetime.date | None:
        """The month a warning checks: the one in progress, or the period's last month once it has ended."""
        if self.start > today:
            return None
        return self.current_month(today) or self.months[-1]

    def checked_quarter(self, today: datetime.date) -> datetime.date | None:
        if self.start > today:
            return None
        return self.current_quarter(today) or self.quarters[-1]

    def reference_day(self, today: datetime.date) -> datetime.date:
        """The day term documents and exemptions are read on: the year's end, or today within the year."""
        return min(self.year_end, today)

    @property
    def label(self) -> str:
        if self.month:
            return month_label(self.start)
        if self.quarter:
            return quarter_label(self.start)
        return _("năm %(year)s") % {"year": self.year}

    def as_of(self, today: datetime.date) -> str:
        """ "năm 2026, tính đến ngày 02/12/2026" while in progress; the plain label once ended."""
        if self.ended(today):
            return self.label
        return _("%(period)s, tính đến ngày %(date)s") % {"period": self.label, "date": fmt_date(today)}

    def query(self) -> dict:
        """The parameters of a link to the period, by their Vietnamese names (``nam``, ``quy``, ``thang``)."""
        return period_query(self.year, self.quarter, self.month)


# --- cells ----------------------------------------------------------------------------------


def active_between(start: datetime.date, end: datetime.date, prefix: str = "") -> Q:
    """Organisations active at some point from ``start`` to ``end``."""
    return (Q(**{f"{prefix}active_from__isnull": True}) | Q(**{f"{prefix}active_from__lte": end})) & (
        Q(**{f"{prefix}active_to__isnull": True}) | Q(**{f"{prefix}active_to__gte": start})
    )


def cells_active(
    *, start: datetime.date, end: datetime.date, within: Organisation | None = None
) -> QuerySet[Organisation]:
    """The cells expected to meet between ``start`` and ``end`` (inside ``within``'s subtree)."""
    cells = Organisation.objects.filter(active_between(start, end), kind__in=Organisation.CELL_KINDS)
    if within is not None:
        cells = cells.filter(path__startswith=within.path)
    return cells


# --- regular meeting held in a month; planned by the deadline -------------------------------


def held_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}state__in": HELD_STATES})


def regular_held_q(*, first: datetime.date, last: datetime.date) -> Q:
    """Regular meetings held for the months ``first``..``last`` (by the month they count for)."""
    return Q(kind__in=REGULAR_KINDS, state__in=HELD_STATES, period_month__gte=first, period_month__lte=last)


def planning_deadline_day(month: datetime.date) -> datetime.date:
    return month.replace(day=min(PLANNING_DEADLINE_DAY, calendar.monthrange(month.year, month.month)[1]))


def planning_deadline(month: datetime.date) -> datetime.datetime:
    """The first moment after the deadline: midnight (Asia/Ho_Chi_Minh) at the end of the 25th."""
    return local_midnight(planning_deadline_day(month) + datetime.timedelta(days=1))


def planning_deadline_passed(month: datetime.date, today: datetime.date) -> bool:
    return today > planning_deadline_day(month)


def planned_by_q(moment: datetime.datetime, prefix: str = "") -> Q:
    """A meeting counts as planned by ``moment`` when its notice went out, or it was held, before it."""
    return Q(**{f"{prefix}notice_sent_at__lt": moment}) | Q(**{f"{prefix}actual_start__lt": moment})


def regular_meetings_of(month: datetime.date) -> QuerySet[Meeting]:
    """The month's regular meetings that are not cancelled (at most one per cell)."""
    return Meeting.objects.filter(kind__in=REGULAR_KINDS, period_month=month).exclude(state=Meeting.State.CANCELLED)


def regular_planned_in_time_q(month: datetime.date, *, today: datetime.date, prefix: str = "") -> Q:
    """On ``today``, a regular meeting of ``month`` that satisfies the planning rule so far: held, or
    noticed (before the deadline once it has passed)."""
    moment = (
        planning_deadline(month)
        if planning_deadline_passed(month, today)
        else local_midnight(today + datetime.timedelta(days=1))
    )
    return Q(**{f"{prefix}state__in": HELD_STATES}) | planned_by_q(moment, prefix)


def cells_without_plan(
    *,
    month: datetime.date,
    today: datetime.date,
    within: Organisation | None = None,
    by: datetime.datetime | None = None,
) -> QuerySet[Organisation]:
    """Cells (of ``within``) whose regular meeting of ``month`` is not planned: by the deadline once it
    has passed, by today before; or by the moment ``by`` (the reminder asks "not planned yet")."""
    if by is None:
        condition = regular_planned_in_time_q(month, today=today)
    else:
        condition = Q(state__in=HELD_STATES) | planned_by_q(by)
    planned = regular_meetings_of(month).filter(condition, organisation=OuterRef("pk"))
    return cells_active(start=month, end=month_end(month), within=within).filter(~Exists(planned))


def month_status(*, month: datetime.date, today: datetime.date, meeting: dict | None) -> str:
    """The status of one cell-month's regular meeting for the heat map.

    ``meeting`` holds ``state``, ``notice_sent_at`` and ``actual_start`` of the month's regular
    meeting that is not cancelled, or is None. Statuses: held (met), planned / draft / unplanned (in
    progress), late (the deadline passed without a plan, the month still running; failed), missing
    (the month ended without a held meeting; failed), future (not started).
    """
    if meeting is not None and meeting["state"] in HELD_STATES:
        return "held"
    if month > today:
        return "future"
    if month_end(month) < today:
        return "missing"
    if planning_deadline_passed(month, today):
        deadline = planning_deadline(month)
        sent = meeting and meeting.get("notice_sent_at")
        if sent and sent < deadline:
            return "planned"
        return "late"
    if meeting is None:
        return "unplanned"
    return "planned" if meeting.get("notice_sent_at") else "draft"


def month_in_progress(*, month: datetime.date, today: datetime.date, cells: int, held: int, planned: int) -> dict:
    """``month_status`` counted over many cells of a month in progress: of ``cells``, ``held`` held their
    meeting and ``planned`` (held included) planned it in time so far. Met: the held ones; failed: those
    without a plan once the deadline has passed; pending: the rest."""
    failed = max(cells - planned, 0) if planning_deadline_passed(month, today) else 0
    return {"met": held, "failed": failed, "pending": max(cells - held - failed, 0)}


MONTH_STATUS_UNIT = {
    "held": MET,
    "planned": IN_PROGRESS,
    "draft": IN_PROGRESS,
    "unplanned": IN_PROGRESS,
    "late": FAILED,
    "missing": FAILED,
    "future": NOT_STARTED,
}


# --- thematic meeting in a quarter; forum in a year; upper-level visit in a quarter ------------


def thematic_held_q(*, first: datetime.date, last: datetime.date) -> Q:
    """Thematic or combined meetings held for the months ``first``..``last``."""
    return Q(kind__in=THEMATIC_KINDS, state__in=HELD_STATES, period_month__gte=first, period_month__lte=last)


def thematic_scheduled_q(*, first: datetime.date, last: datetime.date) -> Q:
    """Thematic or combined meetings for the months ``first``..``last`` that are planned or held (any
    state but cancelled): the yearly plan's reminder asks whether a quarter's topic has a meeting yet."""
    return Q(kind__in=THEMATIC_KINDS, period_month__gte=first, period_month__lte=last) & ~Q(
        state=Meeting.State.CANCELLED
    )


def forums_held_q(*, first: datetime.date, last: datetime.date) -> Q:
    """Forums held for the months ``first``..``last``."""
    return Q(kind=Meeting.Kind.FORUM, state__in=HELD_STATES, period_month__gte=first, period_month__lte=last)


def forum_held_q(*, year: int) -> Q:
    return forums_held_q(first=datetime.date(year, 1, 1), last=datetime.date(year, 12, 1))


def cell_meetings_held_q(*, first: datetime.date, last: datetime.date) -> Q:
    """Held meetings of the whole cell for the months ``first``..``last`` (attendance, visits)."""
    return Q(kind__in=CELL_MEETING_KINDS, state__in=HELD_STATES, period_month__gte=first, period_month__lte=last)


def visits_q(*, first: datetime.date, last: datetime.date, guest_meetings: QuerySet | None = None) -> Q:
    """Upper-level visits: a held meeting of the whole cell, counted for a month ``first``..``last``,
    with at least one upper-level guest (a đảng ủy viên recorded on ``Meeting.upper_guests``).

    A chi ủy meeting with a guest is not a visit: the rule is attending the cell's meeting.
    ``guest_meetings`` (the ``meeting_id`` of a superset of the guest rows, e.g. the scope's year) turns
    the correlated EXISTS into an uncorrelated IN, which PostgreSQL prices better inside an aggregate.
    """
    if guest_meetings is None:
        has_guest = Q(Exists(Meeting.upper_guests.through.objects.filter(meeting=OuterRef("pk"))))
    else:
        has_guest = Q(pk__in=guest_meetings)
    return cell_meetings_held_q(first=first, last=last) & has_guest


def visited_in_quarter(quarter: datetime.date) -> Exists:
    """For an outer cell: whether it had an upper-level visit in the quarter starting on ``quarter``."""
    visits = Meeting.objects.filter(visits_q(first=quarter, last=add_months(quarter, 2)), organisation=OuterRef("pk"))
    return Exists(visits)


def cells_without_visit(*, quarter: datetime.date, within: Organisation | None = None) -> QuerySet[Organisation]:
    """Cells (of ``within``) active in the quarter with no upper-level visit in it."""
    return (
        cells_active(start=quarter, end=quarter_end(quarter), within=within)
        .annotate(visited=visited_in_quarter(quarter))
        .filter(visited=False)
    )


# --- meetings entered afterwards -------------------------------------------------------------
#
# A meeting kept on paper and entered afterwards (services.meeting_record_past, "nhập bổ sung") is
# a held meeting like any other for every figure: it meets its month's regular meeting (held_q), its
# attendance and upper-level guests count. What we decided for its timing criteria, and why:
#
# * Planning and notice are judged from the notice date the paper gives, never from when the
#   meeting was typed in: that date becomes ``notice_sent_at`` at 00:00 (Asia/Ho_Chi_Minh) of that
#   day, because a paper notice carries a day and no hour. So it counts as planned by the 25th
#   (``planned_by_q``) and as noticed a day ahead (the scoring's notice lines) exactly when the
#   paper's date says so. When the paper records no notice ("không ghi nhận") there is no notice:
#   no credit for noticing or planning ahead. Its entry time gives no credit either way.
# * Minutes adopted in time (``MINUTES_DUE``): by the adoption date on paper — the secretary reads the
#   minutes and the cell adopts them at the close of the meeting (DR §3.2, "Closing", from HD 09/HD 42;
#   design §5), so the form proposes the meeting's day — compared by date, since the paper gives no hour; without a date on
#   paper there is no credit. The portal's own adoption (the lock and the number) comes when the
#   record is complete, later, and is not the paper's.
# * Documents sent ahead: only documents the portal published before the start count; documents
#   attached to a meeting entered afterwards are uploaded after it began and earn nothing.


def paper_notice_moment(day: datetime.date | None) -> datetime.datetime | None:
    """The notice moment a paper notice date stands for: the start of that day; None when not recorded."""
    return local_midnight(day) if day is not None else None


# --- minutes overdue ------------------------------------------------------------------------


def minutes_clock():
    """When a meeting ended as far as the records know: its actual end, else its actual start, else
    its planned end (a meeting still "notified" after its time has not been recorded as held)."""
    return Coalesce("actual_end", "actual_start", "planned_end")


def minutes_due_at(meeting: Meeting) -> datetime.datetime:
    return (meeting.actual_end or meeting.actual_start or meeting.planned_end) + MINUTES_DUE


def minutes_overdue(*, now: datetime.datetime) -> QuerySet[Meeting]:
    """Meetings whose minutes should have been adopted by ``now`` and are not: held (or still noticed)
    more than ``MINUTES_DUE`` ago, annotated with ``ended_at``."""
    # A meeting entered afterwards whose paper minutes were adopted is not overdue: its minutes exist
    # (the record is still being typed in); whether they were adopted in time is judged on paper.
    return _minutes_not_adopted().annotate(ended_at=minutes_clock()).filter(ended_at__lt=now - MINUTES_DUE)


def minutes_not_yet_overdue(*, now: datetime.datetime) -> QuerySet[Meeting]:
    """The meetings ``minutes_overdue`` will count once their due moment (``ended_at + MINUTES_DUE``)
    passes, and has not yet: what the clock alone will add to it."""
    return _minutes_not_adopted().annotate(ended_at=minutes_clock()).filter(ended_at__gte=now - MINUTES_DUE)


def _minutes_not_adopted() -> QuerySet[Meeting]:
    return Meeting.objects.filter(state__in=[Meeting.State.NOTIFIED, Meeting.State.HELD]).exclude(
        entered_afterwards_at__isnull=False, paper_adopted_on__isnull=False
    )


def minutes_adopted_in_time(meeting: Meeting, *, now: datetime.datetime | None = None) -> bool | None:
    """True/False once decided (adopted by the due moment, or the moment passed), None while in time."""
    due = minutes_due_at(meeting)
    if meeting.entered_afterwards_at is not None:  # judged on the paper's date (see above)
        if meeting.paper_adopted_on is None:
            return False
        return meeting.paper_adopted_on <= timezone.localdate(due)
    if meeting.adopted_at:
        return meeting.adopted_at <= due
    now = now or timezone.now()
    return False if now > due else None


# --- the conclusion reported upward -------------------------------------------------------


def report_up_due_at(meeting: Meeting) -> datetime.datetime:
    """``REPORT_UP_DUE`` after the meeting ended (the same clock as the minutes)."""
    return (meeting.actual_end or meeting.actual_start or meeting.planned_end) + REPORT_UP_DUE


def reported_up_in_time(meeting: Meeting, *, now: datetime.datetime | None = None) -> bool | None:
    """True/False once decided (reported by the due moment, or the moment passed), None while in time."""
    due = report_up_due_at(meeting)
    if meeting.reported_up_at:
        return meeting.reported_up_at <= due
    now = now or timezone.now()
    return False if now > due else None


# --- attendance -----------------------------------------------------------------------------


def attendance_rate(present: int, base: int) -> float | None:
    return present * 100 / base if base else None


def attendance_meets_target(present: int, base: int) -> bool:
    """More than ``ATTENDANCE_TARGET`` % of the members due were present (late counts as present)."""
    return present * 100 > base * ATTENDANCE_TARGET


def attendance_target_q(*, met: bool, present: str = "attendance_present", base: str = "attendance_base") -> Q:
    """The same test in SQL over a meeting's stored counts (meetings with nobody due are neither)."""
    from django.db.models import F
    from django.db.models.lookups import GreaterThan, LessThanOrEqual

    lookup = GreaterThan if met else LessThanOrEqual
    return Q(**{f"{base}__gt": 0}) & Q(lookup(F(present) * 100, F(base) * ATTENDANCE_TARGET))


# --- tasks open and overdue -----------------------------------------------------------------


def task_open_q(prefix: str = "") -> Q:
    """Tasks still to do: open, of a meeting that was not cancelled (a cancelled meeting assigned
    nothing). With a due date before today they are overdue (the dashboards' "overdue tasks")."""
    return Q(**{f"{prefix}status": Task.Status.OPEN}) & ~Q(**{f"{prefix}meeting__state": Meeting.State.CANCELLED})


def task_overdue_q(*, today: datetime.date, prefix: str = "") -> Q:
    """Open tasks (``task_open_q``) whose due date is before the local day ``today``."""
    return task_open_q(prefix) & Q(**{f"{prefix}due_date__lt": today})


# --- tasks done on time ---------------------------------------------------------------------


def task_on_time_q(*, undated_by: datetime.datetime | None, prefix: str = "") -> Q:
    """Tasks done on time: done, and completed on or before their due date (the local day); a task
    without a due date, completed by ``undated_by`` (the end of the meeting that reviews it; None: such
    a task is never on time). A task done before the portal kept completion times counts as on time."""
    done = Q(**{f"{prefix}status": Task.Status.DONE})
    dated = Q(**{f"{prefix}due_date__isnull": False, f"{prefix}completed_at__date__lte": F(f"{prefix}due_date")})
    when = Q(**{f"{prefix}completed_at__isnull": True}) | dated
    if undated_by is not None:
        when |= Q(**{f"{prefix}due_date__isnull": True, f"{prefix}completed_at__lte": undated_by})
    return done & when
