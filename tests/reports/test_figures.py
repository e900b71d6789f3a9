"""The §6 figures of the hand-built Khối (tests/reports/conftest.py), against numbers worked out by hand."""

import datetime

import pytest

from reports import counting, drilldown, figures, heatmap
from reports import warnings as report_warnings
from reports.periods import Period
from reports.templatetags import dashboard as dashboard_tags
from scoring.models import AnnualRating

TODAY = datetime.date(2027, 1, 15)


def by_code(figures):
    return {figure.target.code: figure for figure in figures}


@pytest.fixture
def board(khoi):
    return figures.dashboard(scope=khoi.khoi, period=Period(2026), today=TODAY)


def test_khoi_totals_match_the_hand_count(khoi, board):
    total = by_code(board["total"])
    expect = {
        # TCCS A (HTXSNV), B (HTTNV), C (HTNV)
        "tccs_good": (2, 3, False),
        "tccs_excellent": (1, 3, True),
        "tccs_failed": (0, 3, True),
        # chi bộ A1 HTTNV, A2 HTXSNV, A3 KHTNV, B1 HTTNV, B2 not decided
        "cell_good": (3, 5, False),
        "cell_excellent": (1, 5, True),
        "cell_failed": (1, 4, False),
        # 20 members rated: 18 HTTNV or better, 3 HTXSNV
        "member_good": (18, 20, True),
        "member_excellent": (3, 20, True),
        f"doc_{khoi.yearly.pk}": (5, 6, False),
        f"doc_{khoi.termly.pk}": (2, 6, False),
        # 40 active members, one exempt: 39; commitments in A1 (7), A2 (7), B1 (7), C (6)
        "commitments": (27, 39, False),
        "regular_months": (67, 72, False),
        "attendance_meetings": (64, 67, False),
        "unexcused": (2, 67, False),
        # A1 4, A2 4, A3 2, B1 3, B2 0, C 3 (its December is missing)
        "thematic_quarters": (16, 24, False),
        "forum_cells": (4, 6, False),
        # A1 4, A2 1 (Jan; March was cancelled), A3 0, B1 2, B2 1, C 3
        "visit_quarters": (11, 24, False),
    }
    for code, (num, den, met) in expect.items():
        assert (total[code].num, total[code].den, total[code].met) == (num, den, met), code
    mean = (64 * 100 + 500 / 7 + 500 / 6 + 500 / 6) / 67
    assert total["attendance_mean"].value == pytest.approx(mean)
    assert total["attendance_mean"].met is True
    assert total["regular_months"].display == "93,1 % (67/72)"
    # Every other document type: nobody has it.
    other_docs = [
        f
        for code, f in total.items()
        if code.startswith("doc_") and code not in (f"doc_{khoi.yearly.pk}", f"doc_{khoi.termly.pk}")
    ]
    assert all((f.num, f.den) == (0, 6) for f in other_docs)


def test_rows_per_tccs(khoi, board):
    rows = {row["organisation"].name: by_code(row["figures"]) for row in board["rows"]}
    assert list(rows) == ["Đảng bộ A", "Đảng bộ B", "Chi bộ C"]
    pairs = {name: {code: (f.num, f.den) for code, f in figures.items()} for name, figures in rows.items()}
    assert pairs["Đảng bộ A"]["regular_months"] == (33, 36)
    assert pairs["Đảng bộ B"]["regular_months"] == (23, 24)
    assert pairs["Chi bộ C"]["regular_months"] == (11, 12)
    assert pairs["Đảng bộ A"]["thematic_quarters"] == (10, 12)
    assert pairs["Đảng bộ B"]["thematic_quarters"] == (3, 8)
    assert pairs["Đảng bộ A"]["visit_quarters"] == (5, 12)
    assert pairs["Chi bộ C"]["visit_quarters"] == (3, 4)
    assert pairs["Đảng bộ A"]["commitments"] == (14, 20)
    assert pairs["Đảng bộ B"]["commitments"] == (7, 13)
    assert pairs["Chi bộ C"]["commitments"] == (6, 6)
    assert pairs["Đảng bộ A"]["attendance_meetings"] == (31, 33)
    assert pairs["Chi bộ C"]["unexcused"] == (1, 11)
    assert rows["Chi bộ C"]["commitments"].met is True
    # B has no decided KHTNV and no chi bộ that failed; A has A3.
    assert (rows["Đảng bộ A"]["cell_failed"].num, rows["Đảng bộ A"]["cell_failed"].met) == (1, False)
    assert rows["Đảng bộ B"]["cell_failed"].met is True
    # C is a TCCS with no chi bộ under it: the chi bộ targets do not apply to it.
    assert rows["Chi bộ C"]["cell_good"].met is None
    assert rows["Chi bộ C"]["cell_failed"].met is None


def test_a_quarter_counts_only_its_months(khoi):
    board = figures.dashboard(scope=khoi.khoi, period=Period(2026, quarter=1), today=TODAY)
    total = by_code(board["total"])
    # Q1: A2 March cancelled, everything else held: 17 of 18 cell-months.
    assert (total["regular_months"].num, total["regular_months"].den) == (17, 18)
    # Q1 thematic: A1 (Mar), A2 (Feb), A3 (Jan), B1 (Feb), C (Mar): 5 of 6 cells.
    assert (total["thematic_quarters"].num, total["thematic_quarters"].den) == (5, 6)
    assert (total["unexcused"].num, total["attendance_meetings"].num, total["attendance_meetings"].den) == (1, 16, 17)


def test_months_not_started_are_not_counted_and_the_month_in_progress_is_pending(khoi):
    board = figures.dashboard(scope=khoi.khoi, period=Period(2026), today=datetime.date(2026, 3, 10))
    total = by_code(board["total"])
    # January and February have ended: 12 cell-months, all held. March is in progress: five cells have
    # held it already (met and due), A2's was cancelled and the planning deadline (25/03) has not
    # passed: pending, not failed. April to December have not started.
    figure = total["regular_months"]
    assert (figure.num, figure.den, figure.pending) == (17, 17, 1)
    assert figure.status == "in_progress" and figure.met is None and figure.on_track is True
    assert figure.pending_display == "1 chi bộ-tháng đang thực hiện"


def test_the_tccs_dashboard_counts_its_subtree_only(khoi):
    board = figures.dashboard(scope=khoi.a, period=Period(2026), today=TODAY)
    total = by_code(board["total"])
    assert (total["regular_months"].num, total["regular_months"].den) == (33, 36)
    assert [row["organisation"].name for row in board["rows"]] == ["Chi bộ A1", "Chi bộ A2", "Chi bộ A3"]
    a3 = by_code(board["rows"][2]["figures"])
    assert (a3["regular_months"].num, a3["thematic_quarters"].num, a3["visit_quarters"].num) == (10, 2, 0)
    assert (total["tccs_good"].den, total["cell_good"].num, total["cell_good"].den) == (1, 2, 3)


def test_heat_map_marks_missing_planned_held_and_levels(khoi):
    heat = heatmap.heat_map(scope=khoi.khoi, period=Period(2026), today=TODAY)
    rows = {row["cell"].name: row["slots"] for row in heat["rows"]}
    assert len(rows) == 6 and len(heat["months"]) == 12
    assert rows["Chi bộ A1"][0]["level"] == "tot" and rows["Chi bộ A1"][1]["level"] == "kha"
    assert rows["Chi bộ A1"][2]["status"] == "held" and rows["Chi bộ A1"][2]["label"] == "✓"
    assert rows["Chi bộ A2"][2]["status"] == "missing"  # cancelled
    # B1's May meeting was noticed and never held: once May has ended, the month is missing.
    assert rows["Chi bộ B1"][4]["status"] == "missing"
    assert [slot["status"] for slot in rows["Chi bộ A3"]].count("missing") == 2
    assert rows["Chi bộ C"][11]["status"] == "missing"


def test_quality_distribution_counts_levels_per_month(khoi):
    distribution = heatmap.quality_distribution(scope=khoi.khoi, period=Period(2026))
    codes = [code for code, _name in distribution["levels"]]
    january = dict(zip(codes, distribution["months"][0]["counts"], strict=True))
    # January: 6 regular meetings held, A1's confirmed Tốt; no thematic meeting on its own.
    assert january["tot"] == 1 and january[counting.UNSCORED] == 5
    february = dict(zip(codes, distribution["months"][1]["counts"], strict=True))
    # February: 6 regular + B1's thematic meeting; A1's is Khá.
    assert february["kha"] == 1 and february[counting.UNSCORED] == 6
    chart = dashboard_tags.quality_chart(distribution)
    assert chart["highest"] == 7 and len(chart["labels"]) == 12


def test_warnings_count_the_records_behind_them(khoi):
    counts = {
        w["code"]: w["count"] for w in report_warnings.warnings(scope=khoi.khoi, period=Period(2026), today=TODAY)
    }
    assert counts == {
        "no_plan": 1,  # the period's last month, December: C has no meeting
        # A1 December, held on 15/12, not adopted; B1 May, noticed and never recorded as held.
        "minutes_overdue": 2,
        "low_attendance": 3,  # A1 June, A3 January, C October
        "unexcused": 2,
        "overdue_tasks": 1,
        "no_visit": 4,  # the period's last quarter, Q4 2026: A2, A3, B2 and C (its December is missing)
        "unpaid_dues": 1,
    }


def test_drill_down_lists_the_records_behind_a_figure(khoi):
    records = drilldown.drill_records("regular", scope=khoi.khoi, period=Period(2026), today=TODAY)
    assert {(cell.name, cell.done, cell.required) for cell in records if cell.done < cell.required} == {
        ("Chi bộ A2", 11, 12),
        ("Chi bộ A3", 10, 12),
        ("Chi bộ B1", 11, 12),
        ("Chi bộ C", 11, 12),
    }
    low = drilldown.drill_records("low_attendance", scope=khoi.khoi, period=Period(2026), today=TODAY)
    assert sorted((m.organisation.name, m.period_month.month, m.present, m.base) for m in low) == [
        ("Chi bộ A1", 6, 5, 7),
        ("Chi bộ A3", 1, 5, 6),
        ("Chi bộ C", 10, 5, 6),
    ]
    missing = drilldown.drill_records("commitments", scope=khoi.khoi, period=Period(2026), part=khoi.b, today=TODAY)
    assert sum(1 for m in missing if m.signed_at is None) == 6  # B2's six members
    docs = drilldown.drill_records(
        "documents", scope=khoi.khoi, period=Period(2026), params={"type": khoi.yearly.pk}, today=TODAY
    )
    assert [c.name for c in docs if c.adopted_on is None] == ["Chi bộ B2"]
    ratings = drilldown.drill_records(
        "org_ratings", scope=khoi.khoi, period=Period(2026), params={"kind": "cell", "level": "khtnv"}, today=TODAY
    )
    assert [o.name for o in ratings] == ["Chi bộ A3"]


def test_empty_tables_give_no_judgement_instead_of_errors(db):
    from cells.models import Organisation
    from tests.factories import make_organisation

    khoi = make_organisation(kind=Organisation.Kind.KHOI, name="Khối trống")
    board = figures.dashboard(scope=khoi, period=Period(2026), today=TODAY)
    assert board["rows"] == []
    assert all(figure.met is None for figure in board["total"])


def test_drill_down_lists_agree_with_the_figures(khoi, board):
    total = by_code(board["total"])
    period = Period(2026)
    for metric, code in (
        ("regular", "regular_months"),
        ("thematic", "thematic_quarters"),
        ("visits", "visit_quarters"),
    ):
        cells = drilldown.drill_records(metric, scope=khoi.khoi, period=period, today=TODAY)
        assert sum(cell.done for cell in cells) == total[code].num, metric
    forums = drilldown.drill_records("forums", scope=khoi.khoi, period=period, today=TODAY)
    assert sum(1 for cell in forums if cell.done >= 1) == total["forum_cells"].num
    meetings = drilldown.drill_records("attendance", scope=khoi.khoi, period=period, today=TODAY)
    assert len(meetings) == total["attendance_meetings"].den
    unexcused = drilldown.drill_records("unexcused", scope=khoi.khoi, period=period, today=TODAY)
    assert len(unexcused) == total["unexcused"].num


def test_quality_drill_lists_the_meetings_of_a_level(khoi):
    records = drilldown.drill_records(
        "quality", scope=khoi.khoi, period=Period(2026), params={"level": "tot", "month": "1"}, today=TODAY
    )
    assert [(m.organisation.name, m.period_month.month) for m in records] == [("Chi bộ A1", 1)]
    unscored = drilldown.drill_records(
        "quality", scope=khoi.khoi, period=Period(2026), params={"level": counting.UNSCORED, "month": "2"}, today=TODAY
    )
    assert len(unscored) == 6


def test_khoi_heat_map_counts_cells_that_met_per_tccs_and_month(khoi):
    heat = heatmap.heat_map_groups(scope=khoi.khoi, period=Period(2026), today=TODAY)
    rows = {row["organisation"].name: row["slots"] for row in heat["rows"]}
    march, december = 2, 11
    assert [(rows[n][march]["held"], rows[n][march]["cells"], rows[n][march]["status"]) for n in rows] == [
        (2, 3, "few"),
        (2, 2, "all"),
        (1, 1, "all"),
    ]
    assert [(rows[n][december]["held"], rows[n][december]["cells"]) for n in rows] == [(3, 3), (2, 2), (0, 1)]
    assert (rows["Đảng bộ A"][0]["held"], rows["Đảng bộ A"][0]["good"]) == (3, 1)  # A1 January: Tốt


def test_rating_targets_read_a_dash_until_the_upper_committee_decides(khoi):
    # The year's ratings are self-assessed and proposed, none decided yet (every year until December).
    AnnualRating.objects.update(decided_level="", state=AnnualRating.State.PROPOSED)
    total = by_code(figures.dashboard(scope=khoi.khoi, period=Period(2026), today=TODAY)["total"])
    for code in (
        "tccs_good",
        "tccs_excellent",
        "tccs_failed",
        "cell_good",
        "cell_excellent",
        "cell_failed",
        "member_good",
        "member_excellent",
    ):
        assert total[code].den == 0 and total[code].met is None and total[code].display == "—", code
    # The other targets are not touched.
    assert (total["regular_months"].num, total["regular_months"].den) == (67, 72)


@pytest.mark.parametrize(
    "moment",
    [
        "2027-01-01 00:30",
        "2027-01-31 23:30",
        "2027-06-26 00:30",
        "2027-09-30 23:30",
        "2027-10-01 00:30",
        "2028-02-29 23:30",
    ],
)
def test_a_year_that_has_ended_reads_the_same_on_any_later_day(khoi, time_machine, moment):
    """The clock sweep of issue #13 over the hand-built 2026: once the year is over, its figures, their
    statuses and the heat map no longer depend on the day they are read (the local day, at 00:30 too)."""
    time_machine.move_to(f"{moment} +07:00", tick=False)
    total = by_code(figures.dashboard(scope=khoi.khoi, period=Period(2026))["total"])
    assert (total["regular_months"].num, total["regular_months"].den, total["regular_months"].pending) == (67, 72, 0)
    assert (total["thematic_quarters"].num, total["thematic_quarters"].den) == (16, 24)
    assert (total["visit_quarters"].num, total["visit_quarters"].den) == (11, 24)
    assert (total["forum_cells"].num, total["forum_cells"].den) == (4, 6)
    assert all(figure.status in ("met", "failed", "none") for figure in total.values())
    heat = heatmap.heat_map(scope=khoi.khoi, period=Period(2026))
    statuses = [slot["status"] for row in heat["rows"] for slot in row["slots"]]
    assert statuses.count("held") == 67 and statuses.count("missing") == 5


def test_the_month_in_progress_of_the_hand_built_year(khoi, time_machine):
    """Read on 02/12/2026 at 23:30: January to November are due (66 cell-months, 62 held); December's five
    held meetings are met, C (no December meeting yet, the deadline is the 25th) is pending."""
    time_machine.move_to("2026-12-02 23:30 +07:00", tick=False)
    total = by_code(figures.dashboard(scope=khoi.khoi, period=Period(2026))["total"])
    regular = total["regular_months"]
    assert (regular.num, regular.den, regular.pending, regular.status) == (67, 71, 1, "failed")
    december = by_code(figures.dashboard(scope=khoi.khoi, period=Period(2026, month=12))["total"])
    assert (december["regular_months"].display, december["regular_months"].status) == ("100,0 % (5/5)", "in_progress")
    # Q4 is in progress: the cells that held a thematic meeting (A1 Dec, A2 Nov) are met, four are pending.
    thematic = december["thematic_quarters"]
    assert (thematic.num, thematic.den, thematic.pending) == (2, 2, 4)
    # Forums: a year in progress owes none yet; the two cells without one are pending, not failed.
    forums = total["forum_cells"]
    assert (forums.num, forums.den, forums.pending, forums.status) == (4, 4, 2, "in_progress")
    heat = {
        row["cell"].name: row["slots"][11]["status"]
        for row in heatmap.heat_map(scope=khoi.khoi, period=Period(2026))["rows"]
    }
    assert heat["Chi bộ C"] == "unplanned"
    warnings = {w["code"]: w for w in report_warnings.warnings(scope=khoi.khoi, period=Period(2026))}
    assert warnings["no_plan"]["count"] == 1
    assert warnings["no_plan"]["label"] == (
        "Chi bộ chưa lên kế hoạch sinh hoạt thường kỳ tháng 12/2026 (hạn ngày 25/12/2026)"
    )
