"""Online and hybrid meetings (issue #17 item 3): when a member may take part from their link.

HD 03-HD/TW (27/12/2022) allows a cell to meet online where more than half of its members (not
counting exempt or suspended ones) cannot meet in person (domain-research §5); it is the ground for
``Meeting.Mode.ONLINE`` and ``HYBRID``. Neither it nor any other text read for the portal (domain-research
§5, §8) sets *when* a member joining from afar confirms their presence, or how late is "late". The
window below is therefore **the Khối's own choice**, given one home here:

* it opens ``OPENS_BEFORE`` (30 minutes) before the planned start, so that members can join as the
  room fills;
* it closes at the recorded actual end, or, while none is recorded, ``OVERRUN`` (60 minutes) after the
  planned end, so that a meeting running over keeps its link working; never once the minutes are
  adopted or the meeting cancelled, nor for a meeting held in person;
* a member confirming later than ``GRACE`` (5 minutes) after the start (the actual start once recorded)
  is recorded "đến muộn".

The member's presence, written opinions and ballots from the link (services.online_presence_confirm,
online_opinion_add, ballot_cast) and the chair's opening of a question (vote_question_open) are taken
only inside the window; closing a question is not bound to it (the chair may close after the end).
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from lib.formatting import time_and_day

OPENS_BEFORE = datetime.timedelta(minutes=30)
OVERRUN = datetime.timedelta(minutes=60)
GRACE = datetime.timedelta(minutes=5)

ONLINE_MODES = ("online", "hybrid")
OPEN_STATES = ("notified", "held")


def is_online(meeting) -> bool:
    return meeting.mode in ONLINE_MODES


def window(meeting) -> tuple[datetime.datetime, datetime.datetime]:
    """From 30 minutes before the planned start to the actual end (or one hour after the planned end)."""
    start = meeting.planned_start - OPENS_BEFORE
    end = meeting.actual_end or (meeting.planned_end + OVERRUN)
    return start, end


def window_open(meeting, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    start, end = window(meeting)
    return is_online(meeting) and meeting.state in OPEN_STATES and start <= now <= end


def closed_reason(meeting, now: datetime.datetime | None = None) -> str | None:
    """Why a member cannot take part from the link now, in Vietnamese; None when they can."""
    now = now or timezone.now()
    if not is_online(meeting):
        return _("Buổi sinh hoạt được tổ chức trực tiếp; đồng chí tham dự tại địa điểm họp.")
    if meeting.state not in OPEN_STATES:
        return _("Buổi sinh hoạt đã kết thúc hoặc đã bị hủy.")
    start, end = window(meeting)
    if now < start:
        return _("Phòng họp trực tuyến mở từ %(when)s.") % {"when": time_and_day(start)}
    if now > end:
        return _("Buổi sinh hoạt đã kết thúc lúc %(when)s.") % {"when": time_and_day(end)}
    return None


def arrival_presence(meeting, now: datetime.datetime) -> str:
    """ "present" when confirmed by 5 minutes after the start, else "late"."""
    start = meeting.actual_start or meeting.planned_start
    return "late" if now > start + GRACE else "present"
