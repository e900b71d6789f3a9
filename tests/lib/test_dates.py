"""lib.dates: the calendar arithmetic, pinned with hand-worked dates."""

import datetime

from lib import dates

D = datetime.date


def test_month_arithmetic_across_the_year_end():
    assert dates.add_months(D(2026, 11, 15), 3) == D(2027, 2, 1)
    assert dates.add_months(D(2027, 1, 10), -1) == D(2026, 12, 1)
    assert dates.add_months(D(2026, 12, 31), 13) == D(2028, 1, 1)
    assert dates.next_month(D(2026, 12, 31)) == D(2027, 1, 1)
    assert dates.previous_month(D(2027, 1, 1)) == D(2026, 12, 1)
    assert dates.months_before(D(2027, 1, 31), 2) == D(2026, 11, 30)
    assert dates.months_before(D(2028, 12, 31), 10) == D(2028, 2, 29)


def test_first_and_last_day_of_a_month():
    assert dates.month_start(D(2028, 2, 17)) == D(2028, 2, 1)
    assert dates.month_end(D(2028, 2, 1)) == D(2028, 2, 29)
    assert dates.month_end(D(2027, 2, 1)) == D(2027, 2, 28)
    assert dates.month_end(D(2026, 12, 5)) == D(2026, 12, 31)


def test_quarter_bounds_of_the_last_day_of_the_year():
    assert dates.quarter_bounds(D(2026, 12, 31)) == (D(2026, 10, 1), D(2026, 12, 31))
    assert dates.quarter_number(D(2026, 12, 31)) == 4
    assert dates.quarter_bounds(D(2028, 2, 29)) == (D(2028, 1, 1), D(2028, 3, 31))
    assert dates.quarter_of(2026, 4) == D(2026, 10, 1)
    assert dates.year_bounds(2026) == (D(2026, 1, 1), D(2026, 12, 31))


def test_a_29_february_a_year_on_is_the_28th():
    assert dates.add_years(D(2028, 2, 29), 1) == D(2029, 2, 28)
    assert dates.add_years(D(2028, 2, 29), -1) == D(2027, 2, 28)
    assert dates.add_years(D(2028, 2, 29), 4) == D(2032, 2, 29)


def test_a_month_as_typed():
    assert dates.parse_month("03/2026") == D(2026, 3, 1)
    assert dates.parse_month(" 3 / 2026 ") == D(2026, 3, 1)
    assert dates.parse_month("2026-03") == D(2026, 3, 1)
    assert dates.parse_month("03-2026") == D(2026, 3, 1)
    assert dates.parse_month("13/2026") is None and dates.parse_month("abc") is None and dates.parse_month("") is None
    assert dates.parse_month("12/9999") is None and dates.parse_month("01/0001") is None
    assert dates.parse_month("01/1999", first_year=2000) is None


def test_local_midnight_and_day_bounds_are_in_the_portals_zone(settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"
    start, end = dates.day_bounds(D(2026, 12, 31))
    assert start.isoformat() == "2026-12-31T00:00:00+07:00"
    assert end.isoformat() == "2027-01-01T00:00:00+07:00"
