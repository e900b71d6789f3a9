"""Helpers for meeting tests: a meeting planned in the future, published, and recorded."""

import datetime

import pytest
from django.utils import timezone

from meetings import services
from meetings.models import Attendance, Meeting


def at(days: int, hour: int = 14, minute: int = 0) -> datetime.datetime:
    """An aware datetime ``days`` from today at ``hour:minute`` local time."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour, minute))


def plan(cell, *, days=3, kind=Meeting.Kind.REGULAR, by=None, **fields):
    fields.setdefault("place", "Phòng họp tầng 2")
    return services.meeting_create(
        organisation=cell, kind=kind, planned_start=at(days, 14), planned_end=at(days, 16), by=by, **fields
    )


def hold(meeting, *, presence=None, by=None, start_hour=14, end_hour=16):
    """Publish (if needed), move the meeting into the past, record it held and everyone present."""
    if meeting.state == Meeting.State.DRAFT:
        meeting = services.meeting_publish(meeting=meeting, by=by)
    start = at(-1, start_hour)
    # Back in time as a whole: the notice went out before the meeting, which counts for its own month
    # (the database refuses anything else: Meeting.Meta.constraints).
    Meeting.objects.filter(pk=meeting.pk).update(
        planned_start=start,
        planned_end=at(-1, end_hour),
        period_month=timezone.localdate(start).replace(day=1),
        notice_sent_at=start - datetime.timedelta(days=3),
    )
    meeting.refresh_from_db()
    meeting = services.meeting_record_held(meeting=meeting, actual_start=start, actual_end=at(-1, end_hour), by=by)
    values = {}
    for attendance in meeting.attendances.all():
        if attendance.presence == Attendance.Presence.EXEMPT:
            continue
        values[attendance.member_id] = (presence or {}).get(attendance.member_id, (Attendance.Presence.PRESENT, ""))
    services.attendance_record(meeting=meeting, presence=values, by=by)
    return meeting


@pytest.fixture
def meeting(tree, people):
    return plan(tree.cell, chair=people.members["secretary"], clerk=people.members["member"], by=people.secretary)
