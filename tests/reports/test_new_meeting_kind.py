"""Adding a meeting kind is one entry in meetings/kinds.py (plus the migration of the model's choices):
a kind registered here shows in the meeting form, gets its agenda when created, and counts in the Khối's
figures by its flags (issue #16, "Done when")."""

import datetime

import pytest
from django.utils import timezone

from meetings import kinds, services
from meetings.forms import MeetingForm
from meetings.models import Meeting
from reports import figures
from reports.periods import Period

from .conftest import add_meeting

TODAY = datetime.date(2027, 1, 15)
TRIAL = kinds.MeetingKind(
    "thu_nghiem",
    "TRIAL",
    "Sinh hoạt thử nghiệm",
    ("opening", "discussion", "conclusion", "minutes", "close"),
    min_minutes=90,
    regular=True,
    scored=True,
    cell_meeting=True,
)


@pytest.fixture
def trial_kind():
    kinds.register(TRIAL)
    yield TRIAL
    kinds.unregister(TRIAL.code)


def _total(board, code):
    return {figure.target.code: figure for figure in board["total"]}[code]


def test_a_registered_kind_is_offered_gets_its_agenda_and_counts_in_the_figures(khoi, trial_kind):
    cell = khoi.cells["C"]
    form = MeetingForm(cell=cell)
    assert ("thu_nghiem", "Sinh hoạt thử nghiệm") in list(form.fields["kind"].choices)

    start = timezone.make_aware(datetime.datetime(2027, 2, 10, 14))
    planned = services.meeting_create(
        organisation=cell, kind="thu_nghiem", planned_start=start, planned_end=start + datetime.timedelta(hours=2)
    )
    assert [item.step for item in planned.agenda_items.order_by("order")] == list(TRIAL.agenda)
    assert planned.get_kind_display() == "Sinh hoạt thử nghiệm"
    assert Meeting.MIN_MINUTES == {"thuong_ky": 90, "ket_hop": 120} and kinds.min_minutes()["thu_nghiem"] == 90

    # Chi bộ C had no regular meeting for December 2026 (tests/reports/conftest.py): 67 of 72 cell-months.
    before = _total(figures.dashboard(scope=khoi.khoi, period=Period(2026), today=TODAY), "regular_months")
    assert (before.num, before.den) == (67, 72)
    add_meeting(cell, 12, kind="thu_nghiem", members=khoi.members["C"])
    after = _total(figures.dashboard(scope=khoi.khoi, period=Period(2026), today=TODAY), "regular_months")
    assert (after.num, after.den) == (68, 72)


def test_without_the_entry_the_kind_is_neither_offered_nor_counted(khoi):
    cell = khoi.cells["C"]
    assert "thu_nghiem" not in dict(MeetingForm(cell=cell).fields["kind"].choices)
    add_meeting(cell, 12, kind="thu_nghiem", members=khoi.members["C"])
    board = figures.dashboard(scope=khoi.khoi, period=Period(2026), today=TODAY)
    assert (_total(board, "regular_months").num, _total(board, "regular_months").den) == (67, 72)
