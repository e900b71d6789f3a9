"""Bad input on the member forms: a clear error next to the field or a correct save, never a 500 or a half write."""

import pytest
from django.urls import reverse
from hypothesis import event, given
from hypothesis import strategies as st

from cells.models import AuditEntry, CellMembership, Exemption, Member

from .conftest import any_text, assert_rejected_cleanly, date_text, number_text, parse_vn_date, rolled_back, row_counts

pytestmark = pytest.mark.django_db

MEMBER_TABLES = (Member, CellMembership, AuditEntry)
TEXT_FIELDS = ("full_name", "phone", "email", "workplace", "job_title")
DATE_FIELDS = ("date_of_birth", "admission_decision_date", "admission_ceremony_date", "full_membership_date")

member_overrides = st.fixed_dictionaries(
    {},
    optional={
        "full_name": any_text,
        "date_of_birth": date_text,
        "admission_decision_date": date_text,
        "admission_ceremony_date": date_text,
        "full_membership_date": date_text,
        "citizen_id": st.one_of(number_text, any_text),
        "party_card_number": any_text,
        "phone": any_text,
        "email": st.one_of(st.emails().map(str), any_text),
        "workplace": any_text,
        "job_title": any_text,
        "status": st.sampled_from(["chinh_thuc", "du_bi", "", "khac", "\x00"]),
        "sex": st.sampled_from(["nam", "nu", "", "x"]),
        "dues_base": number_text,
    },
)


def member_data(**overrides):
    data = {
        "full_name": "Nguyễn Văn Thử",
        "date_of_birth": "15/03/1985",
        "sex": "nam",
        "citizen_id": "",
        "phone": "",
        "email": "",
        "party_card_number": "",
        "admission_decision_date": "19/05/2010",
        "admission_ceremony_date": "20/05/2010",
        "full_membership_date": "20/05/2011",
        "status": "chinh_thuc",
        "workplace": "",
        "job_title": "",
        "dues_category": "salaried",
        "dues_base": "0",
    }
    data.update(overrides)
    return data


def assert_round_trip(member, sent: dict):
    for key, value in sent.items():
        saved = getattr(member, key)
        if key in TEXT_FIELDS:
            assert saved == value.strip(), key
        elif key in DATE_FIELDS:
            assert saved == parse_vn_date(value), key
        elif key in ("citizen_id", "party_card_number"):
            assert saved == (value.strip() or None), key


@given(overrides=member_overrides)
def test_member_create_saves_what_was_typed_or_says_why_not(client_for, people, tree, overrides):
    client = client_for(people.officer)
    data = member_data(organisation=tree.cell.pk, joined_on="01/01/2024", **overrides)
    with rolled_back():
        before = row_counts(*MEMBER_TABLES)
        response = client.post(reverse("cells:member_create"), data)
        event(f"status {response.status_code}")
        if response.status_code == 302:
            member = Member.objects.latest("pk")
            assert row_counts(*MEMBER_TABLES) == {key: count + 1 for key, count in before.items()}
            assert_round_trip(member, overrides)
            assert client.get(response["Location"]).status_code == 200
        else:
            assert_rejected_cleanly(response, before, *MEMBER_TABLES)


@given(overrides=member_overrides)
def test_member_update_saves_what_was_typed_or_changes_nothing(client_for, people, overrides):
    client = client_for(people.officer)
    member = Member.objects.get(pk=people.members["member"].pk)  # not the object an earlier example changed
    data = member_data(**{"full_name": member.full_name, "party_card_number": member.party_card_number, **overrides})
    with rolled_back():
        before = row_counts(*MEMBER_TABLES)
        response = client.post(reverse("cells:member_update", args=[member.pk]), data)
        event(f"status {response.status_code}")
        member.refresh_from_db()
        if response.status_code == 302:
            assert_round_trip(member, overrides)
            assert client.get(response["Location"]).status_code == 200
        else:
            assert_rejected_cleanly(response, before, *MEMBER_TABLES)
            assert Member.objects.get(pk=member.pk).full_name == "Lê Văn Đảng Viên"


@given(reason=any_text, resolution_ref=any_text, start=date_text, end=st.one_of(st.just(""), date_text))
def test_exemption_is_recorded_as_typed_or_refused(client_for, people, reason, resolution_ref, start, end):
    client = client_for(people.officer)
    member = Member.objects.get(pk=people.members["member"].pk)  # not the object an earlier example changed
    tables = (Exemption, AuditEntry)
    with rolled_back():
        before = row_counts(*tables)
        response = client.post(
            reverse("cells:member_exempt", args=[member.pk]),
            {"reason": reason, "resolution_ref": resolution_ref, "start": start, "end": end},
        )
        event(f"status {response.status_code}")
        if response.status_code == 302:
            exemption = Exemption.objects.get(member=member)
            assert (exemption.reason, exemption.resolution_ref) == (reason.strip(), resolution_ref.strip())
            assert (exemption.start, exemption.end) == (parse_vn_date(start), parse_vn_date(end))
            assert client.get(response["Location"]).status_code == 200
        else:
            assert_rejected_cleanly(response, before, *tables)


@given(
    to=st.sampled_from(["sibling", "", "own", "other", "999999999", "-1", "abc", "\x00"]), on=date_text, reason=any_text
)
def test_transfer_moves_the_member_or_changes_nothing(client_for, people, tree, to, on, reason):
    client = client_for(people.officer)
    member = Member.objects.get(pk=people.members["member"].pk)  # not the object an earlier example changed
    target = {"sibling": tree.sibling.pk, "own": tree.cell.pk, "other": tree.other.pk}.get(to, to)
    tables = (CellMembership, AuditEntry)
    with rolled_back():
        before = row_counts(*tables)
        response = client.post(
            reverse("cells:member_transfer", args=[member.pk]), {"to": target, "on": on, "reason": reason}
        )
        event(f"status {response.status_code}")
        member.refresh_from_db()
        if response.status_code == 302:
            assert to in ("sibling", "")
            assert member.organisation_id == (tree.sibling.pk if to == "sibling" else None)
            closed = member.memberships.get(organisation=tree.cell)
            assert closed.end == parse_vn_date(on)
        else:
            assert_rejected_cleanly(response, before, *tables)
            assert member.organisation_id == tree.cell.pk
