"""The targets of the resolution (design §6), each one declaration, and the registries of what they show.

A target is one ``Target(...)``: how its figure is made (its numerator, denominator and pending counts,
read from the grouped queries of ``reports.figures`` or from a grouped query of its own, ``count``), when
it is met, its words, the drill-down page of the records behind it (``drill``, the code of a registered
``DrillDown``, or ``drill_down`` carried in the declaration) and the early warning that goes with it
(``warning``, the code of a registered ``EarlyWarning``, or ``early_warning`` carried in it).
``register(Target(...))`` adds it to the dashboards, the exports and the annual report, with the
drill-down and the warning it carries; ``unregister(code)`` takes all of it away again.

The shipped drill-downs are declared in ``reports.drilldown``, the shipped warnings in
``reports.warnings``; ``figures``, ``drilldown`` and ``warnings`` iterate these registries and never
branch on a code.
"""

import dataclasses
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cells.models import (
    RequiredDocumentType,
)
from meetings import indicators
from scoring.models import RatingLevel

from .counting import ATTENDANCE_TARGET
from .periods import Period

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

# A figure's status: met, failed, in progress (its period has not ended and it has not failed for
# good), or nothing to judge. The labels are the words of every page, export and report.
MET, FAILED, IN_PROGRESS, NO_DATA = indicators.MET, indicators.FAILED, indicators.IN_PROGRESS, "none"
STATUS_LABELS = {
    MET: gettext_lazy("Đạt"),
    FAILED: gettext_lazy("Chưa đạt"),
    IN_PROGRESS: gettext_lazy("Đang thực hiện"),
    NO_DATA: "—",
}


@dataclass(frozen=True)
class DrillDown:
    """The records behind a figure: the drill-down page ``reports:drill`` of ``code`` and its XLSX.

    ``records(scope=, period=, params=, today=)``: the records (a queryset, never evaluated there) within
    ``scope`` (the dashboard's scope, or the group of it asked for with ``?org=``); ``params`` are the
    page's ``kind``, ``level``, ``type`` and ``month``. ``columns`` and ``row(record)``: its table, a cell
    being text or (text, url). ``title``: its heading, followed by the period it covers (``span``:
    "period" for the chosen months, "year" for the whole year), unless ``heading(period, today)`` words
    it whole. ``levels(level)``: whether a ``?level=`` is one it filters by (None: it takes none; any
    other level is a wrong address, 404).
    """

    code: str
    title: "str | _StrPromise"
    records: Callable[..., QuerySet]
    columns: tuple
    row: Callable[[Any], list]
    span: str = "period"
    levels: Callable[[str], bool] | None = None
    heading_of: Callable[[Period, datetime.date], str] | None = None

    def heading(self, *, period: Period, today: datetime.date) -> str:
        if self.heading_of is not None:
            return self.heading_of(period, today)
        span = Period(period.year) if self.span == "year" else period
        return f"{self.title} — {span.as_of(today)}"


@dataclass(frozen=True)
class EarlyWarning:
    """An early warning of the dashboards: which records are warned, in what words, for which period.

    ``records(scope=, period=, today=)``: the records warned (a queryset, never evaluated there), for the
    month, quarter or period that ``label(period, today)`` names in its words. ``columns`` and
    ``row(record)``: the table of its drill-down page (a warning is its own drill-down, under its code).
    ``count(scope=, period=, today=)``: ``{code: number}`` for this warning and any others counted in
    the same query (None: its records are counted, one COUNT query).
    """

    code: str
    label: Callable[[Period, datetime.date], str]
    records: Callable[..., QuerySet]
    columns: tuple
    row: Callable[[Any], list]
    count: Callable[..., dict[str, int]] | None = None

    def drill_down(self) -> DrillDown:
        def records(*, scope, period, params, today):
            return self.records(scope=scope, period=period, today=today)

        return DrillDown(self.code, "", records, self.columns, self.row, heading_of=self.label)


@dataclass(frozen=True)
class Target:
    """One target of design §6: how its actual figure is read and when it is met.

    ``span``: "period" for the targets counted over the chosen months (meetings, attendance), "year" for
    those of the whole year whatever the filter (ratings, documents, commitments, forums).
    ``fails_early``: a shortfall cannot be made up before the period ends (every unit must meet it and
    a failed unit stays failed: a month without its meeting, an unexcused absence), so it fails at once.
    ``shortfall``: the reason in words for a unit that fails it, with ``%(n)s`` the count short.
    ``unit``: what its pending count counts ("chi bộ-tháng"…), for "n … đang thực hiện".
    ``num``, ``den``, ``pending``: the counts its figure is made of (``Figure(num, den, pending)``), by
    the names ``reports.figures.figures_by_group`` gives the counts of its grouped queries; ``count``:
    a grouped query of the target's own for counts none of those has — ``count(scope=, period=,
    length=, today=)`` returns one row per group, ``{"grp": path prefix, name: number…}`` (one query
    whatever the size of the scope).
    ``drill`` and ``drill_params``: the drill-down page of its records (a registered ``DrillDown``'s
    code, or ``drill_down`` declared with the target); ``warning``: the early warning that goes with it
    (a registered ``EarlyWarning``'s code, or ``early_warning`` declared with the target).
    """

    code: str
    label: "str | _StrPromise"
    goal: str  # as written in the resolution
    measure: str  # "share": num/den in %; "count": num; "mean": num/den in % (average of rates)
    op: str  # "gt", "gte", "eq", "range"
    threshold: float
    upper: float | None = None
    drill: str = ""
    drill_params: dict = field(default_factory=dict)
    section: "str | _StrPromise" = ""
    span: str = "period"
    fails_early: bool = False
    shortfall: "str | _StrPromise" = ""
    unit: "str | _StrPromise" = ""
    num: str = ""
    den: str = ""
    pending: str = ""
    count: Callable[..., list[dict]] | None = None
    drill_down: DrillDown | None = None
    warning: str = ""
    early_warning: EarlyWarning | None = None

    def __post_init__(self):
        if self.drill_down is not None and not self.drill:
            object.__setattr__(self, "drill", self.drill_down.code)
        if self.early_warning is not None and not self.warning:
            object.__setattr__(self, "warning", self.early_warning.code)

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

    def resolved(self) -> "Target":
        """The target with its words in the language of the request (the declarations are lazy)."""
        return dataclasses.replace(
            self, label=str(self.label), section=str(self.section), shortfall=str(self.shortfall), unit=str(self.unit)
        )


@dataclass(frozen=True)
class PerDocumentType:
    """A target for each active required document type: ``build(document_type)`` makes it."""

    code: str
    build: Callable[[Any], Target]


# --- the registries ---------------------------------------------------------------------------

_TARGETS: dict[str, Target | PerDocumentType] = {}
DRILLS: dict[str, DrillDown] = {}
WARNINGS: dict[str, EarlyWarning] = {}


def register_drill(drill: DrillDown) -> DrillDown:
    DRILLS[drill.code] = drill
    return drill


def register_warning(warning: EarlyWarning) -> EarlyWarning:
    """A warning of every dashboard (in the order registered), and its drill-down page."""
    WARNINGS[warning.code] = warning
    register_drill(warning.drill_down())
    return warning


def unregister_warning(code: str) -> None:
    if WARNINGS.pop(code, None) is not None:
        DRILLS.pop(code, None)


def register(target: Target | PerDocumentType) -> Target | PerDocumentType:
    """A target of every dashboard, export and annual report (after those registered before), with the
    drill-down and the warning it carries."""
    _TARGETS[target.code] = target
    if isinstance(target, Target):
        if target.drill_down is not None:
            register_drill(target.drill_down)
        if target.early_warning is not None:
            register_warning(target.early_warning)
    return target


def unregister(code: str) -> None:
    """Take a target away, with the drill-down and the warning it brought."""
    target = _TARGETS.pop(code, None)
    if isinstance(target, Target):
        if target.drill_down is not None:
            DRILLS.pop(target.drill_down.code, None)
        if target.early_warning is not None:
            unregister_warning(target.early_warning.code)


def targets(document_types: list[RequiredDocumentType]) -> list[Target]:
    """The targets in the order of the report; one per required document type."""
    items: list[Target] = []
    for entry in _TARGETS.values():
        if isinstance(entry, PerDocumentType):
            items += [entry.build(doc_type).resolved() for doc_type in document_types]
        else:
            items.append(entry.resolved())
    return items


# --- the targets of the resolution ------------------------------------------------------------

RATING = gettext_lazy("Đánh giá, xếp loại")
MEETINGS = gettext_lazy("Sinh hoạt chi bộ")
BOOKS = gettext_lazy("Văn bản, cam kết")


def _document_target(doc_type) -> Target:
    return Target(
        f"doc_{doc_type.pk}",
        _("Chi bộ có %(name)s") % {"name": doc_type.name},
        "100 %",
        "share",
        "gte",
        100,
        drill="documents",
        drill_params={"type": doc_type.pk},
        section=BOOKS,
        span="year",
        shortfall=_("%%(n)s chi bộ chưa có %(name)s") % {"name": doc_type.name},
        num=f"doc_{doc_type.pk}",
        den="cells",
    )


register(
    Target(
        "tccs_good",
        gettext_lazy("TCCS hoàn thành tốt nhiệm vụ trở lên"),
        "> 80 %",
        "share",
        "gt",
        80,
        drill="org_ratings",
        drill_params={"kind": "tccs"},
        section=RATING,
        span="year",
        num="tccs_good",
        den="tccs_rated",
    )
)

register(
    Target(
        "tccs_excellent",
        gettext_lazy("TCCS hoàn thành xuất sắc nhiệm vụ"),
        "20 %",
        "share",
        "gte",
        20,
        drill="org_ratings",
        drill_params={"kind": "tccs", "level": RatingLevel.EXCELLENT},
        section=RATING,
        span="year",
        num="tccs_excellent",
        den="tccs_rated",
    )
)

register(
    Target(
        "tccs_failed",
        gettext_lazy("TCCS không hoàn thành nhiệm vụ"),
        "0",
        "count",
        "eq",
        0,
        drill="org_ratings",
        drill_params={"kind": "tccs", "level": RatingLevel.FAILED},
        section=RATING,
        span="year",
        fails_early=True,
        shortfall=gettext_lazy("%(n)s TCCS không hoàn thành nhiệm vụ"),
        num="tccs_failed",
        den="tccs_decided",
    )
)

register(
    Target(
        "cell_good",
        gettext_lazy("Chi bộ trực thuộc hoàn thành tốt nhiệm vụ trở lên"),
        "80 %",
        "share",
        "gte",
        80,
        drill="org_ratings",
        drill_params={"kind": "cell"},
        section=RATING,
        span="year",
        num="cell_good",
        den="chi_bo_rated",
    )
)

register(
    Target(
        "cell_excellent",
        gettext_lazy("Chi bộ trực thuộc hoàn thành xuất sắc nhiệm vụ"),
        "20 %",
        "share",
        "gte",
        20,
        drill="org_ratings",
        drill_params={"kind": "cell", "level": RatingLevel.EXCELLENT},
        section=RATING,
        span="year",
        num="cell_excellent",
        den="chi_bo_rated",
    )
)

register(
    Target(
        "cell_failed",
        gettext_lazy("Chi bộ trực thuộc không hoàn thành nhiệm vụ"),
        "0",
        "count",
        "eq",
        0,
        drill="org_ratings",
        drill_params={"kind": "cell", "level": RatingLevel.FAILED},
        section=RATING,
        span="year",
        fails_early=True,
        shortfall=gettext_lazy("%(n)s chi bộ không hoàn thành nhiệm vụ"),
        num="cell_failed",
        den="cell_decided",
    )
)

register(
    Target(
        "member_good",
        gettext_lazy("Đảng viên hoàn thành tốt nhiệm vụ trở lên"),
        "85 %",
        "share",
        "gte",
        85,
        drill="member_ratings",
        section=RATING,
        span="year",
        num="member_good",
        den="members_rated",
    )
)

register(
    Target(
        "member_excellent",
        gettext_lazy("Đảng viên hoàn thành xuất sắc nhiệm vụ"),
        "15–20 %",
        "share",
        "range",
        15,
        20,
        drill="member_ratings",
        drill_params={"level": RatingLevel.EXCELLENT},
        section=RATING,
        span="year",
        num="member_excellent",
        den="members_rated",
    )
)

register(PerDocumentType("documents", _document_target))

register(
    Target(
        "commitments",
        gettext_lazy("Đảng viên có bản cam kết tu dưỡng, rèn luyện"),
        "100 %",
        "share",
        "gte",
        100,
        drill="commitments",
        section=BOOKS,
        span="year",
        shortfall=gettext_lazy("%(n)s đảng viên chưa có bản cam kết tu dưỡng, rèn luyện"),
        num="committed",
        den="members",
    )
)

register(
    Target(
        "regular_months",
        gettext_lazy("Chi bộ-tháng có sinh hoạt thường kỳ"),
        "100 %",
        "share",
        "gte",
        100,
        drill="regular",
        section=MEETINGS,
        fails_early=True,
        shortfall=gettext_lazy("%(n)s chi bộ-tháng không sinh hoạt thường kỳ"),
        unit=gettext_lazy("chi bộ-tháng"),
        num="regular",
        den="cell_months",
        pending="regular_pending",
        warning="no_plan",
    )
)

register(
    Target(
        "attendance_mean",
        gettext_lazy("Tỷ lệ đảng viên dự sinh hoạt bình quân"),
        "> 85 %",
        "mean",
        "gt",
        ATTENDANCE_TARGET,
        drill="attendance",
        section=MEETINGS,
        num="rate_sum",
        den="meetings",
    )
)

register(
    Target(
        "attendance_meetings",
        gettext_lazy("Buổi sinh hoạt có trên 85 % đảng viên dự"),
        "100 %",
        "share",
        "gte",
        100,
        drill="attendance",
        section=MEETINGS,
        fails_early=True,
        shortfall=gettext_lazy("%(n)s buổi sinh hoạt không đạt trên 85 %% đảng viên dự"),
        num="above",
        den="meetings",
        warning="low_attendance",
    )
)

register(
    Target(
        "unexcused",
        gettext_lazy("Lượt đảng viên vắng không lý do"),
        "0",
        "count",
        "eq",
        0,
        drill="unexcused",
        section=MEETINGS,
        fails_early=True,
        shortfall=gettext_lazy("%(n)s lượt vắng không lý do"),
        num="unexcused",
        den="meetings",
        warning="unexcused",
    )
)

register(
    Target(
        "thematic_quarters",
        gettext_lazy("Chi bộ-quý có sinh hoạt chuyên đề"),
        "100 %",
        "share",
        "gte",
        100,
        drill="thematic",
        section=MEETINGS,
        fails_early=True,
        shortfall=gettext_lazy("%(n)s chi bộ-quý không sinh hoạt chuyên đề"),
        unit=gettext_lazy("chi bộ-quý"),
        num="thematic",
        den="thematic_due",
        pending="thematic_pending",
    )
)

register(
    Target(
        "forum_cells",
        gettext_lazy("Chi bộ tổ chức diễn đàn trong năm (1–2 lần)"),
        "100 %",
        "share",
        "gte",
        100,
        drill="forums",
        section=MEETINGS,
        span="year",
        shortfall=gettext_lazy("%(n)s chi bộ không tổ chức diễn đàn trong năm"),
        unit=gettext_lazy("chi bộ"),
        num="forum_cells",
        den="forum_due",
        pending="forum_pending",
    )
)

register(
    Target(
        "visit_quarters",
        gettext_lazy("Chi bộ-quý có cấp ủy cấp trên dự sinh hoạt"),
        "100 %",
        "share",
        "gte",
        100,
        drill="visits",
        section=MEETINGS,
        fails_early=True,
        shortfall=gettext_lazy("%(n)s chi bộ-quý không có cấp ủy cấp trên dự sinh hoạt"),
        unit=gettext_lazy("chi bộ-quý"),
        num="visits",
        den="visits_due",
        pending="visits_pending",
        warning="no_visit",
    )
)
