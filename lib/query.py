"""The one reader of the query parameters that choose a period or a page.

The portal's parameters are Vietnamese: ``nam`` (year), ``quy`` (quarter 1–4), ``thang`` (a month:
mm/yyyy on the books and the calendar, 1–12 beside ``nam`` on the dashboards) and ``trang`` (page). The
English names ``year``, ``quarter``, ``month`` and ``page`` are read as aliases, so links printed before
keep working; the Vietnamese name wins when both are given.
"""

import datetime

from .dates import parse_month

YEAR, QUARTER, MONTH, PAGE = "nam", "quy", "thang", "trang"
ALIASES = {YEAR: "year", QUARTER: "quarter", MONTH: "month", PAGE: "page"}
FIRST_YEAR, LAST_YEAR = 2000, 2100


def value(query, name: str) -> str:
    """``query[name]``, else the value of its English alias, else ""."""
    for key in (name, ALIASES.get(name)):
        found = query.get(key) if key else None
        if found not in (None, ""):
            return str(found)
    return ""


def year(query, *, default: int) -> int:
    """The year asked for (2000–2100), else ``default``."""
    asked = value(query, YEAR)
    return int(asked) if asked.isdigit() and FIRST_YEAR <= int(asked) <= LAST_YEAR else default


def year_and_quarter(query, *, today: datetime.date) -> tuple[int, int]:
    """The year and quarter asked for, else ``today``'s (both, when either is wrong)."""
    current = today.year, (today.month - 1) // 3 + 1
    try:
        asked_year = int(value(query, YEAR) or current[0])
        asked_quarter = int(value(query, QUARTER) or current[1])
    except ValueError:
        return current
    if not 1 <= asked_quarter <= 4 or not FIRST_YEAR <= asked_year <= LAST_YEAR:
        return current
    return asked_year, asked_quarter


def month(query, *, key: str = MONTH, **years) -> datetime.date | None:
    """The month asked for as mm/yyyy, as its first day; None when it is missing or not a month.
    ``years`` (first_year, last_year) narrow the years accepted (lib.dates.parse_month)."""
    asked = value(query, key)
    return parse_month(asked, **years) if asked else None


def form_data(query, fields: dict[str, str]) -> dict | None:
    """The data for a form whose fields are named otherwise than the parameters: ``fields`` maps each
    field to its parameter (``{"year": YEAR}``). None when the query gives none of them (an unbound form)."""
    data = {field: value(query, name) for field, name in fields.items()}
    return data if any(data.values()) else None


def period_query(year: int, quarter: int | None = None, month: int | None = None) -> dict:
    """The parameters of a link to a period, by their Vietnamese names: ``{"nam": 2026, "quy": 1}``."""
    params: dict = {YEAR: year}
    if quarter:
        params[QUARTER] = quarter
    if month:
        params[MONTH] = month
    return params
