"""The Khối's list of meeting scores is paged (issue #15): it used to stop at 100 rows."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from scoring.models import MeetingScore, ScoringScheme
from scoring.views import SCORES_PER_PAGE

pytestmark = pytest.mark.django_db
URL = reverse("scoring:index")


def _scores(cell, count):
    """``count`` scored regular meetings of ``cell``, one a month from 01/2015, newest month last."""
    meetings = []
    for n in range(count):
        month = datetime.date(2015 + n // 12, n % 12 + 1, 1)
        start = timezone.make_aware(datetime.datetime(month.year, month.month, 10, 14))
        meetings.append(
            Meeting(
                organisation=cell,
                kind=Meeting.Kind.REGULAR,
                period_month=month,
                planned_start=start,
                planned_end=start + datetime.timedelta(hours=2),
                state=Meeting.State.HELD,
            )
        )
    meetings = Meeting.objects.bulk_create(meetings)
    scheme = ScoringScheme.objects.order_by("pk").first()
    MeetingScore.objects.bulk_create(
        MeetingScore(meeting=m, scheme=scheme, scheme_version=scheme.version, scheme_snapshot={}, self_total=50)
        for m in meetings
    )
    return meetings


def test_130_scores_are_two_pages_and_the_second_holds_the_rest(
    client_for, tree, people, django_assert_max_num_queries
):
    meetings = _scores(tree.cell, 130)
    assert SCORES_PER_PAGE == 100
    client = client_for(people.admin)
    with django_assert_max_num_queries(20):
        first = client.get(URL)
    body = first.content.decode()
    assert "Trang 1/2" in body and "trang=2" in body
    on_first = [score.meeting_id for score in first.context["scores"]]
    assert len(on_first) == 100
    # Newest month first: the first page starts with the last meeting built.
    assert on_first[0] == meetings[-1].pk
    with django_assert_max_num_queries(20):
        second = client.get(URL, {"trang": 2})
    on_second = [score.meeting_id for score in second.context["scores"]]
    assert "Trang 2/2" in second.content.decode()
    assert len(on_second) == 30
    assert set(on_first) | set(on_second) == {m.pk for m in meetings} and not set(on_first) & set(on_second)


def test_a_page_number_past_the_end_shows_the_last_page(client_for, tree, people):
    _scores(tree.cell, 101)
    response = client_for(people.admin).get(URL, {"trang": 9})
    assert len(response.context["scores"]) == 1 and "Trang 2/2" in response.content.decode()


def test_one_page_shows_no_pager(client_for, tree, people):
    _scores(tree.cell, 3)
    body = client_for(people.admin).get(URL).content.decode()
    assert "Trang 1/1" not in body and "Phân trang" not in body
