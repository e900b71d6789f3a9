"""Forms of the meetings app: each receives the cell (or meeting) and narrows its choice lists to it."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Fieldset, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cells.models import Candidate, Member, Organisation, Position
from lib.forms import NOTE_MAX, MonthField, VNDateField, VNDateTimeField, limit_text, long_text_field
from lib.textsearch import MAX_QUERY_LENGTH, MIN_QUERY_LENGTH, fold

from . import kinds
from .models import (
    AbsenceRequest,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingDocument,
    Resolution,
    SuggestedTopic,
    Task,
    TopicKind,
    UpperMaterial,
    VisitAssignment,
    VisitObservation,
    Vote,
)
from .selectors import suggested_topics_for
from .services import EDITABLE_BY_STATE


def cell_members(cell):
    return Member.objects.filter(organisation=cell, state=Member.State.ACTIVE).order_by("full_name", "pk")


def upper_level_members(cell):
    """Members who can attend as upper-level guests: the cell's supervisors and office-holders above it,
    and the committee members assigned to visit it (the visit plan), so that editing the meeting keeps a
    guest who confirmed his visit."""
    today = timezone.localdate()
    current = Q(positions__start__lte=today) & (Q(positions__end__isnull=True) | Q(positions__end__gte=today))
    ancestors = [cell.path[:end] for end in range(4, len(cell.path), 4)]
    posted = Member.objects.filter(
        current
        & (
            Q(positions__organisation=cell, positions__kind=Position.Kind.SUPERVISOR)
            | Q(positions__organisation__path__in=ancestors)
        )
    ).values("pk")
    assigned = VisitAssignment.objects.filter(cell=cell).values("visitor_id")
    return Member.objects.filter(Q(pk__in=posted) | Q(pk__in=assigned)).order_by("full_name")


def _helper(*fields, submit=None):
    helper = FormHelper()
    helper.layout = Layout(*fields, Div(Submit("submit", submit or _("Lưu"), css_class="btn-lg"), css_class="mt-3"))
    return helper


class MeetingForm(forms.ModelForm):
    period_month = MonthField(
        accept_day=True, label=_("Sinh hoạt của tháng"), required=False, help_text=_("Để trống: tháng của ngày họp.")
    )
    planned_start = VNDateTimeField(label=_("Bắt đầu"))
    planned_end = VNDateTimeField(label=_("Kết thúc"))
    actual_start = VNDateTimeField(label=_("Thực tế bắt đầu"), required=False)
    actual_end = VNDateTimeField(label=_("Thực tế kết thúc"), required=False)
    online_link = forms.URLField(label=_("Đường dẫn họp trực tuyến"), required=False, assume_scheme="https")

    class Meta:
        model = Meeting
        fields = [
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
            "upper_guests",
            "preparatory_meeting",
            "actual_start",
            "actual_end",
            "short_reason",
        ]
        widgets = {"guests": forms.Textarea(attrs={"rows": 2}), "upper_guests": forms.CheckboxSelectMultiple}

    def __init__(self, *args, cell, **kwargs):
        super().__init__(*args, **kwargs)
        self.cell = cell
        if "kind" in self.fields:
            self.fields["kind"].choices = kinds.choices  # read when shown: a kind registered later is offered
        members = cell_members(cell)
        self.fields["chair"].queryset = members
        self.fields["clerk"].queryset = members
        self.fields["upper_guests"].queryset = upper_level_members(cell)
        if not self.fields["upper_guests"].queryset.exists():
            del self.fields["upper_guests"]
        if "guests" in self.fields:
            limit_text(self.fields["guests"], NOTE_MAX)
        self.fields["preparatory_meeting"].queryset = (
            Meeting.objects.filter(organisation=cell, kind=Meeting.Kind.COMMITTEE)
            .exclude(pk=self.instance.pk)
            .order_by("-planned_start")
        )
        state = self.instance.state if self.instance.pk else Meeting.State.DRAFT
        editable = (
            EDITABLE_BY_STATE.get(state, set())
            if self.instance.pk
            else set(self.Meta.fields) - {"actual_start", "actual_end", "short_reason"}
        )
        for name in list(self.fields):
            if name not in editable:
                del self.fields[name]
        rows = [
            self._row(("kind", "col-md-8"), ("period_month", "col-md-4")),
            self._row(("planned_start", "col-6"), ("planned_end", "col-6")),
            self._row(("actual_start", "col-6"), ("actual_end", "col-6")),
            self._row(("short_reason", "col-12")),
            self._row(("place", "col-12")),
            self._row(("mode", "col-md-4"), ("online_link", "col-md-8")),
            self._row(("topic", "col-12")),
            self._row(("chair", "col-md-6"), ("clerk", "col-md-6")),
            self._row(("upper_guests", "col-12")),
            self._row(("guests", "col-12")),
            self._row(("preparatory_meeting", "col-12")),
        ]
        self.helper = _helper(*[row for row in rows if row is not None])

    def _row(self, *specs):
        columns = [Column(name, css_class=css) for name, css in specs if name in self.fields]
        return Row(*columns) if columns else None

    def _post_clean(self):
        # Validation of the whole meeting is the service's job; it runs in the transaction.
        pass

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if "period_month" in data and data["period_month"] is None and data.get("planned_start"):
            data["period_month"] = timezone.localdate(data["planned_start"]).replace(day=1)
        if self.instance.pk:
            data = {k: v for k, v in data.items() if k == "upper_guests" or getattr(self.instance, k) != v}
        return data


class PastMeetingForm(forms.Form):
    """A meeting held and kept on paper, entered afterwards from its minutes ("nhập bổ sung"):
    when and where, who chaired and took the minutes, the notice date as on paper, who attended, and
    the conclusion. The opinions, votes and tasks follow on the meeting's page, as for any meeting."""

    kind = forms.ChoiceField(label=_("Loại buổi sinh hoạt"), choices=kinds.choices, initial=Meeting.Kind.REGULAR)
    period_month = MonthField(
        accept_day=True, label=_("Sinh hoạt của tháng"), required=False, help_text=_("Để trống: tháng của ngày họp.")
    )
    actual_start = VNDateTimeField(label=_("Bắt đầu (theo biên bản)"))
    actual_end = VNDateTimeField(label=_("Kết thúc (theo biên bản)"))
    short_reason = forms.CharField(
        label=_("Lý do sinh hoạt ngắn hơn quy định"),
        max_length=255,
        required=False,
        help_text=_("Chỉ ghi khi buổi sinh hoạt ngắn hơn 90 phút (120 phút khi kết hợp chuyên đề)."),
    )
    place = forms.CharField(label=_("Địa điểm"), max_length=255, required=False)
    mode = forms.ChoiceField(label=_("Hình thức"), choices=Meeting.Mode.choices, initial=Meeting.Mode.IN_PERSON)
    online_link = forms.URLField(label=_("Đường dẫn họp trực tuyến"), required=False, assume_scheme="https")
    topic = forms.CharField(label=_("Chủ đề"), max_length=255, required=False)
    chair = forms.ModelChoiceField(queryset=Member.objects.none(), label=_("Chủ trì"))
    clerk = forms.ModelChoiceField(queryset=Member.objects.none(), label=_("Thư ký"))
    guests = forms.CharField(
        label=_("Khách mời"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Khách mời khác, mỗi người một dòng."),
    )
    notice_date = VNDateField(label=_("Ngày thông báo (theo hồ sơ giấy)"), required=False)
    notice_not_recorded = forms.BooleanField(label=_("Hồ sơ giấy không ghi nhận ngày thông báo"), required=False)
    adopted_on = VNDateField(
        label=_("Ngày thông qua biên bản (theo hồ sơ giấy)"),
        required=False,
        help_text=_("Để trống: cùng ngày họp (biên bản được đọc và thông qua cuối buổi họp)."),
    )
    adoption_not_recorded = forms.BooleanField(
        label=_("Hồ sơ giấy không ghi nhận việc thông qua biên bản"), required=False
    )
    conclusion = long_text_field(label=_("Kết luận của chi bộ (theo biên bản)"), required=False)

    def __init__(self, *args, cell, **kwargs):
        super().__init__(*args, **kwargs)
        self.cell = cell
        members = cell_members(cell)
        self.fields["chair"].queryset = members
        self.fields["clerk"].queryset = members
        limit_text(self.fields["guests"], NOTE_MAX)
        from cells.selectors import exempt_member_ids

        exempt = set(exempt_member_ids(on=timezone.localdate()).values_list("member_id", flat=True))
        choices = [("", _("— Không có trong danh sách ngày họp —"))] + [
            c for c in Attendance.Presence.choices if c[0] != Attendance.Presence.BLANK
        ]
        self.attendance_rows = []
        for member in members:
            presence = f"p_{member.pk}"
            self.fields[presence] = forms.ChoiceField(
                label=member.full_name,
                choices=choices,
                required=False,
                initial=Attendance.Presence.EXEMPT if member.pk in exempt else Attendance.Presence.PRESENT,
            )
            self.fields[f"r_{member.pk}"] = forms.CharField(label=_("Lý do vắng"), max_length=255, required=False)
            self.attendance_rows.append(
                Row(Column(presence, css_class="col-md-6"), Column(f"r_{member.pk}", css_class="col-md-6"))
            )
        self.helper = _helper(
            Row(Column("kind", css_class="col-md-8"), Column("period_month", css_class="col-md-4")),
            Row(Column("actual_start", css_class="col-6"), Column("actual_end", css_class="col-6")),
            "short_reason",
            "place",
            Row(Column("mode", css_class="col-md-4"), Column("online_link", css_class="col-md-8")),
            "topic",
            Row(Column("chair", css_class="col-md-6"), Column("clerk", css_class="col-md-6")),
            "guests",
            Row(
                Column("notice_date", css_class="col-md-6"), Column("notice_not_recorded", css_class="col-md-6 pt-md-4")
            ),
            Row(
                Column("adopted_on", css_class="col-md-6"),
                Column("adoption_not_recorded", css_class="col-md-6 pt-md-4"),
            ),
            Fieldset(_("Điểm danh (theo biên bản)"), *self.attendance_rows),
            "conclusion",
            submit=_("Nhập buổi sinh hoạt"),
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("notice_not_recorded") and cleaned.get("notice_date"):
            self.add_error("notice_date", _("Đã chọn “không ghi nhận”: hãy xóa ngày thông báo, hoặc bỏ chọn."))
        elif (
            not cleaned.get("notice_not_recorded")
            and not cleaned.get("notice_date")
            and "notice_date" not in self.errors
        ):
            self.add_error("notice_date", _("Ghi ngày thông báo theo hồ sơ giấy, hoặc chọn “không ghi nhận”."))
        if cleaned.get("adoption_not_recorded") and cleaned.get("adopted_on"):
            self.add_error("adopted_on", _("Đã chọn “không ghi nhận”: hãy xóa ngày thông qua, hoặc bỏ chọn."))
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        adopted_on = data["adopted_on"]
        if adopted_on is None and not data["adoption_not_recorded"] and data.get("actual_start"):
            adopted_on = timezone.localdate(data["actual_start"])
        presence = {}
        for member in self.fields["chair"].queryset:
            chosen = data.get(f"p_{member.pk}")
            if chosen:
                presence[member.pk] = (chosen, data.get(f"r_{member.pk}", ""))
        return {
            "kind": data["kind"],
            "period_month": data["period_month"],
            "actual_start": data["actual_start"],
            "actual_end": data["actual_end"],
            "notice_date": None if data["notice_not_recorded"] else data["notice_date"],
            "adopted_on": adopted_on,
            "presence": presence,
            "conclusion": data["conclusion"] or "",
            **{
                name: data[name]
                for name in ("place", "mode", "online_link", "topic", "chair", "clerk", "guests", "short_reason")
            },
        }


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Lý do hủy"), max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("reason", submit=_("Hủy buổi sinh hoạt"))


class HeldForm(forms.Form):
    actual_start = VNDateTimeField(label=_("Thực tế bắt đầu"))
    actual_end = VNDateTimeField(label=_("Thực tế kết thúc"), required=False)
    short_reason = forms.CharField(
        label=_("Lý do sinh hoạt ngắn hơn quy định"),
        max_length=255,
        required=False,
        help_text=_("Chỉ ghi khi buổi sinh hoạt ngắn hơn 90 phút (120 phút khi kết hợp chuyên đề)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Row(Column("actual_start", css_class="col-6"), Column("actual_end", css_class="col-6")), "short_reason"
        )


class AttendanceForm(forms.Form):
    """One row per expected member: presence and, for an excused absence, the reason."""

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        from .services import absence_refused_members, attendance_initial

        self.rows = []
        self.items_rows = {}
        choices = [c for c in Attendance.Presence.choices if c[0] != Attendance.Presence.BLANK]
        refused = absence_refused_members(meeting)
        # Presence per agenda item (issue #17 item 3): "tham gia từ" / "rời sau" an item; empty: the whole meeting.
        agenda = [(str(item.pk), f"{item.order}. {item.title[:40]}") for item in meeting.agenda_items.order_by("order")]
        self.agenda = agenda
        for attendance in meeting.attendances.select_related("member").order_by("member__full_name", "pk"):
            presence, reason = attendance_initial(attendance, absence_refused=attendance.member_id in refused)
            key = f"p_{attendance.member_id}"
            self.fields[key] = forms.ChoiceField(
                label=attendance.member.full_name, choices=[("", "—")] + choices, initial=presence, required=False
            )
            self.fields[f"r_{attendance.member_id}"] = forms.CharField(
                label=_("Lý do vắng"), max_length=255, required=False, initial=reason
            )
            self.fields[f"j_{attendance.member_id}"] = forms.ChoiceField(
                label=_("Tham gia từ nội dung"),
                choices=[("", _("Từ đầu"))] + agenda,
                initial=str(attendance.joined_item_id or ""),
                required=False,
            )
            self.fields[f"l_{attendance.member_id}"] = forms.ChoiceField(
                label=_("Rời sau nội dung"),
                choices=[("", _("Đến hết"))] + agenda,
                initial=str(attendance.left_item_id or ""),
                required=False,
            )
            self.rows.append((attendance, self[key], self[f"r_{attendance.member_id}"]))
            self.items_rows[attendance.member_id] = (
                self[f"j_{attendance.member_id}"],
                self[f"l_{attendance.member_id}"],
            )

    def row_items(self):
        """(attendance, presence, reason, joined, left) for the template."""
        for attendance, presence, reason in self.rows:
            yield (attendance, presence, reason, *self.items_rows[attendance.member_id])

    def items(self) -> dict:
        """Member id -> (joined item id or None, left item id or None), for every row."""
        return {
            attendance.member_id: (
                int(self.cleaned_data[f"j_{attendance.member_id}"] or 0) or None,
                int(self.cleaned_data[f"l_{attendance.member_id}"] or 0) or None,
            )
            for attendance, _field, _reason in self.rows
        }

    def presence(self, *, all_present: bool = False) -> dict:
        """The rows as chosen; with ``all_present`` ("tất cả có mặt"), a row left empty is present, so the
        secretary only marks the exceptions."""
        values = {}
        for attendance, _field, _reason in self.rows:
            chosen = self.cleaned_data[f"p_{attendance.member_id}"]
            if not chosen and all_present and attendance.presence != Attendance.Presence.EXEMPT:
                chosen = Attendance.Presence.PRESENT
            if chosen:
                values[attendance.member_id] = (chosen, self.cleaned_data[f"r_{attendance.member_id}"])
        return values


class OpinionForm(forms.Form):
    agenda_item = forms.ModelChoiceField(queryset=AgendaItem.objects.none(), label=_("Nội dung"), required=False)
    speaker = forms.ModelChoiceField(queryset=Member.objects.none(), label=_("Đảng viên phát biểu"), required=False)
    guest_name = forms.CharField(label=_("Hoặc khách mời phát biểu"), max_length=120, required=False)
    text = long_text_field(label=_("Ý kiến"))

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agenda_item"].queryset = meeting.agenda_items.order_by("order")
        # Speakers are chosen among those present (late counts as present) once attendance is recorded;
        # before that, among those expected who are not exempt (issue #15).
        rows = Attendance.objects.filter(meeting=meeting)
        present = rows.filter(presence__in=Attendance.PRESENT_VALUES)
        pool = (
            present
            if present.exists()
            else rows.exclude(
                presence__in=[
                    Attendance.Presence.EXEMPT,
                    Attendance.Presence.ATTACHED_ELSEWHERE,
                    Attendance.Presence.ABSENT_EXCUSED,
                    Attendance.Presence.ABSENT_UNEXCUSED,
                ]
            )
        )
        self.fields["speaker"].queryset = Member.objects.filter(pk__in=pool.values("member_id")).order_by("full_name")
        self.helper = _helper(
            "agenda_item",
            Row(Column("speaker", css_class="col-md-6"), Column("guest_name", css_class="col-md-6")),
            "text",
            submit=_("Ghi ý kiến"),
        )


VOTE_MESSAGES = {
    "invalid": _("Nhập số phiếu bằng chữ số."),
    "min_value": _("Số phiếu không được âm."),
    "required": _("Nhập số phiếu."),
}


class VoteForm(forms.Form):
    question = forms.CharField(label=_("Nội dung biểu quyết"), max_length=255)
    kind = forms.ChoiceField(label=_("Loại biểu quyết"), choices=Vote.Kind.choices, initial=Vote.Kind.OTHER)
    method = forms.ChoiceField(label=_("Hình thức"), choices=Vote.Method.choices, initial=Vote.Method.SHOW_OF_HANDS)
    subject = forms.ModelChoiceField(
        label=_("Đảng viên được xét công nhận chính thức"), queryset=Member.objects.none(), required=False
    )
    candidate = forms.ModelChoiceField(
        label=_("Quần chúng được xét kết nạp"), queryset=Candidate.objects.none(), required=False
    )
    votes_for = forms.IntegerField(label=_("Tán thành"), min_value=0, error_messages=VOTE_MESSAGES)
    votes_against = forms.IntegerField(label=_("Không tán thành"), min_value=0, initial=0, error_messages=VOTE_MESSAGES)
    votes_abstain = forms.IntegerField(
        label=_("Không biểu quyết"), min_value=0, initial=0, error_messages=VOTE_MESSAGES
    )

    def __init__(self, *args, meeting, base, **kwargs):
        """``base`` is the meeting's ``meetings.votes.VoteBase``: the ballots cannot exceed its voters present."""
        super().__init__(*args, **kwargs)
        self.base = base
        self.fields["subject"].queryset = Member.objects.filter(
            pk__in=[a.member_id for a in meeting.attendances.all()],
            status=Member.Status.PROBATIONARY,
        ).order_by("full_name")
        self.fields["subject"].help_text = _("Chỉ khi biểu quyết công nhận đảng viên chính thức.")
        # The cell's candidates not yet admitted (cells.admission: the "cell's vote" step).
        self.fields["candidate"].queryset = Candidate.objects.filter(
            organisation_id=meeting.organisation_id, member__isnull=True
        ).order_by("full_name")
        self.fields["candidate"].help_text = _("Chỉ khi biểu quyết kết nạp đảng viên.")
        self.fields["votes_for"].help_text = base.summary
        self.helper = _helper(
            "question",
            Row(Column("kind", css_class="col-md-6"), Column("method", css_class="col-md-6")),
            "subject",
            "candidate",
            Row(
                Column("votes_for", css_class="col-4"),
                Column("votes_against", css_class="col-4"),
                Column("votes_abstain", css_class="col-4"),
            ),
            submit=_("Ghi kết quả biểu quyết"),
        )

    def clean(self):
        data = super().clean()
        counts = [data.get(name) for name in ("votes_for", "votes_against", "votes_abstain")]
        if all(value is not None for value in counts) and sum(counts) > self.base.present:
            self.add_error(
                "votes_for",
                _("Tổng số phiếu (%(total)s) vượt quá số đảng viên có mặt có quyền biểu quyết (%(present)s).")
                % {"total": sum(counts), "present": self.base.present},
            )
        if data.get("subject") is not None and data.get("kind") != Vote.Kind.FULL_MEMBERSHIP:
            self.add_error("subject", _("Chỉ ghi đảng viên được xét khi biểu quyết công nhận đảng viên chính thức."))
        if (
            data.get("kind") == Vote.Kind.FULL_MEMBERSHIP
            and data.get("subject") is None
            and self.fields["subject"].queryset.exists()
        ):
            self.add_error("subject", _("Chọn đảng viên dự bị được xét công nhận chính thức."))
        if data.get("candidate") is not None and data.get("kind") != Vote.Kind.ADMISSION:
            self.add_error("candidate", _("Chỉ ghi quần chúng được xét khi biểu quyết kết nạp đảng viên."))
        if (
            data.get("kind") == Vote.Kind.ADMISSION
            and data.get("candidate") is None
            and self.fields["candidate"].queryset.exists()
        ):
            self.add_error("candidate", _("Chọn quần chúng được xét kết nạp."))
        return data


class ResolutionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Loại văn bản"), choices=Resolution.Kind.choices, initial=Resolution.Kind.CONCLUSION
    )
    text = long_text_field(label=_("Nội dung kết luận / nghị quyết"), rows=10)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("kind", "text")


class TaskForm(forms.Form):
    description = long_text_field(label=_("Nhiệm vụ"), max_length=NOTE_MAX, rows=3)
    assignees = forms.ModelMultipleChoiceField(
        queryset=Member.objects.none(), label=_("Người thực hiện"), widget=forms.CheckboxSelectMultiple
    )
    due_date = VNDateField(label=_("Thời hạn"), required=False)

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignees"].queryset = cell_members(meeting.organisation)
        self.helper = _helper("description", "assignees", "due_date", submit=_("Giao nhiệm vụ"))


class TaskStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Tình trạng"), choices=Task.Status.choices)
    result = long_text_field(label=_("Kết quả thực hiện"), rows=3, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("status", "result", submit=_("Cập nhật"))


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Tên tài liệu"), max_length=255, required=False)
    file = forms.FileField(label=_("Tệp (PDF, DOCX, XLSX, JPG, PNG; tối đa 10 MB)"))
    confidential = forms.BooleanField(
        label=_("Tài liệu mật"),
        required=False,
        help_text=_(
            "Chỉ nhận PDF. Đảng viên chỉ xem trên trình duyệt, không tải về được; "
            "mỗi trang đóng dấu tên người xem và thời gian; mọi lượt xem được ghi nhật ký."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ",".join(f".{ext}" for ext in MeetingDocument.ALLOWED)
        self.helper = _helper("title", "file", "confidential", submit=_("Tải lên"))


class AmendmentForm(forms.Form):
    reason = forms.CharField(label=_("Lý do đính chính"), max_length=255)
    text = long_text_field(label=_("Nội dung đính chính"), rows=5)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("reason", "text", submit=_("Ghi đính chính"))


class AgendaItemForm(forms.Form):
    title = forms.CharField(label=_("Nội dung"), max_length=255)
    notes = long_text_field(label=_("Ghi chú"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("title", "notes")


class RsvpForm(forms.Form):
    reason = forms.CharField(label=_("Lý do không tham dự"), max_length=255, required=False)


class OnlineVoteOpenForm(forms.Form):
    """The chair opens a question on an agenda item of an online or hybrid meeting (issue #17 item 3)."""

    agenda_item = forms.ModelChoiceField(queryset=AgendaItem.objects.none(), label=_("Nội dung chương trình"))
    question = forms.CharField(label=_("Nội dung biểu quyết"), max_length=255)
    kind = forms.ChoiceField(
        label=_("Loại biểu quyết"),
        choices=[(k, label) for k, label in Vote.Kind.choices if k in ("other", "admission")],
        initial=Vote.Kind.OTHER,
    )

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agenda_item"].queryset = meeting.agenda_items.order_by("order", "pk")
        self.fields["agenda_item"].label_from_instance = lambda item: f"{item.order}. {item.title}"
        self.helper = _helper("agenda_item", "question", "kind", submit=_("Mở biểu quyết"))


class OnlineOpinionForm(forms.Form):
    """A written opinion on an agenda item from the member's link."""

    agenda_item = forms.CharField(max_length=12)
    text = long_text_field(label=_("Ý kiến bằng văn bản"))


class SearchForm(forms.Form):
    """The search box (meetings/views_search.py): the words, and optionally one kind of result to page through."""

    KINDS = [
        ("", _("Tất cả")),
        ("to-chuc", _("Tổ chức đảng")),
        ("dang-vien", _("Đảng viên")),
        ("sinh-hoat", _("Buổi sinh hoạt")),
    ]

    q = forms.CharField(
        label=_("Tìm kiếm"),
        min_length=MIN_QUERY_LENGTH,
        max_length=MAX_QUERY_LENGTH,
        strip=True,
        error_messages={
            "required": _("Nhập tên chi bộ, tên đảng viên hoặc chủ đề, tháng của buổi sinh hoạt."),
            "min_length": _("Nhập ít nhất %(limit_value)d ký tự để tìm."),
            "max_length": _("Nhập tối đa %(limit_value)d ký tự."),
        },
    )
    loai = forms.ChoiceField(label=_("Loại kết quả"), choices=KINDS, required=False)

    def clean_q(self):
        query = self.cleaned_data["q"]
        if not any(ch.isalnum() for ch in fold(query)):
            raise ValidationError(_("Nhập chữ hoặc số để tìm."), code="empty")
        return query


# --- the yearly plan of thematic meetings and forums (issue #18, items 1 and 2) -------------------


QUARTERS = [(1, _("Quý I")), (2, _("Quý II")), (3, _("Quý III")), (4, _("Quý IV"))]


class _MeetingChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_kind_display()} {obj.period_month:%m/%Y} — {obj.get_state_display()}"


class PlannedTopicForm(forms.Form):
    """A row of a cell's plan: picked from the bank or written; its drafter, due date, and the meeting
    that held it (checked by services.planned_topic_create/update)."""

    quarter = forms.TypedChoiceField(label=_("Quý"), coerce=int, choices=QUARTERS)
    suggested = forms.ModelChoiceField(
        queryset=SuggestedTopic.objects.none(), label=_("Chọn từ chuyên đề gợi ý"), required=False
    )
    title = forms.CharField(
        label=_("Tên chuyên đề"), max_length=255, required=False, help_text=_("Để trống: lấy tên chuyên đề gợi ý.")
    )
    drafter = forms.ModelChoiceField(queryset=Member.objects.none(), label=_("Người chuẩn bị đề cương"), required=False)
    draft_due = VNDateField(label=_("Hạn hoàn thành đề cương"), required=False)
    meeting = _MeetingChoice(queryset=Meeting.objects.none(), label=_("Buổi sinh hoạt đã tổ chức"), required=False)

    def __init__(self, *args, cell, year, kind, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suggested"].queryset = suggested_topics_for(cell=cell, year=year).filter(kind=kind)
        self.fields["drafter"].queryset = cell_members(cell)
        wanted = Q(kind__in=kinds.codes("thematic")) if kind == TopicKind.THEMATIC else Q(kind=Meeting.Kind.FORUM)
        self.fields["meeting"].queryset = (
            Meeting.objects.filter(wanted, organisation=cell, period_month__year=year)
            .exclude(state=Meeting.State.CANCELLED)
            .order_by("period_month", "planned_start")
        )
        names = ["quarter", "suggested", "title", "drafter", "draft_due", "meeting"]
        if kind == TopicKind.FORUM:
            del self.fields["quarter"]
            names.remove("quarter")
        self.helper = _helper(*names)


class SuggestedTopicForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại"), choices=TopicKind.choices)
    title = forms.CharField(label=_("Tên chuyên đề"), max_length=255)
    note = long_text_field(label=_("Ghi chú"), max_length=NOTE_MAX, rows=3, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("kind", "title", "note", submit=_("Công bố chuyên đề"))


class AbsenceRequestForm(forms.Form):
    """A member's request to be excused (meetings.models.AbsenceRequest holds the rule)."""

    reason_type = forms.ChoiceField(
        label=_("Loại lý do"), choices=AbsenceRequest.ReasonType.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Lý do cụ thể"), max_length=200)
    evidence = forms.FileField(label=_("Minh chứng nếu có (PDF, JPG, PNG; tối đa 5 MB)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].widget.attrs["accept"] = ",".join(f".{ext}" for ext in AbsenceRequest.ALLOWED)
        self.helper = _helper("reason_type", "reason", "evidence", submit=_("Gửi đơn xin vắng"))


class AbsenceDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Quyết định"), choices=[("accept", _("Đồng ý cho vắng")), ("refuse", _("Không đồng ý"))]
    )
    note = forms.CharField(label=_("Ý kiến trả lời"), max_length=255, required=False)


class DraftCommentForm(forms.Form):
    text = long_text_field(label=_("Góp ý dự thảo kết luận"), max_length=NOTE_MAX)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("text", submit=_("Gửi góp ý"))


# --- the upper level's visit plan (issue #18, item 3) ---------------------------------------------


class VisitAssignForm(forms.Form):
    """Assign a committee member of the upper unit to a cell for the quarter the page shows."""

    cell = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Chi bộ"))
    visitor = forms.ModelChoiceField(queryset=Member.objects.none(), label=_("Đồng chí cấp ủy viên dự"))

    def __init__(self, *args, cells, committee, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cell"].queryset = cells
        self.fields["visitor"].queryset = committee
        self.fields["visitor"].help_text = _(
            "Cấp ủy viên: người giữ chức vụ tại đơn vị, hoặc đảng ủy viên phụ trách một chi bộ trực thuộc."
        )
        self.helper = _helper("cell", "visitor", submit=_("Phân công"))


class VisitConfirmForm(forms.Form):
    """The one tap on "Lịch dự sinh hoạt của tôi": the meeting the visitor attends (any of the cell's)."""

    meeting = forms.ModelChoiceField(
        queryset=Meeting.objects.all(),
        label=_("Buổi sinh hoạt"),
        error_messages={"required": _("Chọn buổi sinh hoạt dự."), "invalid_choice": _("Không có buổi sinh hoạt này.")},
    )


class VisitObservationForm(forms.ModelForm):
    """The observation card, on a phone: a rating and three short texts."""

    class Meta:
        model = VisitObservation
        fields = ["rating", "strengths", "weaknesses", "recommendations"]
        widgets = {"rating": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("strengths", "weaknesses", "recommendations"):
            self.fields[name].widget.attrs["rows"] = 3
            limit_text(self.fields[name], NOTE_MAX)
        self.helper = _helper("rating", "strengths", "weaknesses", "recommendations", submit=_("Lưu phiếu nhận xét"))

    def _post_clean(self):
        # The card is validated and saved by services.visit_observe, in its transaction.
        pass


class MaterialForm(forms.Form):
    """An upper-level material for the cells' meetings of a month (meetings.models.UpperMaterial)."""

    title = forms.CharField(label=_("Tên tài liệu"), max_length=255)
    kind = forms.ChoiceField(label=_("Loại tài liệu"), choices=UpperMaterial.Kind.choices)
    month = MonthField(label=_("Dùng cho sinh hoạt tháng"), help_text=_("Tháng/năm, ví dụ 12/2026."))
    file = forms.FileField(label=_("Tệp (PDF, DOCX, XLSX, JPG, PNG; tối đa 10 MB)"))
    confidential = forms.BooleanField(
        label=_("Tài liệu mật"),
        required=False,
        help_text=_(
            "Chỉ nhận PDF. Đảng viên chỉ xem trên trình duyệt, không tải về được; "
            "mỗi trang đóng dấu tên người xem và thời gian; mọi lượt xem được ghi nhật ký."
        ),
    )
    whole_subtree = forms.BooleanField(
        label=_("Gửi mọi chi bộ trực thuộc"),
        required=False,
        initial=True,
        help_text=_("Bỏ chọn để chỉ gửi các chi bộ chọn dưới đây."),
    )
    cells = forms.ModelMultipleChoiceField(
        queryset=Organisation.objects.none(),
        label=_("Các chi bộ nhận"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = long_text_field(label=_("Ghi chú"), max_length=NOTE_MAX, rows=3, required=False)

    def __init__(self, *args, cells, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cells"].queryset = cells
        self.fields["file"].widget.attrs["accept"] = ",".join(f".{ext}" for ext in UpperMaterial.ALLOWED)
        self.helper = _helper(
            "title", "kind", "month", "file", "confidential", "whole_subtree", "cells", "note", submit=_("Ban hành")
        )
