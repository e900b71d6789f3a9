"""The shipped measures: what the records say about a meeting, one function per measure (scoring/measures.py).

Each measure names the rule it comes from (the criteria of HD 42-HD/BTCTW and of the placeholder
QĐ 31-QĐ/TU that read it, scoring/data/) and the loaders it needs; a loader is one read of the records,
shared by the measures that need it and run at most once per meeting. ``scoring.selectors.meeting_facts``
computes them all; scoring/apps.py imports this module so that they are registered once the apps are ready.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cells.models import Organisation, Position
from cells.selectors import cell_summary
from meetings import indicators
from meetings.completeness import minutes_completeness
from meetings.models import Attendance, Meeting, Resolution, Task
from meetings.votes import meeting_day, vote_base

from .engine import _fmt_percent, _percent
from .measures import loader, measure

HELD_STATES = indicators.HELD_STATES
THEMATIC_KINDS = indicators.THEMATIC_KINDS

Data = Mapping[str, Any]


def _start(meeting: Meeting) -> datetime.datetime:
    return meeting.actual_start or meeting.planned_start


def _fmt_moment(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M %d/%m/%Y") if moment else "—"


# --- loaders: one read of the records each -------------------------------------------------------


@loader("attendance")
def _attendance(meeting: Meeting) -> dict[str, int]:
    """The meeting's attendance counted by presence, in one query."""
    return meeting.attendances.aggregate(
        total=Count("pk"),
        base=Count("pk", filter=~Q(presence__in=Attendance.OUTSIDE_BASE_VALUES)),
        present=Count("pk", filter=Q(presence__in=Attendance.PRESENT_VALUES)),
        excused=Count("pk", filter=Q(presence=Attendance.Presence.ABSENT_EXCUSED)),
        unexcused=Count("pk", filter=Q(presence=Attendance.Presence.ABSENT_UNEXCUSED)),
        exempt=Count("pk", filter=Q(presence=Attendance.Presence.EXEMPT)),
        elsewhere=Count("pk", filter=Q(presence=Attendance.Presence.ATTACHED_ELSEWHERE)),
        blank=Count("pk", filter=Q(presence=Attendance.Presence.BLANK)),
    )


@loader("year_attendance")
def _year_attendance(meeting: Meeting) -> list[tuple[int, str, str]]:
    """(member, name, presence) over the cell's regular meetings of the year up to this one, by member and date."""
    start = _start(meeting)
    return list(
        Attendance.objects.filter(
            meeting__organisation=meeting.organisation,
            meeting__kind__in=Meeting.REGULAR_KINDS,
            meeting__state__in=HELD_STATES,
            meeting__actual_start__year=timezone.localtime(start).year,
            meeting__actual_start__lte=start,
        )
        .order_by("member_id", "meeting__actual_start", "meeting_id")
        .values_list("member_id", "member__full_name", "presence")
    )


@loader("documents")
def _documents(meeting: Meeting) -> list[datetime.datetime]:
    """When each of the meeting's documents was uploaded, first first."""
    return list(meeting.documents.order_by("uploaded_at").values_list("uploaded_at", flat=True))


@loader("preparatory_meeting")
def _preparatory_meeting(meeting: Meeting) -> Meeting | None:
    return meeting.preparatory_meeting


@loader("has_committee")
def _has_committee(meeting: Meeting) -> bool:
    """Whether the cell has a chi ủy (cells.selectors.cell_summary: Điều lệ Art. 24.4)."""
    return cell_summary(cell=meeting.organisation)["has_committee"]


@loader("has_deputy")
def _has_deputy_loader(meeting: Meeting) -> bool:
    return _has_deputy(meeting.organisation, meeting_day(meeting))


def _has_deputy(cell: Organisation, day: datetime.date) -> bool:
    return (
        Position.objects.filter(organisation=cell, kind=Position.Kind.DEPUTY_SECRETARY, start__lte=day)
        .filter(Q(end__isnull=True) | Q(end__gte=day))
        .exists()
    )


@loader("speakers")
def _speakers(meeting: Meeting) -> int:
    """How many members present spoke."""
    present_ids = meeting.attendances.filter(presence__in=Attendance.PRESENT_VALUES).values("member_id")
    return meeting.opinions.filter(speaker__in=present_ids).values("speaker").distinct().count()


@loader("resolution")
def _resolution(meeting: Meeting) -> Resolution | None:
    return Resolution.objects.filter(meeting=meeting).first()


@loader("votes")
def _votes(meeting: Meeting) -> tuple[Any, list]:
    """The one count of the meeting's decisions (meetings.votes, QĐ 294 §9.3.2) and the votes it passes."""
    base = vote_base(meeting)
    return base, [vote for vote in meeting.votes.all() if base.passes(vote.kind, vote.votes_for)]


@loader("tasks")
def _tasks(meeting: Meeting) -> int:
    """The tasks the meeting assigned, not cancelled."""
    return meeting.tasks.exclude(status=Task.Status.CANCELLED).count()


@loader("minutes_problems")
def _minutes_problems(meeting: Meeting) -> list[str]:
    """What blocks the minutes from being adopted (meetings/completeness.py)."""
    return [problem.message for problem in minutes_completeness(meeting) if problem.blocking]


@loader("previous_regular")
def _previous_regular_tasks(meeting: Meeting) -> tuple[Meeting | None, dict[str, int] | None]:
    """The cell's previous regular meeting held, and its tasks: all, and done on time."""
    previous = _previous_regular(meeting)
    if previous is None:
        return None, None
    end = meeting.actual_end or _start(meeting)
    # Done on time (meetings.indicators.task_on_time_q): by the due date; undated, by this meeting's end.
    counts = previous.tasks.exclude(status=Task.Status.CANCELLED).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=indicators.task_on_time_q(undated_by=end)),
    )
    return previous, counts


def _previous_regular(meeting: Meeting) -> Meeting | None:
    return (
        Meeting.objects.filter(
            organisation=meeting.organisation,
            kind__in=Meeting.REGULAR_KINDS,
            state__in=HELD_STATES,
            planned_start__lt=meeting.planned_start,
        )
        .exclude(pk=meeting.pk)
        .order_by("-planned_start", "-pk")
        .first()
    )


# --- the measures, in the order the facts list them ---------------------------------------------

_LENGTH = "HD 42-HD/BTCTW tiêu chí 1.1, QĐ 31-QĐ/TU tiêu chí 8; thời lượng tối thiểu: meetings/kinds.py (min_minutes)"


def _duration(meeting: Meeting) -> tuple[int, int, str] | None:
    duration = meeting.duration_minutes
    if duration is None:
        return None
    minimum = Meeting.MIN_MINUTES.get(meeting.kind, 90)
    evidence = _("Sinh hoạt %(duration)s phút (%(start)s–%(end)s); tối thiểu %(minimum)s phút.") % {
        "duration": duration,
        "minimum": minimum,
        "start": timezone.localtime(meeting.actual_start).strftime("%H:%M"),
        "end": timezone.localtime(meeting.actual_end).strftime("%H:%M"),
    }
    return duration, minimum, evidence


@measure(
    "duration_shortfall",
    label=gettext_lazy("Số phút thiếu so với thời lượng tối thiểu (90; 120 khi kết hợp chuyên đề)"),
    source=_LENGTH,
)
def duration_shortfall(meeting: Meeting, data: Data):
    known = _duration(meeting)
    if known is None:
        return None, _("Chưa ghi giờ bắt đầu và kết thúc thực tế.")
    duration, minimum, evidence = known
    return max(minimum - duration, 0), evidence


@measure(
    "duration_percent",
    label=gettext_lazy("Thời lượng thực tế / thời lượng tối thiểu (%)"),
    source=_LENGTH,
)
def duration_percent(meeting: Meeting, data: Data):
    known = _duration(meeting)
    if known is None:
        return None, _("Chưa ghi giờ bắt đầu và kết thúc thực tế.")
    duration, minimum, evidence = known
    return _percent(duration, minimum), evidence


def _attendance_fact(counts: dict[str, int], key: str) -> tuple[Any, str]:
    if counts["blank"] or not counts["total"]:
        return None, _("Chưa điểm danh đầy đủ.")
    rate = _percent(counts["present"], counts["base"])
    evidence = _(
        "Có mặt %(present)s/%(base)s đảng viên phải dự (%(rate)s); vắng có lý do %(excused)s, vắng không lý do "
        "%(unexcused)s; không tính %(exempt)s miễn sinh hoạt, %(elsewhere)s sinh hoạt tạm thời nơi khác."
    ) % {**counts, "rate": _fmt_percent(rate)}
    return (rate if key == "rate" else counts[key]), evidence


@measure(
    "attendance_percent",
    label=gettext_lazy("Tỷ lệ đảng viên có mặt, không tính miễn sinh hoạt và sinh hoạt nơi khác (%)"),
    source="HD 42-HD/BTCTW tiêu chí 2.1, QĐ 31-QĐ/TU tiêu chí 5 (không tính đảng viên miễn sinh hoạt, sinh hoạt "
    "tạm thời nơi khác)",
    needs=("attendance",),
)
def attendance_percent(meeting: Meeting, data: Data):
    return _attendance_fact(data["attendance"], "rate")


@measure(
    "unexcused_absences",
    label=gettext_lazy("Số đảng viên vắng không lý do"),
    source="HD 42-HD/BTCTW tiêu chí 2.1, QĐ 31-QĐ/TU tiêu chí 6",
    needs=("attendance",),
)
def unexcused_absences(meeting: Meeting, data: Data):
    return _attendance_fact(data["attendance"], "unexcused")


@measure(
    "excused_streak",
    label=gettext_lazy("Số lần vắng có lý do liên tiếp nhiều nhất của một đảng viên trong năm"),
    source="HD 42-HD/BTCTW tiêu chí 2.2 (điểm cộng: không vắng có lý do quá 3 lần liên tiếp trong năm)",
    needs=("year_attendance",),
)
def excused_streak(meeting: Meeting, data: Data):
    """The longest run of consecutive excused absences of one member over the cell's regular meetings this year."""
    longest, who, current, last_member = 0, "", 0, None
    for member_id, name, presence in data["year_attendance"]:
        if member_id != last_member:
            current, last_member = 0, member_id
        current = current + 1 if presence == Attendance.Presence.ABSENT_EXCUSED else 0
        if current > longest:
            longest, who = current, name
    if longest == 0:
        return 0, _("Không có đảng viên vắng có lý do trong các buổi sinh hoạt thường kỳ năm nay.")
    return longest, _("Vắng có lý do liên tiếp nhiều nhất: %(count)s buổi (%(name)s).") % {
        "count": longest,
        "name": who,
    }


def _notice(meeting: Meeting, ahead: bool) -> tuple[int, str]:
    start = _start(meeting)
    limit = start - datetime.timedelta(days=1) if ahead else start

    def sent_in_time(at: datetime.datetime) -> int:
        return int(at <= limit) if ahead else int(at < limit)

    if meeting.entered_afterwards_at is not None:
        # Entered afterwards from paper: the notice is the paper's, judged by its date (meetings.indicators).
        if meeting.paper_notice_date:
            evidence = _("Nhập bổ sung: thông báo theo hồ sơ giấy ngày %(day)s; buổi sinh hoạt bắt đầu %(start)s.") % {
                "day": meeting.paper_notice_date.strftime("%d/%m/%Y"),
                "start": _fmt_moment(start),
            }
            assert meeting.notice_sent_at is not None  # set from the paper notice's date when it was entered
            return sent_in_time(meeting.notice_sent_at), evidence
        return 0, _("Nhập bổ sung: hồ sơ giấy không ghi nhận ngày thông báo.")
    if meeting.notice_sent_at:
        if ahead:
            evidence = _("Thông báo gửi lúc %(at)s; buổi sinh hoạt bắt đầu %(start)s.") % {
                "at": _fmt_moment(meeting.notice_sent_at),
                "start": _fmt_moment(start),
            }
        else:
            evidence = _("Thông báo gửi lúc %(at)s.") % {"at": _fmt_moment(meeting.notice_sent_at)}
        return sent_in_time(meeting.notice_sent_at), evidence
    return 0, _("Không có thông báo gửi qua cổng.")


@measure(
    "notice_sent",
    label=gettext_lazy("Có thông báo gửi trước giờ họp (1/0)"),
    source="QĐ 31-QĐ/TU tiêu chí 3; nhập bổ sung: meetings/indicators.py (paper_notice_moment)",
)
def notice_sent(meeting: Meeting, data: Data):
    return _notice(meeting, ahead=False)


@measure(
    "notice_ahead",
    label=gettext_lazy("Thông báo gửi trước ít nhất 1 ngày (1/0)"),
    source="HD 42-HD/BTCTW tiêu chí 3.4 (trước ít nhất 1 ngày); nhập bổ sung: meetings/indicators.py "
    "(paper_notice_moment)",
)
def notice_ahead(meeting: Meeting, data: Data):
    return _notice(meeting, ahead=True)


@measure(
    "documents_ahead",
    label=gettext_lazy("Tài liệu gửi trước ít nhất 1 ngày (1/0)"),
    source="HD 42-HD/BTCTW tiêu chí 3.5 (đăng tải trên Sổ tay đảng viên điện tử trước ít nhất 1 ngày), "
    "QĐ 31-QĐ/TU tiêu chí 4",
    needs=("documents",),
)
def documents_ahead(meeting: Meeting, data: Data):
    documents = data["documents"]
    start = _start(meeting)
    published = meeting.documents_published_at or (documents[0] if documents else None)
    if not published:
        return 0, _("Không có tài liệu gửi trước qua cổng.")
    return (
        int(published <= start - datetime.timedelta(days=1)),
        _("Tài liệu gửi lúc %(at)s; buổi sinh hoạt bắt đầu %(start)s.")
        % {"at": _fmt_moment(published), "start": _fmt_moment(start)},
    )


@measure(
    "meeting_documents",
    label=gettext_lazy("Số tài liệu đính kèm buổi sinh hoạt"),
    source="HD 42-HD/BTCTW tiêu chí 4.8 (tài liệu sinh hoạt được cung cấp cho đảng viên)",
    needs=("documents",),
)
def meeting_documents(meeting: Meeting, data: Data):
    count = len(data["documents"])
    return count, _("%(count)s tài liệu đính kèm.") % {"count": count}


@measure(
    "preparatory_meeting",
    label=gettext_lazy("Có họp chi ủy chuẩn bị (1/0)"),
    source="HD 42-HD/BTCTW tiêu chí 3.3, QĐ 31-QĐ/TU tiêu chí 2; bí thư một mình: Đảng ủy phường An Phú "
    "(domain-research §2.2); chi ủy: Điều lệ Điều 24.4",
    needs=("preparatory_meeting", "has_committee", "has_deputy"),
)
def preparatory_meeting(meeting: Meeting, data: Data):
    # HD 42 line 3.3: the chi ủy meets before the cell's meeting; where there is no chi ủy, the bí thư and
    # phó bí thư agree the content (seed §II) — the bí thư confirms it, the records cannot tell; a bí thư
    # alone has nobody to agree with, and the line counts in full (HD 42 as made concrete by Đảng ủy
    # phường An Phú, domain-research §2.2: "full marks automatically if the cell has only a bí thư").
    prep = data["preparatory_meeting"]
    if prep is not None and prep.state in HELD_STATES:
        return 1, _("Họp chi ủy chuẩn bị ngày %(day)s.") % {
            "day": timezone.localtime(prep.actual_start or prep.planned_start).strftime("%d/%m/%Y")
        }
    if data["has_committee"]:
        return 0, _("Không có cuộc họp chi ủy chuẩn bị được ghi nhận.")
    if data["has_deputy"]:
        return None, _("Chi bộ không có chi ủy: bí thư xác nhận đã thống nhất nội dung với phó bí thư.")
    return 1, _("Chi bộ chỉ có bí thư (không có chi ủy, phó bí thư): bí thư trực tiếp chuẩn bị, tiêu chí tính đủ điểm.")


@measure(
    "speakers_percent",
    label=gettext_lazy("Tỷ lệ đảng viên dự họp phát biểu (%)"),
    source="HD 42-HD/BTCTW tiêu chí 4.5, QĐ 31-QĐ/TU tiêu chí 9",
    needs=("attendance", "speakers"),
)
def speakers_percent(meeting: Meeting, data: Data):
    present = data["attendance"]["present"]
    if not present:
        return None, _("Chưa điểm danh đảng viên có mặt.")
    speakers = data["speakers"]
    share = _percent(speakers, present)
    return share, _("%(speakers)s/%(present)s đảng viên dự họp phát biểu (%(share)s).") % {
        "speakers": speakers,
        "present": present,
        "share": _fmt_percent(share),
    }


def _has_conclusion(data: Data) -> bool:
    resolution = data["resolution"]
    return bool(resolution and resolution.text.strip())


@measure(
    "conclusion_recorded",
    label=gettext_lazy("Có kết luận / nghị quyết (1/0)"),
    source="HD 42-HD/BTCTW tiêu chí 4.12 (tổng hợp ý kiến thành kết luận)",
    needs=("resolution",),
)
def conclusion_recorded(meeting: Meeting, data: Data):
    has_conclusion = _has_conclusion(data)
    return int(has_conclusion), (
        _("Đã ghi kết luận / nghị quyết.") if has_conclusion else _("Chưa ghi kết luận / nghị quyết.")
    )


@measure(
    "conclusion_voted",
    label=gettext_lazy("Kết luận được biểu quyết thông qua (1/0)"),
    source="HD 42-HD/BTCTW tiêu chí 7.1, QĐ 31-QĐ/TU tiêu chí 13; số tính biểu quyết: QĐ 294 §9.3.2 (meetings/votes.py)",
    needs=("resolution", "votes"),
)
def conclusion_voted(meeting: Meeting, data: Data):
    # Measured against the one count of meetings.votes (QĐ 294 §9.3.2), not against those present.
    has_conclusion = _has_conclusion(data)
    base, passed = data["votes"]
    return int(has_conclusion and bool(passed)), _(
        "Kết luận: %(conclusion)s; %(votes)s biểu quyết được thông qua (%(base)s)."
    ) % {"conclusion": _("có") if has_conclusion else _("chưa có"), "votes": len(passed), "base": base.summary}


@measure(
    "tasks_assigned",
    label=gettext_lazy("Số nhiệm vụ được phân công"),
    source="HD 42-HD/BTCTW tiêu chí 7.2, QĐ 31-QĐ/TU tiêu chí 14",
    needs=("tasks",),
)
def tasks_assigned(meeting: Meeting, data: Data):
    tasks = data["tasks"]
    return tasks, _("%(count)s nhiệm vụ được phân công.") % {"count": tasks}


@measure(
    "minutes_complete",
    label=gettext_lazy("Biên bản đủ các mục bắt buộc (1/0)"),
    source="HD 42-HD/BTCTW tiêu chí 4.6, QĐ 31-QĐ/TU tiêu chí 12; các mục bắt buộc: meetings/completeness.py",
    needs=("minutes_problems",),
)
def minutes_complete(meeting: Meeting, data: Data):
    if meeting.state == Meeting.State.MINUTES_ADOPTED:
        return 1, _("Biên bản đã được thông qua.")
    blocking = data["minutes_problems"]
    return int(not blocking), " ".join(blocking) or _("Biên bản đủ các mục bắt buộc.")


@measure(
    "minutes_adopted_in_time",
    label=gettext_lazy("Biên bản thông qua trong 2 ngày (1/0)"),
    source="HD 42-HD/BTCTW tiêu chí 7.3 (trong 2 ngày sau buổi sinh hoạt); meetings/indicators.py "
    "(minutes_adopted_in_time)",
)
def minutes_adopted_in_time(meeting: Meeting, data: Data):
    in_time = indicators.minutes_adopted_in_time(meeting)
    due = _fmt_moment(indicators.minutes_due_at(meeting))
    if meeting.entered_afterwards_at is not None:
        if meeting.paper_adopted_on:
            return int(bool(in_time)), _("Nhập bổ sung: biên bản giấy thông qua ngày %(day)s (hạn %(due)s).") % {
                "day": meeting.paper_adopted_on.strftime("%d/%m/%Y"),
                "due": due,
            }
        return 0, _("Nhập bổ sung: hồ sơ giấy không ghi nhận ngày thông qua biên bản.")
    if meeting.adopted_at:
        return int(bool(in_time)), _("Biên bản thông qua lúc %(at)s (hạn %(due)s).") % {
            "at": _fmt_moment(meeting.adopted_at),
            "due": due,
        }
    if in_time is False:
        return 0, _("Quá hạn %(due)s chưa thông qua biên bản.") % {"due": due}
    return None, _("Biên bản chưa được thông qua (còn trong hạn, đến %(due)s).") % {"due": due}


@measure(
    "last_tasks_done_percent",
    label=gettext_lazy("Tỷ lệ nhiệm vụ kỳ trước đã hoàn thành (%)"),
    source="HD 42-HD/BTCTW tiêu chí 6.1, QĐ 31-QĐ/TU tiêu chí 15; đúng hạn: meetings/indicators.py (task_on_time_q)",
    needs=("previous_regular",),
)
def last_tasks_done_percent(meeting: Meeting, data: Data):
    previous, counts = data["previous_regular"]
    if previous is None:
        return None, _("Không có buổi sinh hoạt thường kỳ trước được ghi nhận.")
    month = previous.period_month.strftime("%m/%Y")
    if not counts["total"]:
        return None, _("Kết luận kỳ trước (%(month)s) không giao nhiệm vụ nào.") % {"month": month}
    share = _percent(counts["done"], counts["total"])
    return share, _("Kỳ trước (%(month)s): hoàn thành đúng hạn %(done)s/%(total)s nhiệm vụ (%(share)s).") % {
        **counts,
        "month": month,
        "share": _fmt_percent(share),
    }


@measure(
    "thematic",
    label=gettext_lazy("Có sinh hoạt chuyên đề (1/0)"),
    source="HD 42-HD/BTCTW tiêu chí 4.3 (chỉ chấm trong tháng có sinh hoạt chuyên đề: Criterion.only_when_thematic)",
)
def thematic(meeting: Meeting, data: Data):
    is_thematic = meeting.kind in THEMATIC_KINDS
    return int(is_thematic), (_("Có sinh hoạt chuyên đề.") if is_thematic else _("Không có sinh hoạt chuyên đề."))
