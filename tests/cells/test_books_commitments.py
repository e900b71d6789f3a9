"""Yearly commitments (cam kết tu dưỡng, rèn luyện): the member confirms, the secretary records paper."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cells import selectors, services
from cells.models import AuditEntry, MemberCommitment

pytestmark = pytest.mark.django_db

# Pinned: a year read at import and "today" read in the test part at midnight when a run crosses it
# (a session started at 23:59 on 31/12 asked for last year's commitments on 01/01).
NOW = datetime.datetime(2027, 3, 10, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))
THIS_YEAR = NOW.year


@pytest.fixture(autouse=True)
def _pinned_day():
    with time_machine.travel(NOW, tick=False):
        yield


def test_member_confirms_own_commitment_in_the_portal(client_for, people):
    client = client_for(people.member)
    response = client.post(
        reverse("books:books_commitment_mine"), {"year": THIS_YEAR, "content": "Học tập và làm theo…"}
    )
    assert response.status_code == 302
    commitment = MemberCommitment.objects.get()
    assert commitment.member == people.members["member"] and commitment.source == "portal"
    assert commitment.confirmed_at is not None and commitment.recorded_by == people.member
    assert AuditEntry.objects.filter(action="cells.commitment.portal").exists()


def test_commitment_for_a_year_not_yet_open_is_refused_at_the_year(client_for, people):
    response = client_for(people.member).post(
        reverse("books:books_commitment_mine"), {"year": THIS_YEAR + 1, "content": "Cam kết"}
    )
    assert response.status_code == 200
    assert f"Năm {THIS_YEAR + 1} chưa mở" in response.context["form"].errors["year"][0]
    assert not MemberCommitment.objects.exists()


def test_only_the_member_may_confirm_their_commitment(people):
    with pytest.raises(ValidationError):
        services.commitment_confirm(member=people.members["member"], year=THIS_YEAR, content="x", by=people.secretary)


def test_user_without_member_record_gets_403(client_for, people):
    assert client_for(people.officer).get(reverse("books:books_commitment_mine")).status_code == 403


def test_secretary_records_a_paper_commitment_and_sees_who_has_not(client_for, people, tree):
    client = client_for(people.secretary)
    member = people.members["member"]
    url = reverse("books:books_commitment_paper", args=[tree.cell.pk, member.pk])
    # Signed on 5 January, or today in the year's first days (a paper signed in the future is refused).
    signed_on = min(datetime.date(THIS_YEAR, 1, 5), timezone.localdate())
    response = client.post(url, {"year": THIS_YEAR, "signed_on": f"{signed_on:%d/%m/%Y}", "content": "Bản giấy"})
    assert response.status_code == 302
    commitment = MemberCommitment.objects.get(member=member)
    assert commitment.source == "paper" and timezone.localdate(commitment.confirmed_at) == signed_on
    rows = {m.full_name: m for m in selectors.commitments_of_cell(cell=tree.cell, year=THIS_YEAR)}
    assert rows["Lê Văn Đảng Viên"].commitment_source == "paper"
    assert rows["Trần Thị Bí Thư"].commitment_id is None
    page = client.get(reverse("books:books_commitments", args=[tree.cell.pk]), {"nam": THIS_YEAR})
    assert [m.full_name for m in page.context["missing"]] == ["Trần Thị Bí Thư"]


def test_paper_commitment_for_a_member_of_another_cell_is_404(client_for, people, tree):
    url = reverse("books:books_commitment_paper", args=[tree.cell.pk, people.members["sibling"].pk])
    assert client_for(people.secretary).get(url).status_code == 404


def test_paper_commitment_in_the_future_is_refused(people):
    with pytest.raises(ValidationError) as error:
        services.commitment_record_paper(
            member=people.members["member"],
            year=THIS_YEAR,
            content="x",
            signed_on=timezone.localdate() + datetime.timedelta(days=3),
        )
    assert "signed_on" in error.value.message_dict
