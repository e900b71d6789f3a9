"""The sums above the cells (issue #20, ``SubtreeRollup``): one row per organisation and month holding
what every cell below it counted, kept in the writing transaction, moved with a subtree, checked
nightly; the cells that met in a quarter counted once however many meetings they held.

The hand-built Khối of ``conftest.khoi`` is the tree (its meetings are listed there).
"""

import datetime

import pytest
from django.db import connection

from cells.models import Organisation
from cells.services.tree import organisation_move, organisation_update
from meetings.models import Meeting
from reports import rollups
from reports.models import SubtreeRollup
from reports.periods import Period

from ..factories import make_organisation
from .conftest import YEAR
from .test_rollups import assert_all_figures_agree, assert_rollups_equal_a_recount


def subtree(organisation, month: int) -> dict:
    row = SubtreeRollup.objects.filter(organisation=organisation, month=datetime.date(YEAR, month, 1)).first()
    return rollups._values_of(row) if row else rollups._zero()


def quarter_sum(organisation, name: str, quarter: int) -> int:
    return sum(subtree(organisation, m)[name] for m in range(quarter * 3 - 2, quarter * 3 + 1))


def test_first_marks_on_plain_rows():
    """``set_firsts`` by hand: a cell's first thematic meeting (visit) of each quarter, first forum of the year."""
    jan, feb, apr, mar, sep = (datetime.date(YEAR, m, 1) for m in (1, 2, 4, 3, 9))
    rows = {
        (7, jan): {"thematic_held": 1, "visits": 0, "forum_held": 0},
        (7, feb): {"thematic_held": 2, "visits": 1, "forum_held": 0},
        (7, mar): {"thematic_held": 0, "visits": 1, "forum_held": 1},
        (7, apr): {"thematic_held": 1, "visits": 0, "forum_held": 0},
        (7, sep): {"thematic_held": 0, "visits": 0, "forum_held": 1},
        (8, feb): {"thematic_held": 1, "visits": 0, "forum_held": 0},  # another cell: its own marks
    }
    rollups.set_firsts(rows)
    marks = {key: (r["thematic_first"], r["visit_first"], r["forum_first"]) for key, r in rows.items()}
    assert marks == {
        (7, jan): (1, 0, 0),
        (7, feb): (0, 1, 0),
        (7, mar): (0, 0, 1),
        (7, apr): (1, 0, 0),
        (7, sep): (0, 0, 0),
        (8, feb): (1, 0, 0),
    }


@pytest.mark.django_db(transaction=False)
def test_the_khoi_row_counts_cells_that_met_not_meetings(khoi):
    """Q3 2026: thematic meetings held by A1 (Sep), A2 (Aug), B1 (Aug and Sep) and C (Sep) — five
    meetings, four cells. Forums: A1, A2 twice (Apr, Oct), B1 and C — five forums, four cells."""
    k = khoi.khoi
    assert quarter_sum(k, "thematic_held", 3) == 5
    assert quarter_sum(k, "thematic_first", 3) == 4
    assert subtree(k, 8)["thematic_first"] == 2  # A2, B1
    assert subtree(k, 9)["thematic_first"] == 2  # A1, C (B1 already met in August)
    assert sum(subtree(k, m)["forum_held"] for m in range(1, 13)) == 5
    assert sum(subtree(k, m)["forum_first"] for m in range(1, 13)) == 4
    # Đảng bộ B: B1 and B2; B1's thematic meetings Feb, May, Aug, Sep.
    assert [subtree(khoi.b, m)["thematic_first"] for m in (2, 5, 8, 9)] == [1, 1, 1, 0]
    # The TCCS C is a cell itself: it has no row above it of its own, only in the Khối's.
    assert not SubtreeRollup.objects.filter(organisation=khoi.c).exists()
    assert_rollups_equal_a_recount()


@pytest.mark.django_db(transaction=False)
def test_a_deleted_meeting_moves_the_first_mark_and_the_sums_follow(khoi):
    b1 = khoi.cells["B1"]
    august = Meeting.objects.get(organisation=b1, kind=Meeting.Kind.THEMATIC, period_month=datetime.date(YEAR, 8, 1))
    august.delete()
    assert rollups.stored(b1.pk, datetime.date(YEAR, 9, 1))["thematic_first"] == 1  # September is B1's first now
    assert [subtree(khoi.b, m)["thematic_first"] for m in (8, 9)] == [0, 1]
    assert (subtree(khoi.khoi, 8)["thematic_first"], subtree(khoi.khoi, 9)["thematic_first"]) == (1, 3)
    assert quarter_sum(khoi.khoi, "thematic_first", 3) == 4  # still four cells met in Q3
    assert quarter_sum(khoi.khoi, "thematic_held", 3) == 4
    assert_rollups_equal_a_recount()
    assert_all_figures_agree(khoi.khoi, [Period(YEAR), Period(YEAR, quarter=3)])


@pytest.mark.django_db(transaction=False)
def test_a_moved_subtree_takes_its_sums_along(khoi):
    """B2 moves from Đảng bộ B to a đảng bộ bộ phận made under A: B's rows lose it, A's and the new
    one's gain it, the Khối's stay; every figure still equals the count from the meetings."""
    b2 = khoi.cells["B2"]
    regular_b = sum(subtree(khoi.b, m)["regular_held"] for m in range(1, 13))
    regular_a = sum(subtree(khoi.a, m)["regular_held"] for m in range(1, 13))
    regular_k = sum(subtree(khoi.khoi, m)["regular_held"] for m in range(1, 13))
    part = make_organisation(parent=khoi.a, kind=Organisation.Kind.DANG_BO_BO_PHAN, name="Đảng bộ bộ phận A9")
    organisation_move(organisation=b2, new_parent=part)
    # B2 held its regular meeting in each of the twelve months.
    assert sum(subtree(khoi.b, m)["regular_held"] for m in range(1, 13)) == regular_b - 12
    assert sum(subtree(khoi.a, m)["regular_held"] for m in range(1, 13)) == regular_a + 12
    assert sum(subtree(part, m)["regular_held"] for m in range(1, 13)) == 12
    assert sum(subtree(khoi.khoi, m)["regular_held"] for m in range(1, 13)) == regular_k
    assert_rollups_equal_a_recount()
    khoi.a.refresh_from_db()
    assert_all_figures_agree(khoi.khoi, [Period(YEAR), Period(YEAR, quarter=2)])
    assert_all_figures_agree(khoi.a, [Period(YEAR), Period(YEAR, month=7)])


@pytest.mark.django_db(transaction=False)
def test_a_cell_dissolved_before_the_period_is_left_out_of_the_sums_above_it(khoi):
    """B1 dissolved on 30/06: its meetings stay in the rows above it, and the figures of Q3 and Q4 take
    it away again (it is not a cell of those periods); the year still counts it."""
    b1 = khoi.cells["B1"]
    organisation_update(organisation=b1, active_to=datetime.date(YEAR, 6, 30))
    assert subtree(khoi.b, 9)["thematic_held"] == 1  # still in B's row
    for scope in (khoi.khoi, khoi.b):
        scope.refresh_from_db()
        assert_all_figures_agree(scope, [Period(YEAR), Period(YEAR, quarter=3), Period(YEAR, month=10)])
    # Q3 at the Khối: A1, A2, C (B1 is gone) — three cells held a thematic meeting.
    [khoi_row] = [
        r
        for r in rollups.meeting_counts(khoi.khoi, Period(YEAR, quarter=3), None, datetime.date(YEAR + 1, 1, 15))
        if r["grp"] == b1.path
    ] or [None]
    assert khoi_row is None  # grouped by cell, B1 is not among the cells of Q3
    by_tccs = {
        r["grp"]: r
        for r in rollups.meeting_counts(
            khoi.khoi, Period(YEAR, quarter=3), len(khoi.b.path), datetime.date(YEAR + 1, 1, 15)
        )
    }
    assert by_tccs[khoi.b.path]["thematic"] == 0  # B2 held none; B1's two are not counted
    assert sum(r["thematic"] for r in by_tccs.values()) == 3


@pytest.mark.django_db(transaction=False)
def test_drift_in_a_sum_above_the_cells_is_found_and_repaired(khoi):
    table = SubtreeRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET regular_held = regular_held + 5 WHERE organisation_id = %s AND month = %s",  # noqa: S608
            [khoi.khoi.pk, datetime.date(YEAR, 3, 1)],
        )
    drift = rollups.verify()
    assert drift.repaired == []
    assert drift.subtrees_repaired == [(khoi.khoi.pk, datetime.date(YEAR, 3, 1))]
    assert rollups.verify().count == 0
    assert_rollups_equal_a_recount()


@pytest.mark.django_db(transaction=False)
def test_the_recount_task_repairs_a_cell_row_without_spreading_its_error(khoi):
    """A cell row wrong behind the services' back: its repair redoes the sums above it from the cells,
    it does not add the difference from the wrong row into them."""
    from reports.models import MonthlyRollup
    from reports.tasks import rollup_recount

    a1 = khoi.cells["A1"]
    MonthlyRollup.objects.filter(organisation=a1, month=datetime.date(YEAR, 5, 1)).update(visits=9)
    rollup_recount(a1.pk, "2026-05-20")
    assert rollups.stored(a1.pk, datetime.date(YEAR, 5, 1))["visits"] == 1
    assert_rollups_equal_a_recount()


@pytest.mark.django_db(transaction=False)
def test_the_nightly_report_names_the_sums_it_repaired(khoi):
    from cells.models import AuditEntry

    SubtreeRollup.objects.filter(organisation=khoi.a, month=datetime.date(YEAR, 4, 1)).update(forum_first=7)
    assert rollups.verify_and_report().count == 1
    entry = AuditEntry.objects.get(action="reports.rollup.repair")
    assert (entry.after["cell_months"], entry.after["organisation_months"]) == (0, 1)
    assert entry.after["examples"] == ["Đảng bộ A 04/2026"]
    assert subtree(khoi.a, 4)["forum_first"] == 2  # A1 and A2 held their first forum of the year in April


def plant_drift(khoi) -> tuple[list, list]:
    """Rows made wrong behind the services' back, at every level: a cell row (A1's May), a sum on a
    đảng bộ cơ sở (B's June), the Khối's sum (July), a missing sum (A's August) and a sum stored on a
    cell, where none belongs (B2's August). The (cells, sums) ``verify`` should report."""
    from reports.models import MonthlyRollup

    may, jun, jul, aug = (datetime.date(YEAR, m, 1) for m in (5, 6, 7, 8))
    a1, b2 = khoi.cells["A1"], khoi.cells["B2"]
    MonthlyRollup.objects.filter(organisation=a1, month=may).update(regular_held=4)
    SubtreeRollup.objects.filter(organisation=khoi.b, month=jun).update(attendance_unexcused=3)
    SubtreeRollup.objects.filter(organisation=khoi.khoi, month=jul).update(scored={"regular|tot": 40})
    SubtreeRollup.objects.filter(organisation=khoi.a, month=aug).delete()
    SubtreeRollup.objects.create(
        organisation=b2, month=aug, regular_held=1, counted_at=datetime.datetime.now(datetime.UTC)
    )
    # A1's May, repaired first, is what the sums above it are checked against: they are right.
    return [(a1.pk, may)], sorted([(b2.pk, aug), (khoi.b.pk, jun), (khoi.a.pk, aug), (khoi.khoi.pk, jul)])


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("chunk", [1, 2, rollups.VERIFY_CHUNK])
def test_the_nightly_check_finds_drift_at_every_level_however_it_is_chunked(khoi, monkeypatch, chunk):
    """``verify`` reads a chunk of organisations at a time and checks the sums level by level from
    the deepest; chunked by one, two or 500 organisations it finds the same drift (``plant_drift``),
    and, repaired, the rows equal a recount from the meetings."""
    monkeypatch.setattr(rollups, "VERIFY_CHUNK", chunk)
    cells, sums = plant_drift(khoi)

    drift = rollups.verify()

    assert (drift.repaired, sorted(drift.subtrees_repaired)) == (cells, sums)
    assert not SubtreeRollup.objects.filter(organisation=khoi.cells["B2"]).exists()
    assert rollups.verify().count == 0
    assert_rollups_equal_a_recount()


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("chunk", [1, rollups.VERIFY_CHUNK])
def test_a_dry_run_reports_what_a_repair_would_and_writes_nothing(khoi, monkeypatch, chunk):
    """``verify(repair=False)`` checks each level against the corrections of the levels below as if
    made: A1's wrong May is not taken for drift in the sums above it, which are right."""
    from reports.models import MonthlyRollup

    monkeypatch.setattr(rollups, "VERIFY_CHUNK", chunk)
    cells, sums = plant_drift(khoi)
    stored = (
        sorted(MonthlyRollup.objects.values_list("organisation_id", "month", "regular_held", "scored")),
        sorted(SubtreeRollup.objects.values_list("organisation_id", "month", "regular_held", "scored")),
    )

    dry = rollups.verify(repair=False)

    assert (dry.repaired, sorted(dry.subtrees_repaired)) == (cells, sums)
    assert stored == (
        sorted(MonthlyRollup.objects.values_list("organisation_id", "month", "regular_held", "scored")),
        sorted(SubtreeRollup.objects.values_list("organisation_id", "month", "regular_held", "scored")),
    )
    repaired = rollups.verify()
    assert (repaired.repaired, sorted(repaired.subtrees_repaired)) == (cells, sums)
    assert rollups.verify(repair=False).count == 0


@pytest.mark.django_db(transaction=False)
def test_the_recount_task_redoes_the_sums_from_the_rows_below_them(khoi, django_assert_max_num_queries):
    """``repair`` of one cell-month redoes each sum above the cell from its children's rows (the
    deepest first): a wrong đảng bộ sum and the Khối's are both put right, in a bounded number of
    queries: a few per organisation above the cell (its children, their rows, its stored rows, the
    write), whatever the number of cells below it."""
    a1 = khoi.cells["A1"]
    may = datetime.date(YEAR, 5, 1)
    SubtreeRollup.objects.filter(organisation=khoi.a, month=may).update(visits=11)
    SubtreeRollup.objects.filter(organisation=khoi.khoi, month=may).update(visits=12)
    with django_assert_max_num_queries(24):  # 19 on SQLite: the cell's 7, then 6 per sum
        rollups.repair(a1.pk, datetime.date(YEAR, 5, 20))
    assert subtree(khoi.a, 5)["visits"] == sum(
        rollups.stored(khoi.cells[name].pk, may)["visits"]
        for name in ("A1", "A2", "A3")
        if rollups.stored(khoi.cells[name].pk, may)
    )
    assert rollups.verify().count == 0
    assert_rollups_equal_a_recount()
