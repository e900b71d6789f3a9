"""What each role must do next (issue #15): the member's and the secretary's home pages.

Reads only: every figure comes from meetings.indicators (the same definitions as the dashboards) and the
cells and meetings selectors; the pages link each item to the page that completes it.
"""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import Member, Notification, Organisation
from cells.selectors import members_with_unpaid_months, required_documents_of_cell
from lib.dates import add_months
from lib.formatting import date_text

from . import indicators
from .models import AbsenceRequest, Attendance, Meeting, Resolution, Task
from .selectors import absence_requests_of, materials_for_member, tasks_of_member


def member_home(*, member: Member, now: datetime.datetime | None = None) -> dict:
    """The member's next meetings with their answer, open tasks, the cell's newest conclusions, unread notices."""
    now = now or timezone.now()
    upcoming = list(
        Attendance.objects.filter(member=member, meeting__state=Meeting.State.NOTIFIED, meeting__planned_start__gt=now)
        .exclude(presence=Attendance.Presence.EXEMPT)
        .select_related("meeting", "meeting__organisation")
        .order_by("meeting__planned_start")[:3]
    )
    for attendance in upcoming:
        attendance.documents = list(attendance.meeting.documents.order_by("pk")[:5])
    tasks = [t for t in tasks_of_member(member=member) if t.status == Task.Status.OPEN][:10]
    conclusions = []
    if member.organisation_id:
        # The cell's own conclusions, not the chi ủy's internal ones.
        conclusions = list(
            Resolution.objects.filter(
                meeting__organisation_id=member.organisation_id, meeting__state=Meeting.State.MINUTES_ADOPTED
            )
            .exclude(meeting__kind=Meeting.Kind.COMMITTEE)
            .select_related("meeting")
            .order_by("-adopted_at", "-pk")[:3]
        )
    unread = Notification.objects.filter(
        Q(member=member) | Q(recipient_id=member.user_id), read_at__isnull=True
    ).order_by("-created_at", "-pk")
    today = timezone.localdate(now)
    return {
        "upcoming": upcoming,
        "tasks": tasks,
        "today": today,
        # The upper level's materials of this month for the member's cell (issue #17 item 5).
        "materials": materials_for_member(member=member, month=today.replace(day=1)),
        "conclusions": conclusions,
        "unread": list(unread[:5]),
        "unread_count": unread.count(),
    }


def _step(label: str, state: str, detail: str = "", url: str = "", action: str = "", action_label: str = "") -> dict:
    """One line of the checklist: ``state`` is "done", "todo" (to do now), "late" or "wait" (nothing to do yet);
    ``action`` a POST that does the step at once, labelled ``action_label``."""
    return {
        "label": label,
        "state": state,
        "detail": detail,
        "url": url,
        "action": action,
        "action_label": action_label or (_("Nhắc người chưa trả lời") if action else ""),
    }


def secretary_home(*, cell: Organisation, now: datetime.datetime | None = None) -> dict:
    """This month's regular meeting as a checklist of its steps, and what else the cell owes."""
    from django.urls import reverse

    now = now or timezone.now()
    today = timezone.localdate(now)
    month = today.replace(day=1)
    meeting = indicators.regular_meetings_of(month).filter(organisation=cell).select_related("organisation").first()
    deadline = indicators.planning_deadline_day(month)
    steps = []
    if meeting is None:
        state = "late" if indicators.planning_deadline_passed(month, today) else "todo"
        steps.append(
            _step(
                _("Lập kế hoạch sinh hoạt thường kỳ tháng này"),
                state,
                _("Hạn lập kế hoạch và gửi thông báo: %(date)s") % {"date": date_text(deadline)},
                reverse("meetings:create", args=[cell.pk]),
            )
        )
    else:
        detail_url = reverse("meetings:detail", args=[meeting.pk])
        start = timezone.localtime(meeting.planned_start)
        steps.append(
            _step(
                _("Lập kế hoạch"),
                "done",
                _("Họp lúc %(time)s ngày %(date)s") % {"time": f"{start:%H:%M}", "date": f"{start:%d/%m/%Y}"},
                detail_url,
            )
        )
        if meeting.notice_sent_at:
            sent = timezone.localtime(meeting.notice_sent_at)
            steps.append(
                _step(_("Gửi thông báo"), "done", _("Đã gửi ngày %(date)s") % {"date": f"{sent:%d/%m/%Y}"}, detail_url)
            )
        else:
            steps.append(
                _step(
                    _("Gửi thông báo cho đảng viên"),
                    "late" if indicators.planning_deadline_passed(month, today) else "todo",
                    _("Hạn: %(date)s") % {"date": date_text(deadline)},
                    reverse("meetings:publish", args=[meeting.pk]),
                )
            )
        rows = list(meeting.attendances.select_related("member").exclude(presence__in=Attendance.OUTSIDE_BASE_VALUES))
        if meeting.state == Meeting.State.NOTIFIED:
            silent = [a.member.full_name for a in rows if a.rsvp == Attendance.Rsvp.NONE]
            yes = sum(a.rsvp == Attendance.Rsvp.YES for a in rows)
            no = sum(a.rsvp == Attendance.Rsvp.NO for a in rows)
            detail = _("Tham dự %(yes)s, báo vắng %(no)s, chưa trả lời %(none)s") % {
                "yes": yes,
                "no": no,
                "none": len(silent),
            }
            if silent:
                detail += ": " + ", ".join(silent)
            steps.append(
                _step(
                    _("Đảng viên xác nhận tham dự"),
                    "todo" if silent else "done",
                    detail,
                    detail_url,
                    action=reverse("meetings:remind_rsvp", args=[meeting.pk]) if silent else "",
                )
            )
        pending = [r.member.full_name for r in absence_requests_of(meeting).filter(state=AbsenceRequest.State.PENDING)]
        if pending:
            steps.append(
                _step(
                    _("Trả lời đơn xin vắng"),
                    "todo",
                    ", ".join(pending),
                    detail_url + "#xin-vang",
                )
            )
        held = meeting.state in indicators.HELD_STATES
        if not held:
            state = "todo" if meeting.planned_start <= now else "wait"
            steps.append(
                _step(
                    _("Ghi nhận buổi sinh hoạt đã họp (giờ thực tế)"),
                    state,
                    "",
                    reverse("meetings:held", args=[meeting.pk]),
                )
            )
        else:
            blank = sum(a.presence == Attendance.Presence.BLANK for a in rows)
            steps.append(
                _step(
                    _("Điểm danh"),
                    "todo" if blank else "done",
                    _("Còn %(count)s đảng viên chưa điểm danh") % {"count": blank} if blank else _("Đã điểm danh đủ"),
                    reverse("meetings:attendance", args=[meeting.pk]),
                )
            )
            if meeting.state == Meeting.State.MINUTES_ADOPTED:
                steps.append(
                    _step(
                        _("Thông qua biên bản"),
                        "done",
                        _("Số %(ref)s") % {"ref": meeting.minutes_reference},
                        reverse("meetings:minutes", args=[meeting.pk]),
                    )
                )
                if meeting.reported_up_at:
                    steps.append(
                        _step(
                            _("Báo cáo cấp trên"),
                            "done",
                            _("Đã gửi ngày %(date)s")
                            % {"date": f"{timezone.localtime(meeting.reported_up_at):%d/%m/%Y}"},
                            reverse("meetings:detail", args=[meeting.pk]),
                        )
                    )
                else:
                    due = timezone.localtime(indicators.report_up_due_at(meeting))
                    steps.append(
                        _step(
                            _("Báo cáo cấp trên"),
                            "late" if now > due else "todo",
                            _("Hạn: %(time)s ngày %(date)s") % {"time": f"{due:%H:%M}", "date": f"{due:%d/%m/%Y}"},
                            reverse("meetings:detail", args=[meeting.pk]),
                            action=reverse("meetings:report_upward", args=[meeting.pk]),
                            action_label=_("Gửi báo cáo cấp trên"),
                        )
                    )
            else:
                due = timezone.localtime(indicators.minutes_due_at(meeting))
                steps.append(
                    _step(
                        _("Hoàn thiện và thông qua biên bản"),
                        "late" if now > due else "todo",
                        _("Hạn: %(time)s ngày %(date)s") % {"time": f"{due:%H:%M}", "date": f"{due:%d/%m/%Y}"},
                        reverse("meetings:adopt", args=[meeting.pk]),
                    )
                )
    following = add_months(month, 1)
    next_meeting = indicators.regular_meetings_of(following).filter(organisation=cell).first()
    next_deadline = indicators.planning_deadline_day(following)
    overdue = (
        Task.objects.filter(indicators.task_overdue_q(today=today), meeting__organisation=cell)
        .select_related("meeting")
        .prefetch_related("assignees")
        .order_by("due_date", "pk")
    )
    unpaid = list(members_with_unpaid_months(organisations=Organisation.objects.filter(pk=cell.pk), year=today.year))
    missing = [t for t in required_documents_of_cell(cell=cell, year=today.year, on=today) if t.document_id is None]
    return {
        "cell": cell,
        "month": month,
        "meeting": meeting,
        "steps": steps,
        "next_month": following,
        "next_meeting": next_meeting,
        "next_deadline": next_deadline,
        "overdue_tasks": list(overdue[:10]),
        "overdue_count": overdue.count(),
        "unpaid": unpaid[:10],
        "unpaid_count": len(unpaid),
        "missing_documents": missing,
    }
