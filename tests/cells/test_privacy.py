"""Members' personal data (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15; issue 21): the citizen ID and phone
are masked on every page and export but for the roles of cells/privacy.py, a reveal writes its audit row
first, a member sees their data and asks for a correction that an officer approves or refuses."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cells import services
from cells.models import AuditEntry, Member, PersonalDataCorrection
from cells.privacy import PERSONAL_DATA_NOTICE, can_see_personal, mask

pytestmark = pytest.mark.django_db

CCCD, PHONE = "045123456789", "0912345789"


@pytest.fixture
def member(people):
    member = people.members["member"]
    Member.objects.filter(pk=member.pk).update(citizen_id=CCCD, phone=PHONE)
    member.refresh_from_db()
    return member


def reveals():
    return AuditEntry.objects.filter(action__startswith="cells.member.personal_")


def test_masks_keep_the_last_digits_only():
    assert mask("citizen_id", CCCD) == "********6789"
    assert mask("phone", PHONE) == "0xx xxx x789"
    assert mask("phone", "+84 912 345 789") == "8xxxxxxx789"
    assert mask("citizen_id", "") == "" and mask("phone", None) == ""


def test_who_may_see_personal_data(people, tree, member):
    allowed = {
        name
        for name in ("admin", "viewer", "officer", "secretary", "clerk", "member", "other_secretary")
        if can_see_personal(getattr(people, name), member)
    }
    # Ban Tổ chức, the TCCS office, the cell's bí thư and the member themself; not the committee viewer,
    # the clerk, another cell's secretary.
    assert allowed == {"admin", "officer", "secretary", "member"}
    assert not can_see_personal(people.member, people.members["secretary"])  # not about another member


def test_the_member_page_shows_masks_and_hien_reveals_with_an_audit_row(client_for, people, member):
    client = client_for(people.secretary)
    page = client.get(reverse("cells:member_detail", args=[member.pk])).content.decode()
    assert CCCD not in page and PHONE not in page
    assert "********6789" in page and "0xx xxx x789" in page and "Hiện" in page
    assert not reveals().exists()

    response = client.post(reverse("cells:member_reveal", args=[member.pk, "citizen_id"]))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    page = response.content.decode()
    assert CCCD in page and PHONE not in page  # one field at a time
    entry = reveals().get()
    assert (entry.actor, entry.action, entry.object_id, entry.after) == (
        people.secretary,
        "cells.member.personal_reveal",
        str(member.pk),
        {"fields": ["citizen_id"]},
    )
    assert entry.organisation == member.organisation


@pytest.mark.parametrize("name", ["viewer", "clerk"])
def test_readers_without_the_right_see_masks_and_cannot_reveal(client_for, people, member, name):
    client = client_for(getattr(people, name))
    page = client.get(reverse("cells:member_detail", args=[member.pk])).content.decode()
    assert "********6789" in page and CCCD not in page
    assert f'action="{reverse("cells:member_reveal", args=[member.pk, "citizen_id"])}"' not in page
    assert client.post(reverse("cells:member_reveal", args=[member.pk, "citizen_id"])).status_code == 403
    assert not reveals().exists()


@pytest.mark.parametrize("name", ["other_secretary", "member"])
def test_another_cells_secretary_and_a_plain_member_get_404(client_for, people, member, name):
    other = member if name == "other_secretary" else people.members["secretary"]
    Member.objects.filter(pk=other.pk).update(citizen_id="001099000111")
    client = client_for(getattr(people, name))
    assert client.get(reverse("cells:member_detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("cells:member_reveal", args=[other.pk, "citizen_id"])).status_code == 404
    assert not reveals().exists()


def test_opening_the_edit_form_is_a_reveal_with_its_audit_row(client_for, people, member):
    response = client_for(people.officer).get(reverse("cells:member_update", args=[member.pk]))
    assert CCCD in response.content.decode()
    assert reveals().get().after == {"fields": ["citizen_id", "phone"]}


def test_the_phone_search_is_only_for_those_who_may_read_phones(client_for, people, member):
    url = reverse("cells:member_list") + "?q=345789"
    assert member.full_name in client_for(people.secretary).get(url).content.decode()
    assert member.full_name not in client_for(people.clerk).get(url).content.decode()


# --- exports --------------------------------------------------------------------------------------


def _texts(response) -> list[str]:
    workbook = load_workbook(io.BytesIO(response.content))
    return [
        str(cell.value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]


@pytest.mark.parametrize("name", ["viewer", "clerk"])
def test_the_member_list_export_of_a_masking_role_holds_no_full_citizen_id(client_for, people, member, name):
    response = client_for(getattr(people, name)).get(reverse("cells:member_export"))
    texts = _texts(response)
    assert not any(CCCD in text or PHONE in text for text in texts)
    assert "********6789" in texts and "0xx xxx x789" in texts
    assert any(str(PERSONAL_DATA_NOTICE) in text for text in texts)  # the file says what it holds
    entry = AuditEntry.objects.get(action="cells.personal_data.export")
    assert entry.actor == getattr(people, name) and entry.after["unmasked_rows"] == 0
    assert entry.after["rows"] == Member.objects.filter(organisation=member.organisation).count() or name == "viewer"


def test_the_secretarys_export_has_her_cells_values_and_is_logged(client_for, people, tree, member):
    response = client_for(people.secretary).get(reverse("cells:member_export") + f"?cell={tree.cell.pk}")
    assert CCCD in _texts(response)
    entry = AuditEntry.objects.get(action="cells.personal_data.export")
    assert entry.after["rows"] == entry.after["unmasked_rows"] == 2  # the cell's two members
    assert entry.organisation == tree.cell and entry.after["params"] == {"cell": str(tree.cell.pk)}


# --- the member's own data and corrections ------------------------------------------------------


def test_the_member_sees_the_data_held_about_them(client_for, people, member):
    page = client_for(people.member).get(reverse("cells:my_personal_data")).content.decode()
    assert CCCD in page and PHONE in page and member.organisation.name in page
    assert client_for(people.officer).get(reverse("cells:my_personal_data")).status_code == 403  # no member record


def test_a_correction_asked_on_the_page_shows_errors_next_to_the_fields(client_for, people, member):
    client = client_for(people.member)
    response = client.post(
        reverse("cells:my_personal_data"), {"field": "citizen_id", "new_value": "12345", "reason": "Cấp lại"}
    )
    assert "12 chữ số" in response.context["form"].errors["new_value"][0]
    response = client.post(
        reverse("cells:my_personal_data"), {"field": "date_of_birth", "new_value": "31/02/1980", "reason": "Sai ngày"}
    )
    assert "ngày/tháng/năm" in response.context["form"].errors["new_value"][0]
    response = client.post(reverse("cells:my_personal_data"), {"field": "citizen_id", "new_value": CCCD, "reason": "x"})
    assert "trùng với dữ liệu đang lưu" in response.context["form"].errors["new_value"][0]
    assert not PersonalDataCorrection.objects.exists()
    response = client.post(
        reverse("cells:my_personal_data"),
        {"field": "citizen_id", "new_value": "045123456780", "reason": "Cấp lại CCCD"},
    )
    assert response.status_code == 302
    correction = PersonalDataCorrection.objects.get()
    assert (correction.field, correction.new_value, correction.status) == ("citizen_id", "045123456780", "pending")
    response = client.post(
        reverse("cells:my_personal_data"), {"field": "citizen_id", "new_value": "045123456781", "reason": "Lại"}
    )
    assert "đang chờ xử lý" in response.context["form"].errors["field"][0]


def test_an_approved_correction_changes_the_value_with_before_and_after_in_the_audit(client_for, people, member):
    correction = services.correction_request(
        member=member, field="citizen_id", new_value="045123456780", reason="Cấp lại CCCD", by=people.member
    )
    page = client_for(people.officer).get(reverse("cells:correction_list")).content.decode()
    assert member.full_name in page and "********6780" in page and "045123456780" not in page
    response = client_for(people.officer).post(
        reverse("cells:correction_decide", args=[correction.pk]), {"decision": "approve", "note": ""}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.citizen_id == "045123456780"
    update = AuditEntry.objects.get(action="cells.member.update", object_id=str(member.pk))
    assert (update.actor, update.before, update.after) == (
        people.officer,
        {"citizen_id": CCCD},
        {"citizen_id": "045123456780"},
    )
    approval = AuditEntry.objects.get(action="cells.correction.approve")
    assert approval.before["citizen_id"] == CCCD and approval.after["citizen_id"] == "045123456780"
    assert approval.before["status"] == "pending" and approval.after["status"] == "approved"
    assert member.notifications.filter(kind="cells.correction").exists()


def test_a_refused_correction_changes_nothing_and_needs_a_reason(people, member):
    correction = services.correction_request(
        member=member, field="phone", new_value="0987 654 321", reason="Số mới", by=people.member
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="lý do không chấp nhận"):
        services.correction_decide(correction=correction, approve=False, note="", by=people.officer)
    services.correction_decide(correction=correction, approve=False, note="Chưa có giấy tờ", by=people.officer)
    member.refresh_from_db()
    assert member.phone == PHONE
    assert not AuditEntry.objects.filter(action="cells.member.update").exists()
    correction.refresh_from_db()
    assert (correction.status, correction.decided_by, correction.decision_note) == (
        "refused",
        people.officer,
        "Chưa có giấy tờ",
    )
    with pytest.raises(ValidationError, match="đã được xử lý"):
        services.correction_decide(correction=correction, approve=True, by=people.officer)


def test_an_approval_the_member_service_refuses_changes_nothing(people, member):
    """A citizen ID another member holds: the member service refuses, the request stays open."""
    Member.objects.filter(pk=people.members["secretary"].pk).update(citizen_id="045123456780")
    correction = services.correction_request(
        member=member, field="citizen_id", new_value="045123456780", reason="Cấp lại", by=people.member
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.correction_decide(correction=correction, approve=True, by=people.officer)
    member.refresh_from_db()
    correction.refresh_from_db()
    assert member.citizen_id == CCCD and correction.status == "pending"


def test_only_the_officers_over_the_member_decide(client_for, people, member):
    correction = services.correction_request(
        member=member, field="phone", new_value="0987654321", reason="Số mới", by=people.member
    )
    url = reverse("cells:correction_decide", args=[correction.pk])
    assert client_for(people.secretary).post(url, {"decision": "approve"}).status_code == 403
    assert client_for(people.other_secretary).post(url, {"decision": "approve"}).status_code == 404
    assert client_for(people.member).post(url, {"decision": "approve"}).status_code == 403
    member.refresh_from_db()
    assert member.phone == PHONE
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):  # nobody asks in another member's name
        services.correction_request(
            member=member, field="phone", new_value="0987654000", reason="x", by=people.secretary
        )


def test_the_dues_book_files_say_they_hold_personal_data_and_are_logged(client_for, people, tree, member):
    import datetime

    services.dues_month_open(organisation=tree.cell, month=datetime.date(2026, 3, 1), by=people.secretary)
    client = client_for(people.secretary)
    response = client.get(reverse("books:books_dues_xlsx", args=[tree.cell.pk]), {"thang": "03/2026"})
    assert str(PERSONAL_DATA_NOTICE) in _texts(response)
    response = client.get(reverse("books:books_dues_pdf", args=[tree.cell.pk]), {"thang": "03/2026"})
    assert response.status_code == 200
    logged = AuditEntry.objects.filter(action="cells.personal_data.export").order_by("pk")
    assert [(e.object_id, e.after["rows"], e.after["params"]) for e in logged] == [
        ("dues_ledger.xlsx", 2, {"month": "03/2026"}),
        ("dues_ledger.pdf", 2, {"month": "03/2026"}),
    ]


def test_the_change_log_shows_a_changed_citizen_id_masked(client_for, people, member):
    services.member_update(member=member, citizen_id="045123456780", by=people.officer)
    page = client_for(people.officer).get(reverse("audit:audit_list")).content.decode()
    assert "********6789" in page and "********6780" in page
    assert CCCD not in page and "045123456780" not in page
