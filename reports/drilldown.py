"""The drill-down pages: the records behind a dashboard figure or warning, as a table.

Each drill-down is one ``DrillDown`` declaration (reports.targets), registered here for the figures of
the shipped targets, by ``reports.warnings`` for the warnings, or carried by a target's declaration:
its records, its title and the span it covers, its columns and rows, the levels it filters by.
``drill_records``, ``drill_title`` and ``drill_table`` read the registry; they never branch on a code.
"""

import datetime
import re
from collections.abc import Callable
from typing import Any

from django.db.models import (
    Case,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf, TruncQuarter
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cells.models import (
    CellDocument,
    MemberCommitment,
    Organisation,
)
from lib import dates
from meetings import indicators
from meetings.models import Meeting
from scoring.models import AnnualRating, RatingLevel

from . import warnings as _warnings  # noqa: F401 - registers the warnings' drill-downs
from .counting import (
    QUALITY_LEVELS,
    SCORED_KINDS,
    UNSCORED,
    _active_in,
    _count_per_cell,
    _document_condition,
    _held,
    attendance_meetings,
    cells_in,
    members_in,
)
from .periods import NEVER, Period, _months_span
from .tables import Table, cell_meetings_link, meeting_link, member_link, org_link, parent_name
from .targets import DRILLS, FAILED, IN_PROGRESS, MET, STATUS_LABELS, DrillDown, register_drill
from .warnings import ATTENDANCE_COLUMNS, attendance_row

__all__ = ["Period", "Table", "drill_of", "drill_records", "drill_table", "drill_title"]

LEVEL_NAMES = dict(RatingLevel.choices)


def _as_int(condition) -> Cast:
    return Cast(condition, IntegerField())


def _zero() -> Any:
    return Value(0, output_field=IntegerField())


def _is_rating_level(level: str) -> bool:
    return level in LEVEL_NAMES


def _is_quality_level(level: str) -> bool:
    # A scheme's level code; anything else (a NUL byte answered 500 on PostgreSQL) is a wrong address.
    return bool(re.fullmatch(r"[a-z0-9_-]{1,40}", level))


# --- ratings, documents, commitments ------------------------------------------------------------


def _org_ratings(*, scope: Organisation, period: Period, params: dict, today: datetime.date):
    kinds = Organisation.TCCS_KINDS if params.get("kind") == "tccs" else [Organisation.Kind.CHI_BO]
    rating = AnnualRating.objects.filter(organisation=OuterRef("pk"), member__isnull=True, year=period.year)
    records = (
        Organisation.objects.filter(_active_in(period), path__startswith=scope.path, kind__in=kinds)
        .annotate(level=Coalesce(Subquery(rating.values("decided_level")[:1]), Value("")))
        .select_related("parent")
        .order_by("path")
    )
    if params.get("level"):
        records = records.filter(level=params["level"])
    return records


def _member_ratings(*, scope: Organisation, period: Period, params: dict, today: datetime.date):
    ratings = (
        AnnualRating.objects.filter(year=period.year, member__isnull=False, organisation__path__startswith=scope.path)
        .select_related("member", "organisation")
        .order_by("organisation__path", "member__full_name")
    )
    if params.get("level"):
        ratings = ratings.filter(decided_level=params["level"])
    return ratings


def _documents(*, scope: Organisation, period: Period, params: dict, today: datetime.date):
    on = period.reference_day(today)
    type_id = str(params.get("type", ""))
    if not type_id.isdigit():
        raise Http404
    documents = CellDocument.objects.filter(organisation=OuterRef("pk"), document_type_id=int(type_id)).filter(
        _document_condition(period.year, on)
    )
    return (
        cells_in(scope, period)
        .annotate(adopted_on=Subquery(documents.values("adopted_on")[:1]))
        .select_related("parent")
        .order_by(F("adopted_on").asc(nulls_first=True), "path")
    )


def _commitments(*, scope: Organisation, period: Period, params: dict, today: datetime.date):
    signed = MemberCommitment.objects.filter(member=OuterRef("pk"), year=period.year)
    return (
        members_in(scope, period, today)
        .annotate(signed_at=Subquery(signed.values("created_at")[:1]))
        .select_related("organisation")
        .order_by(F("signed_at").asc(nulls_first=True), "full_name", "pk")
    )


# --- units of the meetings: per cell, done, required so far, pending ------------------------------


def _regular_units(base: Organisation, period: Period, today: datetime.date) -> QuerySet[Organisation]:
    cells = cells_in(base, period)
    zero = _zero()
    ended = period.ended_months(today)
    first, last = _months_span(ended)
    ended_done = _count_per_cell(
        Meeting.objects.filter(indicators.regular_held_q(first=first, last=last)), "period_month"
    )
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
        required=ExpressionWrapper(Value(len(ended)) + F("now_held") + F("now_failed"), output_field=IntegerField()),
        pending=ExpressionWrapper(Value(1) - F("now_held") - F("now_failed"), output_field=IntegerField()),
    )


def _forum_units(base: Organisation, period: Period, today: datetime.date) -> QuerySet[Organisation]:
    cells = cells_in(base, period)
    zero = _zero()
    forums = _count_per_cell(Meeting.objects.filter(indicators.forum_held_q(year=period.year)), "pk")
    if today > period.year_end:
        return cells.annotate(done=forums, required=Value(1), pending=zero)
    return cells.annotate(done=forums).annotate(
        required=Case(When(done__gt=0, then=Value(1)), default=zero),
        pending=Case(When(done__gt=0, then=zero), default=Value(1)),
    )


def _quarter_units(held: Callable[..., QuerySet[Meeting]]):
    """Per cell, the quarters in which ``held(first=, last=)`` has a meeting (thematic meetings, visits)."""

    def units(base: Organisation, period: Period, today: datetime.date) -> QuerySet[Organisation]:
        cells = cells_in(base, period)
        ended = period.ended_quarters(today)
        first, last = _months_span(ended)
        last = dates.add_months(last, 2) if ended else NEVER
        ended_done = _count_per_cell(held(first=first, last=last), TruncQuarter("period_month"))
        quarter = period.current_quarter(today)
        if quarter is None:
            return cells.annotate(done=ended_done, required=Value(len(ended)), pending=_zero())
        now_held = held(first=quarter, last=dates.add_months(quarter, 2)).filter(organisation=OuterRef("pk"))
        return cells.annotate(now_done=_as_int(Exists(now_held))).annotate(
            done=ExpressionWrapper(ended_done + F("now_done"), output_field=IntegerField()),
            required=ExpressionWrapper(Value(len(ended)) + F("now_done"), output_field=IntegerField()),
            pending=ExpressionWrapper(Value(1) - F("now_done"), output_field=IntegerField()),
        )

    return units


def _units(count: Callable[[Organisation, Period, datetime.date], QuerySet[Organisation]]):
    """The records of a unit drill-down (the same counting as ``figures_by_group``): the cells furthest
    behind first, then those still in progress."""

    def records(*, scope: Organisation, period: Period, params: dict, today: datetime.date):
        return (
            count(scope, period, today)
            .select_related("parent")
            .order_by((F("done") - F("required")).asc(), "-pending", "path")
        )

    return records


def _unit_status(o) -> str:
    if o.required > o.done:
        return str(STATUS_LABELS[FAILED])
    return str(STATUS_LABELS[IN_PROGRESS if o.pending else MET])


UNIT_COLUMNS = (
    gettext_lazy("Chi bộ"),
    gettext_lazy("Cấp trên"),
    gettext_lazy("Đã thực hiện"),
    gettext_lazy("Phải thực hiện đến nay"),
    gettext_lazy("Đang thực hiện"),
    gettext_lazy("Đánh giá"),
)


def _unit_row(o) -> list:
    return [cell_meetings_link(o), parent_name(o), o.done, o.required, o.pending, _unit_status(o)]


# --- meetings -----------------------------------------------------------------------------------


def _quality(*, scope: Organisation, period: Period, params: dict, today: datetime.date):
    meetings = (
        _held(period.start, period.end, SCORED_KINDS)
        .filter(organisation__in=cells_in(scope, period))
        .annotate(level=Coalesce(NullIf("score__official_level", Value("")), Value(UNSCORED)))
        .select_related("organisation")
        .order_by("period_month", "organisation__path")
    )
    if params.get("level"):
        meetings = meetings.filter(level=params["level"])
    if str(params.get("month", "")).isdigit():
        meetings = meetings.filter(period_month__month=int(params["month"]))
    return meetings


def _quality_row(m) -> list:
    names = dict(QUALITY_LEVELS)
    return [
        meeting_link(m),
        m.organisation.name,
        names.get(m.level, _("Chưa xác nhận") if m.level == UNSCORED else m.level),
    ]


def _attendance(*, scope: Organisation, period: Period, params: dict, today: datetime.date):
    return (
        attendance_meetings(scope, period)
        .filter(base__gt=0)  # type: ignore[misc]  # an annotation
        .select_related("organisation")
        .order_by("rate", "period_month")
    )


# --- the drill-downs of the shipped targets -----------------------------------------------------

register_drill(
    DrillDown(
        "org_ratings",
        gettext_lazy("Xếp loại tổ chức đảng"),
        _org_ratings,
        (gettext_lazy("Tổ chức đảng"), gettext_lazy("Cấp trên"), gettext_lazy("Xếp loại (cấp trên quyết định)")),
        lambda o: [org_link(o), parent_name(o), LEVEL_NAMES.get(o.level, _("Chưa xếp loại"))],
        span="year",
        levels=_is_rating_level,
    )
)
register_drill(
    DrillDown(
        "member_ratings",
        gettext_lazy("Xếp loại đảng viên"),
        _member_ratings,
        (gettext_lazy("Đảng viên"), gettext_lazy("Chi bộ"), gettext_lazy("Xếp loại (cấp trên quyết định)")),
        lambda r: [
            member_link(r.member),
            org_link(r.organisation),
            LEVEL_NAMES.get(r.decided_level, _("Chưa quyết định")),
        ],
        span="year",
        levels=_is_rating_level,
    )
)
register_drill(
    DrillDown(
        "documents",
        gettext_lazy("Văn bản bắt buộc của chi bộ"),
        _documents,
        (gettext_lazy("Chi bộ"), gettext_lazy("Cấp trên"), gettext_lazy("Ngày ban hành")),
        lambda o: [org_link(o), parent_name(o), o.adopted_on or _("Chưa có")],
        span="year",
    )
)
register_drill(
    DrillDown(
        "commitments",
        gettext_lazy("Bản cam kết của đảng viên"),
        _commitments,
        (gettext_lazy("Đảng viên"), gettext_lazy("Chi bộ"), gettext_lazy("Cam kết")),
        lambda m: [
            member_link(m),
            org_link(m.organisation) if m.organisation_id else "",
            timezone.localtime(m.signed_at).date() if m.signed_at else _("Chưa có"),
        ],
        span="year",
    )
)
register_drill(
    DrillDown(
        "regular",
        gettext_lazy("Sinh hoạt thường kỳ hằng tháng"),
        _units(_regular_units),
        UNIT_COLUMNS,
        _unit_row,
    )
)
register_drill(
    DrillDown(
        "thematic",
        gettext_lazy("Sinh hoạt chuyên đề hằng quý"),
        _units(_quarter_units(lambda **span: Meeting.objects.filter(indicators.thematic_held_q(**span)))),
        UNIT_COLUMNS,
        _unit_row,
    )
)
register_drill(
    DrillDown(
        "forums",
        gettext_lazy("Diễn đàn trong năm"),
        _units(_forum_units),
        UNIT_COLUMNS,
        _unit_row,
        span="year",
    )
)
register_drill(
    DrillDown(
        "visits",
        gettext_lazy("Cấp ủy cấp trên dự sinh hoạt hằng quý"),
        _units(_quarter_units(lambda **span: Meeting.objects.filter(indicators.visits_q(**span)))),
        UNIT_COLUMNS,
        _unit_row,
    )
)
register_drill(
    DrillDown(
        "attendance",
        gettext_lazy("Tỷ lệ dự sinh hoạt từng buổi"),
        _attendance,
        ATTENDANCE_COLUMNS,
        attendance_row,
    )
)
register_drill(
    DrillDown(
        "quality",
        gettext_lazy("Chất lượng sinh hoạt"),
        _quality,
        (gettext_lazy("Buổi sinh hoạt"), gettext_lazy("Chi bộ"), gettext_lazy("Xếp loại chất lượng")),
        _quality_row,
        levels=_is_quality_level,
    )
)


# --- the pages ----------------------------------------------------------------------------------


def drill_of(metric: str) -> DrillDown:
    """The registered drill-down of ``metric`` (a figure's or a warning's); 404 for a code none has."""
    try:
        return DRILLS[metric]
    except KeyError:
        raise Http404 from None


def drill_records(
    metric: str,
    *,
    scope: Organisation,
    period: Period,
    part: Organisation | None = None,
    params=None,
    today: datetime.date | None = None,
) -> QuerySet:
    """The records behind a dashboard figure, within ``part`` (a group of the scope) when given."""
    today = today or timezone.localdate()
    params = params or {}
    level = str(params.get("level") or "")
    drill = drill_of(metric)
    # A level filter names a level the drill-down filters by; anything else is a wrong address.
    if level and not (drill.levels is not None and drill.levels(level)):
        raise Http404
    return drill.records(scope=part or scope, period=period, params=params, today=today)


def drill_title(metric: str, params, *, period: Period, today: datetime.date | None = None) -> str:
    return drill_of(metric).heading(period=period, today=today or timezone.localdate())


def drill_table(metric: str, records, *, title: str) -> Table:
    """Arrange the records of a drill-down (one page of them) as a table with links."""
    drill = drill_of(metric)
    return Table(title, [str(column) for column in drill.columns], [drill.row(record) for record in records])
