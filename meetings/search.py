"""The search box: organisations, members and meetings the user may see, matched without accents.

Each kind of result starts from its app's "what may this user see" selector and only narrows it:
organisations from ``cells.selectors.organisations_visible_to`` (plus the cells whose meetings the
user follows as a member, ``meetings.selectors.cells_visible_to``), members from
``cells.selectors.members_visible_to`` (a plain member therefore finds only their own record, as the
member pages show them nothing else: design §2), meetings from ``meetings_visible_to`` (a plain
member: the published meetings of their own cell). The matching itself is ``lib.textsearch``.

A meeting is found by its topic or its cell's name, by its kind ("chuyên đề", "thường kỳ", …) and by
the month it counts for ("03/2026", "3-2026", "2026-03", "tháng 3/2026"), or by a year alone ("2026").
"""

import datetime
import re
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import translation

from cells.models import Member, Organisation
from cells.permissions import can
from cells.selectors import members_visible_to, organisations_visible_to
from lib.textsearch import Folded, fold, matching, word_in, words_of

from .models import Meeting
from .selectors import cells_visible_to, meetings_visible_to

# Words that say "a meeting" and nothing more: left out of the text a meeting's topic must contain.
MEETING_WORDS = ("buoi", "sinh hoat", "cuoc hop", "hop")
_MONTH = re.compile(r"(?:\bthang\s*)?\b(\d{1,2})\s*[/.-]\s*(\d{4})\b|\b(\d{4})\s*-\s*(\d{1,2})\b")
_YEAR = re.compile(r"\b(19\d{2}|20\d{2}|21\d{2})\b")


@dataclass(frozen=True)
class MeetingQuery:
    """What a query asks of meetings: the month or the year it counts for, kinds, and the remaining words."""

    text: str
    month: datetime.date | None = None
    year: int | None = None
    kinds: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.text or self.month or self.year or self.kinds)


def _kind_phrases() -> list[tuple[str, str]]:
    """(folded phrase, kind) per kind: its Vietnamese label without "Sinh hoạt"/"Họp", longest first."""
    with translation.override("vi"):
        labels = [(value, fold(str(label))) for value, label in Meeting.Kind.choices]
    phrases = []
    for value, label in labels:
        for word in ("sinh hoat ", "hop "):
            label = label.removeprefix(word)
        phrases.append((label, value))
    return sorted(phrases, key=lambda item: -len(item[0]))


def parse_meeting_query(query: str) -> MeetingQuery:
    """Split a query into a month (or year), meeting kinds and the words left for the topic or the cell's name.

    A kind phrase selects every kind whose label holds it: "chuyên đề" finds the thematic meetings and
    the regular meetings combined with a topic.
    """
    text = fold(query)
    month = year = None
    found = _MONTH.search(text)
    if found:
        number, year_text = (found.group(1), found.group(2)) if found.group(1) else (found.group(4), found.group(3))
        if 1 <= int(number) <= 12:
            month = datetime.date(int(year_text), int(number), 1)
            text = text[: found.start()] + " " + text[found.end() :]
    if month is None:
        found = _YEAR.search(text)
        if found:
            year = int(found.group(1))
            text = text[: found.start()] + " " + text[found.end() :]
    kinds: list[str] = []
    padded = f" {' '.join(text.split())} "
    with translation.override("vi"):
        labels = {value: fold(str(label)) for value, label in Meeting.Kind.choices}
    for phrase, _value in _kind_phrases():
        if f" {phrase} " in padded:
            kinds = [value for value, label in labels.items() if f" {phrase} " in f" {label} "]
            padded = padded.replace(f" {phrase} ", " ", 1)
            break
    for word in MEETING_WORDS:
        padded = padded.replace(f" {word} ", " ")
    return MeetingQuery(text=" ".join(padded.split()), month=month, year=year, kinds=tuple(kinds))


# --- the three kinds of result ----------------------------------------------------------------


def organisations_found(*, user, query: str) -> QuerySet[Organisation]:
    """Organisations the user reads or whose meetings they follow, by name; each with its parent."""
    visible = Organisation.objects.filter(
        pk__in=organisations_visible_to(user).values("pk")
    ) | Organisation.objects.filter(pk__in=cells_visible_to(user).values("pk"))
    return matching(visible, query, "name").select_related("parent").order_by("-match_rank", "depth", "name", "path")


def members_found(*, user, query: str) -> QuerySet[Member]:
    """Members the user may see, by name; each with their cell and its parent; those still active first."""
    found = matching(members_visible_to(user), query, "full_name")
    former = Case(When(state=Member.State.ACTIVE, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        found.select_related("organisation", "organisation__parent")
        .alias(former=former)
        .order_by("-match_rank", "former", "full_name", "pk")
    )


def meetings_found(*, user, query: str) -> QuerySet[Meeting]:
    """Meetings the user may see, by month or year, kind, and every remaining word in the topic or the cell's
    name (accents folded, no typo tolerance: the meetings' topics carry no trigram index); newest first."""
    asked = parse_meeting_query(query)
    if asked.is_empty:
        return Meeting.objects.none()
    meetings = meetings_visible_to(user)
    if asked.month:
        meetings = meetings.filter(period_month=asked.month)
    elif asked.year:
        meetings = meetings.filter(period_month__year=asked.year)
    if asked.kinds:
        meetings = meetings.filter(kind__in=asked.kinds)
    if asked.text:
        meetings = meetings.alias(topic_text=Folded("topic"))
        for word in words_of(asked.text):
            # Each word in the cell's name (read from the organisations' trigram index) or in the topic.
            cells = Organisation.objects.alias(name_text=Folded("name")).filter(word_in("name_text", word))
            meetings = meetings.filter(
                Q(organisation__in=cells.values("pk")) | (Q(topic__gt="") & word_in("topic_text", word))
            )
    return meetings.select_related("organisation", "organisation__parent").order_by(
        "-period_month", "-planned_start", "-pk"
    )


def organisation_link_name(user, organisation: Organisation) -> str:
    """The page an organisation result opens: its page for a reader, else its meetings (a plain member's cell)."""
    if can(user, "members.read", organisation):
        return "cells:organisation_detail"
    return "meetings:cell_list"
