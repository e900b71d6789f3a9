"""The secretary logs in through the real login page and sees their own cell, and only it."""

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from cells.models import Organisation, Position


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_demo_secretary_logs_in_and_sees_their_cell(live_server, browser, tmp_path):
    call_command("seed_demo", verbosity=0)
    position = Position.objects.select_related("organisation").get(
        member__user__username="bithu", kind="bi_thu", end__isnull=True
    )
    own_cell = position.organisation
    another_cell = Organisation.objects.filter(kind__in=Organisation.CELL_KINDS).exclude(name=own_cell.name).first()

    browser.get(live_server.url + "/dang-nhap/")
    assert "Đăng nhập" in browser.page_source
    browser.find_element(By.NAME, "username").send_keys("bithu")
    browser.find_element(By.NAME, "password").send_keys("demo-2026")
    login_url = browser.current_url
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 15).until(EC.url_changes(login_url))
    WebDriverWait(browser, 15).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), own_cell.name))

    # The secretary starts on what the cell must do this month (issue #15), one link from its members.
    body = browser.find_element(By.TAG_NAME, "body").text
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Việc cần làm: {own_cell.name}"
    assert "Sinh hoạt thường kỳ tháng" in body
    assert another_cell.name not in body
    browser.find_element(By.LINK_TEXT, "Đảng viên của chi bộ").click()
    WebDriverWait(browser, 15).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), own_cell.name))
    assert "Danh sách đảng viên" in browser.find_element(By.TAG_NAME, "body").text
    browser.find_element(By.LINK_TEXT, "Tổ chức đảng").click()
    WebDriverWait(browser, 15).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Cây tổ chức đảng"))
    assert own_cell.name in browser.find_element(By.TAG_NAME, "body").text

    browser.set_window_size(360, 800)
    browser.save_screenshot(str(tmp_path / "secretary-cell-360.png"))
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 360, "the cell page must not scroll sideways on a 360 px phone"
