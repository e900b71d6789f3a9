"""Meetings as calendars: the iCalendar event of a meeting, the invitation sent with each notice,
a member's personal feed, and the month grid of the calendar page.

One event per meeting, whatever carries it (RFC 5545): the UID ``meeting-<pk>@<host>`` never
changes, and ``Meeting.calendar_sequence`` grows with each re-notice and with the cancellation, so
a calendar client that imported the first notice replaces its event instead of adding a second one
(RFC 5546 §2.1.5; §3.2.5 for METHOD:CANCEL). Times are written in the portal's time zone
(Asia/Ho_Chi_Minh) with its VTIMEZONE, so a client shows 14:00 as 14:00 wherever it is set.
"""

import calendar
import datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from cells.models import Member
from lib.dates import months_before

from . import selectors
from .models import Meeting

PRODID = "-//Dang bo Khoi//Cong sinh hoat chi bo//VI"
INVITATION_NAME = "invitation.ics"
# Past meetings a personal feed keeps: enough to look back on last quarter, short enough to stay light.
FEED_MONTHS_BACK = 3
# The VTIMEZONE only needs to cover the meetings' dates; from 2000 on, Asia/Ho_Chi_Minh is UTC+7
# without daylight saving, so it is a single STANDARD rule.
VTIMEZONE_FROM = datetime.date(2000, 1, 1)


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def event_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.pk}@{site_host()}"


def _summary(meeting: Meeting) -> str:
    return _("%(kind)s — %(cell)s") % {"kind": meeting.get_kind_display(), "cell": meeting.organisation.name}


def _description(meeting: Meeting) -> str:
    lines = []
    if meeting.topic:
        lines.append(_("Chủ đề: %(topic)s") % {"topic": meeting.topic})
    lines.append(_("Hình thức: %(mode)s") % {"mode": meeting.get_mode_display()})
    if meeting.online_link:
        lines.append(_("Đường dẫn họp trực tuyến: %(link)s") % {"link": meeting.online_link})
    lines.append(_("Xem chi tiết trên cổng: %(url)s") % {"url": settings.SITE_URL + meeting.get_absolute_url()})
    return "\n".join(lines)


def _organizer(meeting: Meeting) -> vCalAddress:
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{address or 'no-reply@' + site_host()}")
    organizer.params["cn"] = vText(meeting.organisation.name)
    return organizer


def meeting_event(meeting: Meeting, *, cancelled: bool | None = None, attendee: Member | None = None) -> Event:
    """The VEVENT of one meeting. ``meeting.organisation`` should be loaded with it (one query less)."""
    local = timezone.get_default_timezone()
    cancelled = meeting.state == Meeting.State.CANCELLED if cancelled is None else cancelled
    event = Event()
    event.add("uid", event_uid(meeting))
    event.add("sequence", meeting.calendar_sequence)
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    event.add("created", meeting.created_at.astimezone(datetime.UTC))
    event.add("last-modified", meeting.updated_at.astimezone(datetime.UTC))
    event.add("dtstart", meeting.planned_start.astimezone(local))
    event.add("dtend", meeting.planned_end.astimezone(local))
    event.add("summary", _summary(meeting))
    location = meeting.place or meeting.online_link
    if location:
        event.add("location", location)
    event.add("description", _description(meeting))
    event.add("url", settings.SITE_URL + meeting.get_absolute_url())
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _organizer(meeting))
    if attendee is not None and attendee.email:
        # RSVP=FALSE: the answer is given on the portal (the link in the notice), not by a reply
        # e-mail to the portal's no-reply address.
        address = vCalAddress(f"mailto:{attendee.email}")
        address.params["cn"] = vText(attendee.full_name)
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["partstat"] = vText("NEEDS-ACTION")
        address.params["rsvp"] = vText("FALSE")
        event.add("attendee", address)
    return event


def _calendar(*, method: str, name: str = "") -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
        cal.add("x-wr-timezone", settings.TIME_ZONE)
    return cal


def _serialise(cal: Calendar) -> str:
    cal.add_missing_timezones(first_date=VTIMEZONE_FROM)
    return cal.to_ical().decode("utf-8")


def invitation(meeting: Meeting, *, cancelled: bool = False, attendee: Member | None = None) -> str:
    """The ``invitation.ics`` of a notice (METHOD:REQUEST) or of a cancellation (METHOD:CANCEL)."""
    cal = _calendar(method="CANCEL" if cancelled else "REQUEST")
    cal.add_component(meeting_event(meeting, cancelled=cancelled, attendee=attendee))
    return _serialise(cal)


def invitation_attachment(meeting: Meeting, *, cancelled: bool = False, attendee: Member | None = None):
    """``(name, MIME type, text)`` for ``cells.services.notification_send``."""
    method = "CANCEL" if cancelled else "REQUEST"
    return (
        INVITATION_NAME,
        f"text/calendar; method={method}; charset=utf-8",
        invitation(meeting, cancelled=cancelled, attendee=attendee),
    )


def member_feed(member: Member) -> str:
    """A member's personal calendar: the meetings they are summoned to, from three months back on.

    Cancelled meetings stay in it with STATUS:CANCELLED, so a client that holds the event marks it.
    """
    since = months_before(timezone.localdate(), FEED_MONTHS_BACK)
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=timezone.get_default_timezone())
    cal = _calendar(method="PUBLISH", name=_("Lịch sinh hoạt chi bộ — %(name)s") % {"name": member.full_name})
    cal.add("refresh-interval", datetime.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for meeting in selectors.meetings_of_member_feed(member=member, since=start):
        cal.add_component(meeting_event(meeting))
    return _serialise(cal)


# --- the month page ------------------------------------------------------------------------

FIRST_YEAR, LAST_YEAR = 2000, 2100


def month_weeks(first: datetime.date, meetings, *, today: datetime.date) -> list[list[dict]]:
    """The month as weeks from Monday (thứ Hai) to Sunday, each day with its meetings in time order."""
    by_day: dict[datetime.date, list] = {}
    for meeting in meetings:
        by_day.setdefault(timezone.localdate(meeting.planned_start), []).append(meeting)
    return [
        [
            {"day": day, "in_month": day.month == first.month, "today": day == today, "meetings": by_day.get(day, [])}
            for day in week
        ]
        for week in calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(first.year, first.month)
    ]
