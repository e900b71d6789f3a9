"""Security headers, session expiry, and pages that work under the Content-Security-Policy."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


@pytest.mark.django_db
def test_every_answer_carries_the_policy_and_the_referrer_policy(client, client_for, people, tree):
    for response in (
        client.get(reverse("login")),
        client_for(people.secretary).get(reverse("meetings:cell_list", args=[tree.cell.pk])),
        client_for(people.secretary).get(reverse("books:books_dues_xlsx", args=[tree.cell.pk])),
    ):
        assert directives(response["Content-Security-Policy"]) == directives(POLICY)
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_a_session_ends_after_eight_hours_or_when_the_browser_closes(client, people):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    client.post(reverse("login"), {"username": "secretary", "password": "matkhau-123"})
    assert client.session.get_expire_at_browser_close()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"], "a browser-session cookie, not a persistent one"


# Documents are printed to PDF from templates/documents/ (no browser, no policy), except the minutes
# body that the minutes page shows too; every other template must run under script-src/style-src
# 'self': no inline script, style block, style= or on…= handler.
WEB_DOCUMENTS = {"_minutes_body.html"}
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)


def directives(policy):
    """A Content-Security-Policy header as its directives (django-csp writes them in no fixed order)."""
    return {part.split()[0]: part.split()[1:] for part in (policy or "").split(";") if part.strip()}


def test_templates_have_no_inline_script_or_style():
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if "documents" in path.relative_to(ROOT / "templates").parts and path.name not in WEB_DOCUMENTS:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if INLINE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offenders, "move these into static/css/portal.css or static/js/portal.js:\n" + "\n".join(offenders)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_language_switch_and_htmx_polling_work_under_the_policy(live_server, csp_browser, tree, people):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from reports.models import ReportRun
    from tests.factories import totp_code, totp_device

    from .conftest import csp_violations

    device = totp_device(people.officer)
    browser = csp_browser
    run = ReportRun.objects.create(
        organisation=tree.tccs, params={"year": 2026}, status=ReportRun.Status.RUNNING, progress=10
    )
    browser.get(live_server.url + reverse("login"))
    browser.find_element(By.NAME, "username").send_keys("officer")
    browser.find_element(By.NAME, "password").send_keys("matkhau-123")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 15).until(EC.url_changes(live_server.url + reverse("login")))
    # The officer's second step: the code of the authenticator app (issue #21).
    assert reverse("two_factor_verify") in browser.current_url
    browser.find_element(By.NAME, "token").send_keys(totp_code(device))
    verify_url = browser.current_url
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 15).until(EC.url_changes(verify_url))

    # The report runs page polls the running row every 2 s through htmx (static/vendor/htmx).
    browser.get(live_server.url + reverse("reports:runs", args=[tree.tccs.pk]))
    assert browser.find_element(By.CSS_SELECTOR, f"#run-{run.pk} progress").get_attribute("value") == "10"
    ReportRun.objects.filter(pk=run.pk).update(progress=60)
    WebDriverWait(browser, 15).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, f"#run-{run.pk} progress").get_attribute("value") == "60"
    )

    # The language switch submits its form on change (static/js/portal.js, no inline handler).
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    Select(browser.find_element(By.ID, "language-select")).select_by_value("en")
    WebDriverWait(browser, 15).until(
        lambda driver: driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    )
    assert browser.current_url.endswith(reverse("reports:runs", args=[tree.tccs.pk]))

    # The dashboard (chart, legend, heat map) and the minutes page have no inline style left either.
    browser.get(live_server.url + reverse("reports:dashboard", args=[tree.tccs.pk]))
    assert browser.find_elements(By.CSS_SELECTOR, "svg.quality-chart")
    assert csp_violations(browser) == []


@pytest.mark.django_db
def test_member_pages_minutes_and_downloads_are_never_stored(client_for, people, objects):
    """Shared office computers: no copy in the browser's cache of personal data, minutes or files."""
    from cells.middleware import PRIVATE_VIEW_NAMES

    from .test_access_matrix import MATRIX, url_of

    client = client_for(people.admin)
    assert PRIVATE_VIEW_NAMES <= set(MATRIX), "every name of the rule is a URL of the project"
    missing = []
    for name in sorted(PRIVATE_VIEW_NAMES):
        response = client.get(url_of(name, objects))
        if response.get("Cache-Control") != "private, no-store":
            missing.append(f"{name} ({response.status_code}): {response.get('Cache-Control')!r}")
    # A download outside the list (the dashboard's XLSX) is covered by its Content-Disposition.
    dashboard = client.get(reverse("reports:dashboard", args=[objects["tccs"]]), {"format": "xlsx"})
    assert dashboard["Content-Disposition"].startswith("attachment")
    if dashboard.get("Cache-Control") != "private, no-store":
        missing.append("reports:dashboard?format=xlsx")
    assert not missing, missing
    # A page outside the rule (the dashboard itself) is left as it was.
    assert "no-store" not in client.get(reverse("reports:dashboard", args=[objects["tccs"]])).get("Cache-Control", "")
