"""Benchmark harness (issue #8): page and report timings at province or large scale, against the floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/run.py --scale province \\
        --json bench/results-province.json
    DATABASE_URL=... .venv/bin/python bench/run.py --scale large --baseline bench/results-province.json \\
        --json bench/results-large.json

The server of DATABASE_URL is used, with a dedicated database ``bench_<scale>`` (created and migrated
if missing, the data built if not there). Every page is requested through the full Django stack with
the test client; each figure is the median and 95th percentile over ``--repeat`` requests after
``--warmup`` unmeasured ones, and the SQL query count of one further request. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PAGE_TARGET_MS = 150.0
ANNUAL_REPORT_TARGET_S = 10.0
PDF_TARGET_S = 1.0
FLOOR_FACTOR = 3.0  # "within 3x" the floor (RSVP page, annual report) and the province dashboard


# --- results -------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    kind: str  # page | task | floor
    samples_ms: list[float] = field(default_factory=list, repr=False)
    queries: int | None = None
    sql_ms: float | None = None  # time spent in the database during the query-counting run
    floor: str | None = None  # the name of the floor this figure is compared to
    target: str = ""
    met: bool | None = None
    note: str = ""
    status: str = "ok"  # ok | not available | error
    url: str = ""

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.samples_ms) if self.samples_ms else None

    @property
    def p95_ms(self) -> float | None:
        if not self.samples_ms:
            return None
        ordered = sorted(self.samples_ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank

    def as_dict(self, floors: dict[str, Result]) -> dict:
        data = asdict(self)
        data.pop("samples_ms")
        data.update(
            median_ms=self.median_ms, p95_ms=self.p95_ms, n=len(self.samples_ms), ratio_to_floor=ratio(self, floors)
        )
        return data


def ratio(result: Result, floors: dict[str, Result]) -> float | None:
    floor = floors.get(result.floor or "")
    if floor is None or not floor.median_ms or result.median_ms is None:
        return None
    return result.median_ms / floor.median_ms


def _time(fn: Callable[[], object], *, repeat: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _sql_ms(queries: list[dict]) -> float:
    return sum(float(q["time"]) for q in queries) * 1000


def _count_queries(fn: Callable[[], object]) -> tuple[int, list[dict]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries), list(captured.captured_queries)


# --- the run -------------------------------------------------------------------------------


class Bench:
    """Measures one data set in the current database. Usable from a test (tiny data, few repeats)."""

    def __init__(
        self,
        *,
        repeat: int = 30,
        warmup: int = 3,
        task_repeat: int = 3,
        reminder_members: int = 1000,
        breakdown: bool = True,
        skip: tuple[str, ...] = (),
        log=print,
    ):
        self.repeat, self.warmup, self.task_repeat = repeat, warmup, task_repeat
        self.breakdown = breakdown  # also time the annual report's PDF and XLSX renderings alone
        self.skip = tuple(skip)  # measurements whose name contains one of these are left out
        self.reminder_members = reminder_members
        self.log = log
        self.results: list[Result] = []
        self.captured: dict[str, list[dict]] = {}

    # -- helpers -------------------------------------------------------------------------------

    def _client(self, user=None):
        from django.test import Client

        client = Client()
        if user is not None:
            client.force_login(user)
            self._pass_second_factor(client, user)
        return client

    @staticmethod
    def _pass_second_factor(client, user):
        """Officers' sessions have passed the second factor (issue #21), as after the code page."""
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from cells.selectors import second_factor_required

        if not second_factor_required(user):
            return
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="bench", confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    def page(
        self,
        name: str,
        url: str | None,
        *,
        user=None,
        floor: str,
        target: str = f"< {PAGE_TARGET_MS:.0f} ms",
        note: str = "",
        urlconf: str | None = None,
        overrides: dict | None = None,
    ) -> Result:
        """GET ``url`` ``repeat`` times as ``user`` (None: anonymous); a non-200 answer is an error.

        ``overrides``: settings changed for this measurement (``DASHBOARD_CACHE_SECONDS=0``: computed)."""
        from django.test import override_settings

        result = Result(name, "page", floor=floor, target=target, note=note, url=url or "")
        self.results.append(result)
        if self._skipped(result):
            return result
        if url is None:
            result.status = "not available"
            return result
        client = self._client(user)

        def get():
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: GET {url} answered {response.status_code}")
            return response

        changed = {**(overrides or {}), **({"ROOT_URLCONF": urlconf} if urlconf else {})}
        try:
            with override_settings(**changed):
                result.samples_ms = _time(get, repeat=self.repeat, warmup=self.warmup)
                result.queries, self.captured[name] = _count_queries(get)
            result.sql_ms = _sql_ms(self.captured[name])
        except Exception as exc:  # report and go on: one broken page must not hide the others
            result.status, result.note = "error", f"{type(exc).__name__}: {exc}"[:300]
        self.log(
            f"  {name}: {_fmt(result.median_ms)} ms median, {result.queries} queries"
            if result.status == "ok"
            else f"  {name}: {result.status} {result.note}"
        )
        return result

    def task(
        self,
        name: str,
        fn: Callable[[], object] | None,
        *,
        floor: str | None,
        target: str = "",
        repeat: int | None = None,
        note: str = "",
        setup: Callable[[], object] | None = None,
        warmup: int = 0,
    ) -> Result:
        """Time ``fn()`` in-process; ``setup()`` (untimed) runs before each call when given."""
        result = Result(name, "task", floor=floor, target=target, note=note)
        self.results.append(result)
        if self._skipped(result):
            return result
        if fn is None:
            result.status = "not available"
            self.log(f"  {name}: not available")
            return result
        try:
            for _ in range(warmup):
                if setup:
                    setup()
                fn()
            samples = []
            for index in range(repeat or self.task_repeat):
                if setup:
                    setup()
                started = time.perf_counter()
                if index == 0:
                    # Tasks run for hundreds of ms or more: recording their few dozen queries costs
                    # nothing measurable, so the first timed run also gives the query count.
                    result.queries, self.captured[name] = _count_queries(fn)
                else:
                    fn()
                samples.append((time.perf_counter() - started) * 1000)
            result.samples_ms = samples
            result.sql_ms = _sql_ms(self.captured[name])
        except Exception as exc:
            result.status, result.note = "error", f"{type(exc).__name__}: {exc}"[:300]
        self.log(
            f"  {name}: {_fmt(result.median_ms)} ms median, {result.queries} queries"
            if result.status == "ok"
            else f"  {name}: {result.status} {result.note}"
        )
        return result

    def _skipped(self, result: Result) -> bool:
        if any(pattern in result.name for pattern in self.skip):
            result.status = "skipped"
            self.log(f"  {result.name}: skipped")
            return True
        return False

    # -- what is measured ----------------------------------------------------------------------------

    def run(self) -> list[Result]:
        subjects = find_subjects()
        self.subjects = subjects
        self.floors()
        self.pages(subjects)
        self.tasks(subjects)
        return self.results

    def floors(self):
        from django.db import connection

        from bench.floor import ATTENDANCE_AGGREGATE_SQL

        subjects = self.subjects
        self.page("floor: bare view, anonymous", "/bench/bare/", floor="", target="", urlconf="bench.floor")
        self.page(
            "floor: bare view, logged in",
            "/bench/bare/",
            user=subjects["viewer"],
            floor="",
            target="",
            urlconf="bench.floor",
        )
        self.page(
            "floor: empty base.html layout, anonymous",
            "/bench/layout/",
            floor="",
            target="",
            urlconf="bench.floor",
            note="informative: the layout every page renders, no content",
        )

        def aggregate():
            with connection.cursor() as cursor:
                cursor.execute(ATTENDANCE_AGGREGATE_SQL)
                return cursor.fetchall()

        self.task(
            "floor: SQL aggregate over all attendance",
            aggregate,
            floor=None,
            repeat=max(5, self.task_repeat),
            note=f"{subjects['attendance_rows']} attendance rows, {subjects['meetings_with_attendance']} meetings",
        )
        for result in self.results:
            result.kind = "floor"
            result.target = ""

    def pages(self, s: dict):
        from django.urls import NoReverseMatch, reverse

        def url(name, *args, query=""):
            try:
                return reverse(name, args=args) + query
            except NoReverseMatch:
                return None

        logged_in = "floor: bare view, logged in"
        self.page("login page", url("login"), floor="floor: bare view, anonymous")
        self.page(
            "Khối dashboard",
            url("reports:dashboard", s["root"].pk),
            user=s["viewer"],
            floor=logged_in,
            note=f"{s['root'].name[:40]}…, committee_viewer",
        )
        self.page(
            "ĐUCS dashboard (largest)",
            url("reports:dashboard", s["big_tccs"].pk),
            user=s["viewer"],
            floor=logged_in,
            note=f"{s['big_tccs_cells']} cells, committee_viewer",
        )
        self.page(
            "ĐUCS dashboard (featured, officer)",
            url("reports:dashboard", s["tccs"].pk),
            user=s["officer"],
            floor=logged_in,
            note=f"{s['tccs_cells']} cells, tccs_officer",
        )
        # The three above are served from the figures' cache after the first request (reports.datacache), as
        # in production while nothing counted changes; the same pages computed every time:
        for name, scope, user in (
            ("Khối dashboard", s["root"], s["viewer"]),
            ("ĐUCS dashboard (largest)", s["big_tccs"], s["viewer"]),
            ("ĐUCS dashboard (featured, officer)", s["tccs"], s["officer"]),
        ):
            self.page(
                f"{name}, computed (no cache)",
                url("reports:dashboard", scope.pk),
                user=user,
                floor=logged_in,
                overrides={"DASHBOARD_CACHE_SECONDS": 0},
                note="DASHBOARD_CACHE_SECONDS=0: after any counted write",
            )
        self.page(
            "cell page (largest cell)",
            url("cells:organisation_detail", s["big_cell"].pk),
            user=s["viewer"],
            floor=logged_in,
            note=f"{s['big_cell_members']} members",
        )
        self.page(
            "cell page (featured cell, secretary)",
            url("cells:organisation_detail", s["cell"].pk),
            user=s["secretary"],
            floor=logged_in,
            note=f"{s['cell_members']} members",
        )
        self.page(
            "meeting page (largest cell)",
            url("meetings:detail", s["big_meeting"].pk) if s["big_meeting"] else None,
            user=s["viewer"],
            floor=logged_in,
            note=f"{s['big_meeting_attendance']} attendance rows",
        )
        self.page(
            "meeting page (featured cell, secretary)",
            url("meetings:detail", s["meeting"].pk) if s["meeting"] else None,
            user=s["secretary"],
            floor=logged_in,
            note=f"{s['meeting_attendance']} attendance rows",
        )
        self.page(
            "member list ?q=Nguyễn&status=chinh_thuc (Khối)",
            url("cells:member_list", query="?q=Nguy%E1%BB%85n&status=chinh_thuc"),
            user=s["viewer"],
            floor=logged_in,
            note=f"{s['members']} members visible, 50 a page",
        )
        self.page(
            "member list ?status=chinh_thuc (own cell, secretary)",
            url("cells:member_list", query="?status=chinh_thuc"),
            user=s["secretary"],
            floor=logged_in,
            note=f"{s['cell_members']} members visible",
        )
        # The search box (issue #15): an unaccented name, a typo (PostgreSQL's trigrams), and one kind paged.
        self.page(
            "search ?q=nguyen van (Khối)",
            url("search", query="?q=nguyen+van"),
            user=s["viewer"],
            floor=logged_in,
            note=f"{s['members']} members visible, 5 of each kind",
        )
        self.page(
            "search ?q=nguyen vna (typo, Khối)",
            url("search", query="?q=nguyen+vna"),
            user=s["viewer"],
            floor=logged_in,
            note="trigram word similarity",
        )
        self.page(
            "search ?q=nguyen&loai=dang-vien page 2 (officer)",
            url("search", query="?q=nguyen&loai=dang-vien&trang=2"),
            user=s["officer"],
            floor=logged_in,
            note="one kind, 20 a page",
        )
        self.page(
            "RSVP one-click page",
            s["rsvp_path"],
            floor="floor: bare view, anonymous",
            target=f"≤ {FLOOR_FACTOR:g}× bare view",
            note=s["rsvp_note"],
        )

    def tasks(self, s: dict):
        from django.db import transaction

        sql_floor = "floor: SQL aggregate over all attendance"
        year = s["report_year"]

        # The annual report of the whole Khối: the Celery task, run in-process (figures, PDF and XLSX).
        try:
            from reports.models import ReportRun
            from reports.services import annual_report_content
            from reports.tasks import report_run_build
        except ImportError:
            ReportRun = report_run_build = annual_report_content = None  # noqa: N806
        runs = []

        def new_run():
            runs.append(ReportRun.objects.create(organisation=s["root"], params={"year": year}))

        def build_run():
            result = report_run_build.apply(args=[runs[-1].pk])
            if result.failed():
                raise RuntimeError(f"report task failed: {result.result!r}")

        self.task(
            f"annual report task, whole Khối, {year} (figures+PDF+XLSX)",
            build_run if report_run_build else None,
            floor=sql_floor,
            target=f"< {ANNUAL_REPORT_TARGET_S:g} s and ≤ {FLOOR_FACTOR:g}× SQL floor",
            setup=new_run,
            note=f"{s['cells']} cells; reports.tasks.report_run_build.apply()",
        )
        for run in runs:  # leave no runs or files behind
            run.refresh_from_db()
            for file in (run.pdf, run.xlsx):
                if file:
                    file.storage.delete(file.name)
            run.delete()
        self.task(
            f"annual report figures only (SQL), {year}",
            (lambda: annual_report_content(scope=s["root"], year=year)) if annual_report_content else None,
            floor=sql_floor,
            target=f"≤ {FLOOR_FACTOR:g}× SQL floor",
            note="reports.services.annual_report_content",
        )

        # Where the task's time goes: the two renderings of the same content.
        try:
            from reports import exports
        except ImportError:
            exports = None
        content = {}

        def compute_content():
            if not content:
                content.update(annual_report_content(scope=s["root"], year=year))

        for part in ("pdf", "xlsx") if self.breakdown else ():
            render = getattr(exports, f"annual_report_{part}", None) if exports and annual_report_content else None
            self.task(
                f"  of which: annual report {part.upper()} render",
                (lambda r=render: r(content)) if render else None,
                floor=sql_floor,
                target="",
                repeat=1 if part == "pdf" else self.task_repeat,
                setup=compute_content,
                note=f"reports.exports.annual_report_{part}, content computed once",
            )

        # The minutes PDF of a held meeting of the largest cell.
        try:
            from meetings.documents import minutes_pdf
        except ImportError:
            minutes_pdf = None
        meeting = s["big_meeting"]
        self.task(
            "minutes PDF (largest cell)",
            (lambda: minutes_pdf(meeting)) if minutes_pdf and meeting else None,
            floor=sql_floor,
            target=f"< {PDF_TARGET_S:g} s",
            repeat=max(5 if self.breakdown else 1, self.task_repeat),
            warmup=1 if self.breakdown else 0,
            note="meetings.documents.minutes_pdf",
        )

        # The reminder fan-out: claim + inbox row + personal RSVP link for N members, rolled back.
        fan_out, members = None, []
        try:
            from meetings import reminders
            from meetings.models import ReminderRule
        except ImportError:
            reminders = None
        if reminders is not None and hasattr(reminders, "_claim_and_send"):
            from cells.models import Member
            from meetings.services import rsvp_url

            rule = ReminderRule.objects.filter(code="rsvp_missing").first()
            members = list(Member.objects.filter(state=Member.State.ACTIVE).order_by("pk")[: self.reminder_members])
            meeting = s["rsvp_meeting"] or s["big_meeting"]
            counter = iter(range(10**9))

            def fan_out():
                reminder = reminders.Reminder(
                    "meeting",
                    meeting.pk,
                    f"bench-{next(counter)}",
                    members,
                    "Nhắc xác nhận tham dự (bench)",
                    "",
                    organisation=meeting.organisation,
                    body_for=lambda member: (
                        f"Kính gửi đồng chí {member.full_name}: {rsvp_url(meeting=meeting, member=member)}"
                    ),
                )
                with transaction.atomic():
                    sent = reminders._claim_and_send(rule, reminder)
                    transaction.set_rollback(True)  # leave the data as it was; no e-mail is queued
                if sent != len(members):
                    raise RuntimeError(f"fan-out sent {sent} of {len(members)}")

            if rule is None:
                fan_out = None
        self.task(
            f"reminder fan-out, {len(members) if fan_out else self.reminder_members} members (in-process)",
            fan_out,
            floor=sql_floor,
            target="(measured; no bar)",
            note="meetings.reminders._claim_and_send: delivery claims + inbox rows, rolled back; "
            "e-mail sending not included",
        )


def find_subjects() -> dict:
    """The organisations, users, meetings and links the measurements use, found in the data."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q
    from django.urls import reverse
    from django.utils import timezone

    from cells.models import Member, Organisation, RoleAssignment
    from meetings.models import Attendance, Meeting
    from meetings.services import rsvp_token

    User = get_user_model()  # noqa: N806
    users = {u.username: u for u in User.objects.filter(username__in=["capuy", "danguy", "bithu", "khoi_admin"])}
    root = Organisation.objects.get(depth=1, kind=Organisation.Kind.KHOI)
    officer_org = RoleAssignment.objects.filter(user=users["danguy"]).values_list("organisation", flat=True).first()
    cell_org = RoleAssignment.objects.filter(user=users["bithu"]).values_list("organisation", flat=True).first()
    tccs = Organisation.objects.get(pk=officer_org)
    cell = Organisation.objects.get(pk=cell_org)
    cells = Organisation.objects.filter(kind__in=Organisation.CELL_KINDS)

    def cells_under(org):
        return cells.filter(path__startswith=org.path).count()

    big_tccs = max(Organisation.objects.filter(kind__in=Organisation.TCCS_KINDS), key=cells_under)
    big_cell = (
        cells.annotate(n=Count("members", filter=Q(members__state=Member.State.ACTIVE))).order_by("-n", "pk").first()
    )
    held = Meeting.objects.filter(state=Meeting.State.MINUTES_ADOPTED, kind__in=Meeting.REGULAR_KINDS)

    def last_held(org):
        return held.filter(organisation=org).order_by("-planned_start").first()

    big_meeting, meeting = last_held(big_cell), last_held(cell)
    # The RSVP link: a notified meeting's unanswered attendance row (the demo's featured cell has one);
    # built from the latest held meeting when the data has none (the page then shows it closed).
    attendance = (
        Attendance.objects.filter(meeting__state=Meeting.State.NOTIFIED, rsvp=Attendance.Rsvp.NONE)
        .select_related("meeting", "member")
        .order_by("pk")
        .first()
    )
    if attendance is not None:
        rsvp_meeting, rsvp_member = attendance.meeting, attendance.member
        rsvp_note = "notified meeting, unanswered row"
    else:
        rsvp_meeting = big_meeting
        rsvp_member = big_meeting.attendances.select_related("member").first().member if big_meeting else None
        rsvp_note = "no notified meeting in the data: link to a held meeting"
    rsvp_path = (
        reverse("meetings:rsvp", args=[rsvp_token(meeting=rsvp_meeting, member=rsvp_member)])
        if rsvp_meeting and rsvp_member
        else None
    )
    today = timezone.localdate()
    return {
        "root": root,
        "tccs": tccs,
        "cell": cell,
        "big_tccs": big_tccs,
        "big_cell": big_cell,
        "viewer": users["capuy"],
        "officer": users["danguy"],
        "secretary": users["bithu"],
        "big_tccs_cells": cells_under(big_tccs),
        "tccs_cells": cells_under(tccs),
        "cells": cells.count(),
        "big_cell_members": big_cell.n,
        "cell_members": Member.objects.filter(organisation=cell, state=Member.State.ACTIVE).count(),
        "members": Member.objects.count(),
        "big_meeting": big_meeting,
        "meeting": meeting,
        "big_meeting_attendance": big_meeting.attendances.count() if big_meeting else 0,
        "meeting_attendance": meeting.attendances.count() if meeting else 0,
        "rsvp_path": rsvp_path,
        "rsvp_note": rsvp_note,
        "rsvp_meeting": rsvp_meeting if attendance is not None else None,
        "report_year": today.year - 1,
        "attendance_rows": Attendance.objects.count(),
        "meetings_with_attendance": Attendance.objects.values("meeting").distinct().count(),
    }


# --- targets -------------------------------------------------------------------------------------


def judge(results: list[Result], *, scale: str, baseline: dict | None) -> None:
    """Fill ``met`` for every figure that has a bar (design §8, issue #8)."""
    floors = {r.name: r for r in results if r.kind == "floor"}
    by_name = {r.name: r for r in results}
    base = {row["name"]: row for row in (baseline or {}).get("results", [])}
    # Pairs of the same page over few and many rows: the query count must not grow with rows shown.
    pairs = [
        ("cell page (largest cell)", "cell page (featured cell, secretary)"),
        ("meeting page (largest cell)", "meeting page (featured cell, secretary)"),
        ("Khối dashboard", "ĐUCS dashboard (largest)"),
        ("ĐUCS dashboard (largest)", "ĐUCS dashboard (featured, officer)"),
        ("member list ?q=Nguyễn&status=chinh_thuc (Khối)", "member list ?status=chinh_thuc (own cell, secretary)"),
    ]
    for result in results:
        if result.status != "ok" or result.kind == "floor":
            continue
        median = result.median_ms
        notes = []
        if result.kind == "page":
            if result.name.startswith("RSVP"):
                r = ratio(result, floors)
                result.met = r is not None and r <= FLOOR_FACTOR
                continue
            met = median < PAGE_TARGET_MS
            for big, small in pairs:
                other = by_name.get(small) if result.name == big else by_name.get(big) if result.name == small else None
                if other and other.queries is not None and result.queries is not None and result.name == big:
                    if result.queries > other.queries:
                        met = False
                        notes.append(f"{result.queries} queries vs {other.queries} on '{other.name}'")
            if result.name in base and base[result.name].get("queries") is not None and scale != base_scale(baseline):
                before = base[result.name]["queries"]
                if result.queries > before:
                    met = False
                    notes.append(f"queries {before} at {base_scale(baseline)} → {result.queries}")
            if "dashboard" in result.name and result.name in base and base[result.name].get("median_ms"):
                factor = median / base[result.name]["median_ms"]
                notes.append(f"{factor:.2f}× its {base_scale(baseline)} time")
                if scale == "large":
                    result.target += f" and ≤ {FLOOR_FACTOR:g}× province"
                    met = met and factor <= FLOOR_FACTOR
            result.met = met
        elif result.name.startswith("annual report task"):
            r = ratio(result, floors)
            result.met = (
                (scale != "province" or median < ANNUAL_REPORT_TARGET_S * 1000) and r is not None and r <= FLOOR_FACTOR
            )
        elif result.name.startswith("annual report figures"):
            r = ratio(result, floors)
            result.met = r is not None and r <= FLOOR_FACTOR
        elif result.name.startswith("minutes PDF"):
            result.met = median < PDF_TARGET_S * 1000
        if notes:
            result.note = "; ".join(filter(None, [result.note, *notes]))


def base_scale(baseline: dict | None) -> str:
    return (baseline or {}).get("scale", "")


# --- output --------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def table(results: list[Result]) -> str:
    floors = {r.name: r for r in results if r.kind == "floor"}
    header = ("name", "median ms", "p95 ms", "queries", "sql ms", "× floor", "target", "met?")
    rows = [header]
    for r in results:
        if r.status != "ok":
            rows.append((r.name, r.status, "", "", "", "", r.target, "ERROR" if r.status == "error" else "—"))
            continue
        x = ratio(r, floors)
        rows.append(
            (
                r.name,
                _fmt(r.median_ms),
                _fmt(r.p95_ms),
                str(r.queries if r.queries is not None else "—"),
                _fmt(r.sql_ms),
                f"{x:.1f}×" if x is not None else "—",
                r.target or "—",
                {True: "yes", False: "NO", None: "—"}[r.met],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {1, 2, 3, 4, 5}
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.rjust(w) if i in right else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  {r.name}: {r.note}" for r in results if r.note]
    return "\n".join(lines + (["", "notes:"] + notes if notes else []))


def explain(bench: Bench, names: list[str], top: int) -> str:
    """EXPLAIN ANALYZE of the ``top`` slowest queries of each named measurement."""
    from django.db import connection

    out = []
    for name in names:
        queries = sorted(bench.captured.get(name, []), key=lambda q: float(q["time"]), reverse=True)[:top]
        for query in queries:
            out.append(f"\n=== {name}: {float(query['time']) * 1000:.1f} ms\n{query['sql'][:1500]}")
            try:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    out.extend(row[0] for row in cursor.fetchall())
            except Exception as exc:
                out.append(f"(EXPLAIN failed: {exc})")
    return "\n".join(out)


# --- command line --------------------------------------------------------------------------------


def parse_args(argv=None):
    from bench.data import SCALES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        choices=[*SCALES, "national"],
        default="province",
        help="national: only monthly rollup rows for 1,000× province, to time their reads (bench/national.py)",
    )
    parser.add_argument("--json", metavar="FILE", help="write the figures to FILE as JSON")
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="JSON of a province run: the large run compares its dashboards and query counts to it",
    )
    parser.add_argument("--database", help="database name on the DATABASE_URL server (default bench_<scale>)")
    parser.add_argument("--repeat", type=int, default=30, help="measured requests per page (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests first (default 3)")
    parser.add_argument("--task-repeat", type=int, default=3, help="runs of each report task (default 3)")
    parser.add_argument("--reminder-members", type=int, default=1000)
    parser.add_argument(
        "--no-breakdown",
        action="store_true",
        help="do not time the annual report's PDF and XLSX renderings on their own",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="TEXT",
        help="leave out the measurements whose name contains TEXT (repeatable)",
    )
    parser.add_argument("--rebuild", action="store_true", help="build the data again even if it is there")
    parser.add_argument("--build-only", action="store_true", help="build the data set and stop")
    parser.add_argument(
        "--explain",
        type=int,
        default=0,
        metavar="N",
        help="print EXPLAIN ANALYZE of the N slowest queries of every page over its bar",
    )
    return parser.parse_args(argv)


def configure(args) -> tuple[str, bool]:
    """Point Django at the benchmark database (created if missing); refuse anything but PostgreSQL."""
    from bench.data import ensure_database, server_and_name

    url = os.environ.get("DATABASE_URL", "")
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(
            "bench/run.py measures PostgreSQL only: set DATABASE_URL to a PostgreSQL server, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/run.py\n"
            f"(got {'nothing' if not url else repr(scheme + '://…')}; SQLite timings would not tell anything "
            "about production). The harness works in its own database, bench_<scale>, on that server."
        )
    server, _name = server_and_name(url)
    name = args.database or f"bench_{args.scale}"
    created = ensure_database(server, name)
    os.environ["DATABASE_URL"] = f"{server}/{name}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.pop("REDIS_URL", None)  # the report task runs in-process
    os.environ.setdefault("MEDIA_ROOT", str(ROOT / "bench" / f".media-{args.scale}"))
    os.environ.setdefault("CONN_MAX_AGE", "0")
    # WhiteNoise warns once that there is no collectstatic output; the harness does not serve static files.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    return f"{server}/{name}", created


def pending_migrations() -> list[str]:
    """The migrations ``migrate`` is about to apply to the current database, as ``app.name``."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def machine_state() -> dict:
    load = os.getloadavg()
    return {
        "load_1m": round(load[0], 2),
        "load_5m": round(load[1], 2),
        "load_15m": round(load[2], 2),
        "cpus": os.cpu_count(),
    }


def ensure_rollups() -> dict | None:
    """The monthly rollups (reports.rollups) of a data set built before them: built once, timed."""
    from django.db import connection

    from reports import rollups
    from reports.models import MonthlyRollup

    if MonthlyRollup.objects.exists():
        return None
    started = time.perf_counter()
    rows = rollups.rebuild_all()
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {MonthlyRollup._meta.db_table}")
    print(f"monthly rollups built: {rows} cell-months in {seconds:.1f} s")
    return {"rows": rows, "seconds": round(seconds, 1)}


def main(argv=None) -> int:
    args = parse_args(argv)
    database_url, created = configure(args)
    if args.scale == "national":
        from bench import national

        return national.run(args)
    from django.core.management import call_command
    from django.db import connection

    from bench import data

    scale = data.SCALES[args.scale]
    print(
        f"bench: scale {scale.name} ({scale.tccs} TCCS, {scale.cells} cells, {scale.members} members, "
        f"{scale.months} months of meetings) on {database_url}{' (created)' if created else ''}"
    )
    print(f"PostgreSQL {connection.cursor().connection.info.server_version}, {machine_state()}")
    started = time.perf_counter()
    pending = pending_migrations()
    call_command("migrate", verbosity=0)
    if pending and not created:
        # A migration that rewrote rows (a backfill) leaves dead row versions; production's autovacuum
        # would clean them and refresh the statistics, this server's may be off.
        print(f"migrate applied {len(pending)} migration(s): {data.vacuum_analyze()}")
    migrate_seconds = time.perf_counter() - started
    record = None if args.rebuild else data.built(scale)
    if record is None:
        print(f"building the data set (migrate took {migrate_seconds:.1f} s) …")
        build = data.build(scale)
        build_info = {
            "built_now": True,
            "seconds": build["seconds"],
            "timings": build["timings"],
            "counts": build["counts"],
        }
        print(f"data built in {build['seconds']:.1f} s: {build['counts']}")
    else:
        build_info = {
            "built_now": False,
            "seconds": record["seconds"],
            "built_at": record["built_at"],
            **record["counts"],
        }
        print(
            f"data already there: built {record['built_at']} in {record['seconds']:.1f} s; "
            f"{record['counts'].get('counts')}"
        )
    rollups_info = ensure_rollups()
    if rollups_info:
        build_info["rollups"] = rollups_info
    if args.build_only:
        return 0

    baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else None
    print(f"measuring ({args.repeat} requests per page after {args.warmup} warm-up, {args.task_repeat} runs per task)…")
    before = machine_state()
    bench = Bench(
        repeat=args.repeat,
        warmup=args.warmup,
        task_repeat=args.task_repeat,
        reminder_members=args.reminder_members,
        breakdown=not args.no_breakdown,
        skip=args.skip,
    )
    results = bench.run()
    judge(results, scale=scale.name, baseline=baseline)
    after = machine_state()
    print()
    print(table(results))
    print(f"\nload average before {before['load_1m']}, after {after['load_1m']} ({after['cpus']} CPUs)")
    if args.explain:
        slow = [r.name for r in results if r.status == "ok" and r.kind == "page" and r.met is False]
        print(explain(bench, slow, args.explain))
    if args.json:
        floors = {r.name: r for r in results if r.kind == "floor"}
        payload = {
            "scale": scale.name,
            "database": database_url.rsplit("/", 1)[-1],
            "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "repeat": args.repeat,
            "warmup": args.warmup,
            "machine_before": before,
            "machine_after": after,
            "build": build_info,
            "results": [r.as_dict(floors) for r in results],
        }
        Path(args.json).write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
