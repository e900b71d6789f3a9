"""The menu opens without Bootstrap's JavaScript (static/js/portal.js): on a phone, by the toggler; its user
dropdown by a tap, closed by Escape or a tap elsewhere; aria-expanded says which state it is in."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from .audit import log_in, open_page

WAIT = 20


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_phone_menu_and_its_user_dropdown_open_and_close(live_server, browser, people):
    browser.set_window_size(360, 800)
    log_in(browser, live_server.url, "secretary", "matkhau-123")
    open_page(browser, live_server.url + "/hop-thu/")
    toggler = browser.find_element(By.CSS_SELECTOR, "button.navbar-toggler")
    menu = browser.find_element(By.ID, "mainnav")
    assert not menu.is_displayed() and toggler.get_attribute("aria-expanded") == "false"

    toggler.click()
    WebDriverWait(browser, WAIT).until(lambda _: menu.is_displayed())
    assert toggler.get_attribute("aria-expanded") == "true"
    assert browser.find_element(By.LINK_TEXT, "Hộp thư").is_displayed()

    user = browser.find_element(By.CSS_SELECTOR, "#mainnav [data-bs-toggle=dropdown]")
    dropdown = browser.find_element(By.CSS_SELECTOR, "#mainnav .dropdown-menu")
    assert not dropdown.is_displayed()
    user.click()
    WebDriverWait(browser, WAIT).until(lambda _: dropdown.is_displayed())
    assert user.get_attribute("aria-expanded") == "true"
    assert browser.find_element(By.XPATH, "//button[normalize-space()='Đăng xuất']").is_displayed()
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, WAIT).until(lambda _: not dropdown.is_displayed())
    assert user.get_attribute("aria-expanded") == "false"

    user.click()
    WebDriverWait(browser, WAIT).until(lambda _: dropdown.is_displayed())
    # A tap elsewhere on the page (the open menu covers the heading on a 360 px screen, so the tap is
    # dispatched where the page shows, as the document's click handler receives it).
    browser.execute_script("document.querySelector('main').click()")
    WebDriverWait(browser, WAIT).until(lambda _: not dropdown.is_displayed())

    toggler.click()
    WebDriverWait(browser, WAIT).until(lambda _: not menu.is_displayed())
    assert toggler.get_attribute("aria-expanded") == "false"
