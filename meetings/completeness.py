"""What a meeting's minutes still lack before they can be adopted: a read, not a write.

``minutes_completeness`` is asked by the minutes page, by the adoption service (meetings.services) and by
the score's evidence (scoring.selectors), so it lives apart from the services that write.
"""

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lib.formatting import time_and_day

from .models import Attendance, Meeting, Resolution
from .votes import vote_base

# A meeting's actual end a few minutes ahead of the server's clock is a clock difference, not the future.
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)


class Problem:
    """One finding of the completeness check; ``blocking`` problems stop the adoption."""

    def __init__(self, message: str, *, blocking: bool = True, fix: str = ""):
        self.message = message
        self.blocking = blocking
        # The page that fixes it (a URL name taking the meeting's pk); ``url`` is set by minutes_completeness.
        self.fix = fix
        self.url = ""

    def __str__(self):
        return self.message

    def __repr__(self):
        return f"Problem({self.message!r}, blocking={self.blocking})"


def minutes_completeness(meeting: Meeting) -> list[Problem]:
    """What the minutes still lack; warnings (not blocking) for quality shortfalls such as length."""
    problems = []
    if meeting.state not in (Meeting.State.HELD, Meeting.State.NOTIFIED):
        problems.append(Problem(_("Buổi sinh hoạt chưa được ghi nhận là đã họp."), fix="meetings:held"))
    if meeting.state == Meeting.State.NOTIFIED:
        problems.append(
            Problem(_("Chưa ghi nhận buổi sinh hoạt đã diễn ra (giờ bắt đầu thực tế)."), fix="meetings:held")
        )
    if not meeting.chair_id:
        problems.append(Problem(_("Chưa có người chủ trì."), fix="meetings:update"))
    if not meeting.clerk_id:
        problems.append(Problem(_("Chưa có thư ký."), fix="meetings:update"))
    # The chair and the clerk sign the minutes: they must have been there (late counts as there).
    presence = dict(
        meeting.attendances.filter(member_id__in=[m for m in (meeting.chair_id, meeting.clerk_id) if m]).values_list(
            "member_id", "presence"
        )
    )
    for member_id, message in (
        (
            meeting.chair_id,
            _("Người chủ trì %(name)s được điểm danh là %(presence)s: hãy chọn lại người chủ trì hoặc sửa điểm danh."),
        ),
        (
            meeting.clerk_id,
            _("Thư ký %(name)s được điểm danh là %(presence)s: hãy chọn lại thư ký hoặc sửa điểm danh."),
        ),
    ):
        value = presence.get(member_id) if member_id else None
        if member_id and value and value not in Attendance.PRESENT_VALUES and value != Attendance.Presence.BLANK:
            member = meeting.chair if member_id == meeting.chair_id else meeting.clerk
            assert member is not None  # member_id is set
            problems.append(
                Problem(
                    message % {"name": member.full_name, "presence": Attendance.Presence(value).label.lower()},
                    fix="meetings:update",
                )
            )
    now = timezone.now()
    if meeting.actual_end and meeting.actual_end > now + FUTURE_TOLERANCE:
        problems.append(
            Problem(
                _("Giờ kết thúc thực tế (%(end)s) chưa đến: chỉ thông qua biên bản sau khi buổi sinh hoạt kết thúc.")
                % {"end": time_and_day(meeting.actual_end)},
                fix="meetings:held",
            )
        )
    if not meeting.actual_start:
        problems.append(Problem(_("Chưa ghi giờ bắt đầu thực tế."), fix="meetings:held"))
    if not meeting.actual_end:
        problems.append(Problem(_("Chưa ghi giờ kết thúc thực tế."), fix="meetings:held"))
    unrecorded = list(meeting.attendances.filter(presence=Attendance.Presence.BLANK).select_related("member"))
    if unrecorded:
        problems.append(
            Problem(
                _("Chưa điểm danh: %(names)s.") % {"names": ", ".join(a.member.full_name for a in unrecorded)},
                fix="meetings:attendance",
            )
        )
    if not meeting.attendances.exists():
        problems.append(Problem(_("Chưa có danh sách đảng viên dự họp."), fix="meetings:attendance"))
    resolution = Resolution.objects.filter(meeting=meeting).first()
    if resolution is None or not resolution.text.strip():
        problems.append(Problem(_("Chưa có nội dung kết luận hoặc nghị quyết."), fix="meetings:resolution"))
    # An online question still open has no result yet (issue #17 item 3): the chair closes it first.
    still_open = list(meeting.vote_questions.filter(closed_at__isnull=True).values_list("question", flat=True))
    if still_open:
        problems.append(
            Problem(
                _("Biểu quyết trực tuyến chưa kết thúc: %(questions)s.") % {"questions": "; ".join(still_open)},
                fix="meetings:online_votes",
            )
        )
    base = vote_base(meeting)
    for vote in meeting.votes.all():
        total = vote.votes_for + vote.votes_against + vote.votes_abstain
        if total > base.present:
            problems.append(
                Problem(
                    _(
                        'Biểu quyết "%(question)s" có %(total)s phiếu, nhiều hơn số đảng viên có mặt '
                        "có quyền biểu quyết (hiện là %(present)s); hãy kiểm tra lại điểm danh."
                    )
                    % {"question": vote.question, "total": total, "present": base.present},
                    fix="meetings:attendance",
                )
            )
        elif vote.eligible_count != base.denominator:
            problems.append(
                Problem(
                    _(
                        'Biểu quyết "%(question)s" được tính trên %(stored)s đảng viên; theo hồ sơ '
                        "hiện nay là %(base)s, sẽ được tính lại khi thông qua biên bản."
                    )
                    % {"question": vote.question, "stored": vote.eligible_count, "base": base.denominator},
                    blocking=False,
                )
            )
    minimum = Meeting.MIN_MINUTES.get(meeting.kind)
    duration = meeting.duration_minutes
    if minimum and duration is not None and duration < minimum:
        # HD 42-HD/BTCTW: at least 90 minutes (120 combined with a thematic part). Shorter is recorded with
        # its reason (entered with the actual times), or the minutes cannot be adopted.
        if meeting.short_reason.strip():
            problems.append(
                Problem(
                    _(
                        "Thời gian sinh hoạt %(duration)s phút, ít hơn %(minimum)s phút theo hướng "
                        "dẫn; lý do: %(reason)s."
                    )
                    % {"duration": duration, "minimum": minimum, "reason": meeting.short_reason},
                    blocking=False,
                )
            )
        else:
            problems.append(
                Problem(
                    _(
                        "Thời gian sinh hoạt %(duration)s phút, ít hơn %(minimum)s phút theo hướng "
                        "dẫn: hãy ghi lý do cùng giờ sinh hoạt thực tế."
                    )
                    % {"duration": duration, "minimum": minimum},
                    fix="meetings:held",
                )
            )
    if meeting.kind in Meeting.REGULAR_KINDS and not meeting.tasks.exists():
        problems.append(
            Problem(_("Chưa phân công nhiệm vụ nào cho tháng tới."), blocking=False, fix="meetings:task_add")
        )
    for problem in problems:
        problem.url = reverse(problem.fix, args=[meeting.pk]) if problem.fix else ""
    return problems
