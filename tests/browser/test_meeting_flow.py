"""Issue #3's flow through the real pages: plan, notify, RSVP on a phone, record, adopt, print.

The secretary plans a meeting in the form (dates typed dd/mm/yyyy HH:MM) and sends the notice; a
member confirms from the one-click link on a 360 px wide screen; the secretary records the time and
attendance, finds what the minutes still lack on the adoption page, fixes it page by page (vote,
conclusion, task), adopts the minutes and downloads the PDF, which carries the number "NN-BB/…".
"""

import datetime
import shutil
import subprocess
import urllib.request

import pytest
from django.urls import reverse
from django.utils import timezone
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from cells.models import Organisation, Position, Role, Term
from meetings.models import Attendance, Meeting
from meetings.services import rsvp_token
from tests.factories import UserFactory, grant, make_member, make_organisation

PASSWORD = "matkhau-123"
WAIT = 20


def typed(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


def wait_for_heading(browser, text):
    WebDriverWait(browser, WAIT).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), text))


def page_replaced(html):
    """A wait condition: true once ``html`` (the old page's root element) has left the document.

    Selenium's ``staleness_of`` asks the element whether it is enabled and counts only
    StaleElementReferenceException as "gone"; while Chromium is swapping documents it can instead answer
    "Node with given id does not belong to the document" (a plain WebDriverException, CI on a7296c3), which
    means the same thing.
    """

    def _predicate(_driver):
        try:
            html.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    return _predicate


def submit(browser, selector="main form button[type=submit], main form input[type=submit]"):
    """Click a form's submit button and wait for the next page to replace this one."""
    button = browser.find_element(By.CSS_SELECTOR, selector)
    html = browser.find_element(By.TAG_NAME, "html")
    # A script click: under load a native click can race Chromium's layout ("node does not belong to the document").
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'}); arguments[0].click();", button
    )
    WebDriverWait(browser, WAIT).until(page_replaced(html))


def follow(browser, text):
    """Click the link called ``text`` (scrolled to at once: Bootstrap scrolls smoothly) and wait for the page."""
    link = browser.find_element(By.LINK_TEXT, text)
    html = browser.find_element(By.TAG_NAME, "html")
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'}); arguments[0].click();", link
    )
    WebDriverWait(browser, WAIT).until(page_replaced(html))


def go(browser, url):
    html = browser.find_element(By.TAG_NAME, "html")
    browser.get(url)
    WebDriverWait(browser, WAIT).until(page_replaced(html))


def fill(browser, name, value):
    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def alert_text(browser) -> str:
    return " ".join(element.text for element in browser.find_elements(By.CSS_SELECTOR, ".alert"))


@pytest.fixture
def cell_people(transactional_db):
    khoi = make_organisation(
        kind=Organisation.Kind.KHOI, name="Đảng bộ Khối Cơ quan và Doanh nghiệp tỉnh", short_code="ĐUK"
    )
    tccs = make_organisation(
        parent=khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ Sở Tài chính", short_code="ĐU"
    )
    cell = make_organisation(parent=tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Văn phòng", short_code="CB")
    Term.objects.get_or_create(organisation=cell, start=datetime.date(2025, 6, 1), defaults={"name": "2025–2030"})
    secretary = make_member(organisation=cell, full_name="Trần Thị Bí Thư")
    clerk = make_member(organisation=cell, full_name="Hoàng Văn Thư Ký")
    member = make_member(organisation=cell, full_name="Lê Văn Đảng Viên")
    others = [make_member(organisation=cell, full_name=name) for name in ("Nguyễn Thị Hoa", "Phạm Văn Hùng")]
    Position.objects.create(
        member=secretary, organisation=cell, kind=Position.Kind.SECRETARY, start=datetime.date(2025, 5, 1)
    )
    secretary_user = UserFactory(username="bithu-flow", first_name="Bí Thư", last_name="Trần Thị")
    grant(secretary_user, cell, Role.CELL_SECRETARY)
    member_user = UserFactory(username="dangvien-flow")
    grant(member_user, cell, Role.MEMBER)
    for person, user in ((secretary, secretary_user), (member, member_user)):
        person.user = user
        person.save(update_fields=["user"])
    return type(
        "CellPeople",
        (),
        {
            "cell": cell,
            "secretary": secretary,
            "clerk": clerk,
            "member": member,
            "others": others,
            "user": secretary_user,
        },
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_secretary_plans_notifies_records_adopts_and_prints_the_minutes(live_server, browser, cell_people, tmp_path):
    people = cell_people
    now = timezone.localtime()
    planned = (now + datetime.timedelta(days=2)).replace(hour=14, minute=0, second=0, microsecond=0)

    # The secretary logs in through the real login page.
    browser.get(live_server.url + "/dang-nhap/")
    fill(browser, "username", people.user.username)
    fill(browser, "password", PASSWORD)
    submit(browser)

    # Plans the meeting in the form.
    go(browser, live_server.url + reverse("meetings:cell_list", args=[people.cell.pk]))
    follow(browser, "Lập kế hoạch sinh hoạt")
    wait_for_heading(browser, "Lập kế hoạch sinh hoạt")
    Select(browser.find_element(By.NAME, "kind")).select_by_value(Meeting.Kind.REGULAR)
    fill(browser, "planned_start", typed(planned))
    fill(browser, "planned_end", typed(planned + datetime.timedelta(hours=2)))
    fill(browser, "place", "Phòng họp tầng 2")
    fill(browser, "topic", "Sinh hoạt thường kỳ tháng")
    Select(browser.find_element(By.NAME, "chair")).select_by_visible_text(people.secretary.full_name)
    Select(browser.find_element(By.NAME, "clerk")).select_by_visible_text(people.clerk.full_name)
    submit(browser)
    assert "Đã lập kế hoạch buổi sinh hoạt." in alert_text(browser), browser.page_source[:3000]
    meeting = Meeting.objects.get(organisation=people.cell)
    assert meeting.state == Meeting.State.DRAFT
    assert timezone.localtime(meeting.planned_start) == planned
    assert meeting.agenda_items.count() >= 10
    detail = live_server.url + reverse("meetings:detail", args=[meeting.pk])
    assert browser.current_url == detail

    # Sends the notice: one attendance row per member, and a personal link to each.
    submit(browser, f"form[action='{reverse('meetings:publish', args=[meeting.pk])}'] button")
    assert "Đã gửi thông báo" in alert_text(browser)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.NOTIFIED
    assert meeting.attendances.count() == 5

    # The member opens their one-click link on a phone and confirms, without logging in.
    browser.set_window_size(360, 800)
    browser.delete_all_cookies()
    link = live_server.url + reverse("meetings:rsvp", args=[rsvp_token(meeting=meeting, member=people.member)])
    go(browser, link)
    assert people.member.full_name in browser.page_source
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 360, (
        "the RSVP page must not scroll sideways on a 360 px phone"
    )
    browser.save_screenshot(str(tmp_path / "rsvp-360.png"))
    submit(browser, "button[name=answer][value=yes]")
    assert "Cảm ơn đồng chí, đã ghi nhận." in alert_text(browser)
    attendance = meeting.attendances.get(member=people.member)
    assert (attendance.rsvp, attendance.rsvp_via) == (Attendance.Rsvp.YES, Attendance.Via.LINK)

    # Back at the desk, the secretary logs in again and records the meeting as held.
    browser.set_window_size(1280, 900)
    go(browser, live_server.url + "/dang-nhap/")
    fill(browser, "username", people.user.username)
    fill(browser, "password", PASSWORD)
    submit(browser)
    go(browser, detail)
    follow(browser, "Giờ họp thực tế")
    wait_for_heading(browser, "Thời gian sinh hoạt thực tế")
    started = (now - datetime.timedelta(minutes=130)).replace(second=0, microsecond=0)
    # The meeting's day has come: as in real life the notice went out days before it and the meeting
    # is held in its own month (the database refuses a meeting held before its notice).
    Meeting.objects.filter(pk=meeting.pk).update(
        planned_start=started,
        planned_end=started + datetime.timedelta(minutes=120),
        period_month=started.date().replace(day=1),
        notice_sent_at=started - datetime.timedelta(days=2),
    )
    fill(browser, "actual_start", typed(started))
    fill(browser, "actual_end", typed(started + datetime.timedelta(minutes=120)))
    submit(browser)
    assert "Đã ghi nhận thời gian sinh hoạt." in alert_text(browser)

    # Attendance: pre-filled from the RSVPs; one member is away on business.
    follow(browser, "Ghi điểm danh")
    wait_for_heading(browser, "Điểm danh")
    assert (
        Select(browser.find_element(By.NAME, f"p_{people.member.pk}")).first_selected_option.get_attribute("value")
        == Attendance.Presence.PRESENT
    )
    for person in (people.secretary, people.clerk, people.others[0]):
        Select(browser.find_element(By.NAME, f"p_{person.pk}")).select_by_value(Attendance.Presence.PRESENT)
    away = people.others[1]
    Select(browser.find_element(By.NAME, f"p_{away.pk}")).select_by_value(Attendance.Presence.ABSENT_EXCUSED)
    fill(browser, f"r_{away.pk}", "Đi công tác")
    submit(browser)
    assert "Đã lưu điểm danh." in alert_text(browser)

    # The adoption page lists what the minutes still lack, and refuses.
    adopt = live_server.url + reverse("meetings:adopt", args=[meeting.pk])
    go(browser, adopt)
    assert "Chưa có nội dung kết luận hoặc nghị quyết." in alert_text(browser)
    submit(browser)
    assert "Chưa thể thông qua biên bản" in alert_text(browser)
    assert Meeting.objects.get(pk=meeting.pk).state == Meeting.State.HELD

    # Fixed through the pages: the vote, the conclusion, a task.
    go(browser, detail)
    follow(browser, "Ghi biểu quyết")
    wait_for_heading(browser, "Ghi kết quả biểu quyết")
    # Five official members, one away on business: four present may vote, the decision counts against five
    # (Điều lệ Art. 9.5, QĐ 294 §9.3.2: absence on business does not lower the denominator).
    assert "có mặt có quyền biểu quyết: 4; biểu quyết tính trên: 5" in browser.page_source
    fill(browser, "question", "Thông qua dự thảo kết luận của chi bộ")
    fill(browser, "votes_for", "4")
    submit(browser)
    assert "Đã ghi kết quả biểu quyết." in alert_text(browser)

    follow(browser, "Ghi kết luận")
    wait_for_heading(browser, "Kết luận / nghị quyết")
    fill(
        browser, "text", "1. Chi bộ thống nhất đánh giá kết quả tháng.\n2. Nhiệm vụ tháng tới: hoàn thành báo cáo quý."
    )
    submit(browser)
    assert "Đã lưu kết luận." in alert_text(browser)

    follow(browser, "Giao nhiệm vụ")
    wait_for_heading(browser, "Phân công nhiệm vụ")
    fill(browser, "description", "Hoàn thành báo cáo quý, trình chi ủy")
    checkbox = browser.find_element(By.CSS_SELECTOR, f"input[name=assignees][value='{people.member.pk}']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", checkbox)
    checkbox.click()
    fill(browser, "due_date", (now + datetime.timedelta(days=20)).strftime("%d/%m/%Y"))
    submit(browser)
    assert "Đã giao nhiệm vụ." in alert_text(browser)

    # Now the minutes are complete: adopt them, and they are numbered and locked.
    go(browser, adopt)
    assert "Biên bản đã đủ nội dung để thông qua." in alert_text(browser)
    submit(browser)
    assert "Đã thông qua và khóa biên bản." in alert_text(browser)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.MINUTES_ADOPTED
    assert meeting.minutes_reference == "01-BB/CB"
    assert meeting.resolution.reference == "01-KL/CB"
    assert "01-BB/CB" in browser.find_element(By.TAG_NAME, "body").text

    # The PDF, fetched with the secretary's session.
    pdf_url = live_server.url + reverse("meetings:minutes_pdf", args=[meeting.pk])
    assert browser.find_element(By.LINK_TEXT, "Tải PDF").get_attribute("href") == pdf_url
    session = browser.get_cookie("sessionid")["value"]
    request = urllib.request.Request(pdf_url, headers={"Cookie": f"sessionid={session}"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the live test server
        assert response.headers["Content-Type"] == "application/pdf"
        pdf = response.read()
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        path = tmp_path / "bien-ban.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "-BB/" in text and "01-BB/CB" in text
        assert people.member.full_name in text
        assert "Đi công tác" in text
