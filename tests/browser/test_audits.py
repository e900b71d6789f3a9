"""Every page type, for each role of the demo, as the browser shows it: axe-core finds no WCAG 2.2 AA violation,
and on the member's pages at 360 px every tap target is 24 × 24 px or spaced as WCAG 2.5.8 allows (issue #15).

The pages are listed once, in ``PAGES``; each is opened by the demo account of its role, logged in through the
real login page, on the demo Khối (``seed_demo``) served by the live server.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cells.models import Member, Notification, Organisation, Position
from demo.cells import DEMO_PASSWORD
from meetings.models import Meeting, Task
from meetings.services import rsvp_token
from scoring.models import AnnualRating, MeetingScore

from .audit import axe_violations, describe_violations, log_in, open_page, restore_seeded_rows, small_tap_targets

PHONE = (360, 800)
DESKTOP = (1280, 900)


@dataclass(frozen=True)
class Demo:
    """The demo rows the pages are opened on: the featured cell, its đảng ủy cơ sở, the Khối, their meetings."""

    khoi: int
    tccs: int
    cell: int
    member: int
    upcoming: int  # this cell's next meeting, noticed and not yet held
    adopted: int  # its latest meeting with adopted minutes
    scored: int  # a meeting of the cell with a score
    rsvp_token: str
    task: int
    notification: int
    rating: int
    year: int
    position: int  # the featured cell's bí thư's post (the officer's "Kết thúc chức vụ" page)


@dataclass(frozen=True)
class Page:
    role: str | None  # the demo username; None: not logged in
    name: str
    path: Callable[[Demo], str]
    member_page: bool = False  # a member's page: also audited at 360 px, with the tap-target check


def _url(name, *fields):
    """The path of URL ``name`` with the given fields of ``Demo`` as its arguments."""
    return lambda demo: reverse(name, args=[getattr(demo, field) for field in fields])


PAGES = (
    Page(None, "login", lambda demo: reverse("login")),
    Page(None, "RSVP from the e-mailed link", _url("meetings:rsvp", "rsvp_token"), member_page=True),
    Page(None, "absence request from the e-mailed link", _url("meetings:rsvp_absence", "rsvp_token"), member_page=True),
    Page(None, "document verification", _url("verify_lookup")),
    # The member (đảng viên), phone first.
    Page("dangvien", "member home", _url("meetings:my_home"), member_page=True),
    Page("dangvien", "meeting list", _url("meetings:cell_list", "cell"), member_page=True),
    Page("dangvien", "meeting detail (upcoming)", _url("meetings:detail", "upcoming"), member_page=True),
    Page("dangvien", "meeting detail (adopted)", _url("meetings:detail", "adopted"), member_page=True),
    Page("dangvien", "absence request", _url("meetings:absence_request", "upcoming"), member_page=True),
    Page("dangvien", "comment on the draft conclusion", _url("meetings:draft_comment", "upcoming"), member_page=True),
    Page("dangvien", "minutes", _url("meetings:minutes", "adopted"), member_page=True),
    Page("dangvien", "my tasks", _url("meetings:my_tasks"), member_page=True),
    Page("dangvien", "task update", _url("meetings:task_update", "task"), member_page=True),
    Page("dangvien", "inbox", _url("inbox:inbox"), member_page=True),
    Page("dangvien", "notification", _url("inbox:notification_detail", "notification"), member_page=True),
    Page("dangvien", "own profile", _url("cells:member_detail", "member"), member_page=True),
    Page("dangvien", "books", _url("books:books_index"), member_page=True),
    Page("dangvien", "own commitment", _url("books:books_commitment_mine"), member_page=True),
    Page("dangvien", "change password", _url("password_change"), member_page=True),
    Page("dangvien", "my calendar", _url("meetings:calendar_settings"), member_page=True),
    Page("dangvien", "month calendar", _url("meetings:calendar_month", "cell"), member_page=True),
    Page("dangvien", "search", lambda demo: reverse("search") + "?q=nguyen", member_page=True),
    Page("dangvien", "my personal data", _url("cells:my_personal_data"), member_page=True),
    Page("dangvien", "my account", _url("account:account"), member_page=True),
    Page("dangvien", "my sessions", _url("account:sessions"), member_page=True),
    # The cell secretary (bí thư).
    Page("bithu", "secretary home", _url("meetings:cell_home", "cell")),
    Page("bithu", "meeting list", _url("meetings:cell_list", "cell")),
    Page("bithu", "plan a meeting", _url("meetings:create", "cell")),
    Page("bithu", "meeting detail (upcoming)", _url("meetings:detail", "upcoming")),
    Page("bithu", "meeting detail (adopted)", _url("meetings:detail", "adopted")),
    Page("bithu", "attendance form", _url("meetings:attendance", "upcoming")),
    Page("bithu", "add a task", _url("meetings:task_add", "upcoming")),
    Page("bithu", "minutes", _url("meetings:minutes", "adopted")),
    Page("bithu", "member list", _url("cells:member_list")),
    Page("bithu", "cell page", _url("cells:organisation_detail", "cell")),
    Page("bithu", "books of the cell", _url("books:books_cell", "cell")),
    Page("bithu", "dues ledger", _url("books:books_dues_ledger", "cell")),
    Page("bithu", "dues area", _url("books:books_dues_area", "cell")),
    Page("bithu", "cell documents", _url("books:books_cell_documents", "cell")),
    Page("bithu", "commitments", _url("books:books_commitments", "cell")),
    Page("bithu", "scoring index", _url("scoring:index")),
    Page("bithu", "meeting score", _url("scoring:meeting_score", "scored")),
    Page("bithu", "ratings of the cell", _url("scoring:cell_ratings", "cell", "year")),
    Page("bithu", "rating", _url("scoring:rating_detail", "rating")),
    Page("bithu", "member record", _url("cells:member_detail", "member")),
    Page("bithu", "inbox", _url("inbox:inbox")),
    Page("bithu", "enter a meeting held on paper", _url("meetings:record_past", "cell")),
    Page("bithu", "month calendar", _url("meetings:calendar_month", "cell")),
    Page("bithu", "admission pipeline of the cell", _url("admission:cell_pipeline", "cell")),
    Page("bithu", "propose a candidate", _url("admission:candidate_create", "cell")),
    # The đảng ủy cơ sở's officer.
    Page("danguy", "dashboard of the đảng ủy", _url("reports:dashboard", "tccs")),
    Page("danguy", "organisation tree", _url("cells:organisation_tree")),
    Page("danguy", "member list", _url("cells:member_list")),
    Page("danguy", "member form", _url("cells:member_update", "member")),
    Page("danguy", "scoring index", _url("scoring:index")),
    Page("danguy", "meeting score", _url("scoring:meeting_score", "scored")),
    Page("danguy", "supervision", _url("scoring:supervision")),
    Page("danguy", "inspections", _url("scoring:inspections")),
    Page("danguy", "documents of the subtree", _url("books:books_documents_table", "tccs")),
    Page("danguy", "dues arrears", _url("books:books_dues_arrears", "tccs")),
    Page("danguy", "cells that have not remitted dues", _url("books:books_dues_unremitted", "tccs")),
    Page("danguy", "correction requests", _url("cells:correction_list")),
    Page("danguy", "admission pipeline by unit", _url("admission:unit_pipeline", "tccs")),
    Page("danguy", "search", lambda demo: reverse("search") + "?q=chi bo"),
    # The tree's pages (cells/views_tree.py), of the upper level.
    Page("danguy", "cell page with the tree's entries", _url("cells:organisation_detail", "cell")),
    Page("danguy", "add a unit", _url("cells:organisation_create", "tccs")),
    Page("danguy", "change a unit", _url("cells:organisation_update", "cell")),
    Page("danguy", "move a unit", _url("cells:organisation_move", "cell")),
    Page("danguy", "assign a position", _url("cells:position_assign", "cell")),
    Page("danguy", "end a position", _url("cells:position_end", "position")),
    # The Khối: its committee (read only) and its administrator.
    Page("capuy", "dashboard of the Khối", _url("reports:dashboard", "khoi")),
    Page("capuy", "annual reports", _url("reports:runs", "khoi")),
    Page("khoi_admin", "dashboard of the Khối", _url("reports:dashboard", "khoi")),
    Page("khoi_admin", "member list", _url("cells:member_list")),
    Page("khoi_admin", "roles of the Khối", _url("cells:organisation_roles", "khoi")),
    Page("khoi_admin", "change log", _url("audit:audit_list")),
)


def _featured_secretary() -> Position:
    return Position.objects.get(member__user__username="bithu", kind=Position.Kind.SECRETARY, end__isnull=True)


def _featured_cell():
    return _featured_secretary().organisation


def demo_rows() -> Demo:
    """The rows of a seeded demo that the pages are opened on."""
    cell = _featured_cell()
    member = Member.objects.get(user__username="dangvien")
    meetings = Meeting.objects.filter(organisation=cell)
    # The demo always gives the featured cell one noticed meeting ahead (meetings.demo, "upcoming").
    upcoming = (
        meetings.filter(state=Meeting.State.NOTIFIED, planned_start__gt=timezone.now())
        .order_by("planned_start")
        .first()
    )
    adopted = meetings.filter(state=Meeting.State.MINUTES_ADOPTED).order_by("-planned_start").first()
    scored = MeetingScore.objects.filter(meeting__organisation=cell).order_by("-meeting__planned_start").first()
    task = Task.objects.filter(assignees=member).order_by("-pk").first()
    notification = Notification.objects.filter(recipient=member.user).order_by("-pk").first()
    year = timezone.localdate().year
    rating = AnnualRating.objects.filter(organisation=cell, member__isnull=False).order_by("-year", "pk").first()
    missing = [
        name
        for name, row in (
            ("upcoming meeting", upcoming),
            ("adopted meeting", adopted),
            ("score", scored),
            ("task", task),
            ("notification", notification),
            ("rating", rating),
        )
        if row is None
    ]
    assert not missing, f"the demo lacks: {missing}"
    return Demo(
        khoi=Organisation.objects.get(kind=Organisation.Kind.KHOI).pk,
        tccs=cell.parent.pk,
        cell=cell.pk,
        member=member.pk,
        upcoming=upcoming.pk,
        adopted=adopted.pk,
        scored=scored.meeting_id,
        rsvp_token=rsvp_token(meeting=upcoming, member=member),
        task=task.pk,
        notification=notification.pk,
        rating=rating.pk,
        year=year,
        position=_featured_secretary().pk,
    )


def _walk(browser, base_url, pages, demo, check):
    """Open each page as its role (logging in once per role) and collect what ``check`` finds wrong."""
    problems, logged_in_as = [], object()
    for page in pages:
        if page.role != logged_in_as:
            browser.delete_all_cookies()
            if page.role:
                log_in(browser, base_url, page.role, DEMO_PASSWORD)
            logged_in_as = page.role
        open_page(browser, base_url + page.path(demo))
        # The page itself, not an error page or the login form standing in for it.
        status = browser.execute_script("return performance.getEntriesByType('navigation')[0].responseStatus")
        assert status == 200, f"{page.role} · {page.name}: HTTP {status} at {browser.current_url}"
        assert "/dang-nhap/" not in browser.current_url or page.role is None, f"{page.name}: sent to the login page"
        found = check(browser)
        if found and any(found.values() if isinstance(found, dict) else [found]):
            problems.append((page, browser.current_url, found))
    return problems


@pytest.fixture
def demo(transactional_db):
    """The demo Khối, with the featured cell's meetings scored (as ``seed_demo --scores`` does, for one cell)."""
    from django.contrib.auth import get_user_model

    from cells.selectors import second_factor_required
    from demo.scoring import prefill_demo_scores
    from tests.factories import totp_device

    restore_seeded_rows()
    call_command("seed_demo", verbosity=0)
    prefill_demo_scores(_featured_cell())
    for user in get_user_model().objects.all():  # the officers' authenticator apps (audit.log_in types the code)
        if second_factor_required(user):
            totp_device(user)
    return demo_rows()


def _axe_report(problems) -> str:
    return "axe-core (WCAG 2.2 AA) violations:\n" + "\n".join(
        f"{page.role or 'anonymous'} · {page.name} · {url}\n{describe_violations(violations)}"
        for page, url, violations in problems
    )


# The scoring schemes, dues rules and document types come from data migrations, which an earlier
# transactional test's flush removed; the demo fixture puts them back (audit.restore_seeded_rows).
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_axe_finds_no_wcag_22_aa_violation_on_any_page_of_any_role(live_server, browser, demo):
    browser.set_window_size(*DESKTOP)
    problems = _walk(browser, live_server.url, PAGES, demo, axe_violations)
    assert not problems, _axe_report(problems)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_member_pages_at_360_px_pass_axe_and_every_tap_target_is_24_px_or_spaced(live_server, browser, demo):
    """On a phone the layout is another page for axe (stacked tables, the collapsed menu), and targets shrink."""
    browser.set_window_size(*PHONE)
    found = _walk(
        browser,
        live_server.url,
        [page for page in PAGES if page.member_page],
        demo,
        lambda driver: {"axe": axe_violations(driver), "targets": small_tap_targets(driver)},
    )
    violations = [(page, url, result["axe"]) for page, url, result in found if result["axe"]]
    targets = [(page, url, result["targets"]) for page, url, result in found if result["targets"]]
    assert not violations, _axe_report(violations)
    assert not targets, "tap targets under 24 × 24 px without the spacing of WCAG 2.5.8:\n" + "\n".join(
        f"{page.role or 'anonymous'} · {page.name} · {url}\n"
        + "\n".join(
            f"    {t['target']} {t['width']}×{t['height']} too close to {t['too_close_to']}" for t in found_targets
        )
        for page, url, found_targets in targets
    )


# The tree's pages are the Ban Tổ chức's, used from a phone as well: at 360 px axe passes on them, nothing
# makes the page scroll sideways and the tap targets keep their size or spacing.
TREE_PAGES = {"add a unit", "change a unit", "move a unit", "assign a position", "end a position"}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_tree_pages_at_360_px_pass_axe_and_fit_the_width(live_server, browser, demo):
    browser.set_window_size(*PHONE)
    found = _walk(
        browser,
        live_server.url,
        [page for page in PAGES if page.name in TREE_PAGES],
        demo,
        lambda driver: {
            "axe": axe_violations(driver),
            "targets": small_tap_targets(driver),
            "overflow": driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            ),
        },
    )
    assert not found, "\n".join(
        f"{page.name} · {url}: overflow {result['overflow']} px, targets {result['targets']}\n"
        + describe_violations(result["axe"])
        for page, url, result in found
    )


def test_the_page_list_covers_every_role_of_the_demo():
    from demo.cells import DEMO_USERNAMES

    assert {page.role for page in PAGES} == {None, *DEMO_USERNAMES}
    assert len({(page.role, page.name) for page in PAGES}) == len(PAGES)
    assert TREE_PAGES <= {page.name for page in PAGES}
