"""The calendar and the rules of meetings/indicators.py on hand-worked days (issue #13)."""

import datetime
import zoneinfo

import pytest

from lib import dates
from meetings import indicators
from meetings.indicators import Period
from meetings.models import Meeting

TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
D = datetime.date


def local(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=TZ)


def test_months_and_quarters_of_a_year_in_progress():
    year = Period(2026)
    today = D(2026, 12, 2)
    assert year.ended_months(today) == [D(2026, m, 1) for m in range(1, 12)]
    assert year.current_month(today) == D(2026, 12, 1)
    assert year.ended_quarters(today) == [D(2026, 1, 1), D(2026, 4, 1), D(2026, 7, 1)]
    assert year.current_quarter(today) == D(2026, 10, 1)
    assert not year.ended(today) and year.ended(D(2027, 1, 1))
    assert year.as_of(today) == "năm 2026, tính đến ngày 02/12/2026"
    assert year.as_of(D(2027, 1, 1)) == "năm 2026"
    # The last day of a month: the month has not ended on it.
    assert Period(2026, month=1).ended_months(D(2026, 1, 31)) == []
    assert Period(2026, month=1).ended_months(D(2026, 2, 1)) == [D(2026, 1, 1)]
    # A quarter ends on its last day: 30/09 is still in Q3, 01/10 is not.
    assert Period(2027, quarter=3).ended_quarters(D(2027, 9, 30)) == []
    assert Period(2027, quarter=3).ended_quarters(D(2027, 10, 1)) == [D(2027, 7, 1)]
    # 29/02 of a leap year.
    assert dates.month_end(D(2028, 2, 1)) == D(2028, 2, 29)
    assert Period(2028, month=2).end == D(2028, 2, 29)
    assert Period(2028, month=2).ended_months(D(2028, 2, 29)) == []
    assert dates.quarter_end(D(2028, 2, 29)) == D(2028, 3, 31)
    # A period not started yet: no month to check.
    assert Period(2027).checked_month(D(2026, 12, 31)) is None
    assert Period(2026, quarter=3).checked_month(D(2026, 12, 2)) == D(2026, 9, 1)
    assert Period(2026, quarter=3).checked_quarter(D(2026, 12, 2)) == D(2026, 7, 1)


def test_the_planning_deadline_is_the_end_of_the_25th_in_local_time():
    month = D(2026, 12, 1)
    assert indicators.planning_deadline(month) == local(2026, 12, 26, 0, 0)
    assert not indicators.planning_deadline_passed(month, D(2026, 12, 25))
    assert indicators.planning_deadline_passed(month, D(2026, 12, 26))
    # A notice sent at 23:30 on the 25th (16:30 UTC) is in time; at 00:30 on the 26th it is not.
    sent_in_time, sent_late = local(2026, 12, 25, 23, 30), local(2026, 12, 26, 0, 30)
    assert sent_in_time < indicators.planning_deadline(month) <= sent_late
    # February has a 25th too.
    assert indicators.planning_deadline(D(2028, 2, 1)) == local(2028, 2, 26, 0, 0)


@pytest.mark.parametrize(
    ("today", "meeting", "status"),
    [
        # Held: met, whatever the day.
        (D(2026, 12, 2), {"state": "held", "notice_sent_at": None, "actual_start": None}, "held"),
        # Before the deadline: noticed, draft, nothing.
        (
            D(2026, 12, 2),
            {"state": "notified", "notice_sent_at": local(2026, 12, 1, 9), "actual_start": None},
            "planned",
        ),
        (D(2026, 12, 2), {"state": "draft", "notice_sent_at": None, "actual_start": None}, "draft"),
        (D(2026, 12, 2), None, "unplanned"),
        (D(2026, 12, 25), None, "unplanned"),
        # After the deadline: noticed in time stays planned; noticed late, a draft or nothing is late.
        (
            D(2026, 12, 26),
            {"state": "notified", "notice_sent_at": local(2026, 12, 25, 23, 30), "actual_start": None},
            "planned",
        ),
        (
            D(2026, 12, 26),
            {"state": "notified", "notice_sent_at": local(2026, 12, 26, 0, 30), "actual_start": None},
            "late",
        ),
        (D(2026, 12, 31), {"state": "draft", "notice_sent_at": None, "actual_start": None}, "late"),
        (D(2026, 12, 31), None, "late"),
        # The month has ended without a held meeting.
        (
            D(2027, 1, 1),
            {"state": "notified", "notice_sent_at": local(2026, 12, 1, 9), "actual_start": None},
            "missing",
        ),
        (D(2027, 1, 1), None, "missing"),
        # Not started.
        (D(2026, 11, 30), None, "future"),
    ],
)
def test_month_status(today, meeting, status):
    assert indicators.month_status(month=D(2026, 12, 1), today=today, meeting=meeting) == status


def test_minutes_are_due_two_days_after_the_meeting_ends():
    meeting = Meeting(
        planned_start=local(2026, 12, 4, 14),
        planned_end=local(2026, 12, 4, 16),
        actual_start=local(2026, 12, 4, 14, 5),
        actual_end=local(2026, 12, 4, 16, 10),
    )
    assert indicators.minutes_due_at(meeting) == local(2026, 12, 6, 16, 10)
    assert indicators.minutes_adopted_in_time(meeting, now=local(2026, 12, 6, 16, 10)) is None
    assert indicators.minutes_adopted_in_time(meeting, now=local(2026, 12, 6, 16, 11)) is False
    meeting.adopted_at = local(2026, 12, 6, 16, 10)
    assert indicators.minutes_adopted_in_time(meeting) is True
    meeting.adopted_at = local(2026, 12, 7, 8, 0)
    assert indicators.minutes_adopted_in_time(meeting) is False
    # Not recorded as held: its planned end counts.
    noticed = Meeting(planned_start=local(2026, 12, 4, 14), planned_end=local(2026, 12, 4, 16))
    assert indicators.minutes_due_at(noticed) == local(2026, 12, 6, 16, 0)


def test_attendance_target_is_more_than_85_percent():
    assert indicators.attendance_rate(17, 20) == 85
    assert not indicators.attendance_meets_target(17, 20)
    assert indicators.attendance_meets_target(35, 41)  # 85.4 %
    assert not indicators.attendance_meets_target(0, 0) and indicators.attendance_rate(0, 0) is None
