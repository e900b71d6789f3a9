"""Questions asked between meetings in real Chromium (issue #17 item 4): the bí thư opens one at 1366 px
and reads how many answered; a member answers from the link on a 360 px phone — no horizontal scroll,
no WCAG 2.2 AA violation (axe-core), tap targets of at least 24 px.

Screenshots go to the test's tmp directory (``ASYNC_SCREENSHOTS`` names another one to keep them).
"""

import datetime
import os
import pathlib
import re
import zoneinfo

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By

from cells.models import Notification, Organisation, Role
from meetings.models import AsyncBallot, AsyncDecision
from tests.factories import UserFactory, grant, make_member, make_organisation

from .audit import axe_violations, describe_violations, log_in, small_tap_targets
from .test_meeting_flow import PASSWORD, fill, go, submit

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def overflows(browser) -> bool:
    return browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_bi_thu_opens_a_question_and_a_member_answers_on_a_phone(live_server, browser, tmp_path, time_machine):
    time_machine.move_to(datetime.datetime(2026, 12, 1, 9, 0, tzinfo=HCM), tick=True)
    khoi = make_organisation(kind=Organisation.Kind.KHOI, name="Đảng bộ Khối Cơ quan và Doanh nghiệp tỉnh")
    tccs = make_organisation(parent=khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ Sở Tài chính")
    cell = make_organisation(parent=tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Văn phòng")
    secretary = UserFactory(username="bithu-ykien")
    grant(secretary, cell, Role.CELL_SECRETARY)
    members = [make_member(organisation=cell, full_name=f"Nguyễn Văn Đảng Viên {n}") for n in range(3)]
    shots = pathlib.Path(os.environ.get("ASYNC_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    log_in(browser, live_server.url, secretary.username, PASSWORD)
    browser.set_window_size(1366, 900)
    go(browser, live_server.url + reverse("meetings:async_create", args=[cell.pk]))
    fill(browser, "question", "Chủ trương tổ chức về nguồn tại Côn Đảo")
    fill(browser, "deadline", "31/12/2026 23:30")
    pdf = tmp_path / "ke-hoach.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n")
    browser.find_element(By.NAME, "documents").send_keys(str(pdf))
    browser.save_screenshot(str(shots / "async-form-1366.png"))
    submit(browser)
    decision = AsyncDecision.objects.get()
    assert decision.deadline == datetime.datetime(2026, 12, 31, 23, 30, tzinfo=HCM)
    assert "0/3 đồng chí có quyền biểu quyết đã trả lời" in browser.find_element(By.TAG_NAME, "main").text

    # The member's link from the inbox row, on a phone, without logging in.
    body = Notification.objects.get(member=members[0], kind="meetings.async_decision.open").body
    link = re.search(r"(/sinh-hoat/y-kien/[^/\s]+/)", body).group(1)
    browser.delete_all_cookies()
    browser.set_window_size(360, 800)
    go(browser, live_server.url + link)
    assert "Chủ trương tổ chức về nguồn" in browser.find_element(By.TAG_NAME, "h1").text
    assert not overflows(browser)
    browser.find_element(By.CSS_SELECTOR, "label[for=id_choice_0]").click()  # the big "Tán thành" button
    fill(browser, "comment", "Đồng ý, đề nghị đi vào tháng 3")
    browser.save_screenshot(str(shots / "async-answer-360.png"))
    submit(browser)
    assert AsyncBallot.objects.get(member=members[0]).choice == "for"
    assert "Đã ghi nhận ý kiến" in browser.find_element(By.TAG_NAME, "main").text
    assert not overflows(browser)
    violations = axe_violations(browser)
    assert not violations, describe_violations(violations)
    assert not small_tap_targets(browser)
    browser.save_screenshot(str(shots / "async-answered-360.png"))

    # The bí thư's page on the phone too: the count, not the answer.
    log_in(browser, live_server.url, secretary.username, PASSWORD)
    go(browser, live_server.url + reverse("meetings:async_detail", args=[decision.pk]))
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "1/3 đồng chí có quyền biểu quyết đã trả lời" in text and "tháng 3" not in text
    assert not overflows(browser)
    browser.save_screenshot(str(shots / "async-detail-360.png"))
