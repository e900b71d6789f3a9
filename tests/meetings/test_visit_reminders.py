"""The reminder to the assigned visitor (issue #18, item 3; rule ``visit_upcoming``, the Khối's own
requirement, no Party source): once when the meeting he confirmed is 2 local days ahead, once when 14 days
or fewer are left in the quarter and he has confirmed no meeting; a withdrawn assignment gets nothing.

Hand-worked dates: the Kho bạc meeting on 01/01/2027 14:00 is 2 days ahead on 30/12/2026 (not on 29/12, 3
days); Q4/2026 ends 31/12/2026, so its 14 last days start 17/12/2026 (31 − 17 = 14; on 16/12, 15 are
left); Q1/2027 ends 31/03/2027, from 17/03/2027.
"""

import datetime

import pytest

from cells.models import Notification
from meetings import reminders, services
from meetings.models import Meeting, ReminderDelivery, ReminderRule
from tests.meetings import test_visit_plan
from tests.meetings.test_reminders import at, local, run

pytestmark = pytest.mark.django_db

bo, clock = test_visit_plan.bo, test_visit_plan.clock  # the visit plan's đảng bộ and its committee members

Q4_2026, Q1_2027 = datetime.date(2026, 10, 1), datetime.date(2027, 1, 1)


def sent() -> list[tuple[str, str]]:
    return sorted(
        ReminderDelivery.objects.filter(rule__code="visit_upcoming").values_list("member__full_name", "occurrence")
    )


@pytest.fixture
def plan(bo, tree, people, time_machine):
    at(time_machine, "2026-12-01 08:00")
    members = list(bo.treasury.members.order_by("pk"))
    meeting = services.meeting_create(
        organisation=bo.treasury,
        kind=Meeting.Kind.REGULAR,
        planned_start=local("2027-01-01 14:00"),
        planned_end=local("2027-01-01 16:00"),
        chair=members[0],
        clerk=members[1],
    )
    confirmed = services.visit_assign(upper=tree.tccs, cell=bo.treasury, quarter=Q1_2027, visitor=bo.visitor)
    services.visit_confirm(assignment=confirmed, meeting=meeting)
    open_q4 = services.visit_assign(upper=tree.tccs, cell=bo.treasury, quarter=Q4_2026, visitor=bo.visitor)
    withdrawn = services.visit_assign(upper=tree.tccs, cell=tree.cell, quarter=Q4_2026, visitor=bo.guest)
    services.visit_unassign(assignment=withdrawn)
    return type("Plan", (), {"meeting": meeting, "confirmed": confirmed, "open_q4": open_q4})


def test_the_visitor_is_reminded_once_14_days_before_the_quarter_ends_without_a_confirmed_meeting(
    plan, bo, time_machine
):
    at(time_machine, "2026-12-16 23:30")  # 15 days left
    assert run("visit_upcoming") == 0
    at(time_machine, "2026-12-17 00:30")  # 16/12 17:30 UTC, but 17/12 in Hà Nội: 14 days left
    assert run("visit_upcoming") == 1
    assert sent() == [(bo.visitor.full_name, "2026-Q4-unconfirmed")]
    note = Notification.objects.get(kind="meetings.reminder.visit_upcoming")
    assert "31/12/2026" in note.body and bo.treasury.name in note.subject
    at(time_machine, "2026-12-31 23:30")  # the quarter's last minutes: already sent
    assert run("visit_upcoming") == 0
    # the withdrawn assignment (Văn phòng, Đỗ Văn Kho Bạc) was never reminded
    assert [name for name, _ in sent()] == [bo.visitor.full_name]


def test_the_visitor_is_reminded_once_2_local_days_before_the_confirmed_meeting(plan, bo, time_machine):
    # the Q4 assignment is confirmed elsewhere: only the meeting's reminder is left to see
    at(time_machine, "2026-12-29 23:30")  # 3 days before 01/01/2027
    before = ReminderDelivery.objects.count()
    run("visit_upcoming")
    assert not [occ for _, occ in sent() if occ.startswith("meeting-")]
    at(time_machine, "2026-12-30 00:30")  # still 29/12 in UTC
    run("visit_upcoming")
    assert [occ for _, occ in sent() if occ.startswith("meeting-")] == [f"meeting-{plan.meeting.pk}-2d"]
    at(time_machine, "2026-12-30 23:30")
    run("visit_upcoming")
    at(time_machine, "2027-01-01 08:00")
    run("visit_upcoming")
    assert len([occ for _, occ in sent() if occ.startswith("meeting-")]) == 1
    assert ReminderDelivery.objects.count() - before == 2  # the meeting's and Q4's unconfirmed one


def test_in_q1_2027_the_confirmed_assignment_is_not_reminded_and_a_new_open_one_is(plan, bo, tree, time_machine):
    at(time_machine, "2027-02-01 08:00")
    services.visit_assign(upper=tree.tccs, cell=tree.cell, quarter=Q1_2027, visitor=bo.guest)
    at(time_machine, "2027-03-16 23:30")  # 15 days left of Q1
    assert run("visit_upcoming") == 0
    at(time_machine, "2027-03-17 00:30")
    assert run("visit_upcoming") == 1
    assert sent() == [(bo.guest.full_name, "2027-Q1-unconfirmed")]


def test_parameters_change_the_warning_and_bad_ones_are_refused(plan, bo, time_machine):
    assert reminders.validate_params("visit_upcoming", {"days_before": 3, "quarter_days_left": 7}) == []
    assert reminders.validate_params("visit_upcoming", {"days_before": -1}) == [
        "“days_before” phải là số nguyên không âm."
    ]
    assert reminders.validate_params("visit_upcoming", {"from_day": 1})
    ReminderRule.objects.filter(code="visit_upcoming").update(params={"days_before": 3, "quarter_days_left": 7})
    at(time_machine, "2026-12-24 08:00")  # 7 days left
    run("visit_upcoming")
    assert sent() == [(bo.visitor.full_name, "2026-Q4-unconfirmed")]
    at(time_machine, "2026-12-29 08:00")  # 3 days before 01/01/2027
    run("visit_upcoming")
    assert (bo.visitor.full_name, f"meeting-{plan.meeting.pk}-3d") in sent()


def test_the_query_count_does_not_grow_with_assignments(plan, bo, tree, time_machine, django_assert_num_queries):
    at(time_machine, "2026-12-30 08:00")  # the meeting's reminder and Q4's unconfirmed one
    rule = ReminderRule.objects.get(code="visit_upcoming")
    with django_assert_num_queries(2):
        assert len(list(reminders.rule_visit_upcoming(rule, today=datetime.date(2026, 12, 30), now=None))) == 2
