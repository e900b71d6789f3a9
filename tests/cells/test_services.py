"""Services of the cells app against the real database."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from cells import selectors, services
from cells.models import AuditEntry, CellMembership, Member, Organisation, Position

from ..factories import make_member, make_organisation

pytestmark = pytest.mark.django_db


def test_subtree_is_one_query_on_the_path(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        names = list(Organisation.objects.filter(path__startswith=tree.tccs.path).values_list("name", flat=True))
    assert names == ["Đảng bộ Sở Tài chính", "Chi bộ Văn phòng", "Chi bộ Kế toán"]


def test_paths_follow_the_tree(tree):
    assert tree.khoi.depth == 1 and tree.tccs.depth == 2 and tree.cell.depth == 3
    assert tree.cell.path.startswith(tree.tccs.path) and tree.tccs.path.startswith(tree.khoi.path)
    assert tree.sibling.path > tree.cell.path


def test_only_party_groups_under_a_cell(tree):
    with pytest.raises(ValidationError):
        services.organisation_create(parent=tree.cell, kind=Organisation.Kind.CHI_BO, name="Sai")
    group = services.organisation_create(parent=tree.cell, kind=Organisation.Kind.TO_DANG, name="Tổ đảng 1")
    assert group.path.startswith(tree.cell.path)


def test_a_khoi_stands_only_at_the_root_and_a_party_group_only_in_a_cell(tree):
    with pytest.raises(ValidationError) as error:
        services.organisation_create(parent=tree.tccs, kind=Organisation.Kind.KHOI, name="Khối lồng")
    assert list(error.value.error_dict) == ["kind"]
    with pytest.raises(ValidationError) as error:
        services.organisation_create(parent=tree.tccs, kind=Organisation.Kind.TO_DANG, name="Tổ đảng lạc chỗ")
    assert list(error.value.error_dict) == ["kind"]
    group = services.organisation_create(parent=tree.cell, kind=Organisation.Kind.TO_DANG, name="Tổ đảng 1")
    with pytest.raises(ValidationError):
        services.organisation_move(organisation=group, new_parent=tree.tccs)
    assert not Organisation.objects.filter(name__in=["Khối lồng", "Tổ đảng lạc chỗ"]).exists()


def test_moving_a_subtree_rewrites_paths_and_keeps_it_whole(tree):
    new_parent = make_organisation(parent=tree.khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ mới sáp nhập")
    services.organisation_move(organisation=tree.tccs, new_parent=new_parent)
    tree.cell.refresh_from_db()
    tree.tccs.refresh_from_db()
    assert tree.tccs.parent_id == new_parent.pk and tree.tccs.depth == 3
    assert tree.cell.path.startswith(tree.tccs.path) and tree.cell.depth == 4
    assert AuditEntry.objects.filter(action="cells.organisation.move").count() == 1


def test_cannot_move_into_own_subtree(tree):
    with pytest.raises(ValidationError):
        services.organisation_move(organisation=tree.tccs, new_parent=tree.cell)


def test_member_create_opens_membership_and_writes_audit(tree, admin_user):
    member = make_member(organisation=tree.cell, full_name="Nguyễn Thị Hoa")
    assert member.memberships.get().end is None
    entry = AuditEntry.objects.get(action="cells.member.create", object_id=str(member.pk))
    assert entry.after["full_name"] == "Nguyễn Thị Hoa" and entry.organisation_id == tree.cell.pk


def test_member_must_belong_to_a_cell(tree):
    with pytest.raises(ValidationError) as error:
        services.member_create(organisation=tree.tccs, full_name="Sai chỗ")
    assert "organisation" in error.value.error_dict
    assert not Member.objects.filter(full_name="Sai chỗ").exists()


def test_duplicate_card_number_is_rejected_and_writes_nothing(tree):
    make_member(organisation=tree.cell, party_card_number="TD00000001")
    before = (Member.objects.count(), CellMembership.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationError) as error:
        make_member(organisation=tree.cell, party_card_number="TD00000001")
    assert "party_card_number" in error.value.error_dict
    assert (Member.objects.count(), CellMembership.objects.count(), AuditEntry.objects.count()) == before


def test_date_order_is_checked(tree):
    with pytest.raises(ValidationError) as error:
        make_member(
            organisation=tree.cell,
            admission_decision_date=datetime.date(2010, 1, 1),
            admission_ceremony_date=datetime.date(2009, 12, 1),
            status=Member.Status.PROBATIONARY,
        )
    assert "admission_ceremony_date" in error.value.error_dict


def test_member_update_audits_only_changed_fields(people):
    member = people.members["member"]
    services.member_update(member=member, phone="0912345678", by=people.officer)
    entry = AuditEntry.objects.get(action="cells.member.update")
    assert entry.before == {"phone": ""} and entry.after == {"phone": "0912345678"}
    assert entry.actor == people.officer


def test_transfer_keeps_history_and_ends_positions(people, tree):
    member = people.members["member"]
    services.position_assign(
        member=member, organisation=tree.cell, kind=Position.Kind.COMMITTEE_MEMBER, start=datetime.date(2024, 1, 1)
    )
    services.member_transfer(member=member, to=tree.sibling, on=datetime.date(2026, 3, 1), reason="Điều động")
    member.refresh_from_db()
    assert member.organisation == tree.sibling
    history = list(member.memberships.order_by("start").values_list("organisation_id", "start", "end"))
    assert history == [
        (tree.cell.pk, datetime.date(2020, 1, 1), datetime.date(2026, 3, 1)),
        (tree.sibling.pk, datetime.date(2026, 3, 1), None),
    ]
    assert not member.positions.filter(end__isnull=True).exists()


def test_transfer_out_of_the_khoi_hides_member_from_the_cell(people, tree):
    member = people.members["member"]
    services.member_transfer(member=member, to=None, on=datetime.date(2026, 3, 1))
    member.refresh_from_db()
    assert member.organisation is None and member.state == Member.State.TRANSFERRED_OUT
    assert (
        not selectors.members_visible_to(people.secretary).filter(pk=member.pk).exclude(user=people.secretary).exists()
    )


def test_transfer_before_current_start_is_rejected(people, tree):
    with pytest.raises(ValidationError):
        services.member_transfer(member=people.members["member"], to=tree.sibling, on=datetime.date(2019, 1, 1))
    assert people.members["member"].memberships.count() == 1


def test_a_new_secretary_replaces_the_old_one(people, tree):
    first, second = people.members["secretary"], people.members["member"]
    services.position_assign(
        member=first, organisation=tree.cell, kind=Position.Kind.SECRETARY, start=datetime.date(2020, 6, 1)
    )
    services.position_assign(
        member=second, organisation=tree.cell, kind=Position.Kind.SECRETARY, start=datetime.date(2025, 6, 1)
    )
    current = selectors.current_positions(organisation=tree.cell)
    assert [p.member for p in current if p.kind == Position.Kind.SECRETARY] == [second]


def test_overlapping_exemption_is_rejected(people):
    member = people.members["member"]
    services.member_exempt(member=member, reason="Tuổi cao, sức yếu", start=datetime.date(2025, 1, 1))
    with pytest.raises(ValidationError):
        services.member_exempt(member=member, reason="Ốm", start=datetime.date(2026, 1, 1))
    assert member.exemptions.count() == 1


def test_cell_summary_counts_and_committee_rule(tree):
    for _ in range(8):
        make_member(organisation=tree.cell)
    make_member(
        organisation=tree.cell, status=Member.Status.PROBATIONARY, admission_ceremony_date=datetime.date(2026, 1, 10)
    )
    exempt = make_member(organisation=tree.cell)
    services.member_exempt(member=exempt, reason="Tuổi cao", start=datetime.date(2025, 1, 1))
    summary = selectors.cell_summary(cell=tree.cell)
    assert summary == {"total": 10, "official": 9, "probationary": 1, "exempt": 1, "has_committee": True}
    tree.cell.committee_override = False
    assert selectors.cell_summary(cell=tree.cell)["has_committee"] is False


def test_probation_review_is_due_twelve_months_after_ceremony(tree, time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 26, 9, 0))
    due_soon = make_member(
        organisation=tree.cell, status=Member.Status.PROBATIONARY, admission_ceremony_date=datetime.date(2025, 12, 20)
    )
    make_member(
        organisation=tree.cell, status=Member.Status.PROBATIONARY, admission_ceremony_date=datetime.date(2026, 6, 1)
    )
    assert due_soon.probation_review_due() == datetime.date(2026, 12, 20)
    due = selectors.probation_reviews_due(organisations=Organisation.objects.filter(pk=tree.cell.pk), within_days=60)
    assert list(due) == [due_soon]


def test_role_covers_subtree_not_siblings(people, tree):
    assert selectors.roles_over(people.officer, tree.cell) == {"tccs_officer"}
    assert selectors.roles_over(people.officer, tree.other) == set()
    visible = set(selectors.organisations_visible_to(people.officer).values_list("pk", flat=True))
    assert visible == {tree.tccs.pk, tree.cell.pk, tree.sibling.pk}
