"""The month calendar in real Chromium: a seven-column grid at 1366 px, a list by day at 360 px.

Screenshots of both are written to the test's tmp directory (``CALENDAR_SCREENSHOTS`` names another
directory to keep them) so that a person can look at them.
"""

import datetime
import os
import pathlib
import zoneinfo

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By

from cells.models import Organisation, Role
from meetings import services
from meetings.models import Meeting
from tests.factories import UserFactory, grant, make_member, make_organisation, totp_device

from .audit import log_in
from .test_meeting_flow import PASSWORD, fill, go, submit

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def plan(cell, start, kind=Meeting.Kind.REGULAR, **fields):
    return services.meeting_create(
        organisation=cell,
        kind=kind,
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        period_month=start.date().replace(day=1),
        place="Phòng họp tầng 2",
        **fields,
    )


def visible(browser, selector) -> list:
    return [element for element in browser.find_elements(By.CSS_SELECTOR, selector) if element.is_displayed()]


def overflows(browser) -> bool:
    return browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_month_is_a_grid_on_a_desktop_and_a_list_on_a_phone(live_server, browser, tmp_path, time_machine):
    time_machine.move_to(datetime.datetime(2026, 12, 1, 9, 0, tzinfo=HCM), tick=True)
    khoi = make_organisation(kind=Organisation.Kind.KHOI, name="Đảng bộ Khối Cơ quan và Doanh nghiệp tỉnh")
    tccs = make_organisation(parent=khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ Sở Tài chính")
    cell = make_organisation(parent=tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Văn phòng")
    sibling = make_organisation(parent=tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Kế toán và Quản lý ngân sách")
    for organisation in (cell, sibling):
        make_member(organisation=organisation)
        make_member(organisation=organisation)
    services.meeting_publish(meeting=plan(cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM)))
    plan(sibling, datetime.datetime(2026, 12, 15, 8, 0, tzinfo=HCM))
    services.meeting_cancel(
        meeting=plan(cell, datetime.datetime(2026, 12, 22, 8, 0, tzinfo=HCM), kind=Meeting.Kind.THEMATIC), reason="Hoãn"
    )
    plan(sibling, datetime.datetime(2026, 12, 31, 23, 30, tzinfo=HCM), kind=Meeting.Kind.EXTRAORDINARY)
    officer = UserFactory(username="danguy-lich")
    grant(officer, tccs, Role.TCCS_OFFICER)

    totp_device(officer)  # a đảng ủy officer signs in with the second factor (audit.log_in types the code)
    log_in(browser, live_server.url, officer.username, PASSWORD)
    shots = pathlib.Path(os.environ.get("CALENDAR_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    browser.set_window_size(1366, 900)
    go(browser, live_server.url + reverse("meetings:calendar_month", args=[tccs.pk]) + "?thang=12/2026")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Lịch sinh hoạt tháng 12/2026")
    assert visible(browser, "table.month-grid") and not visible(browser, ".month-list")
    links = visible(browser, "table.month-grid a.calendar-meeting")
    assert len(links) == 4
    # Seven equal columns that fit the screen; the cancelled meeting is struck through.
    widths = {round(cell.rect["width"]) for cell in browser.find_elements(By.CSS_SELECTOR, "table.month-grid thead th")}
    assert max(widths) - min(widths) <= 2
    assert not overflows(browser)
    assert browser.find_element(By.CSS_SELECTOR, "a.calendar-meeting.cancelled del").text.startswith("08:00")
    last_evening = browser.find_element(By.XPATH, "//td[div[@class='day-number' and text()='31']]")
    assert "23:30" in last_evening.text
    browser.save_screenshot(str(shots / "calendar-1366.png"))

    browser.set_window_size(360, 740)
    go(browser, browser.current_url)
    assert not visible(browser, "table.month-grid")
    items = visible(browser, ".month-list a.calendar-meeting")
    assert len(items) == 4
    assert not overflows(browser)
    assert all(item.rect["height"] >= 44 and item.rect["width"] >= 200 for item in items)
    headings = [h.text for h in visible(browser, "main h2")]
    assert headings[0].endswith("15/12/2026") and headings[-1].endswith("31/12/2026")
    # The month's controls stay on two rows at most: previous / next side by side, the month field and its button.
    arrows = visible(browser, "nav[aria-label] a.btn")
    assert len({round(a.rect["y"]) for a in arrows}) == 1
    browser.save_screenshot(str(shots / "calendar-360.png"))
    browser.set_window_size(360, 1400)  # the whole list in one picture
    browser.save_screenshot(str(shots / "calendar-360-full.png"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_my_calendar_on_a_phone_gives_the_address_and_renews_it(live_server, browser, tmp_path):
    khoi = make_organisation(kind=Organisation.Kind.KHOI, name="Đảng bộ Khối Cơ quan và Doanh nghiệp tỉnh")
    cell = make_organisation(parent=khoi, kind=Organisation.Kind.CHI_BO_CO_SO, name="Chi bộ Công ty Điện lực")
    member = make_member(organisation=cell, full_name="Lê Văn Đảng Viên")
    member.user = UserFactory(username="dangvien-lich")
    member.save(update_fields=["user"])
    grant(member.user, cell, Role.MEMBER)
    shots = pathlib.Path(os.environ.get("CALENDAR_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    browser.set_window_size(360, 740)
    browser.get(live_server.url + "/dang-nhap/")
    fill(browser, "username", member.user.username)
    fill(browser, "password", PASSWORD)
    submit(browser)
    go(browser, live_server.url + reverse("meetings:calendar_settings"))
    submit(browser)  # "Tạo đường dẫn lịch"
    address = browser.find_element(By.ID, "feed-url").get_attribute("value")
    assert address.startswith(live_server.url + "/sinh-hoat/lich/") and address.endswith(".ics")
    assert not overflows(browser)
    browser.set_window_size(360, 1800)
    browser.save_screenshot(str(shots / "my-calendar-360.png"))
    browser.set_window_size(360, 740)
    submit(browser, "form[action$='/tao-moi/'] button")  # "Tạo đường dẫn mới"
    renewed = browser.find_element(By.ID, "feed-url").get_attribute("value")
    assert renewed != address
    assert "Đường dẫn cũ không còn dùng được" in browser.find_element(By.CSS_SELECTOR, ".alert").text
