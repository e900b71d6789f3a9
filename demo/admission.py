"""The demo Khối's admission pipeline (issue #18, item 4): two quần chúng ưu tú of the featured cell.

``build_demo_admission(today=...)`` runs after the meeting history: one candidate has the class certificate
and is preparing the documents; the other was voted on at the cell's latest held meeting (all the official
members present for), proposed by the đảng ủy and decided so that the ceremony falls due within the reminder's
days from ``today`` (cells/admission.py). Direct inserts, no audit rows, like the rest of the demo.
"""

from __future__ import annotations

import datetime

from django.db import transaction

from cells import admission
from cells.models import Candidate, Member, Organisation
from meetings import kinds
from meetings.models import Meeting, Vote
from meetings.votes import vote_base


def _decision_day(today: datetime.date) -> datetime.date:
    """The latest decision day whose ceremony is due within the reminder's days from ``today``."""
    for back in range(30, 60):
        day = today - datetime.timedelta(days=back)
        due = admission.ceremony_due(day)
        if due - datetime.timedelta(days=admission.REMINDER_DAYS_BEFORE) <= today <= due:
            return day
    return today - datetime.timedelta(days=35)


@transaction.atomic
def build_demo_admission(*, today: datetime.date, featured_cell: Organisation) -> dict[str, int]:
    officials = list(
        Member.objects.filter(
            organisation=featured_cell, status=Member.Status.OFFICIAL, state=Member.State.ACTIVE
        ).order_by("pk")[:3]
    )
    if len(officials) < 3:
        return {"candidates": 0}
    decision = _decision_day(today)
    meeting = (
        Meeting.objects.filter(organisation=featured_cell, state__in=kinds.HELD_STATES, actual_start__date__lt=decision)
        .order_by("-actual_start")
        .first()
    )
    first = Candidate.objects.create(
        organisation=featured_cell,
        full_name="Hồ Thị Thu Trang",
        date_of_birth=datetime.date(1997, 8, 14),
        sex=Member.Sex.FEMALE,
        workplace="Phòng Kế hoạch",
        mentor_1=officials[1],
        mentor_2=officials[2],
        proposed_on=today - datetime.timedelta(days=120),
        class_name="Lớp bồi dưỡng nhận thức về Đảng khóa 2",
        class_date=today - datetime.timedelta(days=60),
        certificate_number="214",
        has_application=True,
        has_biography=True,
    )
    created = 1
    if meeting is not None:
        voted_on = meeting.actual_start.date()
        second = Candidate.objects.create(
            organisation=featured_cell,
            full_name="Lê Quang Minh",
            date_of_birth=datetime.date(1995, 2, 28),
            sex=Member.Sex.MALE,
            workplace="Phòng Tài chính",
            mentor_1=officials[0],
            mentor_2=officials[1],
            proposed_on=voted_on - datetime.timedelta(days=200),
            class_name="Lớp bồi dưỡng nhận thức về Đảng khóa 1",
            class_date=voted_on - datetime.timedelta(days=150),
            certificate_number="187",
            has_application=True,
            has_biography=True,
            has_references=True,
            has_reviews=True,
            has_verification=True,
            documents_date=voted_on - datetime.timedelta(days=20),
            proposal_number="12-TTr/ĐU",
            proposal_date=max(voted_on, decision - datetime.timedelta(days=10)),
            decision_number="45-QĐ/ĐUK",
            decision_date=decision,
            decision_level=Candidate.DecisionLevel.UPPER_COMMITTEE,
            decision_signer="Phó Bí thư Đảng ủy Khối",
        )
        base = vote_base(meeting)
        vote = Vote.objects.create(
            meeting=meeting,
            question=f"Đề nghị kết nạp quần chúng {second.full_name} vào Đảng",
            kind=Vote.Kind.ADMISSION,
            votes_for=base.present,
            votes_against=0,
            eligible_count=base.denominator,
            candidate=second,
        )
        # Voted during the meeting, as the rest of its record (tests/demo/demo_checks.py).
        Vote.objects.filter(pk=vote.pk).update(
            created_at=meeting.actual_start + (meeting.actual_end - meeting.actual_start) / 2
        )
        created += 1
    return {"candidates": created, "first": first.pk}
