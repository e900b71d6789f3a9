"""The meeting kinds and what each one means, in one place (issue #16, item 1).

One entry per kind: its code (``Meeting.Kind`` value), its name in the code (``Meeting.Kind.REGULAR``), its
label, its agenda (the steps a new meeting of the kind starts with, ``AgendaItem.Step`` values), its minimum length in minutes (HD 42-HD/BTCTW:
90, 120 when combined with a thematic part; None: no minimum) and its flags:

* ``regular`` — "the" regular meeting of the month (at most one per cell and month);
* ``thematic`` — counts as a thematic meeting (once a quarter);
* ``scored`` — its quality is scored (design §3 "scoring");
* ``cell_meeting`` — a meeting of the whole cell: its attendance counts, an upper-level guest is a visit.

Every tuple of kinds the code branches on is derived here, as a live view of the registry (``KindCodes``):
a kind registered later — a test's — is counted wherever its flags say. The database constraints that
name kinds take their lists from here when the migration is written, so a new regular kind is one
entry here plus its migration. This module imports no model, so that ``meetings.models`` can read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

# The states in which a meeting has taken place (Meeting.State values).
HELD_STATES = ("held", "minutes_adopted")


@dataclass(frozen=True)
class MeetingKind:
    code: str
    name: str
    label: str | _StrPromise
    agenda: tuple[str, ...]
    min_minutes: int | None = None
    regular: bool = False
    thematic: bool = False
    scored: bool = False
    cell_meeting: bool = False


KINDS: dict[str, MeetingKind] = {}


def register(kind: MeetingKind) -> MeetingKind:
    KINDS[kind.code] = kind
    return kind


def unregister(code: str) -> None:
    KINDS.pop(code, None)


# The agendas (HD 42-HD/BTCTW's order of a regular meeting; a combined meeting puts the topic before
# the conclusion).
_REGULAR_STEPS = (
    "opening",
    "news",
    "last_results",
    "opinions",
    "next_tasks",
    "discussion",
    "party_work",
    "conclusion",
    "self_score",
    "minutes",
    "close",
)

for _kind in (
    MeetingKind(
        "thuong_ky",
        "REGULAR",
        _("Sinh hoạt thường kỳ"),
        _REGULAR_STEPS,
        min_minutes=90,
        regular=True,
        scored=True,
        cell_meeting=True,
    ),
    MeetingKind(
        "chuyen_de",
        "THEMATIC",
        _("Sinh hoạt chuyên đề"),
        ("opening", "topic", "discussion", "conclusion", "self_score", "minutes", "close"),
        thematic=True,
        scored=True,
        cell_meeting=True,
    ),
    MeetingKind(
        "ket_hop",
        "COMBINED",
        _("Sinh hoạt thường kỳ kết hợp chuyên đề"),
        _REGULAR_STEPS[:7] + ("topic",) + _REGULAR_STEPS[7:],
        min_minutes=120,
        regular=True,
        thematic=True,
        scored=True,
        cell_meeting=True,
    ),
    MeetingKind(
        "dien_dan",
        "FORUM",
        _("Diễn đàn"),
        ("opening", "topic", "discussion", "conclusion", "minutes", "close"),
        cell_meeting=True,
    ),
    MeetingKind(
        "chi_uy",
        "COMMITTEE",
        _("Họp chi ủy"),
        ("opening", "last_results", "next_tasks", "party_work", "conclusion", "minutes", "close"),
    ),
    MeetingKind("to_dang", "PARTY_GROUP", _("Sinh hoạt tổ đảng"), _REGULAR_STEPS, scored=True),
    MeetingKind(
        "bat_thuong",
        "EXTRAORDINARY",
        _("Sinh hoạt bất thường"),
        ("opening", "topic", "conclusion", "minutes", "close"),
        cell_meeting=True,
    ),
):
    register(_kind)

# The kinds shipped with the portal, fixed when the models are defined (``Meeting.Kind``).
BUILT_IN = tuple(KINDS)


def codes(flag: str) -> tuple[str, ...]:
    """The codes of the kinds with ``flag`` set, in registry order."""
    return tuple(code for code, kind in KINDS.items() if getattr(kind, flag))


def min_minutes() -> dict[str, int]:
    return {code: kind.min_minutes for code, kind in KINDS.items() if kind.min_minutes}


def choices() -> list[tuple[str, str | _StrPromise]]:
    """(code, label) of every registered kind, for the model field and the forms."""
    return [(code, kind.label) for code, kind in KINDS.items()]


def get(code: str) -> MeetingKind:
    return KINDS[code]


class KindCodes(Sequence):
    """The codes of the kinds with ``flag`` set, read from the registry each time it is used."""

    def __init__(self, flag: str):
        self.flag = flag

    def _codes(self) -> tuple[str, ...]:
        return codes(self.flag)

    def __getitem__(self, index):
        return self._codes()[index]

    def __len__(self) -> int:
        return len(self._codes())

    def __contains__(self, code) -> bool:
        kind = KINDS.get(code)
        return bool(kind and getattr(kind, self.flag))

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return tuple(self) == tuple(other)

    # Equal to a tuple of its codes, which change with the registry: no hash could agree with that equality.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"KindCodes({self.flag!r}: {self._codes()})"
