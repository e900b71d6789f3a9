"""The drill-down pages: the records behind a dashboard figure or warning, as a table."""

import datetime
import re
from dataclasses import dataclass, field
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
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import (
    CellDocument,
    MemberCommitment,
    Organisation,
)
from lib import dates, formatting
from lib.formatting import fmt_int, fmt_percent
from meetings import indicators
from meetings.models import Meeting
from scoring.models import AnnualRating, RatingLevel

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
from .targets import FAILED, IN_PROGRESS, MET, STATUS_LABELS
from .warnings import WARNING_CODES, warning_label, warning_records


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
    zero: Any = Value(0, output_field=IntegerField())
    if metric == "regular":
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
            required=ExpressionWrapper(
                Value(len(ended)) + F("now_held") + F("now_failed"), output_field=IntegerField()
            ),
            pending=ExpressionWrapper(Value(1) - F("now_held") - F("now_failed"), output_field=IntegerField()),
        )
    if metric == "forums":
        forums = _count_per_cell(Meeting.objects.filter(indicators.forum_held_q(year=period.year)), "pk")
        if today > period.year_end:
            return cells.annotate(done=forums, required=Value(1), pending=zero)
        return cells.annotate(done=forums).annotate(
            required=Case(When(done__gt=0, then=Value(1)), default=zero),
            pending=Case(When(done__gt=0, then=zero), default=Value(1)),
        )
    ended = period.ended_quarters(today)
    first, last = _months_span(ended)
    last = dates.add_months(last, 2) if ended else NEVER

    def held(first, last):
        if metric == "thematic":
            return Meeting.objects.filter(indicators.thematic_held_q(first=first, last=last))
        return Meeting.objects.filter(indicators.visits_q(first=first, last=last))

    ended_done = _count_per_cell(held(first, last), TruncQuarter("period_month"))
    quarter = period.current_quarter(today)
    if quarter is None:
        return cells.annotate(done=ended_done, required=Value(len(ended)), pending=zero)
    now_done = _as_int(Exists(held(quarter, dates.add_months(quarter, 2)).filter(organisation=OuterRef("pk"))))
    return cells.annotate(now_done=now_done).annotate(
        done=ExpressionWrapper(ended_done + F("now_done"), output_field=IntegerField()),
        required=ExpressionWrapper(Value(len(ended)) + F("now_done"), output_field=IntegerField()),
        pending=ExpressionWrapper(Value(1) - F("now_done"), output_field=IntegerField()),
    )


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
    base = part or scope
    level = str(params.get("level") or "")
    # A level filter names a rating level, or a scheme's level code; anything else is a wrong address
    # (a NUL byte answered 500 on PostgreSQL).
    if level and not (
        level in LEVEL_NAMES
        if metric in ("org_ratings", "member_ratings")
        else metric == "quality" and re.fullmatch(r"[a-z0-9_-]{1,40}", level)
    ):
        raise Http404
    if metric == "org_ratings":
        kinds = Organisation.TCCS_KINDS if params.get("kind") == "tccs" else [Organisation.Kind.CHI_BO]
        rating = AnnualRating.objects.filter(organisation=OuterRef("pk"), member__isnull=True, year=period.year)
        records = (
            Organisation.objects.filter(_active_in(period), path__startswith=base.path, kind__in=kinds)
            .annotate(level=Coalesce(Subquery(rating.values("decided_level")[:1]), Value("")))
            .select_related("parent")
            .order_by("path")
        )
        if params.get("level"):
            records = records.filter(level=params["level"])
        return records
    if metric == "member_ratings":
        ratings = (
            AnnualRating.objects.filter(
                year=period.year, member__isnull=False, organisation__path__startswith=base.path
            )
            .select_related("member", "organisation")
            .order_by("organisation__path", "member__full_name")
        )
        if params.get("level"):
            ratings = ratings.filter(decided_level=params["level"])
        return ratings
    if metric == "documents":
        on = period.reference_day(today)
        type_id = str(params.get("type", ""))
        if not type_id.isdigit():
            raise Http404
        documents = CellDocument.objects.filter(organisation=OuterRef("pk"), document_type_id=int(type_id)).filter(
            _document_condition(period.year, on)
        )
        return (
            cells_in(base, period)
            .annotate(adopted_on=Subquery(documents.values("adopted_on")[:1]))
            .select_related("parent")
            .order_by(F("adopted_on").asc(nulls_first=True), "path")
        )
    if metric == "commitments":
        signed = MemberCommitment.objects.filter(member=OuterRef("pk"), year=period.year)
        return (
            members_in(base, period, today)
            .annotate(signed_at=Subquery(signed.values("created_at")[:1]))
            .select_related("organisation")
            .order_by(F("signed_at").asc(nulls_first=True), "full_name", "pk")
        )
    if metric in ("regular", "thematic", "forums", "visits"):
        # The cells furthest behind first, then those still in progress.
        return (
            _unit_drill(metric, base, period, today)
            .select_related("parent")
            .order_by((F("done") - F("required")).asc(), "-pending", "path")
        )
    if metric == "quality":
        meetings = (
            _held(period.start, period.end, SCORED_KINDS)
            .filter(organisation__in=cells_in(base, period))
            .annotate(level=Coalesce(NullIf("score__official_level", Value("")), Value(UNSCORED)))
            .select_related("organisation")
            .order_by("period_month", "organisation__path")
        )
        if params.get("level"):
            meetings = meetings.filter(level=params["level"])
        if str(params.get("month", "")).isdigit():
            meetings = meetings.filter(period_month__month=int(params["month"]))
        return meetings
    if metric == "attendance":
        return (
            attendance_meetings(base, period)
            .filter(base__gt=0)  # type: ignore[misc]  # an annotation
            .select_related("organisation")
            .order_by("rate", "period_month")
        )
    if metric in WARNING_CODES:
        return warning_records(metric, scope=base, period=period, today=today)
    raise Http404


def drill_title(metric: str, params, *, period: Period, today: datetime.date | None = None) -> str:
    today = today or timezone.localdate()
    if metric in WARNING_CODES:
        return warning_label(metric, period=period, today=today)
    titles = {
        "org_ratings": _("Xếp loại tổ chức đảng"),
        "member_ratings": _("Xếp loại đảng viên"),
        "documents": _("Văn bản bắt buộc của chi bộ"),
        "commitments": _("Bản cam kết của đảng viên"),
        "regular": _("Sinh hoạt thường kỳ hằng tháng"),
        "thematic": _("Sinh hoạt chuyên đề hằng quý"),
        "forums": _("Diễn đàn trong năm"),
        "visits": _("Cấp ủy cấp trên dự sinh hoạt hằng quý"),
        "attendance": _("Tỷ lệ dự sinh hoạt từng buổi"),
        "quality": _("Chất lượng sinh hoạt"),
    }
    span = period.as_of(today)
    if metric in ("org_ratings", "member_ratings", "documents", "commitments", "forums"):
        span = Period(period.year).as_of(today)
    return f"{titles.get(metric, metric)} — {span}"


def drill_table(metric: str, records, *, title: str) -> Table:
    """Arrange the records of a drill-down (one page of them) as a table with links."""

    def org_link(organisation):
        return (organisation.name, reverse("cells:organisation_detail", args=[organisation.pk]))

    def meeting_link(meeting):
        return (
            f"{meeting.get_kind_display()} {meeting.period_month:%m/%Y}",
            reverse("meetings:detail", args=[meeting.pk]),
        )

    def member_link(member):
        return (member.full_name, reverse("cells:member_detail", args=[member.pk]))

    def parent_name(organisation):
        return organisation.parent.name if organisation.parent_id else ""

    if metric == "org_ratings":
        return Table(
            title,
            [_("Tổ chức đảng"), _("Cấp trên"), _("Xếp loại (cấp trên quyết định)")],
            [[org_link(o), parent_name(o), LEVEL_NAMES.get(o.level, _("Chưa xếp loại"))] for o in records],
        )
    if metric == "member_ratings":
        return Table(
            title,
            [_("Đảng viên"), _("Chi bộ"), _("Xếp loại (cấp trên quyết định)")],
            [
                [
                    member_link(r.member),
                    org_link(r.organisation),
                    LEVEL_NAMES.get(r.decided_level, _("Chưa quyết định")),
                ]
                for r in records
            ],
        )
    if metric == "documents":
        return Table(
            title,
            [_("Chi bộ"), _("Cấp trên"), _("Ngày ban hành")],
            [[org_link(o), parent_name(o), o.adopted_on or _("Chưa có")] for o in records],
        )
    if metric == "commitments":
        return Table(
            title,
            [_("Đảng viên"), _("Chi bộ"), _("Cam kết")],
            [
                [
                    member_link(m),
                    org_link(m.organisation) if m.organisation_id else "",
                    timezone.localtime(m.signed_at).date() if m.signed_at else _("Chưa có"),
                ]
                for m in records
            ],
        )
    if metric in ("regular", "thematic", "forums", "visits", "no_plan", "no_visit"):
        if metric == "no_plan":

            def plan_text(o):
                if o.plan_state is None:
                    return _("Chưa có buổi sinh hoạt thường kỳ")
                start = formatting.date_text(timezone.localtime(o.plan_start).date())
                if o.plan_notice is None:
                    return _("Dự thảo họp ngày %(date)s, chưa gửi thông báo") % {"date": start}
                return _("Họp ngày %(date)s, thông báo gửi ngày %(sent)s (sau hạn)") % {
                    "date": start,
                    "sent": formatting.date_text(timezone.localtime(o.plan_notice).date()),
                }

            return Table(
                title,
                [_("Chi bộ"), _("Cấp trên"), _("Tình trạng")],
                [[(o.name, reverse("meetings:cell_list", args=[o.pk])), parent_name(o), plan_text(o)] for o in records],
            )
        if metric == "no_visit":
            return Table(
                title,
                [_("Chi bộ"), _("Cấp trên")],
                [[(o.name, reverse("meetings:cell_list", args=[o.pk])), parent_name(o)] for o in records],
            )

        def unit_status(o):
            if o.required > o.done:
                return str(STATUS_LABELS[FAILED])
            return str(STATUS_LABELS[IN_PROGRESS if o.pending else MET])

        return Table(
            title,
            [
                _("Chi bộ"),
                _("Cấp trên"),
                _("Đã thực hiện"),
                _("Phải thực hiện đến nay"),
                _("Đang thực hiện"),
                _("Đánh giá"),
            ],
            [
                [
                    (o.name, reverse("meetings:cell_list", args=[o.pk])),
                    parent_name(o),
                    o.done,
                    o.required,
                    o.pending,
                    unit_status(o),
                ]
                for o in records
            ],
        )
    if metric in ("attendance", "low_attendance"):
        return Table(
            title,
            [_("Buổi sinh hoạt"), _("Chi bộ"), _("Có mặt"), _("Phải dự"), _("Tỷ lệ"), _("Vắng không lý do")],
            [
                [meeting_link(m), m.organisation.name, m.present, m.base, fmt_percent(m.rate), m.unexcused]
                for m in records
            ],
        )
    if metric == "quality":
        names = dict(QUALITY_LEVELS)
        return Table(
            title,
            [_("Buổi sinh hoạt"), _("Chi bộ"), _("Xếp loại chất lượng")],
            [
                [
                    meeting_link(m),
                    m.organisation.name,
                    names.get(m.level, _("Chưa xác nhận") if m.level == UNSCORED else m.level),
                ]
                for m in records
            ],
        )
    if metric == "minutes_overdue":
        return Table(
            title,
            [_("Buổi sinh hoạt"), _("Chi bộ"), _("Họp lúc")],
            [[meeting_link(m), m.organisation.name, timezone.localtime(m.actual_start)] for m in records],
        )
    if metric == "unexcused":
        return Table(
            title,
            [_("Đảng viên"), _("Buổi sinh hoạt"), _("Chi bộ")],
            [[member_link(a.member), meeting_link(a.meeting), a.meeting.organisation.name] for a in records],
        )
    if metric == "overdue_tasks":
        return Table(
            title,
            [_("Nhiệm vụ"), _("Buổi sinh hoạt"), _("Chi bộ"), _("Thời hạn")],
            [[t.description[:120], meeting_link(t.meeting), t.meeting.organisation.name, t.due_date] for t in records],
        )
    if metric == "unpaid_dues":
        return Table(
            title,
            [_("Đảng viên"), _("Chi bộ"), _("Số tháng chưa nộp đủ"), _("Số tiền còn thiếu (đồng)")],
            [
                [
                    member_link(m),
                    m.organisation.name if m.organisation_id else "",
                    m.unpaid_months,
                    fmt_int(m.unpaid_amount),
                ]
                for m in records
            ],
        )
    raise Http404
