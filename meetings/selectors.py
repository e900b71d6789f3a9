"""Reads of the meetings app, and the one answer to "which meetings may this user see".

A meeting outside the user's subtrees answers 404; a meeting the user may see but not change
answers 403. The minutes page and the minutes PDF are built from one ``minutes_context``.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Prefetch, Q, QuerySet, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import CellMembership, Member, Organisation, Position
from cells.permissions import can, roles_with
from cells.selectors import (
    READ_MEMBERS,
    organisations_visible_to,
)
from lib.dates import add_months, month_end, quarter_end
from lib.formatting import clock, party_day, place_and_date, quarter_label

from . import indicators, kinds
from .models import (
    AbsenceRequest,
    AgendaItem,
    Attendance,
    CalendarFeed,
    DocumentRead,
    DocumentReminder,
    DraftComment,
    MaterialRead,
    Meeting,
    MeetingDocument,
    Opinion,
    PlannedTopic,
    SpeakRequest,
    SuggestedTopic,
    Task,
    TopicKind,
    UpperMaterial,
    VisitAssignment,
    VisitObservation,
    Vote,
)
from .votes import vote_base

# From the permission table (cells/permissions.py).
WRITE_MEETINGS = roles_with("meetings.write")
MEMBER_ROLES = roles_with("meetings.attend")


# --- access ------------------------------------------------------------------------------


def meetings_visible_to(user) -> QuerySet[Meeting]:
    """Meetings of the cells the user reads, plus the published meetings of the cells they belong to."""
    if not user.is_authenticated:
        return Meeting.objects.none()
    readable = organisations_visible_to(user, roles=READ_MEMBERS).values("pk")
    as_member = organisations_visible_to(user, roles=MEMBER_ROLES).values("pk")
    return Meeting.objects.filter(
        Q(organisation__in=readable) | (Q(organisation__in=as_member) & ~Q(state=Meeting.State.DRAFT))
    )


def can_write_cell(user, organisation: Organisation) -> bool:
    return can(user, "meetings.write", organisation)


def can_write_minutes(user, meeting: Meeting) -> bool:
    """Managers of the cell, or the meeting's own clerk holding the clerk role on the cell."""
    if can_write_cell(user, meeting.organisation):
        return True
    return bool(
        meeting.clerk_id
        and meeting.clerk is not None
        and meeting.clerk.user_id == user.pk
        and can(user, "minutes.take", meeting.organisation)
    )


def get_meeting_for_user_or_404(user, pk, *, write: bool = False, minutes: bool = False) -> Meeting:
    """The meeting if the user may see it (else 404); with ``write`` also 403 unless they may change it.

    ``minutes=True`` lets the meeting's clerk write too (attendance, opinions, votes, conclusion).
    """
    try:
        meeting = (
            meetings_visible_to(user)
            .select_related("organisation", "organisation__parent", "chair", "clerk", "term")
            .get(pk=pk)
        )
    except (Meeting.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not (can_write_minutes(user, meeting) if minutes else can_write_cell(user, meeting.organisation)):
        raise PermissionDenied
    return meeting


def get_task_for_user_or_404(user, pk, *, write: bool = False) -> Task:
    """A task is visible with its meeting, or to its assignees; assignees and the cell's managers update it."""
    member = getattr(user, "member", None) if user.is_authenticated else None
    query = Q(meeting__in=meetings_visible_to(user))
    if member is not None:
        query |= Q(assignees=member)
    try:
        task = Task.objects.filter(query).distinct().select_related("meeting", "meeting__organisation").get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not (
        can_write_cell(user, task.meeting.organisation)
        or (member is not None and task.assignees.filter(pk=member.pk).exists())
    ):
        raise PermissionDenied
    return task


def cells_visible_to(user) -> QuerySet[Organisation]:
    """Cells whose meeting list the user may open."""
    readable = organisations_visible_to(user, roles=READ_MEMBERS | MEMBER_ROLES)
    return readable.filter(kind__in=Organisation.CELL_KINDS)


def get_cell_for_user_or_404(user, pk, *, write: bool = False) -> Organisation:
    try:
        cell = cells_visible_to(user).select_related("parent").get(pk=pk)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not can_write_cell(user, cell):
        raise PermissionDenied
    return cell


# --- facts -------------------------------------------------------------------------------


def _active_on(day: date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}start__lte": day}) & (Q(**{f"{prefix}end__isnull": True}) | Q(**{f"{prefix}end__gte": day}))


def expected_members(*, cell: Organisation, on: date) -> QuerySet[Member]:
    """Members whose membership in ``cell`` covers ``on``: who is expected at that day's meeting."""
    in_cell = CellMembership.objects.filter(_active_on(on), organisation=cell).values("member_id")
    return (
        Member.objects.filter(pk__in=in_cell)
        .exclude(state__in=[Member.State.DECEASED, Member.State.REMOVED])
        .order_by("full_name", "pk")
    )


def eligible_voters(*, meeting: Meeting) -> QuerySet[Member]:
    """The members present who may vote: official on the day, counted in the decision's base
    (``meetings.votes.vote_base``: not suspended, not attached elsewhere; exempt ones only when present)."""
    return Member.objects.filter(pk__in=vote_base(meeting).voter_ids)


def supervisors_of(*, cell: Organisation, on: date) -> QuerySet[Member]:
    """The upper-level committee members in charge of the cell (đảng ủy viên phụ trách)."""
    ids = Position.objects.filter(_active_on(on), organisation=cell, kind=Position.Kind.SUPERVISOR).values("member_id")
    return Member.objects.filter(pk__in=ids)


def rsvp_counts(*, meeting: Meeting) -> dict:
    return meeting.attendances.aggregate(
        yes=Count("pk", filter=Q(rsvp=Attendance.Rsvp.YES)),
        no=Count("pk", filter=Q(rsvp=Attendance.Rsvp.NO)),
        none=Count("pk", filter=Q(rsvp=Attendance.Rsvp.NONE) & ~Q(presence__in=Attendance.OUTSIDE_BASE_VALUES)),
        total=Count("pk"),
    )


def last_adopted_meeting(*, cell: Organisation, before) -> Meeting | None:
    return (
        Meeting.objects.filter(organisation=cell, state=Meeting.State.MINUTES_ADOPTED, planned_start__lt=before)
        .order_by("-planned_start")
        .first()
    )


def open_tasks_of(*, meeting: Meeting | None) -> QuerySet[Task]:
    if meeting is None:
        return Task.objects.none()
    return meeting.tasks.filter(status=Task.Status.OPEN).prefetch_related("assignees")


def meeting_list(*, user, cell: Organisation) -> QuerySet[Meeting]:
    return (
        meetings_visible_to(user)
        .filter(organisation=cell)
        .select_related("chair", "clerk", "organisation")
        .annotate(
            rsvp_yes=Count("attendances", filter=Q(attendances__rsvp=Attendance.Rsvp.YES)),
            expected=Count("attendances"),
        )
        .order_by("-period_month", "-planned_start")
    )


def tasks_of_member(*, member: Member) -> QuerySet[Task]:
    return (
        member.meeting_tasks.exclude(meeting__state=Meeting.State.CANCELLED)
        .select_related("meeting", "meeting__organisation")
        .prefetch_related("assignees")
        .order_by("status", "due_date", "pk")
    )


def tasks_of_cell(*, cell: Organisation) -> QuerySet[Task]:
    return (
        Task.objects.filter(meeting__organisation=cell)
        .exclude(meeting__state=Meeting.State.CANCELLED)
        # The task table names each task's meeting, and a meeting's name includes its cell's.
        .select_related("meeting__organisation")
        .prefetch_related("assignees")
        .order_by("status", "due_date", "pk")
    )


# --- the minutes -------------------------------------------------------------------------


def _names(attendances) -> list[str]:
    return [a.member.full_name for a in attendances]


# Where the minutes print what was recorded (issue #14): each record under the agenda step it belongs to.
_STEP_BLOCKS: dict[str, str] = {
    # The results of the questions asked since the previous meeting (issue #17 item 4) are reported there.
    AgendaItem.Step.OPENING: "async",
    AgendaItem.Step.NEXT_TASKS: "tasks",
    AgendaItem.Step.CONCLUSION: "conclusion",
    AgendaItem.Step.SELF_SCORE: "score",
    AgendaItem.Step.MINUTES: "minutes",
}
# Steps where members speak: "Không có ý kiến" when nothing was recorded there.
_SPEAKING_STEPS = {
    AgendaItem.Step.NEWS,
    AgendaItem.Step.LAST_RESULTS,
    AgendaItem.Step.OPINIONS,
    AgendaItem.Step.DISCUSSION,
    AgendaItem.Step.PARTY_WORK,
    AgendaItem.Step.TOPIC,
    AgendaItem.Step.OTHER,
}


def _minutes_steps(agenda: list[AgendaItem], unassigned: list) -> dict:
    """Each agenda item with what the minutes print under it: its notes and opinions, and the first
    item of the right step takes the tasks, the conclusion with its votes, the self-score, the reading of
    the minutes; the opinions tied to no item go to the opinions step (or the discussion). ``placed``
    says which records found a step; the others are printed after the agenda, as before."""
    placed = {"tasks": False, "conclusion": False, "score": False, "minutes": False, "opinions": False, "async": False}
    items = []
    for item in agenda:
        entry: dict[str, Any] = {"item": item, "opinions": list(item.opinions.all()), "blocks": set()}
        block = _STEP_BLOCKS.get(item.step)
        if block and not placed[block]:
            entry["blocks"].add(block)
            placed[block] = True
        items.append(entry)
    if unassigned:
        for step in (AgendaItem.Step.OPINIONS, AgendaItem.Step.DISCUSSION):
            target = next((e for e in items if e["item"].step == step), None)
            if target is not None:
                target["opinions"] += unassigned
                placed["opinions"] = True
                break
    for entry in items:
        entry["nothing_said"] = (
            entry["item"].step in _SPEAKING_STEPS and not entry["opinions"] and not entry["item"].notes.strip()
        )
    return {"items": items, "placed": placed}


def _reported_decisions(meeting: Meeting) -> list:
    from .async_decisions import reported_at

    return reported_at(meeting)


def _partial_presence(present: list[Attendance]) -> list[str]:
    """ "đồng chí X: có mặt từ nội dung 2 đến hết nội dung 3", for each member present for part of it only."""
    lines = []
    for attendance in present:
        if not attendance.partial:
            continue
        values = {
            "name": attendance.member.full_name,
            "joined": attendance.joined_item.order if attendance.joined_item else "",
            "left": attendance.left_item.order if attendance.left_item else "",
        }
        if attendance.joined_item_id and attendance.left_item_id:
            text = _("đồng chí %(name)s: có mặt từ nội dung %(joined)s đến hết nội dung %(left)s")
        elif attendance.joined_item_id:
            text = _("đồng chí %(name)s: có mặt từ nội dung %(joined)s")
        else:
            text = _("đồng chí %(name)s: có mặt đến hết nội dung %(left)s")
        lines.append(text % values)
    return lines


def minutes_context(meeting: Meeting) -> dict:
    """Everything the minutes show, for the web page and the PDF alike (so they cannot disagree)."""
    meeting = (
        Meeting.objects.select_related("organisation", "organisation__parent", "chair", "clerk", "term")
        .prefetch_related("upper_guests")
        .get(pk=meeting.pk)
    )
    attendances = list(
        meeting.attendances.select_related("member", "joined_item", "left_item").order_by("member__full_name", "pk")
    )
    by_presence: dict[str, list[Attendance]] = {}
    for attendance in attendances:
        by_presence.setdefault(attendance.presence, []).append(attendance)
    present = by_presence.get(Attendance.Presence.PRESENT, []) + by_presence.get(Attendance.Presence.LATE, [])
    absent_excused = by_presence.get(Attendance.Presence.ABSENT_EXCUSED, [])
    absent_unexcused = by_presence.get(Attendance.Presence.ABSENT_UNEXCUSED, [])
    exempt = by_presence.get(Attendance.Presence.EXEMPT, [])
    elsewhere = by_presence.get(Attendance.Presence.ATTACHED_ELSEWHERE, [])
    official = [a for a in attendances if a.member.status == Member.Status.OFFICIAL]
    agenda = list(
        meeting.agenda_items.prefetch_related(
            Prefetch("opinions", queryset=Opinion.objects.select_related("speaker").order_by("pk"))
        ).order_by("order", "pk")
    )
    unassigned_opinions = list(meeting.opinions.filter(agenda_item__isnull=True).select_related("speaker"))
    steps = _minutes_steps(agenda, unassigned_opinions)
    votes = list(meeting.votes.select_related("subject", "candidate", "online_question__agenda_item").order_by("pk"))
    resolution = getattr(meeting, "resolution", None)
    tasks = list(meeting.tasks.prefetch_related("assignees").order_by("due_date", "pk"))
    day = timezone.localtime(meeting.actual_start or meeting.planned_start)
    organisation = meeting.organisation
    return {
        # The document heading (design §7).
        "upper_name": organisation.parent.name if organisation.parent else "",
        "issuer_name": organisation.name,
        "issuer_code": organisation.short_code or "CB",
        "date_line": place_and_date(day.date()),
        "party_day": party_day(day.date()),
        "start_clock": clock(meeting.actual_start or meeting.planned_start),
        "end_clock": clock(meeting.actual_end),
        "meeting": meeting,
        "organisation": meeting.organisation,
        "upper_organisation": meeting.organisation.parent,
        "reference": meeting.minutes_reference,
        "start": timezone.localtime(meeting.actual_start) if meeting.actual_start else None,
        "end": timezone.localtime(meeting.actual_end) if meeting.actual_end else None,
        "day": day,
        "attendances": attendances,
        "counts": {
            "total": len(attendances),
            "official": len(official),
            "probationary": len(attendances) - len(official),
            "exempt": len(exempt),
            "present": len(present),
            "late": len(by_presence.get(Attendance.Presence.LATE, [])),
            "absent_excused": len(absent_excused),
            "absent_unexcused": len(absent_unexcused),
            "elsewhere": len(elsewhere),
            "unrecorded": len(by_presence.get(Attendance.Presence.BLANK, [])),
        },
        "present": present,
        "present_names": _names(present),
        # Who was there for part of the meeting only, by agenda item (issue #17 item 3).
        "partial_presence": _partial_presence(present),
        "absent_excused": absent_excused,
        "absent_unexcused_names": _names(absent_unexcused),
        "exempt_names": _names(exempt),
        "elsewhere_names": _names(elsewhere),
        "upper_guests": list(meeting.upper_guests.all()),
        "guests": [line.strip() for line in meeting.guests.splitlines() if line.strip()],
        "agenda": agenda,
        "steps": steps["items"],
        "placed": steps["placed"],
        "unassigned_opinions": [] if steps["placed"]["opinions"] else unassigned_opinions,
        "votes": votes,
        # What each decision is measured against, and whether those present can carry one (meetings.votes).
        "vote_base": vote_base(meeting),
        "resolution": resolution,
        "tasks": tasks,
        "amendments": list(meeting.amendments.order_by("at", "pk")),
        "duration": meeting.duration_minutes,
        # The questions asked between the previous meeting and this one, reported at its opening step.
        "async_decisions": _reported_decisions(meeting),
    }


def filed_document(*, meeting: Meeting, kind: str):
    """The document filed at adoption (the caller has checked access to the meeting), or None."""
    from .models import FiledDocument

    return FiledDocument.objects.filter(meeting=meeting, kind=kind).first()


def filed_document_by_code(code: str):
    """For the public verification page: the filed document of a code, with only what the page shows."""
    from .models import FiledDocument

    return (
        FiledDocument.objects.select_related("meeting__organisation")
        .only(
            "kind",
            "reference",
            "code",
            "sha256",
            "filed_at",
            "signed",
            "signer_subject",
            "meeting__adopted_at",
            "meeting__organisation__name",
        )
        .filter(code=str(code).strip().upper()[:12])
        .first()
    )


def agenda_of(meeting: Meeting) -> QuerySet[AgendaItem]:
    return meeting.agenda_items.order_by("order", "pk")


# --- documents and their read receipts (issue #17) --------------------------------------------


@dataclass
class DocumentReads:
    """One document of a meeting as the secretary sees it: "Đã xem read/total" and who has not opened it."""

    document: MeetingDocument
    read: int
    total: int
    unread: list[str]


def _summoned(meeting: Meeting) -> list[tuple[int, str]]:
    """(member id, name) of those a meeting's documents are for: the members on its list who are due to
    attend (the exempt and those attached elsewhere are not), as the RSVP reminder counts them."""
    return list(
        meeting.attendances.exclude(presence__in=Attendance.OUTSIDE_BASE_VALUES)
        .order_by("member__full_name", "member_id")
        .values_list("member_id", "member__full_name")
    )


def _reads_of(meeting: Meeting) -> set[tuple[int, int]]:
    return set(DocumentRead.objects.filter(document__meeting=meeting).values_list("document_id", "member_id"))


def document_reads(meeting: Meeting, *, receipts: bool = True) -> list[DocumentReads]:
    """Per document, how many of the members summoned opened it, out of how many, and who has not:
    three queries whatever the numbers of documents and members (one without ``receipts``: no counts)."""
    documents = list(meeting.documents.all())
    if not receipts:
        return [DocumentReads(document, 0, 0, []) for document in documents]
    summoned = _summoned(meeting)
    reads = _reads_of(meeting)
    rows = []
    for document in documents:
        unread = [name for member_id, name in summoned if (document.pk, member_id) not in reads]
        rows.append(DocumentReads(document, len(summoned) - len(unread), len(summoned), unread))
    return rows


def document_unread_by_member(meeting: Meeting) -> dict[int, list[str]]:
    """The members summoned who have not opened every document of the meeting, with the titles they have not opened."""
    documents = list(meeting.documents.values_list("pk", "title"))
    reads = _reads_of(meeting)
    unread: dict[int, list[str]] = {}
    for member_id, _name in _summoned(meeting):
        titles = [title for pk, title in documents if (pk, member_id) not in reads]
        if titles:
            unread[member_id] = titles
    return unread


def documents_read_by(*, meeting: Meeting, member: Member) -> set[int]:
    """The documents of ``meeting`` that ``member`` has opened."""
    return set(
        DocumentRead.objects.filter(document__meeting=meeting, member=member).values_list("document_id", flat=True)
    )


def document_reminded_today(meeting: Meeting) -> DocumentReminder | None:
    return DocumentReminder.objects.filter(meeting=meeting, day=timezone.localdate()).first()


def votes_of(meeting: Meeting) -> QuerySet[Vote]:
    return meeting.votes.select_related("subject", "candidate").order_by("pk")


# --- calendars -----------------------------------------------------------------------------


def calendar_organisations_visible_to(user) -> QuerySet[Organisation]:
    """Organisations whose month calendar the user may open: the subtrees they read, and their own cell."""
    return organisations_visible_to(user, roles=READ_MEMBERS | MEMBER_ROLES)


def get_calendar_organisation_for_user_or_404(user, pk) -> Organisation:
    try:
        return calendar_organisations_visible_to(user).select_related("parent").get(pk=pk)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def meetings_of_month(*, user, organisation: Organisation, start, end) -> QuerySet[Meeting]:
    """The meetings of ``organisation`` and its subtree that ``user`` may see, starting in [start, end)."""
    return (
        meetings_visible_to(user)
        .filter(organisation__path__startswith=organisation.path, planned_start__gte=start, planned_start__lt=end)
        .select_related("organisation")
        .order_by("planned_start", "organisation__path", "pk")
    )


def calendar_feed_of(*, member: Member) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(member=member).first()


def get_calendar_feed_or_404(token: str) -> CalendarFeed:
    """The feed a secret address names; a renewed (old) token, or a deactivated account, answers 404."""
    try:
        return CalendarFeed.objects.select_related("member").get(token=token, member__user__is_active=True)
    except CalendarFeed.DoesNotExist:
        raise Http404 from None


def meetings_of_member_feed(*, member: Member, since) -> QuerySet[Meeting]:
    """The meetings the member is summoned to (an attendance row, not exempt) that start after ``since``.

    Only published meetings have attendance rows, so no draft ever reaches a feed; a member who left
    the cell keeps the past meetings they were summoned to and loses the future ones (their rows are
    withdrawn, ``services.attendance_withdraw``).
    """
    summoned = Attendance.objects.filter(member=member).exclude(presence=Attendance.Presence.EXEMPT)
    return (
        Meeting.objects.filter(pk__in=summoned.values("meeting_id"), planned_start__gte=since)
        .exclude(state=Meeting.State.DRAFT)
        .select_related("organisation")
        .order_by("planned_start", "pk")
    )


# --- the yearly plan of thematic meetings and forums (issue #18, items 1 and 2) -------------------

QUARTER_NUMERALS = {1: "I", 2: "II", 3: "III", 4: "IV"}


def _held_plan_meetings(*, organisations, year: int) -> QuerySet[Meeting]:
    """The held thematic (or combined) meetings and forums of ``year`` (meetings.indicators' definitions)."""
    year_q = indicators.thematic_held_q(first=date(year, 1, 1), last=date(year, 12, 1))
    return Meeting.objects.filter(year_q | indicators.forum_held_q(year=year), organisation__in=organisations)


def _quarter_status(*, year: int, quarter: int, held: bool, today: date) -> str:
    """Met once held; failed when the quarter ended without; in progress or not started until then."""
    period = indicators.Period(year, quarter)
    if held:
        return indicators.MET
    if period.ended(today):
        return indicators.FAILED
    return indicators.IN_PROGRESS if period.in_progress(today) else indicators.NOT_STARTED


def _topic_held(topic: PlannedTopic) -> Meeting | None:
    return topic.meeting if topic.meeting is not None and topic.meeting.state in kinds.HELD_STATES else None


def thematic_plan(*, cell: Organisation, year: int, today: date) -> dict:
    """The cell's plan for ``year`` against what was held: four quarters and the forums.

    A quarter's topic counts as held ("đã tổ chức") by the meeting linked to it once held, or else by any
    thematic meeting held in the quarter (indicators.thematic_held_q: the resolution asks for one a
    quarter "from a yearly plan"). A forum topic by its linked forum once held, or else by a held forum of
    the year not linked to another topic (indicators.forum_held_q), matched in order.
    """
    topics = list(
        PlannedTopic.objects.filter(organisation=cell, year=year)
        .select_related("drafter", "meeting", "suggested", "suggested__publisher", "approved_by")
        .order_by("quarter", "draft_due", "pk")
    )
    held = list(_held_plan_meetings(organisations=[cell.pk], year=year).order_by("period_month", "planned_start"))
    quarters = []
    for number in range(1, 5):
        held_here = [m for m in held if m.kind != Meeting.Kind.FORUM and (m.period_month.month - 1) // 3 + 1 == number]
        planned = [t for t in topics if t.kind == TopicKind.THEMATIC and t.quarter == number]
        for topic in planned:
            topic.held_meeting = _topic_held(topic) or (held_here[0] if held_here else None)  # type: ignore[attr-defined]
        quarters.append(
            {
                "number": number,
                "numeral": QUARTER_NUMERALS[number],
                "topics": planned,
                "held_meetings": held_here,
                "planned_count": len(planned),
                "held_count": len(held_here),
                "status": _quarter_status(year=year, quarter=number, held=bool(held_here), today=today),
            }
        )
    forum_topics = [t for t in topics if t.kind == TopicKind.FORUM]
    held_forums = [m for m in held if m.kind == Meeting.Kind.FORUM]
    linked = {t.meeting_id for t in forum_topics if t.meeting_id}
    free = iter([m for m in held_forums if m.pk not in linked])
    for topic in forum_topics:
        topic.held_meeting = _topic_held(topic) or (None if topic.meeting_id else next(free, None))  # type: ignore[attr-defined]
    return {
        "year": year,
        "quarters": quarters,
        "forums": {"topics": forum_topics, "held_meetings": held_forums, "planned_count": len(forum_topics)},
        "forum_held_count": len(held_forums),
    }


def suggested_topics_for(*, cell: Organisation, year: int) -> QuerySet[SuggestedTopic]:
    """The bank a cell picks from: the topics its Khối and its đảng ủy cơ sở published for ``year``."""
    from cells.models import PATH_STEP_WIDTH

    ancestors = [cell.path[:end] for end in range(PATH_STEP_WIDTH, len(cell.path), PATH_STEP_WIDTH)]
    return SuggestedTopic.objects.filter(year=year, publisher__path__in=ancestors).select_related("publisher")


def plan_table(*, scope: Organisation, year: int, today: date) -> dict:
    """Plan against held, per cell of ``scope`` and quarter, and the forums of the year (two grouped queries)."""
    cells = list(
        indicators.cells_active(start=date(year, 1, 1), end=date(year, 12, 31), within=scope)
        .select_related("parent")
        .order_by("path")
    )
    ids = [cell.pk for cell in cells]
    planned: dict[tuple, int] = {}
    for row in (
        PlannedTopic.objects.filter(organisation_id__in=ids, year=year)
        .values("organisation_id", "kind", "quarter")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        planned[(row["organisation_id"], row["quarter"] or 0)] = row["n"]
    held: dict[tuple, int] = {}
    for row in (
        _held_plan_meetings(organisations=ids, year=year)
        .values("organisation_id", "kind", "period_month")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        quarter = 0 if row["kind"] == Meeting.Kind.FORUM else (row["period_month"].month - 1) // 3 + 1
        key = (row["organisation_id"], quarter)
        held[key] = held.get(key, 0) + row["n"]
    rows = []
    for cell in cells:
        slots = []
        for number in range(1, 5):
            count, done = planned.get((cell.pk, number), 0), held.get((cell.pk, number), 0)
            status = _quarter_status(year=year, quarter=number, held=bool(done), today=today)
            slots.append({"planned": count, "held": done, "status": status, "gap": bool(count) and not done})
        forums = {"planned": planned.get((cell.pk, 0), 0), "held": held.get((cell.pk, 0), 0)}
        rows.append({"cell": cell, "quarters": slots, "forums": forums})
    return {"rows": rows, "numerals": list(QUARTER_NUMERALS.values())}


# --- before the meeting: absence requests, speaking, comments on the draft (issue #17 item 2) --------


def before_meeting(meeting: Meeting) -> bool:
    """Whether members may still answer the notice, ask to be excused, register to speak or comment on
    the draft: the meeting is noticed and has not started. No Party text sets a deadline for asking to be
    excused (see ``AbsenceRequest``), so the portal takes it until the planned start, as the RSVP."""
    return meeting.state == Meeting.State.NOTIFIED and timezone.now() < meeting.planned_start


def rsvp_silent(meeting: Meeting) -> QuerySet[Attendance]:
    """The rows still owing an answer to the notice: not answered, expected (not exempt nor attached
    elsewhere), and no request to be excused pending or accepted — asking to be excused is an answer, and
    nobody is reminded of what they already did (issue #17). The reminders read it (``services.rsvp_remind``,
    ``reminders.rule_rsvp_missing``)."""
    asked = meeting.absence_requests.filter(
        state__in=[AbsenceRequest.State.PENDING, AbsenceRequest.State.ACCEPTED]
    ).values("member_id")
    return (
        meeting.attendances.filter(rsvp=Attendance.Rsvp.NONE)
        .exclude(presence__in=Attendance.OUTSIDE_BASE_VALUES)
        .exclude(member_id__in=asked)
    )


def notice_unopened(meeting: Meeting) -> QuerySet[Attendance]:
    """The rows of members who have not opened the notice (issue #17 item 6): never viewed its one-click
    page nor the meeting's page (``Attendance.notice_opened_at``), not answered, no request to be excused
    (pending, accepted or refused: each is an answer to the notice), not excused already, and expected (not
    exempt nor attached elsewhere). Read by ``reminders.rule_notice_unopened``; ``rule_rsvp_missing`` leaves
    them to it on its day, so that nobody gets two reminders on one day."""
    asked = meeting.absence_requests.values("member_id")
    return (
        meeting.attendances.filter(rsvp=Attendance.Rsvp.NONE, notice_opened_at__isnull=True)
        .exclude(presence__in=(*Attendance.OUTSIDE_BASE_VALUES, Attendance.Presence.ABSENT_EXCUSED))
        .exclude(member_id__in=asked)
    )


def absence_requests_of(meeting: Meeting, *, member: Member | None = None) -> QuerySet[AbsenceRequest]:
    """The meeting's absence requests (the pending first), or one member's own; who may read which is
    the caller's: the whole list for whoever records the meeting's attendance (``can_write_minutes``)."""
    requests = meeting.absence_requests.select_related("member", "decided_by")
    if member is not None:
        requests = requests.filter(member=member)
    return requests.order_by(Case(When(state=AbsenceRequest.State.PENDING, then=0), default=1), "-created_at", "-pk")


def get_absence_request_or_404(user, meeting: Meeting, pk) -> AbsenceRequest:
    """A request of ``meeting`` that ``user`` may read: theirs, or any when they record its attendance."""
    try:
        request = meeting.absence_requests.select_related("member").get(pk=pk)
    except (AbsenceRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    member = getattr(user, "member", None)
    if not (can_write_minutes(user, meeting) or (member is not None and request.member_id == member.pk)):
        raise PermissionDenied
    return request


def speak_requests_of(meeting: Meeting) -> dict[int, list[SpeakRequest]]:
    """Who registered to speak, by agenda item id, in the order they registered."""
    by_item: dict[int, list[SpeakRequest]] = {}
    for speak in (
        SpeakRequest.objects.filter(agenda_item__meeting=meeting).select_related("member").order_by("created_at", "pk")
    ):
        by_item.setdefault(speak.agenda_item_id, []).append(speak)
    return by_item


def own_speak_item_ids(meeting: Meeting, member: Member | None) -> set[int]:
    if member is None:
        return set()
    return set(
        SpeakRequest.objects.filter(agenda_item__meeting=meeting, member=member).values_list(
            "agenda_item_id", flat=True
        )
    )


def draft_comments_of(meeting: Meeting, *, member: Member | None = None) -> QuerySet[DraftComment]:
    """The comments on the draft conclusion (all for the secretary, or one member's own)."""
    comments = meeting.draft_comments.select_related("member")
    if member is not None:
        comments = comments.filter(member=member)
    return comments.order_by("created_at", "pk")


# --- the upper level's visit plan (issue #18, item 3) --------------------------------------------

# Units whose committee assigns visits: every unit above a cell (the Khối, a đảng bộ cơ sở, a đảng bộ bộ phận).
VISIT_UPPER_KINDS = (
    Organisation.Kind.KHOI,
    Organisation.Kind.DANG_BO_CO_SO,
    Organisation.Kind.DANG_BO_BO_PHAN,
)


def upper_committee_members(*, upper: Organisation, start: date, end: date) -> QuerySet[Member]:
    """Who the committee of ``upper`` may send to its cells' meetings, for a quarter ``start``..``end``.

    The portal records a committee (đảng ủy) member in one of two ways (cells.models.Position): a position
    held at the unit itself (its bí thư, phó bí thư, ủy viên), or "Đảng ủy viên phụ trách" of one of the
    cells below it — a đảng ủy viên by that very post, the way the demo and the positions page record them.
    Either counts when it is in force at some time in the quarter. Positions above ``upper`` do not: a
    Khối committee member visits on the Khối's plan, not on a đảng ủy cơ sở's.
    """
    in_force = Q(start__lte=end) & (Q(end__isnull=True) | Q(end__gte=start))
    posts = Position.objects.filter(
        in_force
        & (
            Q(organisation=upper)
            | Q(
                kind=Position.Kind.SUPERVISOR,
                organisation__path__startswith=upper.path,
                organisation__depth__gt=upper.depth,
            )
        )
    )
    return Member.objects.filter(pk__in=posts.values("member_id"), state=Member.State.ACTIVE).order_by(
        "full_name", "pk"
    )


def visit_uppers_visible_to(user) -> QuerySet[Organisation]:
    """Units whose visit plan the user may open: the upper units of the subtrees they see as staff."""
    return organisations_visible_to(user, roles=roles_with("visits.see")).filter(kind__in=VISIT_UPPER_KINDS)


def get_visit_upper_for_user_or_404(user, pk, *, plan: bool = False) -> Organisation:
    """The upper unit if the user sees its plan (else 404); with ``plan`` also 403 unless they assign."""
    try:
        upper = visit_uppers_visible_to(user).select_related("parent").get(pk=pk)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can(user, "visits.plan" if plan else "visits.see", upper):
        raise PermissionDenied
    return upper


def get_visit_for_visitor_or_404(user, pk) -> VisitAssignment:
    """An assignment of the signed-in member (the visitor confirms and writes the card himself);
    another's answers 404, or 403 to the staff who see it on their plan."""
    member = getattr(user, "member", None) if user.is_authenticated else None
    try:
        assignment = VisitAssignment.objects.select_related("cell", "upper", "visitor", "meeting").get(pk=pk)
    except (VisitAssignment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if member is not None and assignment.visitor_id == member.pk:
        return assignment
    if visit_uppers_visible_to(user).filter(pk=assignment.upper_id).exists():
        raise PermissionDenied
    raise Http404


def _quarter_meetings(*, cells, quarter: date) -> QuerySet[Meeting]:
    """The meetings of the whole cell (indicators.CELL_MEETING_KINDS: a visit is to one of them) that count
    for the quarter starting on ``quarter`` and are not cancelled."""
    return (
        Meeting.objects.filter(
            organisation__in=cells,
            kind__in=indicators.CELL_MEETING_KINDS,
            period_month__gte=quarter,
            period_month__lte=add_months(quarter, 2),
        )
        .exclude(state=Meeting.State.CANCELLED)
        .order_by("planned_start", "pk")
    )


@dataclass
class PlanRow:
    cell: Organisation
    visited: bool
    assignments: list[VisitAssignment] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)

    UNASSIGNED, ASSIGNED, VISITED = "unassigned", "assigned", "visited"

    @property
    def state(self) -> str:
        """Visited as the indicator counts it (indicators.visited_in_quarter), else assigned or not."""
        if self.visited:
            return self.VISITED
        return self.ASSIGNED if self.assignments else self.UNASSIGNED


_STATE_ORDER = {PlanRow.UNASSIGNED: 0, PlanRow.ASSIGNED: 1, PlanRow.VISITED: 2}


def visit_plan(*, upper: Organisation, quarter: date) -> dict[str, Any]:
    """The plan of ``upper`` for the quarter: each cell below it active in the quarter, with its visitors,
    its meetings of the quarter and its state; the cells with no visitor and no visit first."""
    cells = list(
        indicators.cells_active(start=quarter, end=quarter_end(quarter), within=upper)
        .exclude(pk=upper.pk)
        .annotate(visited=indicators.visited_in_quarter(quarter))
        .order_by("path")
    )
    rows = {cell.pk: PlanRow(cell=cell, visited=cell.visited) for cell in cells}
    assignments = VisitAssignment.objects.filter(upper=upper, quarter=quarter, cell__in=list(rows)).select_related(
        "visitor", "meeting"
    )
    for assignment in assignments.order_by("visitor__full_name", "pk"):
        rows[assignment.cell_id].assignments.append(assignment)
    for meeting in _quarter_meetings(cells=list(rows), quarter=quarter):
        rows[meeting.organisation_id].meetings.append(meeting)
    ordered = sorted(rows.values(), key=lambda row: (_STATE_ORDER[row.state], row.cell.path))
    counts = {state: sum(1 for row in ordered if row.state == state) for state in _STATE_ORDER}
    return {"rows": ordered, "counts": counts, "total": len(ordered)}


def visits_of_member(*, member: Member) -> list[dict[str, Any]]:
    """The member's assignments, latest quarter first, each with its cell's meetings of the quarter."""
    assignments = list(
        VisitAssignment.objects.filter(visitor=member)
        .select_related("cell", "upper", "meeting", "observation")
        .order_by("-quarter", "cell__path", "pk")[:40]
    )
    meetings: dict[tuple[int, date], list[Meeting]] = {}
    for quarter in {a.quarter for a in assignments}:
        cells = [a.cell_id for a in assignments if a.quarter == quarter]
        for meeting in _quarter_meetings(cells=cells, quarter=quarter):
            meetings.setdefault((meeting.organisation_id, quarter), []).append(meeting)
    return [
        {
            "assignment": a,
            "quarter": quarter_label(a.quarter),
            "meetings": meetings.get((a.cell_id, a.quarter), []),
            "observation": _observation_of(a),
        }
        for a in assignments
    ]


def _observation_of(assignment: VisitAssignment) -> VisitObservation | None:
    try:
        return assignment.observation
    except VisitObservation.DoesNotExist:
        return None


def visit_observations_of(*, user, meeting: Meeting) -> QuerySet[VisitObservation]:
    """The observation cards on ``meeting`` the user may read: the cell's upper-level staff read them all
    (for the yearly inspection), a visitor his own; the cell itself does not."""
    cards = VisitObservation.objects.filter(meeting=meeting).select_related("assignment__visitor")
    if can(user, "visits.observations", meeting.organisation):
        return cards
    member = getattr(user, "member", None) if user.is_authenticated else None
    return cards.filter(assignment__visitor=member) if member is not None else cards.none()


# --- the upper level's materials (issue #17 item 5) ----------------------------------------------

# Units that publish materials to the cells below them: the Khối and a đảng ủy cơ sở (issue #17).
MATERIAL_PUBLISHER_KINDS = (Organisation.Kind.KHOI, Organisation.Kind.DANG_BO_CO_SO)


def _ancestor_paths(cell: Organisation) -> list[str]:
    from cells.models import PATH_STEP_WIDTH

    return [cell.path[:end] for end in range(PATH_STEP_WIDTH, len(cell.path), PATH_STEP_WIDTH)]


def materials_for_cell(*, cell: Organisation, month: date | None = None) -> QuerySet[UpperMaterial]:
    """The materials reaching ``cell``: published to a whole subtree above it, or to it by name (one query)."""
    materials = UpperMaterial.objects.filter(
        Q(whole_subtree=True, publisher__path__in=_ancestor_paths(cell)) | Q(cells=cell)
    ).distinct()
    if month is not None:
        materials = materials.filter(month=month)
    return materials.select_related("publisher").order_by("kind", "-published_at", "pk")


def material_reaches(material: UpperMaterial, cell: Organisation) -> bool:
    if material.whole_subtree:
        return cell.is_cell and cell.path.startswith(material.publisher.path) and cell.pk != material.publisher_id
    return material.cells.filter(pk=cell.pk).exists()


def material_audience(material: UpperMaterial) -> QuerySet[Organisation]:
    """The cells a material is for: the publisher's cells active in its month, or the ones chosen."""
    if material.whole_subtree:
        return indicators.cells_active(start=material.month, end=month_end(material.month), within=material.publisher)
    return material.cells.all()


def material_publishers_visible_to(user) -> QuerySet[Organisation]:
    """Units whose materials the user follows: the Khối and đảng ủy cơ sở they hold a staff role over."""
    return organisations_visible_to(user, roles=roles_with("materials.track")).filter(kind__in=MATERIAL_PUBLISHER_KINDS)


def get_material_publisher_for_user_or_404(user, pk, *, publish: bool = False) -> Organisation:
    try:
        publisher = material_publishers_visible_to(user).get(pk=pk)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can(user, "materials.publish" if publish else "materials.track", publisher):
        raise PermissionDenied
    return publisher


def get_material_for_publisher_or_404(user, pk) -> UpperMaterial:
    """A material for its publisher's page: the staff over the publisher (else 404)."""
    try:
        material = UpperMaterial.objects.select_related("publisher").get(pk=pk)
    except (UpperMaterial.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can(user, "materials.track", material.publisher):
        raise Http404
    return material


def get_material_for_reader_or_404(user, pk) -> UpperMaterial:
    """A material for whoever may read it: its publisher's staff, or a reader of a cell in its audience
    (the cell's members, clerk and secretary, the staff above it). Others 404."""
    material = UpperMaterial.objects.select_related("publisher").filter(pk=pk).first() if str(pk).isdigit() else None
    if material is None:
        raise Http404
    if can(user, "materials.track", material.publisher):
        return material
    cells = cells_visible_to(user)
    if material.whole_subtree:
        cells = cells.filter(path__startswith=material.publisher.path)
    else:
        cells = cells.filter(pk__in=material.cells.values("pk"))
    if not cells.exists():
        raise Http404
    return material


def materials_of_publisher(*, publisher: Organisation, month: date) -> list[UpperMaterial]:
    """The publisher's materials of ``month``, each with the number of cells that attached it and of
    members who read it (``attached_cells``, ``readers``): one query."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce

    attached = (
        MeetingDocument.objects.filter(material=OuterRef("pk"))
        .order_by()
        .values("material")
        .annotate(n=Count("meeting__organisation", distinct=True))
        .values("n")
    )
    readers = (
        MaterialRead.objects.filter(material=OuterRef("pk")).order_by().values("material").annotate(n=Count("pk"))
    ).values("n")
    return list(
        UpperMaterial.objects.filter(publisher=publisher, month=month)
        .annotate(attached_cells=Coalesce(Subquery(attached), 0), readers=Coalesce(Subquery(readers), 0))
        .order_by("kind", "-published_at", "pk")
    )


@dataclass
class MaterialCellRow:
    cell: Organisation
    meetings: list = field(default_factory=list)  # the meetings it is attached to
    read: list = field(default_factory=list)  # names of the members who read it
    unread: list = field(default_factory=list)

    @property
    def attached(self) -> bool:
        return bool(self.meetings)

    @property
    def total(self) -> int:
        return len(self.read) + len(self.unread)


def material_tracking(*, material: UpperMaterial, today: date) -> dict[str, Any]:
    """The publisher's page: per cell of the audience, the meetings it attached the material to and its
    members who read it or not; the totals. The members of a cell are those whose membership covers the
    day (today, or the month's last day once the month is over). Four queries whatever the sizes."""
    on = min(today, month_end(material.month))
    cells = list(material_audience(material).select_related("parent").order_by("path"))
    rows = {cell.pk: MaterialCellRow(cell=cell) for cell in cells}
    for document in (
        MeetingDocument.objects.filter(material=material, meeting__organisation_id__in=list(rows))
        .select_related("meeting")
        .order_by("meeting__planned_start", "pk")
    ):
        rows[document.meeting.organisation_id].meetings.append(document.meeting)
    reads = set(MaterialRead.objects.filter(material=material).values_list("member_id", flat=True))
    memberships = (
        CellMembership.objects.filter(_active_on(on), organisation_id__in=list(rows))
        .exclude(member__state__in=[Member.State.DECEASED, Member.State.REMOVED])
        .order_by("member__full_name", "member_id")
        .values_list("organisation_id", "member_id", "member__full_name")
    )
    seen: set[tuple[int, int]] = set()
    for cell_id, member_id, name in memberships:
        if (cell_id, member_id) in seen:
            continue
        seen.add((cell_id, member_id))
        (rows[cell_id].read if member_id in reads else rows[cell_id].unread).append(name)
    ordered = list(rows.values())
    return {
        "rows": ordered,
        "cells": len(ordered),
        "attached": sum(1 for row in ordered if row.attached),
        "members": sum(row.total for row in ordered),
        "read": sum(len(row.read) for row in ordered),
        "on": on,
    }


def materials_for_member(*, member: Member, month: date) -> list[UpperMaterial]:
    """The month's materials of the member's cell, each with ``read_by_member``, for the home page (two queries)."""
    if member.organisation is None:
        return []
    materials = list(materials_for_cell(cell=member.organisation, month=month))
    read = set(MaterialRead.objects.filter(member=member, material__in=materials).values_list("material_id", flat=True))
    for material in materials:
        material.read_by_member = material.pk in read  # type: ignore[attr-defined]  # for the template
    return materials


def materials_to_attach(meeting: Meeting) -> list[UpperMaterial]:
    """The materials of the meeting's month reaching its cell that the meeting does not carry yet (two queries)."""
    attached = set(meeting.documents.filter(material__isnull=False).values_list("material_id", flat=True))
    return [
        material
        for material in materials_for_cell(cell=meeting.organisation, month=meeting.period_month)
        if material.pk not in attached
    ]


# --- online and hybrid meetings (issue #17 item 3) ---------------------------------------------------


def online_room(meeting: Meeting, member: Member) -> list[dict]:
    """The member's page of an online meeting: each agenda item with its questions, the member's own ballot
    and, where they may not vote, why (meetings.votes.vote_refusal). No count of any choice is read
    before a question closes; afterwards its ``Vote`` carries the counts."""
    from .models import Ballot, VoteQuestion
    from .votes import vote_refusal

    base = vote_base(meeting)
    questions = list(
        VoteQuestion.objects.filter(meeting=meeting).select_related("vote", "agenda_item").order_by("opened_at", "pk")
    )
    own = dict(Ballot.objects.filter(question__meeting=meeting, member=member).values_list("question_id", "choice"))
    labels = dict(Ballot.Choice.choices)
    refusals: dict[int, str | None] = {}
    rows = []
    for item in agenda_of(meeting):
        entries = []
        for question in (q for q in questions if q.agenda_item_id == item.pk):
            if question.is_open and item.pk not in refusals:
                refusals[item.pk] = vote_refusal(meeting, item, member, base=base)
            choice = own.get(question.pk)
            entries.append(
                {
                    "question": question,
                    "choice": choice,
                    "choice_label": labels.get(choice, "") if choice else "",
                    "refusal": refusals.get(item.pk) if question.is_open else None,
                }
            )
        rows.append({"item": item, "questions": entries})
    return rows


def online_questions(meeting: Meeting) -> list[dict]:
    """The chair's list: each question with how many have voted of those who may (never what they chose)
    until it closes, and its ``Vote`` afterwards."""
    from .models import VoteQuestion
    from .votes import item_voters

    base = vote_base(meeting)
    rows = []
    questions = (
        VoteQuestion.objects.filter(meeting=meeting)
        .select_related("agenda_item", "vote")
        .annotate(cast=Count("ballots"))
        .order_by("opened_at", "pk")
    )
    for question in questions:
        eligible = item_voters(meeting, question.agenda_item, base=base) if question.is_open else None
        rows.append(
            {
                "question": question,
                "cast": question.cast,
                "voters": len(eligible.voters) if eligible else question.voters_count,
            }
        )
    return rows
