"""Reads of the cells app, and the one answer to "what may this user see".

Every view starts from these selectors, never from ``Model.objects``: an object outside the
user's subtrees answers 404, an object the user may see but not change answers 403.
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from lib.dates import add_years, next_month

from .models import (
    PATH_STEP_WIDTH,
    Candidate,
    CandidateDocument,
    CellMembership,
    CourseAttendance,
    Exemption,
    Member,
    Organisation,
    Position,
    RecoveryCode,
    Role,
    RoleAssignment,
    Suspension,
    TrainingCourse,
    UserSession,
)
from .permissions import can, role_assignments_of, roles_of, roles_over, roles_with  # noqa: F401 (re-exported)
from .training import ORGANISER_KINDS, posts_in_force

if TYPE_CHECKING:
    from .admission import StepState
    from .dues import DuesShare

# The role sets the reads filter by, from the permission table (cells/permissions.py).
MANAGE_MEMBERS = roles_with("members.manage")
READ_MEMBERS = roles_with("members.read")
ALL_ROLES = frozenset(Role.values)

# Where each role may be held: the level whose work it is (design §2).
ROLE_LEVELS: dict[str, tuple[str, ...]] = {
    Role.KHOI_ADMIN: (Organisation.Kind.KHOI,),
    Role.COMMITTEE_VIEWER: (Organisation.Kind.KHOI, *Organisation.TCCS_KINDS, Organisation.Kind.DANG_BO_BO_PHAN),
    Role.TCCS_OFFICER: (*Organisation.TCCS_KINDS, Organisation.Kind.DANG_BO_BO_PHAN),
    Role.CELL_SECRETARY: Organisation.CELL_KINDS,
    Role.CELL_CLERK: Organisation.CELL_KINDS,
    Role.MEMBER: Organisation.CELL_KINDS,
}
# Roles of a cell's own members: held by the account of a member of that cell.
CELL_MEMBER_ROLES = frozenset({Role.CELL_SECRETARY, Role.CELL_CLERK, Role.MEMBER})
# Who may grant and end which roles within their subtree: the Khối's admins any; a đảng ủy cơ sở's
# officer any but the Khối's own (nobody raises themselves above their level).
GRANTS: dict[str, frozenset[str]] = {
    Role.KHOI_ADMIN: frozenset(Role.values),
    Role.TCCS_OFFICER: frozenset(Role.values) - {Role.KHOI_ADMIN},
}

# Who must sign in with a second factor (TOTP) after the password (issue #21). These roles reach
# beyond one cell (design §2): the Khối's admin everything, a committee viewer and a đảng ủy cơ sở's
# officer the members, ID numbers and exports of a whole subtree of cells, and they grant roles; one
# guessed or phished password of theirs exposes thousands of members. Staff accounts (the Django
# admin) are held to it too (``second_factor_required``). A cell's secretary, clerk and members reach
# one cell's records: for them it is offered on the account page, not imposed.
SECOND_FACTOR_REQUIRED_ROLES = roles_with("second_factor.required")


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


def _subtree_q(paths: list[str] | None, field: str = "path") -> Q:
    """The organisations under ``paths`` (``_root_paths``'s answer: None is everything)."""
    if paths is None:
        return Q()
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
    if not user.is_authenticated:
        return members.filter(query)
    if paths and min(len(path) for path in paths) > PATH_STEP_WIDTH:
        # Below the Khối (a TCCS, a cell): a UNION of the two halves, each on its own index, instead
        # of an OR across the join that scans every member (a cell's list at 60,000 members: 0.2 ms
        # instead of 23 ms). For the whole Khối the plain OR is the faster plan.
        in_subtrees = Member.objects.filter(query).order_by().values("pk")
        return members.filter(pk__in=in_subtrees.union(Member.objects.filter(user=user).order_by().values("pk")))
    return members.filter(query | Q(user=user))


IDENTIFIER_FIELDS = ("citizen_id", "party_card_number")


def identifiers_taken(*, user, values: dict, exclude_pk=None) -> dict[str, bool]:
    """The identifiers among ``values`` (citizen ID, party card number) that another member holds,
    each with whether ``user`` may see that member (``user`` None: a system write, sees all).

    The uniqueness of these numbers is Khối-wide, but saying "already exists" about a member outside
    the user's subtree would let anyone probe whose numbers are on file: the message depends on this.
    """
    wanted = {key: values[key] for key in IDENTIFIER_FIELDS if values.get(key)}
    if not wanted:
        return {}
    query = Q()
    for key, value in wanted.items():
        query |= Q(**{key: value})
    holders = Member.objects.filter(query).exclude(pk=exclude_pk)
    visible = (
        set()
        if user is None
        else set(members_visible_to(user).filter(pk__in=holders.values("pk")).values_list("pk", flat=True))
    )
    taken: dict[str, bool] = {}
    for holder in holders.only("pk", *IDENTIFIER_FIELDS):
        for key, value in wanted.items():
            if getattr(holder, key) == value:
                taken[key] = taken.get(key, False) or user is None or holder.pk in visible
    return taken


def get_organisation_for_user_or_404(user, pk, *, write: bool = False, roles=READ_MEMBERS) -> Organisation:
    try:
        organisation = organisations_visible_to(user, roles=roles).get(pk=pk)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not roles_over(user, organisation) & MANAGE_MEMBERS:
        raise PermissionDenied
    return organisation


def roles_grantable(user, organisation: Organisation) -> list[str]:
    """The roles ``user`` may grant and end on ``organisation`` (GRANTS × ROLE_LEVELS), in Role order."""
    allowed = set().union(*(GRANTS.get(role, ()) for role in roles_over(user, organisation)))
    return [role for role in Role.values if role in allowed and organisation.kind in ROLE_LEVELS[role]]


def role_assignments_on(*, organisation: Organisation) -> QuerySet[RoleAssignment]:
    """The roles on ``organisation`` in force today or starting later, for its rights page."""
    today = timezone.localdate()
    return (
        RoleAssignment.objects.filter(organisation=organisation)
        .filter(Q(end__isnull=True) | Q(end__gte=today))
        .select_related("user", "user__member")
        .order_by("role", "user__username", "start")
    )


def get_role_assignment_for_user_or_404(user, pk, *, write: bool = False) -> RoleAssignment:
    """A role on an organisation the user reads (404 otherwise); with ``write``, one they may end (403)."""
    try:
        assignment = RoleAssignment.objects.select_related("organisation", "user").get(
            pk=pk, organisation__in=organisations_visible_to(user)
        )
    except (RoleAssignment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and assignment.role not in roles_grantable(user, assignment.organisation):
        raise PermissionDenied
    return assignment


MANAGE_TREE = roles_with("tree.manage")


def organisations_to_place_under(user) -> QuerySet[Organisation]:
    """The units under which ``user`` may place a unit (``can_under(user, "tree.manage", parent)``): the
    subtrees where they hold a role of "tree.manage", in tree order."""
    return organisations_visible_to(user, roles=MANAGE_TREE).order_by("path")


def get_position_for_user_or_404(user, pk, *, write: bool = False) -> Position:
    """A position in an organisation the user reads (404 otherwise); with ``write``, one they may end (403)."""
    try:
        position = Position.objects.select_related("organisation", "member").get(
            pk=pk, organisation__in=organisations_visible_to(user)
        )
    except (Position.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not can(user, "positions.assign", position.organisation):
        raise PermissionDenied
    return position


def can_manage_member(user, member: Member) -> bool:
    if sees_whole_khoi(user) and roles_of(user) & {Role.KHOI_ADMIN}:
        return True
    if member.organisation is None:
        return False
    return can(user, "members.manage", member.organisation)


def get_member_for_user_or_404(user, pk, *, write: bool = False) -> Member:
    try:
        member = members_visible_to(user).select_related("organisation", "user").get(pk=pk)
    except (Member.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not can_manage_member(user, member):
        raise PermissionDenied
    return member


def can_manage_members_somewhere(user) -> bool:
    return can(user, "members.manage")


def cells_for_member_forms(user) -> QuerySet[Organisation]:
    """Cells a user may put members into."""
    return organisations_visible_to(user, roles=MANAGE_MEMBERS).filter(kind__in=Organisation.CELL_KINDS)


# --- facts about members and cells -------------------------------------------------------


def _active_on(day: date) -> Q:
    return Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gte=day))


def exempt_member_ids(*, on: date | None = None) -> QuerySet:
    day = on or timezone.localdate()
    return Exemption.objects.filter(_active_on(day)).values("member_id")


def attached_member_ids(*, on: date | None = None) -> QuerySet:
    """Members attached to a party organisation elsewhere on ``on`` (TemporaryAttachment)."""
    from .models import TemporaryAttachment

    day = on or timezone.localdate()
    return TemporaryAttachment.objects.filter(_active_on(day)).values("member_id")


def suspended_member_ids(*, on: date | None = None) -> QuerySet:
    day = on or timezone.localdate()
    return Suspension.objects.filter(_active_on(day)).values("member_id")


def member_list(
    *, user, search: str = "", tccs_id=None, cell_id=None, status: str = "", exempt: str = ""
) -> QuerySet[Member]:
    """The member list behind the filters of the list page; ``tccs_id`` keeps the members of that subtree."""
    today = timezone.localdate()
    exempt_today = Exemption.objects.filter(_active_on(today), member=OuterRef("pk"))
    members = (
        members_visible_to(user)
        .filter(state=Member.State.ACTIVE)
        .select_related("organisation")
        # EXISTS, not a COUNT over a join: no GROUP BY over every member column, and the paginator's
        # COUNT(*) leaves it out.
        .annotate(is_exempt=Exists(exempt_today))
    )
    if search:
        from .privacy import may_see_personal_somewhere

        query = Q(full_name__icontains=search) | Q(party_card_number__icontains=search)
        if may_see_personal_somewhere(user):
            # A phone is searched only by those who may read phones (cells/privacy.py): a masked
            # number must not be found out digit by digit through the search box.
            query |= Q(phone__icontains=search)
        members = members.filter(query)
    if tccs_id:
        tccs_path = Organisation.objects.filter(pk=tccs_id).values("path")[:1]
        members = members.filter(organisation__path__startswith=Subquery(tccs_path))
    if cell_id:
        members = members.filter(organisation_id=cell_id)
    if status in Member.Status.values:
        members = members.filter(status=status)
    if exempt == "yes":
        members = members.filter(Exists(exempt_today))
    elif exempt == "no":
        members = members.exclude(Exists(exempt_today))
    return members.order_by("full_name", "pk")


def member_filter_choices(
    *, user, tccs_id: int | None = None, cell_id: int | None = None
) -> tuple[list, list, int | None]:
    """The choices of the member list's filter: (TCCS, cells, the TCCS in force), (id, name) pairs in tree order.

    A user who sees more than one TCCS picks the TCCS first and then one of its cells: thousands of
    cells in one drop-down are slow to send and useless on a phone. For the others the TCCS list is
    empty and they choose among all the cells they see. A cell chosen without its TCCS (an old link)
    brings its TCCS along. Only ids and names are read; two or three queries whatever the size.
    """
    visible = organisations_visible_to(user)
    tccs = list(visible.filter(kind__in=Organisation.TCCS_KINDS).order_by("path").values_list("pk", "name", "path"))
    cells = visible.filter(kind__in=Organisation.CELL_KINDS).order_by("path")
    if len(tccs) <= 1:
        return [], list(cells.values_list("pk", "name")), None
    chosen = next((path for pk, _name, path in tccs if pk == tccs_id), None)
    if chosen is None and cell_id:
        cell_path = cells.filter(pk=cell_id).values_list("path", flat=True).first() or ""
        chosen = max((path for _pk, _name, path in tccs if cell_path.startswith(path)), key=len, default=None)
    if chosen is None:
        return [(pk, name) for pk, name, _path in tccs], [], None
    return (
        [(pk, name) for pk, name, _path in tccs],
        list(cells.filter(path__startswith=chosen).values_list("pk", "name")),
        next(pk for pk, _name, path in tccs if path == chosen),
    )


def ancestor_ids(paths: dict[int, str]) -> dict[int, list[int]]:
    """Each organisation's organisations above it, by id, from the top down: the organisations whose
    paths are the proper prefixes of its path (``Organisation.path``). ``paths``: id → path; one query."""
    prefixes = {path[:end] for path in paths.values() for end in range(PATH_STEP_WIDTH, len(path), PATH_STEP_WIDTH)}
    ids = dict(Organisation.objects.filter(path__in=prefixes).values_list("path", "pk")) if prefixes else {}
    return {
        pk: [ids[path[:end]] for end in range(PATH_STEP_WIDTH, len(path), PATH_STEP_WIDTH) if path[:end] in ids]
        for pk, path in paths.items()
    }


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


POSITION_ORDER = [
    Position.Kind.SECRETARY,
    Position.Kind.DEPUTY_SECRETARY,
    Position.Kind.COMMITTEE_MEMBER,
    Position.Kind.GROUP_LEADER,
    Position.Kind.GROUP_DEPUTY,
    Position.Kind.SUPERVISOR,
]


def current_positions(*, organisation: Organisation) -> QuerySet[Position]:
    today = timezone.localdate()
    rank = Case(
        *[When(kind=kind, then=Value(order)) for order, kind in enumerate(POSITION_ORDER)],
        default=Value(len(POSITION_ORDER)),
        output_field=IntegerField(),
    )
    return organisation.positions.filter(_active_on(today)).select_related("member").order_by(rank, "start")


# Who signs a document "T/M <body>" (HD 36-HD/VPTW, domain-research §6.1): the bí thư, or where there
# is none on the day, the phó bí thư, over the words of that position.
SIGNER_KINDS = (Position.Kind.SECRETARY, Position.Kind.DEPUTY_SECRETARY)
# Party documents are Vietnamese whatever the reader's language.
SIGNER_TITLES: dict[str, str] = {Position.Kind.SECRETARY: "BÍ THƯ", Position.Kind.DEPUTY_SECRETARY: "PHÓ BÍ THƯ"}


def document_signer(*, organisation: Organisation, on: date) -> tuple[str, Member | None]:
    """The position title ("BÍ THƯ" / "PHÓ BÍ THƯ") and the member who signs for ``organisation`` on ``on``;
    ("BÍ THƯ", None) when nobody holds either post then (the document leaves the name to be written)."""
    position = (
        Position.objects.filter(organisation=organisation, kind__in=SIGNER_KINDS, start__lte=on)
        .filter(Q(end__isnull=True) | Q(end__gte=on))
        .select_related("member")
        .order_by(Case(When(kind=Position.Kind.SECRETARY, then=Value(0)), default=Value(1)), "-start")
        .first()
    )
    if position is None:
        return SIGNER_TITLES[Position.Kind.SECRETARY], None
    return SIGNER_TITLES[position.kind], position.member


def membership_history(*, member: Member) -> QuerySet[CellMembership]:
    return member.memberships.select_related("organisation").order_by("-start")


def probation_reviews_due(*, organisations: QuerySet[Organisation], within_days: int = 60) -> QuerySet[Member]:
    """Probationary members whose 12-month review falls within ``within_days`` (or is overdue)."""
    horizon = timezone.localdate() + timedelta(days=within_days)
    return (
        Member.objects.filter(
            organisation__in=organisations,
            state=Member.State.ACTIVE,
            status=Member.Status.PROBATIONARY,
            admission_ceremony_date__lte=add_years(horizon, -1),
        )
        .select_related("organisation")
        .order_by("admission_ceremony_date")
    )


# --- the cell's books ----------------------------------------------------------------------

# Who keeps a cell's books (documents, commitments, dues): its secretary and the managers above it.
MANAGE_BOOKS = roles_with("books.keep")


def can_keep_books(user, organisation: Organisation) -> bool:
    return can(user, "books.keep", organisation)


def get_cell_for_books_or_404(user, pk, *, write: bool = False) -> Organisation:
    """A cell whose books the user may read (404 otherwise); with ``write``, keep (403 otherwise)."""
    organisation = get_organisation_for_user_or_404(user, pk)
    if not organisation.is_cell:
        raise Http404
    if write and not can_keep_books(user, organisation):
        raise PermissionDenied
    return organisation


def get_member_books_for_user_or_404(user, cell: Organisation, member_pk) -> Member:
    """A member who belongs or belonged to ``cell`` (the cell's books name past members too)."""
    member = members_ever_in_cell(cell=cell).filter(pk=member_pk).first() if str(member_pk).isdigit() else None
    if member is None:
        raise Http404
    return member


def members_ever_in_cell(*, cell: Organisation) -> QuerySet[Member]:
    ids = CellMembership.objects.filter(organisation=cell).values("member_id")
    return Member.objects.filter(pk__in=ids).order_by("full_name", "pk")


def members_in_cell_during(*, cell: Organisation, start: date, end: date) -> QuerySet[Member]:
    """Members who belonged to ``cell`` on at least one day between ``start`` and ``end``."""
    ids = (
        CellMembership.objects.filter(organisation=cell, start__lte=end)
        .filter(Q(end__isnull=True) | Q(end__gte=start))
        .values("member_id")
    )
    return Member.objects.filter(pk__in=ids).order_by("full_name", "pk")


# dues


def dues_ledger(*, cell: Organisation, month: date) -> QuerySet:
    """The lines of the cell's dues book for ``month`` (first day), in name order."""
    from .models import DuesPayment

    return (
        DuesPayment.objects.filter(organisation=cell, month=month)
        .select_related("member", "rate_rule")
        .order_by("member__full_name", "member__pk")
    )


def dues_totals(lines: QuerySet) -> dict:
    """Totals of a set of dues lines, in one aggregate query."""
    from django.db.models import F, Sum

    totals = lines.order_by().aggregate(
        lines=Count("pk"),
        base=Coalesce(Sum("base"), 0),
        due=Coalesce(Sum("amount_due"), 0),
        paid=Coalesce(Sum("amount_paid"), 0),
        paid_lines=Count("pk", filter=Q(amount_paid__gte=F("amount_due"))),
        arrears=Coalesce(Sum(F("amount_due") - F("amount_paid"), filter=Q(amount_paid__lt=F("amount_due"))), 0),
    )
    return totals


def dues_members_without_line(*, cell: Organisation, month: date) -> QuerySet[Member]:
    """Members of the cell in ``month`` who have no line in its book yet."""
    from lib.dates import month_end

    return members_in_cell_during(cell=cell, start=month, end=month_end(month)).exclude(dues_payments__month=month)


# Điều lệ Đảng Art. 8.2: a member who does not pay dues for three months of a year without a valid
# reason is considered for removal (xóa tên). The one home of the "unpaid dues" indicator's threshold:
# the dashboards' warning, the reminder and the member's page read it (meetings.indicators re-exports it).
UNPAID_DUES_MONTHS = 3


def members_with_unpaid_months(
    *, organisations: QuerySet[Organisation], year: int, threshold: int = UNPAID_DUES_MONTHS
) -> QuerySet:
    """Members with ``threshold`` or more months of ``year`` not paid in full (the xóa tên alert).

    A month counts when its line in a book of ``organisations`` shows less paid than due. The query
    starts from those dues lines (WHERE, GROUP BY member, HAVING COUNT), so that only the few alerted
    members are joined to their lines again for ``unpaid_months`` and ``unpaid_amount`` — not every
    member of the Khối. One SQL query.
    """
    from django.db.models import F, Sum

    alerted = _unpaid_alerted(organisations=organisations, year=year, threshold=threshold)
    unpaid = Q(
        dues_payments__month__year=year,
        dues_payments__organisation__in=organisations,
        dues_payments__amount_paid__lt=F("dues_payments__amount_due"),
    )
    return (
        Member.objects.filter(pk__in=alerted)
        .annotate(
            unpaid_months=Count("dues_payments", filter=unpaid),
            unpaid_amount=Coalesce(
                Sum(F("dues_payments__amount_due") - F("dues_payments__amount_paid"), filter=unpaid), 0
            ),
        )
        .select_related("organisation")
        .order_by("-unpaid_months", "full_name", "pk")
    )


def count_members_with_unpaid_months(
    *, organisations: QuerySet[Organisation], year: int, threshold: int = UNPAID_DUES_MONTHS
) -> int:
    """How many members ``members_with_unpaid_months`` lists, without joining them back (the warning's count)."""
    return _unpaid_alerted(organisations=organisations, year=year, threshold=threshold).count()


def _unpaid_alerted(*, organisations: QuerySet[Organisation], year: int, threshold: int) -> QuerySet:
    """The ids of members with ``threshold`` or more unpaid lines in ``year``: read from the unpaid-lines index."""
    from django.db.models import F

    from .models import DuesPayment

    return (
        DuesPayment.objects.filter(month__year=year, organisation__in=organisations, amount_paid__lt=F("amount_due"))
        .order_by()
        .values("member_id")
        .annotate(months=Count("pk"))
        .filter(months__gte=threshold)
        .values("member_id")
    )


def member_dues_history(*, member: Member) -> QuerySet:
    return member.dues_payments.select_related("organisation", "rate_rule").order_by("-month")


# the dues book: the share kept and remitted, the activity funds, the monthly balance


@dataclass(frozen=True)
class BookMonth:
    """One month of the cell's book "Sổ theo dõi thu, chi đảng phí, kinh phí hoạt động của chi bộ".

    ``opening`` includes a balance brought forward from a paper book in this month; ``closing`` is
    opening + collected − remitted + funds in − spent. ``share`` splits what was collected (the
    members' payments recorded on this month's page) under the rule in force that month.
    """

    month: date
    opening: int
    brought_forward: int
    collected: int
    share: "DuesShare"
    remitted: int
    funds_in: int
    spent: int
    closing: int

    @property
    def kept(self) -> int | None:
        return self.share.kept

    @property
    def is_empty(self) -> bool:
        """Nothing held and nothing moved: a month before the cell kept its book here."""
        return not (self.opening or self.collected or self.remitted or self.funds_in or self.spent)

    @property
    def to_remit(self) -> int | None:
        return self.share.to_remit

    @property
    def outstanding(self) -> int | None:
        """What is still owed upward for the month (None when no rule states the share)."""
        return None if self.share.to_remit is None else max(self.share.to_remit - self.remitted, 0)

    @property
    def remitted_in_full(self) -> bool:
        from .dues import month_remitted

        return month_remitted(share=self.share, remitted=self.remitted)


def dues_book_months(*, cell: Organisation, start: date, end: date) -> list[BookMonth]:
    """The balance of each month from ``start`` to ``end`` (first days), from every movement before them.

    Three grouped queries (dues lines, remittances, fund entries, each summed by month over the cell's
    whole history up to ``end``), whatever the number of lines or months; the running balance is then
    carried month by month, so December's closing is January's opening.
    """
    from django.db.models import Sum
    from django.db.models.functions import TruncMonth

    from lib.dates import month_end

    from .dues import dues_share
    from .models import CellFundEntry, DuesPayment, DuesRemittance

    collected = dict(
        DuesPayment.objects.filter(organisation=cell, month__lte=end)
        .order_by()
        .values("month")
        .annotate(total=Sum("amount_paid"))
        .values_list("month", "total")
    )
    remitted = dict(
        DuesRemittance.objects.filter(organisation=cell, month__lte=end)
        .order_by()
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    funds: dict[tuple[date, str], int] = {}
    for month, kind, total in (
        CellFundEntry.objects.filter(organisation=cell, entry_date__lte=month_end(end))
        .order_by()
        .annotate(month=TruncMonth("entry_date"))
        .values("month", "kind")
        .annotate(total=Sum("amount"))
        .values_list("month", "kind", "total")
    ):
        funds[(month, kind)] = total
    first = min([start, *collected, *remitted, *(m for m, _kind in funds)])
    balance, rows, month = 0, [], first
    Kind = CellFundEntry.Kind
    while month <= end:
        brought_forward = funds.get((month, Kind.BROUGHT_FORWARD), 0)
        row = BookMonth(
            month=month,
            opening=balance + brought_forward,
            brought_forward=brought_forward,
            collected=collected.get(month, 0) or 0,
            share=dues_share(collected=collected.get(month, 0) or 0, cell_kind=cell.kind, month=month),
            remitted=remitted.get(month, 0) or 0,
            funds_in=funds.get((month, Kind.RECEIPT), 0),
            spent=funds.get((month, Kind.EXPENSE), 0),
            closing=0,
        )
        balance = row.opening + row.collected - row.remitted + row.funds_in - row.spent
        if month >= start:
            rows.append(replace(row, closing=balance))
        month = next_month(month)
    return rows


def dues_remittances(*, cell: Organisation, month: date) -> QuerySet:
    """The remittances the cell made for ``month``, in date order."""
    from .models import DuesRemittance

    return DuesRemittance.objects.filter(organisation=cell, month=month).order_by("remitted_on", "pk")


def fund_entries(*, cell: Organisation, month: date) -> QuerySet:
    """The activity-fund lines dated in ``month`` (a balance brought forward included), in date order."""
    from lib.dates import month_end

    from .models import CellFundEntry

    return CellFundEntry.objects.filter(
        organisation=cell, entry_date__gte=month, entry_date__lte=month_end(month)
    ).order_by("entry_date", "pk")


@dataclass(frozen=True)
class CellRemittance:
    """Where one cell stands on remitting ``month``'s dues upward (the đảng ủy's list)."""

    cell: Organisation
    lines: int
    collected: int
    remitted: int
    share: "DuesShare"

    @property
    def outstanding(self) -> int | None:
        return None if self.share.to_remit is None else max(self.share.to_remit - self.remitted, 0)

    @property
    def status(self) -> str:
        from .dues import month_remitted

        if not self.lines:
            return "no_book"
        if not self.collected and not self.remitted:
            return "nothing_collected"
        if month_remitted(share=self.share, remitted=self.remitted):
            return "remitted"
        return "partial" if self.remitted else "not_remitted"

    @property
    def status_label(self) -> str:
        return str(REMITTANCE_STATUS_LABELS[self.status])


REMITTANCE_STATUS_LABELS = {
    "no_book": _("Chưa lập sổ tháng"),
    "nothing_collected": _("Chưa thu được đảng phí"),
    "remitted": _("Đã nộp đủ"),
    "partial": _("Nộp chưa đủ"),
    "not_remitted": _("Chưa nộp"),
}


def cells_remittance_status(*, organisation: Organisation, month: date) -> list[CellRemittance]:
    """Every cell of ``organisation``'s subtree active in ``month``, with what it collected and remitted.

    One query: the cells, each annotated with its dues lines, the sum paid on them and the sum remitted
    for the month (correlated subqueries); the share owed is the one rule of ``cells.dues.dues_share``.
    """
    from django.db.models import Sum

    from lib.dates import month_end

    from .dues import dues_share
    from .models import DuesPayment, DuesRemittance

    lines = DuesPayment.objects.filter(organisation=OuterRef("pk"), month=month).order_by().values("organisation")
    remittances = (
        DuesRemittance.objects.filter(organisation=OuterRef("pk"), month=month).order_by().values("organisation")
    )
    cells = (
        Organisation.objects.filter(path__startswith=organisation.path, kind__in=Organisation.CELL_KINDS)
        .filter(Q(active_from__isnull=True) | Q(active_from__lte=month_end(month)))
        .filter(Q(active_to__isnull=True) | Q(active_to__gte=month))
        .annotate(
            line_count=Coalesce(Subquery(lines.annotate(n=Count("pk")).values("n")), 0),
            collected=Coalesce(Subquery(lines.annotate(total=Sum("amount_paid")).values("total")), 0),
            remitted=Coalesce(Subquery(remittances.annotate(total=Sum("amount")).values("total")), 0),
        )
        .select_related("parent")
        .order_by("path")
    )
    return [
        CellRemittance(
            cell=cell,
            lines=cell.line_count,
            collected=cell.collected,
            remitted=cell.remitted,
            share=dues_share(collected=cell.collected, cell_kind=cell.kind, month=month),
        )
        for cell in cells
    ]


# required documents


def current_term(*, organisation: Organisation, on: date):
    return (
        organisation.terms.filter(start__lte=on).filter(Q(end__isnull=True) | Q(end__gte=on)).order_by("-start").first()
    )


def _document_for(*, period_field: str, year: int, on: date):
    """A subquery filter: the cell's document of one type for the year, or for the term in force on ``on``."""
    if period_field == "year":
        return Q(year=year)
    return Q(term__start__lte=on) & (Q(term__end__isnull=True) | Q(term__end__gte=on))


def required_documents_of_cell(*, cell: Organisation, year: int, on: date) -> QuerySet:
    """The active document types, each with the cell's document for ``year`` / the current term (or none)."""
    from django.db.models import Case, CharField, When

    from .models import CellDocument, RequiredDocumentType

    def pick(field, period):
        docs = CellDocument.objects.filter(organisation=cell, document_type=OuterRef("pk")).filter(
            _document_for(period_field=period, year=year, on=on)
        )
        return Subquery(docs.values(field)[:1])

    return (
        RequiredDocumentType.objects.filter(active=True)
        .annotate(
            document_id=Case(
                When(period="year", then=pick("pk", "year")), default=pick("pk", "term"), output_field=IntegerField()
            ),
            adopted_on=Case(When(period="year", then=pick("adopted_on", "year")), default=pick("adopted_on", "term")),
            original_name=Case(
                When(period="year", then=pick("original_name", "year")),
                default=pick("original_name", "term"),
                output_field=CharField(),
            ),
        )
        .order_by("period", "order", "pk")
    )


def documents_table(*, organisation: Organisation, year: int, on: date) -> tuple[list, QuerySet, dict]:
    """Cells of ``organisation``'s subtree × active document types: which cell has which document.

    Returns (types, cells, totals): each cell carries a ``doc_<type id>`` boolean and ``done`` count
    annotated in SQL; ``totals`` maps type id to the number of cells having it (one grouped query).
    """
    from django.db.models import Exists

    from .models import CellDocument, RequiredDocumentType

    types = list(RequiredDocumentType.objects.filter(active=True).order_by("period", "order", "pk"))
    cells = Organisation.objects.filter(path__startswith=organisation.path, kind__in=Organisation.CELL_KINDS)
    annotations = {}
    for doc_type in types:
        docs = CellDocument.objects.filter(organisation=OuterRef("pk"), document_type=doc_type).filter(
            _document_for(period_field=doc_type.period, year=year, on=on)
        )
        annotations[f"doc_{doc_type.pk}"] = Exists(docs)
    cells = cells.annotate(**annotations).order_by("path")
    # One grouped query for the per-type totals (the same conditions, counted by the database).
    in_year = Q(document_type__period="year", year=year)
    in_term = Q(document_type__period="term") & _document_for(period_field="term", year=year, on=on)
    totals = dict(
        CellDocument.objects.filter(organisation__in=cells.values("pk"), document_type__active=True)
        .filter(in_year | in_term)
        .values("document_type")
        .annotate(cells=Count("organisation", distinct=True))
        .values_list("document_type", "cells")
    )
    return types, cells, totals


def get_document_for_user_or_404(user, pk):
    from .models import CellDocument

    try:
        return CellDocument.objects.select_related("organisation", "document_type").get(
            pk=pk, organisation__in=organisations_visible_to(user)
        )
    except (CellDocument.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# commitments


def commitments_of_cell(*, cell: Organisation, year: int) -> QuerySet[Member]:
    """The cell's current members, each with their commitment of ``year`` (or None) annotated."""
    from django.db.models import DateTimeField

    from .models import MemberCommitment

    commitment = MemberCommitment.objects.filter(member=OuterRef("pk"), year=year)
    return (
        Member.objects.filter(organisation=cell, state=Member.State.ACTIVE)
        .annotate(
            commitment_id=Subquery(commitment.values("pk")[:1], output_field=IntegerField()),
            commitment_confirmed_at=Subquery(commitment.values("confirmed_at")[:1], output_field=DateTimeField()),
            commitment_source=Subquery(commitment.values("source")[:1]),
        )
        .order_by("commitment_id", "full_name", "pk")
    )


# lifecycle


def lifecycle_of_cell(*, cell: Organisation) -> dict:
    """What the secretary follows for the cell's members: probation reviews, exemptions, suspensions."""
    today = timezone.localdate()
    members = Member.objects.filter(organisation=cell, state=Member.State.ACTIVE)
    return {
        "members": members.order_by("full_name", "pk"),
        "probation_due": probation_reviews_due(organisations=Organisation.objects.filter(pk=cell.pk)),
        "probationary": members.filter(status=Member.Status.PROBATIONARY).order_by("admission_ceremony_date", "pk"),
        "exemptions": Exemption.objects.filter(member__in=members).filter(_active_on(today)).select_related("member"),
        "suspensions": Suspension.objects.filter(member__in=members).filter(_active_on(today)).select_related("member"),
    }


# --- sign-in: the second factor and the sessions (issue #21) ---------------------------------------


def second_factor_required(user) -> bool:
    """Whether the user may not use the portal before passing a second factor."""
    if not user.is_authenticated:
        return False
    return user.is_staff or user.is_superuser or bool(roles_of(user) & SECOND_FACTOR_REQUIRED_ROLES)


def totp_device_of(user, *, confirmed=True):
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-pk").first()


def recovery_codes_left(user) -> int:
    return RecoveryCode.objects.filter(device__user=user, device__confirmed=True).count()


def user_sessions_of(user) -> QuerySet:
    """The user's sessions still open (their database session exists and has not expired), most recent first."""
    open_keys = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return UserSession.objects.filter(user=user, session_key__in=open_keys).order_by("-last_seen_at", "-pk")


# --- personal data: the corrections members ask for ----------------------------------------


def corrections_to_decide(user) -> QuerySet:
    """The open correction requests of the members ``user`` manages (khối admin, TCCS officer), oldest first."""
    from .models import PersonalDataCorrection

    if not can_manage_members_somewhere(user):
        return PersonalDataCorrection.objects.none()
    managed = Member.objects.all()
    if not (sees_whole_khoi(user) and Role.KHOI_ADMIN in roles_of(user)):
        managed = managed.filter(_subtree_q(_root_paths(user, MANAGE_MEMBERS), "organisation__path"))
    return (
        PersonalDataCorrection.objects.filter(
            status=PersonalDataCorrection.Status.PENDING, member__in=managed.values("pk")
        )
        .select_related("member", "member__organisation")
        .order_by("created_at", "pk")
    )


def get_correction_for_user_or_404(user, pk, *, write: bool = False):
    """A correction of a member the user sees (404 otherwise); with ``write``, one they decide (403)."""
    from .models import PersonalDataCorrection

    try:
        correction = PersonalDataCorrection.objects.select_related("member", "member__organisation").get(
            pk=pk, member__in=members_visible_to(user).values("pk")
        )
    except (PersonalDataCorrection.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not can_manage_member(user, correction.member):
        raise PermissionDenied
    return correction


def corrections_of(*, member: Member) -> QuerySet:
    return member.corrections.select_related("decided_by").order_by("-created_at", "-pk")


def export_scope(user, cell_id=None) -> Organisation | None:
    """The organisation an export's audit row is filed under: the chosen cell, else the highest
    organisation the user reads members of (so that the officers above see the row in their log)."""
    if cell_id:
        return organisations_visible_to(user).filter(pk=cell_id).first()
    for assignment in role_assignments_of(user):
        if assignment.role in READ_MEMBERS:
            return assignment.organisation
    return None


# --- training of bí thư and chi ủy viên (issue #18, item 5; the rule: cells/training.py) ---------

READ_TRAINING = roles_with("training.read")
MANAGE_TRAINING = roles_with("training.manage")


def courses_visible_to(user) -> QuerySet[TrainingCourse]:
    """The courses organised within the user's ``training.read`` subtrees, or by a unit above them (a đảng
    ủy cơ sở's officer sees the Khối's courses his officers attend, not another đảng bộ's)."""
    courses = TrainingCourse.objects.select_related("organiser")
    paths = _root_paths(user, READ_TRAINING)
    if paths is None:
        return courses
    above = {path[:end] for path in paths for end in range(PATH_STEP_WIDTH, len(path), PATH_STEP_WIDTH)}
    return courses.filter(_subtree_q(paths, "organiser__path") | Q(organiser__path__in=above))


def can_manage_course(user, course: TrainingCourse) -> bool:
    return can(user, "training.manage", course.organiser)


def get_course_for_user_or_404(user, pk, *, write: bool = False) -> TrainingCourse:
    """A course the user may see (404 otherwise); with ``write``, one their unit organises (403 otherwise)."""
    try:
        course = courses_visible_to(user).get(pk=pk)
    except (TrainingCourse.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not can_manage_course(user, course):
        raise PermissionDenied
    return course


def get_attendance_for_user_or_404(user, pk, *, write: bool = False) -> CourseAttendance:
    try:
        attendance = CourseAttendance.objects.select_related("course", "course__organiser", "member").get(
            pk=pk, course__in=courses_visible_to(user)
        )
    except (CourseAttendance.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not can_manage_course(user, attendance.course):
        raise PermissionDenied
    return attendance


def course_organisers_for(user) -> QuerySet[Organisation]:
    """The units whose courses the user may create: the Khối and đảng ủy cơ sở within their subtrees."""
    return organisations_visible_to(user, roles=MANAGE_TRAINING).filter(kind__in=ORGANISER_KINDS).order_by("path")


def course_attendances(*, course: TrainingCourse) -> QuerySet[CourseAttendance]:
    return course.attendances.select_related("member", "member__organisation").order_by("member__full_name", "pk")


def course_candidates(*, course: TrainingCourse, unit: Organisation | None = None) -> QuerySet[Member]:
    """Whom a course may take: the active members of ``unit``'s subtree (within the organiser's), or without a
    unit the officers in post today in the organiser's subtree (those the requirement is about)."""
    members = Member.objects.filter(state=Member.State.ACTIVE).exclude(course_attendances__course=course)
    within = unit if unit is not None and unit.is_descendant_of(course.organiser) else course.organiser
    members = members.filter(organisation__path__startswith=within.path)
    if unit is None:
        subtree = Organisation.objects.filter(path__startswith=course.organiser.path)
        posts = posts_in_force(organisations=subtree, on=timezone.localdate())
        members = members.filter(pk__in=posts.values("member_id"))
    return members.select_related("organisation").order_by("full_name", "pk")


def training_scope_or_404(user, pk) -> Organisation:
    """The unit whose officers' training the user reads: 404 outside what they see, 403 for the cells' own
    roles (a bí thư is among those trained, not the one who follows them up)."""
    organisation = get_organisation_for_user_or_404(user, pk)
    if not can(user, "training.read", organisation):
        raise PermissionDenied
    return organisation


def training_record(*, member: Member) -> QuerySet[CourseAttendance]:
    """The courses the member attended, latest first (their profile page)."""
    return member.course_attendances.select_related("course", "course__organiser").order_by(
        "-course__start_date", "-pk"
    )


# --- party admission (issue #18, item 4; the rules: cells/admission.py) --------------------------------

READ_ADMISSION = roles_with("admission.read")


@dataclass(frozen=True)
class CandidateRow:
    """A candidate with every step's date and due date, and the step they are at (None: official member)."""

    candidate: Candidate
    steps: list
    current: "StepState | None"
    vote: object

    def overdue(self, today: date) -> bool:
        return self.current is not None and self.current.overdue(today)

    def due_soon(self, today: date) -> bool:
        return self.current is not None and self.current.due_soon(today)


def _passed_admission_vote(candidate: Candidate):
    """The latest passed admission vote of the candidate's cell among the prefetched ``admission_votes``."""
    held = [
        vote
        for vote in candidate.admission_votes.all()
        if vote.kind == "admission"
        and vote.meeting.organisation_id == candidate.organisation_id
        and vote.meeting.state in ("held", "minutes_adopted")
        and vote.passed
    ]
    held.sort(key=lambda vote: (vote.meeting.actual_start or vote.meeting.planned_start, vote.pk), reverse=True)
    return held[0] if held else None


def candidate_rows(candidates: QuerySet[Candidate]) -> list[CandidateRow]:
    """Each candidate's steps, in three queries whatever their number (candidates, votes with meetings)."""
    from .admission import current_step, steps_of

    rows = []
    for candidate in candidates.select_related("organisation", "member", "mentor_1", "mentor_2").prefetch_related(
        "admission_votes__meeting"
    ):
        vote = _passed_admission_vote(candidate)
        day = timezone.localdate(vote.meeting.actual_start or vote.meeting.planned_start) if vote else None
        steps = steps_of(candidate, vote_day=day)
        rows.append(CandidateRow(candidate=candidate, steps=steps, current=current_step(steps), vote=vote))
    return rows


def candidates_in_pipeline() -> QuerySet[Candidate]:
    """The candidates not yet official members and not withdrawn (the pipeline and the reminder rule)."""
    return Candidate.objects.filter(
        Q(member__isnull=True, withdrawn_on__isnull=True) | Q(member__status=Member.Status.PROBATIONARY)
    )


def candidates_visible_to(user) -> QuerySet[Candidate]:
    paths = _root_paths(user, READ_ADMISSION)
    candidates = Candidate.objects.all()
    if paths is None:
        return candidates
    return candidates.filter(_subtree_q(paths, "organisation__path"))


def get_candidate_document_for_user_or_404(user, pk) -> CandidateDocument:
    """A scan of a candidate's papers, for those who may read the candidate (admission.read); 404 otherwise."""
    try:
        return CandidateDocument.objects.select_related("candidate", "candidate__organisation").get(
            pk=pk, candidate__in=candidates_visible_to(user)
        )
    except (CandidateDocument.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_candidate_for_user_or_404(user, pk, *, write: bool = False) -> Candidate:
    """A candidate the user may see (404 otherwise); with ``write``, one they may record steps of (403)."""
    try:
        candidate = candidates_visible_to(user).select_related("organisation", "member").get(pk=pk)
    except (Candidate.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not can(user, "admission.manage", candidate.organisation):
        raise PermissionDenied
    return candidate


def admission_by_unit(*, unit: Organisation, today: date) -> list[dict]:
    """The pipeline below ``unit`` by its direct sub-units (the đảng bộ of a Khối, the cells of a đảng bộ):
    for each, the number of candidates at each step and how many are overdue."""
    from .admission import STEPS

    children = list(unit.children.order_by("path"))
    groups: dict[int, dict[str, Any]] = {
        child.pk: {"unit": child, "counts": dict.fromkeys(STEPS[1:], 0), "total": 0, "overdue": 0} for child in children
    }
    rows = candidate_rows(candidates_in_pipeline().filter(organisation__path__startswith=unit.path))
    for row in rows:
        owner = next((child for child in children if row.candidate.organisation.path.startswith(child.path)), None)
        if owner is None or row.current is None:
            continue
        group = groups[owner.pk]
        group["counts"][row.current.code] += 1
        group["total"] += 1
        group["overdue"] += row.overdue(today)
    return [group for group in groups.values()]


def admission_scope_or_404(user, pk, *, write: bool = False, cell: bool = False) -> Organisation:
    """A unit whose pipeline the user reads: 404 outside what they see (or not a cell, with ``cell``), 403
    without ``admission.read`` (``admission.manage`` with ``write``) over it."""
    organisation = get_organisation_for_user_or_404(user, pk)
    if cell and not organisation.is_cell:
        raise Http404
    if not can(user, "admission.manage" if write else "admission.read", organisation):
        raise PermissionDenied
    return organisation
