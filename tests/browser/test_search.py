"""The search box in the menu and the paged results, as a browser shows them at 1366 px and on a 360 px phone."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from cells.models import Role
from tests.factories import UserFactory, grant, make_member, totp_device

from .audit import log_in


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_menu_search_finds_unaccented_names_and_pages_them_with_large_targets(live_server, browser, tree, tmp_path):
    for n in range(23):
        make_member(organisation=tree.cell, full_name=f"Nguyễn Văn Thành {n:02d}")
    officer = UserFactory(username="danguy-search")
    grant(officer, tree.tccs, Role.TCCS_OFFICER)

    totp_device(officer)  # a đảng ủy officer signs in with the second factor (audit.log_in types the code)

    browser.set_window_size(1366, 900)
    log_in(browser, live_server.url, "danguy-search", "matkhau-123")

    box = browser.find_element(By.ID, "nav-search")
    assert box.is_displayed()
    box.send_keys("nguyen van thanh")
    box.submit()
    WebDriverWait(browser, 15).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Tìm kiếm"))
    assert "Nguyễn Văn Thành 00" in browser.find_element(By.TAG_NAME, "body").text
    browser.save_screenshot(str(tmp_path / "search-1366.png"))
    browser.find_element(By.PARTIAL_LINK_TEXT, "Xem tất cả kết quả").click()
    WebDriverWait(browser, 15).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".portal-pagination"), "Trang 1/2")
    )

    browser.set_window_size(360, 800)
    browser.save_screenshot(str(tmp_path / "search-360.png"))
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
    for link in browser.find_elements(By.CSS_SELECTOR, ".portal-pagination .page-link"):
        assert link.size["width"] >= 24 and link.size["height"] >= 24, link.text
    following = browser.find_element(By.CSS_SELECTOR, ".portal-pagination a[rel=next]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", following)
    browser.save_screenshot(str(tmp_path / "search-pager-360.png"))
    following.click()
    WebDriverWait(browser, 15).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".portal-pagination"), "Trang 2/2")
    )
    assert "loai=dang-vien" in browser.current_url and "q=nguyen+van+thanh" in browser.current_url
    assert "Nguyễn Văn Thành 22" in browser.find_element(By.TAG_NAME, "body").text
