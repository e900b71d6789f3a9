"""The demo Khối built by ``manage.py seed_demo``: its shape, its invariants and its accounts."""

import re
import unicodedata
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q

from cells.demo import DEMO_PASSWORD, DEMO_USERNAMES
from cells.models import (
    PATH_STEP_WIDTH,
    CellDocument,
    CellMembership,
    Exemption,
    Member,
    Organisation,
    Position,
    RequiredDocumentType,
    Role,
    RoleAssignment,
    Term,
)

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded():
    return seed()


def test_demo_khoi_has_the_expected_shape(seeded):
    root = Organisation.objects.get(parent=None)
    assert root.kind == Organisation.Kind.KHOI
    assert root.name == "Đảng bộ Khối Cơ quan và Doanh nghiệp tỉnh Quảng Trị"
    assert root.short_code == "ĐUK"
    tccs = Organisation.objects.filter(parent=root)
    assert 15 <= tccs.count() <= 25
    assert set(tccs.values_list("kind", flat=True)) == set(Organisation.TCCS_KINDS)
    assert not tccs.filter(unit_type="").exists()
    assert set(tccs.values_list("unit_type", flat=True)) == set(Organisation.UnitType.values)
    assert Organisation.objects.filter(kind=Organisation.Kind.DANG_BO_BO_PHAN, children__kind=Organisation.Kind.CHI_BO).exists()
    cells = Organisation.objects.filter(kind__in=Organisation.CELL_KINDS)
    assert 70 <= cells.count() <= 90
    assert Term.objects.filter(name="2025–2030").count() == Organisation.objects.count()

    members = Member.objects.all()
    assert 1100 <= members.count() <= 1300
    # Members sit only in cells, and every cell has some.
    assert not members.exclude(organisation__kind__in=Organisation.CELL_KINDS).exists()
    assert not cells.annotate(n=Count("members")).filter(n__lt=3).exists()
    assert "1200 đảng viên" in seeded


def test_members_are_plausible_and_unique(seeded):
    members = list(Member.objects.all())
    total = len(members)
    probationary = [m for m in members if m.status == Member.Status.PROBATIONARY]
    assert 0.05 * total <= len(probationary) <= 0.11 * total
    for member in probationary:
        assert member.full_membership_date is None
        assert (member.probation_review_due() - member.admission_ceremony_date).days in (365, 366)
        assert member.admission_ceremony_date >= member.admission_decision_date
    for member in members:
        assert unicodedata.is_normalized("NFC", member.full_name)
        assert len(member.full_name.split()) >= 3
        middle = member.full_name.split()[1]
        if middle == "Thị":
            assert member.sex == Member.Sex.FEMALE
        if middle == "Văn":
            assert member.sex == Member.Sex.MALE
        assert re.fullmatch(r"\d{12}", member.citizen_id)
        assert re.fullmatch(r"0\d{9}", member.phone)
        assert member.dues_base > 0
        if member.status == Member.Status.OFFICIAL:
            assert member.full_membership_date > member.admission_ceremony_date >= member.admission_decision_date
            assert member.party_card_number
    assert len({m.citizen_id for m in members}) == total
    cards = [m.party_card_number for m in members if m.party_card_number]
    assert len(set(cards)) == len(cards)
    assert any(m.email for m in members) and not all(m.email for m in members)
    assert all(m.email.endswith(".example.com") for m in members if m.email)
    # One open membership per member, in the member's current cell.
    open_rows = CellMembership.objects.filter(end__isnull=True)
    assert open_rows.count() == total
    assert not open_rows.exclude(organisation=F("member__organisation")).exists()
    exemptions = Exemption.objects.all()
    assert 1 <= exemptions.count() <= 0.05 * total
    assert not exemptions.filter(Q(end__isnull=False) | Q(member__status=Member.Status.PROBATIONARY)).exists()


def test_each_cell_has_one_secretary_and_a_committee_only_when_big_enough(seeded):
    cells = Organisation.objects.filter(kind__in=Organisation.CELL_KINDS).annotate(
        secretaries=Count("positions", filter=Q(positions__kind=Position.Kind.SECRETARY, positions__end__isnull=True), distinct=True),
        officials=Count("members", filter=Q(members__status=Member.Status.OFFICIAL), distinct=True),
        committee=Count("positions", filter=Q(positions__kind=Position.Kind.COMMITTEE_MEMBER), distinct=True),
    )
    for cell in cells:
        assert cell.secretaries == 1, cell
        if cell.committee:
            assert cell.officials >= 9, cell
    assert any(cell.committee for cell in cells)
    # Holders of a cell's own posts are official members of that cell.
    own_posts = Position.objects.exclude(kind=Position.Kind.SUPERVISOR)
    assert not own_posts.exclude(member__organisation=F("organisation")).exists()
    assert not own_posts.filter(member__status=Member.Status.PROBATIONARY).exists()


def test_paths_are_consistent(seeded):
    organisations = {o.pk: o for o in Organisation.objects.all()}
    for organisation in organisations.values():
        assert len(organisation.path) % PATH_STEP_WIDTH == 0
        assert organisation.depth == len(organisation.path) // PATH_STEP_WIDTH
        if organisation.parent_id is None:
            assert organisation.depth == 1
            continue
        parent = organisations[organisation.parent_id]
        assert organisation.path.startswith(parent.path)
        assert organisation.depth == parent.depth + 1
    # The subtree query of a TCCS finds exactly its descendants.
    tccs = Organisation.objects.filter(kind=Organisation.Kind.DANG_BO_CO_SO).first()
    subtree = Organisation.objects.filter(path__startswith=tccs.path).exclude(pk=tccs.pk)
    descendants, frontier = set(), [tccs.pk]
    while frontier:
        frontier = [o.pk for o in organisations.values() if o.parent_id in frontier]
        descendants.update(frontier)
    assert set(subtree.values_list("pk", flat=True)) == descendants


def test_demo_accounts_have_their_roles_and_members(seeded):
    users = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_USERNAMES)}
    assert set(users) == set(DEMO_USERNAMES)
    assert all(user.check_password(DEMO_PASSWORD) for user in users.values())
    roles = {(a.user.username, a.role): a.organisation for a in RoleAssignment.objects.select_related("user", "organisation")}
    root = Organisation.objects.get(parent=None)
    assert roles[("khoi_admin", Role.KHOI_ADMIN)] == root
    assert roles[("capuy", Role.COMMITTEE_VIEWER)] == root
    assert users["khoi_admin"].is_staff and users["khoi_admin"].is_superuser
    assert not any(users[name].is_staff for name in ("capuy", "danguy", "bithu", "dangvien"))

    tccs = roles[("danguy", Role.TCCS_OFFICER)]
    cell = roles[("bithu", Role.CELL_SECRETARY)]
    assert tccs.kind == Organisation.Kind.DANG_BO_CO_SO
    assert 3 <= tccs.children.count() <= 8
    assert cell.parent == tccs and cell.kind == Organisation.Kind.CHI_BO
    assert roles[("dangvien", Role.MEMBER)] == cell

    secretary = users["bithu"].member
    assert secretary.organisation == cell
    assert cell.positions.get(kind=Position.Kind.SECRETARY, end__isnull=True).member == secretary
    assert users["bithu"].get_full_name() and secretary.full_name.endswith(users["bithu"].first_name)
    plain = users["dangvien"].member
    assert plain.organisation == cell and not plain.positions.exists()
    assert users["danguy"].member.organisation.is_descendant_of(tccs)
    for name in ("bithu", "dangvien"):
        assert name in seeded
    assert DEMO_PASSWORD in seeded


def test_second_run_is_skipped_with_if_empty_and_refused_without_reset(seeded):
    counts = (Organisation.objects.count(), Member.objects.count())
    names = list(Member.objects.order_by("pk").values_list("full_name", "citizen_id")[:50])

    out = seed("--if-empty")
    assert "bỏ qua" in out
    assert (Organisation.objects.count(), Member.objects.count()) == counts

    with pytest.raises(CommandError, match="--reset"):
        seed()
    assert (Organisation.objects.count(), Member.objects.count()) == counts

    accounts = seed("--accounts")
    assert all(name in accounts for name in DEMO_USERNAMES)

    # --reset replaces the data with the same deterministic Khối.
    seed("--reset")
    assert (Organisation.objects.count(), Member.objects.count()) == counts
    assert list(Member.objects.order_by("pk").values_list("full_name", "citizen_id")[:50]) == names
    assert get_user_model().objects.filter(username__in=DEMO_USERNAMES).count() == len(DEMO_USERNAMES)


def test_if_empty_builds_on_an_empty_database():
    out = seed("--if-empty")
    assert Organisation.objects.filter(kind=Organisation.Kind.KHOI).count() == 1
    assert "khoi_admin" in out


def test_reset_also_removes_rows_that_protect_the_tree(seeded):
    # A cell's document protects both the cell and its term (reached through a cascade).
    cell = Organisation.objects.filter(kind=Organisation.Kind.CHI_BO).first()
    document_type = RequiredDocumentType.objects.create(code="demo-test", name="Quy chế làm việc", period="term")
    CellDocument.objects.create(organisation=cell, document_type=document_type, term=cell.terms.get(), file="x.pdf",
                                adopted_on=cell.terms.get().start)

    seed("--reset")

    assert not CellDocument.objects.exists()
    assert RequiredDocumentType.objects.filter(code="demo-test").exists()
    assert Organisation.objects.filter(parent=None).count() == 1
