"""The cell's meeting list answers in the same number of queries however many meetings it shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from meetings.models import Meeting

from .conftest import plan

pytestmark = pytest.mark.django_db


def _number_all(cell) -> None:
    """Give every meeting a minutes number, as adoption does: the list then shows "NN-BB/…" for each."""
    for number, pk in enumerate(Meeting.objects.filter(organisation=cell).order_by("pk").values_list("pk", flat=True),
                                start=1):
        Meeting.objects.filter(pk=pk).update(minutes_number=number)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_meeting_list_query_count_does_not_grow_with_the_meetings(client_for, tree, people):
    client = client_for(people.secretary)
    url = reverse("meetings:cell_list", args=[tree.cell.pk])
    for days in (3, 40):
        plan(tree.cell, days=days, by=people.secretary)
    _number_all(tree.cell)
    few = _queries(client, url)
    for days in (70, 100, 130, 160, 190, 220):
        plan(tree.cell, days=days, by=people.secretary)
    _number_all(tree.cell)
    assert _queries(client, url) == few
