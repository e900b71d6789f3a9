"""The monthly rollups (issue #20): every change through the services keeps them equal to a fresh count,
drift is found and repaired, and the dashboards' figures from them equal the figures from the records.

The hand-built Khối of ``conftest.khoi`` (its 2026 figures worked out by hand in test_figures.py) is the
tree; everything is read from the real database.
"""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from cells.models import PATH_STEP_WIDTH, AuditEntry, Member, Notification, Role
from meetings import services as meeting_services
from meetings.models import Attendance, Meeting
from reports import rollups, warnings
from reports.dashboard import dashboard_page
from reports.figures import figures_by_group
from reports.heatmap import scored_meeting_counts
from reports.models import MonthlyRollup, SubtreeRollup
from reports.periods import Period
from reports.tasks import rollup_recount, rollups_verify
from scoring.models import MeetingScore, ScoringScheme

from ..factories import UserFactory, grant, make_member
from .conftest import YEAR

P = Attendance.Presence


def _local(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))


def stored_rows() -> dict:
    return {
        (row.pop("organisation_id"), row.pop("month")): row
        for row in MonthlyRollup.objects.values("organisation_id", "month", *rollups.STORED_FIELDS)
    }


def assert_rollups_equal_a_recount():
    """Every stored row equals a fresh count from the meetings, none is missing, and the nightly check
    finds nothing to repair."""
    fresh, stored = rollups.count_all(), stored_rows()
    assert set(stored) == set(fresh)
    for key, counts in fresh.items():
        assert rollups._same(counts, stored[key]), (key, counts, stored[key])
    assert rollups.verify().count == 0


def row(cell, month: datetime.date) -> dict | None:
    return rollups.stored(cell.pk, month)


# --- each kind of record, changed through its normal path ------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_the_fixture_tree_is_rolled_up_as_it_is_built(khoi):
    a1 = khoi.cells["A1"]
    june = row(a1, datetime.date(YEAR, 6, 1))
    # A1 June: the regular meeting held, 5 of 7 present (one exempt is outside the base), no unexcused.
    assert june["regular_held"] == 1
    assert june["attendance_meetings"] >= 1
    assert_rollups_equal_a_recount()


def test_each_change_of_a_meeting_through_the_services_keeps_its_rollup(khoi, time_machine):
    cell = khoi.cells["B2"]
    members = khoi.members["B2"]
    guest = khoi.members["A1"][0]
    january = datetime.date(2027, 1, 1)
    assert row(cell, january) is None

    # Planned: nothing held yet, nothing counted.
    meeting = meeting_services.meeting_create(
        organisation=cell,
        kind=Meeting.Kind.REGULAR,
        planned_start=_local(2027, 1, 20, 8),
        planned_end=_local(2027, 1, 20, 10),
    )
    assert row(cell, january) is None
    assert_rollups_equal_a_recount()

    # An upper-level guest named while it is planned; then held: a regular meeting and a visit.
    meeting_services.meeting_update(meeting=meeting, upper_guests=[guest])
    meeting_services.meeting_publish(meeting=meeting)
    meeting.refresh_from_db()
    time_machine.move_to("2027-01-20 11:00 +07:00", tick=False)
    meeting_services.meeting_record_held(
        meeting=meeting, actual_start=_local(2027, 1, 20, 8), actual_end=_local(2027, 1, 20, 10)
    )
    counted = row(cell, january)
    assert (counted["regular_held"], counted["visits"]) == (1, 1)
    assert_rollups_equal_a_recount()

    # Attendance recorded (the set-based recount of the stored counts): 5 present, 1 absent unexcused.
    presence = {m.pk: (P.PRESENT, "") for m in members}
    presence[members[0].pk] = (P.ABSENT_UNEXCUSED, "")
    meeting_services.attendance_record(meeting=meeting, presence=presence)
    counted = row(cell, january)
    assert counted["attendance_meetings"] == 1
    assert counted["attendance_unexcused"] == 1
    assert counted["attendance_above"] == 0  # 5/6 = 83 %: not above 85 %
    assert counted["attendance_rate_sum"] == pytest.approx(500 / 6)
    assert_rollups_equal_a_recount()

    # The guest taken off (the many-to-many, as the admin form writes it): no visit any more.
    meeting.upper_guests.remove(guest)
    assert row(cell, january)["visits"] == 0
    assert_rollups_equal_a_recount()
    meeting.upper_guests.add(guest)
    assert row(cell, january)["visits"] == 1

    # Its score: scored, then confirmed with an official level, then the level changed.
    scheme = ScoringScheme.objects.order_by("pk").first()
    score = MeetingScore.objects.create(meeting=meeting, scheme=scheme, scheme_version=1, scheme_snapshot={})
    assert row(cell, january)["scored"] == {f"{Meeting.Kind.REGULAR}|chua_xac_nhan": 1}
    score.official_level, score.state = "kha", MeetingScore.State.CONFIRMED
    score.save()
    assert row(cell, january)["scored"] == {f"{Meeting.Kind.REGULAR}|kha": 1}
    assert_rollups_equal_a_recount()
    score.delete()  # still a held meeting of a scored kind: counted, as not confirmed
    assert row(cell, january)["scored"] == {f"{Meeting.Kind.REGULAR}|chua_xac_nhan": 1}

    # A thematic meeting planned for January, moved to February, then held there.
    thematic = meeting_services.meeting_create(
        organisation=cell,
        kind=Meeting.Kind.THEMATIC,
        planned_start=_local(2027, 1, 12, 8),
        planned_end=_local(2027, 1, 12, 10),
    )
    meeting_services.meeting_update(meeting=thematic, period_month=datetime.date(2027, 2, 1))
    thematic.refresh_from_db()
    assert thematic.period_month == datetime.date(2027, 2, 1)
    thematic.state = Meeting.State.HELD
    thematic.actual_start, thematic.actual_end = _local(2027, 1, 12, 8), _local(2027, 1, 12, 10)
    thematic.save()
    assert row(cell, datetime.date(2027, 2, 1))["thematic_held"] == 1
    assert row(cell, january)["thematic_held"] == 0
    assert_rollups_equal_a_recount()

    # Deleted: its month has nothing left.
    thematic.delete()
    assert row(cell, datetime.date(2027, 2, 1)) is None
    meeting.delete()
    assert row(cell, january) is None
    assert_rollups_equal_a_recount()


def test_a_cancelled_meeting_and_a_rolled_back_change_leave_the_rollup_right(khoi):
    from django.db import transaction

    cell = khoi.cells["A2"]
    march = datetime.date(YEAR, 3, 1)  # A2's March meeting is cancelled in the fixture: nothing held
    assert row(cell, march) is None or row(cell, march)["regular_held"] == 0
    held = Meeting.objects.get(organisation=cell, period_month=datetime.date(YEAR, 4, 1), kind=Meeting.Kind.REGULAR)
    before = row(cell, held.period_month)
    with pytest.raises(RuntimeError), transaction.atomic():
        held.state = Meeting.State.CANCELLED
        held.save()
        assert row(cell, held.period_month)["regular_held"] == 0  # written in the same transaction
        raise RuntimeError("rolled back")
    assert row(cell, held.period_month) == before
    assert_rollups_equal_a_recount()


# --- drift ------------------------------------------------------------------------------------


def test_forced_drift_is_found_repaired_and_reported_to_the_khoi(khoi):
    admin = UserFactory()
    officer = make_member(organisation=khoi.cells["C"], full_name="Quản trị Khối")
    Member.objects.filter(pk=officer.pk).update(user=admin)
    grant(admin, khoi.khoi, Role.KHOI_ADMIN)
    a1, b1 = khoi.cells["A1"], khoi.cells["B1"]
    table = MonthlyRollup._meta.db_table
    with connection.cursor() as cursor:
        # A count changed, a row lost, and a row for a month without any meeting — behind the services' back.
        cursor.execute(
            f"UPDATE {table} SET regular_held = regular_held + 3 WHERE organisation_id = %s AND month = %s",  # noqa: S608
            [a1.pk, datetime.date(YEAR, 1, 1)],
        )
        cursor.execute(
            f"DELETE FROM {table} WHERE organisation_id = %s AND month = %s",  # noqa: S608
            [b1.pk, datetime.date(YEAR, 2, 1)],
        )
    MonthlyRollup.objects.create(organisation=b1, month=datetime.date(2030, 1, 1), regular_held=1)
    assert row(a1, datetime.date(YEAR, 1, 1))["regular_held"] == 4

    repaired = rollups_verify()  # the nightly task

    assert repaired == 3
    assert row(a1, datetime.date(YEAR, 1, 1))["regular_held"] == 1
    assert row(b1, datetime.date(YEAR, 2, 1))["regular_held"] == 1
    assert row(b1, datetime.date(2030, 1, 1)) is None
    entry = AuditEntry.objects.get(action="reports.rollup.repair")
    assert entry.organisation == khoi.khoi
    assert entry.after["cell_months"] == 3
    notice = Notification.objects.get(kind="reports.rollup_drift")
    assert notice.recipient == admin
    assert "3 chi bộ-tháng" in notice.body
    assert rollups_verify() == 0
    assert_rollups_equal_a_recount()


def test_the_recount_task_and_the_rebuild_command(khoi, capsys):
    a1 = khoi.cells["A1"]
    MonthlyRollup.objects.filter(organisation=a1, month=datetime.date(YEAR, 5, 1)).update(visits=9)
    rollup_recount(a1.pk, "2026-05-20")
    assert row(a1, datetime.date(YEAR, 5, 1))["visits"] == 1  # A1 had a guest in May
    MonthlyRollup.objects.all().delete()
    call_command("rollups_rebuild")
    assert "cell-months rebuilt" in capsys.readouterr().out
    assert_rollups_equal_a_recount()
    call_command("rollups_rebuild", "--check")
    assert "0 repaired" in capsys.readouterr().out


# --- time edges -------------------------------------------------------------------------------


def test_a_meeting_at_23_30_on_31_december_counts_for_december(khoi, time_machine):
    cell = khoi.cells["C"]  # C has no December meeting in the fixture
    time_machine.move_to("2026-12-31 10:00 +07:00", tick=False)
    meeting = meeting_services.meeting_create(
        organisation=cell,
        kind=Meeting.Kind.REGULAR,
        planned_start=_local(YEAR, 12, 31, 23, 30),
        planned_end=_local(YEAR + 1, 1, 1, 0, 30),
    )
    assert meeting.period_month == datetime.date(YEAR, 12, 1)
    meeting_services.meeting_publish(meeting=meeting)
    meeting.refresh_from_db()
    time_machine.move_to("2027-01-01 00:10 +07:00", tick=False)
    meeting_services.meeting_record_held(
        meeting=meeting, actual_start=_local(YEAR, 12, 31, 23, 30), actual_end=_local(YEAR, 12, 31, 23, 59)
    )
    assert row(cell, datetime.date(YEAR, 12, 1))["regular_held"] == 1
    assert row(cell, datetime.date(YEAR + 1, 1, 1)) is None
    december = Period(YEAR, month=12)
    _targets, groups = figures_by_group(scope=khoi.khoi, period=december, length=None)
    assert groups[cell.path]["regular_months"].num == 1
    assert_same_figures(khoi.khoi, december, None)
    assert_same_figures(khoi.khoi, Period(YEAR + 1, month=1), None)


def test_a_meeting_on_29_february_counts_for_february(khoi, time_machine):
    time_machine.move_to("2028-02-29 10:00 +07:00", tick=False)
    cell = khoi.cells["B2"]
    meeting = meeting_services.meeting_create(
        organisation=cell,
        kind=Meeting.Kind.REGULAR,
        planned_start=_local(2028, 2, 29, 23, 30),
        planned_end=_local(2028, 2, 29, 23, 59),
    )
    meeting_services.meeting_publish(meeting=meeting)
    meeting.refresh_from_db()
    time_machine.move_to("2028-03-01 09:00 +07:00", tick=False)
    meeting_services.meeting_record_held(
        meeting=meeting, actual_start=_local(2028, 2, 29, 23, 30), actual_end=_local(2028, 2, 29, 23, 59)
    )
    assert row(cell, datetime.date(2028, 2, 1))["regular_held"] == 1
    assert row(cell, datetime.date(2028, 3, 1)) is None
    assert_same_figures(khoi.khoi, Period(2028, quarter=1), None)
    assert_rollups_equal_a_recount()


# --- the dashboards' figures: from the rollups, equal to the records --------------------------------


def _figures(groups: dict) -> dict:
    return {
        grp: {
            code: (round(f.num, 6), f.den, f.pending, f.status, f.display, f.pending_display)
            for code, f in figures.items()
        }
        for grp, figures in groups.items()
    }


def assert_same_figures(scope, period, length):
    _t, from_rollups = figures_by_group(scope=scope, period=period, length=length, source="rollups")
    _t, from_records = figures_by_group(scope=scope, period=period, length=length, source="records")
    assert _figures(from_rollups) == _figures(from_records)


def _sorted(rows):
    return sorted(rows, key=lambda r: (r["period_month"], r["grp"], r["kind"], r["level"]))


def assert_all_figures_agree(scope, periods):
    """Every whole-tree figure of ``scope`` read from the rollups equals the same read from the records:
    the targets by child and by cell, the attendance and overdue-task warnings, the scored meetings (chart,
    heat map)."""
    step = PATH_STEP_WIDTH  # one level down: the children
    for period in periods:
        for length in (len(scope.path) + step, None):
            assert_same_figures(scope, period, length)
        assert rollups.attendance_warning_counts(
            scope=scope, period=period
        ) == warnings._attendance_warning_counts_from_records(scope=scope, period=period)
        today = timezone.localdate()
        assert rollups.overdue_tasks_count(scope=scope, period=period, today=today) == (
            warnings.warning_records("overdue_tasks", scope=scope, period=period, today=today).count()
        )
        assert _sorted(scored_meeting_counts(scope=scope, period=period, source="rollups")) == _sorted(
            scored_meeting_counts(scope=scope, period=period, source="records")
        )


DAYS = [
    "2027-01-15 09:00 +07:00",  # the year 2026 ended
    "2026-05-26 10:00 +07:00",  # a month in progress past its planning deadline, a quarter in progress
    "2026-12-31 23:30 +07:00",  # the year's last half hour
    "2026-03-31 23:59 +07:00",  # a quarter's last minute
]


@pytest.mark.parametrize("day", DAYS)
def test_dashboard_figures_from_the_rollups_equal_those_from_the_records(khoi, time_machine, day):
    time_machine.move_to(day, tick=False)
    for scope in (khoi.khoi, khoi.a, khoi.c):
        assert_all_figures_agree(
            scope, [Period(YEAR), Period(YEAR, quarter=2), Period(YEAR, month=5), Period(YEAR, month=12)]
        )
    # The whole Khối page: targets, table by TCCS, heat map, quality chart, attention list.
    user = khoi.users["admin"]
    for period in (Period(YEAR), Period(YEAR, quarter=3)):
        pages = [
            dashboard_page(user=user, scope=khoi.khoi, period=period, source=source)
            for source in ("rollups", "records")
        ]
        texts = [
            (
                [(r["figure"].display, r["figure"].status, r["figure"].pending_display) for r in page["total_rows"]],
                [[(f.display, f.status) for f in r["figures"]] for r in page["rows"]],
                page["heat_groups"]["rows"] and [[dict(s) for s in r["slots"]] for r in page["heat_groups"]["rows"]],
                page["distribution"],
                [(a["organisation"].pk, a["count"], a["reasons"]) for a in page["attention"]],
            )
            for page in pages
        ]
        assert texts[0] == texts[1]


def test_the_khoi_dashboard_reads_no_meeting_row_for_its_whole_tree_figures(khoi, django_assert_max_num_queries):
    """The targets' meeting figures and the quality chart of the Khối are read from the rollups."""
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    user = UserFactory()
    with CaptureQueriesContext(conn) as captured:
        dashboard_page(user=user, scope=khoi.khoi, period=Period(YEAR))
    sql = [q["sql"] for q in captured.captured_queries]
    tables = (MonthlyRollup._meta.db_table, SubtreeRollup._meta.db_table)
    rollup_reads = [s for s in sql if any(f'"{table}"' in s for table in tables)]
    # The targets' meeting counts, the quality chart and heat map, the attendance warnings, the overdue tasks.
    assert len(rollup_reads) == 4
    # The overdue tasks are summed from the rollups' open tasks by due day: no task row is read.
    assert [s for s in sql if '"meetings_task"' in s] == []
    # What still reads meetings: the month in progress (none on 15/01/2027 for 2026), the warnings and
    # the upcoming meetings — never an aggregate over the year's meetings grouped by TCCS.
    grouped_year = [s for s in sql if '"meetings_meeting"' in s and "GROUP BY SUBSTRING" in s]
    assert grouped_year == []
