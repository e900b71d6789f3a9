"""The period of a dashboard or report (meetings.indicators.Period) and its month/quarter helpers."""

import datetime

from lib import dates
from meetings import indicators

Period = indicators.Period
_month_end = dates.month_end


def _quarter_end(first: datetime.date) -> datetime.date:
    return dates.quarter_end(first)


NEVER = datetime.date(1, 1, 1)


def _months_span(months: list[datetime.date]) -> tuple[datetime.date, datetime.date]:
    return (months[0], months[-1]) if months else (NEVER, NEVER)


month_in_progress = indicators.month_in_progress


def _checked_month(period: Period, today: datetime.date) -> datetime.date | None:
    return period.checked_month(today)


def _checked_quarter(period: Period, today: datetime.date) -> datetime.date | None:
    return period.checked_quarter(today)
