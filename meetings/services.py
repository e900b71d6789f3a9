"""Writes of the meetings app. Each service validates, runs in one transaction and writes an audit row.

Errors are django ``ValidationError``s keyed by field, with Vietnamese messages a form can show.
"""

import calendar
import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cells.models import Member, Organisation, Term
from cells.selectors import attached_member_ids, exempt_member_ids
from cells.services import audit_log, notification_send, snapshot
from lib.dates import local_midnight, month_start, next_month, quarter_end, quarter_number, quarter_start
from lib.formatting import date_text, quarter_label, time_and_day
from lib.uploads import check_named

from . import calendar as meeting_calendar
from . import indicators, kinds, online, selectors
from .completeness import FUTURE_TOLERANCE, Problem, minutes_completeness  # noqa: F401 (re-exported)
from .models import (
    MEETING_EARLIEST,
    MEETING_MAX_LENGTH,
    AbsenceRequest,
    AgendaItem,
    Amendment,
    Attendance,
    Ballot,
    CalendarFeed,
    DocumentRead,
    DocumentReminder,
    DraftComment,
    MaterialRead,
    Meeting,
    MeetingDocument,
    Opinion,
    PlannedTopic,
    Resolution,
    SpeakRequest,
    SuggestedTopic,
    Task,
    TopicKind,
    UpperMaterial,
    VisitAssignment,
    VisitObservation,
    Vote,
    VoteQuestion,
)
from .signals import meeting_counts_changed, minutes_adopted
from .votes import item_voters, vote_base, vote_refusal

Step = AgendaItem.Step
RSVP_SALT = "meetings.rsvp"
RSVP_MAX_AGE = datetime.timedelta(days=90)


def _log(*, by, action, meeting, instance=None, before=None, after=None):
    instance = instance or meeting
    audit_log(
        actor=by,
        action=action,
        instance=instance,
        organisation=meeting.organisation,
        before=before,
        after=after if after is not None else snapshot(instance),
    )


# --- the agenda ---------------------------------------------------------------------------

_STEP_TITLES = {
    Step.OPENING: gettext_lazy(
        "Khai mạc: báo cáo tình hình đảng viên (chính thức, dự bị, miễn sinh hoạt, có mặt, vắng), "
        "cử thư ký, thông qua chương trình, thu đảng phí"
    ),
    Step.NEWS: gettext_lazy("Thông tin thời sự, quán triệt chỉ thị, nghị quyết của cấp trên"),
    Step.LAST_RESULTS: gettext_lazy("Kết quả thực hiện nghị quyết tháng trước và các nhiệm vụ được phân công"),
    Step.OPINIONS: gettext_lazy("Ý kiến của đảng viên và phản ánh của quần chúng"),
    Step.NEXT_TASKS: gettext_lazy("Nhiệm vụ tháng tới và phân công đảng viên"),
    Step.DISCUSSION: gettext_lazy("Thảo luận, phê bình và tự phê bình, biểu dương"),
    Step.PARTY_WORK: gettext_lazy("Công tác đảng: kết nạp, chuyển đảng chính thức"),
    Step.TOPIC: gettext_lazy("Sinh hoạt chuyên đề"),
    Step.CONCLUSION: gettext_lazy("Kết luận và biểu quyết"),
    Step.SELF_SCORE: gettext_lazy("Tự chấm điểm chất lượng buổi sinh hoạt"),
    Step.MINUTES: gettext_lazy("Thông qua biên bản"),
    Step.CLOSE: gettext_lazy("Bế mạc"),
}


def _open_tasks_note(meeting: Meeting) -> str:
    """The open tasks of the cell's last adopted meeting, one line each, for "results of last month"."""
    previous = selectors.last_adopted_meeting(cell=meeting.organisation, before=meeting.planned_start)
    lines = []
    for task in selectors.open_tasks_of(meeting=previous):
        who = ", ".join(member.full_name for member in task.assignees.all())
        due = _(" (hạn %(date)s)") % {"date": task.due_date.strftime("%d/%m/%Y")} if task.due_date else ""
        lines.append(f"- {task.description} — {who}{due}")
    return "\n".join(lines)


def _build_agenda(meeting: Meeting) -> None:
    items = []
    for order, step in enumerate(kinds.get(meeting.kind).agenda, start=1):
        title = str(_STEP_TITLES[Step(step)])
        if step == Step.TOPIC and meeting.topic:
            title = _("Chuyên đề: %(topic)s") % {"topic": meeting.topic}
        notes = _open_tasks_note(meeting) if step == Step.LAST_RESULTS else ""
        items.append(AgendaItem(meeting=meeting, order=order, step=step, title=title, notes=notes))
    AgendaItem.objects.bulk_create(items)


# --- meetings -----------------------------------------------------------------------------

MEETING_FIELDS = (
    "kind",
    "period_month",
    "planned_start",
    "planned_end",
    "place",
    "mode",
    "online_link",
    "topic",
    "chair",
    "clerk",
    "guests",
    "preparatory_meeting",
)
# What may change in each state; a notified meeting's time and place may change, with a new notice.
EDITABLE_BY_STATE: dict[str, set[str]] = {
    Meeting.State.DRAFT: set(MEETING_FIELDS) | {"upper_guests"},
    Meeting.State.NOTIFIED: set(MEETING_FIELDS) - {"kind"} | {"upper_guests"},
    Meeting.State.HELD: {
        "topic",
        "chair",
        "clerk",
        "guests",
        "upper_guests",
        "actual_start",
        "actual_end",
        "short_reason",
    },
}
RENOTIFY_FIELDS = {"planned_start", "planned_end", "place", "mode", "online_link"}


def meeting_date_floor(meeting: Meeting) -> datetime.datetime:
    """The earliest start a meeting of this organisation may have: 01/01/2000 (``MEETING_EARLIEST``, a
    sanity bound) or the organisation's ``active_from``, whichever is later."""
    floor = MEETING_EARLIEST
    active_from = meeting.organisation.active_from
    if active_from:
        floor = max(floor, timezone.make_aware(datetime.datetime.combine(active_from, datetime.time.min)))
    return floor


def _validate_meeting_dates(meeting: Meeting, errors: dict) -> None:
    """The sanity bounds of a meeting's dates (issue 21), the same as the database's constraints
    (``Meeting.Meta.constraints``), with a message next to the field to correct."""
    hours = int(MEETING_MAX_LENGTH.total_seconds() // 3600)
    floor = meeting_date_floor(meeting)
    floor_text = timezone.localtime(floor).strftime("%d/%m/%Y")
    for start, end, label in (
        ("planned_start", "planned_end", _("Buổi sinh hoạt")),
        ("actual_start", "actual_end", _("Buổi sinh hoạt (thực tế)")),
    ):
        begins, ends = getattr(meeting, start), getattr(meeting, end)
        if begins and begins < floor:
            errors.setdefault(
                start, _("Ngày bắt đầu không thể trước ngày %(date)s; hãy kiểm tra lại năm.") % {"date": floor_text}
            )
        if begins and ends and ends > begins + MEETING_MAX_LENGTH and end not in errors:
            errors[end] = _("%(what)s không thể kéo dài quá %(hours)d giờ; hãy kiểm tra ngày và giờ kết thúc.") % {
                "what": label,
                "hours": hours,
            }
    if meeting.actual_start and meeting.notice_sent_at and meeting.actual_start < meeting.notice_sent_at:
        errors.setdefault(
            "actual_start",
            _("Giờ bắt đầu thực tế không thể trước lúc gửi thông báo triệu tập (%(when)s).")
            % {"when": time_and_day(meeting.notice_sent_at)},
        )
    if meeting.kind in Meeting.REGULAR_KINDS and meeting.period_month:
        # Chi bộ meets once a month (Điều lệ Đảng Art. 24.2, domain-research §5): the regular meeting
        # of a month is held in that month. A meeting moved into the next month is that month's.
        month = month_start(meeting.period_month)
        for field in ("planned_start", "actual_start"):
            moment = getattr(meeting, field)
            if moment and timezone.localdate(moment).replace(day=1) != month:
                target = "period_month" if field == "planned_start" else field
                errors.setdefault(
                    target,
                    _(
                        "Buổi sinh hoạt thường kỳ của tháng %(month)s phải họp trong tháng đó (chi bộ họp mỗi tháng một "
                        "lần); ngày %(day)s thuộc tháng %(other)s. Hãy sửa ngày họp hoặc chọn tháng %(other)s."
                    )
                    % {
                        "month": month.strftime("%m/%Y"),
                        "day": timezone.localtime(moment).strftime("%d/%m/%Y"),
                        "other": timezone.localtime(moment).strftime("%m/%Y"),
                    },
                )


def _validate_meeting(meeting: Meeting) -> None:
    errors = {}
    if not meeting.organisation.is_cell and meeting.organisation.kind != Organisation.Kind.TO_DANG:
        errors["organisation"] = _("Chỉ chi bộ (hoặc tổ đảng) mới tổ chức sinh hoạt.")
    if meeting.planned_start and meeting.planned_end and meeting.planned_end <= meeting.planned_start:
        errors["planned_end"] = _("Giờ kết thúc phải sau giờ bắt đầu.")
    if meeting.actual_start and meeting.actual_end and meeting.actual_end <= meeting.actual_start:
        errors["actual_end"] = _("Giờ kết thúc thực tế phải sau giờ bắt đầu thực tế.")
    # What took place cannot lie ahead (a few minutes of clock difference allowed): an end "later than
    # now" would lock minutes before the meeting is over and credit a duration nobody sat through.
    soon = timezone.now() + FUTURE_TOLERANCE
    for field, label in (
        ("actual_start", _("Giờ bắt đầu thực tế không thể ở tương lai.")),
        ("actual_end", _("Giờ kết thúc thực tế không thể ở tương lai.")),
    ):
        moment = getattr(meeting, field)
        if moment and moment > soon and field not in errors:
            errors[field] = label
    _validate_meeting_dates(meeting, errors)
    if meeting.mode in (Meeting.Mode.ONLINE, Meeting.Mode.HYBRID) and not meeting.online_link:
        errors["online_link"] = _("Họp trực tuyến cần có đường dẫn phòng họp.")
    for field in ("chair", "clerk"):
        member = getattr(meeting, field)
        if member is not None and member.organisation_id != meeting.organisation_id:
            errors[field] = _("Phải là đảng viên của chi bộ.")
    prep = meeting.preparatory_meeting
    if prep is not None and (prep.organisation_id != meeting.organisation_id or prep.kind != Meeting.Kind.COMMITTEE):
        errors["preparatory_meeting"] = _("Cuộc họp chuẩn bị phải là cuộc họp chi ủy của chính chi bộ này.")
    if meeting.period_month:
        meeting.period_month = month_start(meeting.period_month)
    if meeting.kind in Meeting.REGULAR_KINDS and meeting.state != Meeting.State.CANCELLED:
        clash = (
            Meeting.objects.filter(
                organisation=meeting.organisation, period_month=meeting.period_month, kind__in=Meeting.REGULAR_KINDS
            )
            .exclude(state=Meeting.State.CANCELLED)
            .exclude(pk=meeting.pk)
        )
        if clash.exists():
            errors["period_month"] = _(
                "Chi bộ đã có buổi sinh hoạt thường kỳ của tháng %(month)s. "
                'Buổi họp thêm hãy chọn loại "bất thường" hoặc "chuyên đề".'
            ) % {"month": meeting.period_month.strftime("%m/%Y")}
    if errors:
        raise ValidationError(errors)


def _save(meeting: Meeting) -> None:
    try:
        with transaction.atomic():
            meeting.save()
    except IntegrityError as exc:  # a concurrent request won the race for the month's regular meeting
        raise ValidationError({"period_month": _("Chi bộ đã có buổi sinh hoạt thường kỳ của tháng này.")}) from exc


@transaction.atomic
def meeting_create(
    *,
    organisation: Organisation,
    kind: str,
    planned_start,
    planned_end,
    period_month=None,
    upper_guests=(),
    by=None,
    **fields,
) -> Meeting:
    """Plan a meeting and give it the agenda of its kind (design §5)."""
    unknown = set(fields) - set(MEETING_FIELDS)
    if unknown:
        raise TypeError(f"unknown meeting fields: {sorted(unknown)}")
    if period_month is None:
        period_month = timezone.localdate(planned_start)
    meeting = Meeting(
        organisation=organisation,
        kind=kind,
        planned_start=planned_start,
        planned_end=planned_end,
        period_month=period_month,
        **fields,
    )
    _validate_meeting(meeting)
    _save(meeting)
    if upper_guests:
        meeting.upper_guests.set(upper_guests)
    _build_agenda(meeting)
    _log(by=by, action="meetings.meeting.create", meeting=meeting)
    return meeting


def _lock(meeting: Meeting) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("organisation", "chair", "clerk")
        .get(pk=meeting.pk)
    )


def _refuse_locked(meeting: Meeting) -> None:
    if meeting.state == Meeting.State.MINUTES_ADOPTED:
        raise ValidationError(_("Biên bản đã được thông qua và khóa; chỉ có thể bổ sung đính chính."))
    if meeting.state == Meeting.State.CANCELLED:
        raise ValidationError(_("Buổi sinh hoạt đã bị hủy."))


@transaction.atomic
def meeting_update(*, meeting: Meeting, by=None, **fields) -> Meeting:
    """Change what the meeting's state allows; a new time or place after the notice notifies everyone again."""
    meeting = _lock(meeting)
    _refuse_locked(meeting)
    allowed = EDITABLE_BY_STATE[meeting.state]
    refused = set(fields) - allowed
    if refused:
        raise ValidationError(
            {
                name: _('Không thể sửa mục này khi buổi sinh hoạt ở trạng thái "%(state)s".')
                % {"state": meeting.get_state_display()}
                for name in sorted(refused)
            }
        )
    before = snapshot(meeting)
    upper_guests = fields.pop("upper_guests", None)
    changed = {name for name, value in fields.items() if getattr(meeting, name) != value}
    for name, value in fields.items():
        setattr(meeting, name, value)
    _validate_meeting(meeting)
    _save(meeting)
    if upper_guests is not None:
        meeting.upper_guests.set(upper_guests)
    _log(by=by, action="meetings.meeting.update", meeting=meeting, before=before, after=snapshot(meeting))
    if meeting.state == Meeting.State.NOTIFIED and changed & RENOTIFY_FIELDS:
        _send_notice(meeting, changed=True)
    return meeting


@transaction.atomic
def meeting_plan_next_month(*, meeting: Meeting, by=None) -> Meeting:
    """Plan next month's regular meeting at the usual time and place: same day of month, hour and room."""
    start = timezone.localtime(meeting.planned_start)
    month = next_month(start.date())
    new_start = start.replace(
        year=month.year, month=month.month, day=min(start.day, calendar.monthrange(month.year, month.month)[1])
    )
    return meeting_create(
        organisation=meeting.organisation,
        kind=Meeting.Kind.REGULAR,
        period_month=next_month(meeting.period_month),
        planned_start=new_start,
        planned_end=new_start + (meeting.planned_end - meeting.planned_start),
        place=meeting.place,
        mode=meeting.mode,
        online_link=meeting.online_link,
        chair=meeting.chair,
        clerk=meeting.clerk,
        by=by,
    )


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, reason: str, by=None) -> Meeting:
    meeting = _lock(meeting)
    _refuse_locked(meeting)
    if meeting.state == Meeting.State.HELD:
        raise ValidationError(_("Buổi sinh hoạt đã diễn ra, không thể hủy."))
    if not reason.strip():
        raise ValidationError({"reason": _("Cần ghi lý do hủy.")})
    before = snapshot(meeting)
    was_notified = meeting.state == Meeting.State.NOTIFIED
    meeting.state = Meeting.State.CANCELLED
    meeting.save(update_fields=["state", "updated_at"])
    _log(
        by=by,
        action="meetings.meeting.cancel",
        meeting=meeting,
        before=before,
        after={**snapshot(meeting), "reason": reason},
    )
    if was_notified:
        _next_calendar_sequence(meeting)
        members = [a.member for a in meeting.attendances.select_related("member")]
        notification_send(
            members=members,
            kind="meetings.cancelled",
            organisation=meeting.organisation,
            subject=_("Hủy buổi sinh hoạt %(when)s") % {"when": time_and_day(meeting.planned_start)},
            body=_("Buổi sinh hoạt đã bị hủy. Lý do: %(reason)s") % {"reason": reason},
            attachment_for=lambda member: meeting_calendar.invitation_attachment(
                meeting, cancelled=True, attendee=member
            ),
        )
    return meeting


# --- attendance counts --------------------------------------------------------------------

ATTENDANCE_COUNT_FIELDS = ("attendance_present", "attendance_base", "attendance_unexcused")


def attendance_counts_refresh(*, meetings: QuerySet[Meeting] | list[int]) -> None:
    """Recount the attendance figures stored on ``meetings`` (a queryset, or meeting ids) from their rows.

    One set-based ``UPDATE … FROM (SELECT … GROUP BY meeting)``, whatever the number of meetings.
    Every write of attendance rows (the services here, the demo generator, ``restore``) calls it in the
    same transaction, after the rows are written, so the stored counts cannot drift from the rows.
    present: present or late; base: every row but the exempt and those attached elsewhere (not
    recorded yet included); unexcused: absent without a reason.
    """
    if not isinstance(meetings, QuerySet):
        meetings = Meeting.objects.filter(pk__in=list(meetings))
    chosen = meetings.order_by().values("pk")
    connection = connections[chosen.db]
    chosen_sql, chosen_params = chosen.query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    meeting_table, attendance_table = quote(Meeting._meta.db_table), quote(Attendance._meta.db_table)
    present, base, unexcused = (
        quote(Meeting._meta.get_field(name).column)  # type: ignore[union-attr,arg-type]
        for name in ATTENDANCE_COUNT_FIELDS
    )  # concrete columns of Meeting
    # Plain SQL that PostgreSQL and SQLite (3.33+) both run: the ORM has no UPDATE … FROM. Only
    # table and column names are formatted in; every value is a parameter.
    sql = f"""
        UPDATE {meeting_table}
        SET {present} = counted.present, {base} = counted.base, {unexcused} = counted.unexcused
        FROM (
            SELECT chosen.id AS meeting_id,
                   COUNT(CASE WHEN attendance.presence IN (%s, %s) THEN 1 END) AS present,
                   COUNT(CASE WHEN attendance.presence NOT IN (%s, %s) THEN 1 END) AS base,
                   COUNT(CASE WHEN attendance.presence = %s THEN 1 END) AS unexcused
            FROM {meeting_table} chosen LEFT JOIN {attendance_table} attendance ON attendance.meeting_id = chosen.id
            WHERE chosen.id IN ({chosen_sql})
            GROUP BY chosen.id
        ) counted
        WHERE {meeting_table}.id = counted.meeting_id
          AND ({present} <> counted.present OR {base} <> counted.base OR {unexcused} <> counted.unexcused)
        RETURNING {meeting_table}.id
    """  # noqa: S608
    params = (
        *Attendance.PRESENT_VALUES,
        *Attendance.OUTSIDE_BASE_VALUES,
        Attendance.Presence.ABSENT_UNEXCUSED,
        *chosen_params,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        changed = [row[0] for row in cursor.fetchall()]
    if changed:
        # No post_save for an UPDATE: tell the listeners (the monthly rollups) in this transaction.
        meeting_counts_changed.send(sender=Meeting, meeting_ids=changed)


def _attendance_counts_refresh_one(meeting: Meeting) -> None:
    """Recount one meeting's figures and load them into the instance the service goes on with."""
    attendance_counts_refresh(meetings=[meeting.pk])
    meeting.refresh_from_db(fields=ATTENDANCE_COUNT_FIELDS)


# --- notice and RSVP ----------------------------------------------------------------------


def rsvp_token(*, meeting: Meeting, member: Member) -> str:
    return signing.TimestampSigner(salt=RSVP_SALT).sign_object({"m": meeting.pk, "p": member.pk})


def rsvp_url(*, meeting: Meeting, member: Member) -> str:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return base + reverse("meetings:rsvp", args=[rsvp_token(meeting=meeting, member=member)])


def rsvp_url_for(meeting: Meeting):
    """``rsvp_url`` for many members of one meeting (a reminder's fan-out): the signer and the URL around the
    token are made once; each call signs one token. Gives the same URL as ``rsvp_url``."""
    signer = signing.TimestampSigner(salt=RSVP_SALT)
    marker = "TOKEN"
    before, after = reverse("meetings:rsvp", args=[marker]).split(marker)
    before = getattr(settings, "SITE_URL", "").rstrip("/") + before

    def url(member: Member) -> str:
        return before + signer.sign_object({"m": meeting.pk, "p": member.pk}) + after

    return url


def _notice_body(meeting: Meeting) -> str:
    lines = [
        _("Thời gian: %(start)s đến %(end)s")
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
    lines.append(_("Chương trình:"))
    lines += [f"  {item.order}. {item.title}" for item in selectors.agenda_of(meeting)]
    documents = list(meeting.documents.all())
    if documents:
        lines.append(_("Tài liệu:"))
        lines += [f"  - {document.title}" for document in documents]
    return "\n".join(lines)


def _next_calendar_sequence(meeting: Meeting) -> None:
    """The meeting's calendar event changes: the next invitation replaces the one clients hold."""
    meeting.calendar_sequence += 1
    Meeting.objects.filter(pk=meeting.pk).update(calendar_sequence=meeting.calendar_sequence)


def _send_notice(meeting: Meeting, *, changed: bool = False) -> None:
    """The notice, e-mailed to each member summoned with ``invitation.ics`` (their calendar's event)."""
    if changed:
        _next_calendar_sequence(meeting)
    subject = (
        _("Thay đổi thời gian, địa điểm: %(kind)s %(when)s") if changed else _("Thông báo %(kind)s %(when)s")
    ) % {"kind": meeting.get_kind_display().lower(), "when": time_and_day(meeting.planned_start)}
    body = _notice_body(meeting)
    url = reverse("meetings:detail", args=[meeting.pk])
    attendances = meeting.attendances.select_related("member").exclude(presence=Attendance.Presence.EXEMPT)
    members = [attendance.member for attendance in attendances]

    def body_for(member):
        return (
            body
            + "\n\n"
            + _("Xác nhận tham dự hoặc báo vắng (không cần đăng nhập): %(url)s")
            % {"url": rsvp_url(meeting=meeting, member=member)}
        )

    def invitation_for(member):
        return meeting_calendar.invitation_attachment(meeting, attendee=member)

    notification_send(
        members=members,
        kind="meetings.notice",
        subject=subject,
        body=body,
        url=url,
        organisation=meeting.organisation,
        body_for=body_for,
        attachment_for=invitation_for,
    )
    upper = selectors.supervisors_of(cell=meeting.organisation, on=timezone.localdate(meeting.planned_start))
    supervisors = [member for member in upper if member.pk not in {m.pk for m in members}]
    if supervisors:
        notification_send(
            members=supervisors,
            kind="meetings.notice_upper",
            subject=subject,
            body=body,
            url=url,
            organisation=meeting.organisation,
            attachment_for=invitation_for,
        )
    Meeting.objects.filter(pk=meeting.pk).update(notice_sent_at=timezone.now())


@transaction.atomic
def meeting_publish(*, meeting: Meeting, by=None) -> Meeting:
    """Send the notice: one attendance row per expected member, and a personal RSVP link to each."""
    meeting = _lock(meeting)
    if meeting.state != Meeting.State.DRAFT:
        raise ValidationError(_("Chỉ có thể gửi thông báo cho buổi sinh hoạt đang ở trạng thái dự thảo."))
    if meeting.planned_start <= timezone.now():
        raise ValidationError({"planned_start": _("Không thể thông báo buổi sinh hoạt đã qua giờ bắt đầu.")})
    before = snapshot(meeting)
    day = timezone.localdate(meeting.planned_start)
    expected = selectors.expected_members(cell=meeting.organisation, on=day)
    existing = set(meeting.attendances.values_list("member_id", flat=True))
    presets = _presence_presets(on=day)
    Attendance.objects.bulk_create(
        [
            Attendance(meeting=meeting, member=member, presence=presets.get(member.pk, Attendance.Presence.BLANK))
            for member in expected
            if member.pk not in existing
        ]
    )
    _attendance_counts_refresh_one(meeting)
    meeting.state = Meeting.State.NOTIFIED
    now = timezone.now()
    meeting.notice_sent_at = now
    _number_notice(meeting, day=timezone.localdate(now))
    if meeting.documents.exists():
        meeting.documents_published_at = now
    meeting.save(
        update_fields=[
            "state",
            "notice_sent_at",
            "documents_published_at",
            "notice_number",
            "notice_term",
            "updated_at",
        ]
    )
    _log(by=by, action="meetings.meeting.publish", meeting=meeting, before=before, after=snapshot(meeting))
    _send_notice(meeting)
    return meeting


def _number_notice(meeting: Meeting, *, day: datetime.date) -> None:
    """The next notice number of the meeting's organisation in the term of ``day`` (the sending day).

    The organisation's row is locked first, so that two notices sent at once cannot take one number
    (the unique constraint ``meeting_one_notice_number`` would refuse the second anyway).
    """
    organisation = Organisation.objects.select_for_update().get(pk=meeting.organisation_id)
    term = _term_on(organisation, day)
    last = Meeting.objects.filter(organisation=organisation, notice_term=term, notice_number__isnull=False).aggregate(
        last=Max("notice_number")
    )["last"]
    meeting.notice_term = term
    meeting.notice_number = (last or 0) + 1


def rsvp_read_token(token: str) -> tuple[Meeting, Attendance]:
    """The meeting and attendance row a signed link points at; ValidationError if tampered or expired."""
    try:
        data = signing.TimestampSigner(salt=RSVP_SALT).unsign_object(token, max_age=RSVP_MAX_AGE)
        attendance = Attendance.objects.select_related("meeting", "meeting__organisation", "member").get(
            meeting_id=int(data["m"]), member_id=int(data["p"])
        )
    except signing.SignatureExpired:
        raise ValidationError(_("Đường dẫn xác nhận đã hết hạn.")) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError, Attendance.DoesNotExist):
        raise ValidationError(_("Đường dẫn xác nhận không hợp lệ.")) from None
    # A link outlives neither the row (taken off the list) nor the membership it was sent for.
    day = timezone.localdate(attendance.meeting.planned_start)
    if (
        not selectors.expected_members(cell=attendance.meeting.organisation, on=day)
        .filter(pk=attendance.member_id)
        .exists()
    ):
        raise ValidationError(_("Đường dẫn xác nhận không hợp lệ."))
    return attendance.meeting, attendance


def _rsvp_set(*, attendance: Attendance, attending: bool, reason: str, via: str, by=None) -> Attendance:
    meeting = attendance.meeting
    if meeting.state != Meeting.State.NOTIFIED:
        raise ValidationError(_("Buổi sinh hoạt không còn nhận xác nhận tham dự."))
    if timezone.now() >= meeting.planned_start:
        raise ValidationError(_("Buổi sinh hoạt đã bắt đầu, không thể xác nhận nữa."))
    reason = (reason or "").strip()
    if not attending and not reason:
        raise ValidationError({"reason": _("Vui lòng ghi lý do không tham dự.")})
    if attendance.presence == Attendance.Presence.EXEMPT:
        raise ValidationError(_("Đồng chí đang được miễn sinh hoạt."))
    attendance = Attendance.objects.select_for_update().get(pk=attendance.pk)
    before = snapshot(attendance)
    # The answer leaves the presence as it is: the meeting's stored attendance counts do not change.
    attendance.rsvp = Attendance.Rsvp.YES if attending else Attendance.Rsvp.NO
    attendance.rsvp_reason = "" if attending else reason[:255]
    attendance.rsvp_at = timezone.now()
    attendance.rsvp_via = via
    attendance.save()
    _log(
        by=by,
        action="meetings.attendance.rsvp",
        meeting=meeting,
        instance=attendance,
        before=before,
        after=snapshot(attendance),
    )
    return attendance


# --- membership changes (cells.signals, through meetings.receivers) --------------------------

NOT_HELD = (Meeting.State.DRAFT, Meeting.State.NOTIFIED)


@transaction.atomic
def attendance_withdraw(
    *, member: Member, cell: Organisation, start: datetime.date, end: datetime.date | None = None, by=None
) -> list[int]:
    """Take ``member`` off the lists of ``cell``'s meetings not held yet whose day falls from ``start``
    to ``end`` (None: on and after ``start``): they left the cell, or are suspended. Their RSVP links
    to those meetings die with the rows. Returns the meetings changed."""
    meetings = Meeting.objects.filter(organisation=cell, state__in=NOT_HELD, planned_start__gte=local_midnight(start))
    if end is not None:
        meetings = meetings.filter(planned_start__lt=local_midnight(end + datetime.timedelta(days=1)))
    rows = list(
        Attendance.objects.select_for_update(of=("self",))
        .filter(meeting__in=meetings, member=member)
        .select_related("meeting")
    )
    for attendance in rows:
        audit_log(
            actor=by,
            action="meetings.attendance.withdraw",
            instance=attendance,
            organisation=cell,
            before=snapshot(attendance),
        )
    Attendance.objects.filter(pk__in=[attendance.pk for attendance in rows]).delete()
    changed = sorted({attendance.meeting_id for attendance in rows})
    if changed:
        attendance_counts_refresh(meetings=changed)
    return changed


def _presence_presets(*, on: datetime.date, member: Member | None = None) -> dict[int, str]:
    """What the records say of members on a day before anyone marks them: exempt (Exemption), or attached
    to a party organisation elsewhere (TemporaryAttachment); an exemption wins."""
    attached, exempt = attached_member_ids(on=on), exempt_member_ids(on=on)
    if member is not None:
        attached, exempt = attached.filter(member_id=member.pk), exempt.filter(member_id=member.pk)
    presets: dict[int, str] = {
        pk: Attendance.Presence.ATTACHED_ELSEWHERE for pk in attached.values_list("member_id", flat=True)
    }
    presets.update({pk: Attendance.Presence.EXEMPT for pk in exempt.values_list("member_id", flat=True)})
    return presets


@transaction.atomic
def attendance_exemptions_refresh(*, member: Member, since: datetime.date, by=None) -> list[int]:
    """Mark ``member`` exempt, attached elsewhere, or expected again, on the lists of meetings not held yet
    from ``since``, as their exemptions and temporary attachments now say (design §2: exempt members get no
    meeting duties; QĐ 294 §9.3.2: members attached elsewhere are outside the count)."""
    rows = (
        Attendance.objects.select_for_update(of=("self",))
        .select_related("meeting", "meeting__organisation")
        .filter(
            member=member,
            meeting__state__in=NOT_HELD,
            meeting__planned_start__gte=local_midnight(since),
            presence__in=[
                Attendance.Presence.BLANK,
                Attendance.Presence.EXEMPT,
                Attendance.Presence.ATTACHED_ELSEWHERE,
            ],
        )
    )
    changed = []
    for attendance in rows:
        day = timezone.localdate(attendance.meeting.planned_start)
        presence = _presence_presets(on=day, member=member).get(member.pk, Attendance.Presence.BLANK)
        if attendance.presence != presence:
            before = snapshot(attendance)
            attendance.presence = presence
            attendance.save(update_fields=["presence"])
            _log(
                by=by,
                action="meetings.attendance.exemption",
                meeting=attendance.meeting,
                instance=attendance,
                before=before,
                after=snapshot(attendance),
            )
            changed.append(attendance.meeting_id)
    if changed:
        attendance_counts_refresh(meetings=changed)
    return changed


@transaction.atomic
def attendance_rsvp(*, token: str, attending: bool, reason: str = "") -> Attendance:
    """Confirm or decline from the signed link; refused once the meeting has started."""
    _meeting, attendance = rsvp_read_token(token)
    return _rsvp_set(attendance=attendance, attending=attending, reason=reason, via=Attendance.Via.LINK)


@transaction.atomic
def attendance_confirm(*, meeting: Meeting, member: Member, attending: bool, reason: str = "", by=None) -> Attendance:
    """Confirm or decline while logged in."""
    attendance = meeting.attendances.select_related("meeting", "meeting__organisation").filter(member=member).first()
    if attendance is None:
        raise ValidationError(_("Đồng chí không có trong danh sách triệu tập của buổi sinh hoạt này."))
    return _rsvp_set(attendance=attendance, attending=attending, reason=reason, via=Attendance.Via.WEB, by=by)


# --- recording the meeting ----------------------------------------------------------------


def _refuse_unless_recording(meeting: Meeting) -> None:
    _refuse_locked(meeting)
    if meeting.state == Meeting.State.DRAFT:
        raise ValidationError(_("Cần gửi thông báo trước khi ghi biên bản."))


@transaction.atomic
def meeting_record_held(*, meeting: Meeting, actual_start, actual_end=None, short_reason=None, by=None) -> Meeting:
    """Record that the meeting took place, with its actual start (and end once known)."""
    meeting = _lock(meeting)
    _refuse_unless_recording(meeting)
    before = snapshot(meeting)
    meeting.actual_start = actual_start
    meeting.actual_end = actual_end
    if short_reason is not None:
        meeting.short_reason = short_reason.strip()
    _validate_meeting(meeting)
    meeting.state = Meeting.State.HELD
    meeting.save()
    _log(by=by, action="meetings.meeting.held", meeting=meeting, before=before, after=snapshot(meeting))
    return meeting


PAST_MEETING_FIELDS = ("place", "mode", "online_link", "topic", "chair", "clerk", "guests", "short_reason")


@transaction.atomic
def meeting_record_past(
    *,
    organisation: Organisation,
    kind: str,
    actual_start: datetime.datetime,
    actual_end: datetime.datetime | None,
    notice_date: datetime.date | None,
    adopted_on: datetime.date | None,
    period_month: datetime.date | None = None,
    presence: dict | None = None,
    conclusion: str = "",
    by=None,
    **fields,
) -> Meeting:
    """Enter a meeting the cell held and kept on paper ("nhập bổ sung"), from its paper minutes.

    The meeting is created held, with the attendance rows of the members expected on its day, and
    from there it goes through the same records, completeness check, adoption and numbering as a
    meeting noticed through the portal. It is marked as entered afterwards, with who entered it and
    when. Its plan is the meeting as held (the paper records what happened, not a plan). No notice
    is sent and none is numbered here: the notice, if any, was the paper one; ``notice_date`` is its
    date as the paper gives it, or None ("không ghi nhận"), and the indicators judge the timing
    criteria from it and from ``adopted_on`` (meetings.indicators, "meetings entered afterwards").
    """
    unknown = set(fields) - set(PAST_MEETING_FIELDS)
    if unknown:
        raise TypeError(f"unknown meeting fields: {sorted(unknown)}")
    now = timezone.now()
    errors = {}
    if actual_end is None:
        errors["actual_end"] = _("Cần ghi giờ kết thúc theo biên bản giấy.")
    elif actual_end > now:
        errors["actual_end"] = _(
            "Chỉ nhập bổ sung buổi sinh hoạt đã kết thúc; buổi sắp họp hãy lập kế hoạch và gửi thông báo như thường lệ."
        )
    day = timezone.localdate(actual_start)
    if notice_date is not None and notice_date > day:
        errors["notice_date"] = _("Ngày thông báo không thể sau ngày họp (%(day)s).") % {
            "day": day.strftime("%d/%m/%Y")
        }
    if adopted_on is not None and adopted_on < day:
        errors["adopted_on"] = _("Biên bản không thể thông qua trước ngày họp (%(day)s).") % {
            "day": day.strftime("%d/%m/%Y")
        }
    elif adopted_on is not None and adopted_on > timezone.localdate(now):
        errors["adopted_on"] = _("Ngày thông qua biên bản không thể ở tương lai.")
    if errors:
        raise ValidationError(errors)
    assert actual_end is not None  # required (refused above when empty)
    meeting = Meeting(
        organisation=organisation,
        kind=kind,
        period_month=period_month or day.replace(day=1),
        planned_start=actual_start,
        planned_end=actual_end,
        actual_start=actual_start,
        actual_end=actual_end,
        state=Meeting.State.HELD,
        notice_sent_at=indicators.paper_notice_moment(notice_date),
        paper_notice_date=notice_date,
        paper_adopted_on=adopted_on,
        entered_afterwards_at=now,
        entered_afterwards_by=by if getattr(by, "is_authenticated", False) else None,
        **{**fields, "short_reason": (fields.get("short_reason") or "").strip()},
    )
    _validate_meeting(meeting)
    _save(meeting)
    _build_agenda(meeting)
    presets = _presence_presets(on=day)  # exempt, or attached elsewhere, as the records say (as at publishing)
    Attendance.objects.bulk_create(
        [
            Attendance(meeting=meeting, member=member, presence=presets.get(member.pk, Attendance.Presence.BLANK))
            for member in selectors.expected_members(cell=organisation, on=day)
        ]
    )
    _attendance_counts_refresh_one(meeting)
    _log(by=by, action="meetings.meeting.record_past", meeting=meeting)
    if presence:
        expected = set(meeting.attendances.values_list("member_id", flat=True))
        outside = [member_id for member_id in presence if int(member_id) not in expected]
        if outside:
            names = Member.objects.filter(pk__in=outside).order_by("full_name").values_list("full_name", flat=True)
            raise ValidationError(
                {
                    "attendance": _(
                        "Không sinh hoạt ở chi bộ vào ngày %(day)s: %(names)s. Hãy để trống dòng của các đồng chí này."
                    )
                    % {"day": day.strftime("%d/%m/%Y"), "names": ", ".join(names)}
                }
            )
        attendance_record(meeting=meeting, presence=presence, by=by)
    if conclusion.strip():
        resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text=conclusion, by=by)
    return meeting


def attendance_initial(attendance: Attendance, *, absence_refused: bool = False) -> tuple[str, str]:
    """The presence a form starts from: what was recorded, else what the member answered. A member whose
    last absence request the cell refused is not offered as "vắng có lý do" from their "không tham dự":
    the recorder chooses (the refusal is the cell's answer to that reason)."""
    if attendance.presence:
        return attendance.presence, attendance.absence_reason
    if attendance.rsvp == Attendance.Rsvp.YES:
        return Attendance.Presence.PRESENT, ""
    if attendance.rsvp == Attendance.Rsvp.NO and not absence_refused:
        return Attendance.Presence.ABSENT_EXCUSED, attendance.rsvp_reason
    return "", ""


def absence_refused_members(meeting: Meeting) -> set[int]:
    """The members whose last absence request for ``meeting`` was refused (one query)."""
    last: dict[int, str] = {}
    for member_id, state in meeting.absence_requests.order_by("created_at", "pk").values_list("member_id", "state"):
        last[member_id] = state
    return {member_id for member_id, state in last.items() if state == AbsenceRequest.State.REFUSED}


def _item_presence_errors(attendance: Attendance, joined, left, agenda: dict) -> str | None:
    """Check one row's "tham gia từ nội dung" / "rời sau nội dung" (agenda item ids or None)."""
    for item_id in (joined, left):
        if item_id is not None and int(item_id) not in agenda:
            return _("Nội dung không thuộc buổi sinh hoạt này.")
    if (joined or left) and attendance.presence not in Attendance.PRESENT_VALUES:
        return _("Đồng chí %(name)s không có mặt: không ghi tham gia từ, rời sau nội dung nào.") % {
            "name": attendance.member.full_name
        }
    if joined and left and agenda[int(joined)] > agenda[int(left)]:
        return _("Đồng chí %(name)s: nội dung rời buổi sinh hoạt phải sau nội dung tham gia.") % {
            "name": attendance.member.full_name
        }
    return None


@transaction.atomic
def attendance_record(*, meeting: Meeting, presence: dict, items: dict | None = None, by=None) -> list[Attendance]:
    """Record presence: ``presence`` maps member id to ``(presence, absence_reason)``; ``items``, when given,
    maps member id to ``(joined item id, left item id)`` — present from the first (None: from the start)
    through the second (None: to the end), issue #17 item 3. A member joining after the first item is
    recorded late ("đến muộn"); a row not present carries no item."""
    meeting = _lock(meeting)
    _refuse_unless_recording(meeting)
    rows = {a.member_id: a for a in meeting.attendances.select_for_update().select_related("member")}
    agenda = {item.pk: (item.order, item.pk) for item in meeting.agenda_items.all()}
    first = min(agenda.values()) if agenda else None
    errors = []
    changed = []
    presence = dict(presence)
    for member_id in items or {}:
        attendance = rows.get(int(member_id))
        if attendance is not None and int(member_id) not in {int(k) for k in presence}:
            presence[int(member_id)] = (attendance.presence, attendance.absence_reason)
    for member_id, (value, reason) in presence.items():
        attendance = rows.get(int(member_id))
        if attendance is None:
            errors.append(_("Đảng viên #%(id)s không có trong danh sách triệu tập.") % {"id": member_id})
            continue
        if value not in Attendance.Presence.values:
            errors.append(_("Tình trạng có mặt không hợp lệ."))
            continue
        if value == Attendance.Presence.ABSENT_EXCUSED and not (reason or "").strip():
            errors.append(_("Cần ghi lý do vắng của đồng chí %(name)s.") % {"name": attendance.member.full_name})
            continue
        before = snapshot(attendance)
        attendance.presence = value
        attendance.absence_reason = (reason or "").strip()[:255] if value == Attendance.Presence.ABSENT_EXCUSED else ""
        if items is not None and int(member_id) in {int(k) for k in items}:
            joined, left = next(v for k, v in items.items() if int(k) == int(member_id))
            joined, left = (int(joined) if joined else None), (int(left) if left else None)
            problem = _item_presence_errors(attendance, joined, left, agenda)
            if problem:
                errors.append(problem)
                continue
            attendance.joined_item_id, attendance.left_item_id = joined, left
            if joined and agenda[joined] != first and value == Attendance.Presence.PRESENT:
                attendance.presence = Attendance.Presence.LATE  # joined after the first item: "đến muộn"
        if attendance.presence not in Attendance.PRESENT_VALUES:
            attendance.joined_item_id = attendance.left_item_id = None
        if snapshot(attendance) != before:
            attendance.save(update_fields=["presence", "absence_reason", "joined_item", "left_item"])
            _log(
                by=by,
                action="meetings.attendance.record",
                meeting=meeting,
                instance=attendance,
                before=before,
                after=snapshot(attendance),
            )
            changed.append(attendance)
    if errors:
        raise ValidationError(errors)
    if changed:
        _attendance_counts_refresh_one(meeting)
        _votes_recount(meeting, by=by)
    return changed


@transaction.atomic
def opinion_add(
    *,
    meeting: Meeting,
    text: str,
    speaker: Member | None = None,
    guest_name: str = "",
    agenda_item: AgendaItem | None = None,
    in_writing: bool = False,
    by=None,
) -> Opinion:
    meeting = _lock(meeting)
    _refuse_unless_recording(meeting)
    if speaker is None and not guest_name.strip():
        raise ValidationError({"speaker": _("Chọn đảng viên phát biểu hoặc ghi tên khách mời.")})
    if speaker is not None and not meeting.attendances.filter(member=speaker).exists():
        raise ValidationError({"speaker": _("Người phát biểu không có trong danh sách dự họp.")})
    if agenda_item is not None and agenda_item.meeting_id != meeting.pk:
        raise ValidationError({"agenda_item": _("Nội dung không thuộc buổi sinh hoạt này.")})
    if not text.strip():
        raise ValidationError({"text": _("Cần ghi nội dung ý kiến.")})
    opinion = Opinion.objects.create(
        meeting=meeting,
        text=text.strip(),
        speaker=speaker,
        guest_name="" if speaker else guest_name.strip(),
        agenda_item=agenda_item,
        in_writing=in_writing,
    )
    _log(by=by, action="meetings.opinion.create", meeting=meeting, instance=opinion)
    return opinion


@transaction.atomic
def vote_record(
    *,
    meeting: Meeting,
    question: str,
    votes_for: int,
    votes_against: int,
    votes_abstain: int = 0,
    kind: str = Vote.Kind.OTHER,
    method: str = Vote.Method.SHOW_OF_HANDS,
    voters=None,
    subject=None,
    candidate=None,
    by=None,
) -> Vote:
    """Record a vote. What it is measured against is computed, never typed (``meetings.votes.vote_base``:
    the official members summoned less the QĐ 294 §9.3.2 exclusions); the ballots cast cannot exceed the
    members present with a vote. ``voters``, when given, must all have one (a probationary member has
    none); ``subject`` is the probationary member a full-membership vote is about."""
    meeting = _lock(meeting)
    _refuse_unless_recording(meeting)
    errors = {}
    counts = {"votes_for": votes_for, "votes_against": votes_against, "votes_abstain": votes_abstain}
    for field, value in counts.items():
        if value is None or value < 0:
            errors[field] = _("Số phiếu không được âm.")
    if errors:
        raise ValidationError(errors)
    base = vote_base(meeting)
    if voters is not None:
        wrong = [member for member in voters if member.pk not in base.voter_ids]
        if wrong:
            raise ValidationError(
                {
                    "voters": _(
                        "Không có quyền biểu quyết: %(names)s (chỉ đảng viên chính thức có mặt, "
                        "không bị đình chỉ sinh hoạt, không sinh hoạt tạm thời nơi khác)."
                    )
                    % {"names": ", ".join(member.full_name for member in wrong)}
                }
            )
    if not base.denominator:
        raise ValidationError(_("Chi bộ không có đảng viên chính thức nào tính biểu quyết vào ngày sinh hoạt."))
    if not base.present:
        raise ValidationError(_("Chưa có đảng viên chính thức nào có mặt để biểu quyết; hãy điểm danh trước."))
    total = votes_for + votes_against + votes_abstain
    if total > base.present:
        raise ValidationError(
            {
                "votes_for": _(
                    "Tổng số phiếu (%(total)s) vượt quá số đảng viên có mặt có quyền biểu quyết (%(present)s)."
                )
                % {"total": total, "present": base.present}
            }
        )
    if not question.strip():
        raise ValidationError({"question": _("Cần ghi nội dung biểu quyết.")})
    if subject is not None:
        if kind != Vote.Kind.FULL_MEMBERSHIP:
            raise ValidationError(
                {"subject": _("Chỉ ghi đảng viên được xét khi biểu quyết công nhận đảng viên chính thức.")}
            )
        in_cell = selectors.expected_members(cell=meeting.organisation, on=base.day).filter(pk=subject.pk).exists()
        if not in_cell or subject.status != Member.Status.PROBATIONARY:
            raise ValidationError({"subject": _("Phải là đảng viên dự bị của chi bộ.")})
    if candidate is not None:
        # The "cell's vote" step of the admission (cells.admission): a candidate of this cell, not yet admitted.
        if kind != Vote.Kind.ADMISSION:
            raise ValidationError({"candidate": _("Chỉ ghi quần chúng được xét khi biểu quyết kết nạp đảng viên.")})
        if candidate.organisation_id != meeting.organisation_id or candidate.member_id is not None:
            raise ValidationError({"candidate": _("Phải là quần chúng ưu tú do chi bộ giới thiệu, chưa được kết nạp.")})
    vote = Vote.objects.create(
        meeting=meeting,
        question=question.strip(),
        kind=kind,
        method=method,
        votes_for=votes_for,
        votes_against=votes_against,
        votes_abstain=votes_abstain,
        eligible_count=base.denominator,
        subject=subject,
        candidate=candidate,
    )
    _log(
        by=by,
        action="meetings.vote.create",
        meeting=meeting,
        instance=vote,
        after={**snapshot(vote), "passed": vote.passed, "present_with_vote": base.present},
    )
    return vote


def _votes_recount(meeting: Meeting, *, by=None) -> None:
    """Measure the meeting's recorded votes against the count its records give now (attendance was
    changed, or an exemption or suspension recorded since): the count is the rule's, never typed."""
    base = vote_base(meeting)
    for vote in meeting.votes.select_for_update().filter(~Q(eligible_count=base.denominator)):
        before = snapshot(vote)
        vote.eligible_count = base.denominator
        vote.save(update_fields=["eligible_count"])
        _log(
            by=by,
            action="meetings.vote.recount",
            meeting=meeting,
            instance=vote,
            before=before,
            after={**snapshot(vote), "passed": vote.passed},
        )


@transaction.atomic
def resolution_set(*, meeting: Meeting, kind: str, text: str, by=None) -> Resolution:
    """Write (or rewrite) the meeting's conclusion or resolution text before adoption."""
    meeting = _lock(meeting)
    _refuse_unless_recording(meeting)
    if not text.strip():
        raise ValidationError({"text": _("Cần ghi nội dung kết luận.")})
    if kind not in Resolution.Kind.values:
        raise ValidationError({"kind": _("Loại văn bản không hợp lệ.")})
    resolution = Resolution.objects.filter(meeting=meeting).first()
    before = snapshot(resolution) if resolution else None
    if resolution is None:
        resolution = Resolution(meeting=meeting)
    resolution.kind = kind
    resolution.text = text.strip()
    resolution.save()
    _log(
        by=by,
        action="meetings.resolution.set",
        meeting=meeting,
        instance=resolution,
        before=before,
        after=snapshot(resolution),
    )
    return resolution


@transaction.atomic
def agenda_item_update(*, item: AgendaItem, title: str, notes: str = "", by=None) -> AgendaItem:
    meeting = _lock(item.meeting)
    _refuse_locked(meeting)
    if not title.strip():
        raise ValidationError({"title": _("Cần ghi nội dung.")})
    before = snapshot(item)
    item.title, item.notes = title.strip(), notes
    item.save()
    _log(by=by, action="meetings.agenda.update", meeting=meeting, instance=item, before=before, after=snapshot(item))
    return item


@transaction.atomic
def agenda_item_add(*, meeting: Meeting, title: str, notes: str = "", by=None) -> AgendaItem:
    meeting = _lock(meeting)
    _refuse_locked(meeting)
    if not title.strip():
        raise ValidationError({"title": _("Cần ghi nội dung.")})
    order = (meeting.agenda_items.aggregate(last=Max("order"))["last"] or 0) + 1
    item = AgendaItem.objects.create(meeting=meeting, order=order, title=title.strip(), notes=notes)
    _log(by=by, action="meetings.agenda.create", meeting=meeting, instance=item)
    return item


# --- documents ----------------------------------------------------------------------------


def _check_confidential(file, named: str) -> None:
    """A confidential document is a PDF that pypdf can read: each page must take the reader's watermark."""
    from lib.documents import pdf_check_readable

    if named != "pdf":
        raise ValidationError(
            {
                "file": _(
                    "Tài liệu mật chỉ nhận tệp PDF (để đóng dấu tên người xem lên từng trang); hãy chuyển sang PDF."
                )
            }
        )
    file.seek(0)
    data = file.read()
    file.seek(0)
    try:
        pdf_check_readable(data)
    except ValueError:
        raise ValidationError(
            {"file": _("Không đọc được tệp PDF (tệp hỏng hoặc có mật khẩu): không thể đóng dấu tài liệu mật.")}
        ) from None


@transaction.atomic
def meeting_document_add(
    *, meeting: Meeting, file, title: str = "", confidential: bool = False, by=None
) -> MeetingDocument:
    """Attach a document after checking its size and that its content is what its name says; a
    confidential one must be a readable PDF."""
    meeting = _lock(meeting)
    _refuse_locked(meeting)
    named = check_named(
        file,
        allowed=MeetingDocument.ALLOWED,
        max_bytes=MeetingDocument.MAX_BYTES,
        too_large=_("Tệp quá lớn: tối đa 10 MB."),
        not_allowed=_("Chỉ nhận tệp PDF, DOCX, XLSX, JPG hoặc PNG."),
    )
    if confidential:
        _check_confidential(file, named)
    document = MeetingDocument(
        meeting=meeting,
        title=title.strip() or file.name,
        size=file.size,
        confidential=bool(confidential),
        uploaded_by=by,
    )
    document.file.save(file.name, file, save=False)
    document.save()
    if meeting.state == Meeting.State.NOTIFIED:
        Meeting.objects.filter(pk=meeting.pk).update(documents_published_at=timezone.now())
    _log(
        by=by,
        action="meetings.document.create",
        meeting=meeting,
        instance=document,
        after={**snapshot(document, exclude=("file", "uploaded_at")), "file": document.file.name},
    )
    return document


def document_read_record(
    *, document: MeetingDocument, member: Member | None, reader: str, via: str, by=None
) -> DocumentRead | None:
    """One opening of ``document``: a read receipt when ``member`` is on the meeting's list (the first
    opening creates it, each later one counts), and for a confidential document an audit row naming the
    reader, written before the file is served. Returns the receipt, or None for a reader not on the list."""
    now = timezone.now()
    receipt = None
    with transaction.atomic():
        if document.confidential:
            audit_log(
                actor=by,
                action="meetings.document.view",
                instance=document,
                organisation=document.meeting.organisation,
                after={"member": member.pk if member else None, "reader": reader, "via": via, "at": now.isoformat()},
            )
        if member is not None and Attendance.objects.filter(meeting_id=document.meeting_id, member=member).exists():
            receipt = _receipt_count(document=document, member=member, now=now)
            # An upper-level material attached to the meeting: the publisher's reading too (issue #17 item 5).
            if document.material_id:
                _material_receipt(material_id=document.material_id, member=member, now=now)
    return receipt


def _count_opening(model, *, now: datetime.datetime, **key) -> None:
    """Create the member's receipt (a ``ReadReceipt``: ``DocumentRead`` or ``MaterialRead``) or count one
    more opening; of two first openings at once, the second counts as one more."""
    from django.db.models import F

    for _attempt in range(2):
        if model.objects.filter(**key).update(last_read_at=now, count=F("count") + 1):
            return
        try:
            with transaction.atomic():
                model.objects.create(**key, first_read_at=now, last_read_at=now)
            return
        except IntegrityError:
            continue


def _receipt_count(*, document: MeetingDocument, member: Member, now: datetime.datetime) -> DocumentRead:
    """The member's receipt of the meeting document, counted one more opening."""
    _count_opening(DocumentRead, now=now, document=document, member=member)
    return DocumentRead.objects.get(document=document, member=member)


@transaction.atomic
def documents_remind(*, meeting: Meeting, by=None) -> int:
    """The secretary's "nhắc người chưa xem tài liệu": one message (inbox, and e-mail unless the member took
    optional reminders off it) with the personal link to each member on the list who has not opened every
    document, at most once a local day per meeting — a limit of the portal's: no Party document sets how
    often a cell reminds its members. Returns how many were reminded."""
    meeting = _lock(meeting)
    if meeting.state != Meeting.State.NOTIFIED or meeting.planned_start <= timezone.now():
        raise ValidationError(_("Chỉ nhắc xem tài liệu cho buổi sinh hoạt đã thông báo và chưa diễn ra."))
    today = timezone.localdate()
    earlier = DocumentReminder.objects.filter(meeting=meeting, day=today).first()
    if earlier is not None:
        raise ValidationError(
            _("Hôm nay đã nhắc lúc %(time)s; mỗi ngày chỉ nhắc một lần.")
            % {"time": timezone.localtime(earlier.sent_at).strftime("%H:%M")}
        )
    unread = selectors.document_unread_by_member(meeting)
    if not unread:
        return 0
    members = list(Member.objects.filter(pk__in=unread).order_by("full_name", "pk"))
    reminder = DocumentReminder.objects.create(
        meeting=meeting,
        day=today,
        sent_at=timezone.now(),
        by=by if getattr(by, "is_authenticated", False) else None,
        recipients=len(members),
    )
    start = timezone.localtime(meeting.planned_start)
    when = {"kind": meeting.get_kind_display().lower(), "time": f"{start:%H:%M}", "date": f"{start:%d/%m/%Y}"}
    notification_send(
        members=members,
        kind="meetings.documents.reminder",
        organisation=meeting.organisation,
        optional=True,
        subject=_("Nhắc xem tài liệu: %(kind)s %(time)s ngày %(date)s") % when,
        body="",
        url=reverse("meetings:detail", args=[meeting.pk]),
        body_for=lambda member: (
            _(
                "Đồng chí chưa xem tài liệu của %(kind)s lúc %(time)s ngày %(date)s: %(titles)s. "
                "Xem tài liệu (không cần đăng nhập): %(url)s"
            )
            % {**when, "titles": "; ".join(unread[member.pk]), "url": rsvp_url(meeting=meeting, member=member)}
        ),
    )
    _log(
        by=by,
        action="meetings.document.remind",
        meeting=meeting,
        after={"reminded": reminder.recipients, "day": today.isoformat()},
    )
    return len(members)


# --- tasks --------------------------------------------------------------------------------


@transaction.atomic
def task_create(*, meeting: Meeting, description: str, assignees, due_date=None, by=None) -> Task:
    meeting = _lock(meeting)
    _refuse_unless_recording(meeting)
    assignees = list(assignees)
    errors = {}
    if not description.strip():
        errors["description"] = _("Cần ghi nội dung nhiệm vụ.")
    if not assignees:
        errors["assignees"] = _("Chọn ít nhất một người thực hiện.")
    elif any(member.organisation_id != meeting.organisation_id for member in assignees):
        errors["assignees"] = _("Người thực hiện phải là đảng viên của chi bộ.")
    else:
        day = timezone.localdate(meeting.actual_start or meeting.planned_start)
        exempt = set(exempt_member_ids(on=day).values_list("member_id", flat=True))
        excused = [member.full_name for member in assignees if member.pk in exempt]
        if excused:
            errors["assignees"] = _("Đảng viên được miễn sinh hoạt không nhận nhiệm vụ: %(names)s.") % {
                "names": ", ".join(excused)
            }
    if due_date and due_date < timezone.localdate(meeting.actual_start or meeting.planned_start):
        errors["due_date"] = _("Thời hạn không thể trước ngày sinh hoạt.")
    if errors:
        raise ValidationError(errors)
    task = Task.objects.create(meeting=meeting, description=description.strip(), due_date=due_date)
    task.assignees.set(assignees)
    _log(
        by=by,
        action="meetings.task.create",
        meeting=meeting,
        instance=task,
        after={**snapshot(task), "assignees": [m.pk for m in assignees]},
    )
    # The assignees hear of it (inbox, and e-mail unless they turned reminders off): issue #15.
    due = _(" Thời hạn: %(date)s.") % {"date": due_date.strftime("%d/%m/%Y")} if due_date else ""
    notification_send(
        members=assignees,
        kind="meetings.task.assigned",
        organisation=meeting.organisation,
        optional=True,
        subject=_("Nhiệm vụ được giao: %(text)s") % {"text": task.description[:80]},
        body=_("%(cell)s giao đồng chí nhiệm vụ tại buổi sinh hoạt ngày %(date)s: %(text)s.%(due)s")
        % {
            "cell": meeting.organisation.name,
            "date": timezone.localdate(meeting.actual_start or meeting.planned_start).strftime("%d/%m/%Y"),
            "text": task.description,
            "due": due,
        },
        url=reverse("meetings:my_tasks"),
    )
    return task


@transaction.atomic
def rsvp_remind(*, meeting: Meeting, by=None) -> int:
    """The secretary's "nhắc người chưa trả lời": one message, with the personal one-click link, to each
    member who has not answered a noticed meeting still ahead. Returns how many were reminded."""
    meeting = _lock(meeting)
    if meeting.state != Meeting.State.NOTIFIED or meeting.planned_start <= timezone.now():
        raise ValidationError(_("Chỉ nhắc xác nhận cho buổi sinh hoạt đã thông báo và chưa diễn ra."))
    silent = [a.member for a in selectors.rsvp_silent(meeting).select_related("member")]
    if not silent:
        return 0
    start = timezone.localtime(meeting.planned_start)
    notification_send(
        members=silent,
        kind="meetings.rsvp.reminder",
        organisation=meeting.organisation,
        subject=_("Nhắc xác nhận tham dự: %(kind)s %(time)s ngày %(date)s")
        % {"kind": meeting.get_kind_display().lower(), "time": f"{start:%H:%M}", "date": f"{start:%d/%m/%Y}"},
        body="",
        url=reverse("meetings:detail", args=[meeting.pk]),
        body_for=lambda member: (
            _(
                "Đồng chí chưa xác nhận tham dự %(kind)s lúc %(time)s ngày %(date)s tại "
                "%(place)s. Xác nhận hoặc báo vắng (không cần đăng nhập): %(url)s"
            )
            % {
                "kind": meeting.get_kind_display().lower(),
                "time": f"{start:%H:%M}",
                "date": f"{start:%d/%m/%Y}",
                "place": meeting.place or "…",
                "url": rsvp_url(meeting=meeting, member=member),
            }
        ),
    )
    _log(by=by, action="meetings.meeting.remind", meeting=meeting, after={"reminded": len(silent)})
    return len(silent)


@transaction.atomic
def task_update_status(*, task: Task, status: str, result: str = "", by=None) -> Task:
    task = (
        Task.objects.select_for_update(of=("self",)).select_related("meeting", "meeting__organisation").get(pk=task.pk)
    )
    if status not in Task.Status.values:
        raise ValidationError({"status": _("Tình trạng không hợp lệ.")})
    if status == Task.Status.DONE and not (result or task.result).strip():
        raise ValidationError({"result": _("Cần ghi kết quả thực hiện.")})
    before = snapshot(task)
    task.status = status
    if result:
        task.result = result.strip()
    task.completed_at = timezone.now() if status == Task.Status.DONE else None
    task.save()
    _log(by=by, action="meetings.task.update", meeting=task.meeting, instance=task, before=before, after=snapshot(task))
    return task


# --- adoption -----------------------------------------------------------------------------


def _term_on(organisation: Organisation, day: datetime.date) -> Term | None:
    return (
        organisation.terms.filter(start__lte=day)
        .filter(Q(end__isnull=True) | Q(end__gte=day))
        .order_by("-start")
        .first()
    )


@transaction.atomic
def meeting_adopt_minutes(*, meeting: Meeting, by=None) -> Meeting:
    """Number and lock the minutes (and the conclusion), then send the conclusion to the members."""
    meeting = _lock(meeting)
    _refuse_locked(meeting)
    blocking = [problem.message for problem in minutes_completeness(meeting) if problem.blocking]
    if blocking:
        raise ValidationError(blocking)
    _votes_recount(meeting, by=by)  # the adopted minutes print the count of the records as they stand
    before = snapshot(meeting)
    organisation = Organisation.objects.select_for_update().get(pk=meeting.organisation_id)  # serialise numbering
    day = timezone.localdate(meeting.actual_start)
    term = _term_on(organisation, day)
    numbered = Meeting.objects.filter(organisation=organisation, term=term, minutes_number__isnull=False)
    meeting.term = term
    meeting.minutes_number = (numbered.aggregate(last=Max("minutes_number"))["last"] or 0) + 1
    meeting.adopted_at = timezone.now()
    meeting.state = Meeting.State.MINUTES_ADOPTED
    meeting.save()
    resolution = Resolution.objects.select_for_update().get(meeting=meeting)
    same_kind = Resolution.objects.filter(
        meeting__organisation=organisation, term=term, kind=resolution.kind, number__isnull=False
    )
    resolution.term = term
    resolution.number = (same_kind.aggregate(last=Max("number"))["last"] or 0) + 1
    resolution.adopted_at = meeting.adopted_at
    resolution.save()
    _log(by=by, action="meetings.meeting.adopt", meeting=meeting, before=before, after=snapshot(meeting))
    _log(by=by, action="meetings.resolution.adopt", meeting=meeting, instance=resolution)
    members = [
        a.member for a in meeting.attendances.select_related("member").exclude(presence=Attendance.Presence.EXEMPT)
    ]
    notification_send(
        members=members,
        kind="meetings.conclusion",
        organisation=organisation,
        subject=_("%(kind)s số %(ref)s của %(cell)s")
        % {"kind": resolution.get_kind_display(), "ref": resolution.reference, "cell": organisation.name},
        body=resolution.text,
        url=reverse("meetings:minutes", args=[meeting.pk]),
    )
    # The minutes and the conclusion are filed as adopted: stored once, signed when a certificate is set.
    from .documents import file_adopted_documents

    file_adopted_documents(meeting)
    # The conclusion goes up at once to those the upper level put in charge (reported within
    # indicators.REPORT_UP_DUE); with nobody to receive it the meeting page says so and offers to send later.
    if upward_recipients(meeting):
        meeting = meeting_report_upward(meeting=meeting, by=by)
    # The layers above react once the adoption is committed (the scoring app pre-fills the score);
    # robust: a listener's failure (the broker down) is logged, never turned into a failed adoption.
    meeting_id = meeting.pk
    transaction.on_commit(lambda: minutes_adopted.send_robust(sender=Meeting, meeting_id=meeting_id), robust=True)
    return meeting


def upward_recipients(meeting: Meeting) -> list[Member]:
    """Who receives the cell's report upward: the đảng ủy viên phụ trách of the cell on the meeting's day,
    the upper committee's member in charge of it (seed §II "báo cáo cấp trên"). The upper committee's own
    posts are not member records here (a member belongs to a cell), so its office reads the report on the
    meeting's page and in the drill-downs."""
    day = timezone.localdate(meeting.actual_start or meeting.planned_start)
    return list(selectors.supervisors_of(cell=meeting.organisation, on=day).order_by("full_name", "pk"))


@transaction.atomic
def meeting_report_upward(*, meeting: Meeting, by=None) -> Meeting:
    """Send the adopted conclusion to the upper level and record when and to whom. The first sending is
    the report's date (``reported_up_at``); sending again (a supervisor named later) keeps that date."""
    meeting = _lock(meeting)
    if meeting.state != Meeting.State.MINUTES_ADOPTED:
        raise ValidationError(_("Chỉ báo cáo cấp trên sau khi biên bản đã được thông qua."))
    recipients = upward_recipients(meeting)
    if not recipients:
        raise ValidationError(
            _(
                "Chi bộ chưa có đảng ủy viên phụ trách trên hệ thống nên chưa có ai nhận báo cáo. "
                "Đề nghị cấp ủy cấp trên phân công đảng ủy viên phụ trách, rồi gửi lại."
            )
        )
    before = snapshot(meeting)
    resolution = Resolution.objects.filter(meeting=meeting).first()
    held = timezone.localtime(meeting.actual_start or meeting.planned_start)
    ref = resolution.reference if resolution else meeting.minutes_reference
    kind = resolution.get_kind_display() if resolution else _("Biên bản")
    notification_send(
        members=recipients,
        kind="meetings.report_upward",
        organisation=meeting.organisation,
        subject=_("Báo cáo cấp trên: %(kind)s số %(ref)s của %(cell)s")
        % {"kind": kind, "ref": ref, "cell": meeting.organisation.name},
        body=_(
            "%(cell)s báo cáo kết quả %(meeting)s ngày %(date)s: có mặt %(present)s/%(base)s đảng viên phải dự.\n\n"
            "%(text)s"
        )
        % {
            "cell": meeting.organisation.name,
            "meeting": meeting.get_kind_display().lower(),
            "date": f"{held:%d/%m/%Y}",
            "present": meeting.attendance_present,
            "base": meeting.attendance_base,
            "text": resolution.text if resolution else "",
        },
        url=reverse("meetings:minutes", args=[meeting.pk]),
    )
    if meeting.reported_up_at is None:
        meeting.reported_up_at = timezone.now()
    meeting.reported_up_to = "\n".join(member.full_name for member in recipients)
    meeting.save(update_fields=["reported_up_at", "reported_up_to", "updated_at"])
    _log(by=by, action="meetings.meeting.report_upward", meeting=meeting, before=before, after=snapshot(meeting))
    return meeting


@transaction.atomic
def amendment_add(*, meeting: Meeting, reason: str, text: str, by=None) -> Amendment:
    """Correct adopted minutes: the record stays as adopted, the correction is kept beside it."""
    meeting = _lock(meeting)
    if meeting.state != Meeting.State.MINUTES_ADOPTED:
        raise ValidationError(_("Chỉ đính chính biên bản đã thông qua; trước đó hãy sửa trực tiếp."))
    errors = {}
    if not reason.strip():
        errors["reason"] = _("Cần ghi lý do đính chính.")
    if not text.strip():
        errors["text"] = _("Cần ghi nội dung đính chính.")
    if errors:
        raise ValidationError(errors)
    amendment = Amendment.objects.create(
        meeting=meeting,
        reason=reason.strip(),
        text=text.strip(),
        by=by if getattr(by, "is_authenticated", False) else None,
    )
    _log(by=by, action="meetings.amendment.create", meeting=meeting, instance=amendment)
    return amendment


# --- the personal calendar feed ------------------------------------------------------------


def _new_feed_token() -> str:
    import secrets

    return secrets.token_urlsafe(24)


@transaction.atomic
def calendar_feed_renew(*, member: Member, by=None) -> CalendarFeed:
    """Give the member a new secret calendar address; the old one (if any) stops answering at once.

    The token itself never goes into the audit row: it is a password to the member's meetings.
    """
    feed = CalendarFeed.objects.select_for_update().filter(member=member).first()
    renewed = feed is not None
    if feed is None:
        feed = CalendarFeed(member=member)
    feed.token = _new_feed_token()
    feed.save()
    audit_log(
        actor=by,
        action="meetings.calendar_feed.renew" if renewed else "meetings.calendar_feed.create",
        instance=feed,
        organisation=member.organisation,
        after={"member": member.pk, "renewed": renewed},
    )
    return feed


@transaction.atomic
def calendar_feed_revoke(*, member: Member, by=None) -> bool:
    """Turn the member's calendar address off; False when there was none."""
    feed = CalendarFeed.objects.select_for_update().filter(member=member).first()
    if feed is None:
        return False
    audit_log(
        actor=by,
        action="meetings.calendar_feed.revoke",
        instance=feed,
        organisation=member.organisation,
        before={"member": member.pk},
    )
    feed.delete()
    return True


# --- the yearly plan of thematic meetings and forums (issue #18, items 1 and 2) -------------------


def _topic_meeting_errors(*, cell: Organisation, year: int, kind: str, quarter: int | None, meeting) -> list[str]:
    """Why ``meeting`` cannot be the one that held this planned topic (empty when it can)."""
    if meeting.organisation_id != cell.pk:
        return [_("Buổi sinh hoạt không thuộc chi bộ này.")]
    errors = []
    if meeting.state == Meeting.State.CANCELLED:
        errors.append(_("Buổi sinh hoạt đã bị hủy."))
    if meeting.period_month.year != year:
        errors.append(_("Buổi sinh hoạt không thuộc năm %(year)s của kế hoạch.") % {"year": year})
    if kind == TopicKind.THEMATIC and not kinds.get(meeting.kind).thematic:
        errors.append(_("Chuyên đề của quý chỉ gắn với buổi sinh hoạt chuyên đề hoặc thường kỳ kết hợp chuyên đề."))
    if kind == TopicKind.FORUM and meeting.kind != Meeting.Kind.FORUM:
        errors.append(_("Chủ đề diễn đàn chỉ gắn với buổi diễn đàn."))
    if kind == TopicKind.THEMATIC and quarter and quarter_number(meeting.period_month) != quarter:
        errors.append(
            _("Buổi sinh hoạt tính cho tháng %(month)s, không thuộc quý %(quarter)s của chuyên đề.")
            % {"month": meeting.period_month.strftime("%m/%Y"), "quarter": quarter}
        )
    return errors


def _planned_topic_check(topic) -> None:
    """The rules of one plan row, as errors next to the fields (nothing is saved when one fails)."""
    errors: dict[str, list[str]] = {}
    if topic.kind == TopicKind.THEMATIC and topic.quarter not in (1, 2, 3, 4):
        errors.setdefault("quarter", []).append(_("Chọn quý (I đến IV) của chuyên đề."))
    if topic.kind == TopicKind.FORUM:
        topic.quarter = None
    if not topic.title.strip():
        errors.setdefault("title", []).append(_("Cần ghi tên chuyên đề, hoặc chọn từ chuyên đề gợi ý."))
    suggested = topic.suggested
    if suggested is not None and (
        suggested.year != topic.year
        or suggested.kind != topic.kind
        or not topic.organisation.path.startswith(suggested.publisher.path)
    ):
        errors.setdefault("suggested", []).append(
            _("Chuyên đề gợi ý phải của cấp ủy cấp trên, cùng năm và cùng loại với kế hoạch.")
        )
    if topic.drafter is not None and topic.drafter.organisation_id != topic.organisation_id:
        errors.setdefault("drafter", []).append(_("Người chuẩn bị đề cương phải là đảng viên của chi bộ."))
    if topic.meeting is not None:
        meeting_errors = _topic_meeting_errors(
            cell=topic.organisation, year=topic.year, kind=topic.kind, quarter=topic.quarter, meeting=topic.meeting
        )
        taken = PlannedTopic.objects.filter(meeting=topic.meeting).exclude(pk=topic.pk).first()
        if taken is not None:
            meeting_errors.append(_("Buổi sinh hoạt này đã gắn với chuyên đề “%(title)s”.") % {"title": taken.title})
        if meeting_errors:
            errors["meeting"] = meeting_errors
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def suggested_topic_create(*, publisher: Organisation, year: int, title: str, kind: str, note: str = "", by=None):
    """A topic of the Khối's or a đảng ủy cơ sở's bank for ``year``."""
    if publisher.kind in Organisation.CELL_KINDS:
        raise ValidationError(_("Chỉ Đảng ủy Khối và đảng ủy cơ sở công bố chuyên đề gợi ý."))
    if not title.strip():
        raise ValidationError({"title": _("Cần ghi tên chuyên đề.")})
    topic = SuggestedTopic.objects.create(publisher=publisher, year=year, title=title.strip(), kind=kind, note=note)
    audit_log(actor=by, action="meetings.suggested_topic.create", instance=topic, organisation=publisher)
    return topic


@transaction.atomic
def planned_topic_create(
    *,
    cell: Organisation,
    year: int,
    kind: str,
    title: str = "",
    quarter: int | None = None,
    suggested=None,
    drafter: Member | None = None,
    draft_due: datetime.date | None = None,
    meeting: Meeting | None = None,
    by=None,
):
    """A topic of the cell's plan for ``year``; picked from the bank, its title is the bank's unless written."""
    if suggested is not None and not title.strip():
        title = suggested.title
    topic = PlannedTopic(
        organisation=cell,
        year=year,
        kind=kind,
        quarter=quarter,
        title=title.strip(),
        suggested=suggested,
        drafter=drafter,
        draft_due=draft_due,
        meeting=meeting,
    )
    _planned_topic_check(topic)
    topic.save()
    audit_log(actor=by, action="meetings.planned_topic.create", instance=topic, organisation=cell)
    return topic


@transaction.atomic
def planned_topic_update(
    *,
    topic,
    title: str,
    quarter: int | None = None,
    suggested=None,
    drafter: Member | None = None,
    draft_due: datetime.date | None = None,
    meeting: Meeting | None = None,
    by=None,
):
    """Change a plan row. A new title or quarter is a new plan: the chi ủy's approval is cleared."""
    topic = PlannedTopic.objects.select_for_update().select_related("organisation").get(pk=topic.pk)
    before = snapshot(topic)
    if suggested is not None and not title.strip():
        title = suggested.title
    if title.strip() != topic.title or (topic.kind == "thematic" and quarter != topic.quarter):
        topic.approved_at, topic.approved_by = None, None
    topic.title, topic.quarter, topic.suggested = title.strip(), quarter, suggested
    topic.drafter, topic.draft_due, topic.meeting = drafter, draft_due, meeting
    _planned_topic_check(topic)
    topic.save()
    audit_log(
        actor=by,
        action="meetings.planned_topic.update",
        instance=topic,
        organisation=topic.organisation,
        before=before,
        after=snapshot(topic),
    )
    return topic


@transaction.atomic
def planned_topic_approve(*, topic, by=None):
    """Record that the chi ủy approved the plan row (once; approving again changes nothing)."""
    topic = PlannedTopic.objects.select_for_update().select_related("organisation").get(pk=topic.pk)
    if topic.approved_at is not None:
        return topic
    before = snapshot(topic)
    topic.approved_at = timezone.now()
    topic.approved_by = by if getattr(by, "is_authenticated", False) else None
    topic.save(update_fields=["approved_at", "approved_by", "updated_at"])
    audit_log(
        actor=by,
        action="meetings.planned_topic.approve",
        instance=topic,
        organisation=topic.organisation,
        before=before,
        after=snapshot(topic),
    )
    return topic


# --- before the meeting: absence requests, speaking, comments on the draft (issue #17 item 2) --------


def _refuse_unless_before_meeting(meeting: Meeting) -> None:
    """A member's input before the meeting is taken while ``selectors.before_meeting`` (the one home of
    the window); otherwise the refusal says why."""
    if selectors.before_meeting(meeting):
        return
    if meeting.state == Meeting.State.CANCELLED:
        raise ValidationError(_("Buổi sinh hoạt đã bị hủy."))
    if meeting.state in (Meeting.State.HELD, Meeting.State.MINUTES_ADOPTED):
        raise ValidationError(
            _("Buổi sinh hoạt đã họp: không còn nhận ý kiến, đăng ký hay đơn xin vắng trước buổi họp.")
        )
    if meeting.state != Meeting.State.NOTIFIED:
        raise ValidationError(_("Buổi sinh hoạt chưa được thông báo."))
    raise ValidationError(
        _("Buổi sinh hoạt đã bắt đầu: không còn nhận ý kiến, đăng ký hay đơn xin vắng trước buổi họp.")
    )


def _summoned_row(meeting: Meeting, member: Member | None) -> Attendance:
    """The member's attendance row on the meeting (locked): only a member summoned to it takes part."""
    attendance = (
        Attendance.objects.select_for_update().filter(meeting=meeting, member=member).first() if member else None
    )
    if attendance is None:
        raise ValidationError(_("Đồng chí không có trong danh sách triệu tập của buổi sinh hoạt này."))
    return attendance


@transaction.atomic
def absence_request_file(
    *, meeting: Meeting, member: Member | None, reason_type: str, reason: str, evidence=None, by=None
) -> AbsenceRequest:
    """A summoned member asks to be excused from a meeting not held yet (the rule: ``AbsenceRequest``)."""
    meeting = _lock(meeting)
    _refuse_unless_before_meeting(meeting)
    attendance = _summoned_row(meeting, member)
    assert member is not None  # a row was found for them
    if attendance.presence in Attendance.OUTSIDE_BASE_VALUES:
        raise ValidationError(
            _("Đồng chí không phải dự buổi sinh hoạt này (%(state)s): không cần xin vắng.")
            % {"state": attendance.get_presence_display().lower()}
        )
    open_request = meeting.absence_requests.filter(
        member=member, state__in=[AbsenceRequest.State.PENDING, AbsenceRequest.State.ACCEPTED]
    ).first()
    if open_request is not None:
        raise ValidationError(
            _("Đồng chí đã có đơn xin vắng đang chờ quyết định.")
            if open_request.state == AbsenceRequest.State.PENDING
            else _("Đơn xin vắng của đồng chí đã được đồng ý.")
        )
    errors = {}
    if reason_type not in AbsenceRequest.ReasonType.values:
        errors["reason_type"] = _("Chọn loại lý do.")
    if not (reason or "").strip():
        errors["reason"] = _("Vui lòng ghi lý do xin vắng.")
    if errors:
        raise ValidationError(errors)
    if evidence:
        check_named(
            evidence,
            allowed=AbsenceRequest.ALLOWED,
            max_bytes=AbsenceRequest.MAX_BYTES,
            too_large=_("Tệp minh chứng quá lớn: tối đa 5 MB."),
            not_allowed=_("Minh chứng chỉ nhận tệp PDF, JPG hoặc PNG."),
        )
    request = AbsenceRequest(meeting=meeting, member=member, reason_type=reason_type, reason=reason.strip()[:255])
    if evidence:
        request.evidence.save(evidence.name, evidence, save=False)
    request.save()
    _log(
        by=by,
        action="meetings.absence_request.create",
        meeting=meeting,
        instance=request,
        after={**snapshot(request, exclude=("evidence", "created_at")), "evidence": request.evidence.name},
    )
    _absence_request_announce(request)
    return request


def _absence_request_announce(request: AbsenceRequest) -> None:
    """The cell's bí thư (else phó bí thư) on the meeting's day hears of a new request: inbox, and e-mail
    unless they turned optional reminders off (a task to do, as a task assigned)."""
    from .reminders import secretaries_of

    meeting = request.meeting
    start = timezone.localtime(meeting.planned_start)
    deciders = secretaries_of(cell_ids=[meeting.organisation_id], on=start.date()).get(meeting.organisation_id, [])
    values = {
        "name": request.member.full_name,
        "kind": meeting.get_kind_display().lower(),
        "time": f"{start:%H:%M}",
        "date": date_text(start.date()),
        "reason": request.attendance_reason,
    }
    notification_send(
        members=[member for member in deciders if member.pk != request.member_id],
        kind="meetings.absence_request.filed",
        organisation=meeting.organisation,
        optional=True,
        subject=_("Đơn xin vắng của đồng chí %(name)s: %(kind)s %(time)s ngày %(date)s") % values,
        body=_("Đồng chí %(name)s xin vắng %(kind)s lúc %(time)s ngày %(date)s. Lý do: %(reason)s.") % values,
        url=reverse("meetings:detail", args=[meeting.pk]) + "#xin-vang",
    )


def _absence_answer(request: AbsenceRequest) -> tuple[str, str]:
    """The subject and text of the answer the member receives."""
    start = timezone.localtime(request.meeting.planned_start)
    values = {
        "kind": request.meeting.get_kind_display().lower(),
        "time": f"{start:%H:%M}",
        "date": date_text(start.date()),
        "cell": request.meeting.organisation.name,
        "reason": request.attendance_reason,
    }
    if request.state == AbsenceRequest.State.ACCEPTED:
        subject = _("Đồng ý cho vắng: %(kind)s %(time)s ngày %(date)s") % values
        body = (
            _(
                "%(cell)s đồng ý cho đồng chí vắng %(kind)s lúc %(time)s ngày %(date)s (lý do: %(reason)s). "
                "Đồng chí được ghi “vắng có lý do”."
            )
            % values
        )
    else:
        subject = _("Không đồng ý cho vắng: %(kind)s %(time)s ngày %(date)s") % values
        body = (
            _(
                "%(cell)s không đồng ý đơn xin vắng %(kind)s lúc %(time)s ngày %(date)s của đồng chí "
                "(lý do: %(reason)s). Đề nghị đồng chí tham dự."
            )
            % values
        )
    if request.answer_note:
        body += " " + _("Ý kiến: %(note)s") % {"note": request.answer_note}
    return subject, body


@transaction.atomic
def absence_request_decide(*, request: AbsenceRequest, accept: bool, note: str = "", by=None) -> AbsenceRequest:
    """The cell's answer to a pending request. Accepting pre-fills the member's attendance as "vắng có lý
    do" with the reason, through ``attendance_record`` (its audit row, the meeting's stored counts, the
    votes' recount); the secretary may still change it when recording the day. Refusing leaves the
    attendance as it is. The member hears of it in the inbox and by e-mail — always: the answer says
    whether they are expected at the meeting, as the notice itself does (never ``optional``)."""
    meeting = _lock(request.meeting)
    _refuse_unless_recording(meeting)
    request = (
        AbsenceRequest.objects.select_for_update(of=("self",))
        .select_related("member", "meeting", "meeting__organisation")
        .get(pk=request.pk)
    )
    if request.state != AbsenceRequest.State.PENDING:
        raise ValidationError(_("Đơn xin vắng này đã được quyết định."))
    attendance = meeting.attendances.filter(member=request.member).first()
    if attendance is None:
        raise ValidationError(_("Đồng chí %(name)s không còn trong danh sách triệu tập.") % {"name": request.member})
    if accept and attendance.presence in Attendance.OUTSIDE_BASE_VALUES:
        raise ValidationError(
            _("Đồng chí %(name)s hiện %(state)s: không cần cho vắng.")
            % {"name": request.member.full_name, "state": attendance.get_presence_display().lower()}
        )
    before = snapshot(request, exclude=("evidence", "created_at"))
    request.state = AbsenceRequest.State.ACCEPTED if accept else AbsenceRequest.State.REFUSED
    request.decided_by = by if getattr(by, "is_authenticated", False) else None
    request.decided_at = timezone.now()
    request.answer_note = (note or "").strip()[:255]
    request.save(update_fields=["state", "decided_by", "decided_at", "answer_note"])
    _log(
        by=by,
        action="meetings.absence_request.accept" if accept else "meetings.absence_request.refuse",
        meeting=meeting,
        instance=request,
        before=before,
        after=snapshot(request, exclude=("evidence", "created_at")),
    )
    if accept:
        attendance_record(
            meeting=meeting,
            presence={request.member_id: (Attendance.Presence.ABSENT_EXCUSED, request.attendance_reason)},
            by=by,
        )
    subject, body = _absence_answer(request)
    notification_send(
        members=[request.member],
        kind="meetings.absence_request.answer",
        organisation=meeting.organisation,
        subject=subject,
        body=body,
        url=reverse("meetings:detail", args=[meeting.pk]),
    )
    return request


@transaction.atomic
def speak_request_toggle(*, item: AgendaItem, member: Member | None, by=None) -> bool:
    """Register the member to speak on ``item`` ("xin phát biểu"), or withdraw it; True when registered."""
    meeting = _lock(item.meeting)
    _refuse_unless_before_meeting(meeting)
    attendance = _summoned_row(meeting, member)
    assert member is not None  # a row was found for them
    if attendance.presence in Attendance.OUTSIDE_BASE_VALUES:
        raise ValidationError(_("Đồng chí không phải dự buổi sinh hoạt này."))
    existing = SpeakRequest.objects.filter(agenda_item=item, member=member).first()
    if existing is not None:
        audit_log(
            actor=by,
            action="meetings.speak_request.withdraw",
            instance=existing,
            organisation=meeting.organisation,
            before=snapshot(existing),
        )
        existing.delete()
        return False
    speak = SpeakRequest.objects.create(agenda_item=item, member=member)
    _log(by=by, action="meetings.speak_request.create", meeting=meeting, instance=speak)
    return True


@transaction.atomic
def draft_comment_add(*, meeting: Meeting, member: Member | None, text: str, by=None) -> DraftComment:
    """A summoned member's comment on the draft conclusion, before the meeting."""
    meeting = _lock(meeting)
    _refuse_unless_before_meeting(meeting)
    _summoned_row(meeting, member)
    assert member is not None  # a row was found for them
    if not Resolution.objects.filter(meeting=meeting).exists():
        raise ValidationError(_("Chưa có dự thảo kết luận để góp ý."))
    if not (text or "").strip():
        raise ValidationError({"text": _("Cần ghi nội dung góp ý.")})
    comment = DraftComment.objects.create(meeting=meeting, member=member, text=text.strip())
    _log(by=by, action="meetings.draft_comment.create", meeting=meeting, instance=comment)
    return comment


# --- the upper level's visit plan (issue #18, item 3) --------------------------------------------
#
# "Đảng uỷ cơ sở phân công các đồng chí Đảng uỷ viên dự sinh hoạt tại các chi bộ ít nhất một quý một
# lần" (seed resolution §II.5, DR §1). The "at least once a quarter" itself lives in
# meetings.indicators (visits_q, visited_in_quarter): these services only record the plan, and the
# confirmed visit as the meeting's upper-level guest, which is what the indicator counts. The source
# sets no deadline for assigning or for the observation card: the portal sets none beyond the quarter.


def _visit_log(*, by, action: str, assignment, instance=None, before=None) -> None:
    instance = instance or assignment
    audit_log(
        actor=by,
        action=action,
        instance=instance,
        organisation=assignment.cell,
        before=before,
        after=snapshot(instance),
    )


def _visit_assign_errors(*, upper: Organisation, cell: Organisation, quarter: datetime.date, visitor: Member) -> dict:
    errors: dict[str, str] = {}
    if quarter != quarter_start(quarter):
        errors["quarter"] = _("Quý phải bắt đầu từ ngày đầu quý.")
    elif indicators.Period(quarter.year, quarter_number(quarter)).ended(timezone.localdate()):
        errors["quarter"] = _("%(quarter)s đã kết thúc: không phân công dự sinh hoạt cho quý đã qua.") % {
            "quarter": capfirst(quarter_label(quarter))
        }
    if upper.kind not in selectors.VISIT_UPPER_KINDS:
        errors["upper"] = _("Chỉ cấp ủy cấp trên của chi bộ phân công dự sinh hoạt.")
    if not cell.is_cell or cell.pk == upper.pk or not cell.is_descendant_of(upper):
        errors["cell"] = _("Chi bộ không trực thuộc %(upper)s.") % {"upper": upper.name}
    elif (
        "quarter" not in errors
        and not indicators.cells_active(start=quarter, end=quarter_end(quarter), within=upper)
        .filter(pk=cell.pk)
        .exists()
    ):
        errors["cell"] = _("Chi bộ không hoạt động trong quý này.")
    if "quarter" not in errors:
        committee = selectors.upper_committee_members(upper=upper, start=quarter, end=quarter_end(quarter))
        if not committee.filter(pk=visitor.pk).exists():
            errors["visitor"] = _("Đồng chí %(name)s không phải cấp ủy viên của %(upper)s trong quý này.") % {
                "name": visitor.full_name,
                "upper": upper.name,
            }
    if "visitor" not in errors and visitor.organisation_id == cell.pk:
        errors["visitor"] = _("Đồng chí %(name)s sinh hoạt tại chính chi bộ này, không dự với tư cách cấp trên.") % {
            "name": visitor.full_name
        }
    return errors


@transaction.atomic
def visit_assign(
    *, upper: Organisation, cell: Organisation, quarter: datetime.date, visitor: Member, by=None
) -> VisitAssignment:
    """Assign a committee member of ``upper`` to attend a meeting of ``cell`` in the quarter."""
    errors = _visit_assign_errors(upper=upper, cell=cell, quarter=quarter, visitor=visitor)
    if not errors and VisitAssignment.objects.filter(cell=cell, quarter=quarter, visitor=visitor).exists():
        errors["visitor"] = _("Đồng chí %(name)s đã được phân công dự sinh hoạt chi bộ này trong quý.") % {
            "name": visitor.full_name
        }
    if errors:
        raise ValidationError(errors)
    assignment = VisitAssignment.objects.create(
        upper=upper, cell=cell, quarter=quarter, visitor=visitor, created_by=by if getattr(by, "pk", None) else None
    )
    _visit_log(by=by, action="meetings.visit.assign", assignment=assignment)
    return assignment


@transaction.atomic
def visit_unassign(*, assignment: VisitAssignment, by=None) -> None:
    """Withdraw an assignment made by mistake or no longer possible. One the visitor has confirmed stays:
    he is recorded as that meeting's upper-level guest, which the visit indicator counts."""
    assignment = VisitAssignment.objects.select_for_update().select_related("cell").get(pk=assignment.pk)
    if assignment.confirmed_at:
        raise ValidationError(
            _("Đồng chí %(name)s đã xác nhận dự buổi sinh hoạt ngày %(date)s: không hủy phân công được.")
            % {
                "name": assignment.visitor.full_name,
                "date": date_text(timezone.localtime(assignment.confirmed_at).date())
                if assignment.meeting is None
                else date_text(timezone.localtime(assignment.meeting.planned_start).date()),
            }
        )
    audit_log(
        actor=by,
        action="meetings.visit.unassign",
        instance=assignment,
        organisation=assignment.cell,
        before=snapshot(assignment),
    )
    assignment.delete()


def _visit_meeting_error(assignment: VisitAssignment, meeting: Meeting) -> str | None:
    if meeting.organisation_id != assignment.cell_id:
        return _("Buổi sinh hoạt không phải của %(cell)s.") % {"cell": assignment.cell.name}
    if quarter_start(meeting.period_month) != assignment.quarter:
        return _("Buổi sinh hoạt tính cho tháng %(month)s, không thuộc %(quarter)s được phân công.") % {
            "month": f"{meeting.period_month:%m/%Y}",
            "quarter": quarter_label(assignment.quarter),
        }
    if meeting.kind not in indicators.CELL_MEETING_KINDS:
        return _("Đại biểu cấp trên dự sinh hoạt của toàn chi bộ, không phải cuộc họp này.")
    if meeting.state == Meeting.State.CANCELLED:
        return _("Buổi sinh hoạt đã hủy.")
    if meeting.is_locked:
        return _("Biên bản buổi sinh hoạt đã thông qua: không ghi thêm đại biểu cấp trên được nữa.")
    if assignment.meeting_id and assignment.meeting_id != meeting.pk:
        return _("Đồng chí đã xác nhận dự buổi sinh hoạt khác của chi bộ trong quý.")
    return None


@transaction.atomic
def visit_confirm(*, assignment: VisitAssignment, meeting: Meeting, by=None) -> VisitAssignment:
    """The visitor confirms attending ``meeting``: he becomes its upper-level guest (``Meeting.upper_guests``,
    which the visit indicator reads) and the assignment records the meeting and when."""
    assignment = VisitAssignment.objects.select_for_update().select_related("cell", "visitor").get(pk=assignment.pk)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    error = _visit_meeting_error(assignment, meeting)
    if error:
        raise ValidationError({"meeting": error})
    if assignment.meeting_id == meeting.pk and assignment.confirmed_at:
        return assignment
    before = snapshot(assignment)
    meeting.upper_guests.add(assignment.visitor)
    assignment.meeting = meeting
    assignment.confirmed_at = timezone.now()
    assignment.save(update_fields=["meeting", "confirmed_at"])
    _visit_log(by=by, action="meetings.visit.confirm", assignment=assignment, before=before)
    return assignment


@transaction.atomic
def visit_observe(
    *,
    assignment: VisitAssignment,
    rating: str,
    strengths: str = "",
    weaknesses: str = "",
    recommendations: str = "",
    by=None,
) -> VisitObservation:
    """Record (or correct) the visitor's observation card, once the meeting he confirmed has been held."""
    # Not joined to the meeting: PostgreSQL locks no row on the nullable side of an outer join.
    assignment = VisitAssignment.objects.select_for_update().select_related("cell").get(pk=assignment.pk)
    meeting = Meeting.objects.get(pk=assignment.meeting_id) if assignment.meeting_id else None
    if meeting is None or assignment.confirmed_at is None:
        raise ValidationError(_("Chưa xác nhận buổi sinh hoạt dự: xác nhận trước khi ghi phiếu nhận xét."))
    if meeting.state not in indicators.HELD_STATES:
        raise ValidationError(
            _("Buổi sinh hoạt chưa diễn ra: phiếu nhận xét được ghi sau khi chi bộ ghi nhận buổi sinh hoạt đã họp.")
        )
    if not meeting.upper_guests.filter(pk=assignment.visitor_id).exists():
        raise ValidationError(_("Biên bản buổi sinh hoạt không ghi đồng chí là đại biểu cấp trên dự."))
    if rating not in VisitObservation.Rating.values:
        raise ValidationError({"rating": _("Chọn một mức đánh giá.")})
    observation = VisitObservation.objects.filter(assignment=assignment).first()
    before = snapshot(observation) if observation else None
    if observation is None:
        observation = VisitObservation(assignment=assignment, meeting=meeting)
    observation.meeting = meeting
    observation.rating = rating
    observation.strengths = strengths
    observation.weaknesses = weaknesses
    observation.recommendations = recommendations
    observation.save()
    _visit_log(
        by=by,
        action="meetings.visit.observe" if before is None else "meetings.visit.observe_update",
        assignment=assignment,
        instance=observation,
        before=before,
    )
    return observation


# --- the upper level's materials (issue #17 item 5) -----------------------------------------------


def _material_check(*, publisher: Organisation, file, confidential: bool, whole_subtree: bool, cells) -> str:
    errors: dict[str, list[str]] = {}
    if publisher.kind not in selectors.MATERIAL_PUBLISHER_KINDS:
        raise ValidationError(_("Chỉ Đảng bộ Khối và đảng bộ cơ sở ban hành tài liệu cho các chi bộ."))
    if not whole_subtree:
        if not cells:
            errors["cells"] = [_("Chọn ít nhất một chi bộ nhận, hoặc chọn gửi mọi chi bộ trực thuộc.")]
        elif any(not cell.is_cell or not cell.path.startswith(publisher.path) for cell in cells):
            errors["cells"] = [_("Chỉ chọn được các chi bộ trực thuộc %(unit)s.") % {"unit": publisher.name}]
    named = ""
    try:
        named = check_named(
            file,
            allowed=UpperMaterial.ALLOWED,
            max_bytes=UpperMaterial.MAX_BYTES,
            too_large=_("Tệp quá lớn: tối đa 10 MB."),
            not_allowed=_("Chỉ nhận tệp PDF, DOCX, XLSX, JPG hoặc PNG."),
        )
        if confidential:
            _check_confidential(file, named)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return named


def material_publish(
    *,
    publisher: Organisation,
    title: str,
    kind: str,
    month: datetime.date,
    file,
    confidential: bool = False,
    whole_subtree: bool = True,
    cells=(),
    note: str = "",
    by=None,
) -> UpperMaterial:
    """Publish a material of ``publisher`` for its cells' meetings of ``month``: its file checked as a
    meeting document's (a confidential one a readable PDF), its audience the whole subtree or the cells
    chosen below the publisher. The audit row and the message to each cell's bí thư (inbox, and e-mail
    unless they took optional messages off it) are written in the same transaction."""
    cells = list(cells)
    _material_check(publisher=publisher, file=file, confidential=confidential, whole_subtree=whole_subtree, cells=cells)
    with transaction.atomic():
        material = UpperMaterial(
            publisher=publisher,
            title=title.strip() or file.name,
            kind=kind,
            month=month_start(month),
            size=file.size,
            confidential=bool(confidential),
            whole_subtree=bool(whole_subtree),
            note=(note or "").strip(),
            published_by=by if getattr(by, "is_authenticated", False) else None,
            published_at=timezone.now(),
        )
        material.file.save(file.name, file, save=False)
        material.save()
        if not whole_subtree:
            material.cells.set(cells)
        audit_log(
            actor=by,
            action="meetings.material.publish",
            instance=material,
            organisation=publisher,
            after={
                **snapshot(material, exclude=("file", "published_at")),
                "file": material.file.name,
                "cells": [cell.pk for cell in cells],
            },
        )
        _material_announce(material)
    return material


def _material_announce(material: UpperMaterial) -> None:
    """Each cell of the audience hears of the new material through its bí thư (else phó bí thư): a link to the
    cell's meeting of the month, where one click attaches it (else to the cell's meetings)."""
    from .reminders import secretaries_of

    today = timezone.localdate()
    cells = list(selectors.material_audience(material).order_by("path"))
    secretaries = secretaries_of(cell_ids=[cell.pk for cell in cells], on=today)
    meetings = dict(
        Meeting.objects.filter(
            organisation__in=cells, period_month=material.month, kind__in=list(Meeting.REGULAR_KINDS)
        )
        .exclude(state=Meeting.State.CANCELLED)
        .values_list("organisation_id", "pk")
    )
    values = {
        "unit": material.publisher.name,
        "kind": material.get_kind_display().lower(),
        "title": material.title,
        "month": f"{material.month:%m/%Y}",
    }
    for cell in cells:
        members = secretaries.get(cell.pk, [])
        if not members:
            continue
        meeting_pk = meetings.get(cell.pk)
        notification_send(
            members=members,
            kind="meetings.material.published",
            organisation=cell,
            optional=True,
            subject=_("%(unit)s gửi tài liệu sinh hoạt tháng %(month)s: %(title)s") % values,
            body=(
                _(
                    "%(unit)s đã gửi %(kind)s “%(title)s” cho sinh hoạt chi bộ tháng %(month)s. Đề nghị đồng chí "
                    "đính kèm tài liệu vào buổi sinh hoạt của chi bộ để đảng viên đọc trước."
                )
                % values
            ),
            url=reverse("meetings:detail", args=[meeting_pk])
            if meeting_pk
            else reverse("meetings:cell_list", args=[cell.pk]),
        )


@transaction.atomic
def material_attach(*, material: UpperMaterial, meeting: Meeting, by=None) -> MeetingDocument:
    """Attach an upper-level material to one of the cell's meetings in one click: a meeting document pointing
    at the material and sharing its file (no copy), confidential when the material is. Once per meeting."""
    meeting = _lock(meeting)
    _refuse_locked(meeting)
    if not selectors.material_reaches(material, meeting.organisation):
        raise ValidationError(
            _("Tài liệu “%(title)s” không gửi cho %(cell)s.") % {"title": material.title, "cell": meeting.organisation}
        )
    if meeting.documents.filter(material=material).exists():
        raise ValidationError(
            _("Tài liệu “%(title)s” đã được đính kèm buổi sinh hoạt này.") % {"title": material.title}
        )
    document = MeetingDocument(
        meeting=meeting,
        title=material.title,
        size=material.size,
        confidential=material.confidential,
        uploaded_by=by if getattr(by, "is_authenticated", False) else None,
        material=material,
    )
    document.file.name = material.file.name
    document.save()
    if meeting.state == Meeting.State.NOTIFIED:
        Meeting.objects.filter(pk=meeting.pk).update(documents_published_at=timezone.now())
    _log(
        by=by,
        action="meetings.material.attach",
        meeting=meeting,
        instance=document,
        after={"material": material.pk, "title": document.title, "confidential": document.confidential},
    )
    return document


def _material_receipt(*, material_id: int, member: Member, now: datetime.datetime) -> None:
    """The member's reading of the upper-level material, counted one more opening."""
    _count_opening(MaterialRead, now=now, material_id=material_id, member=member)


def material_read_record(*, material: UpperMaterial, member: Member | None, reader: str, via: str, by=None) -> bool:
    """One opening of ``material`` outside a meeting (the home page, the publisher's page): for a confidential
    one the audit row naming the reader first; then, for a member of a cell in its audience, their reading —
    and the receipt of each meeting of theirs it is attached to, so the cell's page agrees. True when counted."""
    now = timezone.now()
    with transaction.atomic():
        if material.confidential:
            audit_log(
                actor=by,
                action="meetings.material.view",
                instance=material,
                organisation=material.publisher,
                after={"member": member.pk if member else None, "reader": reader, "via": via, "at": now.isoformat()},
            )
        if (
            member is None
            or member.organisation is None
            or not selectors.material_reaches(material, member.organisation)
        ):
            return False
        _material_receipt(material_id=material.pk, member=member, now=now)
        for document in MeetingDocument.objects.filter(material=material, meeting__attendances__member=member):
            _receipt_count(document=document, member=member, now=now)
    return True


def notice_opened_record(*, attendance: Attendance) -> bool:
    """The member's first opening of the notice (its one-click page, or the meeting's page signed in): written
    once, never moved later (one UPDATE … WHERE notice_opened_at IS NULL). True on the first opening."""
    if attendance.notice_opened_at is not None:
        return False
    now = timezone.now()
    updated = Attendance.objects.filter(pk=attendance.pk, notice_opened_at__isnull=True).update(notice_opened_at=now)
    if updated:
        attendance.notice_opened_at = now
    return bool(updated)


# --- online and hybrid meetings (issue #17 item 3) --------------------------------------------------


def _refuse_unless_online_window(meeting: Meeting) -> None:
    """The member's link takes part only inside the meeting's window (meetings.online, the Khối's choice)."""
    reason = online.closed_reason(meeting)
    if reason:
        raise ValidationError(reason)


def _link_row(token: str) -> tuple[Meeting, Attendance]:
    """The meeting (locked) and the member's row (locked) a signed link points at."""
    meeting, attendance = rsvp_read_token(token)
    meeting = _lock(meeting)
    attendance = Attendance.objects.select_for_update(of=("self",)).select_related("member").get(pk=attendance.pk)
    return meeting, attendance


@transaction.atomic
def online_presence_confirm(*, token: str) -> Attendance:
    """The member's one tap "Xác nhận có mặt" from their link, inside the window: present, or late after
    the start's grace (meetings.online). A row already present stays as recorded (the secretary's items
    included); a member attached to another party organisation is outside the count and is refused."""
    meeting, attendance = _link_row(token)
    _refuse_unless_online_window(meeting)
    if attendance.presence == Attendance.Presence.ATTACHED_ELSEWHERE:
        raise ValidationError(
            _("Đồng chí đang sinh hoạt tạm thời ở tổ chức đảng khác; bí thư ghi nhận nếu đồng chí dự họp.")
        )
    now = timezone.now()
    before = snapshot(attendance)
    if attendance.presence not in Attendance.PRESENT_VALUES:
        attendance.presence = online.arrival_presence(meeting, now)
        attendance.absence_reason = ""
    if attendance.confirmed_online_at is None:
        attendance.confirmed_online_at = now
    if snapshot(attendance) != before:
        attendance.save(update_fields=["presence", "absence_reason", "confirmed_online_at"])
        _log(
            by=None,
            action="meetings.attendance.online_confirm",
            meeting=meeting,
            instance=attendance,
            before=before,
            after=snapshot(attendance),
        )
        _attendance_counts_refresh_one(meeting)
        _votes_recount(meeting)
    return attendance


@transaction.atomic
def online_opinion_add(*, token: str, agenda_item_id, text: str) -> Opinion:
    """A written opinion on an agenda item from the member's link, inside the window. Probationary members
    give opinions too (Điều lệ Art. 3.4 takes only the vote from them)."""
    meeting, attendance = _link_row(token)
    _refuse_unless_online_window(meeting)
    item = meeting.agenda_items.filter(pk=agenda_item_id).first() if str(agenda_item_id or "").isdigit() else None
    if item is None:
        raise ValidationError({"agenda_item": _("Chọn nội dung chương trình của buổi sinh hoạt này.")})
    return opinion_add(meeting=meeting, text=text, speaker=attendance.member, agenda_item=item, in_writing=True)


ONLINE_VOTE_KINDS = (Vote.Kind.OTHER, Vote.Kind.ADMISSION)


@transaction.atomic
def vote_question_open(*, meeting: Meeting, agenda_item: AgendaItem, question: str, kind: str, by=None):
    """The chair (whoever records the meeting) opens a question on an agenda item of an online or hybrid
    meeting, inside its window. A full-membership vote names its member and is recorded with the vote form."""
    meeting = _lock(meeting)
    _refuse_unless_recording(meeting)
    _refuse_unless_online_window(meeting)
    errors = {}
    if agenda_item is None or agenda_item.meeting_id != meeting.pk:
        errors["agenda_item"] = _("Chọn nội dung chương trình của buổi sinh hoạt này.")
    if not (question or "").strip():
        errors["question"] = _("Cần ghi nội dung biểu quyết.")
    if kind not in ONLINE_VOTE_KINDS:
        errors["kind"] = _("Biểu quyết công nhận đảng viên chính thức được ghi bằng mẫu ghi kết quả biểu quyết.")
    if errors:
        raise ValidationError(errors)
    opened = VoteQuestion.objects.create(
        meeting=meeting,
        agenda_item=agenda_item,
        question=question.strip()[:255],
        kind=kind,
        opened_at=timezone.now(),
        opened_by=by if getattr(by, "is_authenticated", False) else None,
    )
    _log(by=by, action="meetings.vote_question.open", meeting=meeting, instance=opened)
    return opened


@transaction.atomic
def ballot_cast(*, token: str, question_id, choice: str) -> Ballot:
    """The member's ballot from their link: one per member, changed by casting again, until the close.
    Only members eligible for the question's item vote (meetings.votes.vote_refusal says why not, in words).
    The audit row records that a ballot was cast, never what it says."""
    meeting, attendance = _link_row(token)
    question = (
        (
            VoteQuestion.objects.select_for_update()
            .select_related("agenda_item")
            .filter(meeting=meeting, pk=question_id)
        ).first()
        if str(question_id or "").isdigit()
        else None
    )
    if question is None:
        raise ValidationError(_("Không tìm thấy nội dung biểu quyết."))
    if not question.is_open:
        raise ValidationError(_("Biểu quyết đã kết thúc; không thể biểu quyết hoặc thay đổi nữa."))
    _refuse_unless_online_window(meeting)
    if choice not in Ballot.Choice.values:
        raise ValidationError({"choice": _("Chọn tán thành, không tán thành hoặc không biểu quyết.")})
    refusal = vote_refusal(meeting, question.agenda_item, attendance.member)
    if refusal:
        raise ValidationError(refusal)
    now = timezone.now()
    ballot = Ballot.objects.filter(question=question, member=attendance.member).first()
    changed = ballot is not None
    if ballot is None:
        ballot = Ballot.objects.create(
            question=question, member=attendance.member, choice=choice, cast_at=now, changed_at=now
        )
    elif ballot.choice != choice:
        ballot.choice, ballot.changed_at = choice, now
        ballot.save(update_fields=["choice", "changed_at"])
    _log(
        by=None,
        action="meetings.ballot.change" if changed else "meetings.ballot.cast",
        meeting=meeting,
        instance=question,
        after={"question": question.question, "member": attendance.member.full_name},
    )
    return ballot


@transaction.atomic
def vote_question_close(*, question: VoteQuestion, by=None) -> Vote:
    """Close the question and write its result as a ``Vote`` (method "trực tuyến"): the ballots of those
    still eligible for the item counted, measured against the meeting's count (``vote_base``, never the
    number present for the item) and the kind's threshold, as ``vote_record`` measures every vote."""
    meeting = _lock(question.meeting)
    question = VoteQuestion.objects.select_for_update().select_related("agenda_item").get(pk=question.pk)
    if not question.is_open:
        raise ValidationError(_("Biểu quyết này đã kết thúc."))
    _refuse_unless_recording(meeting)
    eligible = item_voters(meeting, question.agenda_item)
    ballots = [b for b in question.ballots.select_related("member") if b.member_id in eligible.voter_ids]
    tally_of = {choice: sum(1 for b in ballots if b.choice == choice) for choice in Ballot.Choice.values}
    question.closed_at = timezone.now()
    question.closed_by = by if getattr(by, "is_authenticated", False) else None
    question.voters_count = len(eligible.voters)
    question.ballots_count = len(ballots)
    question.save(update_fields=["closed_at", "closed_by", "voters_count", "ballots_count"])
    vote = vote_record(
        meeting=meeting,
        question=question.question,
        votes_for=tally_of[Ballot.Choice.FOR],
        votes_against=tally_of[Ballot.Choice.AGAINST],
        votes_abstain=tally_of[Ballot.Choice.ABSTAIN],
        kind=question.kind,
        method=Vote.Method.ONLINE,
        voters=[b.member for b in ballots],
        by=by,
    )
    question.vote = vote
    question.save(update_fields=["vote"])
    _log(by=by, action="meetings.vote_question.close", meeting=meeting, instance=question)
    return vote
