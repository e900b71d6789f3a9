"""Yearly ratings for the demo Khối (``seed_demo``) and the benchmark data sets (``bench/data.py``).

Past years are decided by the upper committee; the current year is self-assessed only, because the
decisions come in December. The levels follow a plausible Khối: most members HTTNV, about 15 %
HTXSNV (within the 20 % quota), a few HTNV and very few KHTNV.
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from cells.models import Member, Organisation
from scoring.models import AnnualRating
from scoring.selectors import regime_for

RATING_WEIGHTS = {"htxsnv": 15, "httnv": 72, "htnv": 11, "khtnv": 2}
DECISION_DAY = 22  # of December


def demo_rating_rows(*, rng: random.Random, today: datetime.date, years: int = 3) -> list[AnnualRating]:
    """Unsaved ratings of every TCCS, chi bộ and active member for the last ``years`` years (this one included).

    A (year, subject) that already has a rating is left out, so calling it twice adds nothing.
    """
    codes, weights = zip(*RATING_WEIGHTS.items(), strict=True)
    rated_kinds = [*Organisation.TCCS_KINDS, Organisation.Kind.CHI_BO]
    organisations = list(Organisation.objects.filter(kind__in=rated_kinds).values_list("pk", flat=True))
    members = list(
        Member.objects.filter(state=Member.State.ACTIVE, organisation__isnull=False).values_list(
            "pk", "organisation_id"
        )
    )
    have = set(AnnualRating.objects.values_list("year", "organisation_id", "member_id"))
    rows = []
    for year in range(today.year - years + 1, today.year + 1):
        regime = regime_for(year)
        if regime is None:
            continue
        decided = year < today.year
        subjects = [(org, None) for org in organisations] + [(org, member) for member, org in members]
        for organisation_id, member_id in subjects:
            if (year, organisation_id, member_id) in have:
                continue
            level = rng.choices(codes, weights=weights)[0]
            rows.append(
                AnnualRating(
                    year=year,
                    regime=regime,
                    organisation_id=organisation_id,
                    member_id=member_id,
                    state=AnnualRating.State.DECIDED if decided else AnnualRating.State.SELF_ASSESSED,
                    self_level=level,
                    proposed_level=level if decided else "",
                    decided_level=level if decided else "",
                    decided_at=decided_on(year) if decided else None,
                )
            )
    return rows


def decided_on(year: int) -> datetime.datetime:
    """When the upper committee decided the year's ratings: at its meeting late in December."""
    return timezone.make_aware(datetime.datetime(year, 12, DECISION_DAY, 9, 0))


def opened_on(year: int) -> datetime.datetime:
    """When the year's review opened: the cells' and members' self-assessments start in November."""
    return timezone.make_aware(datetime.datetime(year, 11, 15, 8, 0))


def build_demo_ratings(*, rng: random.Random, today: datetime.date) -> int:
    """Save the demo ratings (bulk insert); returns how many were added."""
    rows = demo_rating_rows(rng=rng, today=today)
    AnnualRating.objects.bulk_create(rows, batch_size=2000)
    # A decided year's rows were written during its review, not at the seed's moment (auto_now_add).
    for year in {row.year for row in rows if row.decided_at is not None}:
        AnnualRating.objects.filter(year=year, decided_at=decided_on(year)).update(
            created_at=opened_on(year), updated_at=decided_on(year)
        )
    return len(rows)


def demo_confirmers() -> list[tuple[str, object]]:
    """The demo accounts that confirm meeting scores, with the path of the organisation their role covers."""
    from cells.models import RoleAssignment
    from demo.cells import DEMO_USERNAMES
    from scoring.selectors import CONFIRM_ROLES

    assignments = RoleAssignment.objects.filter(
        user__username__in=DEMO_USERNAMES, role__in=CONFIRM_ROLES, end__isnull=True
    ).select_related("user", "organisation")
    return [(a.organisation.path, a.user) for a in assignments]


def confirmer_for(cell, confirmers):
    """The nearest upper level of ``cell`` among the demo accounts: the officer of its own đảng ủy cơ sở
    when there is one, else the Khối's admin. Nobody confirms a cell outside their subtree."""
    above = [(path, user) for path, user in confirmers if cell.path.startswith(path) and cell.path != path]
    return max(above, key=lambda item: len(item[0]))[1] if above else None


def prefill_demo_scores(cell, *, confirmers=None) -> int:
    """Hook: pre-fill (and self-adopt) the meeting scores of ``cell``'s held meetings with the scoring app,
    and have the upper level confirm those older than two months.

    Off by default (``seed_demo --scores``): the scoring app scores one meeting at a time through its
    services, which suits the featured cell's dozen meetings, not the whole province. The services
    stamp every row and audit entry with the seed's moment; they are moved back to when the cell
    adopted its score (with the minutes) and when the upper level confirmed it.
    """
    import datetime

    from cells.models import AuditEntry
    from demo import cells as demo
    from demo.meetings import meetings_to_score
    from scoring.models import MeetingScore, MeetingScoreLine
    from scoring.services import meeting_score_confirm, meeting_score_prefill_bulk

    meetings = meetings_to_score(cell=cell)
    first_entry = (AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    scored = meeting_score_prefill_bulk(meetings=meetings, adopt=True)
    # The upper level has confirmed all but the last two months, which still wait for it.
    officer = confirmer_for(cell, demo_confirmers() if confirmers is None else confirmers)
    now = timezone.now()
    cutoff = now - datetime.timedelta(days=60)
    if officer is not None:
        for score in MeetingScore.objects.filter(
            meeting__in=[m for m in meetings if m.planned_start < cutoff], state=MeetingScore.State.SELF_ADOPTED
        ):
            meeting_score_confirm(score=score, by=officer)

    rng = random.Random(f"{demo.DEMO_SEED}-{cell.path}")  # not the primary keys: --reset renumbers
    by_meeting = {m.pk: m for m in meetings}
    scores, moments = [], {}
    for score in MeetingScore.objects.filter(meeting__in=meetings).order_by("meeting__planned_start"):
        meeting = by_meeting[score.meeting_id]
        # Minutes not adopted yet: the score half an hour after the meeting (over at least 45 minutes
        # before now, see demo.meetings.OVER_AFTER).
        adopted = meeting.adopted_at or meeting.actual_end + datetime.timedelta(minutes=30)
        confirmed = None
        if score.confirmed_at is not None:  # only meetings older than two months
            confirmed = min(
                adopted + datetime.timedelta(days=rng.randint(3, 20), hours=rng.randint(0, 6)),
                now - datetime.timedelta(minutes=1),
            )
        moments[score.pk] = (adopted, confirmed)
        scores.append((score.pk, adopted, adopted if score.self_adopted_at else None, confirmed, confirmed or adopted))
    demo.set_columns(MeetingScore, ("created_at", "self_adopted_at", "confirmed_at", "updated_at"), scores)
    score_of_line = dict(MeetingScoreLine.objects.filter(score_id__in=moments).values_list("pk", "score_id"))
    entries = []
    for pk, object_type, object_id, action in AuditEntry.objects.filter(pk__gte=first_entry).values_list(
        "pk", "object_type", "object_id", "action"
    ):
        score_id = (
            int(object_id)
            if object_type == "scoring.meetingscore"
            else score_of_line.get(int(object_id))
            if object_type == "scoring.meetingscoreline"
            else None
        )
        if score_id not in moments:
            continue
        adopted, confirmed = moments[score_id]
        upper = action.endswith((".confirm", ".override"))
        entries.append((pk, confirmed if upper and confirmed else adopted))
    demo.set_columns(AuditEntry, ("created_at",), entries)
    return scored
