"""Meetings, their agenda, attendance, opinions, votes, conclusion, tasks and documents (design §3).

Models hold fields, constraints and single-row facts; the rules that span rows live in services.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import ExtractMonth, ExtractYear
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cells.models import Member, Notification, Organisation, Term
from lib.choices import ChoiceLabels
from lib.formatting import share_percent

from . import kinds

# Sanity bounds on a meeting's dates (issue 21: a meeting lasting ten years, an actual start in 1990).
# They are no Party rule — no document sets a maximum length or an earliest date — only limits past
# which a date is a typing error: no cell meeting lasts longer than a working day, and the portal
# holds no meeting before 2000 (the Khối's records begin long after; an organisation's own
# ``active_from`` is a later floor, checked by the service).
MEETING_MAX_LENGTH = datetime.timedelta(hours=12)
MEETING_EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))


def _same_month_q(field: str) -> Q:
    """``period_month`` is the month of ``field`` in local time (Asia/Ho_Chi_Minh, the current time zone
    when the constraint's SQL is written)."""
    return Q(period_month__year=ExtractYear(field), period_month__month=ExtractMonth(field))


class Meeting(ChoiceLabels, models.Model):
    # The built-in kinds by name (``Meeting.Kind.REGULAR``), from the registry (meetings/kinds.py).
    Kind = models.TextChoices(
        "Kind", [(kinds.get(code).name, (code, kinds.get(code).label)) for code in kinds.BUILT_IN]
    )

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("Trực tiếp")
        ONLINE = "online", _("Trực tuyến")
        HYBRID = "hybrid", _("Trực tiếp kết hợp trực tuyến")

    class State(models.TextChoices):
        DRAFT = "draft", _("Dự thảo")
        NOTIFIED = "notified", _("Đã thông báo")
        HELD = "held", _("Đã họp")
        MINUTES_ADOPTED = "minutes_adopted", _("Đã thông qua biên bản")
        CANCELLED = "cancelled", _("Đã hủy")

    # Kinds that are "the" regular meeting of the month: at most one per cell and month.
    REGULAR_KINDS = kinds.KindCodes("regular")
    # Kinds whose minimum length is 90 minutes (120 when combined with a thematic meeting).
    MIN_MINUTES = kinds.min_minutes()

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("Chi bộ")
    )
    kind = models.CharField(_("Loại buổi sinh hoạt"), max_length=12, choices=kinds.choices, default=Kind.REGULAR)
    period_month = models.DateField(_("Sinh hoạt của tháng"), help_text=_("Ngày đầu tháng mà buổi sinh hoạt tính cho."))
    planned_start = models.DateTimeField(_("Dự kiến bắt đầu"))
    planned_end = models.DateTimeField(_("Dự kiến kết thúc"))
    actual_start = models.DateTimeField(_("Thực tế bắt đầu"), null=True, blank=True)
    actual_end = models.DateTimeField(_("Thực tế kết thúc"), null=True, blank=True)
    short_reason = models.CharField(
        _("Lý do sinh hoạt ngắn hơn quy định"),
        max_length=255,
        blank=True,
        help_text=_(
            "Bắt buộc khi buổi sinh hoạt ngắn hơn thời lượng tối thiểu (90 phút; 120 phút khi kết hợp chuyên đề)."
        ),
    )
    place = models.CharField(_("Địa điểm"), max_length=255, blank=True)
    mode = models.CharField(_("Hình thức"), max_length=10, choices=Mode.choices, default=Mode.IN_PERSON)
    online_link = models.URLField(_("Đường dẫn họp trực tuyến"), blank=True)
    topic = models.CharField(_("Chủ đề"), max_length=255, blank=True)
    chair = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("Chủ trì")
    )
    clerk = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("Thư ký")
    )
    guests = models.TextField(_("Khách mời"), blank=True, help_text=_("Khách mời khác, mỗi người một dòng."))
    upper_guests = models.ManyToManyField(
        Member, blank=True, related_name="meetings_visited", verbose_name=_("Đại biểu cấp trên dự")
    )
    preparatory_meeting = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prepared_meetings",
        verbose_name=_("Cuộc họp chi ủy chuẩn bị"),
    )
    state = models.CharField(_("Trạng thái"), max_length=16, choices=State.choices, default=State.DRAFT)
    notice_sent_at = models.DateTimeField(_("Đã gửi thông báo lúc"), null=True, blank=True)
    documents_published_at = models.DateTimeField(_("Đã gửi tài liệu lúc"), null=True, blank=True)
    minutes_number = models.PositiveIntegerField(_("Số biên bản"), null=True, blank=True)
    # The notice's number "NN-TB/CB", per organisation and term like every Party document (HD 36-HD/VPTW
    # §1.3.1a, domain-research §6.1), given when the notice is sent (services.meeting_publish).
    notice_number = models.PositiveIntegerField(_("Số thông báo"), null=True, blank=True)
    notice_term = models.ForeignKey(
        Term,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Nhiệm kỳ của thông báo"),
    )
    term = models.ForeignKey(
        Term, null=True, blank=True, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("Nhiệm kỳ")
    )
    adopted_at = models.DateTimeField(_("Thông qua biên bản lúc"), null=True, blank=True)
    # The conclusion reported upward (seed §II "báo cáo cấp trên"; within 2 days of the meeting under the
    # HD 42-HD/BTCTW repositories, domain-research §3.2, L): when it was first sent and to whom.
    # Written only by services.meeting_report_upward; read by indicators.reported_up_in_time.
    reported_up_at = models.DateTimeField(_("Đã báo cáo cấp trên lúc"), null=True, blank=True)
    reported_up_to = models.TextField(_("Đã báo cáo tới"), blank=True)
    # A meeting kept on paper and entered afterwards ("nhập bổ sung", services.meeting_record_past):
    # who entered it and when, and the dates the paper gives. Its timing criteria are judged from
    # these dates, never from when it was typed in (meetings.indicators).
    entered_afterwards_at = models.DateTimeField(_("Nhập bổ sung lúc"), null=True, blank=True)
    entered_afterwards_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người nhập bổ sung"),
    )
    paper_notice_date = models.DateField(
        _("Ngày thông báo (theo hồ sơ giấy)"),
        null=True,
        blank=True,
        help_text=_("Để trống khi hồ sơ giấy không ghi nhận."),
    )
    paper_adopted_on = models.DateField(_("Ngày thông qua biên bản (theo hồ sơ giấy)"), null=True, blank=True)
    # Counts of the attendance rows, so that the dashboards read one row per meeting instead of
    # counting hundreds of thousands of rows. Written only by services.attendance_counts_refresh,
    # in the transaction of every write of the rows: present = present or late; base = everyone
    # but the exempt and those attached elsewhere (not recorded yet counts in it); unexcused.
    attendance_present = models.PositiveIntegerField(_("Số đảng viên có mặt"), default=0, editable=False)
    attendance_base = models.PositiveIntegerField(_("Số đảng viên phải dự"), default=0, editable=False)
    attendance_unexcused = models.PositiveIntegerField(_("Số lượt vắng không lý do"), default=0, editable=False)
    # The iCalendar SEQUENCE of the meeting's event (RFC 5545 §3.8.7.4): raised by each re-notice of a
    # new time or place and by the cancellation, so a calendar client replaces the event it holds.
    calendar_sequence = models.PositiveIntegerField(_("Số lần sửa trên lịch"), default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Buổi sinh hoạt")
        verbose_name_plural = _("Buổi sinh hoạt")
        ordering = ["-planned_start", "-pk"]
        indexes = [
            # Per cell and month; with the columns the dashboards count, a đảng ủy's dashboard reads
            # its cells' meetings from the index alone (index-only range scans, cell by cell).
            models.Index(
                fields=["organisation", "period_month"],
                name="meeting_org_month_counts",
                include=["id", "kind", "state", "attendance_base", "attendance_present", "attendance_unexcused"],
            ),
            # The few meetings whose minutes are not adopted yet, held or still noticed (the "minutes
            # overdue" warning and reminder, meetings.indicators.minutes_overdue), without scanning
            # every meeting.
            models.Index(
                fields=["period_month"], condition=Q(state__in=["notified", "held"]), name="meeting_awaiting_minutes"
            ),
            # The noticed meetings in start order: the dashboards' "next 14 days" (reports.dashboard.upcoming_meetings,
            # built on every request) reads the first few, not every noticed meeting of the tree.
            models.Index(
                fields=["planned_start", "id"], condition=Q(state="notified"), name="meeting_noticed_by_start"
            ),
            # The same columns by month first: the whole Khối's dashboard reads a year's slice of it
            # (counts per group, heat map, quality by month, attendance warnings), not every meeting
            # row with its texts. PostgreSQL picks one or the other by the scope's size.
            models.Index(
                fields=["period_month"],
                name="meeting_month_counts",
                include=[
                    "id",
                    "organisation",
                    "kind",
                    "state",
                    "attendance_base",
                    "attendance_present",
                    "attendance_unexcused",
                ],
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "period_month"],
                condition=Q(kind__in=list(kinds.codes("regular"))) & ~Q(state="cancelled"),
                name="meeting_one_regular_per_month",
            ),
            models.UniqueConstraint(
                fields=["organisation", "notice_term", "notice_number"],
                condition=Q(notice_number__isnull=False),
                name="meeting_one_notice_number",
            ),
            models.CheckConstraint(condition=Q(planned_end__gt=F("planned_start")), name="meeting_planned_ordered"),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_end__gt=F("actual_start")),
                name="meeting_actual_ordered",
            ),
            # The sanity bounds above, and the order of notice and meeting (issue 21).
            models.CheckConstraint(
                condition=Q(planned_end__lte=F("planned_start") + MEETING_MAX_LENGTH),
                name="meeting_planned_length_sane",
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_end__lte=F("actual_start") + MEETING_MAX_LENGTH),
                name="meeting_actual_length_sane",
            ),
            models.CheckConstraint(
                condition=Q(planned_start__gte=MEETING_EARLIEST), name="meeting_planned_after_floor"
            ),
            models.CheckConstraint(
                condition=Q(actual_start__isnull=True) | Q(actual_start__gte=MEETING_EARLIEST),
                name="meeting_actual_after_floor",
            ),
            models.CheckConstraint(
                condition=Q(actual_start__isnull=True)
                | Q(notice_sent_at__isnull=True)
                | Q(actual_start__gte=F("notice_sent_at")),
                name="meeting_held_after_notice",
            ),
            # Chi bộ meets once a month (Điều lệ Đảng Art. 24.2, domain-research §5): the regular
            # meeting of a month is planned and held in that month. (A chi ủy meeting that prepares it
            # may fall in the month before: only the regular kinds are bound.)
            models.CheckConstraint(condition=Q(period_month__day=1), name="meeting_period_first_day"),
            models.CheckConstraint(
                condition=~Q(kind__in=list(kinds.codes("regular"))) | _same_month_q("planned_start"),
                name="meeting_regular_planned_in_its_month",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=list(kinds.codes("regular")))
                | Q(actual_start__isnull=True)
                | _same_month_q("actual_start"),
                name="meeting_regular_held_in_its_month",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.period_month:%m/%Y} — {self.organisation}"

    def get_absolute_url(self):
        return reverse("meetings:detail", args=[self.pk])

    @property
    def kind_info(self) -> kinds.MeetingKind | None:
        """The registry's entry for the meeting's kind (its flags, for templates)."""
        return kinds.KINDS.get(self.kind)

    @property
    def is_entered_afterwards(self) -> bool:
        return self.entered_afterwards_at is not None

    @property
    def entered_afterwards_name(self) -> str:
        """Who entered the meeting afterwards, as documents name a person: the member's name, else the account's."""
        user = self.entered_afterwards_by
        if user is None:
            return ""
        member = getattr(user, "member", None)
        return member.full_name if member is not None else (user.get_full_name() or user.get_username())

    @property
    def is_locked(self) -> bool:
        return self.state in (self.State.MINUTES_ADOPTED, self.State.CANCELLED)

    @property
    def duration_minutes(self) -> int | None:
        if self.actual_start and self.actual_end:
            return int((self.actual_end - self.actual_start).total_seconds() // 60)
        return None

    @property
    def notice_reference(self) -> str:
        """The notice's number and sign, e.g. "04-TB/CB"; empty until the notice is sent."""
        if not self.notice_number:
            return ""
        return f"{self.notice_number:02d}-TB/{self.organisation.short_code or 'CB'}"

    @property
    def minutes_reference(self) -> str:
        """The minutes' number and sign, e.g. "03-BB/CB"; empty until adopted."""
        if not self.minutes_number:
            return ""
        return f"{self.minutes_number:02d}-BB/{self.organisation.short_code or 'CB'}"


class AgendaItem(models.Model):
    class Step(models.TextChoices):
        OPENING = "opening", _("Khai mạc")
        NEWS = "news", _("Thông tin thời sự, chỉ đạo của cấp trên")
        LAST_RESULTS = "last_results", _("Kết quả thực hiện nghị quyết tháng trước")
        OPINIONS = "opinions", _("Ý kiến của đảng viên và quần chúng")
        NEXT_TASKS = "next_tasks", _("Nhiệm vụ tháng tới và phân công")
        DISCUSSION = "discussion", _("Thảo luận, phê bình và tự phê bình")
        PARTY_WORK = "party_work", _("Công tác đảng")
        TOPIC = "topic", _("Chuyên đề")
        CONCLUSION = "conclusion", _("Kết luận và biểu quyết")
        SELF_SCORE = "self_score", _("Tự chấm điểm")
        MINUTES = "minutes", _("Thông qua biên bản")
        CLOSE = "close", _("Bế mạc")
        OTHER = "other", _("Nội dung khác")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    order = models.PositiveSmallIntegerField(_("Thứ tự"))
    title = models.CharField(_("Nội dung"), max_length=255)
    step = models.CharField(_("Bước"), max_length=16, choices=Step.choices, default=Step.OTHER)
    notes = models.TextField(_("Ghi chú"), blank=True)

    class Meta:
        verbose_name = _("Nội dung chương trình")
        verbose_name_plural = _("Chương trình sinh hoạt")
        ordering = ["meeting", "order", "pk"]

    def __str__(self):
        return f"{self.order}. {self.title}"


class Attendance(ChoiceLabels, models.Model):
    class Rsvp(models.TextChoices):
        NONE = "none", _("Chưa trả lời")
        YES = "yes", _("Tham dự")
        NO = "no", _("Không tham dự")

    class Via(models.TextChoices):
        LINK = "link", _("Đường dẫn trong thông báo")
        WEB = "web", _("Trên cổng")
        SECRETARY = "secretary", _("Bí thư ghi nhận")

    class Presence(models.TextChoices):
        BLANK = "", _("Chưa ghi nhận")
        PRESENT = "present", _("Có mặt")
        LATE = "late", _("Đến muộn")
        ABSENT_EXCUSED = "absent_excused", _("Vắng có lý do")
        ABSENT_UNEXCUSED = "absent_unexcused", _("Vắng không lý do")
        EXEMPT = "exempt", _("Miễn sinh hoạt")
        ATTACHED_ELSEWHERE = "attached_elsewhere", _("Sinh hoạt tạm thời nơi khác")

    PRESENT_VALUES = (Presence.PRESENT, Presence.LATE)
    # Not in the attendance base ("đảng viên phải dự"): the exempt, and members attached to another cell.
    OUTSIDE_BASE_VALUES = (Presence.EXEMPT, Presence.ATTACHED_ELSEWHERE)

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="attendances")
    rsvp = models.CharField(_("Xác nhận"), max_length=4, choices=Rsvp.choices, default=Rsvp.NONE)
    rsvp_reason = models.CharField(_("Lý do vắng"), max_length=255, blank=True)
    rsvp_at = models.DateTimeField(_("Xác nhận lúc"), null=True, blank=True)
    rsvp_via = models.CharField(_("Xác nhận qua"), max_length=10, choices=Via.choices, blank=True)
    presence = models.CharField(
        _("Có mặt"), max_length=20, choices=Presence.choices, default=Presence.BLANK, blank=True
    )
    absence_reason = models.CharField(_("Lý do vắng"), max_length=255, blank=True)
    # When the member first opened the notice (issue #17 item 6): the one-click page of the link, or the
    # meeting's page signed in. Written once, by services.notice_opened_record; an answer or a request to be
    # excused counts as opened too (selectors.notice_unopened), so only the silent ones are reminded.
    notice_opened_at = models.DateTimeField(_("Mở thông báo lúc"), null=True, blank=True)
    # Presence per agenda item (issue #17 item 3): a member present (or late) is present from ``joined_item``
    # (empty: from the first item) through ``left_item`` (empty: to the end). Written only by
    # services.attendance_record; read by ``present_for`` (meetings.votes.item_voters, the minutes).
    joined_item = models.ForeignKey(
        AgendaItem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Tham gia từ nội dung"),
    )
    left_item = models.ForeignKey(
        AgendaItem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Rời buổi sinh hoạt sau nội dung"),
    )
    # The member's own one-tap "có mặt" from their link in an online or hybrid meeting (meetings.online).
    confirmed_online_at = models.DateTimeField(_("Tự xác nhận có mặt trực tuyến lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("Điểm danh")
        verbose_name_plural = _("Điểm danh")
        ordering = ["meeting", "member__full_name", "pk"]
        constraints = [models.UniqueConstraint(fields=["meeting", "member"], name="attendance_unique_member")]

    def __str__(self):
        return f"{self.member} @ {self.meeting_id}"

    @property
    def is_present(self) -> bool:
        return self.presence in self.PRESENT_VALUES

    def present_for(self, item: AgendaItem) -> bool:
        """Present for ``item``: present at the meeting, not joined after the item, not left before it."""
        if not self.is_present:
            return False
        key = (item.order, item.pk)
        if self.joined_item_id and (self.joined_item.order, self.joined_item.pk) > key:
            return False
        if self.left_item_id and (self.left_item.order, self.left_item.pk) < key:
            return False
        return True

    @property
    def partial(self) -> bool:
        """Present for part of the meeting only (joined late or left early by agenda item)."""
        return self.is_present and bool(self.joined_item_id or self.left_item_id)


def absence_evidence_path(instance, filename):
    import uuid
    from pathlib import PurePath

    # A random name on disk, as for a meeting's documents: a medical paper's name may hold personal data.
    return f"meetings/{instance.meeting_id}/xin-vang/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class AbsenceRequest(models.Model):
    """A member's request, before the meeting, to be excused ("xin vắng có lý do"), and the cell's answer.

    The rule (meetings.services.absence_request_file / absence_request_decide): the minutes record the
    members "absent, with reasons" (HD 42-HD/BTCTW §3.2 opening step, domain-research §3.2; HD 12 and
    HD 09 before it), and the seed's target is no absence without a reason (domain-research §2.4, HD 12 §1).
    No Party text lists the valid reasons or sets how long before the meeting a member must ask: the
    reason types below are the ones the scoring frames tell apart — absence on assignment ("công tác",
    left out by Trà Vinh's frame and QĐ 294 §9.3.2's example "3 absent on business") against personal
    reasons (illness, family; Trà Vinh counts "personal-reason absences ≤ 3 times a year") — and a
    request is taken until the planned start, as the RSVP is. An accepted request pre-fills the member's
    attendance as "vắng có lý do"; it leaves the vote's denominator as it is (QĐ 294 §9.3.2: absence
    with a reason is not excluded from a cell meeting's count).
    """

    class ReasonType(models.TextChoices):
        WORK = "work", _("Đi công tác")
        ILLNESS = "illness", _("Ốm đau")
        FAMILY = "family", _("Việc gia đình")
        OTHER = "other", _("Lý do khác")

    class State(models.TextChoices):
        PENDING = "pending", _("Chờ quyết định")
        ACCEPTED = "accepted", _("Đồng ý cho vắng")
        REFUSED = "refused", _("Không đồng ý")

    MAX_BYTES = 5 * 1024 * 1024
    # Extension as named -> extensions the content may be detected as (a scan or a photo of a paper).
    ALLOWED = {"pdf": {"pdf"}, "jpg": {"jpg"}, "jpeg": {"jpg"}, "png": {"png"}}

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="absence_requests")
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="absence_requests", verbose_name=_("Đảng viên")
    )
    reason_type = models.CharField(_("Loại lý do"), max_length=10, choices=ReasonType.choices)
    reason = models.CharField(_("Lý do"), max_length=255)
    evidence = models.FileField(_("Minh chứng"), upload_to=absence_evidence_path, max_length=255, blank=True)
    state = models.CharField(_("Trạng thái"), max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người quyết định"),
    )
    decided_at = models.DateTimeField(_("Quyết định lúc"), null=True, blank=True)
    answer_note = models.CharField(_("Ý kiến trả lời"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("Gửi lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("Đơn xin vắng")
        verbose_name_plural = _("Đơn xin vắng")
        ordering = ["meeting", "created_at", "pk"]
        constraints = [
            # One open request per member and meeting: a refused one may be followed by a new one.
            models.UniqueConstraint(
                fields=["meeting", "member"], condition=Q(state="pending"), name="absence_request_one_open"
            ),
        ]

    def __str__(self):
        return f"{self.member} @ {self.meeting_id}: {self.get_reason_type_display()}"

    @property
    def evidence_name(self) -> str:
        """The name the evidence downloads under (the name on disk is random)."""
        from pathlib import PurePath

        return f"minh-chung-xin-vang-{self.pk}{PurePath(self.evidence.name).suffix.lower()}"

    @property
    def attendance_reason(self) -> str:
        """The reason as the attendance row and the minutes write it: "Ốm đau: sốt cao"."""
        return f"{self.get_reason_type_display()}: {self.reason}"[:255]


class SpeakRequest(models.Model):
    """A member's "xin phát biểu" on an agenda item, before the meeting: the chair sees who wants the floor."""

    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="speak_requests")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("Đảng viên"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Đăng ký phát biểu")
        verbose_name_plural = _("Đăng ký phát biểu")
        ordering = ["agenda_item", "created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["agenda_item", "member"], name="speak_request_once")]

    def __str__(self):
        return f"{self.member} → {self.agenda_item}"


class DraftComment(models.Model):
    """A member's comment on the draft conclusion (``Resolution.text``) before the meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="draft_comments")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("Đảng viên"))
    text = models.TextField(_("Góp ý"))
    created_at = models.DateTimeField(_("Gửi lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("Góp ý dự thảo kết luận")
        verbose_name_plural = _("Góp ý dự thảo kết luận")
        ordering = ["meeting", "created_at", "pk"]

    def __str__(self):
        return f"{self.member}: {self.text[:40]}"


class Opinion(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="opinions")
    agenda_item = models.ForeignKey(
        AgendaItem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opinions",
        verbose_name=_("Nội dung"),
    )
    speaker = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("Đảng viên phát biểu")
    )
    guest_name = models.CharField(_("Hoặc khách mời phát biểu"), max_length=120, blank=True)
    text = models.TextField(_("Ý kiến"))
    # Sent in writing by the member from their link in an online or hybrid meeting (issue #17 item 3); a default
    # in the database too, for the rows the demo generator and the restore insert with COPY.
    in_writing = models.BooleanField(_("Ý kiến bằng văn bản"), default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Ý kiến phát biểu")
        verbose_name_plural = _("Ý kiến phát biểu")
        ordering = ["meeting", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(speaker__isnull=False) | ~Q(guest_name=""), name="opinion_has_speaker"),
        ]

    def __str__(self):
        return f"{self.speaker_name}: {self.text[:40]}"

    @property
    def speaker_name(self) -> str:
        return self.speaker.full_name if self.speaker_id else self.guest_name

    @property
    def speaker_label(self) -> str:
        """ "Đồng chí <name>" as the minutes write a speaker, once: a guest typed as "Đồng chí X" stays so."""
        name = self.speaker_name.strip()
        if name.lower().startswith("đồng chí "):
            return "Đồng chí " + name[len("đồng chí ") :]
        return f"Đồng chí {name}"


class Vote(models.Model):
    class Kind(models.TextChoices):
        ADMISSION = "admission", _("Kết nạp đảng viên")
        FULL_MEMBERSHIP = "full_membership", _("Công nhận đảng viên chính thức")
        OTHER = "other", _("Biểu quyết khác")

    class Method(models.TextChoices):
        SHOW_OF_HANDS = "show_of_hands", _("Giơ tay")
        BALLOT = "ballot", _("Bỏ phiếu kín")
        ONLINE = "online", _("Biểu quyết trực tuyến")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="votes")
    question = models.CharField(_("Nội dung biểu quyết"), max_length=255)
    kind = models.CharField(_("Loại biểu quyết"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    method = models.CharField(_("Hình thức"), max_length=16, choices=Method.choices, default=Method.SHOW_OF_HANDS)
    votes_for = models.PositiveIntegerField(_("Tán thành"))
    votes_against = models.PositiveIntegerField(_("Không tán thành"))
    votes_abstain = models.PositiveIntegerField(_("Không biểu quyết"), default=0)
    # The count the decision is measured against (meetings.votes: official members summoned, less
    # the QĐ 294 §9.3.2 exclusions), computed by the service, never typed.
    eligible_count = models.PositiveIntegerField(_("Số đảng viên tính biểu quyết"))
    # Whom a full-membership vote is about: the confirmation (cells.services) needs this cell's passed vote.
    subject = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="membership_votes",
        verbose_name=_("Đảng viên được xét"),
    )
    # Whom an admission vote is about: the candidate's "cell's vote" step (cells.admission) reads it.
    candidate = models.ForeignKey(
        "cells.Candidate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="admission_votes",
        verbose_name=_("Quần chúng được xét kết nạp"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Biểu quyết")
        verbose_name_plural = _("Biểu quyết")
        ordering = ["meeting", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(votes_for__gte=0)
                & Q(votes_against__gte=0)
                & Q(votes_abstain__gte=0)
                & Q(eligible_count__gte=0),
                name="vote_counts_non_negative",
            ),
        ]

    def __str__(self):
        return self.question

    @property
    def threshold(self):
        """More than half, or two thirds (admission, full membership): ``meetings.votes`` holds the rule."""
        from .votes import threshold_for

        return threshold_for(self.kind)

    @property
    def needs_two_thirds(self) -> bool:
        from .votes import TWO_THIRDS

        return self.threshold == TWO_THIRDS

    @property
    def threshold_label(self) -> str:
        from django.utils.translation import gettext

        return gettext(self.threshold.label)

    @property
    def passed(self) -> bool:
        return self.threshold.passes(self.votes_for, self.eligible_count)

    percent = staticmethod(share_percent)  # a Vietnamese percentage with one decimal: 88,9%

    @property
    def percent_for(self) -> str:
        return self.percent(self.votes_for, self.eligible_count)

    @property
    def percent_against(self) -> str:
        return self.percent(self.votes_against, self.eligible_count)

    @property
    def percent_abstain(self) -> str:
        return self.percent(self.votes_abstain, self.eligible_count)


class VoteQuestion(models.Model):
    """A question the chair opens on an agenda item of an online or hybrid meeting and closes (issue #17
    item 3). Members eligible for the item (meetings.votes.item_voters) cast one ``Ballot`` each from their
    link, changeable until the close; nobody sees a count before it. At the close the result is written as a
    ``Vote`` (method "trực tuyến") measured against the meeting's count (meetings.votes.vote_base)."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="vote_questions", verbose_name=_("Buổi sinh hoạt")
    )
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.PROTECT, related_name="vote_questions", verbose_name=_("Nội dung chương trình")
    )
    question = models.CharField(_("Nội dung biểu quyết"), max_length=255)
    kind = models.CharField(_("Loại biểu quyết"), max_length=16, choices=Vote.Kind.choices, default=Vote.Kind.OTHER)
    opened_at = models.DateTimeField(_("Mở biểu quyết lúc"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người mở biểu quyết"),
    )
    closed_at = models.DateTimeField(_("Kết thúc biểu quyết lúc"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người kết thúc biểu quyết"),
    )
    # Written at the close: those present for the item with a vote, and the ballots counted.
    voters_count = models.PositiveIntegerField(_("Số đảng viên có mặt ở nội dung có quyền biểu quyết"), default=0)
    ballots_count = models.PositiveIntegerField(_("Số đảng viên đã biểu quyết"), default=0)
    vote = models.OneToOneField(
        Vote,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="online_question",
        verbose_name=_("Kết quả biểu quyết"),
    )

    class Meta:
        verbose_name = _("Biểu quyết trực tuyến")
        verbose_name_plural = _("Biểu quyết trực tuyến")
        ordering = ["meeting", "opened_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="vote_question_closed_after_open",
            ),
        ]

    def __str__(self):
        return self.question

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Ballot(models.Model):
    """One member's ballot on a ``VoteQuestion``: one per member, changeable until the question closes, never
    shown to anyone but its member before the close (and afterwards only as the counts of the ``Vote``)."""

    class Choice(models.TextChoices):
        FOR = "for", _("Tán thành")
        AGAINST = "against", _("Không tán thành")
        ABSTAIN = "abstain", _("Không biểu quyết")

    question = models.ForeignKey(
        VoteQuestion, on_delete=models.CASCADE, related_name="ballots", verbose_name=_("Biểu quyết trực tuyến")
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("Đảng viên"))
    choice = models.CharField(_("Lựa chọn"), max_length=8, choices=Choice.choices)
    cast_at = models.DateTimeField(_("Biểu quyết lúc"))
    changed_at = models.DateTimeField(_("Sửa lần cuối lúc"))

    class Meta:
        verbose_name = _("Phiếu biểu quyết trực tuyến")
        verbose_name_plural = _("Phiếu biểu quyết trực tuyến")
        ordering = ["question", "pk"]
        constraints = [models.UniqueConstraint(fields=["question", "member"], name="ballot_one_per_member")]

    def __str__(self):
        return f"{self.member} — {self.question}"


class Resolution(ChoiceLabels, models.Model):
    class Kind(models.TextChoices):
        RESOLUTION = "nghi_quyet", _("Nghị quyết")
        CONCLUSION = "ket_luan", _("Kết luận")

    CODES = {Kind.RESOLUTION: "NQ", Kind.CONCLUSION: "KL"}

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="resolution")
    kind = models.CharField(_("Loại văn bản"), max_length=10, choices=Kind.choices, default=Kind.CONCLUSION)
    number = models.PositiveIntegerField(_("Số"), null=True, blank=True)
    term = models.ForeignKey(Term, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("Nội dung kết luận / nghị quyết"))
    adopted_at = models.DateTimeField(_("Thông qua lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("Nghị quyết / Kết luận")
        verbose_name_plural = _("Nghị quyết / Kết luận")

    def __str__(self):
        return self.reference or self.get_kind_display()

    @property
    def reference(self) -> str:
        if not self.number:
            return ""
        return f"{self.number:02d}-{self.CODES[self.kind]}/{self.meeting.organisation.short_code or 'CB'}"


class Task(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Đang thực hiện")
        DONE = "done", _("Đã hoàn thành")
        CANCELLED = "cancelled", _("Hủy")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="tasks")
    assignees = models.ManyToManyField(Member, related_name="meeting_tasks", verbose_name=_("Người thực hiện"))
    description = models.TextField(_("Nhiệm vụ"))
    due_date = models.DateField(_("Thời hạn"), null=True, blank=True)
    status = models.CharField(_("Tình trạng"), max_length=10, choices=Status.choices, default=Status.OPEN)
    result = models.TextField(_("Kết quả thực hiện"), blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Nhiệm vụ")
        verbose_name_plural = _("Nhiệm vụ")
        ordering = ["due_date", "pk"]
        indexes = [
            models.Index(fields=["status", "due_date"], name="task_status_due"),
            # The "overdue tasks" warning: the open tasks by due date with their meeting, read from the
            # index alone (the task rows, with their texts, are the widest of the meetings app).
            models.Index(fields=["due_date"], include=["meeting"], condition=Q(status="open"), name="task_open_due"),
        ]

    def __str__(self):
        return self.description[:60]


def meeting_document_path(instance, filename):
    import uuid
    from pathlib import PurePath

    # A random name on disk: the uploaded name may hold personal data and must not be guessable. The
    # name people see and download is the document's title (by default the uploaded name).
    return f"meetings/{instance.meeting_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


def download_name(title: str, stored: str) -> str:
    """The title as a file name, with the stored file's extension (the name on disk is random)."""
    import re
    from pathlib import PurePath

    suffix = PurePath(stored).suffix.lower()
    stem = re.sub(r"[\x00-\x1f\x7f/\\]+", " ", title).strip() or "tai-lieu"
    return stem if stem.lower().endswith(suffix) else f"{stem}{suffix}"


class MeetingDocument(models.Model):
    MAX_BYTES = 10 * 1024 * 1024
    # Extension as named -> extensions the content may be detected as.
    ALLOWED = {
        "pdf": {"pdf"},
        "docx": {"docx"},
        "xlsx": {"xlsx"},
        "jpg": {"jpg"},
        "jpeg": {"jpg"},
        "png": {"png"},
    }

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(_("Tệp"), upload_to=meeting_document_path, max_length=255)
    title = models.CharField(_("Tên tài liệu"), max_length=255)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # A confidential document (issue #17) is a PDF, shown only in the browser with the reader's name and
    # the time stamped on every page (meetings.documents.confidential_copy), never offered as a download;
    # every view of it is logged (services.document_read_record).
    confidential = models.BooleanField(
        _("Tài liệu mật"),
        default=False,
        help_text=_("Chỉ xem trên trình duyệt, không cho tải về; mỗi trang đóng dấu tên người xem và thời gian."),
    )
    # The upper level's material this document attaches (issue #17 item 5): the same stored file, never a
    # copy; opening it records the meeting's receipt and the publisher's (services.document_read_record).
    material = models.ForeignKey(
        "UpperMaterial",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("Tài liệu cấp trên"),
    )

    class Meta:
        verbose_name = _("Tài liệu sinh hoạt")
        verbose_name_plural = _("Tài liệu sinh hoạt")
        ordering = ["meeting", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "material"], condition=Q(material__isnull=False), name="document_material_once"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def download_name(self) -> str:
        return download_name(self.title, self.file.name)


class ReadReceipt(models.Model):
    """A member's openings of one document: when first and last, how often (counted by
    ``services._count_opening``, two first openings at once counting as two)."""

    first_read_at = models.DateTimeField(_("Mở lần đầu lúc"))
    last_read_at = models.DateTimeField(_("Mở lần cuối lúc"))
    count = models.PositiveIntegerField(_("Số lần mở"), default=1)

    class Meta:
        abstract = True


class DocumentRead(ReadReceipt):
    """A member's read receipt of a meeting document (issue #17): when first and last opened, how often.

    Written only by ``services.document_read_record``, from the member's one-click link or the meeting page.
    """

    document = models.ForeignKey(
        MeetingDocument, on_delete=models.CASCADE, related_name="reads", verbose_name=_("Tài liệu")
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="document_reads", verbose_name=_("Đảng viên")
    )

    class Meta:
        verbose_name = _("Lượt xem tài liệu")
        verbose_name_plural = _("Lượt xem tài liệu")
        ordering = ["document", "member"]
        constraints = [models.UniqueConstraint(fields=["document", "member"], name="document_read_once")]

    def __str__(self):
        return f"{self.member} — {self.document}"


class DocumentReminder(models.Model):
    """The secretary's "nhắc người chưa xem tài liệu" of one meeting on one local day: at most one a day
    (``services.documents_remind``; no Party document sets how often, the limit is the portal's)."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="document_reminders", verbose_name=_("Buổi sinh hoạt")
    )
    day = models.DateField(_("Ngày nhắc"))
    sent_at = models.DateTimeField(_("Nhắc lúc"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người nhắc"),
    )
    recipients = models.PositiveIntegerField(_("Số đảng viên được nhắc"))

    class Meta:
        verbose_name = _("Nhắc xem tài liệu")
        verbose_name_plural = _("Nhắc xem tài liệu")
        ordering = ["meeting", "-day"]
        constraints = [models.UniqueConstraint(fields=["meeting", "day"], name="document_reminder_once_a_day")]

    def __str__(self):
        return f"{self.meeting_id} {self.day:%d/%m/%Y}"


# --- the upper level's materials (issue #17 item 5) ----------------------------------------------


def upper_material_path(instance, filename):
    import uuid
    from pathlib import PurePath

    # A random name on disk, as for a meeting's documents; the title is what readers see.
    return f"tai-lieu-cap-tren/{instance.publisher_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class UpperMaterial(models.Model):
    """A material the Khối or a đảng ủy cơ sở publishes to the cells below it for a month: the monthly
    meeting material ("tài liệu sinh hoạt chi bộ hằng tháng"), a directive or guide, or a topic paper.

    Its audience is the publisher's whole subtree (every cell below it, as the month's cells) or the cells
    chosen in ``cells`` (each below the publisher). A cell attaches it to a meeting in one click
    (services.material_attach: a ``MeetingDocument`` pointing here, sharing the file); whoever of the
    audience opens it — from the meeting's page, the notice's link or the home page — is recorded once in
    ``MaterialRead``. A confidential one is a PDF shown only in the browser with the reader's watermark,
    as a confidential meeting document. No Party document sets how materials reach the cells: the
    publishing and the tracking are the Khối's own requirement (issue #17).
    """

    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("Tài liệu sinh hoạt chi bộ hằng tháng")
        DIRECTIVE = "directive", _("Chỉ thị, hướng dẫn")
        TOPIC = "topic", _("Tài liệu chuyên đề")

    MAX_BYTES = MeetingDocument.MAX_BYTES
    ALLOWED = MeetingDocument.ALLOWED

    publisher = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="materials_published", verbose_name=_("Đơn vị ban hành")
    )
    title = models.CharField(_("Tên tài liệu"), max_length=255)
    kind = models.CharField(_("Loại tài liệu"), max_length=10, choices=Kind.choices, default=Kind.MONTHLY)
    month = models.DateField(_("Dùng cho sinh hoạt tháng"), help_text=_("Ngày đầu tháng."))
    file = models.FileField(_("Tệp"), upload_to=upper_material_path, max_length=255)
    size = models.PositiveIntegerField(default=0)
    confidential = models.BooleanField(
        _("Tài liệu mật"),
        default=False,
        help_text=_("Chỉ xem trên trình duyệt, không cho tải về; mỗi trang đóng dấu tên người xem và thời gian."),
    )
    whole_subtree = models.BooleanField(
        _("Gửi mọi chi bộ trực thuộc"), default=True, help_text=_("Bỏ chọn để chỉ gửi các chi bộ được chọn.")
    )
    cells = models.ManyToManyField(
        Organisation, blank=True, related_name="materials_received", verbose_name=_("Các chi bộ nhận")
    )
    note = models.TextField(_("Ghi chú"), blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người ban hành"),
    )
    published_at = models.DateTimeField(_("Ban hành lúc"))

    class Meta:
        verbose_name = _("Tài liệu cấp trên")
        verbose_name_plural = _("Tài liệu cấp trên")
        ordering = ["-month", "-published_at", "-pk"]
        indexes = [models.Index(fields=["month", "publisher"], name="material_month_publisher")]
        constraints = [models.CheckConstraint(condition=Q(month__day=1), name="material_month_first_day")]

    def __str__(self):
        return self.title

    @property
    def download_name(self) -> str:
        return download_name(self.title, self.file.name)


class MaterialRead(ReadReceipt):
    """A member's reading of an upper-level material, for its publisher: first and last opening, how often.

    Written only by ``services.material_read_record`` (directly, or through ``document_read_record`` when
    the member opens the material attached to a meeting)."""

    material = models.ForeignKey(
        UpperMaterial, on_delete=models.CASCADE, related_name="reads", verbose_name=_("Tài liệu cấp trên")
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="material_reads", verbose_name=_("Đảng viên")
    )

    class Meta:
        verbose_name = _("Lượt đọc tài liệu cấp trên")
        verbose_name_plural = _("Lượt đọc tài liệu cấp trên")
        ordering = ["material", "member"]
        constraints = [models.UniqueConstraint(fields=["material", "member"], name="material_read_once")]

    def __str__(self):
        return f"{self.member} — {self.material}"


def _filed_path(instance, filename):
    # A random name on disk: the document's number and organisation are in the row, not the path.
    import uuid

    return f"filed/{instance.filed_at:%Y/%m}/{uuid.uuid4().hex}.pdf"


class FiledDocument(models.Model):
    """An adopted document as it was filed (issue #14): the PDF is stored once, at adoption, and served as
    filed; its SHA-256 and a short verification code let anyone check a copy on the public page."""

    class Kind(models.TextChoices):
        MINUTES = "minutes", _("Biên bản")
        RESOLUTION = "resolution", _("Nghị quyết / kết luận")

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="filed_documents")
    kind = models.CharField(_("Loại văn bản"), max_length=12, choices=Kind.choices)
    reference = models.CharField(_("Số, ký hiệu"), max_length=40)
    code = models.CharField(_("Mã xác minh"), max_length=12, unique=True)
    sha256 = models.CharField(_("Mã băm SHA-256"), max_length=64)
    file = models.FileField(_("Tệp PDF"), upload_to=_filed_path)
    filed_at = models.DateTimeField(_("Lưu lúc"))
    signed = models.BooleanField(_("Đã ký số"), default=False)
    signer_subject = models.CharField(_("Chứng thư ký số"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("Văn bản đã lưu")
        verbose_name_plural = _("Văn bản đã lưu")
        constraints = [models.UniqueConstraint(fields=["meeting", "kind"], name="filed_one_per_meeting_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference} ({self.code})"


class Amendment(models.Model):
    """A correction to adopted minutes: the minutes stay as adopted, the correction sits beside them."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="amendments")
    reason = models.CharField(_("Lý do đính chính"), max_length=255)
    text = models.TextField(_("Nội dung đính chính"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Đính chính biên bản")
        verbose_name_plural = _("Đính chính biên bản")
        ordering = ["meeting", "at", "pk"]

    def __str__(self):
        return self.reason


# --- the yearly plan of thematic meetings and forums (issue #18, items 1 and 2) -------------


class TopicKind(models.TextChoices):
    """What a topic is planned for: a thematic (or combined) meeting of a quarter, or a forum of the year."""

    THEMATIC = "thematic", _("Sinh hoạt chuyên đề")
    FORUM = "forum", _("Diễn đàn")


class SuggestedTopic(models.Model):
    """A topic the Khối or a đảng ủy cơ sở suggests to its cells for a year (the bank the cells pick from)."""

    publisher = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="suggested_topics", verbose_name=_("Đơn vị đề xuất")
    )
    year = models.PositiveSmallIntegerField(_("Năm"))
    title = models.CharField(_("Chuyên đề"), max_length=255)
    kind = models.CharField(_("Loại"), max_length=10, choices=TopicKind.choices, default=TopicKind.THEMATIC)
    note = models.TextField(_("Ghi chú"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Chuyên đề gợi ý")
        verbose_name_plural = _("Chuyên đề gợi ý")
        ordering = ["year", "kind", "title", "pk"]

    def __str__(self):
        return self.title


class PlannedTopic(models.Model):
    """One topic of a cell's yearly plan: a quarter's thematic meeting, or a forum (no quarter).

    HD 12-HD/BTCTW §II.1.1 (domain-research §3.1, H): "the cell makes a yearly plan of thematic meetings
    and reports it to the upper committee; it assigns a capable member to prepare a written draft; the
    chi ủy or bí thư approves the draft". At least one thematic meeting a quarter (§3.3) and one or two
    forums a year (seed §II, Kế hoạch 47-KH/TU, §3.4) are the indicators' (meetings/indicators.py). The
    source sets no date by which the draft is due: the cell writes its own ``draft_due``.

    Who drafts the topic paper and by when; the chi ủy's approval (``approved_at``/``approved_by``);
    the meeting that held it, once linked (services.planned_topic_link checks it is the cell's, of the
    same year, kind and quarter).
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="planned_topics", verbose_name=_("Chi bộ")
    )
    year = models.PositiveSmallIntegerField(_("Năm"))
    quarter = models.PositiveSmallIntegerField(_("Quý"), null=True, blank=True)
    kind = models.CharField(_("Loại"), max_length=10, choices=TopicKind.choices, default=TopicKind.THEMATIC)
    title = models.CharField(_("Chuyên đề"), max_length=255)
    suggested = models.ForeignKey(
        SuggestedTopic,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="planned_topics",
        verbose_name=_("Chọn từ chuyên đề gợi ý"),
    )
    drafter = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="topics_to_draft",
        verbose_name=_("Người chuẩn bị đề cương"),
    )
    draft_due = models.DateField(_("Hạn hoàn thành đề cương"), null=True, blank=True)
    approved_at = models.DateTimeField(_("Chi ủy duyệt lúc"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người ghi nhận chi ủy duyệt"),
    )
    meeting = models.OneToOneField(
        Meeting,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="planned_topic",
        verbose_name=_("Buổi sinh hoạt đã tổ chức"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Chuyên đề trong kế hoạch")
        verbose_name_plural = _("Chuyên đề trong kế hoạch")
        ordering = ["organisation", "year", "kind", "quarter", "pk"]
        indexes = [models.Index(fields=["year", "quarter", "organisation"], name="planned_topic_year_quarter")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="thematic") & Q(quarter__gte=1) & Q(quarter__lte=4))
                | (Q(kind="forum") & Q(quarter__isnull=True)),
                name="planned_topic_quarter_by_kind",
            ),
        ]

    def __str__(self):
        return self.title


# --- reminders (issue #6) ------------------------------------------------------------------


class ReminderRule(models.Model):
    """One reminder the portal sends on its own; the Khối admin edits its switches and numbers.

    The behaviour of each ``code`` lives in ``meetings/reminders.py``; ``params`` holds its numbers
    (e.g. ``{"days_before": [3, 1]}``) so the admin can change them without a code change.
    """

    code = models.SlugField(_("Mã"), max_length=40, unique=True)
    name = models.CharField(_("Tên"), max_length=255)
    description = models.TextField(_("Mô tả"), blank=True)
    enabled = models.BooleanField(_("Đang bật"), default=True)
    optional = models.BooleanField(
        _("Không bắt buộc"),
        default=True,
        help_text=_(
            "Đảng viên có thể tắt thư điện tử cho các nhắc việc không bắt buộc (vẫn nhận trong hộp thư trên cổng)."
        ),
    )
    params = models.JSONField(
        _("Tham số"),
        default=dict,
        blank=True,
        help_text=_('Số ngày, mốc thời gian của quy tắc, ví dụ {"days_before": [3, 1]}.'),
    )
    last_run_at = models.DateTimeField(_("Chạy lần cuối"), null=True, blank=True)

    class Meta:
        verbose_name = _("Quy tắc nhắc việc")
        verbose_name_plural = _("Quy tắc nhắc việc")
        ordering = ["pk"]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        from .reminders import validate_params

        errors = validate_params(self.code, self.params)
        if errors:
            raise ValidationError({"params": errors})


class ReminderDelivery(models.Model):
    """The claim on one reminder to one person: unique per (rule, object, recipient, occurrence).

    The row is inserted (``ON CONFLICT DO NOTHING``) in the same transaction as the inbox row, so a
    rule run twice, two beat processes or a retried task can never produce a second message.
    """

    rule = models.ForeignKey(
        ReminderRule, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("Quy tắc")
    )
    object_type = models.CharField(_("Loại đối tượng"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("Mã đối tượng"))
    occurrence = models.CharField(
        _("Lần nhắc"),
        max_length=20,
        blank=True,
        help_text=_("Ví dụ 3d (3 ngày trước), 2026-11 (tháng), 2026-Q4 (quý)."),
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="reminder_deliveries", verbose_name=_("Người nhận")
    )
    notification = models.OneToOneField(
        "cells.Notification",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reminder_delivery",
        verbose_name=_("Thông báo"),
    )
    claim = models.UUIDField(editable=False, db_index=True)
    created_at = models.DateTimeField(_("Tạo lúc"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("Nhắc việc đã gửi")
        verbose_name_plural = _("Nhắc việc đã gửi")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "object_type", "object_id", "member", "occurrence"], name="reminder_delivery_once"
            ),
        ]

    def __str__(self):
        return f"{self.rule.code} {self.object_type}#{self.object_id} → {self.member} ({self.occurrence})"


class EmailLog(Notification):
    """The admin's view of every message sent by the portal: to whom, when, and what failed."""

    class Meta:
        proxy = True
        verbose_name = _("Thư đã gửi")
        verbose_name_plural = _("Nhật ký gửi thư và thông báo")
        ordering = ["-created_at", "-pk"]


class CalendarFeed(models.Model):
    """A member's personal calendar address (``/sinh-hoat/lich/<token>.ics``), read without logging in.

    The token is the only secret: renewing it (``calendar_feed_renew``) revokes the old address at once.
    """

    member = models.OneToOneField(
        Member, on_delete=models.CASCADE, related_name="calendar_feed", verbose_name=_("Đảng viên")
    )
    token = models.CharField(_("Mã bí mật"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("Tạo lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("Đường dẫn lịch cá nhân")
        verbose_name_plural = _("Đường dẫn lịch cá nhân")

    def __str__(self):
        return str(self.member)


# --- the upper level's visit plan (issue #18, item 3) -------------------------------------------


class VisitAssignment(models.Model):
    """One committee member of an upper unit assigned to attend one cell's meeting in one quarter.

    "Đảng uỷ cơ sở phân công các đồng chí Đảng uỷ viên dự sinh hoạt tại các chi bộ ít nhất một quý một
    lần" (seed resolution §II.5, DR §1): the plan is these rows; whether the cell was visited is read from
    the meetings themselves (``meetings.indicators.visits_q``), never from this row. Confirming a meeting
    (``services.visit_confirm``) records the visitor as that meeting's upper-level guest.
    """

    upper = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="visits_planned", verbose_name=_("Cấp ủy phân công")
    )
    cell = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="visit_assignments", verbose_name=_("Chi bộ")
    )
    quarter = models.DateField(_("Quý"), help_text=_("Ngày đầu quý."))
    visitor = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="visit_assignments", verbose_name=_("Đồng chí dự")
    )
    meeting = models.ForeignKey(
        Meeting,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visit_assignments",
        verbose_name=_("Buổi sinh hoạt dự"),
    )
    confirmed_at = models.DateTimeField(_("Xác nhận dự lúc"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Phân công dự sinh hoạt chi bộ")
        verbose_name_plural = _("Phân công dự sinh hoạt chi bộ")
        ordering = ["-quarter", "cell__path", "visitor__full_name", "pk"]
        indexes = [models.Index(fields=["upper", "quarter"], name="visit_upper_quarter")]
        constraints = [
            models.UniqueConstraint(fields=["cell", "quarter", "visitor"], name="visit_one_per_cell_quarter_visitor"),
            models.CheckConstraint(
                condition=Q(quarter__day=1, quarter__month__in=[1, 4, 7, 10]), name="visit_quarter_first_day"
            ),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | Q(meeting__isnull=False), name="visit_confirmed_has_meeting"
            ),
        ]

    def __str__(self):
        return f"{self.visitor} — {self.cell} ({self.quarter:%m/%Y})"


class VisitObservation(models.Model):
    """The short observation card the visitor fills in after the meeting, for the cell's yearly inspection
    by the đảng ủy cơ sở (seed §II.5: "định kỳ hằng năm kiểm tra, giám sát … chất lượng sinh hoạt")."""

    class Rating(models.TextChoices):
        # The four levels of a meeting's quality (Tốt, Khá, Trung bình, Kém: DR §2). The card gives the
        # visitor's impression; the meeting's score is confirmed on the score sheet (scoring).
        GOOD = "tot", _("Tốt")
        FAIR = "kha", _("Khá")
        AVERAGE = "trung_binh", _("Trung bình")
        POOR = "kem", _("Kém")

    assignment = models.OneToOneField(
        VisitAssignment, on_delete=models.CASCADE, related_name="observation", verbose_name=_("Phân công")
    )
    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="visit_observations", verbose_name=_("Buổi sinh hoạt")
    )
    rating = models.CharField(_("Đánh giá chung"), max_length=10, choices=Rating.choices)
    strengths = models.TextField(_("Ưu điểm"), blank=True)
    weaknesses = models.TextField(_("Hạn chế"), blank=True)
    recommendations = models.TextField(_("Đề nghị, kiến nghị"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Phiếu nhận xét dự sinh hoạt")
        verbose_name_plural = _("Phiếu nhận xét dự sinh hoạt")
        ordering = ["meeting", "pk"]

    def __str__(self):
        return f"{self.assignment.visitor} — {self.meeting}"


# --- decisions asked between meetings (issue #17, item 4) --------------------------------------


class AsyncDecision(models.Model):
    """A question the bí thư puts to the cell between meetings, answered from each member's link until
    the deadline ("lấy ý kiến đảng viên ngoài cuộc họp").

    Who is asked and what the result is measured against are fixed when it opens
    (``meetings.votes.consultation_base``: the official members less the QĐ 294 §9.3.2 exclusions; the
    probationary members give an opinion without a vote). No Party text lets a cell decide outside a
    meeting (see ``meetings.votes``): the result is the cell's consultation, reported at the opening
    step and in the minutes of the cell's next meeting, which adopts it. Written only by
    ``meetings.async_decisions``; the counts are filled when it closes and never typed.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Đang lấy ý kiến")
        CLOSED = "closed", _("Đã kết thúc")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="async_decisions", verbose_name=_("Chi bộ")
    )
    question = models.CharField(_("Nội dung xin ý kiến"), max_length=255)
    details = models.TextField(_("Thuyết minh"), blank=True)
    kind = models.CharField(_("Loại biểu quyết"), max_length=16, choices=Vote.Kind.choices, default=Vote.Kind.OTHER)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người mở"),
    )
    opened_at = models.DateTimeField(_("Mở lúc"))
    deadline = models.DateTimeField(_("Hạn trả lời"))
    state = models.CharField(_("Trạng thái"), max_length=8, choices=State.choices, default=State.OPEN)
    eligible_count = models.PositiveIntegerField(_("Số đảng viên tính biểu quyết"))
    closed_at = models.DateTimeField(_("Kết thúc lúc"), null=True, blank=True)
    votes_for = models.PositiveIntegerField(_("Tán thành"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("Không tán thành"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(_("Không biểu quyết"), null=True, blank=True)
    not_answered = models.PositiveIntegerField(_("Không trả lời"), null=True, blank=True)
    passed = models.BooleanField(_("Đạt tỷ lệ"), null=True, blank=True)

    class Meta:
        verbose_name = _("Lấy ý kiến ngoài cuộc họp")
        verbose_name_plural = _("Lấy ý kiến ngoài cuộc họp")
        ordering = ["-deadline", "-pk"]
        indexes = [models.Index(fields=["state", "deadline"], name="async_decision_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="open")
                | (
                    Q(closed_at__isnull=False)
                    & Q(votes_for__isnull=False)
                    & Q(votes_against__isnull=False)
                    & Q(votes_abstain__isnull=False)
                    & Q(not_answered__isnull=False)
                    & Q(passed__isnull=False)
                ),
                name="async_decision_closed_has_result",
            ),
            models.CheckConstraint(condition=Q(deadline__gt=F("opened_at")), name="async_decision_deadline_after"),
        ]

    def __str__(self):
        return self.question

    @property
    def threshold(self):
        from .votes import threshold_for

        return threshold_for(self.kind)

    @property
    def threshold_label(self) -> str:
        from django.utils.translation import gettext

        return gettext(self.threshold.label)

    @property
    def needed(self) -> int | None:
        return self.threshold.minimum(self.eligible_count)

    @property
    def is_closed(self) -> bool:
        return self.state == self.State.CLOSED

    percent = staticmethod(share_percent)

    @property
    def percent_for(self) -> str:
        return self.percent(self.votes_for or 0, self.eligible_count)

    @property
    def result_text(self) -> str:
        from .async_decisions import result_text

        return result_text(self)


def async_document_path(instance, filename):
    import uuid
    from pathlib import PurePath

    # A random name on disk, as for a meeting's documents.
    return f"meetings/lay-y-kien/{instance.decision_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class AsyncDecisionDocument(models.Model):
    """A document sent with a question asked between meetings (the meeting documents' types and limits)."""

    MAX_BYTES = MeetingDocument.MAX_BYTES
    ALLOWED = MeetingDocument.ALLOWED

    decision = models.ForeignKey(
        AsyncDecision, on_delete=models.CASCADE, related_name="documents", verbose_name=_("Lấy ý kiến")
    )
    file = models.FileField(_("Tệp"), upload_to=async_document_path, max_length=255)
    title = models.CharField(_("Tên tài liệu"), max_length=255)
    size = models.PositiveIntegerField(_("Dung lượng (byte)"), default=0)
    uploaded_at = models.DateTimeField(_("Tải lên lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("Tài liệu lấy ý kiến")
        verbose_name_plural = _("Tài liệu lấy ý kiến")
        ordering = ["decision", "pk"]

    def __str__(self):
        return self.title

    download_name = MeetingDocument.download_name


class AsyncBallot(models.Model):
    """One member's answer to a question asked between meetings: one row per member asked, made when it
    opens; changeable until the deadline and shown to nobody before it (the counts are computed when it
    closes). A probationary member's row has no vote (``voter`` false), only an opinion."""

    class Choice(models.TextChoices):
        BLANK = "", _("Chưa trả lời")
        FOR = "for", _("Tán thành")
        AGAINST = "against", _("Không tán thành")
        ABSTAIN = "abstain", _("Không biểu quyết")

    decision = models.ForeignKey(
        AsyncDecision, on_delete=models.CASCADE, related_name="ballots", verbose_name=_("Lấy ý kiến")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="async_ballots", verbose_name=_("Đảng viên")
    )
    voter = models.BooleanField(_("Có quyền biểu quyết"))
    choice = models.CharField(_("Trả lời"), max_length=8, choices=Choice.choices, blank=True, default="")
    comment = models.TextField(_("Ý kiến"), blank=True)
    answered_at = models.DateTimeField(_("Trả lời lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("Phiếu lấy ý kiến")
        verbose_name_plural = _("Phiếu lấy ý kiến")
        ordering = ["decision", "member__full_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "member"], name="async_ballot_one_per_member"),
            models.CheckConstraint(condition=Q(voter=True) | Q(choice=""), name="async_ballot_voter_only_votes"),
        ]

    def __str__(self):
        return f"{self.member} — {self.decision_id}"
