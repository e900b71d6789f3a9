"""What the meetings app's change-log rows mean to a reader (registered in cells.audit)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cells.audit import ObjectKind, register
from lib.formatting import quarter_label

ACTIONS = {
    "meetings.meeting.create": _("Lập kế hoạch buổi sinh hoạt"),
    "meetings.meeting.update": _("Sửa kế hoạch buổi sinh hoạt"),
    "meetings.meeting.cancel": _("Hủy buổi sinh hoạt"),
    "meetings.meeting.publish": _("Gửi thông báo, tài liệu buổi sinh hoạt"),
    "meetings.meeting.held": _("Ghi nhận buổi sinh hoạt đã diễn ra"),
    "meetings.meeting.remind": _("Nhắc đảng viên chưa trả lời"),
    "meetings.meeting.report_upward": _("Báo cáo cấp trên"),
    "meetings.meeting.record_past": _("Nhập bổ sung buổi sinh hoạt đã họp"),
    "meetings.calendar_feed.create": _("Tạo đường dẫn lịch cá nhân"),
    "meetings.calendar_feed.renew": _("Tạo lại đường dẫn lịch cá nhân"),
    "meetings.calendar_feed.revoke": _("Tắt đường dẫn lịch cá nhân"),
    "meetings.meeting.adopt": _("Thông qua biên bản"),
    "meetings.attendance.rsvp": _("Đảng viên trả lời tham dự"),
    "meetings.attendance.withdraw": _("Rút tên khỏi danh sách dự họp"),
    "meetings.attendance.exemption": _("Ghi nhận miễn sinh hoạt khi điểm danh"),
    "meetings.attendance.record": _("Điểm danh"),
    "meetings.opinion.create": _("Ghi ý kiến phát biểu"),
    "meetings.vote.create": _("Ghi kết quả biểu quyết"),
    "meetings.vote.recount": _("Tính lại kết quả biểu quyết"),
    "meetings.resolution.set": _("Ghi nghị quyết, kết luận"),
    "meetings.resolution.adopt": _("Ban hành nghị quyết, kết luận"),
    "meetings.agenda.create": _("Thêm nội dung chương trình"),
    "meetings.agenda.update": _("Sửa nội dung chương trình"),
    "meetings.document.create": _("Tải lên tài liệu sinh hoạt"),
    "meetings.document.view": _("Xem tài liệu mật"),
    "meetings.document.remind": _("Nhắc đảng viên chưa xem tài liệu"),
    "meetings.task.create": _("Giao nhiệm vụ"),
    "meetings.task.update": _("Cập nhật nhiệm vụ"),
    "meetings.amendment.create": _("Đính chính biên bản"),
    "meetings.suggested_topic.create": _("Công bố chuyên đề gợi ý"),
    "meetings.planned_topic.create": _("Thêm chuyên đề vào kế hoạch năm"),
    "meetings.planned_topic.update": _("Sửa chuyên đề trong kế hoạch năm"),
    "meetings.planned_topic.approve": _("Ghi nhận chi ủy duyệt chuyên đề"),
    "meetings.visit.assign": _("Phân công cấp ủy viên dự sinh hoạt chi bộ"),
    "meetings.visit.unassign": _("Hủy phân công cấp ủy viên dự sinh hoạt chi bộ"),
    "meetings.visit.confirm": _("Cấp ủy viên xác nhận dự buổi sinh hoạt"),
    "meetings.visit.observe": _("Ghi phiếu nhận xét dự sinh hoạt"),
    "meetings.visit.observe_update": _("Sửa phiếu nhận xét dự sinh hoạt"),
    "meetings.absence_request.create": _("Đảng viên xin vắng sinh hoạt"),
    "meetings.absence_request.accept": _("Đồng ý cho đảng viên vắng có lý do"),
    "meetings.absence_request.refuse": _("Không đồng ý đơn xin vắng"),
    "meetings.speak_request.create": _("Đảng viên đăng ký phát biểu"),
    "meetings.speak_request.withdraw": _("Đảng viên rút đăng ký phát biểu"),
    "meetings.draft_comment.create": _("Đảng viên góp ý dự thảo kết luận"),
    "meetings.material.publish": _("Ban hành tài liệu cấp trên cho các chi bộ"),
    "meetings.material.attach": _("Chi bộ đính kèm tài liệu cấp trên vào buổi sinh hoạt"),
    "meetings.material.view": _("Xem tài liệu cấp trên mật"),
    "meetings.async_decision.open": _("Xin ý kiến đảng viên ngoài cuộc họp"),
    "meetings.async_decision.close": _("Kết thúc lấy ý kiến, tính kết quả"),
    "meetings.async_ballot.answer": _("Đảng viên trả lời lấy ý kiến"),
    "meetings.async_ballot.change": _("Đảng viên sửa trả lời lấy ý kiến"),
    "meetings.attendance.online_confirm": _("Đảng viên tự xác nhận có mặt trực tuyến"),
    "meetings.vote_question.open": _("Mở biểu quyết trực tuyến"),
    "meetings.vote_question.close": _("Kết thúc biểu quyết trực tuyến"),
    "meetings.ballot.cast": _("Đảng viên biểu quyết trực tuyến"),
    "meetings.ballot.change": _("Đảng viên thay đổi biểu quyết trực tuyến"),
}


def _meeting_name(meeting) -> str:
    return f"{meeting.get_kind_display()} {meeting.period_month:%m/%Y} — {meeting.organisation.name}"


def _part(describe):
    """An object that lives on a meeting's page: its own words, then the meeting it belongs to."""
    return lambda obj: f"{describe(obj)} ({_meeting_name(obj.meeting)})"


def _on_meeting(label, describe, *extra):
    return ObjectKind(
        label,
        name=_part(describe),
        url=lambda obj: reverse("meetings:detail", args=[obj.meeting_id]),
        organisation=lambda obj: obj.meeting.organisation,
        select_related=("meeting__organisation", *extra),
    )


def register_meetings() -> None:
    register(
        app="meetings",
        actions=ACTIONS,
        objects=[
            ObjectKind(
                "meetings.meeting",
                name=_meeting_name,
                url=lambda m: reverse("meetings:detail", args=[m.pk]),
                organisation=lambda m: m.organisation,
                select_related=("organisation",),
            ),
            _on_meeting("meetings.attendance", lambda a: a.member.full_name, "member"),
            _on_meeting("meetings.opinion", lambda o: o.speaker_name, "speaker"),
            _on_meeting("meetings.vote", lambda v: v.question),
            _on_meeting("meetings.votequestion", lambda q: q.question),
            _on_meeting("meetings.resolution", lambda r: r.reference or r.get_kind_display()),
            _on_meeting("meetings.agendaitem", lambda i: f"{i.order}. {i.title}"),
            _on_meeting("meetings.task", lambda t: t.description[:80]),
            _on_meeting("meetings.meetingdocument", lambda d: d.title),
            _on_meeting("meetings.amendment", lambda a: a.reason[:80]),
            ObjectKind(
                "meetings.suggestedtopic",
                name=lambda t: f"{t.title} ({t.year})",
                url=lambda t: reverse("meetings:plan_bank", args=[t.publisher_id, t.year]),
                organisation=lambda t: t.publisher,
                select_related=("publisher",),
            ),
            ObjectKind(
                "meetings.uppermaterial",
                name=lambda m: f"{m.title} ({m.month:%m/%Y}) — {m.publisher.name}",
                url=lambda m: reverse("meetings:material_detail", args=[m.pk]),
                organisation=lambda m: m.publisher,
                select_related=("publisher",),
            ),
            ObjectKind(
                "meetings.plannedtopic",
                name=lambda t: f"{t.title} ({t.year}) — {t.organisation.name}",
                url=lambda t: reverse("meetings:plan", args=[t.organisation_id, t.year]),
                organisation=lambda t: t.organisation,
                select_related=("organisation",),
            ),
            ObjectKind(
                "meetings.visitassignment",
                name=lambda a: f"{a.visitor.full_name} — {a.cell.name} ({quarter_label(a.quarter)})",
                url=lambda a: reverse("meetings:visit_plan", args=[a.upper_id]),
                organisation=lambda a: a.cell,
                select_related=("visitor", "cell"),
            ),
            ObjectKind(
                "meetings.visitobservation",
                name=lambda o: f"{o.assignment.visitor.full_name} ({_meeting_name(o.meeting)})",
                url=lambda o: reverse("meetings:detail", args=[o.meeting_id]),
                organisation=lambda o: o.meeting.organisation,
                select_related=("assignment__visitor", "meeting__organisation"),
            ),
            ObjectKind(
                "meetings.asyncdecision",
                name=lambda d: f"{d.question} — {d.organisation.name}",
                url=lambda d: reverse("meetings:async_detail", args=[d.pk]),
                organisation=lambda d: d.organisation,
                select_related=("organisation",),
            ),
            ObjectKind(
                "meetings.asyncballot",
                name=lambda b: f"{b.member.full_name} ({b.decision.question})",
                url=lambda b: reverse("meetings:async_detail", args=[b.decision_id]),
                organisation=lambda b: b.decision.organisation,
                select_related=("member", "decision__organisation"),
            ),
        ],
        extra_fields={
            "meeting": _("Buổi sinh hoạt"),
            "agenda_item": _("Nội dung chương trình"),
            "by": _("Người thực hiện"),
            "file": _("Tệp"),
            "size": _("Dung lượng (byte)"),
            "completed_at": _("Thời điểm hoàn thành"),
            "at": _("Thời điểm"),
            "passed": _("Được thông qua"),
            "present_with_vote": _("Số đảng viên có quyền biểu quyết có mặt"),
            "assignees": _("Người được giao"),
            "reminded": _("Số đảng viên được nhắc"),
            "reader": _("Người xem"),
            "via": _("Mở qua"),
            "confidential": _("Tài liệu mật"),
            "day": _("Ngày"),
            "documents": _("Tài liệu"),
            "asked": _("Số đảng viên được lấy ý kiến"),
            "member": _("Đảng viên"),
        },
    )
