"""Who must be trained, and by when: the one home of the training rule (issue #18, item 5).

The source: the seed resolution (Nghị quyết về nâng cao chất lượng sinh hoạt chi bộ, §II.4 "Quan tâm bồi
dưỡng năng lực lãnh đạo, kỹ năng và nghiệp vụ công tác Đảng cho đội ngũ cấp uỷ viên cơ sở, Bí thư chi bộ,
chi uỷ viên"; domain-research §1, "II. Rules stated in the body") asks that "định kỳ Ban Thường vụ Đảng uỷ
Khối tổ chức tập huấn bồi dưỡng nghiệp vụ công tác xây dựng Đảng … cho … chi uỷ viên, bí thư, phó bí thư chi
bộ" — regular training of these officers, with **no time limit**. Neither the resolution nor any Party
document in domain-research gives one.

The **12 months** below are therefore the Khối's own requirement (Ban Tổ chức Đảng ủy Khối: a new officer
attends a course within the first year in the post), **not a Party rule**; change the constant if the Khối
changes it. The 60 days of "due soon" are the portal's warning period, like the probation reviews'
(``cells.selectors.probation_reviews_due``).

Decisions this module makes (docs/rules.md):

* Who: a member holding a post of ``OFFICER_POSTS`` (bí thư, phó bí thư, chi ủy viên: ``Position`` rows,
  cells/models.py) on the day, at any unit (a cell's or a đảng ủy's). Each post is judged on its own: a
  chi ủy viên elected bí thư holds a new post from the day of that decision.
* What counts: a **completed** attendance of a course of a kind in ``QUALIFYING_KINDS`` that **ended on or
  after the day the post began** (and by the day asked about). A course taken before the post — as a chi ủy
  viên before becoming bí thư, or in an earlier term — stays on the member's record but does not meet the
  new post's requirement: the Khối asks for training for the post held.
* By when: ``deadline(start)`` = the same day 12 months later (15/03/2025 → 15/03/2026; 31/05 → the
  month's last day when it is shorter). The deadline day itself is still in time: **overdue** from the day
  after it (16/03/2026), **due soon** from 60 days before it up to it (from 14/01/2026).
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from lib.dates import months_before

from .models import CourseAttendance, Organisation, Position, TrainingCourse

# The Khối's own requirement (see the module's docstring): NOT a Party rule, no Party document sets it.
TRAINING_DEADLINE_MONTHS = 12
# The portal's warning period before the deadline.
DUE_SOON_DAYS = 60

OFFICER_POSTS = (Position.Kind.SECRETARY, Position.Kind.DEPUTY_SECRETARY, Position.Kind.COMMITTEE_MEMBER)
QUALIFYING_KINDS = (TrainingCourse.Kind.OFFICER,)
# Who holds the courses: the Khối, and a đảng ủy cơ sở for its own officers (the seed resolution §II.4:
# "Ban Thường vụ Đảng uỷ Khối tổ chức tập huấn…"; "Cấp uỷ cơ sở có kế hoạch…").
ORGANISER_KINDS = (Organisation.Kind.KHOI, Organisation.Kind.DANG_BO_CO_SO)

TRAINED, IN_TIME, DUE_SOON, OVERDUE = "trained", "in_time", "due_soon", "overdue"
STATE_LABELS = {
    TRAINED: _("Đã bồi dưỡng"),
    IN_TIME: _("Chưa đến hạn"),
    DUE_SOON: _("Sắp đến hạn"),
    OVERDUE: _("Quá hạn"),
}
# The states the list "Cấp ủy viên chưa được bồi dưỡng" shows.
LISTED_STATES = (OVERDUE, DUE_SOON)


def deadline(start: datetime.date) -> datetime.date:
    """The last day to complete a qualifying course for a post taken on ``start``: 12 months later."""
    return months_before(start, -TRAINING_DEADLINE_MONTHS)


def state_on(*, start: datetime.date, trained_on: list[datetime.date], on: datetime.date) -> str:
    """TRAINED, OVERDUE, DUE_SOON or IN_TIME for a post held from ``start``, given the end dates of the
    member's completed qualifying courses (``trained_on``), on the day ``on``."""
    if any(start <= day <= on for day in trained_on):
        return TRAINED
    due = deadline(start)
    if on > due:
        return OVERDUE
    if on >= due - datetime.timedelta(days=DUE_SOON_DAYS):
        return DUE_SOON
    return IN_TIME


@dataclass(frozen=True)
class PostTraining:
    """One post in force and where its holder stands against the requirement."""

    position: Position
    deadline: datetime.date
    state: str

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


def posts_in_force(*, organisations: QuerySet[Organisation], on: datetime.date) -> QuerySet[Position]:
    """The officer posts held on ``on`` in ``organisations``."""
    return (
        Position.objects.filter(organisation__in=organisations, kind__in=OFFICER_POSTS, start__lte=on)
        .filter(Q(end__isnull=True) | Q(end__gte=on))
        .select_related("member", "organisation", "organisation__parent")
        .order_by("start", "organisation__path", "member__full_name", "pk")
    )


def completed_course_ends(*, member_ids, on: datetime.date) -> dict[int, list[datetime.date]]:
    """Each member's end dates of completed qualifying courses that ended by ``on``."""
    ends: dict[int, list[datetime.date]] = {}
    rows = CourseAttendance.objects.filter(
        member_id__in=member_ids, completed=True, course__kind__in=QUALIFYING_KINDS, course__end_date__lte=on
    ).values_list("member_id", "course__end_date")
    for member_id, end in rows:
        ends.setdefault(member_id, []).append(end)
    return ends


def officers_due(*, organisations: QuerySet[Organisation], on: datetime.date) -> list[PostTraining]:
    """The officers in post in ``organisations`` on ``on`` without the required course: overdue first, then
    due soon, each by deadline."""
    posts = list(posts_in_force(organisations=organisations, on=on))
    ends = completed_course_ends(member_ids={p.member_id for p in posts}, on=on)
    rows = []
    for post in posts:
        state = state_on(start=post.start, trained_on=ends.get(post.member_id, []), on=on)
        if state in LISTED_STATES:
            rows.append(PostTraining(position=post, deadline=deadline(post.start), state=state))
    return sorted(rows, key=lambda row: (row.state != OVERDUE, row.deadline))


def posts_of(*, member, on: datetime.date) -> list[PostTraining]:
    """The member's officer posts in force on ``on``, each with its deadline and state (the profile page)."""
    posts = Position.objects.filter(member=member, kind__in=OFFICER_POSTS, start__lte=on).filter(
        Q(end__isnull=True) | Q(end__gte=on)
    )
    ends = completed_course_ends(member_ids=[member.pk], on=on).get(member.pk, [])
    return [
        PostTraining(
            position=post, deadline=deadline(post.start), state=state_on(start=post.start, trained_on=ends, on=on)
        )
        for post in posts.select_related("organisation").order_by("start", "pk")
    ]
