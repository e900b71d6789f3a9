"""The Khối dashboard reads the period's scored meetings once for its heat map and its quality chart
(issue #8), and both still give the hand-counted figures of tests/reports/conftest.py."""

import datetime

from cells.models import MemberCommitment
from meetings.models import Meeting
from reports import counting, dashboard, heatmap
from reports import figures as report_figures
from reports.periods import Period

from .conftest import add_meeting

TODAY = datetime.date(2027, 1, 15)


def test_one_read_of_the_scored_meetings_gives_the_quality_chart(khoi, django_assert_num_queries):
    period = Period(2026)
    with django_assert_num_queries(2):  # the organisations whose rows are summed, then their rows
        counts = heatmap.scored_meeting_counts(scope=khoi.khoi, period=period)
    with django_assert_num_queries(0):
        distribution = heatmap.quality_distribution(scope=khoi.khoi, period=period, counts=counts)
    assert distribution == heatmap.quality_distribution(scope=khoi.khoi, period=period)
    codes = [code for code, _name in distribution["levels"]]
    january = dict(zip(codes, distribution["months"][0]["counts"], strict=True))
    february = dict(zip(codes, distribution["months"][1]["counts"], strict=True))
    # January: 6 regular meetings held, A1's confirmed Tốt; February: 6 regular + B1's thematic, A1's Khá.
    assert (january["tot"], january[counting.UNSCORED]) == (1, 5)
    assert (february["kha"], february[counting.UNSCORED]) == (1, 6)


def test_the_same_read_gives_the_khoi_heat_map(khoi, django_assert_num_queries):
    period = Period(2026)
    counts = heatmap.scored_meeting_counts(scope=khoi.khoi, period=period)
    with django_assert_num_queries(2):  # the cells per group and the groups themselves; no meeting
        heat = heatmap.heat_map_groups(scope=khoi.khoi, period=period, today=TODAY, counts=counts)
    assert heat == heatmap.heat_map_groups(scope=khoi.khoi, period=period, today=TODAY)
    rows = {row["organisation"].name: row["slots"] for row in heat["rows"]}
    march, december = 2, 11
    assert [(rows[n][march]["held"], rows[n][march]["cells"], rows[n][march]["status"]) for n in rows] == [
        (2, 3, "few"),
        (2, 2, "all"),
        (1, 1, "all"),
    ]
    assert [(rows[n][december]["held"], rows[n][december]["cells"]) for n in rows] == [(3, 3), (2, 2), (0, 1)]
    # A1's January meeting is Tốt; the thematic meetings (B1's in February) are not regular ones.
    assert (rows["Đảng bộ A"][0]["held"], rows["Đảng bộ A"][0]["good"]) == (3, 1)
    assert rows["Đảng bộ B"][1]["held"] == 2


def test_khoi_dashboard_page_shows_what_the_selectors_count_on_their_own(khoi):
    period = Period(2026)
    page = dashboard.dashboard_page(user=khoi.users["admin"], scope=khoi.khoi, period=period, today=TODAY)
    assert page["distribution"] == heatmap.quality_distribution(scope=khoi.khoi, period=period)
    assert page["heat_groups"] == heatmap.heat_map_groups(scope=khoi.khoi, period=period, today=TODAY)
    assert page["heat"] is None


def test_a_tccs_dashboard_still_shows_its_cells_heat_map(khoi):
    period = Period(2026)
    page = dashboard.dashboard_page(user=khoi.users["admin"], scope=khoi.a, period=period, today=TODAY)
    assert page["heat_groups"] is None
    assert [row["cell"].name for row in page["heat"]["rows"]] == ["Chi bộ A1", "Chi bộ A2", "Chi bộ A3"]
    assert page["distribution"] == heatmap.quality_distribution(scope=khoi.a, period=period)


def test_visits_and_commitments_count_once_and_only_in_the_period(khoi):
    """The visits and commitments are read with an IN over the scope's guests and a join on the year's
    commitment (issue #8): a second guest, a guest of another year, a commitment of next year change nothing."""

    def figures():
        board = report_figures.dashboard(scope=khoi.khoi, period=Period(2026), today=TODAY)
        total = {figure.target.code: figure for figure in board["total"]}
        return [(total[code].num, total[code].den) for code in ("visit_quarters", "commitments")]

    assert figures() == [(11, 24), (27, 39)]
    visited = Meeting.objects.filter(organisation__in=khoi.cells.values(), upper_guests__isnull=False).first()
    visited.upper_guests.add(khoi.members["C"][0])  # a second guest at the same meeting
    last_year = add_meeting(khoi.cells["A3"], 6, kind=Meeting.Kind.THEMATIC, day=25)  # moved to 2025 below
    Meeting.objects.filter(pk=last_year.pk).update(period_month=datetime.date(2025, 6, 1))
    last_year.upper_guests.add(visited.upper_guests.first())
    member = khoi.members["A1"][0]
    MemberCommitment.objects.create(member=member, year=2027, content="Cam kết năm sau")
    assert figures() == [(11, 24), (27, 39)]
