"""Issue 21: the Django admin bypassed the audit log and the tree rules. Editing a member's phone or
granting khoi_admin there wrote no audit row; changing an organisation's parent left its path under
the old parent (access followed the old tree); "add organisation" answered 500 (``depth`` NULL)."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cells import selectors
from cells.models import AuditEntry, CellMembership, Member, Organisation, Position, Role, RoleAssignment, Suspension
from tests.factories import pass_second_factor

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """The values a browser would submit from the admin's change form."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
            else:
                self.data[name] = attrs.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def form_data(client, url) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    parser = _FormFields()
    parser.feed(response.content.decode())
    return {k: v for k, v in parser.data.items() if k not in ("_addanother", "_continue", "_save")}


@pytest.fixture
def superuser_client(client):
    user = get_user_model().objects.create_superuser("quantri", "quantri@example.vn", "matkhau-123")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    pass_second_factor(client, user)  # staff: the admin is behind the second factor
    client.user = user
    return client


def change_url(model, pk):
    return reverse(f"admin:cells_{model._meta.model_name}_change", args=[pk])


def add_url(model):
    return reverse(f"admin:cells_{model._meta.model_name}_add")


def test_editing_a_member_in_the_admin_writes_an_audit_row(superuser_client, people):
    member = people.members["member"]
    url = change_url(Member, member.pk)
    data = form_data(superuser_client, url)
    data["phone"] = "0912345678"
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert member.phone == "0912345678"
    entry = AuditEntry.objects.get(action="cells.member.update", object_id=str(member.pk))
    assert (
        entry.actor == superuser_client.user
        and entry.before == {"phone": ""}
        and entry.after == {"phone": "0912345678"}
    )


def test_the_admin_checks_a_member_as_the_service_does(superuser_client, people):
    member = people.members["member"]
    url = change_url(Member, member.pk)
    data = form_data(superuser_client, url)
    data["date_of_birth"] = "2030-01-01"
    response = superuser_client.post(url, data)
    assert response.status_code == 200 and "Ngày sinh không thể ở tương lai" in response.content.decode()
    assert not AuditEntry.objects.filter(action="cells.member.update").exists()


def test_linking_an_account_in_the_admin_is_audited_and_grants_the_member_role(superuser_client, people, tree):
    member = people.members["sibling"]
    account = get_user_model().objects.create_user("ketoan", password="matkhau-123")
    url = change_url(Member, member.pk)
    data = form_data(superuser_client, url)
    data["user"] = str(account.pk)
    assert superuser_client.post(url, data).status_code == 302
    assert AuditEntry.objects.filter(action="cells.member.link_user", object_id=str(member.pk)).exists()
    assert selectors.roles_over(account, tree.sibling) == {Role.MEMBER}


def test_the_admin_cannot_grant_roles_nor_write_memberships_or_suspensions(superuser_client):
    for model in (RoleAssignment, CellMembership, Suspension):
        assert superuser_client.get(add_url(model)).status_code == 403, model
    assert not RoleAssignment.objects.filter(role=Role.KHOI_ADMIN, user=superuser_client.user).exists()


def test_a_new_parent_in_the_admin_moves_the_paths_with_an_audit_row(superuser_client, tree, people):
    url = change_url(Organisation, tree.cell.pk)
    data = form_data(superuser_client, url)
    data["parent"] = str(tree.khoi.pk)  # Chi bộ Văn phòng leaves Đảng bộ Sở Tài chính
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    tree.cell.refresh_from_db()
    assert tree.cell.parent_id == tree.khoi.pk and not tree.cell.path.startswith(tree.tccs.path)
    assert tree.cell.depth == 2
    assert AuditEntry.objects.filter(action="cells.organisation.move", object_id=str(tree.cell.pk)).exists()
    # Access follows the new tree: the officer of the old parent no longer sees the cell.
    assert not selectors.organisations_visible_to(people.officer).filter(pk=tree.cell.pk).exists()


def test_the_admin_refuses_a_parent_inside_the_subtree(superuser_client, tree):
    url = change_url(Organisation, tree.tccs.pk)
    data = form_data(superuser_client, url)
    data["parent"] = str(tree.cell.pk)
    response = superuser_client.post(url, data)
    assert response.status_code == 200
    tree.tccs.refresh_from_db()
    assert tree.tccs.parent_id == tree.khoi.pk


def test_add_organisation_in_the_admin_computes_the_path_and_audits(superuser_client, tree):
    data = form_data(superuser_client, add_url(Organisation))
    data.update({"parent": str(tree.tccs.pk), "kind": Organisation.Kind.CHI_BO, "name": "Chi bộ Thanh tra"})
    response = superuser_client.post(add_url(Organisation), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Organisation.objects.get(name="Chi bộ Thanh tra")
    assert created.path.startswith(tree.tccs.path) and created.depth == 3
    assert AuditEntry.objects.filter(action="cells.organisation.create", object_id=str(created.pk)).exists()
    # A cell under a cell is refused on the form, not with a 500.
    data.update({"parent": str(tree.cell.pk), "name": "Chi bộ sai chỗ"})
    response = superuser_client.post(add_url(Organisation), data)
    assert response.status_code == 200 and "Dưới một chi bộ chỉ có thể lập tổ đảng" in response.content.decode()
    assert not Organisation.objects.filter(name="Chi bộ sai chỗ").exists()


def test_positions_in_the_admin_go_through_the_services(superuser_client, people, tree):
    member = people.members["member"]
    data = form_data(superuser_client, add_url(Position))
    data.update(
        {
            "member": str(member.pk),
            "organisation": str(tree.cell.pk),
            "kind": Position.Kind.SECRETARY,
            "start": "2026-01-05",
        }
    )
    assert superuser_client.post(add_url(Position), data).status_code == 302
    position = Position.objects.get(member=member, kind=Position.Kind.SECRETARY)
    assert AuditEntry.objects.filter(action="cells.position.create", object_id=str(position.pk)).exists()
    # A member of another cell is refused on the form.
    data["member"] = str(people.members["other"].pk)
    response = superuser_client.post(add_url(Position), data)
    assert response.status_code == 200 and "không sinh hoạt ở chi bộ này" in response.content.decode()
    url = change_url(Position, position.pk)
    data = form_data(superuser_client, url)
    data["end"] = "2026-06-30"
    assert superuser_client.post(url, data).status_code == 302
    assert AuditEntry.objects.filter(action="cells.position.end", object_id=str(position.pk)).exists()
