"""The yearly targets of the resolution (design §6) and the words of their statuses."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cells.models import (
    RequiredDocumentType,
)
from meetings import indicators
from scoring.models import RatingLevel

from .counting import ATTENDANCE_TARGET

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
class Target:
    """One target of design §6: how its actual figure is read and when it is met.

    ``span``: "period" for the targets counted over the chosen months (meetings, attendance), "year" for
    those of the whole year whatever the filter (ratings, documents, commitments, forums).
    ``fails_early``: a shortfall cannot be made up before the period ends (every unit must meet it and
    a failed unit stays failed: a month without its meeting, an unexcused absence), so it fails at once.
    ``shortfall``: the reason in words for a unit that fails it, with ``%(n)s`` the count short.
    ``unit``: what its pending count counts ("chi bộ-tháng"…), for "n … đang thực hiện".
    ``num``, ``den``, ``pending``: the counts its figure is made of (``Figure(num, den, pending)``);
    ``drill`` and ``drill_params``: the drill-down page of its records (reports.drilldown).
    A new target is one more entry here, with its counts in figures_by_group and its drill-down metric.
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
    # The figure's numerator, denominator and pending units: the names of the counts that
    # reports.figures.figures_by_group reads for every group (its grouped queries and what it derives).
    num: str = ""
    den: str = ""
    pending: str = ""

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
        Target(
            "tccs_good",
            _("TCCS hoàn thành tốt nhiệm vụ trở lên"),
            "> 80 %",
            "share",
            "gt",
            80,
            drill="org_ratings",
            drill_params={"kind": "tccs"},
            section=rating,
            span="year",
            num="tccs_good",
            den="tccs_rated",
        ),
        Target(
            "tccs_excellent",
            _("TCCS hoàn thành xuất sắc nhiệm vụ"),
            "20 %",
            "share",
            "gte",
            20,
            drill="org_ratings",
            drill_params={"kind": "tccs", "level": RatingLevel.EXCELLENT},
            section=rating,
            span="year",
            num="tccs_excellent",
            den="tccs_rated",
        ),
        Target(
            "tccs_failed",
            _("TCCS không hoàn thành nhiệm vụ"),
            "0",
            "count",
            "eq",
            0,
            drill="org_ratings",
            drill_params={"kind": "tccs", "level": RatingLevel.FAILED},
            section=rating,
            span="year",
            fails_early=True,
            shortfall=_("%(n)s TCCS không hoàn thành nhiệm vụ"),
            num="tccs_failed",
            den="tccs_decided",
        ),
        Target(
            "cell_good",
            _("Chi bộ trực thuộc hoàn thành tốt nhiệm vụ trở lên"),
            "80 %",
            "share",
            "gte",
            80,
            drill="org_ratings",
            drill_params={"kind": "cell"},
            section=rating,
            span="year",
            num="cell_good",
            den="chi_bo_rated",
        ),
        Target(
            "cell_excellent",
            _("Chi bộ trực thuộc hoàn thành xuất sắc nhiệm vụ"),
            "20 %",
            "share",
            "gte",
            20,
            drill="org_ratings",
            drill_params={"kind": "cell", "level": RatingLevel.EXCELLENT},
            section=rating,
            span="year",
            num="cell_excellent",
            den="chi_bo_rated",
        ),
        Target(
            "cell_failed",
            _("Chi bộ trực thuộc không hoàn thành nhiệm vụ"),
            "0",
            "count",
            "eq",
            0,
            drill="org_ratings",
            drill_params={"kind": "cell", "level": RatingLevel.FAILED},
            section=rating,
            span="year",
            fails_early=True,
            shortfall=_("%(n)s chi bộ không hoàn thành nhiệm vụ"),
            num="cell_failed",
            den="cell_decided",
        ),
        Target(
            "member_good",
            _("Đảng viên hoàn thành tốt nhiệm vụ trở lên"),
            "85 %",
            "share",
            "gte",
            85,
            drill="member_ratings",
            section=rating,
            span="year",
            num="member_good",
            den="members_rated",
        ),
        Target(
            "member_excellent",
            _("Đảng viên hoàn thành xuất sắc nhiệm vụ"),
            "15–20 %",
            "share",
            "range",
            15,
            20,
            drill="member_ratings",
            drill_params={"level": RatingLevel.EXCELLENT},
            section=rating,
            span="year",
            num="member_excellent",
            den="members_rated",
        ),
    ]
    for doc_type in document_types:
        items.append(
            Target(
                f"doc_{doc_type.pk}",
                _("Chi bộ có %(name)s") % {"name": doc_type.name},
                "100 %",
                "share",
                "gte",
                100,
                drill="documents",
                drill_params={"type": doc_type.pk},
                section=books,
                span="year",
                shortfall=_("%%(n)s chi bộ chưa có %(name)s") % {"name": doc_type.name},
                num=f"doc_{doc_type.pk}",
                den="cells",
            )
        )
    items += [
        Target(
            "commitments",
            _("Đảng viên có bản cam kết tu dưỡng, rèn luyện"),
            "100 %",
            "share",
            "gte",
            100,
            drill="commitments",
            section=books,
            span="year",
            shortfall=_("%(n)s đảng viên chưa có bản cam kết tu dưỡng, rèn luyện"),
            num="committed",
            den="members",
        ),
        Target(
            "regular_months",
            _("Chi bộ-tháng có sinh hoạt thường kỳ"),
            "100 %",
            "share",
            "gte",
            100,
            drill="regular",
            section=meetings,
            fails_early=True,
            shortfall=_("%(n)s chi bộ-tháng không sinh hoạt thường kỳ"),
            unit=_("chi bộ-tháng"),
            num="regular",
            den="cell_months",
            pending="regular_pending",
        ),
        Target(
            "attendance_mean",
            _("Tỷ lệ đảng viên dự sinh hoạt bình quân"),
            "> 85 %",
            "mean",
            "gt",
            ATTENDANCE_TARGET,
            drill="attendance",
            section=meetings,
            num="rate_sum",
            den="meetings",
        ),
        Target(
            "attendance_meetings",
            _("Buổi sinh hoạt có trên 85 % đảng viên dự"),
            "100 %",
            "share",
            "gte",
            100,
            drill="attendance",
            section=meetings,
            fails_early=True,
            shortfall=_("%(n)s buổi sinh hoạt không đạt trên 85 %% đảng viên dự"),
            num="above",
            den="meetings",
        ),
        Target(
            "unexcused",
            _("Lượt đảng viên vắng không lý do"),
            "0",
            "count",
            "eq",
            0,
            drill="unexcused",
            section=meetings,
            fails_early=True,
            shortfall=_("%(n)s lượt vắng không lý do"),
            num="unexcused",
            den="meetings",
        ),
        Target(
            "thematic_quarters",
            _("Chi bộ-quý có sinh hoạt chuyên đề"),
            "100 %",
            "share",
            "gte",
            100,
            drill="thematic",
            section=meetings,
            fails_early=True,
            shortfall=_("%(n)s chi bộ-quý không sinh hoạt chuyên đề"),
            unit=_("chi bộ-quý"),
            num="thematic",
            den="thematic_due",
            pending="thematic_pending",
        ),
        Target(
            "forum_cells",
            _("Chi bộ tổ chức diễn đàn trong năm (1–2 lần)"),
            "100 %",
            "share",
            "gte",
            100,
            drill="forums",
            section=meetings,
            span="year",
            shortfall=_("%(n)s chi bộ không tổ chức diễn đàn trong năm"),
            unit=_("chi bộ"),
            num="forum_cells",
            den="forum_due",
            pending="forum_pending",
        ),
        Target(
            "visit_quarters",
            _("Chi bộ-quý có cấp ủy cấp trên dự sinh hoạt"),
            "100 %",
            "share",
            "gte",
            100,
            drill="visits",
            section=meetings,
            fails_early=True,
            shortfall=_("%(n)s chi bộ-quý không có cấp ủy cấp trên dự sinh hoạt"),
            unit=_("chi bộ-quý"),
            num="visits",
            den="visits_due",
            pending="visits_pending",
        ),
    ]
    return items
