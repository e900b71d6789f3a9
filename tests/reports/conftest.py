"""A small hand-built Khối whose 2026 figures are worked out by hand in the tests.

    Khối
    ├── A  Đảng bộ cơ sở     cells A1 (8 members, one exempt), A2 (7), A3 (6)
    ├── B  Đảng bộ cơ sở     cells B1 (7, one attached elsewhere), B2 (6)
    └── C  Chi bộ cơ sở      itself a cell (6)

Regular meetings every month of 2026 in every cell (72 cell-months) except: A2 March (cancelled),
A3 July and August (none), B1 May (notified, never held), C December (none): 67 held.
Everyone present, except A1 June (2 excused: 5/7), A3 January (1 unexcused: 5/6), C October
(1 unexcused: 5/6), B2 February (1 late, counted present). Thematic: A1, A2, C one combined
meeting each quarter; A3 combined in Q1 and Q2; B1 separate thematic meetings in Q1, Q2 and twice
in Q3; B2 none. Forums: A1 one, A2 two, B1 one, C one (A3 only a draft). Upper-level guests:
A1 Feb/May/Aug/Nov, A2 Jan and Mar, B1 Apr and Oct, B2 Jul, C Mar/Jun/Sep/Dec.
Everything is "minutes adopted" except A1's December meeting (held, minutes overdue).
"""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from cells.models import (
    CellDocument,
    DuesPayment,
    DuesRateRule,
    Exemption,
    MemberCommitment,
    Organisation,
    RequiredDocumentType,
    Role,
    Term,
)
from meetings.models import Attendance, Meeting, Task
from meetings.services import attendance_counts_refresh
from scoring.models import AnnualRating, MeetingScore, RatingRegime, ScoringScheme

from ..factories import UserFactory, grant, make_member, make_organisation

YEAR = 2026
TODAY = "2027-01-15 09:00 +07:00"
P = Attendance.Presence


def _aware(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour))


def add_meeting(
    cell,
    month: int,
    *,
    kind=Meeting.Kind.REGULAR,
    state=Meeting.State.MINUTES_ADOPTED,
    day=15,
    members=(),
    presence=None,
    guests=(),
):
    """A meeting of ``month`` 2026 with one attendance row per member (present unless ``presence`` says)."""
    date = datetime.date(YEAR, month, day)
    held = state in (Meeting.State.HELD, Meeting.State.MINUTES_ADOPTED)
    meeting = Meeting.objects.create(
        organisation=cell,
        kind=kind,
        period_month=date.replace(day=1),
        state=state,
        planned_start=_aware(date, 14),
        planned_end=_aware(date, 16),
        actual_start=_aware(date, 14) if held else None,
        actual_end=_aware(date, 16) if held else None,
    )
    # Noticed ten days ahead, as a secretary does (the planning deadline reads the notice, never created_at).
    if state != Meeting.State.DRAFT:
        Meeting.objects.filter(pk=meeting.pk).update(notice_sent_at=_aware(date, 8) - datetime.timedelta(days=10))
    presence = presence or {}
    Attendance.objects.bulk_create(
        [
            Attendance(meeting=meeting, member=member, presence=presence.get(member.pk, P.PRESENT if held else P.BLANK))
            for member in members
        ]
    )
    # The rows go in directly, as the demo generator writes them: recount the meeting's stored figures.
    attendance_counts_refresh(meetings=[meeting.pk])
    if guests:
        meeting.upper_guests.set(guests)
    return meeting


@pytest.fixture
def khoi(db, time_machine):
    time_machine.move_to(TODAY, tick=False)
    k = make_organisation(kind=Organisation.Kind.KHOI, name="Đảng bộ Khối thử", short_code="ĐUK")
    a = make_organisation(parent=k, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ A", short_code="ĐU")
    b = make_organisation(parent=k, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ B", short_code="ĐU")
    c = make_organisation(parent=k, kind=Organisation.Kind.CHI_BO_CO_SO, name="Chi bộ C", short_code="CB")
    cells = {
        "A1": make_organisation(parent=a, name="Chi bộ A1"),
        "A2": make_organisation(parent=a, name="Chi bộ A2"),
        "A3": make_organisation(parent=a, name="Chi bộ A3"),
        "B1": make_organisation(parent=b, name="Chi bộ B1"),
        "B2": make_organisation(parent=b, name="Chi bộ B2"),
        "C": c,
    }
    sizes = {"A1": 8, "A2": 7, "A3": 6, "B1": 7, "B2": 6, "C": 6}
    members = {
        name: [
            make_member(organisation=cells[name], full_name=f"Đảng viên {name}-{i}") for i in range(1, sizes[name] + 1)
        ]
        for name in cells
    }
    exempt = members["A1"][7]
    Exemption.objects.create(member=exempt, reason="Tuổi cao", start=datetime.date(2025, 1, 1))
    elsewhere = members["B1"][6]
    guest = members["A1"][0]

    def special(name, month):
        """The presence exceptions of one cell-month (member pk -> presence)."""
        values = {}
        if name == "A1":
            values[exempt.pk] = P.EXEMPT
            if month == 6:
                values.update({members["A1"][1].pk: P.ABSENT_EXCUSED, members["A1"][2].pk: P.ABSENT_EXCUSED})
        if name == "B1":
            values[elsewhere.pk] = P.ATTACHED_ELSEWHERE
        if (name, month) in (("A3", 1), ("C", 10)):
            values[members[name][0].pk] = P.ABSENT_UNEXCUSED
        if (name, month) == ("B2", 2):
            values[members[name][0].pk] = P.LATE
        return values

    combined = {"A1": {3, 6, 9, 12}, "A2": {2, 5, 8, 11}, "A3": {1, 4}, "C": {3, 6, 9, 12}}
    visited = {"A1": {2, 5, 8, 11}, "A2": {1, 3}, "B1": {4, 10}, "B2": {7}, "C": {3, 6, 9, 12}}
    missing = {("A2", 3), ("A3", 7), ("A3", 8), ("B1", 5), ("C", 12)}
    regular = {}
    for name, cell in cells.items():
        for month in range(1, 13):
            kind = Meeting.Kind.COMBINED if month in combined.get(name, ()) else Meeting.Kind.REGULAR
            if (name, month) == ("A2", 3):
                add_meeting(cell, month, kind=kind, state=Meeting.State.CANCELLED, members=members[name])
                continue
            if (name, month) == ("B1", 5):
                regular[name, month] = add_meeting(cell, month, state=Meeting.State.NOTIFIED, members=members[name])
                continue
            if (name, month) in missing:
                continue
            state = Meeting.State.HELD if (name, month) == ("A1", 12) else Meeting.State.MINUTES_ADOPTED
            regular[name, month] = add_meeting(
                cell,
                month,
                kind=kind,
                state=state,
                members=members[name],
                presence=special(name, month),
                guests=[guest] if month in visited.get(name, ()) else (),
            )
    for month in (2, 5, 8, 9):  # B1's thematic meetings: Q1, Q2, Q3 twice; no attendance rows
        add_meeting(cells["B1"], month, kind=Meeting.Kind.THEMATIC, day=20)
    for name, count in (("A1", 1), ("A2", 2), ("B1", 1), ("C", 1)):
        for index in range(count):
            add_meeting(cells[name], 4 + index * 6, kind=Meeting.Kind.FORUM, day=22)
    add_meeting(cells["A3"], 10, kind=Meeting.Kind.FORUM, state=Meeting.State.DRAFT, day=22)

    # One confirmed quality level, for the heat map and the chart. (Seeded rows are gone after a
    # transactional test flushed the database: create what is missing.)
    scheme = ScoringScheme.objects.order_by("pk").first() or ScoringScheme.objects.create(
        code="thu", name="Bộ tiêu chí thử", source_document="HD thử", effective_from=datetime.date(2019, 1, 1)
    )
    for month, level in ((1, "tot"), (2, "kha")):
        MeetingScore.objects.create(
            meeting=regular["A1", month],
            scheme=scheme,
            scheme_version=1,
            scheme_snapshot={},
            state=MeetingScore.State.CONFIRMED,
            official_level=level,
        )

    # Commitments 2026: A1 (7 not exempt, and the exempt one, who is not counted), A2, B1, C. A3 only for 2025.
    for name in ("A1", "A2", "B1", "C"):
        for member in members[name]:
            MemberCommitment.objects.create(member=member, year=YEAR, content="Cam kết")
    MemberCommitment.objects.create(member=members["A3"][0], year=YEAR - 1, content="Cam kết năm trước")

    # Documents: the first yearly type in every cell but B2 (which has only last year's); the first term
    # type in A1 and A2.
    yearly = RequiredDocumentType.objects.filter(period="year", active=True).order_by(
        "order", "pk"
    ).first() or RequiredDocumentType.objects.create(code="ct-nam", name="Chương trình công tác năm", period="year")
    termly = RequiredDocumentType.objects.filter(period="term", active=True).order_by(
        "order", "pk"
    ).first() or RequiredDocumentType.objects.create(code="quy-che", name="Quy chế làm việc", period="term")
    for name, cell in cells.items():
        CellDocument.objects.create(
            organisation=cell,
            document_type=yearly,
            year=YEAR if name != "B2" else YEAR - 1,
            file="x.pdf",
            adopted_on=datetime.date(YEAR, 1, 10),
        )
    for name in ("A1", "A2"):
        term = Term.objects.create(organisation=cells[name], name="2025–2030", start=datetime.date(2025, 6, 1))
        CellDocument.objects.create(
            organisation=cells[name],
            document_type=termly,
            term=term,
            file="y.pdf",
            adopted_on=datetime.date(2025, 7, 1),
        )

    # Ratings decided by the upper level.
    regime = RatingRegime.objects.order_by("-first_year").first() or RatingRegime.objects.create(
        code="qd366", name="QĐ 366", first_year=2025
    )

    def rate(organisation, level, member=None, decided=True):
        AnnualRating.objects.create(
            year=YEAR,
            regime=regime,
            organisation=organisation,
            member=member,
            proposed_level=level,
            decided_level=level if decided else "",
        )

    rate(a, "htxsnv")
    rate(b, "httnv")
    rate(c, "htnv")
    rate(cells["A1"], "httnv")
    rate(cells["A2"], "htxsnv")
    rate(cells["A3"], "khtnv")
    rate(cells["B1"], "httnv")
    rate(cells["B2"], "httnv", decided=False)
    for index, member in enumerate(members["A1"][:7]):
        rate(cells["A1"], "htxsnv" if index < 2 else "httnv", member=member)
    for index, member in enumerate(members["A2"]):
        rate(cells["A2"], "htxsnv" if index < 1 else "httnv" if index < 5 else "htnv", member=member)
    for member in members["B1"][:6]:
        rate(cells["B1"], "httnv", member=member)

    # An overdue open task, and a done one.
    Task.objects.create(meeting=regular["A1", 11], description="Báo cáo quý", due_date=datetime.date(2026, 12, 1))
    Task.objects.create(
        meeting=regular["A1", 11], description="Xong rồi", due_date=datetime.date(2026, 12, 1), status=Task.Status.DONE
    )
    # Three months of unpaid dues for one member of B2.
    rule = DuesRateRule.objects.order_by("pk").first() or DuesRateRule.objects.create(
        effective_from=datetime.date(2010, 1, 1), category="salaried", kind="percent", basis_points=100, source="QĐ"
    )
    for month in (1, 2, 3):
        DuesPayment.objects.create(
            member=members["B2"][1],
            month=datetime.date(YEAR, month, 1),
            organisation=cells["B2"],
            base=5_000_000,
            rate_rule=rule,
            amount_due=50_000,
        )

    users = {}
    for username, organisation, role in [
        ("admin", k, Role.KHOI_ADMIN),
        ("viewer", k, Role.COMMITTEE_VIEWER),
        ("officer_a", a, Role.TCCS_OFFICER),
        ("officer_b", b, Role.TCCS_OFFICER),
        ("secretary", cells["A1"], Role.CELL_SECRETARY),
        ("member", cells["A1"], Role.MEMBER),
    ]:
        users[username] = UserFactory(username=username)
        grant(users[username], organisation, role)
    return SimpleNamespace(
        khoi=k, a=a, b=b, c=c, cells=cells, members=members, regular=regular, yearly=yearly, termly=termly, users=users
    )
