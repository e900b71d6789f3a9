"""Issue 21: roles are granted and ended on a page of the portal, through services that write audit
rows (the Django admin was the only place to grant one, and no grant ever reached the audit log)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cells import selectors
from cells.models import AuditEntry, Role, RoleAssignment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def grant_page(organisation):
    return reverse("cells:organisation_roles", args=[organisation.pk])


def test_the_officer_grants_a_secretary_in_the_subtree_with_an_audit_row(client_for, people, tree):
    member = people.members["member"]
    today = timezone.localdate().strftime("%d/%m/%Y")
    response = client_for(people.officer).post(
        grant_page(tree.cell), {"account": "member", "role": Role.CELL_SECRETARY, "start": today}
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=people.member, role=Role.CELL_SECRETARY)
    assert assignment.organisation == tree.cell and assignment.start == timezone.localdate()
    entry = AuditEntry.objects.get(action="cells.role.assign", object_id=str(assignment.pk))
    assert entry.actor == people.officer and entry.after["role"] == Role.CELL_SECRETARY
    assert member.full_name in client_for(people.officer).get(grant_page(tree.cell)).content.decode()


def test_the_officer_ends_a_role_from_today_with_an_audit_row(client_for, people, tree):
    assignment = RoleAssignment.objects.get(user=people.secretary, role=Role.CELL_SECRETARY)
    response = client_for(people.officer).post(reverse("cells:role_end", args=[assignment.pk]))
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.end == timezone.localdate() - datetime.timedelta(days=1)
    assert selectors.roles_over(people.secretary, tree.cell) == set()
    assert AuditEntry.objects.filter(
        action="cells.role.end", object_id=str(assignment.pk), actor=people.officer
    ).exists()


def test_a_role_ended_before_it_starts_is_cancelled(client_for, people, tree):
    user = UserFactory(username="moi")
    assignment = RoleAssignment.objects.create(
        user=user,
        organisation=tree.tccs,
        role=Role.COMMITTEE_VIEWER,
        start=timezone.localdate() + datetime.timedelta(days=3),
    )
    client_for(people.officer).post(reverse("cells:role_end", args=[assignment.pk]))
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEntry.objects.filter(action="cells.role.cancel", object_id=str(assignment.pk)).exists()


def test_the_officer_cannot_grant_the_khoi_admin_role_nor_a_cell_role_to_an_outsider(client_for, people, tree):
    client = client_for(people.officer)
    assert Role.KHOI_ADMIN not in selectors.roles_grantable(people.officer, tree.tccs)
    response = client.post(
        grant_page(tree.tccs), {"account": "officer", "role": Role.KHOI_ADMIN, "start": "01/01/2026"}
    )
    assert (
        response.status_code == 200
        and not RoleAssignment.objects.filter(role=Role.KHOI_ADMIN, user=people.officer).exists()
    )
    # The other cell's secretary is no member of Chi bộ Văn phòng.
    response = client.post(
        grant_page(tree.cell), {"account": "other_secretary", "role": Role.CELL_CLERK, "start": "01/01/2026"}
    )
    assert "không phải của một đảng viên đang sinh hoạt" in response.content.decode()
    response = client.post(grant_page(tree.cell), {"account": "khong-co", "role": Role.MEMBER, "start": "01/01/2026"})
    assert "Không có tài khoản đang hoạt động" in response.content.decode()
    # A role at a level it does not belong to.
    response = client.post(
        grant_page(tree.tccs), {"account": "member", "role": Role.CELL_SECRETARY, "start": "01/01/2026"}
    )
    assert response.status_code == 200
    assert not RoleAssignment.objects.filter(organisation=tree.tccs, role=Role.CELL_SECRETARY).exists()


def test_outside_the_subtree_the_page_answers_404_and_to_readers_403(client_for, people, tree):
    assert client_for(people.officer).get(grant_page(tree.other)).status_code == 404
    assert client_for(people.officer).get(grant_page(tree.khoi)).status_code == 404
    khoi_admin = RoleAssignment.objects.get(user=people.admin, role=Role.KHOI_ADMIN)
    assert client_for(people.officer).post(reverse("cells:role_end", args=[khoi_admin.pk])).status_code == 404
    assert client_for(people.viewer).get(grant_page(tree.cell)).status_code == 403
    assert client_for(people.secretary).get(grant_page(tree.cell)).status_code == 403
    assert client_for(people.admin).get(grant_page(tree.khoi)).status_code == 200
