"""How dates and times are written in Party documents (HD 36-HD/VPTW)."""

import datetime

from django.conf import settings
from django.utils import timezone

DEFAULT_PLACE = "Đông Hà"


def party_day(day: datetime.date) -> str:
    """Day numbers below 10 and months 1–2 take a leading zero: "ngày 05 tháng 02 năm 2026", "ngày 15 tháng 3 năm 2026"."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def place_and_date(day: datetime.date) -> str:
    """The italic line under the party heading, e.g. "Đông Hà, ngày 05 tháng 02 năm 2026"."""
    return f"{getattr(settings, 'DOCUMENT_PLACE', DEFAULT_PLACE)}, {party_day(day)}"


def clock(moment: datetime.datetime | None) -> str:
    """"14 giờ 05 phút" in local time."""
    if moment is None:
        return "…"
    local = timezone.localtime(moment)
    return f"{local.hour} giờ {local.minute:02d} phút"
