"""Member forms: Vietnamese errors next to the field, and nothing written on bad input."""

import datetime

import pytest
from django.urls import reverse

from cells.models import AuditEntry, Member

pytestmark = pytest.mark.django_db


def _valid(tree, **overrides):
    data = {
        "organisation": tree.cell.pk,
        "joined_on": "01/03/2026",
        "full_name": "Đỗ Minh Quân",
        "date_of_birth": "05/02/1985",
        "sex": "nam",
        "citizen_id": "045085001234",
        "phone": "0905123456",
        "email": "quan@example.vn",
        "party_card_number": "48012345",
        "admission_decision_date": "19/05/2010",
        "admission_ceremony_date": "19/05/2010",
        "full_membership_date": "19/05/2011",
        "status": "chinh_thuc",
        "workplace": "Sở Tài chính",
        "job_title": "Chuyên viên",
        "dues_category": "salaried",
        "dues_base": "6500000",
    }
    data.update(overrides)
    return data


def test_officer_creates_member_with_dd_mm_yyyy_dates(client_for, people, tree):
    response = client_for(people.officer).post(reverse("cells:member_create"), _valid(tree))
    member = Member.objects.get(full_name="Đỗ Minh Quân")
    assert response.status_code == 302 and response.url == reverse("cells:member_detail", args=[member.pk])
    assert member.date_of_birth == datetime.date(1985, 2, 5)
    assert member.memberships.get().start == datetime.date(2026, 3, 1)
    page = client_for(people.officer).get(response.url).content.decode()
    assert "05/02/1985" in page


def test_bad_date_shows_vietnamese_error_next_to_field_and_writes_nothing(client_for, people, tree):
    before = (Member.objects.count(), AuditEntry.objects.count())
    response = client_for(people.officer).post(reverse("cells:member_create"), _valid(tree, date_of_birth="31/02/1985"))
    assert response.status_code == 200
    assert "Nhập ngày theo dạng ngày/tháng/năm" in str(response.context["form"].errors["date_of_birth"])
    assert 'id="error_1_id_date_of_birth"' in response.content.decode()
    assert (Member.objects.count(), AuditEntry.objects.count()) == before


def test_required_name_message_is_vietnamese(client_for, people, tree):
    response = client_for(people.officer).post(reverse("cells:member_create"), _valid(tree, full_name=""))
    assert "Trường này là bắt buộc." in str(response.context["form"].errors["full_name"])


def test_duplicate_card_number_error_is_shown_on_the_field(client_for, people, tree):
    existing = people.members["sibling"]
    response = client_for(people.officer).post(
        reverse("cells:member_create"), _valid(tree, party_card_number=existing.party_card_number)
    )
    assert response.status_code == 200
    assert "party_card_number" in response.context["form"].errors
    assert not Member.objects.filter(full_name="Đỗ Minh Quân").exists()


def test_bad_citizen_id_is_rejected(client_for, people, tree):
    response = client_for(people.officer).post(reverse("cells:member_create"), _valid(tree, citizen_id="12345"))
    assert "Số CCCD gồm đúng 12 chữ số." in str(response.context["form"].errors["citizen_id"])


def test_officer_cannot_create_member_in_other_tenant_cell(client_for, people, tree):
    response = client_for(people.officer).post(reverse("cells:member_create"), _valid(tree, organisation=tree.other.pk))
    assert response.status_code == 200
    assert "organisation" in response.context["form"].errors
    assert not Member.objects.filter(full_name="Đỗ Minh Quân").exists()


def test_transfer_form_moves_member_and_redirects(client_for, people, tree):
    member = people.members["member"]
    response = client_for(people.officer).post(
        reverse("cells:member_transfer", args=[member.pk]),
        {"to": tree.sibling.pk, "on": "01/04/2026", "reason": "Điều động"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.organisation == tree.sibling


def test_exemption_end_before_start_is_rejected(client_for, people):
    member = people.members["member"]
    response = client_for(people.officer).post(
        reverse("cells:member_exempt", args=[member.pk]),
        {"reason": "Ốm dài ngày", "start": "01/04/2026", "end": "01/03/2026"},
    )
    assert response.status_code == 200 and "end" in response.context["form"].errors
    assert not member.exemptions.exists()


def test_member_list_filters(client_for, people, tree):
    client = client_for(people.admin)
    page = client.get(reverse("cells:member_list"), {"q": "Kế Toán"}).content.decode()
    assert "Phạm Văn Kế Toán" in page and "Lê Văn Đảng Viên" not in page
    page = client.get(reverse("cells:member_list"), {"cell": tree.other.pk}).content.decode()
    assert "Hoàng Thị Điện Lực" in page and "Phạm Văn Kế Toán" not in page
    page = client.get(reverse("cells:member_list"), {"status": "du_bi"}).content.decode()
    assert "Lê Văn Đảng Viên" not in page


def _identifier_errors(response) -> str:
    errors = response.context["form"].errors
    return " ".join(str(errors.get(key, "")) for key in ("citizen_id", "party_card_number"))


def test_another_tenants_identifiers_are_refused_without_confirming_they_exist(client_for, people, tree):
    """Entering numbers must not tell an officer which citizen IDs or cards are on file in another subtree."""
    outsider = people.members["other"]
    Member.objects.filter(pk=outsider.pk).update(citizen_id="045085009999", party_card_number="48099999")
    client = client_for(people.officer)
    before = (Member.objects.count(), AuditEntry.objects.count())
    for field, value in (("citizen_id", "045085009999"), ("party_card_number", "48099999")):
        response = client.post(reverse("cells:member_create"), _valid(tree, **{field: value}))
        assert response.status_code == 200 and field in response.context["form"].errors
        text = _identifier_errors(response)
        assert "tồn tại" not in text and "đã có" not in text, text
        assert "Không dùng được" in text
    member = people.members["member"]
    response = client.post(
        reverse("cells:member_update", args=[member.pk]),
        {**_valid(tree, citizen_id="045085009999"), "full_name": member.full_name},
    )
    assert "Không dùng được" in _identifier_errors(response) and "tồn tại" not in _identifier_errors(response)
    assert (Member.objects.count(), AuditEntry.objects.count()) == before


def test_a_number_held_inside_the_users_subtree_is_named_as_taken(client_for, people, tree):
    sibling = people.members["sibling"]
    Member.objects.filter(pk=sibling.pk).update(citizen_id="045085008888")
    response = client_for(people.officer).post(reverse("cells:member_create"), _valid(tree, citizen_id="045085008888"))
    assert "đã có ở một đảng viên khác" in _identifier_errors(response)
    # The Khối admin sees every member: told plainly as well.
    Member.objects.filter(pk=people.members["other"].pk).update(party_card_number="48099999")
    response = client_for(people.admin).post(reverse("cells:member_create"), _valid(tree, party_card_number="48099999"))
    assert "đã có ở một đảng viên khác" in _identifier_errors(response)


def test_the_import_does_not_confirm_another_tenants_numbers_either(client_for, people, tree):
    from tests.cells.test_member_excel import member_row, upload, workbook_bytes

    Member.objects.filter(pk=people.members["other"].pk).update(citizen_id="045085009999", party_card_number="48099999")
    Member.objects.filter(pk=people.members["sibling"].pk).update(party_card_number="48088888")
    rows = [
        member_row(1, cell=tree.cell, **{"Số CCCD": "045085009999", "Số thẻ đảng viên": "48099999"}),
        member_row(2, cell=tree.cell, **{"Số thẻ đảng viên": "48088888"}),
    ]
    preview = upload(client_for(people.officer), workbook_bytes(rows)).context["preview"]
    first, second = preview.rows
    assert not any("đã có" in error or "tồn tại" in error for error in first.errors), first.errors
    assert sum("không dùng được" in error for error in first.errors) == 2, first.errors
    assert "Số thẻ đảng viên 48088888 đã có trong hệ thống." in second.errors
