"""The cell's meeting list answers in the same number of queries however many meetings it shows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, Task

from .conftest import plan

pytestmark = pytest.mark.django_db


def _number_all(cell) -> None:
    """Give every meeting a minutes number, as adoption does: the list then shows "NN-BB/…" for each."""
    for number, pk in enumerate(
        Meeting.objects.filter(organisation=cell).order_by("pk").values_list("pk", flat=True), start=1
    ):
        Meeting.objects.filter(pk=pk).update(minutes_number=number)


def _days_to_the_10th(months_ahead: int) -> int:
    """Days from today to the 10th of the month ``months_ahead`` after this one: one regular meeting a
    month (fixed steps of 30 days put two in one month on some days, which the month's rule refuses)."""
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 + months_ahead
    return (datetime.date(index // 12, index % 12 + 1, 10) - today).days


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_meeting_list_query_count_does_not_grow_with_the_meetings(client_for, tree, people):
    client = client_for(people.secretary)
    url = reverse("meetings:cell_list", args=[tree.cell.pk])
    for ahead in (1, 2):
        plan(tree.cell, days=_days_to_the_10th(ahead), by=people.secretary)
    _number_all(tree.cell)
    few = _queries(client, url)
    for ahead in range(3, 9):
        plan(tree.cell, days=_days_to_the_10th(ahead), by=people.secretary)
    _number_all(tree.cell)
    assert _queries(client, url) == few


def test_the_open_tasks_under_the_list_cost_no_query_each(client_for, tree, people):
    """Each task names its meeting, and a meeting's name includes its cell's: read with the tasks, not one
    query per task (it was 21 queries more on the secretary's list at province scale)."""
    client = client_for(people.secretary)
    url = reverse("meetings:cell_list", args=[tree.cell.pk])
    meetings = [plan(tree.cell, days=_days_to_the_10th(ahead), by=people.secretary) for ahead in range(1, 6)]

    def task_on(meeting):
        task = Task.objects.create(meeting=meeting, description=f"Nhiệm vụ của buổi {meeting.pk}")
        task.assignees.set([people.members["member"]])

    task_on(meetings[0])
    one = _queries(client, url)
    for meeting in meetings[1:]:
        task_on(meeting)
    response = client.get(url)
    assert all(f"Nhiệm vụ của buổi {meeting.pk}" in response.content.decode() for meeting in meetings)
    assert str(meetings[-1]) in response.content.decode()  # the meeting's name, with its cell's
    assert _queries(client, url) == one
