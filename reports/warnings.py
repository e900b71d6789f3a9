"""The early warnings of a dashboard: their records, counts and words."""

import datetime

from django.db.models import (
    Count,
    OuterRef,
    Subquery,
    Sum,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import (
    Organisation,
)
from cells.selectors import (
    count_members_with_unpaid_months,
    members_with_unpaid_months,
)
from lib import dates, formatting
from meetings import indicators
from meetings.models import Attendance, Meeting, Task

from .counting import ATTENDANCE_TARGET, _attendance_held, attendance_meetings, cells_in
from .periods import Period


def warning_records(kind: str, *, scope: Organisation, period: Period, today: datetime.date | None = None):
    """The records behind one early warning (a queryset, never evaluated here). Each checks the period
    ``warning_label`` names; every definition is meetings.indicators'."""
    today = today or timezone.localdate()
    now = timezone.now()
    if kind == "no_plan":
        month = period.checked_month(today)
        if month is None:
            return Organisation.objects.none()
        meeting = indicators.regular_meetings_of(month).filter(organisation=OuterRef("pk"))
        return (
            indicators.cells_without_plan(month=month, today=today, within=scope)
            .annotate(
                plan_state=Subquery(meeting.values("state")[:1]),
                plan_notice=Subquery(meeting.values("notice_sent_at")[:1]),
                plan_start=Subquery(meeting.values("planned_start")[:1]),
            )
            .select_related("parent")
            .order_by("path")
        )
    if kind == "minutes_overdue":
        return (
            indicators.minutes_overdue(now=now)
            .filter(
                organisation__path__startswith=scope.path, period_month__gte=period.start, period_month__lte=period.end
            )
            .select_related("organisation")
            .order_by("ended_at", "pk")
        )
    if kind == "low_attendance":
        return (
            attendance_meetings(scope, period)
            .filter(indicators.attendance_target_q(met=False))
            .select_related("organisation")
            .order_by("period_month", "organisation__path")
        )
    if kind == "unexcused":
        held = _attendance_held(scope, period)
        return (
            Attendance.objects.filter(meeting__in=held, presence=Attendance.Presence.ABSENT_UNEXCUSED)
            .select_related("member", "meeting", "meeting__organisation")
            .order_by("meeting__period_month", "member__full_name")
        )
    if kind == "overdue_tasks":
        return (
            Task.objects.filter(
                meeting__organisation__path__startswith=scope.path,
                status=Task.Status.OPEN,
                due_date__gte=period.start,
                due_date__lte=period.end,
                due_date__lt=today,
            )
            .exclude(meeting__state=Meeting.State.CANCELLED)
            .select_related("meeting", "meeting__organisation")
            .order_by("due_date", "pk")
        )
    if kind == "no_visit":
        quarter = period.checked_quarter(today)
        if quarter is None:
            return Organisation.objects.none()
        return indicators.cells_without_visit(quarter=quarter, within=scope).select_related("parent").order_by("path")
    if kind == "unpaid_dues":
        return members_with_unpaid_months(organisations=cells_in(scope, period), year=period.year)
    raise Http404


WARNING_CODES = (
    "no_plan",
    "minutes_overdue",
    "low_attendance",
    "unexcused",
    "overdue_tasks",
    "no_visit",
    "unpaid_dues",
)


def warning_label(kind: str, *, period: Period, today: datetime.date) -> str:
    """The warning's words, naming the month, quarter or year it checks and the day it is read."""
    as_of = period.as_of(today)
    if kind == "no_plan":
        month = period.checked_month(today)
        if month is None:
            return _("Chi bộ chưa lên kế hoạch sinh hoạt thường kỳ (%(period)s chưa bắt đầu)") % {
                "period": period.label
            }
        deadline = formatting.date_text(indicators.planning_deadline_day(month))
        if indicators.planning_deadline_passed(month, today):
            return _("Chi bộ không lên kế hoạch sinh hoạt thường kỳ %(month)s trước hạn ngày %(deadline)s") % {
                "month": formatting.month_label(month),
                "deadline": deadline,
            }
        return _("Chi bộ chưa lên kế hoạch sinh hoạt thường kỳ %(month)s (hạn ngày %(deadline)s)") % {
            "month": formatting.month_label(month),
            "deadline": deadline,
        }
    if kind == "no_visit":
        quarter = period.checked_quarter(today)
        if quarter is None:
            return _("Chi bộ chưa có cấp ủy cấp trên dự sinh hoạt (%(period)s chưa bắt đầu)") % {"period": period.label}
        end = dates.quarter_end(quarter)
        if end < today:
            return _("Chi bộ không có cấp ủy cấp trên dự sinh hoạt trong %(quarter)s") % {
                "quarter": formatting.quarter_label(quarter)
            }
        return _("Chi bộ chưa có cấp ủy cấp trên dự sinh hoạt trong %(quarter)s (quý kết thúc ngày %(end)s)") % {
            "quarter": formatting.quarter_label(quarter),
            "end": formatting.date_text(end),
        }
    labels = {
        "minutes_overdue": _("Buổi sinh hoạt quá %(days)s ngày chưa thông qua biên bản (%(period)s)")
        % {"days": indicators.MINUTES_DUE.days, "period": as_of},
        "low_attendance": _("Buổi sinh hoạt không đạt trên %(target)s %% đảng viên dự (%(period)s)")
        % {"target": ATTENDANCE_TARGET, "period": as_of},
        "unexcused": _("Lượt vắng không lý do (%(period)s)") % {"period": as_of},
        "overdue_tasks": _("Nhiệm vụ quá hạn chưa hoàn thành (hạn trong %(period)s)") % {"period": as_of},
        "unpaid_dues": _("Đảng viên chưa nộp đảng phí từ %(months)s tháng trở lên trong năm %(year)s")
        % {"months": indicators.UNPAID_DUES_MONTHS, "year": period.year},
    }
    return labels[kind]


def _attendance_warning_counts(scope: Organisation, period: Period) -> dict[str, int]:
    """The two attendance warnings in one query over the meetings' stored counts (no attendance row)."""
    counts = _attendance_held(scope, period).aggregate(
        low_attendance=Count("pk", filter=indicators.attendance_target_q(met=False)),
        unexcused=Sum("attendance_unexcused"),
    )
    return {kind: count or 0 for kind, count in counts.items()}


def warnings(*, scope: Organisation, period: Period, today: datetime.date | None = None) -> list[dict]:
    """Each early warning with its count and its label: one COUNT query each, one for the two attendance
    warnings."""
    today = today or timezone.localdate()
    counted = _attendance_warning_counts(scope, period)
    counted["unpaid_dues"] = count_members_with_unpaid_months(organisations=cells_in(scope, period), year=period.year)
    return [
        {
            "code": code,
            "label": warning_label(code, period=period, today=today),
            "count": counted[code]
            if code in counted
            else warning_records(code, scope=scope, period=period, today=today).count(),
        }
        for code in WARNING_CODES
    ]
