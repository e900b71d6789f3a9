"""Reads of the cells app, and the one answer to "what may this user see".

Every view starts from these selectors, never from ``Model.objects``: an object outside the
user's subtrees answers 404, an object the user may see but not change answers 403.
"""

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from .models import CellMembership, Exemption, Member, Organisation, Position, Role, RoleAssignment, Suspension

MANAGE_MEMBERS = frozenset({Role.KHOI_ADMIN, Role.TCCS_OFFICER})
READ_MEMBERS = MANAGE_MEMBERS | {Role.COMMITTEE_VIEWER, Role.CELL_SECRETARY, Role.CELL_CLERK}
ALL_ROLES = frozenset(Role.values)

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
        return set(ALL_ROLES)
    return {a.role for a in role_assignments_of(user) if organisation.path.startswith(a.organisation.path)}


def _root_paths(user, roles) -> list[str] | None:
    """Paths of the subtrees the user covers with ``roles``; None means everything."""
    if user.is_authenticated and user.is_superuser:
        return None
    paths = sorted({a.organisation.path for a in role_assignments_of(user) if a.role in roles})
    # Drop paths nested in another one: the outer subtree covers them.
    roots: list[str] = []
    for path in paths:
        if not roots or not path.startswith(roots[-1]):
            roots.append(path)
    return roots


def _subtree_q(paths: list[str], field: str = "path") -> Q:
    query = Q(pk__in=[])
    for path in paths:
        query |= Q(**{f"{field}__startswith": path})
    return query


def organisations_visible_to(user, *, roles=READ_MEMBERS) -> QuerySet[Organisation]:
    paths = _root_paths(user, roles)
    organisations = Organisation.objects.all()
    if paths is None:
        return organisations
    return organisations.filter(_subtree_q(paths))


def sees_whole_khoi(user) -> bool:
    if user.is_authenticated and user.is_superuser:
        return True
    return any(a.role == Role.KHOI_ADMIN and a.organisation.depth == 1 for a in role_assignments_of(user))


def members_visible_to(user) -> QuerySet[Member]:
    """Members of the user's subtrees, plus the user's own member record."""
    members = Member.objects.all()
    if sees_whole_khoi(user):
        return members
    paths = _root_paths(user, READ_MEMBERS)
    query = _subtree_q(paths, "organisation__path")
    if user.is_authenticated:
        query |= Q(user=user)
    return members.filter(query)


def get_organisation_for_user_or_404(user, pk, *, write: bool = False, roles=READ_MEMBERS) -> Organisation:
    try:
        organisation = organisations_visible_to(user, roles=roles).get(pk=pk)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not roles_over(user, organisation) & MANAGE_MEMBERS:
        raise PermissionDenied
    return organisation


def can_manage_member(user, member: Member) -> bool:
    if sees_whole_khoi(user) and roles_of(user) & {Role.KHOI_ADMIN}:
        return True
    if member.organisation is None:
        return False
    return bool(roles_over(user, member.organisation) & MANAGE_MEMBERS)


def get_member_for_user_or_404(user, pk, *, write: bool = False) -> Member:
    try:
        member = members_visible_to(user).select_related("organisation", "user").get(pk=pk)
    except (Member.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not can_manage_member(user, member):
        raise PermissionDenied
    return member


def can_manage_members_somewhere(user) -> bool:
    return bool(roles_of(user) & MANAGE_MEMBERS)


def cells_for_member_forms(user) -> QuerySet[Organisation]:
    """Cells a user may put members into."""
    return organisations_visible_to(user, roles=MANAGE_MEMBERS).filter(kind__in=Organisation.CELL_KINDS)


# --- facts about members and cells -------------------------------------------------------


def _active_on(day: date) -> Q:
    return Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gte=day))


def exempt_member_ids(*, on: date | None = None) -> QuerySet:
    day = on or timezone.localdate()
    return Exemption.objects.filter(_active_on(day)).values("member_id")


def suspended_member_ids(*, on: date | None = None) -> QuerySet:
    day = on or timezone.localdate()
    return Suspension.objects.filter(_active_on(day)).values("member_id")


def member_list(*, user, search: str = "", cell_id=None, status: str = "", exempt: str = "") -> QuerySet[Member]:
    """The member list behind the filters of the list page."""
    today = timezone.localdate()
    members = (
        members_visible_to(user)
        .filter(state=Member.State.ACTIVE)
        .select_related("organisation")
        .annotate(is_exempt=Count("exemptions", filter=Q(exemptions__start__lte=today) & (
            Q(exemptions__end__isnull=True) | Q(exemptions__end__gte=today))))
    )
    if search:
        members = members.filter(
            Q(full_name__icontains=search) | Q(party_card_number__icontains=search) | Q(phone__icontains=search)
        )
    if cell_id:
        members = members.filter(organisation_id=cell_id)
    if status in Member.Status.values:
        members = members.filter(status=status)
    if exempt == "yes":
        members = members.filter(pk__in=exempt_member_ids(on=today))
    elif exempt == "no":
        members = members.exclude(pk__in=exempt_member_ids(on=today))
    return members.order_by("full_name", "pk")


def organisation_tree(*, user) -> QuerySet[Organisation]:
    """Visible organisations in tree order, each with the members of its subtree counted in SQL."""
    subtree_members = (
        Member.objects.filter(state=Member.State.ACTIVE, organisation__path__startswith=OuterRef("path"))
        .order_by()
        .values(dummy=Value(1))
        .annotate(total=Count("pk"))
        .values("total")
    )
    subtree_official = subtree_members.filter(status=Member.Status.OFFICIAL)
    return (
        organisations_visible_to(user)
        .exclude(kind=Organisation.Kind.TO_DANG)
        .annotate(
            member_count=Coalesce(Subquery(subtree_members, output_field=IntegerField()), 0),
            official_count=Coalesce(Subquery(subtree_official, output_field=IntegerField()), 0),
        )
        .order_by("path")
    )


COMMITTEE_THRESHOLD = 9


def cell_summary(*, cell: Organisation) -> dict:
    """Counts of a cell's current members and whether it has a chi ủy."""
    today = timezone.localdate()
    exempt_ids = exempt_member_ids(on=today)
    counts = Member.objects.filter(organisation=cell, state=Member.State.ACTIVE).aggregate(
        total=Count("pk"),
        official=Count("pk", filter=Q(status=Member.Status.OFFICIAL)),
        probationary=Count("pk", filter=Q(status=Member.Status.PROBATIONARY)),
        exempt=Count("pk", filter=Q(pk__in=exempt_ids)),
    )
    has_committee = (
        cell.committee_override if cell.committee_override is not None else counts["official"] >= COMMITTEE_THRESHOLD
    )
    return {**counts, "has_committee": has_committee}


def current_positions(*, organisation: Organisation) -> QuerySet[Position]:
    today = timezone.localdate()
    return organisation.positions.filter(_active_on(today)).select_related("member").order_by("kind", "start")


def membership_history(*, member: Member) -> QuerySet[CellMembership]:
    return member.memberships.select_related("organisation").order_by("-start")


def _one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def probation_reviews_due(*, organisations: QuerySet[Organisation], within_days: int = 60) -> QuerySet[Member]:
    """Probationary members whose 12-month review falls within ``within_days`` (or is overdue)."""
    horizon = timezone.localdate() + timedelta(days=within_days)
    return (
        Member.objects.filter(
            organisation__in=organisations,
            state=Member.State.ACTIVE,
            status=Member.Status.PROBATIONARY,
            admission_ceremony_date__lte=_one_year_before(horizon),
        )
        .select_related("organisation")
        .order_by("admission_ceremony_date")
    )
