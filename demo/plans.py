"""The demo Khối's yearly plans of thematic meetings and forums (issue #18, items 1 and 2).

``build_demo_plans(rng=..., today=...)`` runs after the meeting history: the Khối publishes a bank of
suggested topics for ``today``'s year, and every cell plans one topic a quarter and one forum. A quarter
whose thematic meeting was held gets the held meeting's topic, linked to it and approved by the chi ủy
in January; the others get a topic from the bank, not held yet (the quarters the history left without a
thematic meeting, and those still to come), so a cell's plan shows each quarter planned against held.
Bulk inserts, no audit rows, like the rest of the demo.
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from cells.models import Member, Organisation
from meetings import kinds
from meetings.models import Meeting, PlannedTopic, SuggestedTopic, TopicKind

from .meetings import FORUM_TOPICS, THEMATIC_TOPICS


def _held_by_cell(year: int) -> dict[int, dict[int, Meeting]]:
    """The first held thematic meeting of each cell's quarter (0: its first forum) in ``year``."""
    held: dict[int, dict[int, Meeting]] = {}
    meetings = Meeting.objects.filter(
        state__in=kinds.HELD_STATES,
        period_month__year=year,
        kind__in=[*kinds.codes("thematic"), Meeting.Kind.FORUM],
    ).order_by("period_month", "planned_start", "pk")
    for meeting in meetings.only("pk", "organisation_id", "kind", "period_month", "topic", "planned_start"):
        slot = 0 if meeting.kind == Meeting.Kind.FORUM else (meeting.period_month.month - 1) // 3 + 1
        held.setdefault(meeting.organisation_id, {}).setdefault(slot, meeting)
    return held


def build_demo_plans(*, rng: random.Random, today: datetime.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    year = today.year
    khoi = Organisation.objects.filter(kind=Organisation.Kind.KHOI).order_by("path").first()
    if khoi is None:
        return {"suggested": 0, "planned": 0}
    with transaction.atomic():
        bank = SuggestedTopic.objects.bulk_create(
            [SuggestedTopic(publisher=khoi, year=year, title=t, kind=TopicKind.THEMATIC) for t in THEMATIC_TOPICS[:6]]
            + [SuggestedTopic(publisher=khoi, year=year, title=t, kind=TopicKind.FORUM) for t in FORUM_TOPICS[:3]]
        )
        by_kind = {kind: [s for s in bank if s.kind == kind] for kind in TopicKind.values}
        held = _held_by_cell(year)
        members: dict[int, list[int]] = {}
        for cell_id, member_id in (
            Member.objects.filter(state=Member.State.ACTIVE, organisation__kind__in=Organisation.CELL_KINDS)
            .order_by("organisation_id", "pk")
            .values_list("organisation_id", "pk")
        ):
            members.setdefault(cell_id, []).append(member_id)
        approved = timezone.make_aware(datetime.datetime(year, 1, 12, 9))
        rows = []
        cells = (
            Organisation.objects.filter(kind__in=Organisation.CELL_KINDS).order_by("path").values_list("pk", flat=True)
        )
        for cell_id in cells:
            people = members.get(cell_id) or [None]
            for slot in (1, 2, 3, 4, 0):
                meeting = held.get(cell_id, {}).get(slot)
                kind = TopicKind.FORUM if slot == 0 else TopicKind.THEMATIC
                suggested = rng.choice(by_kind[kind])
                first = datetime.date(year, 1, 1) if slot == 0 else datetime.date(year, slot * 3 - 2, 1)
                rows.append(
                    PlannedTopic(
                        organisation_id=cell_id,
                        year=year,
                        quarter=slot or None,
                        kind=kind,
                        title=(meeting.topic if meeting is not None and meeting.topic else suggested.title),
                        suggested=None if meeting is not None and meeting.topic else suggested,
                        drafter_id=rng.choice(people),
                        draft_due=(meeting.period_month if meeting else first) + datetime.timedelta(days=4),
                        approved_at=approved,
                        meeting=meeting,
                    )
                )
        PlannedTopic.objects.bulk_create(rows, batch_size=1000)
    return {"suggested": len(bank), "planned": len(rows)}
