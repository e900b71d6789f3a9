"""The open tasks in the monthly rollups (issue #20): the "overdue tasks" warning summed from them.

A task counts in the row of its cell and the month it is due (``tasks_open``, day → open tasks); the
warning on a day is the entries before it. Every change of a task or of its meeting keeps the rows equal
to a recount, and the count from the rollups equals the records the drill-down lists, on hand-worked
numbers and on the days a count may slip (the due day itself, 23:30 on 31/12, 29/02).
"""

import datetime

import pytest

from meetings import services as meeting_services
from meetings.models import Meeting, Task
from reports import rollups
from reports.periods import Period
from reports.warnings import warning_records, warnings

from .conftest import YEAR
from .test_rollups import assert_rollups_equal_a_recount, row

MAY = datetime.date(YEAR, 5, 1)


def _meeting(khoi, name: str, month: int, **kind) -> Meeting:
    return (
        Meeting.objects.filter(organisation=khoi.cells[name], period_month=datetime.date(YEAR, month, 1), **kind)
        .exclude(state=Meeting.State.CANCELLED)
        .order_by("pk")
        .first()
    )


def _task(meeting, due, status=Task.Status.OPEN) -> Task:
    return Task.objects.create(meeting=meeting, description="Việc", due_date=due, status=status)


def overdue(scope, period, today) -> int:
    """The warning as the dashboard shows it, after checking it against the drill-down's records."""
    counted = rollups.overdue_tasks_count(scope=scope, period=period, today=today)
    assert counted == warning_records("overdue_tasks", scope=scope, period=period, today=today).count()
    return counted


@pytest.fixture
def may_tasks(khoi):
    """B2's May meeting sets tasks due on 25, 26 and 27/05 (open), one due 20/05 done; A2's cancelled March
    meeting had one due 10/05; B1 has one due 31/12/2025 (before the year) and one due 31/12/2026."""
    b2 = _meeting(khoi, "B2", 5, kind=Meeting.Kind.REGULAR)
    for day in (25, 26, 27):
        _task(b2, datetime.date(YEAR, 5, day))
    _task(b2, datetime.date(YEAR, 5, 20), status=Task.Status.DONE)
    cancelled = Meeting.objects.get(
        organisation=khoi.cells["A2"], period_month=datetime.date(YEAR, 3, 1), state=Meeting.State.CANCELLED
    )
    _task(cancelled, datetime.date(YEAR, 5, 10))
    b1 = _meeting(khoi, "B1", 1)
    _task(b1, datetime.date(YEAR - 1, 12, 31))
    _task(b1, datetime.date(YEAR, 12, 31))
    return b2


def test_open_tasks_are_stored_by_their_due_day(khoi, may_tasks):
    # B2 May: the three open ones, not the done one; A2 May: nothing (its meeting was cancelled).
    assert row(khoi.cells["B2"], MAY)["tasks_open"] == {"25": 1, "26": 1, "27": 1}
    assert row(khoi.cells["A2"], MAY) is None or row(khoi.cells["A2"], MAY)["tasks_open"] == {}
    # B1's task due 31/12/2025 is in the row of December 2025, though its meeting is of January 2026.
    assert row(khoi.cells["B1"], datetime.date(YEAR - 1, 12, 1))["tasks_open"] == {"31": 1}
    assert_rollups_equal_a_recount()


def test_the_overdue_tasks_on_hand_worked_days(khoi, may_tasks):
    year = Period(YEAR)
    # 26/05: only the task due 25/05 (due today is not overdue yet; the fixture's A1 task is due 01/12).
    assert overdue(khoi.khoi, year, datetime.date(YEAR, 5, 26)) == 1
    assert overdue(khoi.b, year, datetime.date(YEAR, 5, 26)) == 1
    assert overdue(khoi.a, year, datetime.date(YEAR, 5, 26)) == 0
    assert overdue(khoi.khoi, Period(YEAR, month=5), datetime.date(YEAR, 5, 26)) == 1
    assert overdue(khoi.khoi, Period(YEAR, quarter=1), datetime.date(YEAR, 5, 26)) == 0
    # 28/05: the three of May.
    assert overdue(khoi.khoi, year, datetime.date(YEAR, 5, 28)) == 3
    # 31/12 (any hour: the local day): the fixture's A1 task too, not B1's due that day.
    assert overdue(khoi.khoi, year, datetime.date(YEAR, 12, 31)) == 4
    # 15/01/2027: the year ended; B1's 31/12 task is overdue too. The 2025 one is not of 2026.
    assert overdue(khoi.khoi, year, datetime.date(YEAR + 1, 1, 15)) == 5
    assert overdue(khoi.khoi, Period(YEAR - 1), datetime.date(YEAR + 1, 1, 15)) == 1
    # Before the period begins nothing is overdue in it.
    assert overdue(khoi.khoi, Period(YEAR + 1), datetime.date(YEAR, 12, 31)) == 0


def test_the_dashboard_warning_reads_the_rollups(khoi, may_tasks):
    counts = {w["code"]: w["count"] for w in warnings(scope=khoi.khoi, period=Period(YEAR))}  # today: 15/01/2027
    assert counts["overdue_tasks"] == 5


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-12-31 23:30 +07:00", 4),  # still 31/12 in Asia/Ho_Chi_Minh (16:30 UTC)
        ("2027-01-01 00:30 +07:00", 5),  # 1/1 locally, still 31/12 in UTC
    ],
)
def test_the_overdue_tasks_turn_at_local_midnight(khoi, may_tasks, time_machine, day, expected):
    time_machine.move_to(day, tick=False)
    counts = {w["code"]: w["count"] for w in warnings(scope=khoi.khoi, period=Period(YEAR))}
    assert counts["overdue_tasks"] == expected


def test_a_task_due_on_29_february(khoi):
    meeting = Meeting.objects.create(
        organisation=khoi.cells["C"],
        kind=Meeting.Kind.THEMATIC,
        period_month=datetime.date(2028, 2, 1),
        planned_start=datetime.datetime(2028, 2, 10, 7, tzinfo=datetime.UTC),
        planned_end=datetime.datetime(2028, 2, 10, 9, tzinfo=datetime.UTC),
    )
    _task(meeting, datetime.date(2028, 2, 29))
    assert row(khoi.cells["C"], datetime.date(2028, 2, 1))["tasks_open"] == {"29": 1}
    assert overdue(khoi.khoi, Period(2028), datetime.date(2028, 2, 29)) == 0
    assert overdue(khoi.khoi, Period(2028), datetime.date(2028, 3, 1)) == 1
    assert_rollups_equal_a_recount()


def test_each_change_of_a_task_or_its_meeting_keeps_the_rollup(khoi, may_tasks):
    b2 = khoi.cells["B2"]
    june = datetime.date(YEAR, 6, 1)
    task = Task.objects.get(meeting=may_tasks, due_date=datetime.date(YEAR, 5, 25))

    # Done through the service: it leaves its day.
    meeting_services.task_update_status(task=task, status=Task.Status.DONE, result="Đã báo cáo")
    assert row(b2, MAY)["tasks_open"] == {"26": 1, "27": 1}
    assert_rollups_equal_a_recount()
    # Reopened, then its due date moved to June: it leaves May for June.
    meeting_services.task_update_status(task=task, status=Task.Status.OPEN)
    task.refresh_from_db()
    task.due_date = datetime.date(YEAR, 6, 3)
    task.save()
    assert row(b2, MAY)["tasks_open"] == {"26": 1, "27": 1}
    assert row(b2, june)["tasks_open"] == {"03": 1}
    assert_rollups_equal_a_recount()
    # Its text changed: nothing is counted again (no recount query beyond the task's own).
    task.description = "Việc khác"
    task.save()
    assert row(b2, june)["tasks_open"] == {"03": 1}
    # Without a due date it is never overdue: no entry.
    task.due_date = None
    task.save()
    assert row(b2, june) is None or row(b2, june)["tasks_open"] == {}
    assert_rollups_equal_a_recount()

    # A task set through the service while the minutes are open (adopted minutes are locked), due 30/05.
    may_tasks.state = Meeting.State.HELD
    may_tasks.save()
    member = khoi.members["B2"][1]
    made = meeting_services.task_create(
        meeting=may_tasks, description="Hoàn thiện hồ sơ", assignees=[member], due_date=datetime.date(YEAR, 5, 30)
    )
    assert row(b2, MAY)["tasks_open"] == {"26": 1, "27": 1, "30": 1}
    assert_rollups_equal_a_recount()

    # The meeting cancelled: its open tasks stop counting; held again: they count again.
    state = may_tasks.state
    may_tasks.state = Meeting.State.CANCELLED
    may_tasks.save()
    assert row(b2, MAY) is None or row(b2, MAY)["tasks_open"] == {}
    assert_rollups_equal_a_recount()
    may_tasks.state = state
    may_tasks.save()
    assert row(b2, MAY)["tasks_open"] == {"26": 1, "27": 1, "30": 1}
    assert_rollups_equal_a_recount()

    # Deleted one by one, then the meeting with the rest.
    made.delete()
    assert row(b2, MAY)["tasks_open"] == {"26": 1, "27": 1}
    may_tasks.delete()
    assert row(b2, MAY) is None or row(b2, MAY)["tasks_open"] == {}
    assert_rollups_equal_a_recount()
    # The sums above the cell followed every step: the nightly check finds no drift in them either.
    assert rollups.verify(repair=False).count == 0


def test_drift_in_the_open_tasks_is_found_and_repaired(khoi, may_tasks):
    from reports.models import MonthlyRollup, SubtreeRollup

    MonthlyRollup.objects.filter(organisation=khoi.cells["B2"], month=MAY).update(tasks_open={"25": 7})
    SubtreeRollup.objects.filter(organisation=khoi.khoi, month=MAY).update(tasks_open={})
    drift = rollups.verify()
    assert (khoi.cells["B2"].pk, MAY) in drift.repaired
    assert (khoi.khoi.pk, MAY) in drift.subtrees_repaired
    assert row(khoi.cells["B2"], MAY)["tasks_open"] == {"25": 1, "26": 1, "27": 1}
    assert overdue(khoi.khoi, Period(YEAR), datetime.date(YEAR, 5, 28)) == 3
    assert_rollups_equal_a_recount()
