"""How many queries the facts of a meeting cost, pinned on the code before the measures were registered
one by one (scoring/measures.py): a loader several measures share runs once, and a loader that only one
branch reads (the cell's chi ủy, its phó bí thư, the minutes' completeness) runs only on that branch."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cells import services as cell_services
from cells.models import Position
from meetings.models import Meeting
from scoring import selectors
from tests.factories import make_member

from .conftest import build_meeting, local

pytestmark = pytest.mark.django_db


def _queries(meeting) -> int:
    meeting = Meeting.objects.get(pk=meeting.pk)
    with CaptureQueriesContext(connection) as captured:
        selectors.meeting_facts(meeting)
    return len(captured.captured_queries)


def test_a_cell_with_a_chi_uy_first_meeting_and_the_one_after_it(tree, cell_of_ten):
    first = build_meeting(tree.cell, start=local(2026, 2, 10), tasks=[("Việc A", [cell_of_ten[0]])])
    second = build_meeting(tree.cell, start=local(2026, 3, 17))
    # The chi ủy's cell summary is read (no preparatory meeting); the second also reads last month's tasks.
    # (One more each since 03/12/2026: the minutes' completeness asks for online questions still open.)
    assert (_queries(first), _queries(second)) == (25, 26)


def test_a_cell_without_chi_uy_reads_its_pho_bi_thu(tree, people):
    secretary = people.members["sibling"]
    others = [make_member(organisation=tree.sibling, full_name=f"Kế Toán {n}") for n in range(2, 5)]
    cell_services.position_assign(
        member=secretary, organisation=tree.sibling, kind=Position.Kind.SECRETARY, start=datetime.date(2025, 6, 1)
    )
    alone = build_meeting(tree.sibling, start=local(2026, 2, 10))
    cell_services.position_assign(
        member=others[0],
        organisation=tree.sibling,
        kind=Position.Kind.DEPUTY_SECRETARY,
        start=datetime.date(2025, 6, 1),
    )
    # No chi ủy: the phó bí thư is looked up (one query more than the chi ủy's cell, which has none to read).
    assert _queries(alone) == 26
