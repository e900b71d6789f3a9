"""What the scoring app's change-log rows mean to a reader (registered in cells.audit)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cells.audit import ObjectKind, register

ACTIONS = {
    "scoring.scheme.import": _("Nhập bộ tiêu chí chấm điểm"),
    "scoring.scheme.edit": _("Sửa bộ tiêu chí chấm điểm"),
    "scoring.meetingscore.create": _("Lập phiếu chấm điểm buổi sinh hoạt"),
    "scoring.meetingscore.prefill": _("Đề xuất lại điểm từ hồ sơ"),
    "scoring.meetingscore.update": _("Sửa điểm tự chấm"),
    "scoring.meetingscore.self_adopt": _("Chi bộ thông qua điểm tự chấm"),
    "scoring.meetingscore.confirm": _("Xác nhận điểm cuộc họp"),
    "scoring.meetingscoreline.self": _("Tự chấm điểm tiêu chí"),
    "scoring.meetingscoreline.override": _("Cấp trên điều chỉnh điểm tiêu chí"),
    "scoring.annualrating.open": _("Mở đánh giá, xếp loại năm"),
    "scoring.annualrating.self_assess": _("Tự đánh giá, xếp loại"),
    "scoring.annualrating.propose": _("Chi bộ đề xuất mức xếp loại"),
    "scoring.annualrating.decide": _("Cấp trên quyết định mức xếp loại"),
    "scoring.annualrating.amend": _("Sửa đổi quyết định xếp loại"),
    "scoring.ratingregime.edit": _("Sửa quy định đánh giá, xếp loại"),
    "scoring.inspection.create": _("Ghi biên bản kiểm tra sổ sách"),
    "scoring.inspection.follow_up": _("Cập nhật việc khắc phục sau kiểm tra"),
}


def _meeting_name(meeting) -> str:
    return f"{meeting.get_kind_display()} {meeting.period_month:%m/%Y} — {meeting.organisation.name}"


def _level(code, score) -> str:
    """A meeting's level by the name its own scheme gives it ("kha" -> "Khá")."""
    from .selectors import level_name

    return level_name(score.scheme_snapshot or {}, code)


def register_scoring() -> None:
    register(
        app="scoring",
        actions=ACTIONS,
        objects=[
            ObjectKind("scoring.scoringscheme", name=lambda s: f"{s.name} (v{s.version})"),
            ObjectKind("scoring.ratingregime", name=lambda r: r.name),
            ObjectKind(
                "scoring.meetingscore",
                name=lambda s: _meeting_name(s.meeting),
                url=lambda s: reverse("scoring:meeting_score", args=[s.meeting_id]),
                organisation=lambda s: s.meeting.organisation,
                select_related=("meeting__organisation",),
                values={"self_level": _level, "official_level": _level},
            ),
            ObjectKind(
                "scoring.meetingscoreline",
                name=lambda line: f"{line.group_code}.{line.criterion_code} — {_meeting_name(line.score.meeting)}",
                url=lambda line: reverse("scoring:meeting_score", args=[line.score.meeting_id]),
                organisation=lambda line: line.score.meeting.organisation,
                select_related=("score__meeting__organisation",),
            ),
            ObjectKind(
                "scoring.annualrating",
                name=lambda r: f"{r.member.full_name if r.member_id else r.organisation.name} — {r.year}",
                url=lambda r: reverse("scoring:rating_detail", args=[r.pk]),
                organisation=lambda r: r.organisation,
                select_related=("member", "organisation"),
            ),
            ObjectKind(
                "scoring.inspection",
                name=lambda i: f"{i.organisation.name} — {i.inspected_on:%d/%m/%Y}",
                url=lambda i: reverse("scoring:inspections"),
                organisation=lambda i: i.organisation,
                select_related=("organisation",),
            ),
        ],
        extra_fields={
            "scheme": _("Bộ tiêu chí"),
            "version": _("Phiên bản"),
            "proposed": _("Điểm đề xuất theo tiêu chí"),
            "score": _("Phiếu chấm điểm"),
            "cell_points": _("Điểm chi bộ tự chấm"),
            "self_adopted_by": _("Người thông qua điểm tự chấm"),
            "confirmed_by": _("Người xác nhận"),
            "confirmed_at": _("Thời điểm xác nhận"),
            "self_adopted_at": _("Thời điểm thông qua điểm tự chấm"),
            "scheme_version": _("Phiên bản bộ tiêu chí"),
            "facts": _("Số liệu từ hồ sơ"),
            "order": _("Thứ tự"),
            "group_code": _("Mã nhóm tiêu chí"),
            "criterion_code": _("Mã tiêu chí"),
            "max_points": _("Điểm tối đa"),
            "applicable": _("Được chấm"),
            "evidence": _("Căn cứ"),
            "decided_at": _("Thời điểm quyết định"),
            "proposed_by": _("Người đề xuất"),
            "decided_by": _("Người quyết định"),
            "group": _("Nhóm tiêu chí"),
            "rating": _("Đánh giá, xếp loại"),
            "groups": _("Nhóm tiêu chí"),
            "code": _("Mã"),
            "name": _("Tên"),
        },
    )
