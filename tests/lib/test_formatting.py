"""lib.formatting: how the portal writes money, percentages and dates, pinned with hand-worked values."""

import datetime

from lib import formatting


def test_money_and_thousands():
    assert formatting.money(1234567) == "1.234.567 đ"
    assert formatting.money(60000) == "60.000 đ"
    assert formatting.money(0) == "0 đ"
    assert formatting.thousands(20000) == "20.000"


def test_percentages():
    assert formatting.basis_points_label(100) == "1 %"
    assert formatting.basis_points_label(50) == "0,5 %"
    assert formatting.basis_points_label(3000) == "30 %"
    assert formatting.basis_points_label(125) == "1,25 %"
    assert formatting.share_percent(8, 9) == "88,9%"
    assert formatting.share_percent(9, 9) == "100%"
    assert formatting.share_percent(1, 0) == "0%"


def test_the_party_date_line_of_29_february_2028(settings):
    settings.DOCUMENT_PLACE = "Đông Hà"
    day = datetime.date(2028, 2, 29)
    assert formatting.party_day(day) == "ngày 29 tháng 02 năm 2028"
    assert formatting.place_and_date(day) == "Đông Hà, ngày 29 tháng 02 năm 2028"
    assert formatting.party_day(datetime.date(2028, 3, 5)) == "ngày 05 tháng 3 năm 2028"


def test_dates_and_clock(settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"
    moment = datetime.datetime(2026, 2, 5, 7, 5, tzinfo=datetime.UTC)  # 14:05 in Việt Nam
    assert formatting.clock(moment) == "14 giờ 05 phút"
    assert formatting.clock(None) == "…"
    assert formatting.time_and_day(moment) == "14:05 ngày 05/02/2026"
    assert formatting.moment_text(moment) == "05/02/2026 14:05"
    assert formatting.date_text(datetime.date(2026, 2, 5)) == "05/02/2026"
    assert formatting.month_text(datetime.date(2026, 2, 5)) == "02/2026"
