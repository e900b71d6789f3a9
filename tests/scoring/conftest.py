"""A cell of ten members and a builder for meetings with exactly the records a test needs."""

import datetime

import pytest
from django.utils import timezone

from cells import services as cell_services
from cells.models import Member
from meetings import services as meeting_services
from meetings.models import Attendance, Meeting, Resolution, Task
from tests.factories import make_member

PRESENT = Attendance.Presence.PRESENT


def local(year, month, day, hour=14, minute=0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


def build_meeting(
    cell,
    *,
    start,
    minutes=120,
    kind=Meeting.Kind.REGULAR,
    absent=None,
    speakers=(),
    notice_days=2,
    documents_days=None,
    conclusion=True,
    vote=True,
    tasks=(),
    chair=None,
    clerk=None,
    upper_guests=(),
):
    """A held meeting in the past: everyone present except ``absent`` ({member: (presence, reason)})."""
    soon = timezone.now() + datetime.timedelta(days=1)
    members = list(Member.objects.filter(organisation=cell).order_by("pk"))
    meeting = meeting_services.meeting_create(
        organisation=cell,
        kind=kind,
        planned_start=soon,
        planned_end=soon + datetime.timedelta(hours=2),
        chair=chair or members[0],
        clerk=clerk or members[1],
        upper_guests=upper_guests,
    )
    meeting = meeting_services.meeting_publish(meeting=meeting)
    # Back in time as a whole: the month it counts for is the month it is held in (the database
    # refuses anything else for a regular meeting: Meeting.Meta.constraints).
    updates = {
        "planned_start": start,
        "planned_end": start + datetime.timedelta(minutes=minutes),
        "period_month": timezone.localdate(start).replace(day=1),
        "notice_sent_at": start - datetime.timedelta(days=notice_days),
    }
    if documents_days is not None:
        updates["documents_published_at"] = start - datetime.timedelta(days=documents_days)
    Meeting.objects.filter(pk=meeting.pk).update(**updates)
    meeting.refresh_from_db()
    # A meeting shorter than the minimum is recorded with its reason, or its minutes cannot be adopted.
    short = minutes < Meeting.MIN_MINUTES.get(kind, 0)
    meeting = meeting_services.meeting_record_held(
        meeting=meeting,
        actual_start=start,
        actual_end=start + datetime.timedelta(minutes=minutes),
        short_reason="Kết thúc sớm do công tác đột xuất" if short else "",
    )
    absent = {m.pk: value for m, value in (absent or {}).items()}
    presence = {}
    for attendance in meeting.attendances.all():
        if attendance.presence == Attendance.Presence.EXEMPT:
            continue
        presence[attendance.member_id] = absent.get(attendance.member_id, (PRESENT, ""))
    meeting_services.attendance_record(meeting=meeting, presence=presence)
    for speaker in speakers:
        meeting_services.opinion_add(meeting=meeting, text="Ý kiến", speaker=speaker)
    if conclusion:
        meeting_services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="Kết luận của chi bộ")
    if vote:
        from meetings.selectors import eligible_voters

        count = eligible_voters(meeting=meeting).count()
        meeting_services.vote_record(meeting=meeting, question="Thông qua kết luận", votes_for=count, votes_against=0)
    for description, assignees in tasks:
        meeting_services.task_create(meeting=meeting, description=description, assignees=assignees)
    meeting.refresh_from_db()
    return meeting


def finish_tasks(meeting, count, *, on):
    """Mark the first ``count`` tasks of ``meeting`` done on ``on``."""
    for task in meeting.tasks.order_by("pk")[:count]:
        Task.objects.filter(pk=task.pk).update(status=Task.Status.DONE, result="Xong", completed_at=on)


@pytest.fixture
def cell_of_ten(tree, people):
    """Chi bộ Văn phòng with ten official members, one of them exempt."""
    members = [people.members["secretary"], people.members["member"]]
    members += [make_member(organisation=tree.cell, full_name=f"Đảng Viên {n:02d}") for n in range(3, 11)]
    cell_services.member_exempt(member=members[9], reason="Tuổi cao, sức yếu", start=datetime.date(2020, 6, 1))
    return members
