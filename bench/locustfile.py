"""The simulated users of the load test (bench/load.py, issue #9 item 7); not run on its own.

bench/load.py writes the plan (accounts, pages, signed RSVP links found in the data) to a JSON file
named by ``PORTAL_LOAD_PLAN``; every request (page, milliseconds, HTTP status, failure) is written to
``PORTAL_LOAD_SAMPLES`` when locust quits, and bench/load.py computes the figures from it. Requests
are named by page, not by URL, so the figures are per page. Think time 1–5 s.

* secretaries log in (a real POST of the login form with its CSRF token) and go over their cell:
  cell page, meeting list, a meeting, the member list with a filter;
* members confirm from the notice on a phone: open the one-click link, press "Tham dự" (a POST with
  the page's CSRF token), see the page again; each round is another member with a fresh cookie jar;
* committee members log in (and pass the second factor with a recovery code) and open the Khối dashboard, a đảng ủy cơ sở dashboard and a drill-down
  link taken from the dashboard they are on.
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import time
from pathlib import Path

from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["PORTAL_LOAD_PLAN"]).read_text())
SAMPLES: list[tuple[str, str, float, int, str]] = []  # method, page, ms, HTTP status (0: no answer), failure
RUN: dict[str, float] = {}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DRILL = re.compile(r'href="(/bao-cao/\d+/chi-tiet/([\w-]+)/[^"]*)"')


@events.test_start.add_listener
def run_started(**_kwargs):
    RUN["started"] = time.time()


@events.test_stop.add_listener
def run_stopped(**_kwargs):
    RUN["stopped"] = time.time()


@events.request.add_listener
def record(request_type, name, response_time, response=None, exception=None, **_kwargs):
    failure = "" if exception is None else str(exception)[:200]
    status = -1 if response is None else response.status_code or 0  # -1: not sent (see post_form)
    SAMPLES.append((request_type, name, round(response_time, 1), status, failure))


@events.quitting.add_listener
def write_samples(**_kwargs):
    Path(os.environ["PORTAL_LOAD_SAMPLES"]).write_text(json.dumps({**RUN, "samples": SAMPLES}, ensure_ascii=False))


def _reason(response) -> str:
    if response.status_code == 0:  # no answer: say why (refused, reset, timed out)
        return f"no answer: {response.error!r}"[:200]
    return f"HTTP {response.status_code}"


class PortalUser(HttpUser):
    abstract = True
    wait_time = between(1, 5)

    def open(self, name: str, url: str, *, expect: int = 200) -> str:
        """GET ``url`` recorded as ``name``; any other status than ``expect`` is a failure."""
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != expect:
                response.failure(_reason(response))
            return response.text or ""

    def post_form(self, name: str, url: str, page: str, data: dict, *, expect: int = 302) -> None:
        """POST ``data`` with the CSRF token of ``page`` (the HTML of the form), as a browser would."""
        token = CSRF.search(page)
        if token is None:  # a failure of the page before it: counted, not sent
            self.environment.events.request.fire(
                request_type="POST",
                name=name,
                response_time=0,
                response_length=0,
                response=None,
                context={},
                exception=RuntimeError("no CSRF token"),
            )
            return
        with self.client.post(
            url,
            data={"csrfmiddlewaretoken": html.unescape(token.group(1)), **data},
            name=name,
            headers={"Referer": self.host + url},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(_reason(response))

    def log_in(self, username: str) -> None:
        page = self.open("login page", PLAN["login"])
        self.post_form(
            "login POST", PLAN["login"], page, {"username": username, "password": PLAN["password"], "next": ""}
        )


class Secretary(PortalUser):
    weight = 4

    def on_start(self):
        self.log_in(PLAN["accounts"]["secretary"])

    @task(2)
    def cell_page(self):
        self.open("cell page", PLAN["cell_page"])

    @task(2)
    def meeting_list(self):
        self.open("meeting list", PLAN["meeting_list"])

    @task(3)
    def meeting(self):
        self.open("meeting page", random.choice(PLAN["meetings"]))

    @task(2)
    def member_list(self):
        self.open("member list (filtered)", random.choice(PLAN["member_lists"]))


class MemberConfirming(PortalUser):
    weight = 4

    @task
    def confirm(self):
        self.client.cookies.clear()  # another member, another phone
        path = random.choice(PLAN["rsvp_paths"])
        page = self.open("RSVP page", path)
        # An open meeting redirects back to the link after the answer; a closed one shows the refusal (200).
        self.post_form(
            "RSVP POST (yes)", path, page, {"answer": "yes", "reason": ""}, expect=302 if PLAN["rsvp_open"] else 200
        )
        self.open("RSVP page", path)


class Committee(PortalUser):
    weight = 2

    def on_start(self):
        self.log_in(PLAN["accounts"]["committee"])
        # An officer's role needs the second factor (issue #21): one recovery code per login, as on the code page.
        page = self.open("second factor page", PLAN["second_factor"])
        self.post_form("second factor POST", PLAN["second_factor"], page, {"token": PLAN["recovery_codes"].pop()})
        self.drills: list[tuple[str, str]] = []

    def dashboard(self, name: str, url: str) -> None:
        page = self.open(name, url)
        self.drills = [
            (html.unescape(href), metric) for href, metric in DRILL.findall(page) if "format=xlsx" not in href
        ] or self.drills

    @task(3)
    def khoi_dashboard(self):
        self.dashboard("Khối dashboard", PLAN["khoi_dashboard"])

    @task(3)
    def tccs_dashboard(self):
        self.dashboard("ĐUCS dashboard", random.choice(PLAN["tccs_dashboards"]))

    @task(4)
    def drill_down(self):
        if not self.drills:
            return self.khoi_dashboard()
        href, metric = random.choice(self.drills)
        self.open(f"drill-down: {metric}", href)

    @task(1)
    def largest_cell(self):
        self.open("cell page (largest cell)", PLAN["big_cell_page"])
