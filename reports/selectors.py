"""Reads of the reports app: the yearly targets of the resolution (design §6), the heat map, warnings.

Every figure is counted by the database with grouped, set-based queries: a dashboard runs a fixed
number of queries whatever the number of cells, members or meetings. Python only arranges the few
result rows (one per organisation, one per month) for display, and adds up the per-group rows into
the total row.

Figures are grouped by a prefix of the organisation path: the direct children of the scope (its
TCCS for the Khối), or the full path (one row per cell). Access starts from the cells access
selectors: the scope is an organisation the user may read, and everything is inside its subtree.
"""

import datetime
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractQuarter, NullIf, Substr, TruncQuarter
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cells.models import (
    PATH_STEP_WIDTH,
    CellDocument,
    Member,
    MemberCommitment,
    Organisation,
    RequiredDocumentType,
    Role,
)
from cells.selectors import (
    count_members_with_unpaid_months,
    exempt_member_ids,
    get_organisation_for_user_or_404,
    members_with_unpaid_months,
    role_assignments_of,
    roles_of,
)
from meetings import indicators
from meetings.models import Attendance, Meeting, Task
from scoring.models import AnnualRating, RatingLevel

from .models import ReportRun

# Who sees the dashboards: the Khối and the grassroots committees, not the cells.
DASHBOARD_ROLES = frozenset({Role.KHOI_ADMIN, Role.COMMITTEE_VIEWER, Role.TCCS_OFFICER})
# Who may start the annual report.
REPORT_ROLES = frozenset({Role.KHOI_ADMIN, Role.TCCS_OFFICER})
SCOPE_KINDS = (Organisation.Kind.KHOI, Organisation.Kind.DANG_BO_CO_SO, Organisation.Kind.DANG_BO_BO_PHAN)

# Which meetings count, and the thresholds: one home, meetings.indicators (issue #13).
HELD_STATES = indicators.HELD_STATES
THEMATIC_KINDS = indicators.THEMATIC_KINDS
ATTENDANCE_KINDS = indicators.CELL_MEETING_KINDS
SCORED_KINDS = indicators.SCORED_KINDS
ATTENDANCE_TARGET = indicators.ATTENDANCE_TARGET
GOOD_LEVELS = (RatingLevel.EXCELLENT, RatingLevel.GOOD)
# Meeting-quality levels of the shipped schemes, best first; other codes are shown as they are.
QUALITY_LEVELS = [("tot", gettext_lazy("Tốt")), ("kha", gettext_lazy("Khá")),
                  ("trung_binh", gettext_lazy("Trung bình")), ("kem", gettext_lazy("Kém"))]
UNSCORED = "chua_xac_nhan"
# The meeting-quality levels the Khối's heat map counts as good.
GOOD_MEETING_LEVELS = ("tot", "kha")


# --- access ---------------------------------------------------------------------------------


def can_see_dashboards(user) -> bool:
    return bool(roles_of(user) & DASHBOARD_ROLES)


def dashboard_home_for(user) -> Organisation | None:
    """The widest organisation the user watches: the Khối for its staff, the TCCS for its officers."""
    if user.is_authenticated and user.is_superuser:
        return Organisation.objects.filter(kind=Organisation.Kind.KHOI).order_by("path").first()
    for assignment in role_assignments_of(user):  # ordered by path: the widest first
        if assignment.role in DASHBOARD_ROLES and assignment.organisation.kind in SCOPE_KINDS:
            return assignment.organisation
    return None


def get_scope_for_user_or_404(user, pk) -> Organisation:
    """The organisation of a dashboard: 403 without a dashboard role, 404 outside the user's subtrees."""
    if not can_see_dashboards(user):
        raise PermissionDenied
    scope = get_organisation_for_user_or_404(user, pk, roles=DASHBOARD_ROLES)
    if scope.kind not in SCOPE_KINDS:
        raise Http404
    return scope


def can_run_reports(user, scope: Organisation) -> bool:
    if user.is_authenticated and user.is_superuser:
        return True
    return any(a.role in REPORT_ROLES and scope.path.startswith(a.organisation.path) for a in role_assignments_of(user))


def get_part_of_scope_or_404(scope: Organisation, pk) -> Organisation:
    """An organisation inside the scope's subtree (for drill-down filters)."""
    try:
        return Organisation.objects.get(pk=int(pk), path__startswith=scope.path)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- the period -----------------------------------------------------------------------------

Period = indicators.Period
_month_end = indicators.month_end


# --- formatting -----------------------------------------------------------------------------


def fmt_int(value) -> str:
    return number_format(int(value or 0), 0, force_grouping=True)


def fmt_percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{number_format(round(value, 1), 1, force_grouping=True)} %"


# --- the targets ----------------------------------------------------------------------------

# A figure's status: met, failed, in progress (its period has not ended and it has not failed for
# good), or nothing to judge. The labels are the words of every page, export and report.
MET, FAILED, IN_PROGRESS, NO_DATA = indicators.MET, indicators.FAILED, indicators.IN_PROGRESS, "none"
STATUS_LABELS = {MET: gettext_lazy("Đạt"), FAILED: gettext_lazy("Chưa đạt"),
                 IN_PROGRESS: gettext_lazy("Đang thực hiện"), NO_DATA: "—"}


@dataclass(frozen=True)
class Target:
    """One target of design §6: how its actual figure is read and when it is met.

    ``span``: "period" for the targets counted over the chosen months (meetings, attendance), "year" for
    those of the whole year whatever the filter (ratings, documents, commitments, forums).
    ``fails_early``: a shortfall cannot be made up before the period ends (every unit must meet it and
    a failed unit stays failed: a month without its meeting, an unexcused absence), so it fails at once.
    ``shortfall``: the reason in words for a unit that fails it, with ``%(n)s`` the count short.
    ``unit``: what its pending count counts ("chi bộ-tháng"…), for "n … đang thực hiện".
    """

    code: str
    label: str
    goal: str  # as written in the resolution
    measure: str  # "share": num/den in %; "count": num; "mean": num/den in % (average of rates)
    op: str  # "gt", "gte", "eq", "range"
    threshold: float
    upper: float | None = None
    drill: str = ""
    drill_params: dict = field(default_factory=dict)
    section: str = ""
    span: str = "period"
    fails_early: bool = False
    shortfall: str = ""
    unit: str = ""

    def is_met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        if self.op == "gt":
            return value > self.threshold
        if self.op == "gte":
            return value >= self.threshold
        if self.op == "eq":
            return value == self.threshold
        return self.threshold <= value <= (self.upper if self.upper is not None else value)


def targets(document_types: list[RequiredDocumentType]) -> list[Target]:
    """The targets in the order of the report; one per required document type."""
    rating = _("Đánh giá, xếp loại")
    meetings = _("Sinh hoạt chi bộ")
    books = _("Văn bản, cam kết")
    items = [
        Target("tccs_good", _("TCCS hoàn thành tốt nhiệm vụ trở lên"), "> 80 %", "share", "gt", 80,
               drill="org_ratings", drill_params={"kind": "tccs"}, section=rating, span="year"),
        Target("tccs_excellent", _("TCCS hoàn thành xuất sắc nhiệm vụ"), "20 %", "share", "gte", 20,
               drill="org_ratings", drill_params={"kind": "tccs", "level": RatingLevel.EXCELLENT}, section=rating,
               span="year"),
        Target("tccs_failed", _("TCCS không hoàn thành nhiệm vụ"), "0", "count", "eq", 0,
               drill="org_ratings", drill_params={"kind": "tccs", "level": RatingLevel.FAILED}, section=rating,
               span="year", fails_early=True, shortfall=_("%(n)s TCCS không hoàn thành nhiệm vụ")),
        Target("cell_good", _("Chi bộ trực thuộc hoàn thành tốt nhiệm vụ trở lên"), "80 %", "share", "gte", 80,
               drill="org_ratings", drill_params={"kind": "cell"}, section=rating, span="year"),
        Target("cell_excellent", _("Chi bộ trực thuộc hoàn thành xuất sắc nhiệm vụ"), "20 %", "share", "gte", 20,
               drill="org_ratings", drill_params={"kind": "cell", "level": RatingLevel.EXCELLENT}, section=rating,
               span="year"),
        Target("cell_failed", _("Chi bộ trực thuộc không hoàn thành nhiệm vụ"), "0", "count", "eq", 0,
               drill="org_ratings", drill_params={"kind": "cell", "level": RatingLevel.FAILED}, section=rating,
               span="year", fails_early=True, shortfall=_("%(n)s chi bộ không hoàn thành nhiệm vụ")),
        Target("member_good", _("Đảng viên hoàn thành tốt nhiệm vụ trở lên"), "85 %", "share", "gte", 85,
               drill="member_ratings", section=rating, span="year"),
        Target("member_excellent", _("Đảng viên hoàn thành xuất sắc nhiệm vụ"), "15–20 %", "share", "range", 15, 20,
               drill="member_ratings", drill_params={"level": RatingLevel.EXCELLENT}, section=rating, span="year"),
    ]
    for doc_type in document_types:
        items.append(Target(f"doc_{doc_type.pk}", _("Chi bộ có %(name)s") % {"name": doc_type.name}, "100 %",
                            "share", "gte", 100, drill="documents", drill_params={"type": doc_type.pk},
                            section=books, span="year",
                            shortfall=_("%%(n)s chi bộ chưa có %(name)s") % {"name": doc_type.name}))
    items += [
        Target("commitments", _("Đảng viên có bản cam kết tu dưỡng, rèn luyện"), "100 %", "share", "gte", 100,
               drill="commitments", section=books, span="year",
               shortfall=_("%(n)s đảng viên chưa có bản cam kết tu dưỡng, rèn luyện")),
        Target("regular_months", _("Chi bộ-tháng có sinh hoạt thường kỳ"), "100 %", "share", "gte", 100,
               drill="regular", section=meetings, fails_early=True,
               shortfall=_("%(n)s chi bộ-tháng không sinh hoạt thường kỳ"),
               unit=_("chi bộ-tháng")),
        Target("attendance_mean", _("Tỷ lệ đảng viên dự sinh hoạt bình quân"), "> 85 %", "mean", "gt",
               ATTENDANCE_TARGET, drill="attendance", section=meetings),
        Target("attendance_meetings", _("Buổi sinh hoạt có trên 85 % đảng viên dự"), "100 %", "share", "gte", 100,
               drill="attendance", section=meetings, fails_early=True,
               shortfall=_("%(n)s buổi sinh hoạt không đạt trên 85 %% đảng viên dự")),
        Target("unexcused", _("Lượt đảng viên vắng không lý do"), "0", "count", "eq", 0,
               drill="unexcused", section=meetings, fails_early=True, shortfall=_("%(n)s lượt vắng không lý do")),
        Target("thematic_quarters", _("Chi bộ-quý có sinh hoạt chuyên đề"), "100 %", "share", "gte", 100,
               drill="thematic", section=meetings, fails_early=True,
               shortfall=_("%(n)s chi bộ-quý không sinh hoạt chuyên đề"), unit=_("chi bộ-quý")),
        Target("forum_cells", _("Chi bộ tổ chức diễn đàn trong năm (1–2 lần)"), "100 %", "share", "gte", 100,
               drill="forums", section=meetings, span="year",
               shortfall=_("%(n)s chi bộ không tổ chức diễn đàn trong năm"), unit=_("chi bộ")),
        Target("visit_quarters", _("Chi bộ-quý có cấp ủy cấp trên dự sinh hoạt"), "100 %", "share", "gte", 100,
               drill="visits", section=meetings, fails_early=True,
               shortfall=_("%(n)s chi bộ-quý không có cấp ủy cấp trên dự sinh hoạt"), unit=_("chi bộ-quý")),
    ]
    return items


@dataclass
class Figure:
    """A target's figure: ``num`` of ``den`` units due so far, and ``pending`` units still in progress.

    ``open``: the target's period has not ended on the day it is read (``today``).
    """

    target: Target
    num: float
    den: float
    pending: float = 0
    open: bool = False

    @property
    def value(self) -> float | None:
        if self.target.measure == "count":
            return self.num
        if not self.den:
            return None
        if self.target.measure == "mean":  # the numerator is already a sum of percentages
            return self.num / self.den
        return self.num * 100 / self.den

    @property
    def status(self) -> str:
        """met / failed / in_progress / none (nothing to judge yet, and nothing pending)."""
        if not self.den:
            return IN_PROGRESS if self.pending else NO_DATA
        on_track = self.target.is_met(self.value)
        if not (self.open or self.pending):
            return MET if on_track else FAILED
        if not on_track and self.target.fails_early:
            return FAILED
        return IN_PROGRESS

    @property
    def met(self) -> bool | None:
        """True or False once judged for good; None while in progress or with nothing to judge."""
        return {MET: True, FAILED: False}.get(self.status)

    @property
    def on_track(self) -> bool | None:
        """While in progress: whether what is due so far meets the target."""
        return self.target.is_met(self.value) if self.den else None

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def drill_query(self) -> str:
        return urlencode(self.target.drill_params)

    @property
    def display(self) -> str:
        if self.target.measure == "count":
            return fmt_int(self.num) if self.den else "—"
        if self.target.measure == "mean":
            return fmt_percent(self.value)
        if not self.den:
            return "—"
        return f"{fmt_percent(self.value)} ({fmt_int(self.num)}/{fmt_int(self.den)})"

    @property
    def pending_display(self) -> str:
        """"75 chi bộ-tháng đang thực hiện", or "" when nothing is pending."""
        if not self.pending:
            return ""
        return _("%(count)s %(unit)s đang thực hiện") % {"count": fmt_int(self.pending),
                                                         "unit": self.target.unit or _("đơn vị")}

    @property
    def shortfall_share(self) -> float:
        """How far from the target, 0 to 1, to rank the units needing attention."""
        if not self.den:
            return 0.0
        if self.target.measure == "count":
            return min(self.num / self.den, 1.0)
        if self.target.measure == "mean":
            return max(self.target.threshold - (self.value or 0), 0) / 100
        return max(self.den - self.num, 0) / self.den

    @property
    def reason(self) -> str:
        """Why it fails, in words: "2 chi bộ-tháng không sinh hoạt thường kỳ", or the figure against its goal."""
        if self.target.shortfall:
            short = self.num if self.target.measure == "count" else self.den - self.num
            return self.target.shortfall % {"n": fmt_int(short)}
        return _("%(label)s: %(value)s (mục tiêu %(goal)s)") % {
            "label": self.target.label, "value": self.display, "goal": self.target.goal}


# --- grouped counts ---------------------------------------------------------------------------


def _group(path_field: str, length: int | None):
    return Substr(path_field, 1, length) if length else F(path_field)


def _active_in(period: Period, prefix: str = "") -> Q:
    return indicators.active_between(period.start, period.end, prefix)


def cells_in(scope: Organisation, period: Period) -> QuerySet[Organisation]:
    return indicators.cells_active(start=period.start, end=period.end, within=scope)


def _of_cells_in(scope: Organisation, period: Period) -> Q:
    """Rows of the cells of ``cells_in``, filtered through the same join that groups them by path."""
    return _active_in(period, "organisation__") & Q(organisation__path__startswith=scope.path,
                                                    organisation__kind__in=Organisation.CELL_KINDS)


def _count_per_cell(meetings: QuerySet, counted) -> Coalesce:
    """A correlated subquery: ``counted`` (distinct) over ``meetings`` of the outer cell."""
    per_cell = (meetings.filter(organisation=OuterRef("pk")).order_by().values("organisation")
                .annotate(n=Count(counted, distinct=True)).values("n"))
    return Coalesce(Subquery(per_cell, output_field=IntegerField()), 0)


def _held(period_start: datetime.date, period_end: datetime.date, kinds) -> QuerySet[Meeting]:
    return Meeting.objects.filter(kind__in=kinds, state__in=HELD_STATES,
                                  period_month__gte=period_start, period_month__lte=period_end)


def _quarter_end(first: datetime.date) -> datetime.date:
    return indicators.quarter_end(first)


def _organisation_counts(scope, period, length, today) -> list[dict]:
    """Per group: TCCS, chi bộ and cells of the subtree (one query)."""
    months = period.ended_months(today)
    quarters = period.ended_quarters(today)
    rows = list(
        Organisation.objects.filter(_active_in(period), path__startswith=scope.path)
        .order_by()
        .values(grp=_group("path", length))
        .annotate(
            tccs=Count("pk", filter=Q(kind__in=Organisation.TCCS_KINDS)),
            chi_bo=Count("pk", filter=Q(kind=Organisation.Kind.CHI_BO)),
            cells=Count("pk", filter=Q(kind__in=Organisation.CELL_KINDS)),
        )
    )
    for row in rows:
        # The units already due: cell-months and cell-quarters that have ended.
        row["cell_months"] = row["cells"] * len(months)
        row["cell_quarters"] = row["cells"] * len(quarters)
    return rows


def _cell_quarter():
    """A number naming one (cell, quarter) pair within a year, for COUNT(DISTINCT …)."""
    return ExpressionWrapper(F("organisation_id") * 10 + ExtractQuarter("period_month"), output_field=IntegerField())


NEVER = datetime.date(1, 1, 1)


def _months_span(months: list[datetime.date]) -> tuple[datetime.date, datetime.date]:
    return (months[0], months[-1]) if months else (NEVER, NEVER)


def _meeting_counts(scope, period, length, today) -> list[dict]:
    """Per group, in one scan of the year's held meetings of the whole cell: the units of the ended
    months and quarters that met (regular meeting, thematic meeting, visit), those of the quarter in
    progress that already met, cells with a forum; and of the period's meetings with a base, those
    above the attendance target, the sum of their rates and the unexcused absences (from the counts
    stored on the meetings: no attendance row is read). Definitions: meetings.indicators."""
    first_month, last_month = _months_span(period.ended_months(today))
    ended_quarters = period.ended_quarters(today)
    first_quarter, last_quarter = _months_span(ended_quarters)
    last_quarter = indicators.add_months(last_quarter, 2) if ended_quarters else NEVER
    current_quarter = period.current_quarter(today)
    now_first, now_last = (current_quarter, indicators.add_months(current_quarter, 2)) if current_quarter \
        else (NEVER, NEVER)
    # Attendance: the meetings of the period with someone expected, from their stored counts.
    counted = Q(period_month__gte=period.start, period_month__lte=period.end, attendance_base__gt=0)
    present, base = F("attendance_present"), F("attendance_base")
    rate = ExpressionWrapper(Cast(present, FloatField()) * 100 / Cast(base, FloatField()), output_field=FloatField())
    # An uncorrelated IN over the guests of the scope's meetings of the year, not a correlated
    # EXISTS: PostgreSQL prices an EXISTS inside an aggregate's FILTER once per row, and for a whole
    # Khối at 10× province that estimate crossed jit_above_cost (~100 ms of JIT compilation on every
    # request). Narrowed to the scope so that a small dashboard does not hash every guest row.
    guests = Meeting.upper_guests.through.objects.filter(
        meeting__organisation__path__startswith=scope.path,
        meeting__period_month__gte=period.year_start,
        meeting__period_month__lte=datetime.date(period.year, 12, 1)).values("meeting_id")
    rows = list(
        _held(period.year_start, datetime.date(period.year, 12, 1), ATTENDANCE_KINDS)
        .filter(_of_cells_in(scope, period))
        .order_by()
        .values(grp=_group("organisation__path", length))
        .annotate(
            # At most one regular meeting per cell and month is not cancelled (a constraint): count rows.
            regular=Count("pk", filter=indicators.regular_held_q(first=first_month, last=last_month)),
            thematic=Count(_cell_quarter(), distinct=True,
                           filter=indicators.thematic_held_q(first=first_quarter, last=last_quarter)),
            thematic_now=Count("organisation", distinct=True,
                               filter=indicators.thematic_held_q(first=now_first, last=now_last)),
            visits=Count(_cell_quarter(), distinct=True,
                         filter=indicators.visits_q(first=first_quarter, last=last_quarter, guest_meetings=guests)),
            visits_now=Count("organisation", distinct=True,
                             filter=indicators.visits_q(first=now_first, last=now_last, guest_meetings=guests)),
            forum_cells=Count("organisation", distinct=True, filter=indicators.forum_held_q(year=period.year)),
            meetings=Count("pk", filter=counted),
            above=Count("pk", filter=counted & indicators.attendance_target_q(met=True)),
            rate_sum=Sum(rate, filter=counted),
            unexcused=Sum("attendance_unexcused", filter=counted),
        )
    )
    return [{**row, "rate_sum": float(row["rate_sum"] or 0), "unexcused": row["unexcused"] or 0} for row in rows]


def current_month_counts(*, scope: Organisation, period: Period, today: datetime.date,
                         length: int | None) -> dict[str, dict]:
    """The month in progress (when the period has one), per group: its regular meetings held, and
    planned in time so far (held included; meetings.indicators.regular_planned_in_time_q). One query;
    none when no month of the period is in progress."""
    month = period.current_month(today)
    if month is None:
        return {}
    rows = (
        indicators.regular_meetings_of(month).filter(_of_cells_in(scope, period)).order_by()
        .values(grp=_group("organisation__path", length))
        .annotate(held=Count("pk", filter=indicators.held_q()),
                  planned=Count("pk", filter=indicators.regular_planned_in_time_q(month, today=today)))
    )
    return {row["grp"]: row for row in rows}


month_in_progress = indicators.month_in_progress


def _organisation_ratings(scope, period, length) -> list[dict]:
    ratings = AnnualRating.objects.filter(year=period.year, member__isnull=True,
                                          organisation__path__startswith=scope.path)
    tccs = Q(organisation__kind__in=Organisation.TCCS_KINDS)
    chi_bo = Q(organisation__kind=Organisation.Kind.CHI_BO)
    good = Q(decided_level__in=GOOD_LEVELS)
    excellent = Q(decided_level=RatingLevel.EXCELLENT)
    failed = Q(decided_level=RatingLevel.FAILED)
    decided = ~Q(decided_level="")
    return list(
        ratings.order_by().values(grp=_group("organisation__path", length)).annotate(
            tccs_good=Count("pk", filter=tccs & good), tccs_excellent=Count("pk", filter=tccs & excellent),
            tccs_failed=Count("pk", filter=tccs & failed), tccs_decided=Count("pk", filter=tccs & decided),
            cell_good=Count("pk", filter=chi_bo & good), cell_excellent=Count("pk", filter=chi_bo & excellent),
            cell_failed=Count("pk", filter=chi_bo & failed), cell_decided=Count("pk", filter=chi_bo & decided),
        )
    )


def _member_ratings(scope, period, length) -> list[dict]:
    ratings = AnnualRating.objects.filter(year=period.year, member__isnull=False,
                                          organisation__path__startswith=scope.path)
    return list(
        ratings.order_by().values(grp=_group("organisation__path", length)).annotate(
            rated=Count("pk"), member_decided=Count("pk", filter=~Q(decided_level="")),
            member_good=Count("pk", filter=Q(decided_level__in=GOOD_LEVELS)),
            member_excellent=Count("pk", filter=Q(decided_level=RatingLevel.EXCELLENT)),
        )
    )


def _document_condition(year: int, on: datetime.date) -> Q:
    in_year = Q(document_type__period=RequiredDocumentType.Period.YEAR, year=year)
    in_term = Q(document_type__period=RequiredDocumentType.Period.TERM, term__start__lte=on) & (
        Q(term__end__isnull=True) | Q(term__end__gte=on))
    return in_year | in_term


def _documents(scope, period, length, today) -> list[dict]:
    """Per group and document type: the cells having it (one query)."""
    on = period.reference_day(today)
    return list(
        CellDocument.objects.filter(organisation__in=cells_in(scope, period), document_type__active=True)
        .filter(_document_condition(period.year, on))
        .order_by()
        .values("document_type", grp=_group("organisation__path", length))
        .annotate(cells=Count("organisation", distinct=True))
    )


def members_in(scope: Organisation, period: Period, today: datetime.date) -> QuerySet[Member]:
    """Active members of the subtree who are not exempt on the reference day (the commitment base)."""
    return Member.objects.filter(state=Member.State.ACTIVE, organisation__path__startswith=scope.path).exclude(
        pk__in=exempt_member_ids(on=period.reference_day(today)))


def _commitments(scope, period, length, today) -> list[dict]:
    # A join on the year's commitment (at most one per member and year, a constraint), not a
    # correlated EXISTS, whose per-row price pushed the whole Khối's query over jit_above_cost (see
    # _meeting_counts); the planner hashes or probes the commitments as the scope's size asks.
    return list(
        members_in(scope, period, today)
        .alias(commitment=FilteredRelation("commitments", condition=Q(commitments__year=period.year)))
        .order_by()
        .values(grp=_group("organisation__path", length))
        # Counting a column of the unique index, the commitments are read from it alone.
        .annotate(members=Count("pk"), committed=Count("commitment__year"))
    )


def _attendance_held(scope: Organisation, period: Period) -> QuerySet[Meeting]:
    return _held(period.start, period.end, ATTENDANCE_KINDS).filter(_of_cells_in(scope, period))


def attendance_meetings(scope: Organisation, period: Period) -> QuerySet[Meeting]:
    """Held meetings of the whole cell in the period, each with ``present``, ``base``, ``unexcused``, ``rate``.

    The counts are the ones stored on the meeting (``meetings.services.attendance_counts_refresh``
    keeps them with the attendance rows): no attendance row is read. Late counts as present.
    """
    return (
        _attendance_held(scope, period)
        .annotate(present=F("attendance_present"), base=F("attendance_base"), unexcused=F("attendance_unexcused"))
        .annotate(rate=Cast(F("present"), FloatField()) * 100 / NullIf(Cast(F("base"), FloatField()), 0.0))
    )


def figures_by_group(*, scope: Organisation, period: Period, length: int | None,
                     today: datetime.date | None = None, current: dict | None = None
                     ) -> tuple[list[Target], dict[str, dict[str, Figure]]]:
    """Every target's figure per group of the scope (path prefix of ``length``; None: per organisation),
    as it stands on ``today``: units of periods in progress are pending, not failed.

    A fixed number of queries (seven, eight with a month in progress; seven with ``current``, the rows
    of ``current_month_counts``), whatever the size of the subtree.
    """
    today = today or timezone.localdate()
    document_types = list(RequiredDocumentType.objects.filter(active=True).order_by("period", "order", "pk"))
    target_list = targets(document_types)
    raw: dict[str, dict[str, float]] = {}

    def add(grp, **values):
        bucket = raw.setdefault(grp, {})
        for key, value in values.items():
            bucket[key] = bucket.get(key, 0) + (value or 0)

    for row in _organisation_counts(scope, period, length, today):
        add(row.pop("grp"), **row)
    for row in _meeting_counts(scope, period, length, today):
        add(row.pop("grp"), **row)
    for row in _organisation_ratings(scope, period, length):
        add(row.pop("grp"), **row)
    for row in _member_ratings(scope, period, length):
        add(row.pop("grp"), **row)
    for row in _documents(scope, period, length, today):
        add(row["grp"], **{f"doc_{row['document_type']}": row["cells"]})
    for row in _commitments(scope, period, length, today):
        add(row.pop("grp"), **row)
    month = period.current_month(today)
    if current is None:
        current = current_month_counts(scope=scope, period=period, today=today, length=length)
    quarter_open = period.current_quarter(today) is not None
    year_open = today <= period.year_end

    for grp, values in raw.items():
        # Before the upper committee has decided any rating of a group (every year until December), its
        # rating shares have nothing to judge: "—", not a 0 % that reads as "Chưa đạt".
        values["tccs_rated"] = values.get("tccs", 0) if values.get("tccs_decided") else 0
        values["chi_bo_rated"] = values.get("chi_bo", 0) if values.get("cell_decided") else 0
        values["members_rated"] = values.get("rated", 0) if values.get("member_decided") else 0
        cells = values.get("cells", 0)
        # The month in progress: held cells are met and due, cells past the planning deadline without a
        # plan are failed and due, the others are pending.
        if month is not None:
            row = current.get(grp, {})
            split = month_in_progress(month=month, today=today, cells=cells, held=row.get("held", 0),
                                      planned=row.get("planned", 0))
            values["regular"] = values.get("regular", 0) + split["met"]
            values["cell_months"] = values.get("cell_months", 0) + split["met"] + split["failed"]
            values["regular_pending"] = split["pending"]
        # The quarter in progress: a cell that already met is met and due, the others are pending.
        if quarter_open:
            for key in ("thematic", "visits"):
                done = values.get(f"{key}_now", 0)
                values[key] = values.get(key, 0) + done
                values[f"{key}_due"] = values.get("cell_quarters", 0) + done
                values[f"{key}_pending"] = max(cells - done, 0)
        else:
            values["thematic_due"] = values["visits_due"] = values.get("cell_quarters", 0)
        # Forums: a year in progress owes one only once it has ended; a cell that held one has met it.
        values["forum_due"] = values.get("forum_cells", 0) if year_open else cells
        values["forum_pending"] = max(cells - values.get("forum_cells", 0), 0) if year_open else 0
    ratios = {
        "tccs_good": ("tccs_good", "tccs_rated"), "tccs_excellent": ("tccs_excellent", "tccs_rated"),
        "tccs_failed": ("tccs_failed", "tccs_decided"),
        "cell_good": ("cell_good", "chi_bo_rated"), "cell_excellent": ("cell_excellent", "chi_bo_rated"),
        "cell_failed": ("cell_failed", "cell_decided"),
        "member_good": ("member_good", "members_rated"), "member_excellent": ("member_excellent", "members_rated"),
        "commitments": ("committed", "members"), "regular_months": ("regular", "cell_months"),
        "attendance_mean": ("rate_sum", "meetings"), "attendance_meetings": ("above", "meetings"),
        "unexcused": ("unexcused", "meetings"), "thematic_quarters": ("thematic", "thematic_due"),
        "forum_cells": ("forum_cells", "forum_due"), "visit_quarters": ("visits", "visits_due"),
    }
    pending_keys = {"regular_months": "regular_pending", "thematic_quarters": "thematic_pending",
                    "visit_quarters": "visits_pending", "forum_cells": "forum_pending"}
    for doc_type in document_types:
        ratios[f"doc_{doc_type.pk}"] = (f"doc_{doc_type.pk}", "cells")
    period_open = not period.ended(today)
    result = {}
    for grp, values in raw.items():
        result[grp] = {}
        for target in target_list:
            num_key, den_key = ratios[target.code]
            open_ = year_open if target.span == "year" else period_open
            pending = values.get(pending_keys.get(target.code, ""), 0)
            result[grp][target.code] = Figure(target, values.get(num_key, 0), values.get(den_key, 0),
                                              pending=pending, open=open_)
    return target_list, result


def total_of(target_list: list[Target], groups: dict[str, dict[str, Figure]], *, period: Period | None = None,
             today: datetime.date | None = None) -> dict[str, Figure]:
    """The scope's row: the sum of the group rows (all figures are sums of counts)."""
    total = {}
    for target in target_list:
        figures = [groups[g][target.code] for g in groups]
        num = sum(f.num for f in figures)
        den = sum(f.den for f in figures)
        pending = sum(f.pending for f in figures)
        if figures:
            open_ = figures[0].open
        elif period is not None and today is not None:
            open_ = (today <= period.year_end) if target.span == "year" else not period.ended(today)
        else:
            open_ = False
        total[target.code] = Figure(target, num, den, pending=pending, open=open_)
    return total


def applies(figure: Figure) -> bool:
    """Whether the figure is judged at all (a group without TCCS has no TCCS target)."""
    return figure.status != NO_DATA


def group_rows(scope: Organisation, *, period: Period, length: int | None, kinds=None) -> QuerySet[Organisation]:
    """The organisations the groups stand for: the scope's children, or the cells of its subtree."""
    organisations = Organisation.objects.filter(_active_in(period), path__startswith=scope.path)
    if length:
        organisations = organisations.filter(depth=scope.depth + 1).exclude(kind=Organisation.Kind.TO_DANG)
    if kinds:
        organisations = organisations.filter(kind__in=kinds)
    return organisations.select_related("parent").order_by("path")


def _empty(target: Target, period: Period, today: datetime.date) -> Figure:
    open_ = (today <= period.year_end) if target.span == "year" else not period.ended(today)
    return Figure(target, 0, 0, open=open_)


def dashboard(*, scope: Organisation, period: Period, today: datetime.date | None = None,
              current: dict | None = None) -> dict:
    """The targets of the scope: its total, and one row per child organisation."""
    today = today or timezone.localdate()
    length = len(scope.path) + PATH_STEP_WIDTH
    target_list, groups = figures_by_group(scope=scope, period=period, length=length, today=today, current=current)
    children = list(group_rows(scope, period=period, length=length))
    total = total_of(target_list, groups, period=period, today=today)
    rows = []
    for child in children:
        figures = groups.get(child.path, {})
        rows.append({"organisation": child,
                     "figures": [figures.get(t.code) or _empty(t, period, today) for t in target_list]})
    return {"targets": target_list, "total": [total[t.code] for t in target_list], "rows": rows}


def annual_levels(*, scope: Organisation, year: int, today: datetime.date | None = None) -> tuple[list, list[dict]]:
    """The annual report's levels: the scope, its children (the TCCS for the Khối), every cell."""
    today = today or timezone.localdate()
    period = Period(year)
    step = PATH_STEP_WIDTH
    target_list, children = figures_by_group(scope=scope, period=period, length=len(scope.path) + step, today=today)
    _cell_targets, cells = figures_by_group(scope=scope, period=period, length=None, today=today)
    total = total_of(target_list, children, period=period, today=today)
    levels = [{"name": scope.get_kind_display(), "rows": [(scope, [total[t.code] for t in target_list])]}]
    for name, length, groups, kinds in [
        (_("TCCS") if scope.kind == Organisation.Kind.KHOI else _("Trực thuộc"), len(scope.path) + step, children,
         None),
        (_("Chi bộ"), None, cells, Organisation.CELL_KINDS),
    ]:
        rows = []
        for organisation in group_rows(scope, period=period, length=length, kinds=kinds):
            figures = groups.get(organisation.path, {})
            rows.append((organisation, [figures.get(t.code) or _empty(t, period, today) for t in target_list]))
        levels.append({"name": name, "rows": rows})
    return target_list, levels


# --- heat map and quality ----------------------------------------------------------------------

# The heat map's statuses (meetings.indicators.month_status), their words and their marks.
MONTH_STATUS_NAMES = {
    "held": gettext_lazy("Đã sinh hoạt"), "planned": gettext_lazy("Đã lên kế hoạch"),
    "draft": gettext_lazy("Có dự thảo, chưa thông báo"), "unplanned": gettext_lazy("Chưa lên kế hoạch (còn hạn)"),
    "late": gettext_lazy("Quá hạn lập kế hoạch"), "missing": gettext_lazy("Không sinh hoạt"), "future": "",
}
MONTH_STATUS_MARKS = {"planned": "○", "draft": "◌", "unplanned": "…", "late": "!", "missing": "✗", "future": ""}


def heat_map(*, scope: Organisation, period: Period, today: datetime.date | None = None) -> dict:
    """Cells × months: the regular meeting of each month, its state and its official quality level.

    Two queries: the cells, and the regular meetings of the period with their level. Each slot's
    status is meetings.indicators.month_status on ``today``.
    """
    today = today or timezone.localdate()
    cells = list(cells_in(scope, period).select_related("parent").order_by("path"))
    meetings = (
        Meeting.objects.filter(organisation__in=cells_in(scope, period), kind__in=Meeting.REGULAR_KINDS,
                               period_month__gte=period.start, period_month__lte=period.end)
        .exclude(state=Meeting.State.CANCELLED)
        .order_by()
        .values("pk", "organisation_id", "period_month", "state", "notice_sent_at", "actual_start", "planned_start",
                level=Coalesce(NullIf("score__official_level", Value("")), Value(UNSCORED)))
    )
    by_cell: dict[tuple, dict] = {(m["organisation_id"], m["period_month"]): m for m in meetings}
    names = dict(QUALITY_LEVELS)
    rows = []
    for cell in cells:
        slots = []
        for month in period.months:
            meeting = by_cell.get((cell.pk, month))
            status = indicators.month_status(month=month, today=today, meeting=meeting)
            slot = {"status": status, "month": month, "unit": indicators.MONTH_STATUS_UNIT[status],
                    "title": str(MONTH_STATUS_NAMES[status])}
            if meeting is not None:
                slot["meeting_id"] = meeting["pk"]
            if status == "held":
                level = meeting["level"]
                slot.update(level=level, label=names.get(level, "✓") if level != UNSCORED else "✓")
            else:
                slot["label"] = MONTH_STATUS_MARKS[status]
                if meeting is not None and status in ("planned", "draft", "late"):
                    start = timezone.localtime(meeting["planned_start"]).date()
                    slot["title"] = _("%(status)s: họp ngày %(date)s") % {"status": slot["title"],
                                                                         "date": indicators.fmt_date(start)}
            slots.append(slot)
        rows.append({"cell": cell, "slots": slots})
    return {"months": period.months, "rows": rows}


def scored_meeting_counts(*, scope: Organisation, period: Period) -> list[dict]:
    """The period's held, scored meetings of the scope's cells counted per month, child group, kind and
    official level (``UNSCORED`` before confirmation): one grouped query.

    Both the quality chart and the Khối's heat map are sums of these rows, so the Khối dashboard reads
    the meetings and their scores once for the two (``counts=`` of ``quality_distribution`` and
    ``heat_map_groups``).
    """
    length = len(scope.path) + PATH_STEP_WIDTH
    return list(
        _held(period.start, period.end, SCORED_KINDS).filter(_of_cells_in(scope, period)).order_by()
        .values("period_month", "kind", grp=_group("organisation__path", length),
                level=Coalesce(NullIf("score__official_level", Value("")), Value(UNSCORED)))
        .annotate(meetings=Count("pk"))
    )


def heat_map_groups(*, scope: Organisation, period: Period, today: datetime.date | None = None,
                    counts: list[dict] | None = None, current: dict | None = None) -> dict:
    """Children × months for a wide scope (the Khối): cells that held their regular meeting, of all cells,
    and how many of those meetings were confirmed Tốt or Khá; in the month in progress, how many are
    planned and how many are past the planning deadline without a plan. Two grouped queries and the
    children (one less with ``counts``, the rows of ``scored_meeting_counts``; one more for the month in
    progress without ``current``, the rows of ``current_month_counts``)."""
    today = today or timezone.localdate()
    length = len(scope.path) + PATH_STEP_WIDTH
    cells = dict(cells_in(scope, period).order_by().values_list(_group("path", length)).annotate(n=Count("pk")))
    if counts is None:
        counts = scored_meeting_counts(scope=scope, period=period)
    if current is None:
        current = current_month_counts(scope=scope, period=period, today=today, length=length)
    held: dict[tuple, dict] = {}
    for row in counts:
        if row["kind"] not in Meeting.REGULAR_KINDS:
            continue
        slot = held.setdefault((row["grp"], row["period_month"]), {"held": 0, "good": 0})
        slot["held"] += row["meetings"]
        if row["level"] in GOOD_MEETING_LEVELS:
            slot["good"] += row["meetings"]
    counts = held
    in_progress = period.current_month(today)
    rows = []
    for child in group_rows(scope, period=period, length=length):
        total = cells.get(child.path, 0)
        if not total:
            continue
        slots = []
        for month in period.months:
            row = counts.get((child.path, month), {"held": 0, "good": 0})
            slot = {"month": month, "held": row["held"], "good": row["good"], "cells": total}
            if month > today:
                slot["status"] = "future"
            elif month == in_progress:
                split = month_in_progress(month=month, today=today, cells=total, held=row["held"],
                                          planned=current.get(child.path, {}).get("planned", 0))
                slot.update(status="late" if split["failed"] else "progress", pending=split["pending"],
                            failed=split["failed"])
            else:
                share = row["held"] * 100 / total
                slot["status"] = "all" if row["held"] == total else "most" if share >= 80 else "few"
            slots.append(slot)
        rows.append({"organisation": child, "slots": slots})
    return {"months": period.months, "rows": rows}


def quality_distribution(*, scope: Organisation, period: Period, counts: list[dict] | None = None) -> dict:
    """Per month of the period: held scored meetings by official level (one grouped query, none with
    ``counts``, the rows of ``scored_meeting_counts``)."""
    if counts is None:
        counts = scored_meeting_counts(scope=scope, period=period)
    by_month_level: dict[tuple, int] = {}
    for row in counts:
        key = (row["period_month"], row["level"])
        by_month_level[key] = by_month_level.get(key, 0) + row["meetings"]
    counts = by_month_level
    levels = list(QUALITY_LEVELS)
    known = {code for code, _name in levels}
    for _month, level in counts:
        if level not in known and level != UNSCORED:
            levels.append((level, level))
            known.add(level)
    levels.append((UNSCORED, _("Chưa xác nhận")))
    months = [{"month": month, "counts": [counts.get((month, code), 0) for code, _name in levels]}
              for month in period.months]
    return {"levels": levels, "months": months}


def quality_chart(distribution: dict, *, width: int = 720, height: int = 240) -> dict:
    """Bar geometry of the stacked chart (the SVG is drawn by the template)."""
    colours = {"tot": "#198754", "kha": "#0d6efd", "trung_binh": "#ffc107", "kem": "#dc3545", UNSCORED: "#adb5bd"}
    months = distribution["months"]
    highest = max([sum(m["counts"]) for m in months] + [1])
    # Room on the left for the y axis and its title, below for the month numbers and the x axis title.
    left, bottom, top = 44, 40, 10
    plot_height = height - bottom - top
    slot = (width - left) / max(len(months), 1)
    bars = []
    for index, month in enumerate(months):
        y = height - bottom
        for (code, name), count in zip(distribution["levels"], month["counts"], strict=True):
            if not count:
                continue
            bar_height = count * plot_height / highest
            y -= bar_height
            bars.append({"x": round(left + index * slot + slot * 0.15, 1), "y": round(y, 1),
                         "width": round(slot * 0.7, 1), "height": round(bar_height, 1),
                         "colour": colours.get(code, "#6c757d"), "title": f"{month['month']:%m/%Y}: {name} {count}"})
    labels = [{"x": round(left + i * slot + slot / 2, 1), "text": f"{m['month']:%m}"} for i, m in enumerate(months)]
    legend = [{"name": name, "colour": colours.get(code, "#6c757d")} for code, name in distribution["levels"]]
    return {"width": width, "height": height, "bars": bars, "labels": labels, "legend": legend, "highest": highest,
            "axis_y": height - bottom, "left": left, "top": top, "label_y": height - bottom + 16,
            "mid_x": round(left + (width - left) / 2), "mid_y": round(top + plot_height / 2)}


# --- warnings ------------------------------------------------------------------------------------


def _checked_month(period: Period, today: datetime.date) -> datetime.date | None:
    return period.checked_month(today)


def _checked_quarter(period: Period, today: datetime.date) -> datetime.date | None:
    return period.checked_quarter(today)


def warning_records(kind: str, *, scope: Organisation, period: Period, today: datetime.date | None = None):
    """The records behind one early warning (a queryset, never evaluated here). Each checks the period
    ``warning_label`` names; every definition is meetings.indicators'."""
    today = today or timezone.localdate()
    now = timezone.now()
    if kind == "no_plan":
        month = _checked_month(period, today)
        if month is None:
            return Organisation.objects.none()
        meeting = indicators.regular_meetings_of(month).filter(organisation=OuterRef("pk"))
        return (indicators.cells_without_plan(month=month, today=today, within=scope)
                .annotate(plan_state=Subquery(meeting.values("state")[:1]),
                          plan_notice=Subquery(meeting.values("notice_sent_at")[:1]),
                          plan_start=Subquery(meeting.values("planned_start")[:1]))
                .select_related("parent").order_by("path"))
    if kind == "minutes_overdue":
        return (indicators.minutes_overdue(now=now)
                .filter(organisation__path__startswith=scope.path, period_month__gte=period.start,
                        period_month__lte=period.end)
                .select_related("organisation").order_by("ended_at", "pk"))
    if kind == "low_attendance":
        return (attendance_meetings(scope, period).filter(indicators.attendance_target_q(met=False))
                .select_related("organisation").order_by("period_month", "organisation__path"))
    if kind == "unexcused":
        held = _attendance_held(scope, period)
        return (Attendance.objects.filter(meeting__in=held, presence=Attendance.Presence.ABSENT_UNEXCUSED)
                .select_related("member", "meeting", "meeting__organisation")
                .order_by("meeting__period_month", "member__full_name"))
    if kind == "overdue_tasks":
        return (Task.objects.filter(meeting__organisation__path__startswith=scope.path, status=Task.Status.OPEN,
                                    due_date__gte=period.start, due_date__lte=period.end, due_date__lt=today)
                .exclude(meeting__state=Meeting.State.CANCELLED)
                .select_related("meeting", "meeting__organisation").order_by("due_date", "pk"))
    if kind == "no_visit":
        quarter = _checked_quarter(period, today)
        if quarter is None:
            return Organisation.objects.none()
        return indicators.cells_without_visit(quarter=quarter, within=scope).select_related("parent").order_by("path")
    if kind == "unpaid_dues":
        return members_with_unpaid_months(organisations=cells_in(scope, period), year=period.year)
    raise Http404


WARNING_CODES = ("no_plan", "minutes_overdue", "low_attendance", "unexcused", "overdue_tasks", "no_visit",
                 "unpaid_dues")


def warning_label(kind: str, *, period: Period, today: datetime.date) -> str:
    """The warning's words, naming the month, quarter or year it checks and the day it is read."""
    as_of = period.as_of(today)
    if kind == "no_plan":
        month = _checked_month(period, today)
        if month is None:
            return _("Chi bộ chưa lên kế hoạch sinh hoạt thường kỳ (%(period)s chưa bắt đầu)") % {
                "period": period.label}
        deadline = indicators.fmt_date(indicators.planning_deadline_day(month))
        if indicators.planning_deadline_passed(month, today):
            return _("Chi bộ không lên kế hoạch sinh hoạt thường kỳ %(month)s trước hạn ngày %(deadline)s") % {
                "month": indicators.month_label(month), "deadline": deadline}
        return _("Chi bộ chưa lên kế hoạch sinh hoạt thường kỳ %(month)s (hạn ngày %(deadline)s)") % {
            "month": indicators.month_label(month), "deadline": deadline}
    if kind == "no_visit":
        quarter = _checked_quarter(period, today)
        if quarter is None:
            return _("Chi bộ chưa có cấp ủy cấp trên dự sinh hoạt (%(period)s chưa bắt đầu)") % {
                "period": period.label}
        end = indicators.quarter_end(quarter)
        if end < today:
            return _("Chi bộ không có cấp ủy cấp trên dự sinh hoạt trong %(quarter)s") % {
                "quarter": indicators.quarter_label(quarter)}
        return _("Chi bộ chưa có cấp ủy cấp trên dự sinh hoạt trong %(quarter)s (quý kết thúc ngày %(end)s)") % {
            "quarter": indicators.quarter_label(quarter), "end": indicators.fmt_date(end)}
    labels = {
        "minutes_overdue": _("Buổi sinh hoạt quá %(days)s ngày chưa thông qua biên bản (%(period)s)") % {
            "days": indicators.MINUTES_DUE.days, "period": as_of},
        "low_attendance": _("Buổi sinh hoạt không đạt trên %(target)s %% đảng viên dự (%(period)s)") % {
            "target": ATTENDANCE_TARGET, "period": as_of},
        "unexcused": _("Lượt vắng không lý do (%(period)s)") % {"period": as_of},
        "overdue_tasks": _("Nhiệm vụ quá hạn chưa hoàn thành (hạn trong %(period)s)") % {"period": as_of},
        "unpaid_dues": _("Đảng viên chưa nộp đảng phí từ %(months)s tháng trở lên trong năm %(year)s") % {
            "months": indicators.UNPAID_DUES_MONTHS, "year": period.year},
    }
    return labels[kind]


def _attendance_warning_counts(scope: Organisation, period: Period) -> dict[str, int]:
    """The two attendance warnings in one query over the meetings' stored counts (no attendance row)."""
    counts = _attendance_held(scope, period).aggregate(
        low_attendance=Count("pk", filter=indicators.attendance_target_q(met=False)),
        unexcused=Sum("attendance_unexcused"))
    return {kind: count or 0 for kind, count in counts.items()}


def warnings(*, scope: Organisation, period: Period, today: datetime.date | None = None) -> list[dict]:
    """Each early warning with its count and its label: one COUNT query each, one for the two attendance
    warnings."""
    today = today or timezone.localdate()
    counted = _attendance_warning_counts(scope, period)
    counted["unpaid_dues"] = count_members_with_unpaid_months(organisations=cells_in(scope, period), year=period.year)
    return [{"code": code, "label": warning_label(code, period=period, today=today),
             "count": counted[code] if code in counted else warning_records(code, scope=scope, period=period,
                                                                            today=today).count()}
            for code in WARNING_CODES]


# --- drill-down ----------------------------------------------------------------------------------


@dataclass
class Table:
    """A table for the page and for the XLSX export alike: rows of cells, a cell is text or (text, url)."""

    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)

    def display_rows(self) -> list[list[dict]]:
        """The rows for the page: each cell a dict with its ``text``, ``url`` (or "") and ``is_date``."""
        result = []
        for row in self.rows:
            cells = []
            for cell in row:
                text, url = cell if isinstance(cell, tuple) else (cell, "")
                is_date = isinstance(text, datetime.date)
                if isinstance(text, int) and not isinstance(text, bool):
                    text = fmt_int(text)
                cells.append({"text": text, "url": url, "is_date": is_date})
            result.append(cells)
        return result


LEVEL_NAMES = dict(RatingLevel.choices)


def _as_int(condition) -> Cast:
    return Cast(condition, IntegerField())


def _unit_drill(metric: str, base: Organisation, period: Period, today: datetime.date) -> QuerySet[Organisation]:
    """Per cell: ``done`` (units met), ``required`` (units due so far: met or failed) and ``pending``
    (units in progress), the same counting as ``figures_by_group``."""
    cells = cells_in(base, period)
    zero = Value(0, output_field=IntegerField())
    if metric == "regular":
        ended = period.ended_months(today)
        first, last = _months_span(ended)
        ended_done = _count_per_cell(Meeting.objects.filter(indicators.regular_held_q(first=first, last=last)),
                                     "period_month")
        month = period.current_month(today)
        if month is None:
            return cells.annotate(done=ended_done, required=Value(len(ended)), pending=zero)
        of_month = indicators.regular_meetings_of(month).filter(organisation=OuterRef("pk"))
        now_held = _as_int(Exists(of_month.filter(indicators.held_q())))
        if indicators.planning_deadline_passed(month, today):
            planned = Exists(of_month.filter(indicators.regular_planned_in_time_q(month, today=today)))
            now_failed = _as_int(~planned)
        else:
            now_failed = zero
        return cells.annotate(now_held=now_held, now_failed=now_failed).annotate(
            done=ExpressionWrapper(ended_done + F("now_held"), output_field=IntegerField()),
            required=ExpressionWrapper(Value(len(ended)) + F("now_held") + F("now_failed"),
                                       output_field=IntegerField()),
            pending=ExpressionWrapper(Value(1) - F("now_held") - F("now_failed"), output_field=IntegerField()))
    if metric == "forums":
        forums = _count_per_cell(Meeting.objects.filter(indicators.forum_held_q(year=period.year)), "pk")
        if today > period.year_end:
            return cells.annotate(done=forums, required=Value(1), pending=zero)
        return cells.annotate(done=forums).annotate(
            required=Case(When(done__gt=0, then=Value(1)), default=zero),
            pending=Case(When(done__gt=0, then=zero), default=Value(1)))
    ended = period.ended_quarters(today)
    first, last = _months_span(ended)
    last = indicators.add_months(last, 2) if ended else NEVER

    def held(first, last):
        if metric == "thematic":
            return Meeting.objects.filter(indicators.thematic_held_q(first=first, last=last))
        return Meeting.objects.filter(indicators.visits_q(first=first, last=last))

    ended_done = _count_per_cell(held(first, last), TruncQuarter("period_month"))
    quarter = period.current_quarter(today)
    if quarter is None:
        return cells.annotate(done=ended_done, required=Value(len(ended)), pending=zero)
    now_done = _as_int(Exists(held(quarter, indicators.add_months(quarter, 2)).filter(organisation=OuterRef("pk"))))
    return cells.annotate(now_done=now_done).annotate(
        done=ExpressionWrapper(ended_done + F("now_done"), output_field=IntegerField()),
        required=ExpressionWrapper(Value(len(ended)) + F("now_done"), output_field=IntegerField()),
        pending=ExpressionWrapper(Value(1) - F("now_done"), output_field=IntegerField()))


def drill_records(metric: str, *, scope: Organisation, period: Period, part: Organisation | None = None,
                  params=None, today: datetime.date | None = None) -> QuerySet:
    """The records behind a dashboard figure, within ``part`` (a group of the scope) when given."""
    today = today or timezone.localdate()
    params = params or {}
    base = part or scope
    level = str(params.get("level") or "")
    # A level filter names a rating level, or a scheme's level code; anything else is a wrong address
    # (a NUL byte answered 500 on PostgreSQL).
    if level and not (level in LEVEL_NAMES if metric in ("org_ratings", "member_ratings")
                      else metric == "quality" and re.fullmatch(r"[a-z0-9_-]{1,40}", level)):
        raise Http404
    if metric == "org_ratings":
        kinds = Organisation.TCCS_KINDS if params.get("kind") == "tccs" else [Organisation.Kind.CHI_BO]
        rating = AnnualRating.objects.filter(organisation=OuterRef("pk"), member__isnull=True, year=period.year)
        records = (Organisation.objects.filter(_active_in(period), path__startswith=base.path, kind__in=kinds)
                   .annotate(level=Coalesce(Subquery(rating.values("decided_level")[:1]), Value("")))
                   .select_related("parent").order_by("path"))
        if params.get("level"):
            records = records.filter(level=params["level"])
        return records
    if metric == "member_ratings":
        records = (AnnualRating.objects.filter(year=period.year, member__isnull=False,
                                               organisation__path__startswith=base.path)
                   .select_related("member", "organisation").order_by("organisation__path", "member__full_name"))
        if params.get("level"):
            records = records.filter(decided_level=params["level"])
        return records
    if metric == "documents":
        on = period.reference_day(today)
        type_id = str(params.get("type", ""))
        if not type_id.isdigit():
            raise Http404
        documents = CellDocument.objects.filter(organisation=OuterRef("pk"), document_type_id=int(type_id)
                                                ).filter(_document_condition(period.year, on))
        return (cells_in(base, period).annotate(adopted_on=Subquery(documents.values("adopted_on")[:1]))
                .select_related("parent").order_by(F("adopted_on").asc(nulls_first=True), "path"))
    if metric == "commitments":
        signed = MemberCommitment.objects.filter(member=OuterRef("pk"), year=period.year)
        return (members_in(base, period, today).annotate(signed_at=Subquery(signed.values("created_at")[:1]))
                .select_related("organisation").order_by(F("signed_at").asc(nulls_first=True), "full_name", "pk"))
    if metric in ("regular", "thematic", "forums", "visits"):
        # The cells furthest behind first, then those still in progress.
        return (_unit_drill(metric, base, period, today).select_related("parent")
                .order_by((F("done") - F("required")).asc(), "-pending", "path"))
    if metric == "quality":
        meetings = (_held(period.start, period.end, SCORED_KINDS).filter(organisation__in=cells_in(base, period))
                    .annotate(level=Coalesce(NullIf("score__official_level", Value("")), Value(UNSCORED)))
                    .select_related("organisation").order_by("period_month", "organisation__path"))
        if params.get("level"):
            meetings = meetings.filter(level=params["level"])
        if str(params.get("month", "")).isdigit():
            meetings = meetings.filter(period_month__month=int(params["month"]))
        return meetings
    if metric == "attendance":
        return (attendance_meetings(base, period).filter(base__gt=0).select_related("organisation")
                .order_by("rate", "period_month"))
    if metric in WARNING_CODES:
        return warning_records(metric, scope=base, period=period, today=today)
    raise Http404


def drill_title(metric: str, params, *, period: Period, today: datetime.date | None = None) -> str:
    today = today or timezone.localdate()
    if metric in WARNING_CODES:
        return warning_label(metric, period=period, today=today)
    titles = {
        "org_ratings": _("Xếp loại tổ chức đảng"), "member_ratings": _("Xếp loại đảng viên"),
        "documents": _("Văn bản bắt buộc của chi bộ"), "commitments": _("Bản cam kết của đảng viên"),
        "regular": _("Sinh hoạt thường kỳ hằng tháng"), "thematic": _("Sinh hoạt chuyên đề hằng quý"),
        "forums": _("Diễn đàn trong năm"), "visits": _("Cấp ủy cấp trên dự sinh hoạt hằng quý"),
        "attendance": _("Tỷ lệ dự sinh hoạt từng buổi"), "quality": _("Chất lượng sinh hoạt"),
    }
    span = period.as_of(today)
    if metric in ("org_ratings", "member_ratings", "documents", "commitments", "forums"):
        span = Period(period.year).as_of(today)
    return f"{titles.get(metric, metric)} — {span}"


def drill_table(metric: str, records, *, title: str) -> Table:
    """Arrange the records of a drill-down (one page of them) as a table with links."""
    def org_link(organisation):
        return (organisation.name, reverse("organisation_detail", args=[organisation.pk]))

    def meeting_link(meeting):
        return (f"{meeting.get_kind_display()} {meeting.period_month:%m/%Y}", reverse("meetings:detail",
                                                                                      args=[meeting.pk]))

    def member_link(member):
        return (member.full_name, reverse("member_detail", args=[member.pk]))

    def parent_name(organisation):
        return organisation.parent.name if organisation.parent_id else ""

    if metric == "org_ratings":
        return Table(title, [_("Tổ chức đảng"), _("Cấp trên"), _("Xếp loại (cấp trên quyết định)")],
                     [[org_link(o), parent_name(o), LEVEL_NAMES.get(o.level, _("Chưa xếp loại"))] for o in records])
    if metric == "member_ratings":
        return Table(title, [_("Đảng viên"), _("Chi bộ"), _("Xếp loại (cấp trên quyết định)")],
                     [[member_link(r.member), org_link(r.organisation),
                       LEVEL_NAMES.get(r.decided_level, _("Chưa quyết định"))] for r in records])
    if metric == "documents":
        return Table(title, [_("Chi bộ"), _("Cấp trên"), _("Ngày ban hành")],
                     [[org_link(o), parent_name(o), o.adopted_on or _("Chưa có")] for o in records])
    if metric == "commitments":
        return Table(title, [_("Đảng viên"), _("Chi bộ"), _("Cam kết")],
                     [[member_link(m), org_link(m.organisation) if m.organisation_id else "",
                       timezone.localtime(m.signed_at).date() if m.signed_at else _("Chưa có")] for m in records])
    if metric in ("regular", "thematic", "forums", "visits", "no_plan", "no_visit"):
        if metric == "no_plan":
            def plan_text(o):
                if o.plan_state is None:
                    return _("Chưa có buổi sinh hoạt thường kỳ")
                start = indicators.fmt_date(timezone.localtime(o.plan_start).date())
                if o.plan_notice is None:
                    return _("Dự thảo họp ngày %(date)s, chưa gửi thông báo") % {"date": start}
                return _("Họp ngày %(date)s, thông báo gửi ngày %(sent)s (sau hạn)") % {
                    "date": start, "sent": indicators.fmt_date(timezone.localtime(o.plan_notice).date())}

            return Table(title, [_("Chi bộ"), _("Cấp trên"), _("Tình trạng")],
                         [[(o.name, reverse("meetings:cell_list", args=[o.pk])), parent_name(o), plan_text(o)]
                          for o in records])
        if metric == "no_visit":
            return Table(title, [_("Chi bộ"), _("Cấp trên")],
                         [[(o.name, reverse("meetings:cell_list", args=[o.pk])), parent_name(o)] for o in records])
        def unit_status(o):
            if o.required > o.done:
                return str(STATUS_LABELS[FAILED])
            return str(STATUS_LABELS[IN_PROGRESS if o.pending else MET])

        return Table(title, [_("Chi bộ"), _("Cấp trên"), _("Đã thực hiện"), _("Phải thực hiện đến nay"),
                             _("Đang thực hiện"), _("Đánh giá")],
                     [[(o.name, reverse("meetings:cell_list", args=[o.pk])), parent_name(o), o.done, o.required,
                       o.pending, unit_status(o)] for o in records])
    if metric in ("attendance", "low_attendance"):
        return Table(title, [_("Buổi sinh hoạt"), _("Chi bộ"), _("Có mặt"), _("Phải dự"), _("Tỷ lệ"),
                             _("Vắng không lý do")],
                     [[meeting_link(m), m.organisation.name, m.present, m.base, fmt_percent(m.rate), m.unexcused]
                      for m in records])
    if metric == "quality":
        names = dict(QUALITY_LEVELS)
        return Table(title, [_("Buổi sinh hoạt"), _("Chi bộ"), _("Xếp loại chất lượng")],
                     [[meeting_link(m), m.organisation.name,
                       names.get(m.level, _("Chưa xác nhận") if m.level == UNSCORED else m.level)] for m in records])
    if metric == "minutes_overdue":
        return Table(title, [_("Buổi sinh hoạt"), _("Chi bộ"), _("Họp lúc")],
                     [[meeting_link(m), m.organisation.name, timezone.localtime(m.actual_start)] for m in records])
    if metric == "unexcused":
        return Table(title, [_("Đảng viên"), _("Buổi sinh hoạt"), _("Chi bộ")],
                     [[member_link(a.member), meeting_link(a.meeting), a.meeting.organisation.name] for a in records])
    if metric == "overdue_tasks":
        return Table(title, [_("Nhiệm vụ"), _("Buổi sinh hoạt"), _("Chi bộ"), _("Thời hạn")],
                     [[t.description[:120], meeting_link(t.meeting), t.meeting.organisation.name, t.due_date]
                      for t in records])
    if metric == "unpaid_dues":
        return Table(title, [_("Đảng viên"), _("Chi bộ"), _("Số tháng chưa nộp đủ"), _("Số tiền còn thiếu (đồng)")],
                     [[member_link(m), m.organisation.name if m.organisation_id else "", m.unpaid_months,
                       fmt_int(m.unpaid_amount)] for m in records])
    raise Http404


# --- report runs ---------------------------------------------------------------------------------


def report_runs_visible_to(user, *, scope: Organisation) -> QuerySet[ReportRun]:
    return ReportRun.objects.filter(organisation=scope).select_related("created_by").order_by("-created_at", "-pk")


def get_report_run_for_user_or_404(user, pk) -> ReportRun:
    try:
        run = ReportRun.objects.select_related("organisation").get(pk=pk)
    except (ReportRun.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    get_scope_for_user_or_404(user, run.organisation_id)
    return run


# --- the dashboard page ----------------------------------------------------------------------------


def attention(rows: list[dict], links: "DashboardLinks") -> list[dict]:
    """The units needing attention: the rows (children of the scope) with a target failed so far, the
    most failed targets first and, among those, the furthest behind (the sum of their shortfalls), each
    with its reasons in words and a link to its own page."""
    result = []
    for row in rows:
        failed = [figure for figure in row["figures"] if figure.status == FAILED]
        if failed:
            result.append({"organisation": row["organisation"], "href": links.organisation(row["organisation"]),
                           "count": len(failed), "severity": sum(figure.shortfall_share for figure in failed),
                           "reasons": [figure.reason for figure in failed]})
    result.sort(key=lambda item: (-item["count"], -item["severity"], item["organisation"].path))
    return result


def dashboard_page(*, user, scope: Organisation, period: Period, today: datetime.date | None = None) -> dict:
    """Everything the dashboard shows (a fixed number of queries), for the page and its XLSX export."""
    from cells.selectors import roles_over

    today = today or timezone.localdate()
    length = len(scope.path) + PATH_STEP_WIDTH
    # The month in progress is read once for the targets and the Khối's heat map.
    current = current_month_counts(scope=scope, period=period, today=today, length=length)
    figures = dashboard(scope=scope, period=period, today=today, current=current)
    # The Khối's heat map and quality chart count the same meetings: read them once.
    scored = scored_meeting_counts(scope=scope, period=period) if scope.kind == Organisation.Kind.KHOI else None
    distribution = quality_distribution(scope=scope, period=period, counts=scored)
    parent = scope.parent if scope.parent_id else None
    up = parent if parent is not None and parent.kind in SCOPE_KINDS and roles_over(user, parent) & DASHBOARD_ROLES \
        else None
    heat = heat_map(scope=scope, period=period, today=today) if scope.kind != Organisation.Kind.KHOI else None
    heat_groups = heat_map_groups(scope=scope, period=period, today=today, counts=scored, current=current) \
        if scope.kind == Organisation.Kind.KHOI else None
    links = DashboardLinks(scope, period)
    warning_list = warnings(scope=scope, period=period, today=today)
    heat_months = heat["months"] if heat is not None else heat_groups["months"]
    upcoming = upcoming_meetings(scope=scope)
    return {
        "scope": scope, "period": period, "period_query": links.period_query, "up": up, "today": today,
        "as_of": period.as_of(today), "period_open": not period.ended(today),
        **figures,
        "heat": heat,
        "heat_groups": heat_groups,
        # The month the heat map scrolls to on a phone: the one in progress, or the period's last.
        "heat_focus": period.current_month(today) or (heat_months[-1] if heat_months else None),
        "distribution": distribution,
        "chart": quality_chart(distribution),
        "quality_rows": [
            {"code": code, "name": name,
             "cells": [{"month": m["month"], "count": m["counts"][index],
                        "href": links.drill("quality", level=code, in_month=m["month"].month)}
                       for m in distribution["months"]]}
            for index, (code, name) in enumerate(distribution["levels"])],
        "warnings": [{**warning, "href": links.drill(warning["code"]) if warning["count"] else ""}
                     for warning in warning_list],
        "total_rows": [{"figure": figure, "href": links.figure_drill(figure.target) if figure.den or figure.pending
                        else ""} for figure in figures["total"]],
        "child_rows": links.child_rows(figures["targets"], figures["rows"]),
        "attention": attention(figures["rows"], links),
        "heat_rows": links.heat_rows(heat) if heat is not None else links.heat_group_rows(heat_groups),
        "can_run": can_run_reports(user, scope),
        "upcoming": upcoming,
    }


UPCOMING_DAYS = 14


def upcoming_meetings(*, scope: Organisation, now: datetime.datetime | None = None, limit: int = 15) -> list:
    """The subtree's noticed meetings of the next ``UPCOMING_DAYS`` days, soonest first (the officer's
    home shows where to go; one query)."""
    now = now or timezone.now()
    return list(Meeting.objects.filter(organisation__path__startswith=scope.path, state=Meeting.State.NOTIFIED,
                                       planned_start__gte=now,
                                       planned_start__lt=now + datetime.timedelta(days=UPCOMING_DAYS))
                .select_related("organisation", "organisation__parent").order_by("planned_start", "pk")[:limit])


def _link_maker(name: str) -> Callable[[int], str]:
    """Links to the page ``name`` of many objects for one ``reverse``: the pk is put into a reversed URL."""
    placeholder = 2147483647  # no object has it
    pattern = reverse(name, args=[placeholder])
    return lambda pk: pattern.replace(str(placeholder), str(pk))


def _percent_text(value: float) -> str:
    """A rate as a whole percentage, rounded half up like the ``floatformat`` filter."""
    return f"{Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP):f}%"


HEAT_GROUP_CLASSES = {"all": "s-held", "most": "s-most", "few": "s-missing", "progress": "s-progress",
                      "late": "s-late"}
# The cells of the two big grids (thousands of them) are written here rather than in the template,
# where they took more time than the database; every value put into them goes through html.escape.
STATUS_CLASSES = {MET: ' class="met"', FAILED: ' class="not-met"', IN_PROGRESS: ' class="in-progress"',
                  NO_DATA: ""}


class DashboardLinks:
    """The dashboard's thousands of links and cell texts, built with string joins.

    The page has a link in every cell of the table by organisation and of the heat map: each URL is
    reversed once (per metric, per kind of page) and the pks are joined to it, instead of one
    ``{% url %}`` per cell, which made the template most of the page's time.
    """

    def __init__(self, scope: Organisation, period: Period):
        self.scope = scope
        self.period_query = urlencode(period.query())
        self.year = period.year
        self._drill_urls: dict[str, str] = {}
        self.dashboard = _link_maker("reports:dashboard")
        self.cell_meetings = _link_maker("meetings:cell_list")
        self.meeting = _link_maker("meetings:detail")

    def drill_url(self, metric: str) -> str:
        if metric not in self._drill_urls:
            self._drill_urls[metric] = reverse("reports:drill", args=[self.scope.pk, metric])
        return self._drill_urls[metric]

    def drill(self, metric: str, **params) -> str:
        query = f"{self.period_query}&{urlencode(params)}" if params else self.period_query
        return f"{self.drill_url(metric)}?{query}"

    def figure_drill(self, target: Target) -> str:
        return self.drill(target.drill, **target.drill_params)

    def organisation(self, organisation: Organisation) -> str:
        """A child's own dashboard, or a cell's meetings."""
        if organisation.kind in SCOPE_KINDS:
            return f"{self.dashboard(organisation.pk)}?{self.period_query}"
        return self.cell_meetings(organisation.pk)

    def child_rows(self, target_list: list[Target], rows: list[dict]) -> list[dict]:
        """The table by organisation: per row its link, per figure the drill-down link, text and class.
        A figure with nothing behind it ("—") is plain text, not a link to an empty list."""
        prefixes = [html.escape(f"{self.figure_drill(target)}&org=") for target in target_list]
        # The cell's tooltip: the target's name, the figure and its status (escaped once per column and
        # status: thousands of cells, and Django's number formatting is slow).
        names = [html.escape(f"{target.label} ({target.goal})") for target in target_list]
        statuses = {code: html.escape(str(label)) for code, label in STATUS_LABELS.items()}
        pending_word = html.escape(_("đang thực hiện"))
        result = []
        for row in rows:
            organisation = row["organisation"]
            org = html.escape(str(organisation.pk))
            cells = []
            for prefix, name, figure in zip(prefixes, names, row["figures"], strict=True):
                if figure.target.measure == "count":
                    text = str(int(figure.num)) if figure.den else "—"
                else:
                    value = figure.value
                    text = "—" if value is None else _percent_text(value)
                status = figure.status
                if figure.den or figure.pending:
                    detail = f"{int(figure.num)}/{int(figure.den)}" if figure.target.measure == "share" else text
                    title = f"{name}: {html.escape(detail)} — {statuses[status]}"
                    if figure.pending:
                        title += f" ({int(figure.pending)} {pending_word})"
                    inner = f'<a class="text-reset" href="{prefix}{org}" title="{title}">{html.escape(text)}</a>'
                else:
                    inner = html.escape(text)
                cells.append(f"<td{STATUS_CLASSES[status]}>{inner}</td>")
            result.append({"organisation": organisation, "href": self.organisation(organisation),
                           "cells": mark_safe("".join(cells))})  # noqa: S308 - escaped above
        return result

    def heat_group_rows(self, heat: dict) -> list[dict]:
        """The Khối's heat map: per child and month, cells that met of all, linked to the month's cells."""
        prefix = html.escape(f"{self.drill_url('regular')}?year={self.year}&month=")
        result = []
        for row in heat["rows"]:
            organisation = row["organisation"]
            org = html.escape(f"&org={organisation.pk}")
            slots = []
            for slot in row["slots"]:
                if slot["status"] == "future":
                    slots.append("<td></td>")
                    continue
                good = f' <span class="small">({int(slot["good"])})</span>' if slot["good"] else ""
                if slot["status"] in ("progress", "late"):
                    title = html.escape(_("%(held)s đã sinh hoạt, %(pending)s đang thực hiện, %(failed)s quá hạn lập "
                                          "kế hoạch") % {"held": int(slot["held"]), "pending": int(slot["pending"]),
                                                         "failed": int(slot["failed"])})
                else:
                    title = html.escape(_("%(held)s/%(cells)s chi bộ đã sinh hoạt") % {
                        "held": int(slot["held"]), "cells": int(slot["cells"])})
                slots.append(f'<td class="{HEAT_GROUP_CLASSES[slot["status"]]}" title="{title}"><a href="{prefix}'
                             f'{int(slot["month"].month)}{org}">{int(slot["held"])}/{int(slot["cells"])}</a>{good}</td>')
            result.append({"organisation": organisation, "href": self.organisation(organisation),
                           "slots": mark_safe("".join(slots))})  # noqa: S308 - escaped above, numbers as int
        return result

    def heat_rows(self, heat: dict) -> list[dict]:
        """A committee's heat map: per cell and month, the regular meeting linked to its page."""
        result = []
        for row in heat["rows"]:
            cell = row["cell"]
            slots = []
            for slot in row["slots"]:
                meeting_id = slot.get("meeting_id")
                slots.append({**slot, "href": self.meeting(meeting_id) if meeting_id else ""})
            result.append({"cell": cell, "href": self.cell_meetings(cell.pk), "slots": slots})
        return result


def _mark(figure: Figure) -> str:
    return figure.status_label


def dashboard_tables(context: dict) -> list[Table]:
    """The dashboard's tables as plain rows, for the XLSX export."""
    scope, period = context["scope"], context["period"]
    suffix = f"{scope.name}, {context.get('as_of') or period.label}"
    tables = [Table(_("Chỉ tiêu"), [_("Nhóm"), _("Chỉ tiêu"), _("Mục tiêu"), _("Kết quả"), _("Đang thực hiện"),
                                    _("Đánh giá")],
                    [[str(f.target.section), str(f.target.label), f.target.goal, f.display, f.pending_display,
                      _mark(f)] for f in context["total"]])]
    columns = [_("Tổ chức đảng")]
    for target in context["targets"]:
        columns += [f"{target.label} ({target.goal})", _("Đánh giá")]
    by_child = Table(_("Theo tổ chức trực thuộc"), columns)
    for row in context["rows"]:
        cells = [row["organisation"].name]
        for figure in row["figures"]:
            cells += [figure.display, _mark(figure)]
        by_child.rows.append(cells)
    tables.append(by_child)
    heat = context["heat"]
    if heat is not None:
        heat_table = Table(_("Bản đồ sinh hoạt"),
                           [_("Chi bộ"), _("Cấp trên")] + [f"{m:%m/%Y}" for m in heat["months"]])
        for row in heat["rows"]:
            cell = row["cell"]
            heat_table.rows.append([cell.name, cell.parent.name if cell.parent_id else ""] + [
                (str(slot["label"]) if slot["status"] == "held" else str(MONTH_STATUS_NAMES[slot["status"]]))
                for slot in row["slots"]])
    else:
        heat = context["heat_groups"]
        heat_table = Table(_("Bản đồ sinh hoạt"), [_("Tổ chức đảng")] + [f"{m:%m/%Y}" for m in heat["months"]])
        for row in heat["rows"]:
            texts = []
            for slot in row["slots"]:
                if slot["status"] == "future":
                    texts.append("")
                elif slot["status"] in ("progress", "late"):
                    texts.append(_("%(held)s/%(cells)s (đang thực hiện %(pending)s, quá hạn %(failed)s)") % slot)
                else:
                    texts.append(f"{slot['held']}/{slot['cells']}")
            heat_table.rows.append([row["organisation"].name] + texts)
    tables.append(heat_table)
    distribution = context["distribution"]
    tables.append(Table(_("Chất lượng sinh hoạt"), [_("Tháng")] + [str(name) for _code, name in distribution["levels"]],
                        [[f"{m['month']:%m/%Y}"] + m["counts"] for m in distribution["months"]]))
    tables.append(Table(_("Cảnh báo"), [_("Cảnh báo"), _("Số lượng")],
                        [[str(w["label"]), w["count"]] for w in context["warnings"]]))
    if context.get("attention"):
        tables.append(Table(_("Cần quan tâm"), [_("Tổ chức đảng"), _("Số chỉ tiêu chưa đạt"), _("Lý do")],
                            [[item["organisation"].name, item["count"], "; ".join(item["reasons"])]
                             for item in context["attention"]]))
    tables[0].columns[0] = f"{_('Nhóm')} — {suffix}"
    return tables
