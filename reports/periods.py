"""The period of a dashboard or report (meetings.indicators.Period) and its month/quarter helpers."""

import datetime

from meetings import indicators

Period = indicators.Period

NEVER = datetime.date(1, 1, 1)


def _months_span(months: list[datetime.date]) -> tuple[datetime.date, datetime.date]:
    return (months[0], months[-1]) if months else (NEVER, NEVER)


month_in_progress = indicators.month_in_progress
