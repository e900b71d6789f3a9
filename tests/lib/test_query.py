"""lib.query: the Vietnamese parameter names, and the English ones read as aliases."""

import datetime

from django.http import QueryDict

from lib import query

TODAY = datetime.date(2026, 8, 20)


def test_the_vietnamese_name_wins_and_the_english_one_is_an_alias():
    assert query.value(QueryDict("nam=2025&year=2024"), query.YEAR) == "2025"
    assert query.value(QueryDict("year=2024"), query.YEAR) == "2024"
    assert query.value(QueryDict("page=3"), query.PAGE) == "3"
    assert query.value(QueryDict(""), query.PAGE) == ""


def test_year_and_quarter():
    assert query.year(QueryDict("nam=2025"), default=2026) == 2025
    assert query.year(QueryDict("year=2025"), default=2026) == 2025
    assert query.year(QueryDict("nam=1999"), default=2026) == 2026
    assert query.year(QueryDict("nam=abc"), default=2026) == 2026
    assert query.year_and_quarter(QueryDict("nam=2025&quy=4"), today=TODAY) == (2025, 4)
    assert query.year_and_quarter(QueryDict("year=2025&quarter=1"), today=TODAY) == (2025, 1)
    assert query.year_and_quarter(QueryDict("nam=2025&quy=5"), today=TODAY) == (2026, 3)
    assert query.year_and_quarter(QueryDict("quy=x"), today=TODAY) == (2026, 3)


def test_month_and_form_data():
    assert query.month(QueryDict("thang=03/2026")) == datetime.date(2026, 3, 1)
    assert query.month(QueryDict("month=03/2026")) == datetime.date(2026, 3, 1)
    assert query.month(QueryDict("thang=13/2026")) is None
    fields = {"year": query.YEAR, "quarter": query.QUARTER}
    assert query.form_data(QueryDict("nam=2025&quarter=2"), fields) == {"year": "2025", "quarter": "2"}
    assert query.form_data(QueryDict("org=5"), fields) is None
    assert query.period_query(2026, 1) == {"nam": 2026, "quy": 1}
