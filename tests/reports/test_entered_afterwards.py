"""A meeting kept on paper and entered afterwards counts on the dashboards like any held meeting (issue 19, item 3).

The hand-built Khối of conftest.py has no December 2026 meeting in Chi bộ C: 67 of 72 cell-months held.
On 03/01/2027 C's secretary enters that meeting (15/12/2026) from its paper minutes, everyone present.
"""

import datetime

import pytest
from django.urls import reverse

from cells.models import Role
from meetings.models import Attendance, Meeting
from reports import drilldown, heatmap
from reports import figures as report_figures
from reports.periods import Period

from ..factories import UserFactory, grant

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 1, 3)


def by_code(figures):
    return {figure.target.code: figure for figure in figures}


def figures(khoi):
    board = report_figures.dashboard(scope=khoi.khoi, period=Period(2026), today=TODAY)
    rows = {row["organisation"].name: by_code(row["figures"]) for row in board["rows"]}
    return by_code(board["total"]), rows


def test_a_meeting_of_last_month_entered_from_paper_counts_on_the_dashboards(khoi, time_machine, client):
    time_machine.move_to("2027-01-03 10:00 +07:00", tick=False)
    cell, members = khoi.cells["C"], khoi.members["C"]
    total, rows = figures(khoi)
    assert (total["regular_months"].num, total["regular_months"].den) == (67, 72)
    assert (rows["Chi bộ C"]["regular_months"].num, rows["Chi bộ C"]["regular_months"].den) == (11, 12)
    assert (total["attendance_meetings"].num, total["attendance_meetings"].den) == (64, 67)

    secretary = UserFactory(username="bi_thu_c")
    grant(secretary, cell, Role.CELL_SECRETARY)
    client.force_login(secretary, backend="django.contrib.auth.backends.ModelBackend")
    data = {
        "kind": Meeting.Kind.REGULAR,
        "period_month": "",
        "actual_start": "15/12/2026 14:00",
        "actual_end": "15/12/2026 16:00",
        "place": "Hội trường",
        "mode": Meeting.Mode.IN_PERSON,
        "topic": "",
        "chair": members[0].pk,
        "clerk": members[1].pk,
        "guests": "",
        "notice_date": "05/12/2026",
        "adopted_on": "",
        "conclusion": "Chi bộ thống nhất kết luận tháng 12.",
        **{f"p_{member.pk}": Attendance.Presence.PRESENT for member in members},
    }
    response = client.post(reverse("meetings:record_past", args=[cell.pk]), data)
    assert response.status_code == 302
    meeting = Meeting.objects.get(organisation=cell, period_month=datetime.date(2026, 12, 1))
    assert meeting.is_entered_afterwards and (meeting.attendance_present, meeting.attendance_base) == (6, 6)

    # Held (not yet adopted on the portal) is enough to count, as for any meeting.
    total, rows = figures(khoi)
    assert (total["regular_months"].num, total["regular_months"].den) == (68, 72)
    assert (rows["Chi bộ C"]["regular_months"].num, rows["Chi bộ C"]["regular_months"].den) == (12, 12)
    # 6/6 present: one more meeting above 85 %.
    assert (total["attendance_meetings"].num, total["attendance_meetings"].den) == (65, 68)
    heat = heatmap.heat_map(scope=khoi.khoi, period=Period(2026), today=TODAY)
    row = next(row for row in heat["rows"] if row["cell"] == cell)
    assert row["slots"][11]["status"] == "held"
    drill = drilldown.drill_records("regular", scope=khoi.khoi, period=Period(2026), today=TODAY)
    assert {(c.name, c.done, c.required) for c in drill if c.done < c.required} == {
        ("Chi bộ A2", 11, 12),
        ("Chi bộ A3", 10, 12),
        ("Chi bộ B1", 11, 12),
    }  # C is no longer short

    # Adopted afterwards: still counted once.
    client.post(reverse("meetings:adopt", args=[meeting.pk]))
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.MINUTES_ADOPTED
    total, _rows = figures(khoi)
    assert (total["regular_months"].num, total["regular_months"].den) == (68, 72)
