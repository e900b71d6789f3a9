"""The meeting kinds and what each one means, in one place (issue #16, item 1).

One entry per kind: its code (``Meeting.Kind`` value), its minimum length in minutes (HD 42-HD/BTCTW:
90, 120 when combined with a thematic part; None: no minimum) and its flags:

* ``regular`` — "the" regular meeting of the month (at most one per cell and month);
* ``thematic`` — counts as a thematic meeting (once a quarter);
* ``scored`` — its quality is scored (design §3 "scoring");
* ``cell_meeting`` — a meeting of the whole cell: its attendance counts, an upper-level guest is a visit.

Every tuple of kinds the code branches on is derived here. This module imports no model, so that
``meetings.models`` can read it.
"""

from __future__ import annotations

from dataclasses import dataclass

# The states in which a meeting has taken place (Meeting.State values).
HELD_STATES = ("held", "minutes_adopted")


@dataclass(frozen=True)
class MeetingKind:
    code: str
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


for _kind in (
    MeetingKind("thuong_ky", min_minutes=90, regular=True, scored=True, cell_meeting=True),
    MeetingKind("chuyen_de", thematic=True, scored=True, cell_meeting=True),
    MeetingKind("ket_hop", min_minutes=120, regular=True, thematic=True, scored=True, cell_meeting=True),
    MeetingKind("dien_dan", cell_meeting=True),
    MeetingKind("chi_uy"),
    MeetingKind("to_dang", scored=True),
    MeetingKind("bat_thuong", cell_meeting=True),
):
    register(_kind)


def codes(flag: str) -> tuple[str, ...]:
    """The codes of the kinds with ``flag`` set, in registry order."""
    return tuple(code for code, kind in KINDS.items() if getattr(kind, flag))


def min_minutes() -> dict[str, int]:
    return {code: kind.min_minutes for code, kind in KINDS.items() if kind.min_minutes}
