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

from .models import AnnualRating
from .selectors import regime_for

RATING_WEIGHTS = {"htxsnv": 15, "httnv": 72, "htnv": 11, "khtnv": 2}
DECISION_DAY = 22  # of December


def demo_rating_rows(*, rng: random.Random, today: datetime.date, years: int = 3) -> list[AnnualRating]:
    """Unsaved ratings of every TCCS, chi bộ and active member for the last ``years`` years (this one included).

    A (year, subject) that already has a rating is left out, so calling it twice adds nothing.
    """
    codes, weights = zip(*RATING_WEIGHTS.items(), strict=True)
    rated_kinds = [*Organisation.TCCS_KINDS, Organisation.Kind.CHI_BO]
    organisations = list(Organisation.objects.filter(kind__in=rated_kinds).values_list("pk", flat=True))
    members = list(Member.objects.filter(state=Member.State.ACTIVE, organisation__isnull=False)
                   .values_list("pk", "organisation_id"))
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
            rows.append(AnnualRating(
                year=year, regime=regime, organisation_id=organisation_id, member_id=member_id,
                state=AnnualRating.State.DECIDED if decided else AnnualRating.State.SELF_ASSESSED,
                self_level=level, proposed_level=level if decided else "", decided_level=level if decided else "",
                decided_at=decided_on(year) if decided else None,
            ))
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
            created_at=opened_on(year), updated_at=decided_on(year))
    return len(rows)
