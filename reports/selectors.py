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
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import (
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
)
from django.db.models.functions import Cast, Coalesce, ExtractQuarter, NullIf, Substr, TruncQuarter
from django.db.models.lookups import GreaterThan, LessThan
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
from meetings.models import Attendance, Meeting, Task
from scoring.models import AnnualRating, RatingLevel

from .models import ReportRun

# Who sees the dashboards: the Khối and the grassroots committees, not the cells.
DASHBOARD_ROLES = frozenset({Role.KHOI_ADMIN, Role.COMMITTEE_VIEWER, Role.TCCS_OFFICER})
# Who may start the annual report.
REPORT_ROLES = frozenset({Role.KHOI_ADMIN, Role.TCCS_OFFICER})
SCOPE_KINDS = (Organisation.Kind.KHOI, Organisation.Kind.DANG_BO_CO_SO, Organisation.Kind.DANG_BO_BO_PHAN)

HELD_STATES = (Meeting.State.HELD, Meeting.State.MINUTES_ADOPTED)
THEMATIC_KINDS = (Meeting.Kind.THEMATIC, Meeting.Kind.COMBINED)
# Meetings of the whole cell, whose attendance counts (not the chi ủy's or a party group's).
ATTENDANCE_KINDS = (Meeting.Kind.REGULAR, Meeting.Kind.COMBINED, Meeting.Kind.THEMATIC, Meeting.Kind.FORUM,
                    Meeting.Kind.EXTRAORDINARY)
# Meetings whose quality is scored (design §3 "scoring").
SCORED_KINDS = (Meeting.Kind.REGULAR, Meeting.Kind.COMBINED, Meeting.Kind.THEMATIC, Meeting.Kind.PARTY_GROUP)
ATTENDANCE_TARGET = 85
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


def _month_end(first: datetime.date) -> datetime.date:
    following = datetime.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)


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
        return _month_end(self.months[-1])

    @property
    def quarters(self) -> list[datetime.date]:
        """First days of the quarters the period touches."""
        return sorted({datetime.date(self.year, (m.month - 1) // 3 * 3 + 1, 1) for m in self.months})

    def started_months(self, today: datetime.date) -> list[datetime.date]:
        return [m for m in self.months if m <= today]

    def started_quarters(self, today: datetime.date) -> list[datetime.date]:
        return [q for q in self.quarters if q <= today]

    def reference_day(self, today: datetime.date) -> datetime.date:
        """The day term documents and exemptions are read on: the year's end, or today within the year."""
        return min(datetime.date(self.year, 12, 31), today)

    @property
    def label(self) -> str:
        if self.month:
            return _("tháng %(month)02d/%(year)s") % {"month": self.month, "year": self.year}
        if self.quarter:
            return _("quý %(quarter)s/%(year)s") % {"quarter": self.quarter, "year": self.year}
        return _("năm %(year)s") % {"year": self.year}

    def query(self) -> dict:
        params = {"year": self.year}
        if self.quarter:
            params["quarter"] = self.quarter
        if self.month:
            params["month"] = self.month
        return params


# --- formatting -----------------------------------------------------------------------------


def fmt_int(value) -> str:
    return number_format(int(value or 0), 0, force_grouping=True)


def fmt_percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{number_format(round(value, 1), 1, force_grouping=True)} %"


# --- the targets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One target of design §6: how its actual figure is read and when it is met."""

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
               drill="org_ratings", drill_params={"kind": "tccs"}, section=rating),
        Target("tccs_excellent", _("TCCS hoàn thành xuất sắc nhiệm vụ"), "20 %", "share", "gte", 20,
               drill="org_ratings", drill_params={"kind": "tccs", "level": RatingLevel.EXCELLENT}, section=rating),
        Target("tccs_failed", _("TCCS không hoàn thành nhiệm vụ"), "0", "count", "eq", 0,
               drill="org_ratings", drill_params={"kind": "tccs", "level": RatingLevel.FAILED}, section=rating),
        Target("cell_good", _("Chi bộ trực thuộc hoàn thành tốt nhiệm vụ trở lên"), "80 %", "share", "gte", 80,
               drill="org_ratings", drill_params={"kind": "cell"}, section=rating),
        Target("cell_excellent", _("Chi bộ trực thuộc hoàn thành xuất sắc nhiệm vụ"), "20 %", "share", "gte", 20,
               drill="org_ratings", drill_params={"kind": "cell", "level": RatingLevel.EXCELLENT}, section=rating),
        Target("cell_failed", _("Chi bộ trực thuộc không hoàn thành nhiệm vụ"), "0", "count", "eq", 0,
               drill="org_ratings", drill_params={"kind": "cell", "level": RatingLevel.FAILED}, section=rating),
        Target("member_good", _("Đảng viên hoàn thành tốt nhiệm vụ trở lên"), "85 %", "share", "gte", 85,
               drill="member_ratings", section=rating),
        Target("member_excellent", _("Đảng viên hoàn thành xuất sắc nhiệm vụ"), "15–20 %", "share", "range", 15, 20,
               drill="member_ratings", drill_params={"level": RatingLevel.EXCELLENT}, section=rating),
    ]
    for doc_type in document_types:
        items.append(Target(f"doc_{doc_type.pk}", _("Chi bộ có %(name)s") % {"name": doc_type.name}, "100 %",
                            "share", "gte", 100, drill="documents", drill_params={"type": doc_type.pk},
                            section=books))
    items += [
        Target("commitments", _("Đảng viên có bản cam kết tu dưỡng, rèn luyện"), "100 %", "share", "gte", 100,
               drill="commitments", section=books),
        Target("regular_months", _("Chi bộ-tháng có sinh hoạt thường kỳ"), "100 %", "share", "gte", 100,
               drill="regular", section=meetings),
        Target("attendance_mean", _("Tỷ lệ đảng viên dự sinh hoạt bình quân"), "> 85 %", "mean", "gt",
               ATTENDANCE_TARGET, drill="attendance", section=meetings),
        Target("attendance_meetings", _("Buổi sinh hoạt có trên 85 % đảng viên dự"), "100 %", "share", "gte", 100,
               drill="attendance", section=meetings),
        Target("unexcused", _("Lượt đảng viên vắng không lý do"), "0", "count", "eq", 0,
               drill="unexcused", section=meetings),
        Target("thematic_quarters", _("Chi bộ-quý có sinh hoạt chuyên đề"), "100 %", "share", "gte", 100,
               drill="thematic", section=meetings),
        Target("forum_cells", _("Chi bộ tổ chức diễn đàn trong năm (1–2 lần)"), "100 %", "share", "gte", 100,
               drill="forums", section=meetings),
        Target("visit_quarters", _("Chi bộ-quý có cấp ủy cấp trên dự sinh hoạt"), "100 %", "share", "gte", 100,
               drill="visits", section=meetings),
    ]
    return items


@dataclass
class Figure:
    target: Target
    num: float
    den: float

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
    def met(self) -> bool | None:
        """None when there is nothing to judge (no organisation, member or meeting to count)."""
        if self.target.measure == "count" and not self.den:
            return None
        return self.target.is_met(self.value)

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


# --- grouped counts ---------------------------------------------------------------------------


def _group(path_field: str, length: int | None):
    return Substr(path_field, 1, length) if length else F(path_field)


def _active_in(period: Period, prefix: str = "") -> Q:
    return (Q(**{f"{prefix}active_from__isnull": True}) | Q(**{f"{prefix}active_from__lte": period.end})) & (
        Q(**{f"{prefix}active_to__isnull": True}) | Q(**{f"{prefix}active_to__gte": period.start}))


def cells_in(scope: Organisation, period: Period) -> QuerySet[Organisation]:
    return Organisation.objects.filter(_active_in(period), path__startswith=scope.path,
                                       kind__in=Organisation.CELL_KINDS)


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
    return _month_end(datetime.date(first.year, first.month + 2, 1))


def _organisation_counts(scope, period, length, today) -> list[dict]:
    """Per group: TCCS, chi bộ and cells of the subtree (one query)."""
    months = period.started_months(today)
    quarters = period.started_quarters(today)
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
        row["cell_months"] = row["cells"] * len(months)
        row["cell_quarters"] = row["cells"] * len(quarters)
    return rows


def _cell_quarter():
    """A number naming one (cell, quarter) pair within a year, for COUNT(DISTINCT …)."""
    return ExpressionWrapper(F("organisation_id") * 10 + ExtractQuarter("period_month"), output_field=IntegerField())


def _meeting_counts(scope, period, length, today) -> list[dict]:
    """Per group, in one scan of the year's held meetings: cell-months with a regular meeting,
    cell-quarters with a thematic meeting and with an upper-level guest, cells with a forum; and of
    the period's meetings with a base, those above the attendance target, the sum of their rates and
    the unexcused absences (from the counts stored on the meetings: no attendance row is read)."""
    months = period.started_months(today)
    quarters = period.started_quarters(today)
    never = datetime.date(1, 1, 1)
    month_from, month_to = (months[0], months[-1]) if months else (never, never)
    quarter_from, quarter_to = (quarters[0], _quarter_end(quarters[-1])) if quarters else (never, never)
    in_months = Q(period_month__gte=month_from, period_month__lte=month_to)
    in_quarters = Q(period_month__gte=quarter_from, period_month__lte=quarter_to)
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
        meeting__period_month__gte=datetime.date(period.year, 1, 1),
        meeting__period_month__lte=datetime.date(period.year, 12, 1))
    visited = Q(pk__in=guests.values("meeting_id"))
    rows = list(
        _held(datetime.date(period.year, 1, 1), datetime.date(period.year, 12, 1), ATTENDANCE_KINDS)
        .filter(_of_cells_in(scope, period))
        .order_by()
        .values(grp=_group("organisation__path", length))
        .annotate(
            # At most one regular meeting per cell and month is not cancelled (a constraint): count rows.
            regular=Count("pk", filter=in_months & Q(kind__in=Meeting.REGULAR_KINDS)),
            thematic=Count(_cell_quarter(), distinct=True, filter=in_quarters & Q(kind__in=THEMATIC_KINDS)),
            visits=Count(_cell_quarter(), distinct=True, filter=in_quarters & visited),
            forum_cells=Count("organisation", distinct=True, filter=Q(kind=Meeting.Kind.FORUM)),
            meetings=Count("pk", filter=counted),
            above=Count("pk", filter=counted & GreaterThan(present * 100, base * ATTENDANCE_TARGET)),
            rate_sum=Sum(rate, filter=counted),
            unexcused=Sum("attendance_unexcused", filter=counted),
        )
    )
    return [{**row, "rate_sum": float(row["rate_sum"] or 0), "unexcused": row["unexcused"] or 0} for row in rows]


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
                     today: datetime.date | None = None) -> tuple[list[Target], dict[str, dict[str, Figure]]]:
    """Every target's figure per group of the scope (path prefix of ``length``; None: per organisation).

    A fixed number of queries (seven), whatever the size of the subtree.
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

    for values in raw.values():
        # Before the upper committee has decided any rating of a group (every year until December), its
        # rating shares have nothing to judge: "—", not a 0 % that reads as "Chưa đạt".
        values["tccs_rated"] = values.get("tccs", 0) if values.get("tccs_decided") else 0
        values["chi_bo_rated"] = values.get("chi_bo", 0) if values.get("cell_decided") else 0
        values["members_rated"] = values.get("rated", 0) if values.get("member_decided") else 0
    ratios = {
        "tccs_good": ("tccs_good", "tccs_rated"), "tccs_excellent": ("tccs_excellent", "tccs_rated"),
        "tccs_failed": ("tccs_failed", "tccs_decided"),
        "cell_good": ("cell_good", "chi_bo_rated"), "cell_excellent": ("cell_excellent", "chi_bo_rated"),
        "cell_failed": ("cell_failed", "cell_decided"),
        "member_good": ("member_good", "members_rated"), "member_excellent": ("member_excellent", "members_rated"),
        "commitments": ("committed", "members"), "regular_months": ("regular", "cell_months"),
        "attendance_mean": ("rate_sum", "meetings"), "attendance_meetings": ("above", "meetings"),
        "unexcused": ("unexcused", "meetings"), "thematic_quarters": ("thematic", "cell_quarters"),
        "forum_cells": ("forum_cells", "cells"), "visit_quarters": ("visits", "cell_quarters"),
    }
    for doc_type in document_types:
        ratios[f"doc_{doc_type.pk}"] = (f"doc_{doc_type.pk}", "cells")
    result = {}
    for grp, values in raw.items():
        result[grp] = {}
        for target in target_list:
            num_key, den_key = ratios[target.code]
            result[grp][target.code] = Figure(target, values.get(num_key, 0), values.get(den_key, 0))
    return target_list, result


def total_of(target_list: list[Target], groups: dict[str, dict[str, Figure]]) -> dict[str, Figure]:
    """The scope's row: the sum of the group rows (all figures are sums of counts)."""
    total = {}
    for target in target_list:
        num = sum(groups[g][target.code].num for g in groups)
        den = sum(groups[g][target.code].den for g in groups)
        total[target.code] = Figure(target, num, den)
    return total


def applies(figure: Figure) -> bool:
    """Whether the figure is judged at all (a group without TCCS has no TCCS target)."""
    return figure.met is not None


def group_rows(scope: Organisation, *, period: Period, length: int | None, kinds=None) -> QuerySet[Organisation]:
    """The organisations the groups stand for: the scope's children, or the cells of its subtree."""
    organisations = Organisation.objects.filter(_active_in(period), path__startswith=scope.path)
    if length:
        organisations = organisations.filter(depth=scope.depth + 1).exclude(kind=Organisation.Kind.TO_DANG)
    if kinds:
        organisations = organisations.filter(kind__in=kinds)
    return organisations.select_related("parent").order_by("path")


def dashboard(*, scope: Organisation, period: Period, today: datetime.date | None = None) -> dict:
    """The targets of the scope: its total, and one row per child organisation."""
    length = len(scope.path) + PATH_STEP_WIDTH
    target_list, groups = figures_by_group(scope=scope, period=period, length=length, today=today)
    children = list(group_rows(scope, period=period, length=length))
    total = total_of(target_list, groups)
    rows = []
    for child in children:
        figures = groups.get(child.path, {})
        rows.append({"organisation": child,
                     "figures": [figures.get(t.code) or Figure(t, 0, 0) for t in target_list]})
    return {"targets": target_list, "total": [total[t.code] for t in target_list], "rows": rows}


def annual_levels(*, scope: Organisation, year: int, today: datetime.date | None = None) -> tuple[list, list[dict]]:
    """The annual report's levels: the scope, its children (the TCCS for the Khối), every cell."""
    period = Period(year)
    step = PATH_STEP_WIDTH
    target_list, children = figures_by_group(scope=scope, period=period, length=len(scope.path) + step, today=today)
    _cell_targets, cells = figures_by_group(scope=scope, period=period, length=None, today=today)
    total = total_of(target_list, children)
    levels = [{"name": scope.get_kind_display(), "rows": [(scope, [total[t.code] for t in target_list])]}]
    for name, length, groups, kinds in [
        (_("TCCS") if scope.kind == Organisation.Kind.KHOI else _("Trực thuộc"), len(scope.path) + step, children,
         None),
        (_("Chi bộ"), None, cells, Organisation.CELL_KINDS),
    ]:
        rows = []
        for organisation in group_rows(scope, period=period, length=length, kinds=kinds):
            figures = groups.get(organisation.path, {})
            rows.append((organisation, [figures.get(t.code) or Figure(t, 0, 0) for t in target_list]))
        levels.append({"name": name, "rows": rows})
    return target_list, levels


# --- heat map and quality ----------------------------------------------------------------------


def heat_map(*, scope: Organisation, period: Period, today: datetime.date | None = None) -> dict:
    """Cells × months: the regular meeting of each month, its state and its official quality level.

    Two queries: the cells, and the regular meetings of the period with their level.
    """
    today = today or timezone.localdate()
    cells = list(cells_in(scope, period).select_related("parent").order_by("path"))
    meetings = (
        Meeting.objects.filter(organisation__in=cells_in(scope, period), kind__in=Meeting.REGULAR_KINDS,
                               period_month__gte=period.start, period_month__lte=period.end)
        .exclude(state=Meeting.State.CANCELLED)
        .order_by()
        .values("pk", "organisation_id", "period_month", "state",
                level=Coalesce(NullIf("score__official_level", Value("")), Value(UNSCORED)))
    )
    by_cell: dict[tuple, dict] = {(m["organisation_id"], m["period_month"]): m for m in meetings}
    names = dict(QUALITY_LEVELS)
    rows = []
    for cell in cells:
        slots = []
        for month in period.months:
            meeting = by_cell.get((cell.pk, month))
            if meeting is None:
                status = "future" if month > today else "missing"
                slots.append({"status": status, "month": month})
            elif meeting["state"] in HELD_STATES:
                level = meeting["level"]
                slots.append({"status": "held", "level": level, "label": names.get(level, "✓") if level != UNSCORED
                              else "✓", "meeting_id": meeting["pk"], "month": month})
            else:
                slots.append({"status": "planned", "meeting_id": meeting["pk"], "month": month})
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
                    counts: list[dict] | None = None) -> dict:
    """Children × months for a wide scope (the Khối): cells that held their regular meeting, of all cells,
    and how many of those meetings were confirmed Tốt or Khá. Two grouped queries and the children
    (one less with ``counts``, the rows of ``scored_meeting_counts``)."""
    today = today or timezone.localdate()
    length = len(scope.path) + PATH_STEP_WIDTH
    cells = dict(cells_in(scope, period).order_by().values_list(_group("path", length)).annotate(n=Count("pk")))
    if counts is None:
        counts = scored_meeting_counts(scope=scope, period=period)
    held: dict[tuple, dict] = {}
    for row in counts:
        if row["kind"] not in Meeting.REGULAR_KINDS:
            continue
        slot = held.setdefault((row["grp"], row["period_month"]), {"held": 0, "good": 0})
        slot["held"] += row["meetings"]
        if row["level"] in GOOD_MEETING_LEVELS:
            slot["good"] += row["meetings"]
    counts = held
    rows = []
    for child in group_rows(scope, period=period, length=length):
        total = cells.get(child.path, 0)
        if not total:
            continue
        slots = []
        for month in period.months:
            row = counts.get((child.path, month), {"held": 0, "good": 0})
            share = row["held"] * 100 / total
            status = "future" if month > today else "all" if row["held"] == total else \
                "most" if share >= 80 else "few"
            slots.append({"month": month, "held": row["held"], "good": row["good"], "cells": total, "status": status})
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
    left, bottom, top = 30, 24, 10
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
            "axis_y": height - bottom, "left": left, "top": top}


# --- warnings ------------------------------------------------------------------------------------


def _warning_month(today: datetime.date) -> datetime.date:
    """The month whose plan is due: this month from the 25th on, else last month."""
    if today.day >= 25:
        return today.replace(day=1)
    previous = today.replace(day=1) - datetime.timedelta(days=1)
    return previous.replace(day=1)


def _quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def warning_records(kind: str, *, scope: Organisation, period: Period, today: datetime.date | None = None):
    """The records behind one early warning (a queryset, never evaluated here)."""
    today = today or timezone.localdate()
    now = timezone.now()
    cells = cells_in(scope, Period(today.year)) if kind in ("no_plan", "no_visit") else cells_in(scope, period)
    if kind == "no_plan":
        month = _warning_month(today)
        deadline = timezone.make_aware(datetime.datetime.combine(month.replace(day=26), datetime.time()))
        planned = Meeting.objects.filter(organisation=OuterRef("pk"), kind__in=Meeting.REGULAR_KINDS,
                                         period_month=month, created_at__lt=deadline).exclude(
            state=Meeting.State.CANCELLED)
        return cells.filter(~Exists(planned)).select_related("parent").order_by("path")
    if kind == "minutes_overdue":
        return (Meeting.objects.filter(organisation__path__startswith=scope.path, state=Meeting.State.HELD, actual_start__lt=now - datetime.timedelta(days=2))
                .select_related("organisation").order_by("actual_start"))
    if kind == "low_attendance":
        return (attendance_meetings(scope, period).filter(base__gt=0)
                .filter(LessThan(F("present") * 100, F("base") * ATTENDANCE_TARGET))
                .select_related("organisation").order_by("period_month", "organisation__path"))
    if kind == "unexcused":
        held = _attendance_held(scope, period)
        return (Attendance.objects.filter(meeting__in=held, presence=Attendance.Presence.ABSENT_UNEXCUSED)
                .select_related("member", "meeting", "meeting__organisation")
                .order_by("meeting__period_month", "member__full_name"))
    if kind == "overdue_tasks":
        return (Task.objects.filter(meeting__organisation__path__startswith=scope.path, status=Task.Status.OPEN,
                                    due_date__lt=today).exclude(meeting__state=Meeting.State.CANCELLED)
                .select_related("meeting", "meeting__organisation").order_by("due_date", "pk"))
    if kind == "no_visit":
        start = _quarter_start(today)
        visited = Meeting.objects.filter(organisation=OuterRef("pk"), state__in=HELD_STATES,
                                         upper_guests__isnull=False, period_month__gte=start,
                                         period_month__lte=today)
        return cells.filter(~Exists(visited)).select_related("parent").order_by("path")
    if kind == "unpaid_dues":
        return members_with_unpaid_months(organisations=cells_in(scope, period), year=period.year)
    raise Http404


WARNINGS = [
    ("no_plan", gettext_lazy("Chi bộ chưa lên kế hoạch sinh hoạt thường kỳ trước ngày 25")),
    ("minutes_overdue", gettext_lazy("Buổi sinh hoạt đã họp quá 2 ngày chưa thông qua biên bản")),
    ("low_attendance", gettext_lazy("Buổi sinh hoạt có dưới 85 % đảng viên dự")),
    ("unexcused", gettext_lazy("Lượt vắng không lý do")),
    ("overdue_tasks", gettext_lazy("Nhiệm vụ quá hạn chưa hoàn thành")),
    ("no_visit", gettext_lazy("Chi bộ chưa có cấp ủy cấp trên dự sinh hoạt quý này")),
    ("unpaid_dues", gettext_lazy("Đảng viên chưa nộp đảng phí từ 3 tháng trở lên")),
]


def _attendance_warning_counts(scope: Organisation, period: Period) -> dict[str, int]:
    """The two attendance warnings in one query over the meetings' stored counts (no attendance row)."""
    low = Q(attendance_base__gt=0) & LessThan(F("attendance_present") * 100, F("attendance_base") * ATTENDANCE_TARGET)
    counts = _attendance_held(scope, period).aggregate(
        low_attendance=Count("pk", filter=low), unexcused=Sum("attendance_unexcused"))
    return {kind: count or 0 for kind, count in counts.items()}


def warnings(*, scope: Organisation, period: Period, today: datetime.date | None = None) -> list[dict]:
    """Each early warning with its count: one COUNT query each, one for the two attendance warnings."""
    counted = _attendance_warning_counts(scope, period)
    counted["unpaid_dues"] = count_members_with_unpaid_months(organisations=cells_in(scope, period), year=period.year)
    return [{"code": code, "label": label,
             "count": counted[code] if code in counted else warning_records(code, scope=scope, period=period,
                                                                            today=today).count()}
            for code, label in WARNINGS]


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


def drill_records(metric: str, *, scope: Organisation, period: Period, part: Organisation | None = None,
                  params=None, today: datetime.date | None = None) -> QuerySet:
    """The records behind a dashboard figure, within ``part`` (a group of the scope) when given."""
    today = today or timezone.localdate()
    params = params or {}
    base = part or scope
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
        months = period.started_months(today)
        quarters = period.started_quarters(today)
        never = datetime.date(1, 1, 1)
        if metric == "regular":
            meetings = _held(months[0], months[-1], Meeting.REGULAR_KINDS) if months else Meeting.objects.none()
            counted, required = "period_month", len(months)
        elif metric == "forums":
            meetings = _held(datetime.date(period.year, 1, 1), datetime.date(period.year, 12, 1),
                             [Meeting.Kind.FORUM])
            counted, required = "pk", 1
        else:
            kinds = THEMATIC_KINDS if metric == "thematic" else ATTENDANCE_KINDS
            start, end = (quarters[0], _quarter_end(quarters[-1])) if quarters else (never, never)
            meetings = _held(start, end, kinds)
            if metric == "visits":
                meetings = meetings.filter(upper_guests__isnull=False)
            counted, required = TruncQuarter("period_month"), len(quarters)
        return (cells_in(base, period).annotate(done=_count_per_cell(meetings, counted), required=Value(required))
                .select_related("parent").order_by("done", "path"))
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
    if metric in dict(WARNINGS):
        if part is not None:
            return warning_records(metric, scope=part, period=period, today=today)
        return warning_records(metric, scope=scope, period=period, today=today)
    raise Http404


def drill_title(metric: str, params) -> str:
    titles = {
        "org_ratings": _("Xếp loại tổ chức đảng"), "member_ratings": _("Xếp loại đảng viên"),
        "documents": _("Văn bản bắt buộc của chi bộ"), "commitments": _("Bản cam kết của đảng viên"),
        "regular": _("Sinh hoạt thường kỳ hằng tháng"), "thematic": _("Sinh hoạt chuyên đề hằng quý"),
        "forums": _("Diễn đàn trong năm"), "visits": _("Cấp ủy cấp trên dự sinh hoạt hằng quý"),
        "attendance": _("Tỷ lệ dự sinh hoạt từng buổi"), "quality": _("Chất lượng sinh hoạt"),
        **{code: str(label) for code, label in WARNINGS},
    }
    return titles.get(metric, metric)


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
        if metric in ("no_plan", "no_visit"):
            return Table(title, [_("Chi bộ"), _("Cấp trên")],
                         [[(o.name, reverse("meetings:cell_list", args=[o.pk])), parent_name(o)] for o in records])
        return Table(title, [_("Chi bộ"), _("Cấp trên"), _("Đã thực hiện"), _("Yêu cầu")],
                     [[(o.name, reverse("meetings:cell_list", args=[o.pk])), parent_name(o), o.done, o.required]
                      for o in records])
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


def dashboard_page(*, user, scope: Organisation, period: Period, today: datetime.date | None = None) -> dict:
    """Everything the dashboard shows (a fixed number of queries), for the page and its XLSX export."""
    from cells.selectors import roles_over

    today = today or timezone.localdate()
    figures = dashboard(scope=scope, period=period, today=today)
    # The Khối's heat map and quality chart count the same meetings: read them once.
    scored = scored_meeting_counts(scope=scope, period=period) if scope.kind == Organisation.Kind.KHOI else None
    distribution = quality_distribution(scope=scope, period=period, counts=scored)
    parent = scope.parent if scope.parent_id else None
    up = parent if parent is not None and parent.kind in SCOPE_KINDS and roles_over(user, parent) & DASHBOARD_ROLES \
        else None
    heat = heat_map(scope=scope, period=period, today=today) if scope.kind != Organisation.Kind.KHOI else None
    heat_groups = heat_map_groups(scope=scope, period=period, today=today, counts=scored) \
        if scope.kind == Organisation.Kind.KHOI else None
    links = DashboardLinks(scope, period)
    warning_list = warnings(scope=scope, period=period, today=today)
    return {
        "scope": scope, "period": period, "period_query": links.period_query, "up": up,
        **figures,
        "heat": heat,
        "heat_groups": heat_groups,
        "distribution": distribution,
        "chart": quality_chart(distribution),
        "quality_rows": [
            {"code": code, "name": name,
             "cells": [{"month": m["month"], "count": m["counts"][index],
                        "href": links.drill("quality", level=code, in_month=m["month"].month)}
                       for m in distribution["months"]]}
            for index, (code, name) in enumerate(distribution["levels"])],
        "warnings": [{**warning, "href": links.drill(warning["code"])} for warning in warning_list],
        "total_rows": [{"figure": figure, "href": links.figure_drill(figure.target)} for figure in figures["total"]],
        "child_rows": links.child_rows(figures["targets"], figures["rows"]),
        "heat_rows": links.heat_rows(heat) if heat is not None else links.heat_group_rows(heat_groups),
        "can_run": can_run_reports(user, scope),
    }


def _link_maker(name: str) -> Callable[[int], str]:
    """Links to the page ``name`` of many objects for one ``reverse``: the pk is put into a reversed URL."""
    placeholder = 2147483647  # no object has it
    pattern = reverse(name, args=[placeholder])
    return lambda pk: pattern.replace(str(placeholder), str(pk))


def _percent_text(value: float) -> str:
    """A rate as a whole percentage, rounded half up like the ``floatformat`` filter."""
    return f"{Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP):f}%"


HEAT_GROUP_CLASSES = {"all": "s-held", "most": "s-planned", "few": "s-missing"}
# The cells of the two big grids (thousands of them) are written here rather than in the template,
# where they took more time than the database; every value put into them goes through html.escape.
MET_CLASSES = {True: ' class="met"', False: ' class="not-met"', None: ""}


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
        """The table by organisation: per row its link, per figure the drill-down link, text and class."""
        prefixes = [html.escape(f"{self.figure_drill(target)}&org=") for target in target_list]
        result = []
        for row in rows:
            organisation = row["organisation"]
            org = html.escape(str(organisation.pk))
            cells = []
            for prefix, figure in zip(prefixes, row["figures"], strict=True):
                if figure.target.measure == "count":
                    text = figure.display
                else:
                    value = figure.value
                    text = "—" if value is None else _percent_text(value)
                cells.append(f'<td{MET_CLASSES[figure.met]}><a class="text-reset" href="{prefix}{org}">'
                             f'{html.escape(text)}</a></td>')
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
                slots.append(f'<td class="{HEAT_GROUP_CLASSES[slot["status"]]}"><a href="{prefix}'
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
    if figure.met is None:
        return "—"
    return _("Đạt") if figure.met else _("Chưa đạt")


def dashboard_tables(context: dict) -> list[Table]:
    """The dashboard's tables as plain rows, for the XLSX export."""
    scope, period = context["scope"], context["period"]
    suffix = f"{scope.name}, {period.label}"
    tables = [Table(_("Chỉ tiêu"), [_("Nhóm"), _("Chỉ tiêu"), _("Mục tiêu"), _("Kết quả"), _("Đánh giá")],
                    [[str(f.target.section), str(f.target.label), f.target.goal, f.display, _mark(f)]
                     for f in context["total"]])]
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
        status_names = {"missing": _("Không sinh hoạt"), "planned": _("Đã lên kế hoạch"), "future": ""}
        for row in heat["rows"]:
            cell = row["cell"]
            heat_table.rows.append([cell.name, cell.parent.name if cell.parent_id else ""] + [
                (str(slot["label"]) if slot["status"] == "held" else status_names[slot["status"]])
                for slot in row["slots"]])
    else:
        heat = context["heat_groups"]
        heat_table = Table(_("Bản đồ sinh hoạt"), [_("Tổ chức đảng")] + [f"{m:%m/%Y}" for m in heat["months"]])
        for row in heat["rows"]:
            heat_table.rows.append([row["organisation"].name] + [
                "" if slot["status"] == "future" else f"{slot['held']}/{slot['cells']}" for slot in row["slots"]])
    tables.append(heat_table)
    distribution = context["distribution"]
    tables.append(Table(_("Chất lượng sinh hoạt"), [_("Tháng")] + [str(name) for _code, name in distribution["levels"]],
                        [[f"{m['month']:%m/%Y}"] + m["counts"] for m in distribution["months"]]))
    tables.append(Table(_("Cảnh báo"), [_("Cảnh báo"), _("Số lượng")],
                        [[str(w["label"]), w["count"]] for w in context["warnings"]]))
    tables[0].columns[0] = f"{_('Nhóm')} — {suffix}"
    return tables
