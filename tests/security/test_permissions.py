"""The permission table (cells/permissions.py) on a hand-built tree, and against the access matrix.

The tree of tests/conftest.py: the Khối ⊃ Đảng bộ Sở Tài chính (tccs) ⊃ Chi bộ Văn phòng (cell) and a
sibling cell; Chi bộ Công ty Điện lực (other) directly under the Khối. One user per role (people).
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from cells.permissions import ABOVE, PERMISSIONS, can, require, roles_with

from .test_access_matrix import CELL_READ, CELL_WRITE, DASHBOARD, MANAGE_MEMBER, ROLES, UPPER_WRITE

pytestmark = pytest.mark.django_db


def test_a_secretary_writes_her_own_cell_and_no_other(tree, people):
    assert can(people.secretary, "meetings.write", tree.cell)
    assert not can(people.secretary, "meetings.write", tree.sibling)
    assert not can(people.secretary, "meetings.write", tree.tccs)  # not the level above her
    assert not can(people.other_secretary, "meetings.write", tree.cell)


def test_an_officer_acts_in_his_subtree_not_in_a_sibling_one(tree, people):
    assert can(people.officer, "members.manage", tree.cell) and can(people.officer, "members.manage", tree.sibling)
    assert can(people.officer, "members.manage", tree.tccs)
    assert not can(people.officer, "members.manage", tree.other)
    # The upper level confirms and inspects the cells below, never its own unit.
    assert PERMISSIONS["scores.confirm"].scope == ABOVE
    assert can(people.officer, "scores.confirm", tree.cell) and not can(people.officer, "scores.confirm", tree.tccs)
    assert not can(people.secretary, "scores.confirm", tree.cell)


def test_the_khoi_admin_anywhere_the_committee_viewer_reads_only(tree, people):
    for organisation in (tree.khoi, tree.tccs, tree.cell, tree.other):
        assert can(people.admin, "members.manage", organisation)
        assert can(people.viewer, "members.read", organisation)
        assert not can(people.viewer, "members.manage", organisation)
        assert not can(people.viewer, "meetings.write", organisation)
        assert not can(people.viewer, "personal.see", organisation)
    assert can(people.viewer, "dashboards.see") and not can(people.viewer, "reports.run")


def test_without_a_role_nothing_and_require_refuses(tree, people):
    anonymous = AnonymousUser()
    assert not any(can(anonymous, perm, tree.cell) for perm in PERMISSIONS)
    assert not can(people.member, "members.read", tree.cell)
    with pytest.raises(PermissionDenied):
        require(people.member, "books.keep", tree.cell)
    require(people.secretary, "books.keep", tree.cell)  # no exception


# The shorthands of the access matrix (o = allowed) for the permission each one stands for, on cell A.
MATRIX_ROWS = [
    ("meetings.write", CELL_WRITE),
    ("members.manage", MANAGE_MEMBER),
    ("members.read", CELL_READ),
    ("inspections.make", UPPER_WRITE),
    ("tree.manage", UPPER_WRITE),
    ("positions.assign", UPPER_WRITE),
    ("dashboards.see", DASHBOARD),
    # issue #18, item 5: the officers list of the cell (training.read) and the courses (training.manage)
    ("training.read", "oooffnn"),
    ("training.manage", "ofoffnn"),
]


@pytest.mark.parametrize(("perm", "row"), MATRIX_ROWS)
def test_the_table_and_the_access_matrix_agree(tree, people, perm, row):
    allowed = {role: letter == "o" for role, letter in zip(ROLES, row, strict=True)}
    organisation = None if perm == "dashboards.see" else tree.cell
    assert {role: can(people.users[role], perm, organisation) for role in ROLES} == allowed


def test_every_role_set_derived_from_the_table_is_the_table_s():
    from cells import selectors
    from meetings import selectors as meeting_selectors
    from reports import access
    from scoring import selectors as scoring_selectors

    assert selectors.MANAGE_MEMBERS == roles_with("members.manage")
    assert selectors.READ_MEMBERS == roles_with("members.read")
    assert selectors.MANAGE_BOOKS == roles_with("books.keep")
    assert selectors.SECOND_FACTOR_REQUIRED_ROLES == roles_with("second_factor.required")
    assert meeting_selectors.WRITE_MEETINGS == roles_with("meetings.write")
    assert scoring_selectors.CONFIRM_ROLES == roles_with("scores.confirm")
    assert access.DASHBOARD_ROLES == roles_with("dashboards.see") and access.REPORT_ROLES == roles_with("reports.run")


def test_the_tree_is_shaped_by_the_level_above_the_unit(tree, people):
    """tree.manage: the officer over the cells of his TCCS but not the TCCS itself nor another one; the
    Khối's admin every unit below the Khối; a secretary not even her own cell."""
    from cells.permissions import can_under

    assert PERMISSIONS["tree.manage"].scope == ABOVE
    assert can(people.officer, "tree.manage", tree.cell) and can(people.officer, "tree.manage", tree.sibling)
    assert not can(people.officer, "tree.manage", tree.tccs)
    assert not can(people.officer, "tree.manage", tree.other)
    for organisation in (tree.tccs, tree.cell, tree.other):
        assert can(people.admin, "tree.manage", organisation)
    assert not can(people.admin, "tree.manage", tree.khoi)  # the Khối's own record: a superuser's
    assert not can(people.secretary, "tree.manage", tree.cell) and not can(people.viewer, "tree.manage", tree.cell)
    # A new unit: under the officer's own TCCS yes, beside it (under the Khối) no.
    assert can_under(people.officer, "tree.manage", tree.tccs)
    assert not can_under(people.officer, "tree.manage", tree.khoi)
    assert not can_under(people.officer, "tree.manage", tree.other)
    assert can_under(people.admin, "tree.manage", tree.khoi)
    assert not can_under(people.secretary, "tree.manage", tree.cell)
    assert not can_under(AnonymousUser(), "tree.manage", tree.cell)


def test_positions_are_recorded_by_the_upper_level_not_by_the_cell(tree, people):
    assert can(people.officer, "positions.assign", tree.cell) and can(people.admin, "positions.assign", tree.cell)
    assert not can(people.officer, "positions.assign", tree.other)
    assert not can(people.secretary, "positions.assign", tree.cell)  # the cell's bí thư records no posts
    assert not can(people.viewer, "positions.assign", tree.cell)
    assert not can(people.other_secretary, "positions.assign", tree.other)
