"""The early warnings of a dashboard: one ``EarlyWarning`` declaration each (reports.targets), with its
records, its words and the period they name, its count and its drill-down table.

``warnings()`` reads every registered warning; a new one is one more ``register_warning(...)`` here (or
carried by its target's declaration). Every definition of what is warned is meetings.indicators'.
"""

import datetime

from django.db.models import (
    Count,
    Min,
    OuterRef,
    Subquery,
    Sum,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cells.models import (
    Organisation,
)
from cells.selectors import (
    count_members_with_unpaid_months,
    members_with_unpaid_months,
)
from lib import dates, formatting
from lib.formatting import fmt_int, fmt_percent
from meetings import indicators
from meetings.models import Attendance, Task

from . import rollups
from .counting import ATTENDANCE_TARGET, _active_in, _attendance_held, attendance_meetings, cells_in
from .periods import Period
from .tables import cell_meetings_link, meeting_link, member_link, parent_name
from .targets import WARNINGS, EarlyWarning, register_warning

# The table of a list of meetings with their attendance (the attendance drill-down shares it).
ATTENDANCE_COLUMNS = (
    gettext_lazy("Buổi sinh hoạt"),
    gettext_lazy("Chi bộ"),
    gettext_lazy("Có mặt"),
    gettext_lazy("Phải dự"),
    gettext_lazy("Tỷ lệ"),
    gettext_lazy("Vắng không lý do"),
)


def attendance_row(m) -> list:
    return [meeting_link(m), m.organisation.name, m.present, m.base, fmt_percent(m.rate), m.unexcused]


# --- no plan for the month's regular meeting --------------------------------------------------


def _no_plan_records(*, scope: Organisation, period: Period, today: datetime.date):
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


def _no_plan_label(period: Period, today: datetime.date) -> str:
    month = period.checked_month(today)
    if month is None:
        return _("Chi bộ chưa lên kế hoạch sinh hoạt thường kỳ (%(period)s chưa bắt đầu)") % {"period": period.label}
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


def _plan_text(o) -> str:
    if o.plan_state is None:
        return _("Chưa có buổi sinh hoạt thường kỳ")
    start = formatting.date_text(timezone.localtime(o.plan_start).date())
    if o.plan_notice is None:
        return _("Dự thảo họp ngày %(date)s, chưa gửi thông báo") % {"date": start}
    return _("Họp ngày %(date)s, thông báo gửi ngày %(sent)s (sau hạn)") % {
        "date": start,
        "sent": formatting.date_text(timezone.localtime(o.plan_notice).date()),
    }


# --- minutes not adopted in time --------------------------------------------------------------


def _minutes_of(meetings, *, scope: Organisation, period: Period):
    """The warning's meetings of ``scope``'s tree counted for ``period`` (the records and the next due moment)."""
    return meetings.filter(
        organisation__path__startswith=scope.path, period_month__gte=period.start, period_month__lte=period.end
    )


def _minutes_overdue_records(*, scope: Organisation, period: Period, today: datetime.date):
    return (
        _minutes_of(indicators.minutes_overdue(now=timezone.now()), scope=scope, period=period)
        .select_related("organisation")
        .order_by("ended_at", "pk")
    )


def minutes_overdue_grows_at(
    *, scope: Organisation, period: Period, now: datetime.datetime
) -> datetime.datetime | None:
    """The next moment the "minutes not adopted in time" warning grows by the clock alone (no write):
    the earliest due moment still ahead among the meetings it counts. None: no such moment. The
    dashboards' cache keeps their figures no longer than this (reports.datacache)."""
    first = (
        _minutes_of(indicators.minutes_not_yet_overdue(now=now), scope=scope, period=period)
        .order_by()
        .aggregate(first=Min("ended_at"))["first"]
    )
    return None if first is None else first + indicators.MINUTES_DUE


def _minutes_overdue_label(period: Period, today: datetime.date) -> str:
    return _("Buổi sinh hoạt quá %(days)s ngày chưa thông qua biên bản (%(period)s)") % {
        "days": indicators.MINUTES_DUE.days,
        "period": period.as_of(today),
    }


# --- attendance -------------------------------------------------------------------------------


def _attendance_warning_counts(*, scope: Organisation, period: Period, today: datetime.date) -> dict[str, int]:
    """The two attendance warnings in one query over the monthly rollups (reports.rollups)."""
    return rollups.attendance_warning_counts(scope=scope, period=period)


def _attendance_warning_counts_from_records(*, scope: Organisation, period: Period) -> dict[str, int]:
    """The same, over the meetings' stored counts (no attendance row): the rollups' reference."""
    counts = _attendance_held(scope, period).aggregate(
        low_attendance=Count("pk", filter=indicators.attendance_target_q(met=False)),
        unexcused=Sum("attendance_unexcused"),
    )
    return {kind: count or 0 for kind, count in counts.items()}


def _low_attendance_records(*, scope: Organisation, period: Period, today: datetime.date):
    return (
        attendance_meetings(scope, period)
        .filter(indicators.attendance_target_q(met=False))
        .select_related("organisation")
        .order_by("period_month", "organisation__path")
    )


def _low_attendance_label(period: Period, today: datetime.date) -> str:
    return _("Buổi sinh hoạt không đạt trên %(target)s %% đảng viên dự (%(period)s)") % {
        "target": ATTENDANCE_TARGET,
        "period": period.as_of(today),
    }


def _unexcused_records(*, scope: Organisation, period: Period, today: datetime.date):
    return (
        Attendance.objects.filter(
            meeting__in=_attendance_held(scope, period), presence=Attendance.Presence.ABSENT_UNEXCUSED
        )
        .select_related("member", "meeting", "meeting__organisation")
        .order_by("meeting__period_month", "member__full_name")
    )


def _unexcused_label(period: Period, today: datetime.date) -> str:
    return _("Lượt vắng không lý do (%(period)s)") % {"period": period.as_of(today)}


# --- tasks, visits, dues ----------------------------------------------------------------------


def _overdue_tasks_records(*, scope: Organisation, period: Period, today: datetime.date):
    """The open tasks of the meetings of the scope's cells active in the period, due within the period
    and before today (meetings.indicators.task_overdue_q): what ``_overdue_tasks_count`` counts."""
    return (
        Task.objects.filter(
            indicators.task_overdue_q(today=today),
            _active_in(period, "meeting__organisation__"),
            meeting__organisation__path__startswith=scope.path,
            meeting__organisation__kind__in=Organisation.CELL_KINDS,
            due_date__gte=period.start,
            due_date__lte=period.end,
        )
        .select_related("meeting", "meeting__organisation")
        .order_by("due_date", "pk")
    )


def _overdue_tasks_count(*, scope: Organisation, period: Period, today: datetime.date) -> dict[str, int]:
    """The warning's count from the monthly rollups' open tasks by due day (reports.rollups)."""
    return {"overdue_tasks": rollups.overdue_tasks_count(scope=scope, period=period, today=today)}


def _overdue_tasks_label(period: Period, today: datetime.date) -> str:
    return _("Nhiệm vụ quá hạn chưa hoàn thành (hạn trong %(period)s)") % {"period": period.as_of(today)}


def _no_visit_records(*, scope: Organisation, period: Period, today: datetime.date):
    quarter = period.checked_quarter(today)
    if quarter is None:
        return Organisation.objects.none()
    return indicators.cells_without_visit(quarter=quarter, within=scope).select_related("parent").order_by("path")


def _no_visit_label(period: Period, today: datetime.date) -> str:
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


def _unpaid_dues_records(*, scope: Organisation, period: Period, today: datetime.date):
    return members_with_unpaid_months(organisations=cells_in(scope, period), year=period.year)


def _unpaid_dues_count(*, scope: Organisation, period: Period, today: datetime.date) -> dict[str, int]:
    return {"unpaid_dues": count_members_with_unpaid_months(organisations=cells_in(scope, period), year=period.year)}


def _unpaid_dues_label(period: Period, today: datetime.date) -> str:
    return _("Đảng viên chưa nộp đảng phí từ %(months)s tháng trở lên trong năm %(year)s") % {
        "months": indicators.UNPAID_DUES_MONTHS,
        "year": period.year,
    }


# --- the warnings, in the order of the dashboard -----------------------------------------------

register_warning(
    EarlyWarning(
        "no_plan",
        _no_plan_label,
        _no_plan_records,
        (gettext_lazy("Chi bộ"), gettext_lazy("Cấp trên"), gettext_lazy("Tình trạng")),
        lambda o: [cell_meetings_link(o), parent_name(o), _plan_text(o)],
    )
)
register_warning(
    EarlyWarning(
        "minutes_overdue",
        _minutes_overdue_label,
        _minutes_overdue_records,
        (gettext_lazy("Buổi sinh hoạt"), gettext_lazy("Chi bộ"), gettext_lazy("Họp lúc")),
        lambda m: [meeting_link(m), m.organisation.name, timezone.localtime(m.actual_start)],
    )
)
register_warning(
    EarlyWarning(
        "low_attendance",
        _low_attendance_label,
        _low_attendance_records,
        ATTENDANCE_COLUMNS,
        attendance_row,
        count=_attendance_warning_counts,
    )
)
register_warning(
    EarlyWarning(
        "unexcused",
        _unexcused_label,
        _unexcused_records,
        (gettext_lazy("Đảng viên"), gettext_lazy("Buổi sinh hoạt"), gettext_lazy("Chi bộ")),
        lambda a: [member_link(a.member), meeting_link(a.meeting), a.meeting.organisation.name],
        count=_attendance_warning_counts,
    )
)
register_warning(
    EarlyWarning(
        "overdue_tasks",
        _overdue_tasks_label,
        _overdue_tasks_records,
        (gettext_lazy("Nhiệm vụ"), gettext_lazy("Buổi sinh hoạt"), gettext_lazy("Chi bộ"), gettext_lazy("Thời hạn")),
        lambda t: [t.description[:120], meeting_link(t.meeting), t.meeting.organisation.name, t.due_date],
        count=_overdue_tasks_count,
    )
)
register_warning(
    EarlyWarning(
        "no_visit",
        _no_visit_label,
        _no_visit_records,
        (gettext_lazy("Chi bộ"), gettext_lazy("Cấp trên")),
        lambda o: [cell_meetings_link(o), parent_name(o)],
    )
)
register_warning(
    EarlyWarning(
        "unpaid_dues",
        _unpaid_dues_label,
        _unpaid_dues_records,
        (
            gettext_lazy("Đảng viên"),
            gettext_lazy("Chi bộ"),
            gettext_lazy("Số tháng chưa nộp đủ"),
            gettext_lazy("Số tiền còn thiếu (đồng)"),
        ),
        lambda m: [
            member_link(m),
            m.organisation.name if m.organisation_id else "",
            m.unpaid_months,
            fmt_int(m.unpaid_amount),
        ],
        count=_unpaid_dues_count,
    )
)


def __getattr__(name: str):
    # The codes of the warnings registered now (a test may add one).
    if name == "WARNING_CODES":
        return tuple(WARNINGS)
    raise AttributeError(name)


def _warning(kind: str) -> EarlyWarning:
    try:
        return WARNINGS[kind]
    except KeyError:
        raise Http404 from None


def warning_records(kind: str, *, scope: Organisation, period: Period, today: datetime.date | None = None):
    """The records behind one early warning (a queryset, never evaluated here), for the period
    ``warning_label`` names."""
    return _warning(kind).records(scope=scope, period=period, today=today or timezone.localdate())


def warning_label(kind: str, *, period: Period, today: datetime.date) -> str:
    """The warning's words, naming the month, quarter or year it checks and the day it is read."""
    return _warning(kind).label(period, today)


def warnings(*, scope: Organisation, period: Period, today: datetime.date | None = None) -> list[dict]:
    """Each registered early warning with its count and its label: one COUNT query each, or one for the
    warnings a shared ``count`` counts together (the two attendance warnings)."""
    today = today or timezone.localdate()
    counted: dict[str, int] = {}
    counters = dict.fromkeys(w.count for w in WARNINGS.values() if w.count is not None)
    for counter in counters:
        counted.update(counter(scope=scope, period=period, today=today))
    return [
        {
            "code": code,
            "label": warning.label(period, today),
            "count": counted[code]
            if code in counted
            else warning.records(scope=scope, period=period, today=today).count(),
        }
        for code, warning in WARNINGS.items()
    ]
