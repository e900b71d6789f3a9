"""The calendar arithmetic every app uses, in one place: months, quarters, years, local midnights, and
the months typed as mm/yyyy. Pure functions of dates (local_midnight reads the configured time zone)."""

import calendar
import datetime
import re

from django.utils import timezone

# --- months ---------------------------------------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    """The last day of ``day``'s month (29/02 in a leap year)."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` after (or, negative, before) ``day``'s month:
    15/11/2026 + 3 → 01/02/2027."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def next_month(day: datetime.date) -> datetime.date:
    """The first day of the month after ``day``'s."""
    return add_months(day, 1)


def previous_month(day: datetime.date) -> datetime.date:
    """The first day of the month before ``day``'s."""
    return add_months(day, -1)


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` earlier, or the month's last day when it is shorter (31/05 → 28/02)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` later (or earlier); 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- quarters and years ---------------------------------------------------------------------


def quarter_number(day: datetime.date) -> int:
    """1–4."""
    return (day.month - 1) // 3 + 1


def quarter_start(day: datetime.date) -> datetime.date:
    """The first day of ``day``'s quarter."""
    return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def quarter_end(day: datetime.date) -> datetime.date:
    """The last day of ``day``'s quarter."""
    return month_end(add_months(quarter_start(day), 2))


def quarter_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of ``day``'s quarter: 31/12/2026 → (01/10/2026, 31/12/2026)."""
    return quarter_start(day), quarter_end(day)


def quarter_of(year: int, quarter: int) -> datetime.date:
    """The first day of quarter ``quarter`` (1–4) of ``year``."""
    return datetime.date(year, quarter * 3 - 2, 1)


def year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    """01/01 and 31/12 of ``year``."""
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


# --- moments --------------------------------------------------------------------------------


def local_midnight(day: datetime.date) -> datetime.datetime:
    """00:00 of ``day`` in the portal's time zone, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Local midnight of ``day`` and of the day after."""
    return local_midnight(day), local_midnight(day + datetime.timedelta(days=1))


# --- months as typed -----------------------------------------------------------------------

FIRST_YEAR, LAST_YEAR = 1900, 2100
_MONTH = re.compile(r"^(\d{1,2})\s*[/-]\s*(\d{4})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_month(value, *, first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> datetime.date | None:
    """Read "mm/yyyy" (or "mm-yyyy", or "yyyy-mm" as a month input sends it) as the first day of that month.

    None when it is not a month ("13/2026", "abc") or its year is outside ``first_year``–``last_year``:
    such a year is a typo, and 12/9999 would overflow the "next month" of whatever reads it.
    """
    value = str(value or "").strip()
    match = _MONTH.match(value)
    if match:
        month, year = int(match.group(1)), int(match.group(2))
    else:
        match = _ISO_MONTH.match(value)
        if not match:
            return None
        year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and first_year <= year <= last_year):
        return None
    return datetime.date(year, month, 1)


# --- working days ---------------------------------------------------------------------------


def add_working_days(day: datetime.date, days: int) -> datetime.date:
    """The ``days``-th working day after ``day`` (Monday to Friday; ``day`` itself not counted):
    Friday 30/01/2026 + 1 → Monday 02/02/2026. Public holidays are not known to the portal and count as
    working days, so a due date computed here is never later than the one a holiday calendar gives."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = day
    left = days
    while left:
        current += datetime.timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current
