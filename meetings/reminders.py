"""The reminder rules (issue #6): who is reminded of what, and when; and the run that sends them.

Each rule is a generator ``rule_fn(rule, *, today, now)`` yielding ``Reminder`` groups: one object
(a meeting, a task, a cell), one occurrence (``3d``, ``2026-11``, ``2026-Q4`` …), its recipients and
the text. ``reminder_rule_run`` claims one ``ReminderDelivery`` per recipient with
``INSERT … ON CONFLICT DO NOTHING`` and writes the inbox row in the same transaction, so a rule
run twice (two beat processes, a retried task, a worker killed mid-batch) never sends twice.
E-mail leaves through the cells outbox (``Notification`` rows, one e-mail per person).

When each rule fires is data (``ReminderRule.params``), edited by the Khối admin; what it checks —
the planning deadline, minutes overdue, an upper-level visit, unpaid dues — and its thresholds are the
indicators' (``meetings/indicators.py``), so a reminder never disagrees with the dashboards.
"""

import datetime
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Trim
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import Member, Notification, Organisation, Position
from cells.selectors import members_with_unpaid_months
from cells.services import notification_send
from lib.dates import add_months, day_bounds, quarter_bounds, quarter_number
from lib.formatting import date_text, money, time_and_day

from . import indicators, selectors
from .models import Attendance, Meeting, PlannedTopic, ReminderDelivery, ReminderRule, Task, TopicKind, VisitAssignment

logger = logging.getLogger(__name__)

BATCH_SIZE = 500  # the default of REMINDER_BATCH_SIZE


@dataclass
class Reminder:
    """One reminder about one object, for one occurrence, to several people (one message each)."""

    object_type: str
    object_id: int
    occurrence: str
    members: list
    subject: str
    body: str
    url: str = ""
    organisation: Organisation | None = None
    body_for: Callable | None = field(default=None, repr=False)


# --- formatting -----------------------------------------------------------------------------


def _greeting(member: Member) -> str:
    return _("Kính gửi đồng chí %(name)s,") % {"name": member.full_name}


def _meeting_lines(meeting: Meeting) -> list[str]:
    lines = [
        _("Thời gian: %(start)s, kết thúc dự kiến %(end)s")
        % {
            "start": time_and_day(meeting.planned_start),
            "end": timezone.localtime(meeting.planned_end).strftime("%H:%M"),
        },
        _("Địa điểm: %(place)s") % {"place": meeting.place or "—"},
        _("Hình thức: %(mode)s") % {"mode": meeting.get_mode_display()},
    ]
    if meeting.online_link:
        lines.append(_("Đường dẫn họp trực tuyến: %(link)s") % {"link": meeting.online_link})
    if meeting.topic:
        lines.append(_("Chủ đề: %(topic)s") % {"topic": meeting.topic})
    return lines


def _signature() -> str:
    return _("Thư này do Cổng sinh hoạt chi bộ gửi tự động, mỗi đồng chí nhận một thư riêng.")


# --- who holds which position ---------------------------------------------------------------


def _active_on(day: datetime.date) -> Q:
    return Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gte=day))


def secretaries_of(*, cell_ids, on: datetime.date) -> dict[int, list[Member]]:
    """The bí thư of each cell on ``on``; where there is none, the phó bí thư (one query)."""
    positions = (
        Position.objects.filter(
            _active_on(on),
            organisation_id__in=list(cell_ids),
            kind__in=[Position.Kind.SECRETARY, Position.Kind.DEPUTY_SECRETARY],
        )
        .select_related("member")
        .order_by("organisation_id", "kind", "pk")
    )
    secretaries: dict[int, list[Member]] = {}
    deputies: dict[int, list[Member]] = {}
    for position in positions:
        target = secretaries if position.kind == Position.Kind.SECRETARY else deputies
        target.setdefault(position.organisation_id, []).append(position.member)
    return {
        cell_id: secretaries.get(cell_id) or deputies.get(cell_id, []) for cell_id in set(secretaries) | set(deputies)
    }


def _active_cells(today: datetime.date):
    return Organisation.objects.filter(kind__in=Organisation.CELL_KINDS).filter(
        Q(active_from__isnull=True) | Q(active_from__lte=today), Q(active_to__isnull=True) | Q(active_to__gte=today)
    )


# --- the rules ------------------------------------------------------------------------------


def rule_rsvp_missing(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """Members who have not answered a meeting notice, ``days_before`` days before the meeting."""
    from .services import rsvp_url_for

    unopened_days = notice_unopened_days()
    for days in rule.params.get("days_before", [3, 1]):
        start, end = day_bounds(today + datetime.timedelta(days=days))
        meetings = Meeting.objects.filter(
            state=Meeting.State.NOTIFIED, planned_start__gte=start, planned_start__lt=end, planned_start__gt=now
        ).select_related("organisation")
        for meeting in meetings:
            silent = selectors.rsvp_silent(meeting)
            if days == unopened_days:
                # On the day of the "notice not opened" reminder, those who never opened it get that one only.
                silent = silent.exclude(pk__in=selectors.notice_unopened(meeting).values("pk"))
            members = [a.member for a in silent.select_related("member")]
            kind = meeting.get_kind_display().lower()
            subject = _("Nhắc xác nhận tham dự: %(kind)s %(when)s") % {
                "kind": kind,
                "when": time_and_day(meeting.planned_start),
            }
            # The text is the same for everyone but the greeting and the personal link: made once per meeting.
            middle = "\n".join(
                [
                    "",
                    "",
                    _("%(cell)s sẽ tổ chức %(kind)s sau %(days)s ngày. Đồng chí chưa xác nhận tham dự.")
                    % {"cell": meeting.organisation.name, "kind": kind, "days": days},
                    "",
                    *_meeting_lines(meeting),
                    "",
                    "",
                ]
            )
            link = _("Xác nhận tham dự hoặc báo vắng (không cần đăng nhập): %(url)s")
            ending = "\n\n" + _signature()
            url_for = rsvp_url_for(meeting)

            def body_for(member, middle=middle, link=link, ending=ending, url_for=url_for):
                return _greeting(member) + middle + link % {"url": url_for(member)} + ending

            yield Reminder(
                "meeting",
                meeting.pk,
                f"{days}d",
                members,
                subject,
                "",
                organisation=meeting.organisation,
                url=reverse("meetings:detail", args=[meeting.pk]),
                body_for=body_for,
            )


def notice_unopened_days() -> int | None:
    """How many days before the meeting ``notice_unopened`` fires, or None when that rule is off."""
    rule = ReminderRule.objects.filter(code="notice_unopened", enabled=True).only("params").first()
    return int(rule.params.get("days_before", 1)) if rule is not None else None


def rule_notice_unopened(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """Members who have not opened a meeting's notice (selectors.notice_unopened: not viewed its link or the
    meeting's page, not answered, not asked to be excused) ``days_before`` local days before the meeting
    (1: the day before, in Asia/Ho_Chi_Minh): one reminder per member and meeting, whatever the runs.
    The day is the Khối's requirement (issue #17 item 6); no Party document sets when a cell reminds."""
    from .services import rsvp_url

    days = int(rule.params.get("days_before", 1))
    start, end = day_bounds(today + datetime.timedelta(days=days))
    meetings = Meeting.objects.filter(
        state=Meeting.State.NOTIFIED, planned_start__gte=start, planned_start__lt=end, planned_start__gt=now
    ).select_related("organisation")
    for meeting in meetings.order_by("planned_start", "pk"):
        members = [a.member for a in selectors.notice_unopened(meeting).select_related("member")]
        subject = _("Đồng chí chưa xem thông báo sinh hoạt: %(kind)s %(when)s") % {
            "kind": meeting.get_kind_display().lower(),
            "when": time_and_day(meeting.planned_start),
        }
        lines = _meeting_lines(meeting)

        def body_for(member, meeting=meeting, lines=lines):
            return "\n".join(
                [
                    _greeting(member),
                    "",
                    _(
                        "%(cell)s sẽ tổ chức %(kind)s vào ngày mai. Đồng chí chưa mở thông báo, chưa xác nhận tham dự "
                        "và chưa xin vắng."
                    )
                    % {"cell": meeting.organisation.name, "kind": meeting.get_kind_display().lower()},
                    "",
                    *lines,
                    "",
                    _("Xem thông báo, tài liệu và xác nhận tham dự (không cần đăng nhập): %(url)s")
                    % {"url": rsvp_url(meeting=meeting, member=member)},
                    "",
                    _signature(),
                ]
            )

        yield Reminder(
            "meeting",
            meeting.pk,
            "",
            members,
            subject,
            "",
            organisation=meeting.organisation,
            url=reverse("meetings:detail", args=[meeting.pk]),
            body_for=body_for,
        )


def rule_decline_without_reason(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """Members who declined an upcoming meeting without giving a reason: once per meeting."""
    from .services import rsvp_url

    blank_reason = Attendance.objects.annotate(reason=Trim("rsvp_reason")).filter(
        meeting=OuterRef("pk"), rsvp=Attendance.Rsvp.NO, reason=""
    )
    meetings = (
        Meeting.objects.filter(state=Meeting.State.NOTIFIED, planned_start__gt=now)
        .filter(Exists(blank_reason))
        .select_related("organisation")
    )
    for meeting in meetings:
        members = [
            a.member
            for a in meeting.attendances.annotate(reason=Trim("rsvp_reason"))
            .filter(rsvp=Attendance.Rsvp.NO, reason="")
            .select_related("member")
        ]
        lines = _meeting_lines(meeting)

        def body_for(member, meeting=meeting, lines=lines):
            return "\n".join(
                [
                    _greeting(member),
                    "",
                    _(
                        "Đồng chí đã báo vắng %(kind)s của %(cell)s nhưng chưa ghi lý do. Đề nghị đồng chí bổ sung lý do "
                        "vắng để chi bộ ghi vào biên bản."
                    )
                    % {"kind": meeting.get_kind_display().lower(), "cell": meeting.organisation.name},
                    "",
                    *lines,
                    "",
                    _("Ghi lý do hoặc xác nhận lại (không cần đăng nhập): %(url)s")
                    % {"url": rsvp_url(meeting=meeting, member=member)},
                    "",
                    _signature(),
                ]
            )

        subject = _("Đề nghị ghi lý do vắng: %(kind)s %(when)s") % {
            "kind": meeting.get_kind_display().lower(),
            "when": time_and_day(meeting.planned_start),
        }
        yield Reminder(
            "meeting",
            meeting.pk,
            "",
            members,
            subject,
            "",
            organisation=meeting.organisation,
            url=reverse("meetings:detail", args=[meeting.pk]),
            body_for=body_for,
        )


def rule_regular_meeting_unplanned(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """The secretary, from ``days_before_deadline`` days before the planning deadline of the month
    (indicators.PLANNING_DEADLINE_DAY) to the month's end, while the month's regular meeting is not
    planned (no notice sent, not held): indicators.cells_without_plan, read as of ``now``."""
    month = today.replace(day=1)
    deadline_day = indicators.planning_deadline_day(month)
    if today < deadline_day - datetime.timedelta(days=int(rule.params.get("days_before_deadline", 0))):
        return
    cells = list(indicators.cells_without_plan(month=month, today=today, by=now).order_by("pk"))
    secretaries = secretaries_of(cell_ids=[cell.pk for cell in cells], on=today)
    label = month.strftime("%m/%Y")
    for cell in cells:
        subject = _("Chưa lập kế hoạch sinh hoạt thường kỳ tháng %(month)s") % {"month": label}
        body = "\n".join(
            [
                _(
                    "Đến ngày %(date)s, %(cell)s chưa có kế hoạch buổi sinh hoạt thường kỳ tháng %(month)s (hạn lập kế "
                    "hoạch và gửi thông báo: ngày %(deadline)s). Đề nghị đồng chí lập kế hoạch và gửi thông báo cho đảng "
                    "viên."
                )
                % {"date": date_text(today), "cell": cell.name, "month": label, "deadline": date_text(deadline_day)},
                "",
                _signature(),
            ]
        )
        yield Reminder(
            "organisation",
            cell.pk,
            month.strftime("%Y-%m"),
            secretaries.get(cell.pk, []),
            subject,
            body,
            organisation=cell,
            url=reverse("meetings:cell_list", args=[cell.pk]),
            body_for=lambda member, body=body: _greeting(member) + "\n\n" + body,
        )


def rule_minutes_not_adopted(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """The clerk and the secretary, once a meeting's minutes are overdue (indicators.minutes_overdue:
    ``MINUTES_DUE`` after its end), for meetings of the last ``max_days_after`` days."""
    days_after = indicators.MINUTES_DUE.days
    lookback = int(rule.params.get("max_days_after", 60))
    meetings = list(
        indicators.minutes_overdue(now=now)
        .filter(ended_at__gte=now - datetime.timedelta(days=lookback))
        .select_related("organisation", "clerk")
        .order_by("pk")
    )
    secretaries = secretaries_of(cell_ids={m.organisation_id for m in meetings}, on=today)
    for meeting in meetings:
        recipients = ([meeting.clerk] if meeting.clerk else []) + secretaries.get(meeting.organisation_id, [])
        held_at = meeting.actual_start or meeting.planned_start
        subject = _("Biên bản chưa được thông qua: %(kind)s %(when)s") % {
            "kind": meeting.get_kind_display().lower(),
            "when": time_and_day(held_at),
        }
        body = "\n".join(
            [
                _(
                    "Buổi %(kind)s của %(cell)s ngày %(date)s đã qua %(days)s ngày nhưng biên bản chưa được thông qua. "
                    "Đề nghị đồng chí hoàn thiện biên bản, kết luận và thông qua trên cổng."
                )
                % {
                    "kind": meeting.get_kind_display().lower(),
                    "cell": meeting.organisation.name,
                    "date": date_text(timezone.localdate(held_at)),
                    "days": days_after,
                },
                "",
                _signature(),
            ]
        )
        yield Reminder(
            "meeting",
            meeting.pk,
            f"+{days_after}d",
            recipients,
            subject,
            body,
            organisation=meeting.organisation,
            url=reverse("meetings:minutes", args=[meeting.pk]),
            body_for=lambda member, body=body: _greeting(member) + "\n\n" + body,
        )


def _open_tasks():
    return (
        Task.objects.filter(status=Task.Status.OPEN)
        .exclude(meeting__state=Meeting.State.CANCELLED)
        .select_related("meeting", "meeting__organisation")
    )


def _task_reminder(task: Task, occurrence: str, subject: str, intro: str) -> Reminder:
    members = list(task.assignees.all())
    body = "\n".join(
        [
            intro,
            "",
            _("Nhiệm vụ: %(text)s") % {"text": task.description},
            _("Thời hạn: %(date)s") % {"date": date_text(task.due_date)},
            _("Giao tại buổi sinh hoạt ngày %(date)s của %(cell)s.")
            % {
                "date": date_text(timezone.localdate(task.meeting.planned_start)),
                "cell": task.meeting.organisation.name,
            },
            "",
            _signature(),
        ]
    )
    return Reminder(
        "task",
        task.pk,
        occurrence,
        members,
        subject,
        body,
        organisation=task.meeting.organisation,
        url=reverse("meetings:my_tasks"),
        body_for=lambda member: _greeting(member) + "\n\n" + body,
    )


def rule_task_due_soon(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """Assignees of open tasks due in ``days_before`` days."""
    days = int(rule.params.get("days_before", 3))
    due = today + datetime.timedelta(days=days)
    for task in _open_tasks().filter(due_date=due).prefetch_related("assignees").order_by("pk"):
        yield _task_reminder(
            task,
            f"{days}d",
            _("Nhiệm vụ đến hạn ngày %(date)s") % {"date": date_text(due)},
            _("Nhiệm vụ đồng chí được giao sẽ đến hạn sau %(days)s ngày.") % {"days": days},
        )


def rule_task_overdue(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """Assignees of open tasks past their due date: once per task (within ``max_days_overdue``)."""
    lookback = today - datetime.timedelta(days=int(rule.params.get("max_days_overdue", 60)))
    tasks = _open_tasks().filter(due_date__lt=today, due_date__gte=lookback).prefetch_related("assignees")
    for task in tasks.order_by("pk"):
        yield _task_reminder(
            task,
            "overdue",
            _("Nhiệm vụ đã quá hạn (hạn %(date)s)") % {"date": date_text(task.due_date)},
            _("Nhiệm vụ đồng chí được giao đã quá hạn mà chưa báo cáo hoàn thành."),
        )


def quarter_of(day: datetime.date) -> tuple[datetime.date, datetime.date, str]:
    start, end = quarter_bounds(day)
    return start, end, f"{day.year}-Q{quarter_number(day)}"


def rule_supervisor_no_visit(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """The đảng ủy viên in charge of a cell with no upper-level visit this quarter
    (indicators.cells_without_visit), in the quarter's last month from its ``from_day``-th."""
    if today.month % 3 != 0 or today.day < int(rule.params.get("from_day", 1)):
        return
    start, end, label = quarter_of(today)
    cells = {cell.pk: cell for cell in indicators.cells_without_visit(quarter=start)}
    positions = (
        Position.objects.filter(_active_on(today), organisation_id__in=list(cells), kind=Position.Kind.SUPERVISOR)
        .select_related("member")
        .order_by("organisation_id", "pk")
    )
    supervisors: dict[int, list[Member]] = {}
    for position in positions:
        supervisors.setdefault(position.organisation_id, []).append(position.member)
    quarter = label.split("-Q")[1]
    for cell_id, members in supervisors.items():
        cell = cells[cell_id]
        subject = _("Chưa dự sinh hoạt tại %(cell)s trong quý %(quarter)s") % {"cell": cell.name, "quarter": quarter}
        body = "\n".join(
            [
                _(
                    "Từ ngày %(start)s đến nay chưa có đồng chí cấp ủy cấp trên dự sinh hoạt tại %(cell)s. Theo chỉ tiêu, "
                    "mỗi chi bộ được cấp ủy cấp trên dự sinh hoạt ít nhất một lần mỗi quý (quý kết thúc ngày %(end)s)."
                )
                % {"start": date_text(start), "cell": cell.name, "end": date_text(end)},
                "",
                _signature(),
            ]
        )
        yield Reminder(
            "organisation",
            cell_id,
            label,
            members,
            subject,
            body,
            organisation=cell,
            url=reverse("meetings:cell_list", args=[cell_id]),
            body_for=lambda member, body=body: _greeting(member) + "\n\n" + body,
        )


def rule_dues_unpaid(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """The secretary about members with indicators.UNPAID_DUES_MONTHS or more unpaid months of dues this
    year (the dashboards' warning): monthly."""
    months = indicators.UNPAID_DUES_MONTHS
    cells = _active_cells(today)
    late: dict[int, list[Member]] = {}
    for member in members_with_unpaid_months(organisations=cells, year=today.year).filter(
        state=Member.State.ACTIVE, organisation__isnull=False
    ):
        late.setdefault(member.organisation_id, []).append(member)
    secretaries = secretaries_of(cell_ids=list(late), on=today)
    for cell_id, members in sorted(late.items()):
        cell = members[0].organisation
        subject = _("Đảng viên chưa nộp đảng phí từ %(months)s tháng trở lên") % {"months": months}
        body = "\n".join(
            [
                _(
                    "Các đảng viên sau của %(cell)s chưa nộp đủ đảng phí từ %(months)s tháng trở lên trong năm %(year)s "
                    "(tính đến ngày %(date)s):"
                )
                % {"cell": cell.name, "months": months, "year": today.year, "date": date_text(today)},
                *[
                    _("- %(name)s: %(count)s tháng, còn thiếu %(amount)s")
                    % {"name": m.full_name, "count": m.unpaid_months, "amount": money(m.unpaid_amount)}
                    for m in members
                ],
                "",
                _signature(),
            ]
        )
        yield Reminder(
            "organisation",
            cell_id,
            today.strftime("%Y-%m"),
            secretaries.get(cell_id, []),
            subject,
            body,
            organisation=cell,
            url=reverse("books:books_index"),
            body_for=lambda member, body=body: _greeting(member) + "\n\n" + body,
        )


# The reminder about a planned topic with no meeting yet starts six weeks (42 days) before the quarter's
# last day. The number is the Khối's own requirement, written in issue #18 ("a reminder to the drafter
# and the bí thư when a quarter has a planned topic and no meeting scheduled six weeks before the
# quarter ends"); domain-research.md gives no Party document that sets a time for it.
THEMATIC_PLAN_WARNING_DAYS = 42


def thematic_plan_window_start(quarter_last_day: datetime.date) -> datetime.date:
    """The first day of the reminder's window: ``THEMATIC_PLAN_WARNING_DAYS`` before the quarter's last day
    (19/11 for a quarter ending on 31/12)."""
    return quarter_last_day - datetime.timedelta(days=THEMATIC_PLAN_WARNING_DAYS)


def rule_thematic_plan_unscheduled(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """The drafter and the bí thư of each topic planned for this quarter's thematic meeting whose cell has
    no thematic (or combined) meeting planned or held in the quarter (indicators.thematic_scheduled_q),
    from ``THEMATIC_PLAN_WARNING_DAYS`` before the quarter's last day: once per topic and quarter."""
    start, end, label = quarter_of(today)
    if today < thematic_plan_window_start(end):
        return
    scheduled = Meeting.objects.filter(
        indicators.thematic_scheduled_q(first=start, last=add_months(start, 2)),
        organisation=OuterRef("organisation"),
    )
    topics = list(
        PlannedTopic.objects.filter(kind=TopicKind.THEMATIC, year=today.year, quarter=quarter_number(today))
        .filter(~Exists(scheduled), organisation__in=_active_cells(today))
        .select_related("organisation", "drafter")
        .order_by("pk")
    )
    secretaries = secretaries_of(cell_ids={topic.organisation_id for topic in topics}, on=today)
    for topic in topics:
        cell = topic.organisation
        subject = _("Chưa lên lịch sinh hoạt chuyên đề quý %(quarter)s: %(title)s") % {
            "quarter": label.split("-Q")[1],
            "title": topic.title,
        }
        due = _("hạn đề cương %(date)s") % {"date": date_text(topic.draft_due)} if topic.draft_due else ""
        body = "\n".join(
            [
                _(
                    "Kế hoạch năm %(year)s của %(cell)s có chuyên đề “%(title)s” cho quý %(quarter)s (người chuẩn bị "
                    "đề cương: %(drafter)s%(due)s), nhưng đến ngày %(date)s chi bộ chưa lên lịch buổi sinh hoạt chuyên "
                    "đề nào trong quý. Quý kết thúc ngày %(end)s; đề nghị đồng chí chuẩn bị đề cương và lập kế hoạch "
                    "buổi sinh hoạt."
                )
                % {
                    "year": topic.year,
                    "cell": cell.name,
                    "title": topic.title,
                    "quarter": label.split("-Q")[1],
                    "drafter": topic.drafter.full_name if topic.drafter else "—",
                    "due": f", {due}" if due else "",
                    "date": date_text(today),
                    "end": date_text(end),
                },
                "",
                _signature(),
            ]
        )
        yield Reminder(
            "planned_topic",
            topic.pk,
            label,
            ([topic.drafter] if topic.drafter else []) + secretaries.get(cell.pk, []),
            subject,
            body,
            organisation=cell,
            url=reverse("meetings:plan", args=[cell.pk, topic.year]),
            body_for=lambda member, body=body: _greeting(member) + "\n\n" + body,
        )


def rule_admission_step_due(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """The bí thư and the two introducers of each candidate whose current admission step is due within
    ``cells.admission.REMINDER_DAYS_BEFORE`` days (or overdue): once per step and due date."""
    from cells import admission
    from cells.selectors import candidate_rows, candidates_in_pipeline

    rows = [
        row
        for row in candidate_rows(candidates_in_pipeline().filter(organisation__in=_active_cells(today)).order_by("pk"))
        if row.current is not None and (row.due_soon(today) or row.overdue(today))
    ]
    secretaries = secretaries_of(cell_ids={row.candidate.organisation_id for row in rows}, on=today)
    for row in rows:
        candidate, step = row.candidate, row.current
        late = row.overdue(today)
        values = {
            "name": candidate.full_name,
            "step": step.label,
            "due": date_text(step.due),
            "cell": candidate.organisation.name,
            "days": admission.REMINDER_DAYS_BEFORE,
        }
        subject = (
            _("Quá hạn kết nạp: %(step)s — %(name)s (hạn %(due)s)")
            if late
            else _("Sắp đến hạn kết nạp: %(step)s — %(name)s (hạn %(due)s)")
        ) % values
        body = "\n".join(
            [
                (
                    _("Bước “%(step)s” của quần chúng %(name)s (%(cell)s) đã quá hạn ngày %(due)s.")
                    if late
                    else _("Bước “%(step)s” của quần chúng %(name)s (%(cell)s) phải xong trước ngày %(due)s.")
                )
                % values,
                _("Đề nghị đồng chí hoàn thành bước này và ghi vào cổng."),
                "",
                _signature(),
            ]
        )
        members = secretaries.get(candidate.organisation_id, []) + [candidate.mentor_1, candidate.mentor_2]
        yield Reminder(
            "candidate",
            candidate.pk,
            f"{step.code}-{step.due.isoformat()}",
            members,
            subject,
            body,
            organisation=candidate.organisation,
            url=reverse("admission:candidate_detail", args=[candidate.pk]),
            body_for=lambda member, body=body: _greeting(member) + "\n\n" + body,
        )


# The Khối's own choice, no Party source: the seed resolution (§II.5, DR §1) asks for a visit at least
# once a quarter but says nothing about reminding the visitor; the warning periods below are the Khối's.
VISIT_DAYS_BEFORE = 2  # default ``days_before``: the confirmed meeting is this many local days ahead
VISIT_QUARTER_DAYS_LEFT = 14  # default ``quarter_days_left``: the quarter ends within this many days


def _visit_reminder(assignment: VisitAssignment, occurrence: str, subject: str, body: str) -> Reminder:
    """The assigned visitor's message (inbox and e-mail), linked to their visits page."""
    return Reminder(
        "visitassignment",
        assignment.pk,
        occurrence,
        [assignment.visitor],
        subject,
        body,
        organisation=assignment.cell,
        url=reverse("meetings:my_visits"),
        body_for=lambda member, body=body: _greeting(member) + "\n\n" + body,
    )


def rule_visit_upcoming(rule: ReminderRule, *, today, now) -> Iterator[Reminder]:
    """The đảng ủy viên assigned to visit a cell (``VisitAssignment``): once when the meeting he confirmed
    is ``days_before`` local days ahead, and once when ``quarter_days_left`` days or fewer remain in the
    assignment's quarter and he has confirmed no meeting yet. A withdrawn assignment is deleted
    (``services.visit_unassign``), so it is never reminded. The Khối's own requirement, no Party source."""
    days = int(rule.params.get("days_before", VISIT_DAYS_BEFORE))
    left = int(rule.params.get("quarter_days_left", VISIT_QUARTER_DAYS_LEFT))
    start, end = day_bounds(today + datetime.timedelta(days=days))
    coming = (
        VisitAssignment.objects.filter(
            meeting__planned_start__gte=start, meeting__planned_start__lt=end, confirmed_at__isnull=False
        )
        .exclude(meeting__state=Meeting.State.CANCELLED)
        .select_related("cell", "visitor", "meeting")
        .order_by("pk")
    )
    for assignment in coming:
        meeting, cell = assignment.meeting, assignment.cell
        subject = _("Đồng chí dự sinh hoạt tại %(cell)s sau %(days)s ngày") % {"cell": cell.name, "days": days}
        body = "\n".join(
            [
                _("Đồng chí được phân công dự buổi sinh hoạt của %(cell)s.") % {"cell": cell.name},
                *_meeting_lines(meeting),
                "",
                _signature(),
            ]
        )
        yield _visit_reminder(assignment, f"meeting-{meeting.pk}-{days}d", subject, body)
    quarter_start, quarter_end, label = quarter_of(today)
    if (quarter_end - today).days > left:
        return
    unconfirmed = (
        VisitAssignment.objects.filter(quarter=quarter_start, confirmed_at__isnull=True)
        .select_related("cell", "visitor")
        .order_by("pk")
    )
    for assignment in unconfirmed:
        cell = assignment.cell
        values = {"cell": cell.name, "end": date_text(quarter_end), "quarter": label.split("-Q")[1]}
        subject = _("Chưa xác nhận buổi dự sinh hoạt tại %(cell)s quý %(quarter)s") % values
        body = "\n".join(
            [
                _(
                    "Đồng chí được phân công dự sinh hoạt tại %(cell)s trong quý %(quarter)s nhưng chưa xác nhận "
                    "buổi sinh hoạt sẽ dự; quý kết thúc ngày %(end)s. Đề nghị đồng chí chọn và xác nhận buổi dự."
                )
                % values,
                "",
                _signature(),
            ]
        )
        yield _visit_reminder(assignment, f"{label}-unconfirmed", subject, body)


RULES: dict[str, Callable] = {
    "rsvp_missing": rule_rsvp_missing,
    "decline_without_reason": rule_decline_without_reason,
    "regular_meeting_unplanned": rule_regular_meeting_unplanned,
    "minutes_not_adopted": rule_minutes_not_adopted,
    "task_due_soon": rule_task_due_soon,
    "task_overdue": rule_task_overdue,
    "supervisor_no_visit": rule_supervisor_no_visit,
    "dues_unpaid": rule_dues_unpaid,
    "thematic_plan_unscheduled": rule_thematic_plan_unscheduled,
    "notice_unopened": rule_notice_unopened,
    "admission_step_due": rule_admission_step_due,
    "visit_upcoming": rule_visit_upcoming,
}

# The integer parameters each rule reads (lists of integers for ``days_before`` of rsvp_missing).
PARAMS: dict[str, dict[str, type]] = {
    "rsvp_missing": {"days_before": list},
    "decline_without_reason": {},
    "regular_meeting_unplanned": {"days_before_deadline": int},
    "minutes_not_adopted": {"max_days_after": int},
    "task_due_soon": {"days_before": int},
    "task_overdue": {"max_days_overdue": int},
    "supervisor_no_visit": {"from_day": int},
    "dues_unpaid": {},
    "thematic_plan_unscheduled": {},
    "notice_unopened": {"days_before": int},
    "admission_step_due": {},
    "visit_upcoming": {"days_before": int, "quarter_days_left": int},
}


def validate_params(code: str, params) -> list[str]:
    """Vietnamese messages for parameters the rule ``code`` cannot use (empty when they are fine)."""
    if code not in PARAMS:
        return [_("Không có quy tắc nhắc việc mã “%(code)s”.") % {"code": code}]
    if not isinstance(params, dict):
        return [_('Tham số phải là một đối tượng JSON, ví dụ {"days_before": 3}.')]
    errors = []
    for key, value in params.items():
        expected = PARAMS[code].get(key)
        if expected is None:
            errors.append(_("Quy tắc này không dùng tham số “%(key)s”.") % {"key": key})
        elif expected is int and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            errors.append(_("“%(key)s” phải là số nguyên không âm.") % {"key": key})
        elif expected is list and (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
        ):
            errors.append(_("“%(key)s” phải là danh sách số ngày dương, ví dụ [3, 1].") % {"key": key})
    return errors


# --- the run --------------------------------------------------------------------------------


def batch_size() -> int:
    """How many recipients one transaction claims and writes (``REMINDER_BATCH_SIZE``, default 500)."""
    return max(1, int(getattr(settings, "REMINDER_BATCH_SIZE", BATCH_SIZE)))


_DELIVERY_COLUMNS = ("rule_id", "object_type", "object_id", "occurrence", "member_id", "claim", "created_at")


def _claim(rule: ReminderRule, reminder: Reminder, members: list, claim: uuid.UUID) -> dict[int, int]:
    """Claim a delivery for each of ``members`` in one statement; returns ``{member id: delivery id}`` for the
    rows this statement inserted. ``ON CONFLICT DO NOTHING`` makes the unique constraint the arbiter: of two
    concurrent runs only one inserts a given (rule, object, recipient, occurrence), and ``RETURNING`` gives
    this run exactly the rows it won (a recipient claimed before, by this run or another, is not among them)."""
    qn = connection.ops.quote_name
    table = qn(ReminderDelivery._meta.db_table)
    columns = ", ".join(qn(column) for column in _DELIVERY_COLUMNS)
    constants = [rule.pk, reminder.object_type, reminder.object_id, reminder.occurrence]
    returning = f"ON CONFLICT DO NOTHING RETURNING {qn('member_id')}, {qn('id')}"
    now = timezone.now()
    fields = ReminderDelivery._meta
    claim = fields.get_field("claim").get_db_prep_value(claim, connection)  # a UUID, or its hex on SQLite
    now = fields.get_field("created_at").get_db_prep_value(now, connection)
    if connection.vendor == "postgresql":
        # The members as one array parameter: a VALUES list of thousands of parameters costs more to
        # build and parse than the insert itself.
        sql = (
            f"INSERT INTO {table} ({columns}) "  # noqa: S608 - names quoted, values parameters
            f"SELECT %s, %s, %s, %s, member, %s, %s FROM unnest(%s::bigint[]) AS member {returning}"
        )
        params = [*constants, claim, now, [member.pk for member in members]]
    else:
        row = "(" + ", ".join(["%s"] * len(_DELIVERY_COLUMNS)) + ")"
        sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(members))} {returning}"  # noqa: S608
        params = [value for member in members for value in (*constants, member.pk, claim, now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _link(deliveries: dict[int, int], rows: list[Notification]) -> None:
    """Point each claimed delivery at its member's new inbox row: one UPDATE over a VALUES list (a
    bulk_update's CASE, or a subquery per row, cost more than writing the rows themselves)."""
    pairs = [(deliveries[row.member_id], row.pk) for row in rows]
    if not pairs:
        return
    qn = connection.ops.quote_name
    table = qn(ReminderDelivery._meta.db_table)
    if connection.vendor == "postgresql":
        source = "unnest(%s::bigint[], %s::bigint[])"
        params = [[delivery for delivery, _row in pairs], [row for _delivery, row in pairs]]
        sql = (
            f"UPDATE {table} SET {qn('notification_id')} = link.notification "  # noqa: S608 - names quoted
            f"FROM {source} AS link (delivery, notification) WHERE {table}.{qn('id')} = link.delivery"
        )
    else:
        # SQLite names a VALUES list's columns column1, column2 (no column list after the alias).
        source = "(VALUES " + ", ".join(["(%s, %s)"] * len(pairs)) + ")"
        params = [value for pair in pairs for value in pair]
        sql = (
            f"UPDATE {table} SET {qn('notification_id')} = link.column2 "  # noqa: S608 - names quoted
            f"FROM {source} AS link WHERE {table}.{qn('id')} = link.column1"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _claim_and_send(rule: ReminderRule, reminder: Reminder) -> int:
    """Claim a delivery per new recipient and write their inbox rows in the same transaction.

    ``batch_size()`` recipients at a time, each batch in its own transaction and in three statements
    whatever its size: the claims (``_claim``), the inbox rows of the recipients this run won (one bulk
    INSERT, ``notification_send``, whose e-mails are queued after the commit), and the link from each
    delivery to its inbox row (``_link``). Returns the number of messages created.
    """
    seen: set[int] = set()
    members = []
    for member in reminder.members:
        if member.pk not in seen and member.state == Member.State.ACTIVE:
            seen.add(member.pk)
            members.append(member)
    sent, size = 0, batch_size()
    for index in range(0, len(members), size):
        chunk = members[index : index + size]
        with transaction.atomic():
            deliveries = _claim(rule, reminder, chunk, uuid.uuid4())
            mine = [member for member in chunk if member.pk in deliveries]
            if not mine:
                continue
            rows = notification_send(
                members=mine,
                kind=f"meetings.reminder.{rule.code}",
                subject=reminder.subject,
                body=reminder.body,
                url=reminder.url,
                organisation=reminder.organisation,
                body_for=reminder.body_for,
                optional=rule.optional,
            )
            _link(deliveries, rows)
            sent += len(rows)
    return sent


def reminder_rule_run(*, rule_id: int, now: datetime.datetime | None = None) -> int:
    """Run one rule now: every reminder it finds is sent at most once per recipient and occurrence.

    Safe to run any number of times; returns the number of new messages (0 if the rule is off or gone).
    """
    rule = ReminderRule.objects.filter(pk=rule_id, enabled=True).first()
    if rule is None or rule.code not in RULES:
        return 0
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    for reminder in RULES[rule.code](rule, today=today, now=now):
        if reminder.members:
            sent += _claim_and_send(rule, reminder)
    ReminderRule.objects.filter(pk=rule.pk).update(last_run_at=now)
    if sent:
        logger.info("reminder rule %s: %s new messages", rule.code, sent)
    return sent


def enabled_rule_ids() -> list[int]:
    return list(
        ReminderRule.objects.filter(enabled=True, code__in=list(RULES)).order_by("pk").values_list("pk", flat=True)
    )
