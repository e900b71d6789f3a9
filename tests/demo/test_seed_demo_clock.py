"""The demo generator on every day of the year: ``seed_demo`` run with the clock moved to the days
where month, quarter, year and planning-deadline arithmetic goes wrong, and the demo's invariants
checked at each (``tests/demo/demo_checks.py``).

Times are local (Asia/Ho_Chi_Minh): 23:30 is the evening's last half hour, 00:30 a new month's first;
10:00 on 02/12 and 14:30 on 15/06 fall in the hours of the day's meetings.
"""

import datetime
import random
import zoneinfo
from collections import defaultdict
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from cells.models import Organisation
from demo import cells as demo
from demo.meetings import window_start
from meetings.models import Meeting

from . import demo_checks

pytestmark = pytest.mark.django_db

LOCAL = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
MOMENTS = [
    datetime.datetime(*moment, tzinfo=LOCAL)
    for moment in (
        (2027, 1, 1, 0, 30),  # a new year's first hour: last year's figures, this year's none yet
        (2027, 1, 1, 23, 30),
        (2027, 1, 31, 23, 30),  # a 31-day month's last evening
        (2028, 2, 29, 23, 30),  # a leap day
        (2027, 3, 1, 23, 30),  # after February's 28 days
        (2026, 6, 25, 23, 30),  # the planning deadline; the window starts with the term (01/06/2025)
        (2026, 6, 26, 23, 30),  # the day after the deadline
        (2027, 6, 15, 14, 30),  # in the afternoon meetings' hours: those of the day are over or ahead
        (2027, 9, 30, 23, 30),  # a quarter's last evening
        (2027, 10, 1, 0, 30),  # the next quarter's first hour
        (2026, 12, 2, 10, 0),  # mid-morning: meetings of the day under way
        (2026, 12, 2, 23, 30),
        (2026, 12, 31, 23, 30),  # the year's last evening
    )
]


# A quarter of the demo scale, with its featured đảng bộ and cell and a year of history: the
# invariants are per row, and a dozen builds of the full demo would take a minute.
CLOCK_SCALE = demo.Scale(tccs=6, cells=20, members=300)


@pytest.fixture
def clock_scale(monkeypatch):
    monkeypatch.setitem(demo.SCALES, "clock", CLOCK_SCALE)
    monkeypatch.setitem(demo.HISTORY_MONTHS, "clock", 12)
    return "clock"


@pytest.mark.parametrize("moment", MOMENTS, ids=[f"{m:%Y-%m-%d_%H%M}" for m in MOMENTS])
def test_the_demo_holds_together_on_any_day(moment, clock_scale, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(moment, tick=False):
        call_command("seed_demo", scale=clock_scale, stdout=StringIO())
        now = timezone.now()
        assert timezone.localtime(now) == moment
        assert demo_checks.all_problems(now) == []

        # Every cell held its regular meeting in at least ten of the twelve months before this one (the
        # generator skips one or two in a few cells, never in the featured one), and has this month's
        # held or notified: the window and the current month line up with the calendar.
        today = timezone.localdate()
        first, this_month = window_start(today=today, months=12), today.replace(day=1)
        met = defaultdict(set)
        for cell_id, month in Meeting.objects.filter(
            kind__in=Meeting.REGULAR_KINDS,
            period_month__gte=first,
            period_month__lt=this_month,
            state__in=demo_checks.HELD,
        ).values_list("organisation_id", "period_month"):
            met[cell_id].add(month)
        cells = list(Organisation.objects.filter(kind__in=Organisation.CELL_KINDS).values_list("pk", flat=True))
        assert min(len(met[cell]) for cell in cells) >= 10
        assert len(met[demo_checks.featured_cell().pk]) == 12
        current = Meeting.objects.filter(
            kind__in=Meeting.REGULAR_KINDS,
            period_month=this_month,
            state__in=(Meeting.State.NOTIFIED, *demo_checks.HELD),
        )
        assert sorted(current.values_list("organisation_id", flat=True)) == sorted(cells)


def test_a_meeting_that_would_be_under_way_at_seed_time_moves_to_another_weekday():
    from demo.meetings import _Builder

    def builder_at(moment):
        with time_machine.travel(moment, tick=False):
            return _Builder(rng=random.Random(1), today=moment.date(), months=12, featured_cell_id=None)

    def at(day, hour):
        return datetime.datetime(2026, 12, day, hour, tzinfo=LOCAL)

    wednesday = builder_at(at(2, 9))  # Wednesday 02/12/2026, 09:00
    assert wednesday._clear_of_now(at(2, 8)) == at(3, 8)  # under way: the next day, still ahead
    assert wednesday._clear_of_now(at(2, 14)) == at(2, 14)  # ahead
    assert wednesday._clear_of_now(at(1, 8)) == at(1, 8)  # over
    # On the month's last weekday the next one is in January: the previous weekday instead (over by then).
    thursday = builder_at(at(31, 9))
    assert thursday._clear_of_now(at(31, 8)) == at(30, 8)
