"""What must hold of the demo Khối on whatever day it is built: used at the real date by
``test_seed_demo.py`` and under a travelling clock by ``test_seed_demo_clock.py``.

Each check returns the offending rows (an empty list when it holds), so a failure names them.
"""

import datetime

from django.contrib.auth import get_user_model
from django.db.models import F, Min, OuterRef, Q, Subquery
from django.utils import timezone

from cells.models import (
    CellDocument,
    CellFundEntry,
    CellMembership,
    DuesPayment,
    DuesRemittance,
    Exemption,
    Member,
    MemberCommitment,
    Notification,
    Suspension,
)
from meetings.models import Attendance, Meeting, Opinion, Task, Vote
from scoring.models import AnnualRating

HELD = (Meeting.State.HELD, Meeting.State.MINUTES_ADOPTED)


def month_add(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def featured_cell():
    return get_user_model().objects.get(username="bithu").member.organisation


def upcoming_problems(now: datetime.datetime) -> list:
    """The featured cell has exactly one upcoming notified regular meeting: this month's while it is
    still ahead, else next month's."""
    cell = featured_cell()
    this_month = timezone.localdate(now).replace(day=1)
    upcoming = list(
        Meeting.objects.filter(
            organisation=cell, kind__in=Meeting.REGULAR_KINDS, state=Meeting.State.NOTIFIED, planned_start__gt=now
        )
    )
    if len(upcoming) != 1:
        return [("upcoming regular meetings", upcoming)]
    this_month_held = Meeting.objects.filter(
        organisation=cell, kind__in=Meeting.REGULAR_KINDS, period_month=this_month, state__in=HELD
    ).exists()
    expected = month_add(this_month, 1) if this_month_held else this_month
    if upcoming[0].period_month != expected:
        return [("upcoming meeting's month", upcoming[0].period_month, "expected", expected)]
    return []


def _collector(problems: list, *fields: str):
    """``offending(label, queryset)``: note the first five rows (pks, or ``fields``) of a queryset that
    should be empty."""

    def offending(label, queryset):
        rows = list(queryset.values_list(*fields)[:5] if fields else queryset.values_list("pk", flat=True)[:5])
        if rows:
            problems.append((label, rows))

    return offending


def meeting_problems(now: datetime.datetime) -> list:
    """Meetings: nothing in progress or notified in the past, the chi ủy before the meeting it prepares,
    every step stamped in order and none after now."""
    today = timezone.localdate(now)
    meetings = Meeting.objects.all()
    problems = []

    offending = _collector(problems, "pk", "kind", "period_month", "planned_start")

    offending("notified in the past", meetings.filter(state=Meeting.State.NOTIFIED, planned_start__lte=now))
    offending(
        "held in the future",
        meetings.filter(state__in=HELD).filter(
            Q(planned_start__gt=now) | Q(actual_start__gt=now) | Q(actual_end__gt=now)
        ),
    )
    offending(
        "held without its times",
        meetings.filter(state__in=HELD).filter(Q(actual_start__isnull=True) | Q(actual_end__isnull=True)),
    )
    offending("counted after next month", meetings.filter(period_month__gt=month_add(today.replace(day=1), 1)))
    prepared = meetings.filter(preparatory_meeting__isnull=False)
    offending(
        "preparatory meeting not over before the meeting",
        prepared.filter(
            Q(preparatory_meeting__planned_start__gte=F("planned_start"))
            | Q(preparatory_meeting__actual_end__gte=F("planned_start"))
            | Q(preparatory_meeting__actual_end__isnull=True)
        ),
    )
    offending(
        "preparatory meeting of another month or cell, or not the chi ủy's",
        prepared.exclude(
            preparatory_meeting__period_month=F("period_month"),
            preparatory_meeting__organisation=F("organisation"),
            preparatory_meeting__kind=Meeting.Kind.COMMITTEE,
        ),
    )
    offending(
        "prepared more than a week before",
        prepared.filter(preparatory_meeting__planned_start__lt=F("planned_start") - datetime.timedelta(days=8)),
    )
    offending(
        "preparatory meeting on a weekend",
        meetings.filter(kind=Meeting.Kind.COMMITTEE, planned_start__week_day__in=[1, 7]),
    )
    noticed = meetings.filter(state__in=(Meeting.State.NOTIFIED, *HELD))
    offending("no notice", noticed.filter(notice_sent_at__isnull=True))
    offending(
        "planned after its notice or noticed after its start",
        noticed.filter(Q(created_at__gt=F("notice_sent_at")) | Q(notice_sent_at__gt=F("planned_start"))),
    )
    offending(
        "written in the future or changed before it was written",
        meetings.filter(
            Q(created_at__gt=now)
            | Q(updated_at__gt=now)
            | Q(updated_at__lt=F("created_at"))
            | Q(notice_sent_at__gt=now)
            | Q(documents_published_at__gt=now)
        ),
    )
    adopted = meetings.filter(state=Meeting.State.MINUTES_ADOPTED)
    offending(
        "minutes adopted before the meeting ended or in the future",
        adopted.filter(Q(adopted_at__isnull=True) | Q(adopted_at__lt=F("actual_end")) | Q(adopted_at__gt=now)),
    )
    offending(
        "minutes without a term that covers the meeting",
        adopted.filter(
            Q(term__isnull=True) | Q(term__start__gt=F("actual_start__date")) | Q(term__end__lt=F("actual_start__date"))
        ),
    )
    return problems


def record_problems(now: datetime.datetime) -> list:
    """The meetings' records: said, voted and assigned during the meeting; answered between notice and start."""
    problems = []

    offending = _collector(problems)

    offending(
        "opinion outside its meeting",
        Opinion.objects.filter(
            Q(created_at__lt=F("meeting__actual_start")) | Q(created_at__gt=F("meeting__actual_end"))
        ),
    )
    offending(
        "vote outside its meeting",
        Vote.objects.filter(Q(created_at__lt=F("meeting__actual_start")) | Q(created_at__gt=F("meeting__actual_end"))),
    )
    offending(
        "task given outside its meeting",
        Task.objects.filter(Q(created_at__lt=F("meeting__actual_start")) | Q(created_at__gt=F("meeting__actual_end"))),
    )
    offending(
        "task done before it was given, or in the future",
        Task.objects.filter(Q(completed_at__lt=F("created_at")) | Q(completed_at__gt=now)),
    )
    offending(
        "RSVP before the notice or in the future",
        Attendance.objects.filter(rsvp_at__isnull=False).filter(
            Q(rsvp_at__lt=F("meeting__notice_sent_at")) | Q(rsvp_at__gt=now)
        ),
    )
    # The inbox notices are those of the featured cell's upcoming meeting, dated when it was sent.
    sent = set(
        Meeting.objects.filter(organisation=featured_cell(), state=Meeting.State.NOTIFIED).values_list(
            "notice_sent_at", flat=True
        )
    )
    offending(
        "notice not dated when it was sent",
        Notification.objects.filter(kind="meetings.notice").exclude(created_at__in=sent),
    )
    return problems


def member_problems(now: datetime.datetime) -> list:
    """Memberships start at admission, or at a transfer-in after it that says where from."""
    today = timezone.localdate(now)
    problems = []
    first = CellMembership.objects.filter(member=OuterRef("pk")).order_by("start")
    members = Member.objects.annotate(
        first_start=Subquery(first.values("start")[:1]), first_reason=Subquery(first.values("reason_in")[:1])
    )

    offending = _collector(problems)

    offending("no membership", members.filter(first_start__isnull=True))
    offending(
        "admitted here but not from the decision",
        members.filter(first_reason="Kết nạp").exclude(first_start=F("admission_decision_date")),
    )
    offending(
        "transferred in before admission, or not saying from where",
        members.exclude(first_reason="Kết nạp").filter(
            Q(first_start__lte=F("admission_ceremony_date")) | ~Q(first_reason__startswith="Chuyển sinh hoạt đến từ ")
        ),
    )
    offending("membership in the future", CellMembership.objects.filter(start__gt=today))
    joined = (
        CellMembership.objects.filter(member=OuterRef("member"))
        .values("member")
        .annotate(first=Min("start"))
        .values("first")
    )
    for model in (Exemption, Suspension):
        offending(
            f"{model.__name__.lower()} before the member joined the cell",
            model.objects.annotate(joined=Subquery(joined)).filter(start__lt=F("joined")),
        )
    return problems


def book_problems(now: datetime.datetime) -> list:
    """Dues, commitments, documents and ratings: nothing dated after now."""
    today = timezone.localdate(now)
    problems = []

    offending = _collector(problems)

    offending(
        "dues of a future month or paid in the future",
        DuesPayment.objects.filter(Q(month__gt=today) | Q(paid_on__gt=today)),
    )
    offending(
        "remittance made in the future, or before the month it remits",
        DuesRemittance.objects.filter(Q(remitted_on__gt=today) | Q(month__gt=today) | Q(remitted_on__lt=F("month"))),
    )
    offending("activity-fund entry dated in the future", CellFundEntry.objects.filter(entry_date__gt=today))
    offending(
        "commitment signed in the future",
        MemberCommitment.objects.filter(Q(confirmed_at__gt=now) | Q(year__gt=today.year)),
    )
    offending(
        "document adopted in the future", CellDocument.objects.filter(Q(adopted_on__gt=today) | Q(year__gt=today.year))
    )
    offending(
        "rating decided in the future or for the year in progress",
        AnnualRating.objects.filter(
            Q(decided_at__gt=now)
            | Q(decided_at__isnull=False, year__gte=today.year)
            | Q(decided_at__lt=F("created_at"))
        ),
    )
    return problems


def admission_problems(now: datetime.datetime) -> list:
    """The featured cell's candidates (issue #18 item 4): their steps in order, none in the future, and the
    decided one's ceremony due within the reminder's days."""
    from cells import admission
    from cells.models import Candidate
    from cells.selectors import candidate_rows

    today = timezone.localdate(now)
    problems = []
    rows = candidate_rows(Candidate.objects.filter(organisation=featured_cell()))
    if len(rows) != 2:
        problems.append(("candidates in the featured cell", len(rows)))
    for row in rows:
        done = [step.done_on for step in row.steps if step.done_on]
        if done != sorted(done) or any(day > today for day in done):
            problems.append(("candidate's steps out of order or ahead", row.candidate.pk))
    if not any(row.current and row.current.code == admission.CEREMONY and row.due_soon(today) for row in rows):
        problems.append(("no candidate with the ceremony due soon", today))
    return problems


def all_problems(now: datetime.datetime) -> list:
    return (
        upcoming_problems(now)
        + meeting_problems(now)
        + record_problems(now)
        + member_problems(now)
        + book_problems(now)
        + admission_problems(now)
    )
