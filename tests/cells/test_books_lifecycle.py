"""Member lifecycle: admission, full membership after 12 months, exemption end, suspension."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from cells import services
from cells.models import AuditEntry, Member, Suspension
from meetings import services as meeting_services
from meetings.models import Vote

from ..factories import make_member
from ..meetings.conftest import hold, plan

pytestmark = pytest.mark.django_db

# Pinned: TODAY was read at import, the services read the date when each test runs; a run crossing
# local midnight compared yesterday with today.
NOW = datetime.datetime(2027, 3, 10, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _pinned_day():
    with time_machine.travel(NOW, tick=False):
        yield


def years_ago(years, days=0):
    day = TODAY - datetime.timedelta(days=days)
    return (
        day.replace(year=day.year - years)
        if not (day.month == 2 and day.day == 29)
        else day.replace(year=day.year - years, day=28)
    )


@pytest.fixture
def probationary(tree):
    return make_member(
        organisation=tree.cell,
        full_name="Đảng Viên Dự Bị",
        status=Member.Status.PROBATIONARY,
        admission_decision_date=years_ago(1, days=20),
        admission_ceremony_date=years_ago(1, days=10),
    )


def test_full_membership_is_refused_before_twelve_months(probationary, people):
    too_early = probationary.probation_review_due() - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        services.member_confirm_full_membership(member=probationary, on=too_early, by=people.officer)
    assert "Chưa đủ 12 tháng" in error.value.message_dict["on"][0]
    probationary.refresh_from_db()
    assert probationary.status == Member.Status.PROBATIONARY


def cell_vote(cell, people, member, votes_for, meeting=None):
    """The cell's full-membership vote on ``member`` at yesterday's meeting: 2 official members, both present."""
    meeting = meeting or hold(plan(cell, chair=people.members["secretary"], clerk=people.members["member"]))
    return meeting_services.vote_record(
        meeting=meeting,
        question=f"Công nhận chính thức đồng chí {member.full_name}",
        kind=Vote.Kind.FULL_MEMBERSHIP,
        votes_for=votes_for,
        votes_against=2 - votes_for,
        subject=member,
    )


def test_full_membership_needs_the_cells_passed_two_thirds_vote(tree, probationary, people):
    on = probationary.probation_review_due()
    with pytest.raises(ValidationError) as error:
        services.member_confirm_full_membership(member=probationary, on=on, by=people.officer)
    assert "Chưa có nghị quyết của chi bộ" in error.value.message_dict["on"][0]
    failed = cell_vote(tree.cell, people, probationary, votes_for=1)  # 1 of 2: 3 < 4, below two thirds
    assert failed.eligible_count == 2 and not failed.passed
    with pytest.raises(ValidationError):
        services.member_confirm_full_membership(member=probationary, on=on, by=people.officer)
    assert Member.objects.get(pk=probationary.pk).status == Member.Status.PROBATIONARY
    cell_vote(tree.cell, people, probationary, votes_for=2, meeting=failed.meeting)  # 2 of 2
    services.member_confirm_full_membership(member=probationary, on=on, by=people.officer)
    assert Member.objects.get(pk=probationary.pk).status == Member.Status.OFFICIAL


def test_full_membership_vote_is_about_a_probationary_member_of_the_cell(tree, people, probationary):
    meeting = hold(plan(tree.cell, chair=people.members["secretary"], clerk=people.members["member"]))
    with pytest.raises(ValidationError) as error:
        meeting_services.vote_record(
            meeting=meeting,
            question="Công nhận",
            kind=Vote.Kind.FULL_MEMBERSHIP,
            votes_for=2,
            votes_against=0,
            subject=people.members["member"],
        )
    assert "dự bị của chi bộ" in error.value.message_dict["subject"][0]
    with pytest.raises(ValidationError):
        meeting_services.vote_record(
            meeting=meeting, question="Khác", kind=Vote.Kind.OTHER, votes_for=2, votes_against=0, subject=probationary
        )


def test_full_membership_after_twelve_months_with_an_audit_row(tree, probationary, people):
    cell_vote(tree.cell, people, probationary, votes_for=2)
    on = probationary.probation_review_due()
    services.member_confirm_full_membership(member=probationary, on=on, by=people.officer)
    probationary.refresh_from_db()
    assert probationary.status == Member.Status.OFFICIAL and probationary.full_membership_date == on
    entry = AuditEntry.objects.get(action="cells.member.confirm_full")
    assert entry.before["status"] == "du_bi" and entry.after["status"] == "chinh_thuc"


def test_official_member_cannot_be_confirmed_again(people):
    with pytest.raises(ValidationError):
        services.member_confirm_full_membership(member=people.members["member"], on=TODAY, by=people.officer)


def test_admission_records_the_dates_and_checks_their_order(tree, people):
    member = make_member(organisation=tree.cell, status=Member.Status.PROBATIONARY, admission_decision_date=None)
    with pytest.raises(ValidationError) as error:
        services.member_record_admission(
            member=member,
            decision_date=datetime.date(2026, 3, 1),
            ceremony_date=datetime.date(2026, 2, 1),
            by=people.officer,
        )
    assert "ceremony_date" in error.value.message_dict
    services.member_record_admission(
        member=member,
        decision_date=datetime.date(2026, 3, 1),
        ceremony_date=datetime.date(2026, 3, 20),
        by=people.officer,
    )
    member.refresh_from_db()
    assert member.probation_review_due() == datetime.date(2027, 3, 20)
    assert AuditEntry.objects.filter(action="cells.member.admit").exists()


def test_lifecycle_page_lists_the_probation_review_due(client_for, people, tree, probationary):
    page = client_for(people.secretary).get(reverse("books:books_lifecycle", args=[tree.cell.pk]))
    assert page.status_code == 200
    assert [m.full_name for m in page.context["probation_due"]] == ["Đảng Viên Dự Bị"]
    assert page.context["can_manage"] is False


def test_officer_confirms_through_the_page(client_for, tree, people, probationary):
    cell_vote(tree.cell, people, probationary, votes_for=2)
    url = reverse("books:books_member_full_membership", args=[probationary.pk])
    early = client_for(people.officer).post(url, {"on": (TODAY - datetime.timedelta(days=30)).strftime("%d/%m/%Y")})
    assert early.status_code == 200 and "Chưa đủ 12 tháng" in early.context["form"].errors["on"][0]
    done = client_for(people.officer).post(url, {"on": TODAY.strftime("%d/%m/%Y")})
    assert done.status_code == 302
    probationary.refresh_from_db()
    assert probationary.status == Member.Status.OFFICIAL


def test_exemption_end_and_suspension_pages(client_for, people):
    member = people.members["member"]
    exemption = services.member_exempt(member=member, reason="Sức khỏe", start=datetime.date(2026, 1, 1))
    client = client_for(people.officer)
    response = client.post(
        reverse("books:books_member_exemption_end", args=[member.pk]), {"exemption": exemption.pk, "on": "30/06/2026"}
    )
    assert response.status_code == 302
    exemption.refresh_from_db()
    assert exemption.end == datetime.date(2026, 6, 30)
    response = client.post(
        reverse("books:books_member_suspension", args=[member.pk]),
        {"reason": "Đang bị điều tra", "start": "01/07/2026"},
    )
    assert response.status_code == 302 and Suspension.objects.filter(member=member).exists()
    assert AuditEntry.objects.filter(action__in=["cells.exemption.end", "cells.suspension.create"]).count() == 2
