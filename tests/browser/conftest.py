import shutil

import pytest

from ..conftest import require_or_skip

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--lang=vi",
]


def chromium_driver(tmp_path, *, keep_console_log: bool = False):
    """Headless Debian Chromium through Selenium, 1280 × 900, a fresh profile in ``tmp_path``."""
    require_or_skip(
        bool(shutil.which("chromium") and shutil.which("chromedriver")),
        "Debian's chromium and chromium-driver are not installed",
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chrome-profile'}")
    options.add_argument("--window-size=1280,900")
    if keep_console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    return driver


@pytest.fixture
def browser(tmp_path):
    """Headless Debian Chromium through Selenium; ``browser.resize(width, height)`` for a phone."""
    driver = chromium_driver(tmp_path)
    yield driver
    driver.quit()
