"""Who may do what: the portal's one permission table (issue #16, item 2), and ``can``.

Each permission names the roles that grant it and where they must be held (design §2):

* ``ANYWHERE`` — the user holds one of the roles on some unit (the navigation, "has a dashboard");
* ``OVER`` — on the unit itself or on one of its ancestors (a cell's secretary over that cell, a đảng
  ủy cơ sở's officer over its subtree, the Khối's admin over everything);
* ``ABOVE`` — on a strict ancestor of the unit: the upper level, which confirms a cell's score and
  inspects it, never the cell itself.

A superuser holds every permission. Views, selectors, the navigation and the access matrix
(tests/security/test_access_matrix.py, tests/security/test_permissions.py) read this table; a role set
anywhere else is derived from it with ``roles_with``. Conditions beyond a role — the member themself,
the meeting's own clerk, the committee member assigned to a cell — stay in the function that asks, next
to the call of ``can``.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone

from .models import Organisation, Role, RoleAssignment

ANYWHERE, OVER, ABOVE = "anywhere", "over", "above"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    scope: str = OVER


_MANAGERS = frozenset({Role.KHOI_ADMIN, Role.TCCS_OFFICER})
_STAFF = frozenset({Role.KHOI_ADMIN, Role.COMMITTEE_VIEWER, Role.TCCS_OFFICER})

PERMISSIONS: dict[str, Rule] = {
    # Members, the tree and the roles on it.
    "members.read": Rule(_MANAGERS | {Role.COMMITTEE_VIEWER, Role.CELL_SECRETARY, Role.CELL_CLERK}),
    "members.manage": Rule(_MANAGERS),
    # The tree itself (add a unit, change its record, move it under another parent; cells/views_tree.py):
    # the upper level, as for the other upper-level writes — a đảng ủy cơ sở's officer shapes the units
    # below his TCCS, not the TCCS itself, and the Khối's admin every unit below the Khối (the Khối's own
    # record only a superuser). A new unit asks it with ``can_under`` on the parent it will stand under.
    "tree.manage": Rule(_MANAGERS, ABOVE),
    # A cell's positions (bí thư, phó bí thư, chi ủy viên, tổ trưởng…): recorded by the upper level only.
    # The cell does not appoint its own officers: the cell elects its chi ủy, bí thư and phó bí thư, a tổ
    # đảng its tổ trưởng (domain-research §5, "Chi ủy threshold", "Tổ đảng"), and the election takes effect
    # by the upper committee's decision (chuẩn y) — so the portal records it where that decision is made,
    # never the cell's own bí thư, whose own post it would be.
    "positions.assign": Rule(_MANAGERS, ABOVE),
    # Citizen ID and phone (Luật 91/2025/QH15; cells/privacy.py): not a committee viewer, not a clerk.
    "personal.see": Rule(_MANAGERS | {Role.CELL_SECRETARY}),
    # A cell's books (documents, commitments, dues): its secretary and the managers above it.
    "books.keep": Rule(_MANAGERS | {Role.CELL_SECRETARY}),
    "audit.read": Rule(_MANAGERS),
    # Meetings: plan, publish, record; a member or clerk of the cell sees the published ones.
    "meetings.write": Rule(_MANAGERS | {Role.CELL_SECRETARY}),
    "meetings.attend": Rule(frozenset({Role.MEMBER, Role.CELL_CLERK})),
    "minutes.take": Rule(frozenset({Role.CELL_CLERK})),  # and be the meeting's clerk (meetings.selectors)
    # The bank of suggested topics for the cells' yearly plans of thematic meetings and forums (issue #18):
    # published by the Khối and the đảng ủy cơ sở for the cells below them.
    "plans.publish": Rule(_MANAGERS),
    # The upper level's materials for the cells' meetings (issue #17 item 5): the Khối's admin and a đảng ủy
    # cơ sở's officer publish them for their unit; the unit's staff follow which cells attached them and
    # who read them. The cells of the audience read them (meetings.selectors.get_material_for_reader_or_404).
    "materials.publish": Rule(_MANAGERS),
    "materials.track": Rule(_STAFF),
    # The upper level: confirms scores, decides ratings, inspects.
    "scores.confirm": Rule(_MANAGERS, ABOVE),
    "scores.confirm_assigned": Rule(frozenset({Role.COMMITTEE_VIEWER}), ABOVE),  # and supervise the cell
    "inspections.make": Rule(_MANAGERS, ABOVE),
    # The upper level's visit plan (issue #18; seed §II.5 "Đảng uỷ cơ sở phân công các đồng chí Đảng uỷ
    # viên dự sinh hoạt tại các chi bộ"): its staff see the plan of the unit they hold a role over, its
    # managers assign the committee members; a cell's upper-level staff read the visitors' observation
    # cards on the cell's meetings. The visitor confirms and writes his own card (the assignment's
    # visitor, checked in meetings.selectors next to the call).
    "visits.see": Rule(_STAFF),
    "visits.plan": Rule(_MANAGERS),
    "visits.observations": Rule(_STAFF, ABOVE),
    # The Khối's and the grassroots committees' dashboards and reports.
    "dashboards.see": Rule(_STAFF),
    "reports.run": Rule(_MANAGERS),
    # Training of bí thư and chi ủy viên (issue #18, item 5; cells/training.py): the upper levels read the
    # courses and the list of officers without the required course over their subtree; the Khối's admin
    # and a đảng ủy cơ sở's officer run the courses their unit organises (held over the course's organiser).
    # A cell's bí thư is one of those trained, not the one who keeps the record.
    "training.read": Rule(_STAFF),
    "training.manage": Rule(_MANAGERS),
    # Party admission (issue #18, item 4; cells/admission.py): the cell's bí thư proposes its candidates and
    # records their steps, as do the managers above it (the đảng ủy's proposal and the decision are theirs);
    # the upper levels' staff read the pipeline of their subtree.
    "admission.read": Rule(_STAFF | {Role.CELL_SECRETARY}),
    "admission.manage": Rule(_MANAGERS | {Role.CELL_SECRETARY}),
    # Roles reaching beyond one cell sign in with a second factor (issue #21; cells/selectors.py).
    "second_factor.required": Rule(_STAFF, ANYWHERE),
}


def roles_with(perm: str) -> frozenset[str]:
    """The roles that grant ``perm`` (for the selectors that filter by role)."""
    return PERMISSIONS[perm].roles


# --- the user's roles ------------------------------------------------------------------------

_CACHE_ATTR = "_cells_role_assignments"


def role_assignments_of(user) -> list[RoleAssignment]:
    """The user's assignments in force today, read once per request (cached on the user object)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    today = timezone.localdate()
    assignments = list(
        RoleAssignment.objects.filter(user=user, start__lte=today)
        .filter(Q(end__isnull=True) | Q(end__gte=today))
        .select_related("organisation")
        .order_by("organisation__path")
    )
    setattr(user, _CACHE_ATTR, assignments)
    return assignments


def roles_of(user) -> set[str]:
    roles = {a.role for a in role_assignments_of(user)}
    if user.is_authenticated and user.is_superuser:
        roles.add(Role.KHOI_ADMIN)
    return roles


def roles_over(user, organisation: Organisation) -> set[str]:
    """The roles the user holds on ``organisation`` through any of its ancestors (or itself)."""
    if user.is_authenticated and user.is_superuser:
        return set(Role.values)
    return {a.role for a in role_assignments_of(user) if organisation.path.startswith(a.organisation.path)}


def roles_above(user, organisation: Organisation) -> set[str]:
    """The roles the user holds on a strict ancestor of ``organisation`` (the upper level)."""
    if user.is_authenticated and user.is_superuser:
        return set(Role.values)
    return {
        a.role
        for a in role_assignments_of(user)
        if organisation.path.startswith(a.organisation.path) and a.organisation.path != organisation.path
    }


# --- the question ----------------------------------------------------------------------------


def can(user, perm: str, organisation: Organisation | None = None) -> bool:
    """Whether ``user`` has ``perm`` — on ``organisation`` by the rule's scope, or somewhere without one."""
    rule = PERMISSIONS[perm]
    if not getattr(user, "is_authenticated", False):
        return False
    if organisation is None or rule.scope == ANYWHERE:
        return bool(roles_of(user) & rule.roles)
    held = roles_above(user, organisation) if rule.scope == ABOVE else roles_over(user, organisation)
    return bool(held & rule.roles)


def can_under(user, perm: str, parent: Organisation) -> bool:
    """Whether ``user`` would have ``perm`` on a new unit placed under ``parent``: a new unit holds no role
    of its own, so its ancestors (strict or not) are ``parent`` and the units above it."""
    rule = PERMISSIONS[perm]
    if not getattr(user, "is_authenticated", False):
        return False
    held = roles_of(user) if rule.scope == ANYWHERE else roles_over(user, parent)
    return bool(held & rule.roles)


def require(user, perm: str, organisation: Organisation | None = None) -> None:
    """``can`` or 403."""
    if not can(user, perm, organisation):
        raise PermissionDenied


def permissions_of(user) -> dict[str, bool]:
    """Every permission the user holds somewhere, by code with "." as "_" (for the navigation)."""
    held = roles_of(user) if getattr(user, "is_authenticated", False) else set()
    return {perm.replace(".", "_"): bool(held & rule.roles) for perm, rule in PERMISSIONS.items()}
