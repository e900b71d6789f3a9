"""Accessibility audits in the real Chromium: axe-core injected into the page, and the WCAG 2.5.8 tap-target check.

axe-core is vendored (tests/browser/vendor/, see its README): the browser tests run offline.
"""

from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
AXE_SOURCE = HERE / "vendor" / "axe.min.js"
TAP_TARGETS_SOURCE = HERE / "tap_targets.js"
# WCAG 2.2 level A and AA, every version's tags: axe files each rule under the version that introduced it.
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WAIT = 30


def axe_violations(driver) -> list[dict]:
    """Run axe-core on the page as it is now; the violations, each with its rule, impact and failing nodes."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE_SOURCE.read_text(encoding="utf-8"))
    driver.set_script_timeout(120)
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]})
          .then(results => done({violations: results.violations}))
          .catch(error => done({error: String(error)}));
        """,
        WCAG_22_AA,
    )
    if "error" in result:
        raise AssertionError(f"axe-core failed: {result['error']}")
    return result["violations"]


def small_tap_targets(driver) -> list[dict]:
    """The targets under 24 × 24 px that the spacing and inline exceptions of WCAG 2.5.8 do not excuse."""
    return driver.execute_script(TAP_TARGETS_SOURCE.read_text(encoding="utf-8"))


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"      {' '.join(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"      … and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def log_in(driver, base_url: str, username: str, password: str) -> None:
    """Through the real login page, as a person does; waits for the page the role starts on."""
    driver.delete_all_cookies()
    driver.get(base_url + "/dang-nhap/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    login_url = driver.current_url
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(driver, WAIT).until(EC.url_changes(login_url))
    if "/xac-thuc/" in driver.current_url:  # an officer's second factor: the code their app shows now
        from django.contrib.auth import get_user_model
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from tests.factories import totp_code

        device = TOTPDevice.objects.get(user=get_user_model().objects.get(username=username), confirmed=True)
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the same code again for the next login
        device.refresh_from_db()
        code_url = driver.current_url
        driver.find_element(By.NAME, "token").send_keys(totp_code(device))
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        WebDriverWait(driver, WAIT).until(EC.url_changes(code_url))


def open_page(driver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")


def restore_seeded_rows() -> None:
    """The rows the data migrations ship (dues rates, required documents, reminder rules, scoring schemes and
    rating regimes), put back where an earlier transactional test's flush removed them. (``serialized_rollback``
    would do it, but on PostgreSQL it reloads content types that post_migrate has already recreated.)"""
    import importlib

    from django.apps import apps

    from cells.models import DuesRateRule
    from meetings.models import ReminderRule
    from scoring.models import ScoringScheme

    def run(app, name, function):
        getattr(importlib.import_module(f"{app}.migrations.{name}"), function)(apps, None)

    if not DuesRateRule.objects.exists():
        run("cells", "0004_books_seed", "seed")
        run("cells", "0015_dues_retirement_age", "seed")
        run("cells", "0017_dues_area", "to_area")
    if not ReminderRule.objects.exists():
        run("meetings", "0003_reminder_rules_seed", "seed")
        run("meetings", "0008_reminder_params_from_indicators", "forward")
    if not ScoringScheme.objects.exists():
        run("scoring", "0002_ship_schemes_and_regimes", "load")
        run("scoring", "0004_quota_base_is_httnv", "forward")
