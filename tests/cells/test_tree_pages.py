"""The Ban Tổ chức's pages for the tree (cells/views_tree.py): add, change and move units, record a
cell's positions — each write through cells.services.tree with its audit row, a refusal next to its
field with nothing written. The tree of tests/conftest.py; the officer holds Đảng bộ Sở Tài chính."""

import datetime

import pytest
from django.urls import reverse

from cells import services
from cells.models import AuditEntry, Organisation, Position

pytestmark = pytest.mark.django_db

D = datetime.date


def _counts():
    return Organisation.objects.count(), Position.objects.count(), AuditEntry.objects.count()


def test_the_officer_adds_a_cell_under_his_tccs_with_its_path_and_an_audit_row(client_for, tree, people):
    client = client_for(people.officer)
    url = reverse("cells:organisation_create", args=[tree.tccs.pk])
    form = client.get(url).context["form"]
    # What may stand under a đảng bộ cơ sở (organisation_check_placement): not the Khối, not a tổ đảng.
    assert [kind for kind, _label in form.fields["kind"].choices] == [
        Organisation.Kind.DANG_BO_CO_SO,
        Organisation.Kind.CHI_BO_CO_SO,
        Organisation.Kind.DANG_BO_BO_PHAN,
        Organisation.Kind.CHI_BO,
    ]
    response = client.post(
        url,
        {
            "kind": "chi_bo",
            "name": "Chi bộ Thanh tra",
            "short_code": "CB",
            "unit_type": "agency",
            "active_from": "01/03/2026",
        },
    )
    assert response.status_code == 302 and response.url == reverse("cells:organisation_detail", args=[tree.tccs.pk])
    unit = Organisation.objects.get(name="Chi bộ Thanh tra")
    assert unit.parent_id == tree.tccs.pk and unit.depth == 3 and unit.path.startswith(tree.tccs.path)
    assert unit.path not in (tree.cell.path, tree.sibling.path) and unit.active_from == D(2026, 3, 1)
    assert unit.committee_override is None and unit.has_seal is False
    entry = AuditEntry.objects.get(action="cells.organisation.create", object_id=str(unit.pk))
    assert entry.actor_id == people.officer.pk and entry.after["name"] == "Chi bộ Thanh tra"


def test_bad_input_on_a_new_unit_writes_nothing(client_for, tree, people):
    client = client_for(people.officer)
    url = reverse("cells:organisation_create", args=[tree.tccs.pk])
    before = _counts()
    response = client.post(
        url, {"kind": "chi_bo", "name": "Chi bộ Sai", "active_from": "01/03/2026", "active_to": "01/02/2026"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"active_to": ["Ngày kết thúc hoạt động phải sau ngày bắt đầu."]}
    response = client.post(url, {"kind": "khoi", "name": "Khối thứ hai"})  # not offered: a crafted POST
    assert response.status_code == 200 and "kind" in response.context["form"].errors
    assert _counts() == before


def test_under_a_cell_only_a_party_group_and_beside_his_tccs_nothing(client_for, tree, people):
    client = client_for(people.officer)
    form = client.get(reverse("cells:organisation_create", args=[tree.cell.pk])).context["form"]
    assert [kind for kind, _label in form.fields["kind"].choices] == [Organisation.Kind.TO_DANG]
    before = _counts()
    # The Khối and the other TCCS are not his to shape: he does not even see them.
    for organisation in (tree.khoi, tree.other):
        url = reverse("cells:organisation_create", args=[organisation.pk])
        assert client.post(url, {"kind": "chi_bo", "name": "Chi bộ lạc chỗ"}).status_code == 404
    assert _counts() == before


def test_the_khoi_admin_changes_a_unit_s_record_with_before_and_after(client_for, tree, people):
    client = client_for(people.admin)
    url = reverse("cells:organisation_update", args=[tree.cell.pk])
    form = client.get(url).context["form"]
    assert form.initial["name"] == "Chi bộ Văn phòng" and form.initial["committee_override"] == ""
    response = client.post(
        url, {"name": "Chi bộ Văn phòng Sở", "short_code": "CB", "has_seal": "on", "committee_override": "yes"}
    )
    assert response.status_code == 302
    tree.cell.refresh_from_db()
    assert tree.cell.name == "Chi bộ Văn phòng Sở" and tree.cell.has_seal and tree.cell.committee_override is True
    assert tree.cell.kind == Organisation.Kind.CHI_BO and tree.cell.parent_id == tree.tccs.pk
    entry = AuditEntry.objects.get(action="cells.organisation.update")
    assert (entry.before["name"], entry.after["name"]) == ("Chi bộ Văn phòng", "Chi bộ Văn phòng Sở")
    # A non-cell unit has no chi ủy to record.
    assert (
        "committee_override"
        not in client.get(reverse("cells:organisation_update", args=[tree.tccs.pk])).context["form"].fields
    )


def test_the_officer_changes_the_cells_below_him_not_his_own_tccs(client_for, tree, people):
    client = client_for(people.officer)
    assert client.get(reverse("cells:organisation_update", args=[tree.tccs.pk])).status_code == 403
    assert client.get(reverse("cells:organisation_move", args=[tree.tccs.pk])).status_code == 403
    assert client.get(reverse("cells:organisation_update", args=[tree.sibling.pk])).status_code == 200


def test_a_move_rewrites_the_paths_of_the_whole_subtree(client_for, tree, people):
    """The officer splits his đảng bộ: Chi bộ Văn phòng (with its tổ đảng and members) goes under a new
    đảng bộ bộ phận of the same TCCS."""
    branch = services.organisation_create(parent=tree.tccs, kind=Organisation.Kind.DANG_BO_BO_PHAN, name="ĐBBP Khối I")
    group = services.organisation_create(parent=tree.cell, kind=Organisation.Kind.TO_DANG, name="Tổ đảng 1")
    client = client_for(people.officer)
    url = reverse("cells:organisation_move", args=[tree.cell.pk])
    choices = client.get(url).context["form"].fields["parent"].queryset
    # What may hold a chi bộ, in his subtree, but where it stands already: the new đảng bộ bộ phận only.
    assert list(choices) == [branch]
    assert client.post(url, {"parent": str(branch.pk)}).status_code == 302
    for unit in (tree.cell, group, branch):
        unit.refresh_from_db()
    assert tree.cell.parent_id == branch.pk and tree.cell.depth == 4 and tree.cell.path.startswith(branch.path)
    assert group.parent_id == tree.cell.pk and group.depth == 5 and group.path.startswith(tree.cell.path)
    assert people.members["member"].organisation_id == tree.cell.pk
    entry = AuditEntry.objects.get(action="cells.organisation.move")
    assert entry.actor_id == people.officer.pk
    assert entry.before["path"] != entry.after["path"] == tree.cell.path


def test_a_move_under_its_own_subtree_is_refused_next_to_the_field(client_for, tree, people):
    branch = services.organisation_create(parent=tree.tccs, kind=Organisation.Kind.DANG_BO_BO_PHAN, name="ĐBBP Khối I")
    paths = dict(Organisation.objects.values_list("pk", "path"))
    before = _counts()
    client = client_for(people.admin)
    response = client.post(reverse("cells:organisation_move", args=[tree.tccs.pk]), {"parent": str(branch.pk)})
    assert response.status_code == 200
    assert response.context["form"].errors == {"parent": ["Không thể chuyển một tổ chức vào chính cây con của nó."]}
    assert dict(Organisation.objects.values_list("pk", "path")) == paths and _counts() == before


def test_the_officer_cannot_move_a_cell_out_of_his_subtree(client_for, tree, people):
    client = client_for(people.officer)
    paths = dict(Organisation.objects.values_list("pk", "path"))
    response = client.post(reverse("cells:organisation_move", args=[tree.cell.pk]), {"parent": str(tree.khoi.pk)})
    assert response.status_code == 200
    assert response.context["form"].errors == {"parent": ["Chọn một tổ chức cấp trên trong danh sách."]}
    assert dict(Organisation.objects.values_list("pk", "path")) == paths
    assert not AuditEntry.objects.filter(action="cells.organisation.move").exists()


def test_positions_are_assigned_and_ended_with_audit_rows(client_for, tree, people):
    client = client_for(people.officer)
    url = reverse("cells:position_assign", args=[tree.cell.pk])
    members = client.get(url).context["form"].fields["member"].queryset
    assert set(members) == {people.members["secretary"], people.members["member"]}  # the cell's own members
    first = people.members["secretary"]
    assert client.post(url, {"member": first.pk, "kind": "bi_thu", "start": "05/01/2026"}).status_code == 302
    held = Position.objects.get(member=first)
    assert (held.kind, held.start, held.end) == (Position.Kind.SECRETARY, D(2026, 1, 5), None)
    assert AuditEntry.objects.get(action="cells.position.create", object_id=str(held.pk)).actor_id == people.officer.pk
    # A new bí thư from 01/07/2026: the previous one's post ends that day, in the same transaction.
    second = people.members["member"]
    assert client.post(url, {"member": second.pk, "kind": "bi_thu", "start": "01/07/2026"}).status_code == 302
    held.refresh_from_db()
    assert held.end == D(2026, 7, 1)
    assert Position.objects.get(member=second, end__isnull=True).kind == Position.Kind.SECRETARY
    assert AuditEntry.objects.filter(action="cells.position.end", object_id=str(held.pk)).count() == 1
    # "Kết thúc chức vụ" for the new one: the last day it is held.
    current = Position.objects.get(member=second)
    end_url = reverse("cells:position_end", args=[current.pk])
    assert client.post(end_url, {"on": "31/12/2026"}).status_code == 302
    current.refresh_from_db()
    assert current.end == D(2026, 12, 31)
    entry = AuditEntry.objects.get(action="cells.position.end", object_id=str(current.pk))
    assert entry.before["end"] is None and entry.after["end"] == "2026-12-31"


def test_bad_position_input_writes_nothing(client_for, tree, people):
    secretary = services.position_assign(
        member=people.members["secretary"], organisation=tree.cell, kind=Position.Kind.SECRETARY, start=D(2026, 3, 1)
    )
    client = client_for(people.officer)
    url = reverse("cells:position_assign", args=[tree.cell.pk])
    before = _counts()
    # A member of another cell (the sibling's): not on the list.
    response = client.post(url, {"member": people.members["sibling"].pk, "kind": "chi_uy_vien", "start": "01/03/2026"})
    assert response.context["form"].errors == {"member": ["Chọn một đảng viên đang sinh hoạt tại chi bộ này."]}
    # A new bí thư before the current one took office.
    response = client.post(url, {"member": people.members["member"].pk, "kind": "bi_thu", "start": "01/02/2026"})
    assert response.context["form"].errors == {
        "start": ["Bí thư hiện tại giữ chức từ 01/03/2026: bí thư mới nhận chức từ ngày đó trở đi."]
    }
    # An end before the start; then a post already ended.
    end_url = reverse("cells:position_end", args=[secretary.pk])
    response = client.post(end_url, {"on": "28/02/2026"})
    assert response.context["form"].errors == {"on": ["Ngày kết thúc phải sau ngày bắt đầu."]}
    assert _counts() == before
    secretary.refresh_from_db()
    assert secretary.end is None
    services.position_end(position=secretary, on=D(2026, 6, 30))
    response = client.post(end_url, {"on": "31/07/2026"})
    assert response.context["form"].errors == {"__all__": ["Chức vụ này đã kết thúc ngày 30/06/2026."]}
    secretary.refresh_from_db()
    assert secretary.end == D(2026, 6, 30)


def test_the_cell_s_own_secretary_records_no_positions_and_sees_no_buttons(client_for, tree, people):
    position = services.position_assign(
        member=people.members["member"],
        organisation=tree.cell,
        kind=Position.Kind.COMMITTEE_MEMBER,
        start=D(2026, 1, 1),
    )
    client = client_for(people.secretary)
    assert client.get(reverse("cells:position_assign", args=[tree.cell.pk])).status_code == 403
    assert client.post(reverse("cells:position_end", args=[position.pk]), {"on": "31/12/2026"}).status_code == 403
    page = client.get(reverse("cells:organisation_detail", args=[tree.cell.pk])).content.decode()
    for name in ("position_assign", "organisation_update", "organisation_move"):
        assert reverse(f"cells:{name}", args=[tree.cell.pk]) not in page
    assert reverse("cells:position_end", args=[position.pk]) not in page
    position.refresh_from_db()
    assert position.end is None


def test_the_organisation_page_shows_each_entry_to_those_who_may(client_for, tree, people):
    client = client_for(people.officer)
    cell_page = client.get(reverse("cells:organisation_detail", args=[tree.cell.pk])).content.decode()
    for name in ("position_assign", "organisation_update", "organisation_move"):
        assert reverse(f"cells:{name}", args=[tree.cell.pk]) in cell_page
    tccs_page = client.get(reverse("cells:organisation_detail", args=[tree.tccs.pk])).content.decode()
    assert reverse("cells:organisation_create", args=[tree.tccs.pk]) in tccs_page
    assert reverse("cells:organisation_update", args=[tree.tccs.pk]) not in tccs_page  # his own TCCS: the Khối's
    viewer_page = client_for(people.viewer).get(reverse("cells:organisation_detail", args=[tree.tccs.pk]))
    assert reverse("cells:organisation_create", args=[tree.tccs.pk]) not in viewer_page.content.decode()


def test_with_nowhere_to_move_inside_his_subtree_the_page_says_who_moves_it(client_for, tree, people):
    response = client_for(people.officer).get(reverse("cells:organisation_move", args=[tree.cell.pk]))
    assert not response.context["form"].fields["parent"].queryset.exists()
    assert "do Ban Tổ chức Đảng ủy Khối thực hiện" in response.context["intro"]
