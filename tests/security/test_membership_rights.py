"""Issue 21: a membership ends everything it granted (a transfer, a removal, a suspension), and an
exemption's start and end reach the meeting lists.

Before: ``member_transfer`` ended positions only. A secretary moved to another cell still created and
published meetings in the old one and read its members' ID numbers; a moved member still read the old
cell's minutes PDFs and documents, kept its future meetings, and their old RSVP link still recorded an
answer — while neither could see the new cell.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cells import selectors, services
from cells.models import AuditEntry, Member, Role, RoleAssignment
from meetings import services as meeting_services
from meetings.models import Attendance, Meeting

pytestmark = pytest.mark.django_db


def future_meeting(cell, *, days=10, publish=True, by=None):
    start = timezone.now() + datetime.timedelta(days=days)
    meeting = meeting_services.meeting_create(
        organisation=cell,
        kind=Meeting.Kind.EXTRAORDINARY,
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        place="Hội trường",
        by=by,
    )
    return meeting_services.meeting_publish(meeting=meeting, by=by) if publish else meeting


def on_list(meeting, member) -> bool:
    return meeting.attendances.filter(member=member).exists()


def test_a_transferred_secretary_gets_404_on_the_old_cell_and_the_member_role_on_the_new_one(
    client_for, people, tree, objects
):
    secretary = people.members["secretary"]
    draft = future_meeting(tree.cell, publish=False)
    today = timezone.localdate()
    services.member_transfer(member=secretary, to=tree.sibling, on=today, reason="Điều động", by=people.officer)

    client = client_for(people.secretary)
    for name, kwargs in [
        ("meetings:detail", {"pk": objects["meeting"]}),
        ("meetings:update", {"pk": draft.pk}),
        ("meetings:create", {"cell_pk": tree.cell.pk}),
        ("meetings:cell_list", {"cell_pk": tree.cell.pk}),
        ("cells:organisation_detail", {"pk": tree.cell.pk}),
        ("cells:member_detail", {"pk": objects["member"]}),  # the old cell's members' ID numbers
        ("books:books_cell", {"pk": tree.cell.pk}),
    ]:
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 404, name
    assert client.post(reverse("meetings:publish", args=[draft.pk])).status_code == 404
    assert Meeting.objects.get(pk=draft.pk).state == Meeting.State.DRAFT
    assert people.members["member"].full_name not in client.get(reverse("cells:member_list")).content.decode()

    assert selectors.roles_over(people.secretary, tree.sibling) == {Role.MEMBER}
    assert client.get(reverse("meetings:cell_list", args=[tree.sibling.pk])).status_code == 200
    ended = RoleAssignment.objects.get(user=people.secretary, organisation=tree.cell, role=Role.CELL_SECRETARY)
    assert ended.end == today - datetime.timedelta(days=1)
    assert AuditEntry.objects.filter(action="cells.role.end", object_id=str(ended.pk), actor=people.officer).exists()
    granted = RoleAssignment.objects.get(user=people.secretary, organisation=tree.sibling, role=Role.MEMBER)
    assert granted.start == today and granted.end is None
    assert AuditEntry.objects.filter(action="cells.role.assign", object_id=str(granted.pk)).exists()


def test_a_moved_member_loses_the_old_cells_minutes_documents_future_meetings_and_rsvp_link(
    client_for, people, tree, objects
):
    member = people.members["member"]
    upcoming = future_meeting(tree.cell, by=people.secretary)
    token = meeting_services.rsvp_token(meeting=upcoming, member=member)
    base_before = Meeting.objects.get(pk=upcoming.pk).attendance_base
    client = client_for(people.member)
    assert client.get(reverse("meetings:detail", args=[upcoming.pk])).status_code == 200

    services.member_transfer(member=member, to=tree.sibling, on=timezone.localdate(), by=people.officer)

    for name, kwargs in [
        ("meetings:minutes_pdf", {"pk": objects["meeting"]}),
        ("meetings:minutes", {"pk": objects["meeting"]}),
        ("meetings:resolution_pdf", {"pk": objects["meeting"]}),
        ("meetings:document_download", {"pk": objects["meeting"], "document_pk": objects["meeting_document"]}),
        ("meetings:detail", {"pk": upcoming.pk}),
        ("meetings:cell_list", {"cell_pk": tree.cell.pk}),
    ]:
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 404, name
    assert not on_list(upcoming, member)
    assert Meeting.objects.get(pk=upcoming.pk).attendance_base == base_before - 1
    assert AuditEntry.objects.filter(action="meetings.attendance.withdraw").count() == 1
    # The adopted meeting keeps them: it was held while they belonged.
    assert on_list(Meeting.objects.get(pk=objects["meeting"]), member)

    url = reverse("meetings:rsvp", args=[token])
    assert client.logout() is None
    assert client.get(url).status_code == 400
    assert client.post(url, {"answer": "yes"}).status_code == 400
    assert not Attendance.objects.filter(meeting=upcoming, member=member).exists()
    assert client_for(people.member).get(reverse("meetings:cell_list", args=[tree.sibling.pk])).status_code == 200


def test_an_rsvp_link_for_a_day_the_member_was_not_in_the_cell_is_refused(people, tree):
    member = people.members["member"]
    upcoming = future_meeting(tree.cell)
    token = meeting_services.rsvp_token(meeting=upcoming, member=member)
    assert meeting_services.rsvp_read_token(token)[1].member == member
    # The row is still there (as if written by hand), but the membership ended before the meeting's day.
    member.memberships.update(end=timezone.localdate())
    with pytest.raises(meeting_services.ValidationError, match="không hợp lệ"):
        meeting_services.attendance_rsvp(token=token, attending=True)
    assert Attendance.objects.get(meeting=upcoming, member=member).rsvp == Attendance.Rsvp.NONE


def test_a_transfer_dated_later_keeps_rights_and_lists_until_then(people, tree):
    member = people.members["member"]
    soon, later = future_meeting(tree.cell, days=3), future_meeting(tree.cell, days=20)
    on = timezone.localdate(later.planned_start) - datetime.timedelta(days=2)
    services.member_transfer(member=member, to=tree.sibling, on=on, by=people.officer)
    assert on_list(soon, member) and not on_list(later, member)
    assert Role.MEMBER in selectors.roles_over(people.member, tree.cell)  # until the day before ``on``
    assert RoleAssignment.objects.get(user=people.member, organisation=tree.cell).end == on - datetime.timedelta(days=1)


def test_a_removal_ends_every_role_and_the_future_lists(people, tree):
    secretary = people.members["secretary"]
    RoleAssignment.objects.create(
        user=people.secretary, organisation=tree.khoi, role=Role.COMMITTEE_VIEWER, start=datetime.date(2020, 1, 1)
    )
    upcoming = future_meeting(tree.cell)
    services.member_remove(
        member=secretary, state=Member.State.REMOVED, on=timezone.localdate(), reason="Xóa tên", by=people.officer
    )
    secretary.refresh_from_db()
    assert secretary.state == Member.State.REMOVED
    assert not secretary.memberships.filter(end__isnull=True).exists()
    assert selectors.roles_of(people.secretary) == set()
    assert not on_list(upcoming, secretary)
    assert AuditEntry.objects.filter(action="cells.member.remove", object_id=str(secretary.pk)).exists()


def test_a_suspension_ends_the_duties_keeps_the_member_and_empties_its_own_days(people, tree):
    secretary = people.members["secretary"]
    during, after = future_meeting(tree.cell, days=5), future_meeting(tree.cell, days=40)
    today = timezone.localdate()
    services.member_suspend(
        member=secretary, reason="Kỷ luật", start=today, end=today + datetime.timedelta(days=30), by=people.officer
    )
    assert selectors.roles_over(people.secretary, tree.cell) == {Role.MEMBER}
    assert not on_list(during, secretary) and on_list(after, secretary)


def test_a_suspension_long_over_changes_no_rights_today(people, tree):
    services.member_suspend(
        member=people.members["secretary"],
        reason="Kỷ luật cũ",
        start=datetime.date(2021, 1, 1),
        end=datetime.date(2021, 6, 30),
    )
    assert selectors.roles_over(people.secretary, tree.cell) == {Role.CELL_SECRETARY}


def test_an_exemption_marks_the_future_lists_and_its_end_puts_the_member_back(people, tree):
    member = people.members["member"]
    upcoming = future_meeting(tree.cell, days=10)
    base = Meeting.objects.get(pk=upcoming.pk).attendance_base
    exemption = services.member_exempt(member=member, reason="Ốm dài ngày", start=timezone.localdate())
    assert Attendance.objects.get(meeting=upcoming, member=member).presence == Attendance.Presence.EXEMPT
    assert Meeting.objects.get(pk=upcoming.pk).attendance_base == base - 1
    services.exemption_end(exemption=exemption, on=timezone.localdate(), by=people.officer)
    assert Attendance.objects.get(meeting=upcoming, member=member).presence == Attendance.Presence.BLANK
    assert Meeting.objects.get(pk=upcoming.pk).attendance_base == base
    # The end of an exemption ends no role: it gave none.
    assert Role.MEMBER in selectors.roles_over(people.member, tree.cell)


def test_the_removal_page_records_it_for_the_officer_and_refuses_the_secretary(client_for, people):
    member = people.members["member"]
    url = reverse("books:books_member_removal", args=[member.pk])
    assert client_for(people.secretary).post(url, {"state": "deceased", "on": "01/11/2026"}).status_code == 403
    response = client_for(people.officer).post(
        url, {"state": "deceased", "on": timezone.localdate().strftime("%d/%m/%Y")}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.state == Member.State.DECEASED
    assert selectors.roles_of(people.member) == set()
