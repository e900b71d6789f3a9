"""The demo Khối built by ``manage.py seed_demo``: its shape, its invariants, its accounts, its books
and its meeting history."""

import datetime
import re
import unicodedata
from collections import defaultdict
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Max, Q
from django.test import override_settings
from django.utils import timezone

from cells.models import (
    PATH_STEP_WIDTH,
    AuditEntry,
    CellDocument,
    CellMembership,
    DuesPayment,
    Exemption,
    Member,
    MemberCommitment,
    Notification,
    Organisation,
    Position,
    RequiredDocumentType,
    Role,
    RoleAssignment,
    Term,
)
from demo.cells import DEMO_PASSWORD, DEMO_USERNAMES, TERM_NAME, reset_demo
from demo.meetings import reset_demo_meetings, window_start
from meetings import selectors as meeting_selectors
from meetings.models import Attendance, Meeting, Opinion, Resolution, Task, Vote
from meetings.services import rsvp_read_token
from meetings.votes import vote_base
from scoring.models import AnnualRating, MeetingScore

from . import demo_checks

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_if_empty_builds_on_an_empty_database():
    # First in the module: the module's demo Khối (below) does not exist yet.
    out = seed("--if-empty")
    assert Organisation.objects.filter(kind=Organisation.Kind.KHOI).count() == 1
    assert "khoi_admin" in out


SEED_MEDIA = {}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """One demo Khối for the whole module (it takes seconds to build); every test still runs in its own
    transaction, rolled back afterwards, so a test that resets or changes it leaves it as it was."""
    media = tmp_path_factory.mktemp("seed-media")
    SEED_MEDIA["root"] = media
    SEED_MEDIA["seeded_at"] = timezone.now()
    with override_settings(MEDIA_ROOT=media), django_db_blocker.unblock():
        out = seed()
    yield out
    with override_settings(MEDIA_ROOT=media), django_db_blocker.unblock():
        reset_demo_meetings()
        reset_demo()


def regular_kinds():
    return list(Meeting.REGULAR_KINDS)


def month_add(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


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
    assert Organisation.objects.filter(
        kind=Organisation.Kind.DANG_BO_BO_PHAN, children__kind=Organisation.Kind.CHI_BO
    ).exists()
    cells = Organisation.objects.filter(kind__in=Organisation.CELL_KINDS)
    assert 70 <= cells.count() <= 90
    assert Term.objects.filter(name=TERM_NAME).count() == Organisation.objects.count()

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
        secretaries=Count(
            "positions", filter=Q(positions__kind=Position.Kind.SECRETARY, positions__end__isnull=True), distinct=True
        ),
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
    roles = {
        (a.user.username, a.role): a.organisation for a in RoleAssignment.objects.select_related("user", "organisation")
    }
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

    # --reset replaces the data with the same deterministic Khối, and also removes rows of any app
    # that protect the tree: a cell's document protects both the cell and its term (reached through
    # a cascade); the meetings (and their scores) protect cells, terms and members.
    cell = Organisation.objects.filter(kind=Organisation.Kind.CHI_BO).first()
    document_type = RequiredDocumentType.objects.create(code="demo-test", name="Quy chế làm việc", period="term")
    term = cell.terms.get(name=TERM_NAME)
    document = CellDocument.objects.create(
        organisation=cell, document_type=document_type, term=term, file="x.pdf", adopted_on=term.start
    )
    meetings = Meeting.objects.count()
    assert meetings

    seed("--reset")

    assert not CellDocument.objects.filter(pk=document.pk).exists()
    assert RequiredDocumentType.objects.filter(code="demo-test").exists()
    assert Organisation.objects.filter(parent=None).count() == 1
    assert Meeting.objects.count() == meetings
    assert (Organisation.objects.count(), Member.objects.count()) == counts
    assert list(Member.objects.order_by("pk").values_list("full_name", "citizen_id")[:50]) == names
    assert get_user_model().objects.filter(username__in=DEMO_USERNAMES).count() == len(DEMO_USERNAMES)


# --- the meeting history -------------------------------------------------------------------


def test_every_cell_meets_in_most_of_the_last_twelve_months(seeded):
    today = timezone.localdate()
    first, current = window_start(today=today, months=12), today.replace(day=1)
    months = [month_add(first, n) for n in range(12)]  # the twelve months before the current one
    met = defaultdict(set)
    for cell_id, month in (
        Meeting.objects.filter(kind__in=regular_kinds(), period_month__in=months)
        .exclude(state=Meeting.State.CANCELLED)
        .values_list("organisation_id", "period_month")
    ):
        met[cell_id].add(month)
    cells = list(Organisation.objects.filter(kind__in=Organisation.CELL_KINDS))
    assert all(len(met[cell.pk]) >= 10 for cell in cells)
    assert any(len(met[cell.pk]) < 12 for cell in cells), "some cells should miss a month"
    assert sum(len(met[cell.pk]) == 12 for cell in cells) > 0.7 * len(cells)
    # Past regular meetings were held; nothing is still "notified" in the past.
    assert not Meeting.objects.filter(state=Meeting.State.NOTIFIED, planned_start__lt=timezone.now()).exists()
    assert not Meeting.objects.filter(period_month__gt=month_add(current, 1)).exists()
    # The other kinds: thematic meetings, forums and the chi ủy's preparatory meetings.
    kinds = dict(Meeting.objects.values_list("kind").annotate(n=Count("pk")))
    assert kinds[Meeting.Kind.THEMATIC] + kinds[Meeting.Kind.COMBINED] >= len(cells)
    assert kinds[Meeting.Kind.FORUM] >= 0.5 * len(cells)
    committee_cells = Organisation.objects.filter(positions__kind=Position.Kind.COMMITTEE_MEMBER).distinct()
    assert not Meeting.objects.filter(kind=Meeting.Kind.COMMITTEE).exclude(organisation__in=committee_cells).exists()
    prepared = Meeting.objects.filter(kind__in=regular_kinds(), preparatory_meeting__isnull=False)
    assert prepared.exists()
    assert not prepared.exclude(preparatory_meeting__organisation=F("organisation")).exists()
    assert not prepared.filter(preparatory_meeting__planned_start__gte=F("planned_start")).exists()
    # Upper-level visits by the cell's own đảng ủy viên phụ trách.
    visits = Meeting.upper_guests.through.objects.select_related("meeting")
    assert visits.exists()
    supervisors = set(
        Position.objects.filter(kind=Position.Kind.SUPERVISOR).values_list("organisation_id", "member_id")
    )
    assert all((visit.meeting.organisation_id, visit.member_id) in supervisors for visit in visits)


def test_adopted_minutes_are_numbered_per_cell_and_term(seeded):
    adopted = Meeting.objects.filter(state=Meeting.State.MINUTES_ADOPTED)
    assert adopted.count() > 1000
    assert not adopted.filter(
        Q(minutes_number__isnull=True) | Q(term__isnull=True) | Q(adopted_at__isnull=True)
    ).exists()
    assert not adopted.exclude(term__organisation=F("organisation")).exists()
    numbers = defaultdict(list)
    for organisation_id, term_id, number in adopted.values_list("organisation_id", "term_id", "minutes_number"):
        numbers[(organisation_id, term_id)].append(number)
    for key, values in numbers.items():
        assert sorted(values) == list(range(1, len(values) + 1)), key
    for meeting in adopted.order_by("?")[:300]:
        assert meeting.actual_end <= meeting.adopted_at <= meeting.actual_end + datetime.timedelta(days=3, hours=5)
        day = timezone.localdate(meeting.actual_start)
        assert meeting.term.start <= day and (meeting.term.end is None or day <= meeting.term.end)
        assert re.fullmatch(r"\d{2,}-BB/CB", meeting.minutes_reference)
    # Conclusions and resolutions: numbered per cell, term and kind, adopted with the minutes.
    resolutions = Resolution.objects.filter(meeting__in=adopted)
    assert resolutions.count() == adopted.count()
    assert not resolutions.exclude(adopted_at=F("meeting__adopted_at")).exists()
    assert (
        not resolutions.values("meeting__organisation", "term", "kind", "number")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exists()
    )
    assert {Resolution.Kind.CONCLUSION, Resolution.Kind.RESOLUTION} <= set(resolutions.values_list("kind", flat=True))
    # A few minutes still wait for adoption: held, unnumbered.
    held = Meeting.objects.filter(state=Meeting.State.HELD)
    assert 1 <= held.count() <= 20
    assert not held.filter(minutes_number__isnull=False).exists()


def test_held_meetings_have_attendance_votes_and_tasks_consistent_with_the_records(seeded):
    held = Meeting.objects.filter(
        state__in=[Meeting.State.HELD, Meeting.State.MINUTES_ADOPTED], kind__in=regular_kinds()
    ).select_related("organisation")
    assert not held.filter(Q(actual_start__isnull=True) | Q(actual_end__lte=F("actual_start"))).exists()
    below = 0
    sample = list(held.order_by("?")[:200])
    for meeting in sample:
        day = timezone.localdate(meeting.actual_start)
        expected = set(
            meeting_selectors.expected_members(cell=meeting.organisation, on=day).values_list("pk", flat=True)
        )
        rows = {a.member_id: a for a in meeting.attendances.all()}
        assert set(rows) == expected, meeting
        exempt = set(
            Exemption.objects.filter(
                Q(end__isnull=True) | Q(end__gte=day), start__lte=day, member_id__in=expected
            ).values_list("member_id", flat=True)
        )
        assert {pk for pk, a in rows.items() if a.presence == Attendance.Presence.EXEMPT} == exempt
        assert all(a.presence for a in rows.values())
        assert all(a.absence_reason for a in rows.values() if a.presence == Attendance.Presence.ABSENT_EXCUSED)
        assert rows[meeting.chair_id].presence in Attendance.PRESENT_VALUES
        counted = [a for a in rows.values() if a.presence != Attendance.Presence.EXEMPT]
        present = [a for a in counted if a.presence in Attendance.PRESENT_VALUES]
        below += len(present) < 0.85 * len(counted)
        # The conclusion's vote: measured against the official members summoned less the QĐ 294 §9.3.2
        # exclusions (meetings.votes), cast by those present with a vote, and carried.
        base = vote_base(meeting)
        # (A meeting that admitted a member also holds the admission vote, demo/admission.py.)
        vote = meeting.votes.exclude(kind=Vote.Kind.ADMISSION).get()
        assert vote.eligible_count == base.denominator >= base.present > 0
        assert vote.votes_for + vote.votes_against + vote.votes_abstain == base.present
        assert vote.passed and base.passes(vote.kind, vote.votes_for) and base.quorum_met
        assert meeting.opinions.count() >= 2
        assert (
            not meeting.opinions.exclude(speaker__isnull=True)
            .exclude(speaker_id__in=[a.member_id for a in present])
            .exists()
        )
        tasks = list(meeting.tasks.prefetch_related("assignees"))
        assert tasks and all(task.assignees.all() for task in tasks)
        assert all(task.result for task in tasks if task.status == Task.Status.DONE)
        assert meeting.agenda_items.count() >= 10
    assert 0 < below < 0.2 * len(sample), "a few meetings, not most, fall below 85 % attendance"
    today = timezone.localdate()
    assert Task.objects.filter(status=Task.Status.OPEN, due_date__lt=today).exists(), "some tasks are overdue"
    assert Task.objects.filter(status=Task.Status.OPEN, due_date__gte=today).exists()


def test_the_secretary_cell_has_one_upcoming_meeting_notified_this_month_or_next(seeded):
    secretary = get_user_model().objects.get(username="bithu").member
    cell = secretary.organisation
    upcoming = Meeting.objects.filter(organisation=cell, state=Meeting.State.NOTIFIED, planned_start__gt=timezone.now())
    meeting = upcoming.get(kind__in=regular_kinds())
    # This month's meeting while it is still ahead; once it is held, next month's.
    this_month = timezone.localdate().replace(day=1)
    held_this_month = Meeting.objects.filter(
        organisation=cell,
        kind__in=regular_kinds(),
        period_month=this_month,
        state__in=[Meeting.State.HELD, Meeting.State.MINUTES_ADOPTED],
    )
    assert meeting.period_month == (month_add(this_month, 1) if held_this_month.exists() else this_month)
    assert meeting.notice_sent_at <= timezone.now()
    assert meeting.chair == secretary
    expected = set(meeting_selectors.expected_members(cell=cell, on=timezone.localdate()).values_list("pk", flat=True))
    assert set(meeting.attendances.values_list("member_id", flat=True)) == expected
    answers = dict(meeting.attendances.values_list("rsvp").annotate(n=Count("pk")))
    assert answers.get(Attendance.Rsvp.YES) and answers.get(Attendance.Rsvp.NONE)
    assert not meeting.attendances.exclude(presence__in=["", Attendance.Presence.EXEMPT]).exists()
    # The member's inbox has the notice, and its one-click link points at their own attendance row.
    member = get_user_model().objects.get(username="dangvien").member
    notice = Notification.objects.get(member=member, kind="meetings.notice")
    token = re.search(r"/xac-nhan/([^/\s]+)/", notice.body).group(1)
    _meeting, attendance = rsvp_read_token(token)
    assert (attendance.meeting_id, attendance.member_id) == (meeting.pk, member.pk)
    # Its history: a full year of adopted regular meetings.
    history = Meeting.objects.filter(organisation=cell, kind__in=regular_kinds(), state=Meeting.State.MINUTES_ADOPTED)
    assert history.count() >= 12


def test_the_books_have_dues_commitments_and_documents_with_gaps(seeded):
    today = timezone.localdate()
    members = Member.objects.filter(state=Member.State.ACTIVE)
    months = [month_add(today.replace(day=1), -back) for back in range(12)]
    assert set(DuesPayment.objects.values_list("month", flat=True)) == set(months)
    assert DuesPayment.objects.values("member").distinct().count() >= 0.95 * members.count()
    unpaid = DuesPayment.objects.filter(amount_paid__lt=F("amount_due"))
    assert 0 < unpaid.count() < 0.2 * DuesPayment.objects.count()
    behind = unpaid.filter(month__in=months[:3]).values("member").annotate(n=Count("pk")).filter(n=3)
    assert behind.exists(), "someone is three months behind: the alert has something to show"
    cell = get_user_model().objects.get(username="bithu").member.organisation
    assert behind.filter(member__organisation=cell).exists()

    # Commitments are signed between 5 January and 31 March (a member who joins later signs on
    # arrival): last year's are all in, this year's only those signed so far.
    # (those who came this year signed last year's where they were then.)
    last_year = MemberCommitment.objects.filter(year=today.year - 1)
    here_last_year = members.filter(memberships__start__year__lt=today.year)
    assert 0.85 * here_last_year.count() <= last_year.count() < here_last_year.count()
    assert not last_year.exclude(member__in=here_last_year).exists()
    commitments = MemberCommitment.objects.filter(year=today.year)
    assert commitments.count() <= members.count()
    if today >= datetime.date(today.year, 4, 1):
        assert 0.85 * members.count() <= commitments.count() < members.count()
    if today < datetime.date(today.year, 1, 5):
        assert not commitments.exists()
    assert not MemberCommitment.objects.filter(confirmed_at__gt=timezone.now()).exists()
    assert not MemberCommitment.objects.filter(
        source=MemberCommitment.Source.PORTAL, member__user__isnull=True
    ).exists()

    # The dues book's other parts: most past months remitted upward (never more than the share owed),
    # some not, so the đảng ủy's list has something to show; activity funds in and out.
    from cells import dues as dues_rules
    from cells import selectors as cell_selectors
    from cells.models import CellFundEntry, DuesRemittance

    assert DuesRemittance.objects.exists() and not DuesRemittance.objects.filter(month=today.replace(day=1)).exists()
    # Two months back (last month's remittances fall in the first ten days of this one).
    status = [
        row.status
        for tccs in Organisation.objects.filter(kind=Organisation.Kind.DANG_BO_CO_SO)
        for row in cell_selectors.cells_remittance_status(organisation=tccs, month=months[2])
    ]
    assert "remitted" in status and "not_remitted" in status
    for row in cell_selectors.cells_remittance_status(organisation=cell, month=months[2]):
        share = dues_rules.dues_share(collected=row.collected, cell_kind=row.cell.kind, month=months[2])
        assert share.to_remit is None or row.remitted <= share.to_remit
    kinds = set(CellFundEntry.objects.filter(organisation=cell).values_list("kind", flat=True))
    assert kinds >= {CellFundEntry.Kind.BROUGHT_FORWARD, CellFundEntry.Kind.EXPENSE}

    documents = CellDocument.objects.all()
    types = RequiredDocumentType.objects.filter(active=True)
    # The featured cell has every term document and every yearly one of last year (this year's come
    # in January and February).
    assert (
        documents.filter(organisation=cell, year__isnull=True).count()
        == types.filter(period=RequiredDocumentType.Period.TERM).count()
    )
    assert (
        documents.filter(organisation=cell, year=today.year - 1).count()
        == types.exclude(period=RequiredDocumentType.Period.TERM).count()
    )
    cells = Organisation.objects.filter(kind__in=Organisation.CELL_KINDS).count()
    per_type = documents.filter(year=today.year).values("document_type").annotate(n=Count("organisation"))
    assert all(row["n"] < cells for row in per_type), "some cells still lack this year's documents"
    assert not documents.filter(adopted_on__gt=today).exists()
    for document in documents.order_by("?")[:5]:
        assert (SEED_MEDIA["root"] / document.file.name).read_bytes().startswith(b"%PDF-")
    # A year's documents are adopted from 5 January to 24 February: none of this year's before that.
    expected_last = today.year if today >= datetime.date(today.year, 1, 5) else today.year - 1
    assert documents.aggregate(last=Max("year"))["last"] == expected_last


def test_the_demo_has_yearly_ratings_decided_for_past_years_and_self_assessed_for_this_one(seeded):
    this_year = timezone.localdate().year
    past = AnnualRating.objects.filter(year__lt=this_year)
    assert past.exists() and not past.exclude(state=AnnualRating.State.DECIDED).exists()
    assert not past.filter(decided_level="").exists()
    # Decided at the upper committee's meeting in December of the year, not at the seed's moment.
    assert not past.exclude(decided_at__year=F("year"), decided_at__month=12).exists()
    assert not past.filter(created_at__gte=SEED_MEDIA["seeded_at"]).exists()
    current = AnnualRating.objects.filter(year=this_year)
    assert current.exists() and not current.exclude(state=AnnualRating.State.SELF_ASSESSED).exists()
    # Every active member of a cell is rated once a year, and no more.
    active = Member.objects.filter(state=Member.State.ACTIVE, organisation__isnull=False).count()
    assert current.filter(member__isnull=False).count() == active
    decided = past.filter(member__isnull=False)
    excellent = decided.filter(decided_level="htxsnv").count()
    assert 0 < excellent <= 0.2 * decided.count()


# --- a coherent story: when things were written, who joined when, who confirmed what ---------


def test_the_demo_holds_together_today(seeded):
    # The invariants the clock sweep (test_seed_demo_clock.py) checks on other days, here on today's.
    assert demo_checks.all_problems(timezone.now()) == []


def test_meetings_were_planned_by_the_25th_of_the_month_before_and_noticed_days_ahead(seeded):
    seeded_at = SEED_MEDIA["seeded_at"]
    regular = list(
        Meeting.objects.filter(kind__in=regular_kinds())
        .exclude(state=Meeting.State.CANCELLED)
        .values_list("organisation_id", "period_month", "created_at", "notice_sent_at", "planned_start")
    )
    late = []
    for cell_id, month, created_at, notice_sent_at, planned_start in regular:
        # "Planned by the 25th": created before the 26th of the month before, 00:00 local time.
        deadline = timezone.make_aware(datetime.datetime.combine(month_add(month, -1).replace(day=26), datetime.time()))
        if created_at >= deadline:
            late.append(cell_id)
        assert planned_start - created_at >= datetime.timedelta(days=1)
        assert created_at < notice_sent_at <= planned_start
    assert 0 < len(late) <= 0.1 * len(regular), "a few, not most, are planned late"
    featured = get_user_model().objects.get(username="bithu").member.organisation
    assert featured.pk not in late
    # Noticed days ahead: nearly all 1 to 11 days before (a meeting still weeks ahead may be noticed already).
    ahead = [planned_start - notice_sent_at for *_rest, notice_sent_at, planned_start in regular]
    assert sum(datetime.timedelta(days=1) <= gap <= datetime.timedelta(days=11) for gap in ahead) > 0.9 * len(ahead)
    # Nothing the demo writes carries the moment of the seed: each row is dated when it happened.
    for model in (Meeting, Opinion, Vote, Task, Notification):
        assert not model.objects.filter(created_at__gte=seeded_at).exists(), model
    assert Notification.objects.filter(kind="meetings.notice").exists()


def test_memberships_start_at_admission_or_at_a_transfer_in_that_says_from_where(seeded):
    admitted = CellMembership.objects.filter(reason_in="Kết nạp")
    transferred = CellMembership.objects.exclude(reason_in="Kết nạp")
    assert admitted.count() > 0.2 * CellMembership.objects.count()
    assert transferred.count() > 0.2 * CellMembership.objects.count()
    assert not admitted.exclude(start=F("member__admission_decision_date")).exists()
    assert not transferred.filter(start__lte=F("member__admission_ceremony_date")).exists()
    assert all(
        reason.startswith("Chuyển sinh hoạt đến từ Đảng bộ ")
        for reason in transferred.values_list("reason_in", flat=True)
    )
    assert (
        not CellMembership.objects.filter(member__status=Member.Status.PROBATIONARY)
        .exclude(reason_in="Kết nạp")
        .exists()
    )
    # The demo member has been in the cell since before the meeting history, and is on its every meeting.
    today = timezone.localdate()
    member = get_user_model().objects.get(username="dangvien").member
    assert member.memberships.get().start < window_start(today=today, months=12)
    history = Meeting.objects.filter(
        organisation=member.organisation, kind__in=regular_kinds(), state=Meeting.State.MINUTES_ADOPTED
    )
    assert Attendance.objects.filter(member=member, meeting__in=history).count() == history.count() >= 12


def test_officers_confirm_scores_only_inside_their_own_subtree(seeded):
    from demo.scoring import prefill_demo_scores
    from scoring.selectors import can_confirm

    officer = RoleAssignment.objects.get(user__username="danguy", role=Role.TCCS_OFFICER)
    featured = get_user_model().objects.get(username="bithu").member.organisation
    elsewhere = (
        Organisation.objects.filter(kind=Organisation.Kind.CHI_BO, parent__kind=Organisation.Kind.DANG_BO_CO_SO)
        .exclude(path__startswith=officer.organisation.path)
        .order_by("path")[0]
    )
    single = Organisation.objects.filter(kind=Organisation.Kind.CHI_BO_CO_SO).order_by("path")[0]
    for cell in (featured, elsewhere, single):
        prefill_demo_scores(cell)

    confirmed = MeetingScore.objects.filter(state=MeetingScore.State.CONFIRMED)
    confirmers = {
        cell: set(confirmed.filter(meeting__organisation=cell).values_list("confirmed_by__username", flat=True))
        for cell in (featured, elsewhere, single)
    }
    # Each cell's nearest upper level among the demo accounts: its own đảng ủy's officer, else the Khối.
    assert confirmers == {featured: {"danguy"}, elsewhere: {"khoi_admin"}, single: {"khoi_admin"}}
    # Scores of the last two months still wait for the upper level.
    cutoff = timezone.now() - datetime.timedelta(days=60)
    assert not confirmed.filter(meeting__planned_start__gte=cutoff).exists()
    assert MeetingScore.objects.filter(state=MeetingScore.State.SELF_ADOPTED, meeting__organisation=featured).exists()
    assert not MeetingScore.objects.filter(
        state=MeetingScore.State.SELF_ADOPTED, meeting__planned_start__lt=cutoff
    ).exists()

    entries = AuditEntry.objects.filter(action="scoring.meetingscore.confirm").select_related("actor", "organisation")
    assert entries.count() == confirmed.count() > 0
    for entry in entries:
        assert can_confirm(entry.actor, entry.organisation)
        if entry.actor.username == "danguy":
            assert entry.organisation.path.startswith(officer.organisation.path)
    # Dated when it happened: the cell adopts its score with the minutes, the upper level confirms
    # it within three weeks; neither at the seed's moment.
    now = timezone.now()
    for score in confirmed.select_related("meeting"):
        assert score.meeting.actual_end <= score.created_at == score.self_adopted_at <= score.confirmed_at <= now
        assert score.confirmed_at - score.self_adopted_at <= datetime.timedelta(days=21)
        assert score.updated_at == score.confirmed_at
    seeded_at = SEED_MEDIA["seeded_at"]
    assert AuditEntry.objects.filter(action__startswith="scoring.meetingscore").exists()
    assert not AuditEntry.objects.filter(action__startswith="scoring.", created_at__gte=seeded_at).exists()


def test_short_demo_meetings_record_why_and_their_notices_are_numbered(seeded):
    """Issue #14: adopted minutes of a meeting under the minimum say why; every notice has a number, per
    cell and term, without gaps or repeats."""
    short = [
        m
        for m in Meeting.objects.filter(state=Meeting.State.MINUTES_ADOPTED, kind__in=regular_kinds())
        if m.duration_minutes < Meeting.MIN_MINUTES[m.kind]
    ]
    assert short and all(m.short_reason for m in short)
    noticed = Meeting.objects.filter(notice_sent_at__isnull=False)
    assert not noticed.filter(notice_number__isnull=True).exists()
    numbers = defaultdict(list)
    for organisation_id, term_id, number in noticed.values_list("organisation_id", "notice_term_id", "notice_number"):
        numbers[(organisation_id, term_id)].append(number)
    for key, values in numbers.items():
        assert sorted(values) == list(range(1, len(values) + 1)), key


def test_every_cell_has_this_year_s_thematic_plan_planned_against_held(seeded, client):
    """Issue #18: a cell's plan of the year shows each quarter planned against held; a quarter is linked to
    its held thematic meeting exactly when the history holds one, and the other quarters are planned, not held."""
    from meetings.models import PlannedTopic

    today = timezone.localdate()
    cell = get_user_model().objects.get(username="bithu").member.organisation
    plan = meeting_selectors.thematic_plan(cell=cell, year=today.year, today=today)
    assert [q["planned_count"] for q in plan["quarters"]] == [1, 1, 1, 1] and plan["forums"]["planned_count"] == 1
    for quarter in plan["quarters"]:
        topic = quarter["topics"][0]
        assert (topic.meeting_id is not None) == bool(quarter["held_meetings"])
        assert topic.drafter.organisation_id == cell.pk
    topics = PlannedTopic.objects.filter(year=today.year)
    assert topics.filter(meeting__isnull=True).exists()  # planned, not held (at least the quarters to come)
    held_thematic = Meeting.objects.filter(state__in=["held", "minutes_adopted"], period_month__year=today.year)
    assert topics.filter(meeting__isnull=False).count() == (
        held_thematic.filter(kind__in=["chuyen_de", "ket_hop"])
        .values("organisation", "period_month__quarter")
        .distinct()
        .count()
        + held_thematic.filter(kind="dien_dan").values("organisation").distinct().count()
    )
    client.force_login(get_user_model().objects.get(username="bithu"))
    from django.urls import reverse

    response = client.get(reverse("meetings:plan", args=[cell.pk, today.year]))
    assert response.status_code == 200 and response.content.decode().count('id="quy-') == 4


def test_most_demo_officers_are_trained_and_a_few_are_listed(seeded, client_for):
    """Issue #18 item 5: the Khối's courses are in the demo; the list of officers without the required
    training shows some officers, not all of them, and each listed one really has no course since the post."""
    from django.urls import reverse

    from cells import training
    from cells.models import CourseAttendance, TrainingCourse

    today = timezone.localdate()
    assert TrainingCourse.objects.exists()
    assert not TrainingCourse.objects.filter(end_date__gt=today).exists()
    everyone = Organisation.objects.all()
    posts = list(training.posts_in_force(organisations=everyone, on=today))
    due = training.officers_due(organisations=everyone, on=today)
    assert 0 < len(due) < len(posts) / 2
    for row in due:
        assert not CourseAttendance.objects.filter(
            member=row.position.member,
            completed=True,
            course__end_date__gte=row.position.start,
            course__end_date__lte=today,
        ).exists()
    trained = [p for p in posts if p.pk not in {row.position.pk for row in due}]
    assert trained
    khoi = Organisation.objects.get(kind=Organisation.Kind.KHOI)
    client = client_for(get_user_model().objects.get(username="khoi_admin"))
    response = client.get(reverse("training:officers_untrained", args=[khoi.pk]))
    assert response.status_code == 200
    assert due[0].position.member.full_name in response.content.decode()


def test_the_featured_cell_has_two_candidates_one_with_the_ceremony_due_soon(seeded):
    # issue #18 item 4: one candidate preparing the documents, one decided with the ceremony within the
    # reminder's days; the reminder rule finds it and writes to the bí thư and the two introducers.
    from cells import admission
    from cells.models import Candidate
    from cells.selectors import candidate_rows
    from meetings import reminders
    from meetings.models import ReminderRule

    cell = demo_checks.featured_cell()
    today = timezone.localdate()
    rows = {row.candidate.full_name: row for row in candidate_rows(Candidate.objects.filter(organisation=cell))}
    assert set(rows) == {"Hồ Thị Thu Trang", "Lê Quang Minh"}
    assert rows["Hồ Thị Thu Trang"].current.code == admission.DOCUMENTS
    decided = rows["Lê Quang Minh"]
    assert decided.vote is not None and decided.vote.passed
    assert decided.current.code == admission.CEREMONY and decided.due_soon(today)
    rule = ReminderRule.objects.get(code="admission_step_due")
    assert reminders.reminder_rule_run(rule_id=rule.pk) >= 2
    reminded = set(
        Notification.objects.filter(kind="meetings.reminder.admission_step_due").values_list("member_id", flat=True)
    )
    assert {decided.candidate.mentor_1_id, decided.candidate.mentor_2_id} <= reminded
