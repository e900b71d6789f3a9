"""The demo Khối's meeting history: monthly meetings of every cell, with their books filled in.

``build_demo_meetings(rng=..., today=..., months=12)`` reads the tree that ``cells.demo.build_demo``
wrote and adds, for every cell and every month of the window, the regular meeting (sometimes
combined with a thematic one), its chi ủy preparatory meeting where the cell has a committee, a few
thematic meetings and forums a year, with attendance, opinions, a show-of-hands vote, the
conclusion, tasks and adopted, numbered minutes — all with ``bulk_create`` and no audit rows, like
the rest of the demo. Gaps are deliberate: some cells skip a month or two, a few meetings fall
below 85 % attendance, a few minutes are not adopted yet, a few cells plan their meeting after the
25th, some quarters have no thematic meeting or no upper-level visit, and the featured cell has its
next meeting (this month's while it is ahead, else next month's) notified with RSVPs coming in.

Built on any day: the window is the calendar months before ``today``, nothing is under way at seed
time (a meeting is over or still ahead), and every row is dated when it happened — planned in the
month before, noticed days ahead, opinions, votes and tasks during the meeting — not at the seed's moment.

Numbering follows ``services.meeting_adopt_minutes``: minutes "NN-BB/CB" per organisation and term,
conclusions and resolutions per organisation, term and kind, in the order the minutes were adopted.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import SET_NULL, Q
from django.urls import reverse
from django.utils import timezone

from cells.models import (
    CellMembership,
    Exemption,
    Member,
    Notification,
    Organisation,
    Position,
    Suspension,
    Term,
)
from demo.cells import set_columns
from meetings import kinds, votes
from meetings.models import AgendaItem, Amendment, Attendance, Meeting, MeetingDocument, Opinion, Resolution, Task, Vote
from meetings.services import _STEP_TITLES, attendance_counts_refresh, rsvp_url

BATCH_SIZE = 2000
Step = AgendaItem.Step
Presence = Attendance.Presence

# A demo meeting is over once this long has passed since its start: the longest one (15 minutes late,
# 180 minutes long) has ended by then. Nothing is "in progress" at seed time: a meeting is either
# held (and over) or still ahead.
OVER_AFTER = datetime.timedelta(hours=4)
# The chi ủy prepares the monthly meeting 2 to 5 days before it (then back to a weekday).
PREPARATION_DAYS = (2, 5)
# Regular meetings are planned by the 25th of the month before (HD 12: the chi ủy prepares the
# next month's content); a few cells plan late, so the "planned by the 25th" warning has something to show.
PLANNING_DAY = 25
LATE_PLANNING_SHARE = 0.06

# --- reference text ------------------------------------------------------------------------

PLACES = (
    "Phòng họp tầng 2",
    "Hội trường tầng 3",
    "Phòng họp số 1",
    "Phòng họp giao ban",
    "Phòng họp trực tuyến tầng 4",
)
ABSENCE_REASONS = (
    "Đi công tác theo quyết định của cơ quan",
    "Ốm, đang điều trị tại bệnh viện",
    "Nghỉ phép năm",
    "Việc gia đình (có báo cáo bí thư)",
    "Đi học tập trung tại Trường Chính trị",
    "Trực cơ quan theo lịch phân công",
    "Nghỉ chế độ thai sản",
    "Tham gia đoàn kiểm tra của tỉnh",
)
SUSPENDED_REASON = "Đang bị đình chỉ sinh hoạt đảng"
SHORT_REASONS = (
    "Nhiều đồng chí phải tham gia đoàn công tác đột xuất của tỉnh",
    "Mất điện, hội trường không bảo đảm điều kiện sinh hoạt",
    "Đơn vị triển khai nhiệm vụ khẩn cấp phòng, chống thiên tai",
)
THEMATIC_TOPICS = (
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh về tinh thần trách nhiệm, nêu gương",
    "Nâng cao ý thức tổ chức kỷ luật, văn hóa công vụ của cán bộ, đảng viên",
    'Đấu tranh phòng, chống suy thoái tư tưởng chính trị, đạo đức, lối sống, "tự diễn biến", "tự chuyển hóa"',
    "Đẩy mạnh chuyển đổi số trong hoạt động của cơ quan, đơn vị",
    "Thực hành tiết kiệm, chống lãng phí trong chi tiêu công",
    "Bảo vệ nền tảng tư tưởng của Đảng, đấu tranh phản bác các quan điểm sai trái trên mạng xã hội",
    "Phát huy vai trò tiên phong, gương mẫu của đảng viên trong thực hiện nhiệm vụ chính trị",
    "Cải cách hành chính, nâng cao chất lượng phục vụ người dân và doanh nghiệp",
    "Phòng, chống tham nhũng, tiêu cực và lợi ích nhóm",
    "Xây dựng cơ quan, đơn vị văn hóa, an toàn, sạch đẹp",
)
FORUM_TOPICS = (
    "Đảng viên trẻ với khát vọng cống hiến",
    "Nói đi đôi với làm — người đứng đầu nêu gương",
    "Lắng nghe ý kiến quần chúng về văn hóa công sở",
    "Đảng viên với việc giữ gìn hình ảnh trên mạng xã hội",
    "Đổi mới sáng tạo, dám nghĩ, dám làm vì lợi ích chung",
)
NEWS = (
    "tình hình kinh tế - xã hội của tỉnh",
    "kết quả hội nghị Ban Chấp hành Đảng bộ Khối",
    "chỉ đạo của Đảng ủy cấp trên về công tác xây dựng Đảng",
    "các văn bản mới về sắp xếp tổ chức bộ máy",
    "tình hình thời sự trong nước và quốc tế",
)
WORK = (
    "hoàn thành kế hoạch công tác chuyên môn của tháng",
    "giải quyết hồ sơ đúng hạn",
    "triển khai phần mềm quản lý văn bản điều hành",
    "chuẩn bị số liệu báo cáo quý",
    "rà soát quy chế chi tiêu nội bộ",
    "tổ chức hội nghị người lao động",
    "thực hiện cải cách thủ tục hành chính",
    "kiểm tra công tác an toàn lao động",
    "phục vụ đoàn kiểm tra của tỉnh",
    "tổng kết phong trào thi đua",
    "hỗ trợ nhân dân vùng bị ảnh hưởng mưa lũ",
    "chuẩn bị nội dung đại hội công đoàn cơ sở",
    "thu nộp đảng phí đầy đủ, đúng hạn",
)
OPINIONS = (
    "Đề nghị chi bộ quan tâm hơn đến việc {work}, phân công cụ thể người phụ trách và thời hạn hoàn thành.",
    "Tôi thống nhất với dự thảo kết luận; bổ sung thêm nội dung {work} vào nhiệm vụ tháng tới.",
    "Qua theo dõi, việc {work} còn chậm do thiếu phối hợp giữa các bộ phận; đề nghị bí thư chỉ đạo khắc phục.",
    "Đề nghị đảng viên gương mẫu trong việc {work}, báo cáo kết quả tại buổi sinh hoạt sau.",
    "Quần chúng phản ánh thủ tục còn rườm rà; đề nghị chi bộ kiến nghị lãnh đạo đơn vị xem xét.",
    "Nhiệm vụ tháng trước cơ bản hoàn thành; riêng việc {work} cần tiếp tục theo dõi.",
    "Tôi tự nhận thấy còn chậm trong {work}, xin hứa khắc phục trong tháng tới.",
    "Đề nghị biểu dương các đồng chí đã hoàn thành tốt việc {work} trong tháng qua.",
    "Cần tăng cường nắm bắt tư tưởng của cán bộ, người lao động trước việc sắp xếp tổ chức bộ máy.",
)
TOPIC_OPINIONS = (
    "Liên hệ bản thân, tôi thấy cần nêu gương hơn nữa trong việc giữ kỷ luật, kỷ cương hành chính.",
    "Đề nghị chi bộ cụ thể hóa chuyên đề thành các việc làm cụ thể, có kiểm tra, đánh giá hằng quý.",
    "Chuyên đề thiết thực; đề nghị gắn với đánh giá, xếp loại đảng viên cuối năm.",
)
TASK_TEXTS = (
    "Chủ trì {work}; báo cáo kết quả tại buổi sinh hoạt tháng sau",
    "Phối hợp với công đoàn, đoàn thanh niên {work}",
    "Theo dõi, đôn đốc việc {work}",
    "Xây dựng dự thảo kế hoạch {work}, trình chi ủy cho ý kiến",
    "Nắm tình hình tư tưởng cán bộ, người lao động; báo cáo chi bộ",
)
TASK_RESULTS = (
    "Đã hoàn thành đúng hạn.",
    "Đã hoàn thành, báo cáo tại buổi sinh hoạt.",
    "Hoàn thành, chậm 3 ngày do đi công tác.",
)
NEXT_STEPS = (
    "Đề nghị đảng viên nêu cao tinh thần trách nhiệm, hoàn thành nhiệm vụ được giao.",
    "Giao chi ủy theo dõi, đôn đốc và báo cáo kết quả tại buổi sinh hoạt tháng sau.",
    "Tiếp tục thực hiện Chỉ thị 05-CT/TW gắn với nhiệm vụ chính trị của đơn vị.",
)


@dataclass
class _Cell:
    organisation: Organisation
    members: list[Member]
    joined: dict[int, tuple[datetime.date, datetime.date | None]]
    secretary: Member | None = None
    deputy: Member | None = None
    committee: list[Member] = field(default_factory=list)
    supervisor: Member | None = None
    terms: list[Term] = field(default_factory=list)
    index: int = 0  # the cell's rank in the tree: choices must not depend on primary keys (--reset renumbers)

    def expected(self, day: datetime.date) -> list[Member]:
        return [
            m
            for m in self.members
            if self.joined[m.pk][0] <= day and (self.joined[m.pk][1] is None or self.joined[m.pk][1] >= day)
        ]

    def term_on(self, day: datetime.date) -> Term | None:
        for term in self.terms:  # newest first
            if term.start <= day and (term.end is None or term.end >= day):
                return term
        return None


class _Attendance:
    """An attendance row to insert: attribute access like the model, without its cost (there are many)."""

    __slots__ = ("member_id", "rsvp", "rsvp_reason", "rsvp_at", "rsvp_via", "presence", "absence_reason")

    def __init__(self, member_id: int):
        self.member_id = member_id
        self.rsvp, self.rsvp_reason, self.rsvp_at, self.rsvp_via = Attendance.Rsvp.NONE, "", None, ""
        self.presence, self.absence_reason = Presence.BLANK, ""


class _Task:
    __slots__ = ("description", "due_date", "status", "result", "completed_at", "assignees", "created_at")

    def __init__(self, description: str, due_date: datetime.date, assignees: list[int], created_at: datetime.datetime):
        self.description, self.due_date, self.assignees = description, due_date, assignees
        self.status, self.result, self.completed_at = Task.Status.OPEN, "", None
        self.created_at = created_at  # assigned at the meeting, on its "next month's tasks" step


class _Resolution:
    __slots__ = ("kind", "text", "adopted_at", "term_id", "number")

    def __init__(self, kind: str, text: str):
        self.kind, self.text, self.adopted_at, self.term_id, self.number = kind, text, None, None, None


@dataclass
class _Plan:
    """Everything one meeting writes, kept together until the bulk inserts."""

    meeting: Meeting
    local_start: datetime.datetime
    adopted: bool = False
    late_planning: bool = False  # planned after the 25th of the month before (regular meetings only)
    attendances: list[_Attendance] = field(default_factory=list)
    agenda: list[tuple[int, str, str]] = field(default_factory=list)  # (order, step, title)
    # speaker, guest, text, agenda item, when it was said
    opinions: list[tuple[int | None, str, str, int | None, datetime.datetime]] = field(default_factory=list)
    vote: tuple[str, int, int, int, int] | None = None  # question, for, against, abstain, eligible
    voted_at: datetime.datetime | None = None
    resolution: _Resolution | None = None
    tasks: list[_Task] = field(default_factory=list)
    upper_guests: list[int] = field(default_factory=list)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _active(spans, member_id: int, day: datetime.date) -> bool:
    return any(start <= day and (end is None or end >= day) for start, end in spans.get(member_id, ()))


def window_start(*, today: datetime.date, months: int) -> datetime.date:
    """The first month of the demo history: ``months`` months before the current one."""
    return _add_months(today.replace(day=1), -months)


def history_start(*, today: datetime.date, months: int) -> datetime.date:
    """The first day a demo meeting can fall on: the window's first month, less the chi ủy meeting that
    prepared its regular meeting (it may be held in the month before). The terms must cover it."""
    return window_start(today=today, months=months) - datetime.timedelta(days=PREPARATION_DAYS[1] + 2)


class _Builder:
    def __init__(self, *, rng: random.Random, today: datetime.date, months: int, featured_cell_id: int | None):
        self.rng = rng
        self.today = today
        self.now = timezone.now()
        self.first_month = window_start(today=today, months=months)
        self.current_month = today.replace(day=1)
        self.featured_cell_id = featured_cell_id
        self.tz = timezone.get_current_timezone()
        self.plans: list[_Plan] = []
        self.exempt: dict[int, list] = defaultdict(list)
        self.suspended: dict[int, list] = defaultdict(list)
        self._guest_names: dict[int, str] = {}
        self._committee_plans: list[tuple[_Plan, list[Member]]] = []
        self.upcoming: _Plan | None = None

    # -- reading the tree back ---------------------------------------------------------------

    def load(self) -> list[_Cell]:
        organisations = list(Organisation.objects.filter(kind__in=Organisation.CELL_KINDS).order_by("path"))
        members = defaultdict(list)
        for member in (
            Member.objects.filter(organisation__in=organisations)
            .exclude(state__in=[Member.State.DECEASED, Member.State.REMOVED])
            .order_by("full_name", "pk")
        ):
            members[member.organisation_id].append(member)
        joined = defaultdict(dict)
        for row in CellMembership.objects.filter(organisation__in=organisations).values_list(
            "organisation_id", "member_id", "start", "end"
        ):
            joined[row[0]][row[1]] = (row[2], row[3])
        for member_id, start, end in Exemption.objects.values_list("member_id", "start", "end"):
            self.exempt[member_id].append((start, end))
        for member_id, start, end in Suspension.objects.values_list("member_id", "start", "end"):
            self.suspended[member_id].append((start, end))
        terms = defaultdict(list)
        for term in Term.objects.filter(organisation__in=organisations).order_by("-start"):
            terms[term.organisation_id].append(term)
        cells = {}
        for index, organisation in enumerate(organisations):
            cell_members = [m for m in members[organisation.pk] if m.pk in joined[organisation.pk]]
            cells[organisation.pk] = _Cell(
                organisation, cell_members, joined[organisation.pk], terms=terms[organisation.pk], index=index
            )
        by_id = {m.pk: m for ms in members.values() for m in ms}
        supervisors = {}
        for position in Position.objects.filter(organisation__in=organisations, end__isnull=True).order_by(
            "start", "pk"
        ):
            cell = cells[position.organisation_id]
            member = by_id.get(position.member_id)
            if position.kind == Position.Kind.SUPERVISOR:
                supervisors[cell.organisation.pk] = position.member_id
            elif member is None:
                continue
            elif position.kind == Position.Kind.SECRETARY:
                cell.secretary = member
            elif position.kind == Position.Kind.DEPUTY_SECRETARY:
                cell.deputy = member
            elif position.kind == Position.Kind.COMMITTEE_MEMBER:
                cell.committee.append(member)
        for cell_id, member_id in supervisors.items():
            cells[cell_id].supervisor = Member.objects.get(pk=member_id) if member_id not in by_id else by_id[member_id]
        return list(cells.values())

    # -- time --------------------------------------------------------------------------------

    def _at(self, day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
        return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)

    def _weekday(self, day: datetime.date) -> datetime.date:
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        return day

    def _day_in(self, month: datetime.date, day: int) -> datetime.date:
        last = (_add_months(month, 1) - datetime.timedelta(days=1)).day
        return self._weekday(month.replace(day=max(1, min(day, last - 3))))

    def _is_over(self, start: datetime.datetime) -> bool:
        return start + OVER_AFTER <= self.now

    def _clear_of_now(self, start: datetime.datetime) -> datetime.datetime:
        """``start``, or the same hour on the next (else the previous) weekday of its month when the
        meeting would be in progress at seed time: it must be either over or still ahead."""
        if not (start <= self.now < start + OVER_AFTER):
            return start
        day = start.date()
        later = self._weekday(day + datetime.timedelta(days=1))
        if later.month != day.month:
            later = day - datetime.timedelta(days=1)
            while later.weekday() >= 5:
                later -= datetime.timedelta(days=1)
        return self._at(later, start.hour, start.minute)

    # -- one meeting ---------------------------------------------------------------------------

    def _meeting(
        self,
        cell: _Cell,
        *,
        kind: str,
        month: datetime.date,
        start: datetime.datetime,
        minutes: int,
        topic: str = "",
        place: str = "",
        chair=None,
        clerk=None,
    ) -> _Plan:
        rng = self.rng
        planned_end = start + datetime.timedelta(
            minutes=max(minutes, 60) if kind == Meeting.Kind.COMMITTEE else Meeting.MIN_MINUTES.get(kind, 90) + 30
        )
        hybrid = rng.random() < 0.05 and kind != Meeting.Kind.COMMITTEE
        meeting = Meeting(
            organisation=cell.organisation,
            kind=kind,
            period_month=month,
            planned_start=start,
            planned_end=planned_end,
            place=place or PLACES[cell.index % len(PLACES)],
            mode=Meeting.Mode.HYBRID if hybrid else Meeting.Mode.IN_PERSON,
            online_link=f"https://hop.example.com/cb-{cell.index + 1}-{month:%Y%m}" if hybrid else "",
            topic=topic,
            chair=chair,
            clerk=clerk,
        )
        plan = _Plan(meeting=meeting, local_start=start)
        for order, step in enumerate(kinds.get(kind).agenda, start=1):
            title = str(_STEP_TITLES[step])
            if step == Step.TOPIC and topic:
                title = f"Chuyên đề: {topic}"
            plan.agenda.append((order, step, title))
        return plan

    def _notice(self, plan: _Plan) -> None:
        rng, meeting = self.rng, plan.meeting
        lead = rng.choice((1, 3, 4, 5, 5, 7, 7, 7, 10)) if meeting.kind != Meeting.Kind.COMMITTEE else rng.randint(1, 3)
        meeting.notice_sent_at = meeting.planned_start - datetime.timedelta(days=lead, hours=rng.randint(0, 6))
        if meeting.notice_sent_at > self.now:
            meeting.notice_sent_at = self.now - datetime.timedelta(hours=rng.randint(1, 20))
        late_documents = rng.random() < 0.12
        meeting.documents_published_at = (
            meeting.planned_start - datetime.timedelta(hours=rng.randint(2, 12))
            if late_documents
            else meeting.notice_sent_at
        )
        if meeting.documents_published_at > self.now:
            meeting.documents_published_at = None  # due later, a few hours before the meeting

    def _rsvp(self, attendance: Attendance, meeting: Meeting, *, answer: str, reason: str = "") -> None:
        rng = self.rng
        attendance.rsvp = answer
        attendance.rsvp_reason = reason if answer == Attendance.Rsvp.NO else ""
        # Between the notice and the meeting's start, and not after now (a notice may be minutes old).
        span = max((min(meeting.planned_start, self.now) - meeting.notice_sent_at).total_seconds(), 0)
        attendance.rsvp_at = meeting.notice_sent_at + datetime.timedelta(seconds=rng.uniform(min(30, span), span))
        attendance.rsvp_via = rng.choice(
            (Attendance.Via.LINK, Attendance.Via.LINK, Attendance.Via.WEB, Attendance.Via.SECRETARY)
        )

    def _vote_base(self, plan: _Plan, people: list[Member], day: datetime.date) -> votes.VoteBase:
        """The count of ``meetings.votes.vote_base``, from the rows the demo is about to write."""
        presence = {attendance.member_id: attendance.presence for attendance in plan.attendances}
        rows = [
            votes.Person(
                member.pk,
                member.full_name,
                votes.official_on(member, day),
                presence.get(member.pk, ""),
                _active(self.exempt, member.pk, day),
                _active(self.suspended, member.pk, day),
            )
            for member in people
        ]
        return votes.tally(rows, day=day, committee=plan.meeting.kind == Meeting.Kind.COMMITTEE)

    def _carried(self, plan: _Plan, people: list[Member], present: list[Member], day: datetime.date) -> votes.VoteBase:
        """The meeting's count, once enough official members attend to carry its conclusion (more than half
        of the count): a cell of three with two away would adopt nothing, so one of them comes after all."""
        base = self._vote_base(plan, people, day)
        by_id = {member.pk: member for member in people}
        rows = {attendance.member_id: attendance for attendance in plan.attendances}
        while base.denominator and not base.quorum_met:
            absent = [person for person in base.counted if not person.present]
            attendance = rows[absent[0].member_id]
            attendance.presence, attendance.absence_reason = Presence.PRESENT, ""
            if attendance.rsvp == Attendance.Rsvp.NO:
                attendance.rsvp, attendance.rsvp_reason = Attendance.Rsvp.YES, ""
            present.append(by_id[attendance.member_id])
            base = self._vote_base(plan, people, day)
        return base

    def _held(self, cell: _Cell, plan: _Plan, people: list[Member], *, low: bool, adopt: bool) -> None:
        """Record the meeting as held by ``people``: attendance, opinions, vote, conclusion, tasks, minutes."""
        rng, meeting = self.rng, plan.meeting
        day = plan.local_start.date()
        committee = meeting.kind == Meeting.Kind.COMMITTEE
        late_start = rng.choice((0, 0, 0, 5, 10, 15))
        minutes = (
            rng.randint(50, 90)
            if committee
            else Meeting.MIN_MINUTES.get(meeting.kind, 90) + rng.choice((-25, -10, 0, 5, 10, 15, 20, 30, 45, 60))
        )
        if not committee and rng.random() < 0.85:
            minutes = max(minutes, Meeting.MIN_MINUTES.get(meeting.kind, 90))
        meeting.actual_start = meeting.planned_start + datetime.timedelta(minutes=late_start)
        meeting.actual_end = meeting.actual_start + datetime.timedelta(minutes=minutes)
        if not committee and minutes < Meeting.MIN_MINUTES.get(meeting.kind, 0):
            # A short meeting's minutes record why (services.minutes_completeness refuses them otherwise).
            meeting.short_reason = rng.choice(SHORT_REASONS)
        meeting.state = Meeting.State.HELD
        weights = (0.70, 0.10, 0.16, 0.04) if low else (0.93, 0.04, 0.028, 0.002)
        must_attend = {m.pk for m in (meeting.chair, meeting.clerk) if m is not None}
        present = []
        for member in people:
            attendance = _Attendance(member.pk)
            if _active(self.exempt, member.pk, day):
                attendance.presence = Presence.EXEMPT
            elif _active(self.suspended, member.pk, day):
                attendance.presence, attendance.absence_reason = Presence.ABSENT_EXCUSED, SUSPENDED_REASON
            else:
                value = (
                    Presence.PRESENT
                    if member.pk in must_attend
                    else rng.choices(
                        (Presence.PRESENT, Presence.LATE, Presence.ABSENT_EXCUSED, Presence.ABSENT_UNEXCUSED), weights
                    )[0]
                )
                attendance.presence = value
                if value == Presence.ABSENT_EXCUSED:
                    attendance.absence_reason = rng.choice(ABSENCE_REASONS)
                if value in Attendance.PRESENT_VALUES:
                    present.append(member)
                answer = {
                    Presence.PRESENT: Attendance.Rsvp.YES,
                    Presence.LATE: Attendance.Rsvp.YES,
                    Presence.ABSENT_EXCUSED: Attendance.Rsvp.NO,
                }.get(value, Attendance.Rsvp.NONE)
                if rng.random() < 0.85 and answer != Attendance.Rsvp.NONE:
                    self._rsvp(attendance, meeting, answer=answer, reason=attendance.absence_reason)
            plan.attendances.append(attendance)
        base = self._carried(plan, people, present, day)

        # Opinions: a few speakers among those present, on the steps where members speak, recorded
        # while the meeting is on that step (the agenda's steps spread evenly over the meeting).
        steps = {item[1]: index for index, item in enumerate(plan.agenda)}
        length = meeting.actual_end - meeting.actual_start

        def said_at(index: int) -> datetime.datetime:
            return meeting.actual_start + length * (index + 1) / (len(plan.agenda) + 1)

        speaking = [
            s for s in (Step.LAST_RESULTS, Step.OPINIONS, Step.NEXT_TASKS, Step.DISCUSSION, Step.TOPIC) if s in steps
        ]
        if present and speaking:
            count = min(len(present), rng.randint(2, 3) if committee else rng.randint(3, 6))
            for speaker in rng.sample(present, count):
                step = rng.choice(speaking)
                pool = TOPIC_OPINIONS if step in (Step.TOPIC, Step.DISCUSSION) and meeting.topic else OPINIONS
                text = rng.choice(pool).format(work=rng.choice(WORK))
                plan.opinions.append((speaker.pk, "", text, steps[step], said_at(steps[step])))
        for guest_id in plan.upper_guests:
            if Step.OPINIONS in steps or Step.DISCUSSION in steps:
                text = (
                    "Ghi nhận kết quả chi bộ đạt được; đề nghị chi bộ tiếp tục đổi mới nội dung sinh hoạt, "
                    f"chú trọng {rng.choice(WORK)} và công tác phát triển đảng viên."
                )
                index = steps.get(Step.DISCUSSION, steps.get(Step.OPINIONS))
                plan.opinions.append((None, self._guest_names[guest_id], text, index, said_at(index)))

        # The conclusion, adopted by show of hands by the official members present.
        work = rng.sample(WORK, 3)
        label = "chi ủy" if committee else "chi bộ"
        text = (
            f"1. {label.capitalize()} đánh giá trong tháng {day:%m/%Y} cán bộ, đảng viên đã tích cực {work[0]}; "
            f"tư tưởng ổn định, chấp hành tốt chủ trương của Đảng, chính sách, pháp luật của Nhà nước.\n"
            f"2. Nhiệm vụ tháng tới: {work[1]}; {work[2]}.\n3. {rng.choice(NEXT_STEPS)}"
        )
        if meeting.topic:
            text += f'\n4. Về chuyên đề "{meeting.topic}": mỗi đảng viên xây dựng kế hoạch làm theo, đăng ký việc làm cụ thể.'
        kind = Resolution.Kind.RESOLUTION if (not committee and rng.random() < 0.1) else Resolution.Kind.CONCLUSION
        plan.resolution = _Resolution(kind, text)
        # Measured against the official members summoned (meetings.votes), not those present: a dissent
        # or an abstention only where the conclusion still passes.
        if base.present:
            voters = base.present
            against = 1 if voters > 6 and rng.random() < 0.08 else 0
            abstain = 1 if voters - against > 4 and rng.random() < 0.1 else 0
            if not base.passes(Vote.Kind.OTHER, voters - against - abstain):
                against = abstain = 0
            question = f"Thông qua dự thảo {Resolution.Kind(kind).label.lower()} của {label}"
            plan.vote = (question, voters - against - abstain, against, abstain, base.denominator)
            plan.voted_at = said_at(steps.get(Step.CONCLUSION, len(plan.agenda) - 1))

        # Tasks for the month ahead, given to members present who are not exempt.
        if not committee and present:
            for _number in range(rng.randint(2, 4)):
                assignees = rng.sample(present, min(len(present), rng.choice((1, 1, 1, 2))))
                due = day + datetime.timedelta(days=rng.randint(14, 45))
                task = _Task(
                    rng.choice(TASK_TEXTS).format(work=rng.choice(WORK)),
                    due,
                    [m.pk for m in assignees],
                    said_at(steps.get(Step.NEXT_TASKS, len(plan.agenda) - 1)),
                )
                if due < self.today:
                    roll = rng.random()
                    task.status = (
                        Task.Status.DONE if roll < 0.82 else Task.Status.OPEN if roll < 0.96 else Task.Status.CANCELLED
                    )
                else:
                    task.status = Task.Status.DONE if rng.random() < 0.25 else Task.Status.OPEN
                if task.status == Task.Status.DONE:
                    task.result = rng.choice(TASK_RESULTS)
                    done_on = min(due + datetime.timedelta(days=rng.randint(-12, 3)), self.today)
                    completed = self._at(max(done_on, day), rng.randint(8, 16), rng.randrange(60))
                    # Done after the meeting that gave it, and not later than now.
                    task.completed_at = min(
                        max(completed, meeting.actual_end + datetime.timedelta(minutes=30)),
                        self.now - datetime.timedelta(minutes=1),
                    )
                plan.tasks.append(task)

        if adopt:
            delay = (
                datetime.timedelta(minutes=rng.randint(5, 30))
                if rng.random() < 0.5
                else datetime.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 4))
            )
            # The meeting is over (OVER_AFTER), so this is never before its end.
            adopted_at = min(meeting.actual_end + delay, self.now - datetime.timedelta(minutes=5))
            meeting.adopted_at = adopted_at
            plan.resolution.adopted_at = adopted_at
            if (
                cell is not None and cell.supervisor is not None
            ):  # adoption reports upward at once (services.meeting_report_upward)
                meeting.reported_up_at = adopted_at
                meeting.reported_up_to = cell.supervisor.full_name
            meeting.state = Meeting.State.MINUTES_ADOPTED
            plan.adopted = True

    def _planned(self, cell: _Cell, plan: _Plan, people: list[Member], *, answered: float) -> None:
        """A notified meeting still ahead: attendance rows with RSVPs partly in."""
        rng, meeting = self.rng, plan.meeting
        meeting.state = Meeting.State.NOTIFIED
        day = plan.local_start.date()
        for member in people:
            attendance = _Attendance(member.pk)
            if _active(self.exempt, member.pk, day):
                attendance.presence = Presence.EXEMPT
            elif rng.random() < answered:
                if rng.random() < 0.88:
                    self._rsvp(attendance, meeting, answer=Attendance.Rsvp.YES)
                else:
                    self._rsvp(attendance, meeting, answer=Attendance.Rsvp.NO, reason=rng.choice(ABSENCE_REASONS))
            plan.attendances.append(attendance)

    # -- one cell ------------------------------------------------------------------------------

    def _officers(self, cell: _Cell, people: list[Member]) -> tuple[Member | None, Member | None]:
        ids = {m.pk for m in people}
        day_people = [m for m in people if m.status == Member.Status.OFFICIAL]
        chair = next((m for m in (cell.secretary, cell.deputy) if m is not None and m.pk in ids), None)
        chair = chair or (day_people[0] if day_people else (people[0] if people else None))
        clerk = next(
            (m for m in (*cell.committee, cell.deputy) if m is not None and m.pk in ids and m is not chair), None
        )
        if clerk is None:
            others = [m for m in day_people if m is not chair] or [m for m in people if m is not chair]
            clerk = others[cell.index % len(others)] if others else None
        return chair, clerk

    def _can_attend(self, people: list[Member], day: datetime.date) -> list[Member]:
        return [m for m in people if not _active(self.exempt, m.pk, day) and not _active(self.suspended, m.pk, day)]

    def cell(self, cell: _Cell) -> None:
        rng = self.rng
        months, month = [], self.first_month
        while month <= self.current_month:
            months.append(month)
            month = _add_months(month, 1)
        featured = cell.organisation.pk == self.featured_cell_id
        past = months[:-1]
        skipped: set[datetime.date] = set()
        if not featured and rng.random() < 0.15:
            skipped.update(rng.sample(past, min(len(past), rng.choice((1, 1, 2)))))
        base_day = rng.randint(3, 15)
        hour = rng.choice((8, 14, 14, 14, 15, 16))
        has_committee = bool(cell.committee) or (
            cell.deputy is not None and len([m for m in cell.members if m.status == Member.Status.OFFICIAL]) >= 9
        )
        # Thematic work per quarter: combined with the regular meeting, a separate meeting, or (a gap) nothing.
        quarters = sorted({(m.year, (m.month - 1) // 3) for m in months})
        combined_in, thematic_in = set(), set()
        for quarter in quarters:
            in_quarter = [m for m in past if (m.year, (m.month - 1) // 3) == quarter and m not in skipped]
            if not in_quarter:
                continue
            roll = rng.random()
            if roll < 0.5:
                combined_in.add(rng.choice(in_quarter))
            elif roll < 0.88:
                thematic_in.add(rng.choice(in_quarter))
        forums = set()
        for year in sorted({m.year for m in past}):
            in_year = [m for m in past if m.year == year and m not in skipped]
            count = rng.choices((0, 1, 2), (0.1, 0.6, 0.3))[0] if len(in_year) >= 6 else int(rng.random() < 0.5)
            forums.update(rng.sample(in_year, min(count, len(in_year))))
        visited_quarters = {q for q in quarters if rng.random() < 0.75}
        low_months = {m for m in past if rng.random() < 0.04}
        unadopted_last = not featured and rng.random() < 0.08

        held_plans = []
        for month in months:
            if month in skipped:
                continue
            day = self._day_in(month, base_day + rng.randint(-2, 3))
            start = self._clear_of_now(self._at(day, hour, rng.choice((0, 0, 0, 30))))
            day = start.date()
            people = cell.expected(day)
            if not people:
                continue
            chair, clerk = self._officers(cell, self._can_attend(people, day))
            kind = Meeting.Kind.COMBINED if month in combined_in else Meeting.Kind.REGULAR
            topic = rng.choice(THEMATIC_TOPICS) if kind == Meeting.Kind.COMBINED else ""
            plan = self._meeting(
                cell, kind=kind, month=month, start=start, minutes=0, topic=topic, chair=chair, clerk=clerk
            )
            plan.late_planning = not featured and rng.random() < LATE_PLANNING_SHARE
            self._notice(plan)
            if has_committee:
                committee = self._committee(cell, month, start)
                if committee is not None:
                    plan.meeting.preparatory_meeting = committee.meeting
            if self._is_over(start):
                held_plans.append((plan, people, month in low_months))
            else:
                # This month's meeting is still ahead: notified, the RSVPs coming in. In the featured
                # cell it is the one upcoming meeting the demo accounts see.
                self._planned(cell, plan, people, answered=0.5 if featured else rng.uniform(0.3, 0.7))
                if featured:
                    self.upcoming = plan
            self.plans.append(plan)
            # Separate thematic meetings and forums later in the month.
            for extra_kind, chosen, pool in (
                (Meeting.Kind.THEMATIC, thematic_in, THEMATIC_TOPICS),
                (Meeting.Kind.FORUM, forums, FORUM_TOPICS),
            ):
                if month not in chosen:
                    continue
                extra_day = self._weekday(
                    min(
                        day + datetime.timedelta(days=rng.randint(7, 12)),
                        _add_months(month, 1) - datetime.timedelta(days=1),
                    )
                )
                extra_start = self._at(extra_day, rng.choice((8, 14)), 0)
                if not self._is_over(extra_start) or extra_day.month != month.month:
                    continue
                extra_people = cell.expected(extra_day)
                extra = self._meeting(
                    cell,
                    kind=extra_kind,
                    month=month,
                    start=extra_start,
                    minutes=0,
                    topic=rng.choice(pool),
                    chair=chair,
                    clerk=clerk,
                )
                self._notice(extra)
                held_plans.append((extra, extra_people, False))
                self.plans.append(extra)

        # Upper-level visits: the supervisor comes to one meeting in most quarters.
        if cell.supervisor is not None:
            by_quarter = defaultdict(list)
            for plan, _people, _low in held_plans:
                if plan.meeting.kind != Meeting.Kind.COMMITTEE:
                    by_quarter[(plan.local_start.year, (plan.local_start.month - 1) // 3)].append(plan)
            for quarter, plans in sorted(by_quarter.items()):
                if quarter in visited_quarters:
                    rng.choice(plans).upper_guests.append(cell.supervisor.pk)
                    self._guest_names[cell.supervisor.pk] = (
                        f"Đồng chí {cell.supervisor.full_name}, đảng ủy viên phụ trách chi bộ"
                    )

        held_plans.sort(key=lambda item: item[0].local_start)
        last_index = len(held_plans) - 1
        for index, (plan, people, low) in enumerate(held_plans):
            adopt = not (unadopted_last and index == last_index)
            self._held(cell, plan, people, low=low, adopt=adopt)

        if featured and self.upcoming is None:
            self._next_month(cell, base_day, hour, has_committee=has_committee)

    def _committee(self, cell: _Cell, month: datetime.date, start: datetime.datetime) -> _Plan | None:
        """The chi ủy meeting that prepares the regular meeting at ``start``: a weekday 2 to 5 days
        before it, in the month before when the meeting is early in its month. It counts for the
        month it prepares (``month``). None while it is still ahead (only held ones are written), or
        when no term of the cell covers its day."""
        rng = self.rng
        committee_day = start.date() - datetime.timedelta(days=rng.randint(*PREPARATION_DAYS))
        while committee_day.weekday() >= 5:
            committee_day -= datetime.timedelta(days=1)
        committee_start = self._at(committee_day, 8 if start.hour >= 14 else 15, 0)
        if not self._is_over(committee_start) or cell.term_on(committee_day) is None:
            return None
        members = [m for m in (cell.secretary, cell.deputy, *cell.committee) if m is not None]
        members = [m for m in members if m.pk in cell.joined and cell.joined[m.pk][0] <= committee_day]
        if len(members) < 2:
            return None
        chair, clerk = members[0], members[1]
        plan = self._meeting(
            cell, kind=Meeting.Kind.COMMITTEE, month=month, start=committee_start, minutes=60, chair=chair, clerk=clerk
        )
        self._notice(plan)
        self.plans.append(plan)
        self._committee_plans.append((plan, members))
        return plan

    def _next_month(self, cell: _Cell, base_day: int, hour: int, *, has_committee: bool) -> None:
        """The featured cell's next month's regular meeting, once this month's is over: already
        notified, with RSVPs coming in."""
        month = _add_months(self.current_month, 1)
        day = self._day_in(month, base_day)
        people = cell.expected(self.today)
        chair, clerk = self._officers(cell, self._can_attend(people, self.today))
        plan = self._meeting(
            cell, kind=Meeting.Kind.REGULAR, month=month, start=self._at(day, hour), minutes=0, chair=chair, clerk=clerk
        )
        plan.meeting.notice_sent_at = self.now - datetime.timedelta(hours=self.rng.randint(2, 30))
        plan.meeting.documents_published_at = plan.meeting.notice_sent_at
        if has_committee:
            committee = self._committee(cell, month, plan.local_start)
            if committee is not None:
                plan.meeting.preparatory_meeting = committee.meeting
        self._planned(cell, plan, people, answered=0.5)
        self.plans.append(plan)
        self.upcoming = plan

    # -- when each row was written ---------------------------------------------------------------

    def _planned_at(self, plan: _Plan) -> datetime.datetime:
        """When the secretary planned the meeting in the portal (its ``created_at``): never after its notice.

        A regular meeting is planned by the 25th of the month before, in the days after the 8th, unless
        the cell is late (``plan.late_planning``): then after the 25th, shortly before the notice went out.
        """
        rng, meeting = self.rng, plan.meeting
        notice = meeting.notice_sent_at
        latest = notice - datetime.timedelta(minutes=rng.randint(10, 120))
        if meeting.kind in Meeting.REGULAR_KINDS:
            previous = _add_months(meeting.period_month, -1)
            after_deadline = self._at(previous.replace(day=PLANNING_DAY) + datetime.timedelta(days=1), 8)
            if plan.late_planning and after_deadline < latest:
                return after_deadline + (latest - after_deadline) * rng.random()
            last = previous.replace(day=PLANNING_DAY - 1)
            first = min(max(previous.replace(day=8), plan.local_start.date() - datetime.timedelta(days=30)), last)
            day = first + datetime.timedelta(days=rng.randint(0, (last - first).days))
            return min(self._at(day, rng.randint(8, 16), rng.randrange(60)), latest)
        if meeting.kind == Meeting.Kind.COMMITTEE:
            return notice - datetime.timedelta(hours=rng.randint(2, 48))
        return notice - datetime.timedelta(days=rng.randint(3, 15), hours=rng.randint(0, 8))

    def _last_changed_at(self, plan: _Plan) -> datetime.datetime:
        """The meeting's ``updated_at``: its last step (notice, documents, the minutes recorded or adopted)."""
        meeting = plan.meeting
        if meeting.adopted_at is not None:
            return meeting.adopted_at
        if meeting.actual_end is not None:
            return min(meeting.actual_end + datetime.timedelta(minutes=self.rng.randint(10, 90)), self.now)
        return max(meeting.notice_sent_at, meeting.documents_published_at or meeting.notice_sent_at)

    # -- writing -------------------------------------------------------------------------------

    def _number(self, cells: dict[int, _Cell]) -> None:
        """Minutes and conclusion numbers per organisation and term, in the order of adoption."""
        minutes_counter: dict = defaultdict(int)
        resolution_counter: dict = defaultdict(int)
        adopted = sorted((p for p in self.plans if p.adopted), key=lambda p: (p.meeting.adopted_at, p.local_start))
        for plan in adopted:
            meeting = plan.meeting
            term = cells[meeting.organisation_id].term_on(timezone.localtime(meeting.actual_start, self.tz).date())
            meeting.term = term
            key = (meeting.organisation_id, term.pk if term else None)
            minutes_counter[key] += 1
            meeting.minutes_number = minutes_counter[key]
            resolution = plan.resolution
            resolution.term_id = term.pk if term else None
            resolution_counter[(*key, resolution.kind)] += 1
            resolution.number = resolution_counter[(*key, resolution.kind)]
        # Notices "NN-TB/CB" per organisation and the term of the sending day, in the order they were sent
        # (services.meeting_publish numbers them the same way).
        notice_counter: dict = defaultdict(int)
        noticed = sorted(
            (p for p in self.plans if p.meeting.notice_sent_at is not None),
            key=lambda p: (p.meeting.notice_sent_at, p.local_start),
        )
        for plan in noticed:
            meeting = plan.meeting
            term = cells[meeting.organisation_id].term_on(timezone.localtime(meeting.notice_sent_at, self.tz).date())
            meeting.notice_term = term
            key = (meeting.organisation_id, term.pk if term else None)
            notice_counter[key] += 1
            meeting.notice_number = notice_counter[key]

    def write(self, cells: dict[int, _Cell]) -> dict[str, int]:
        self._number(cells)
        plans = self.plans
        # Committee meetings first: the regular meetings point at them.
        committee = [p.meeting for p in plans if p.meeting.kind == Meeting.Kind.COMMITTEE]
        others = [p.meeting for p in plans if p.meeting.kind != Meeting.Kind.COMMITTEE]
        Meeting.objects.bulk_create(committee, batch_size=BATCH_SIZE)
        Meeting.objects.bulk_create(others, batch_size=BATCH_SIZE)
        # bulk_create stamps created_at / updated_at with the seed's moment (auto_now_add): put back
        # when each meeting was planned and last changed.
        set_columns(
            Meeting,
            ("created_at", "updated_at"),
            [(p.meeting.pk, self._planned_at(p), self._last_changed_at(p)) for p in plans],
        )
        # The many small rows go in with COPY (PostgreSQL) or executemany (SQLite), not model instances.
        agenda_ids = iter(_reserve_ids(AgendaItem, sum(len(p.agenda) for p in plans)))
        agenda, opinions, attendances, votes, resolutions, guests = [], [], [], [], [], []
        for plan in plans:
            meeting_id = plan.meeting.pk
            ids = []
            for order, step, title in plan.agenda:
                ids.append(next(agenda_ids))
                agenda.append((ids[-1], meeting_id, order, title, step, ""))
            opinions += [
                (meeting_id, ids[index] if index is not None else None, speaker_id, guest, text, said_at)
                for speaker_id, guest, text, index, said_at in plan.opinions
            ]
            attendances += [
                (meeting_id, a.member_id, a.rsvp, a.rsvp_reason, a.rsvp_at, a.rsvp_via, a.presence, a.absence_reason)
                for a in plan.attendances
            ]
            if plan.vote:
                votes.append(
                    (
                        meeting_id,
                        plan.vote[0],
                        Vote.Kind.OTHER,
                        Vote.Method.SHOW_OF_HANDS,
                        *plan.vote[1:],
                        plan.voted_at,
                    )
                )
            if plan.resolution:
                r = plan.resolution
                resolutions.append((meeting_id, r.kind, r.number, r.term_id, r.text, r.adopted_at))
            guests += [(meeting_id, member_id) for member_id in plan.upper_guests]
        _insert(AgendaItem, ("id", "meeting", "order", "title", "step", "notes"), agenda)
        _insert(Opinion, ("meeting", "agenda_item", "speaker", "guest_name", "text", "created_at"), opinions)
        _insert(
            Attendance,
            ("meeting", "member", "rsvp", "rsvp_reason", "rsvp_at", "rsvp_via", "presence", "absence_reason"),
            attendances,
        )
        attendance_counts_refresh(meetings=Meeting.objects.filter(organisation_id__in=list(cells)))
        _insert(
            Vote,
            (
                "meeting",
                "question",
                "kind",
                "method",
                "votes_for",
                "votes_against",
                "votes_abstain",
                "eligible_count",
                "created_at",
            ),
            votes,
        )
        _insert(Resolution, ("meeting", "kind", "number", "term", "text", "adopted_at"), resolutions)
        _insert(Meeting.upper_guests.through, ("meeting", "member"), guests)
        tasks = [(plan.meeting.pk, task) for plan in plans for task in plan.tasks]
        task_ids = _reserve_ids(Task, len(tasks))
        _insert(
            Task,
            ("id", "meeting", "description", "due_date", "status", "result", "completed_at", "created_at"),
            [
                (pk, meeting_id, t.description, t.due_date, t.status, t.result, t.completed_at, t.created_at)
                for pk, (meeting_id, t) in zip(task_ids, tasks, strict=True)
            ],
        )
        _insert(
            Task.assignees.through,
            ("task", "member"),
            [(pk, member_id) for pk, (_meeting, t) in zip(task_ids, tasks, strict=True) for member_id in t.assignees],
        )
        return {
            "meetings": len(plans),
            "adopted": sum(1 for p in plans if p.adopted),
            "attendances": len(attendances),
            "opinions": len(opinions),
            "tasks": len(tasks),
        }


def _reserve_ids(model, count: int) -> list[int]:
    """``count`` primary keys for rows inserted with explicit ids (their children need them first)."""
    if not count:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        first = cursor.fetchone()[0] + 1
    return list(range(first, first + count))


def _insert(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert plain tuples into ``model``'s table, in ``fields`` order: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        ops = connection.ops

        def adapt(value):
            if isinstance(value, datetime.datetime):
                return ops.adapt_datetimefield_value(value)
            if isinstance(value, datetime.date):
                return ops.adapt_datefield_value(value)
            return value

        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, [tuple(adapt(v) for v in row) for row in rows[start : start + BATCH_SIZE]])


def build_demo_meetings(
    *,
    rng: random.Random,
    today: datetime.date | None = None,
    months: int = 12,
    featured_cell: Organisation | None = None,
) -> dict[str, int]:
    """Write the meeting history of every cell for the ``months`` months before ``today`` (and this month).

    The terms that cover the window must exist (``cells.demo.add_previous_terms`` adds the 2020–2025
    term when the window reaches before the demo term). Returns counts for the command's report.
    """
    today = today or timezone.localdate()
    builder = _Builder(
        rng=rng, today=today, months=months, featured_cell_id=featured_cell.pk if featured_cell else None
    )
    with transaction.atomic():
        cells = builder.load()
        for cell in cells:
            builder.cell(cell)
        for plan, members in builder._committee_plans:
            builder._held(None, plan, members, low=False, adopt=True)
        counts = builder.write({cell.organisation.pk: cell for cell in cells})
        if builder.upcoming is not None:
            _notify_upcoming(builder.upcoming.meeting)
    return counts


def _notify_upcoming(meeting: Meeting) -> None:
    """Inbox rows of the upcoming meeting's notice for the members who have an account (no e-mail)."""
    url = reverse("meetings:detail", args=[meeting.pk])
    subject = (
        f"Thông báo {meeting.get_kind_display().lower()} "
        f"{timezone.localtime(meeting.planned_start):%H:%M} ngày {timezone.localtime(meeting.planned_start):%d/%m/%Y}"
    )
    rows = []
    for attendance in (
        meeting.attendances.select_related("member")
        .filter(member__user__isnull=False)
        .exclude(presence=Presence.EXEMPT)
    ):
        link = rsvp_url(meeting=meeting, member=attendance.member)
        body = (
            f"Thời gian: {timezone.localtime(meeting.planned_start):%H:%M ngày %d/%m/%Y}\n"
            f"Địa điểm: {meeting.place}\n\nXác nhận tham dự hoặc báo vắng (không cần đăng nhập): {link}"
        )
        rows.append(
            Notification(
                recipient_id=attendance.member.user_id,
                member=attendance.member,
                organisation=meeting.organisation,
                kind="meetings.notice",
                subject=subject,
                body=body,
                url=url,
            )
        )
    Notification.objects.bulk_create(rows)
    # Sent with the notice, not at the seed's moment (auto_now_add).
    Notification.objects.filter(pk__in=[row.pk for row in rows]).update(created_at=meeting.notice_sent_at)


def reset_demo_meetings() -> int:
    """Delete every meeting and its records quickly, before ``cells.demo.reset_demo`` removes the tree.

    Rows of other apps that point at meetings (scores…) are deleted or unlinked first, then each
    meeting table is emptied with one DELETE, children first.
    """
    from demo.cells import _purge

    tables = [
        Opinion,
        Vote,
        Task.assignees.through,
        Task,
        Resolution,
        Attendance,
        AgendaItem,
        Meeting.upper_guests.through,
        MeetingDocument,
        Amendment,
        Meeting,
    ]
    with transaction.atomic():
        count = Meeting.objects.count()
        storage = MeetingDocument._meta.get_field("file").storage
        files = [name for name in MeetingDocument.objects.values_list("file", flat=True) if name]
        transaction.on_commit(lambda: [storage.delete(name) for name in files])
        for model in tables:
            for relation in model._meta.related_objects:
                if relation.related_model in tables or relation.on_delete is None:
                    continue
                pointing = relation.related_model._base_manager.filter(**{f"{relation.field.name}__isnull": False})
                if relation.on_delete is SET_NULL:
                    pointing.update(**{relation.field.name: None})
                else:
                    _purge(pointing)
        # One DELETE per table, children first: no model instances are loaded.
        Meeting.objects.update(preparatory_meeting=None)
        for model in tables:
            model._base_manager.all()._raw_delete(connection.alias)
    return count


def meetings_to_score(*, cell: Organisation) -> list[Meeting]:
    """Hook for the scoring app: the featured cell's held meetings, oldest first, for a score pre-fill.

    ``seed_demo --scores`` passes them to ``scoring.services.meeting_score_prefill_bulk`` (meetings
    cannot import scoring: it is the layer above).
    """
    return list(
        Meeting.objects.filter(organisation=cell)
        .filter(Q(state=Meeting.State.HELD) | Q(state=Meeting.State.MINUTES_ADOPTED))
        .order_by("planned_start")
    )
