"""Periods in progress and one definition per indicator (issue #13), on a Khối built around "now".

A đảng bộ with four cells, read on many days of the year (a clock sweep, with time-machine):

    H  held this month's regular meeting (combined with a thematic part, an upper-level guest, a forum)
    P  noticed this month's meeting on the 1st, for the 28th
    D  has a draft for this month, never noticed
    U  has nothing this month; it missed last month's meeting, and last quarter its only guest came to
       its chi ủy meeting (not a visit; its thematic meeting that quarter had no guest)

Every earlier month of the year: a held, adopted regular meeting in every cell but U's last month;
every ended quarter of the year: a thematic meeting in every cell, with an upper-level guest but in U's
last quarter. Before the planning deadline (the 25th) the three cells without a held meeting are pending;
after it, D and U have failed the month and P (noticed in time) is still pending.
"""

import datetime
import zoneinfo
from types import SimpleNamespace

import pytest
import time_machine

from cells.models import Organisation, Position, Role
from lib import dates
from meetings import indicators, reminders
from meetings.models import Attendance, Meeting, ReminderRule
from meetings.services import attendance_counts_refresh
from reports import dashboard, drilldown, services
from reports import figures as report_figures
from reports import warnings as report_warnings
from reports.periods import Period
from scoring import selectors as scoring_selectors

from ..factories import UserFactory, grant, make_member, make_organisation

TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
P = Attendance.Presence

# The days of the sweep (issue #13), at 23:30 and just after midnight in Asia/Ho_Chi_Minh, where the
# UTC date is still the day before.
MOMENTS = [
    "2027-01-01 00:30",
    "2027-01-01 23:30",
    "2027-01-31 23:30",
    "2028-02-29 23:30",
    "2027-03-01 00:30",
    "2027-06-25 23:30",
    "2027-06-26 00:30",
    "2027-09-30 23:30",
    "2027-10-01 00:30",
    "2026-12-02 23:30",
    "2026-12-31 23:30",
]


def moment(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=TZ)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _meeting(
    cell,
    month,
    *,
    kind=Meeting.Kind.REGULAR,
    state=Meeting.State.MINUTES_ADOPTED,
    start=None,
    notice=None,
    members=(),
    guests=(),
):
    start = start or at(month.replace(day=10), 8)
    held = state in indicators.HELD_STATES
    meeting = Meeting.objects.create(
        organisation=cell,
        kind=kind,
        period_month=month,
        state=state,
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        notice_sent_at=notice,
        actual_start=start if held else None,
        actual_end=start + datetime.timedelta(hours=2) if held else None,
        adopted_at=start + datetime.timedelta(hours=3) if state == Meeting.State.MINUTES_ADOPTED else None,
    )
    if held:
        Attendance.objects.bulk_create([Attendance(meeting=meeting, member=m, presence=P.PRESENT) for m in members])
        attendance_counts_refresh(meetings=[meeting.pk])
    if guests:
        meeting.upper_guests.set(guests)
    return meeting


def build(now: datetime.datetime) -> SimpleNamespace:
    today = now.astimezone(TZ).date()
    month = today.replace(day=1)
    quarter = dates.quarter_start(today)
    khoi = make_organisation(kind=Organisation.Kind.KHOI, name="Khối quét lịch", short_code="ĐUK")
    tccs = make_organisation(parent=khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ quét lịch")
    cells = {name: make_organisation(parent=tccs, name=f"Chi bộ {name}") for name in "HPDU"}
    members = {
        name: [make_member(organisation=cell, full_name=f"Đảng viên {name}-{i}") for i in range(3)]
        for name, cell in cells.items()
    }
    supervisor = make_member(organisation=cells["H"], full_name="Đảng ủy viên phụ trách")
    for name, cell in cells.items():
        Position.objects.create(
            member=members[name][0], organisation=cell, kind=Position.Kind.SECRETARY, start=datetime.date(2020, 1, 1)
        )
        Position.objects.create(
            member=supervisor, organisation=cell, kind=Position.Kind.SUPERVISOR, start=datetime.date(2020, 1, 1)
        )
    previous_month = dates.add_months(month, -1)
    previous_quarter = dates.add_months(quarter, -3)
    # Earlier months and quarters of the history (the year before included, for January's reads).
    first = datetime.date(today.year - 1, 1, 1)
    for name, cell in cells.items():
        current = first
        while current < month:
            if not (name == "U" and current == previous_month):
                _meeting(cell, current, members=members[name])
            current = dates.add_months(current, 1)
        current = first
        while current < quarter:
            guests = [supervisor]
            if name == "U" and current == previous_quarter:
                guests = []
                _meeting(
                    cell,
                    current,
                    kind=Meeting.Kind.COMMITTEE,
                    members=members[name][:2],
                    guests=[supervisor],
                    start=at(current.replace(day=5), 8),
                )
            _meeting(
                cell,
                current,
                kind=Meeting.Kind.THEMATIC,
                members=members[name],
                guests=guests,
                start=at(current.replace(day=20), 14),
            )
            current = dates.add_months(current, 3)
    # This month. H held it just before now (at least one minute into the month), combined with a
    # thematic part, with the supervisor, and held a forum too.
    held_at = max(now - datetime.timedelta(hours=1), at(month, 0, 1))
    h = _meeting(
        cells["H"],
        month,
        kind=Meeting.Kind.COMBINED,
        state=Meeting.State.HELD,
        start=held_at,
        notice=held_at - datetime.timedelta(minutes=1),
        members=members["H"],
        guests=[supervisor],
    )
    _meeting(cells["H"], month, kind=Meeting.Kind.FORUM, state=Meeting.State.HELD, start=held_at, members=members["H"])
    notice = min(at(month, 1), now - datetime.timedelta(minutes=1))
    _meeting(cells["P"], month, state=Meeting.State.NOTIFIED, start=at(month.replace(day=28), 14), notice=notice)
    _meeting(cells["D"], month, state=Meeting.State.DRAFT, start=at(month.replace(day=28), 14))
    # P's meeting of last month is held, its minutes not adopted: overdue.
    Meeting.objects.filter(organisation=cells["P"], period_month=previous_month, kind=Meeting.Kind.REGULAR).update(
        state=Meeting.State.HELD, adopted_at=None
    )
    officer = UserFactory(username="can-bo-quet-lich")
    grant(officer, tccs, Role.TCCS_OFFICER)
    return SimpleNamespace(
        today=today,
        month=month,
        quarter=quarter,
        khoi=khoi,
        tccs=tccs,
        cells=cells,
        previous_month=previous_month,
        previous_quarter=previous_quarter,
        h=h,
        officer=officer,
        after_deadline=today.day > indicators.PLANNING_DEADLINE_DAY,
    )


def by_code(figures):
    return {figure.target.code: figure for figure in figures}


@pytest.fixture
def rules(db):
    import importlib

    from django.apps import apps

    importlib.import_module("meetings.migrations.0003_reminder_rules_seed").seed(apps, None)
    importlib.import_module("meetings.migrations.0008_reminder_params_from_indicators").forward(apps, None)


def reminder_objects(code: str, now: datetime.datetime) -> set[int]:
    rule = ReminderRule.objects.get(code=code)
    today = now.astimezone(TZ).date()
    return {r.object_id for r in reminders.RULES[code](rule, today=today, now=now)}


@pytest.mark.django_db
@pytest.mark.parametrize("text", MOMENTS)
def test_every_place_agrees_on_every_day(text, rules):
    now = moment(text)
    with time_machine.travel(now, tick=False):
        k = build(now)
        today = k.today
        names = {cell.pk: name for name, cell in k.cells.items()}
        month_period = Period(today.year, month=today.month)
        year_period = Period(today.year)
        # The dashboards read "today" themselves: the local date, not the UTC one.
        page = dashboard.dashboard_page(user=k.officer, scope=k.tccs, period=month_period)
        assert page["today"] == today

        # 1. This month's regular meeting: H met; before the 25th P, D and U pending; after it D and U
        # failed (no plan by the deadline) and P, noticed on the 1st, still pending.
        failed_now = 2 if k.after_deadline else 0
        regular = by_code(page["total"])["regular_months"]
        assert (regular.num, regular.den, regular.pending) == (1, 1 + failed_now, 3 - failed_now), text
        assert regular.status == ("failed" if failed_now else "in_progress")
        slots = {names[row["cell"].pk]: row["slots"][0]["status"] for row in page["heat"]["rows"]}
        assert slots == (
            {"H": "held", "P": "planned", "D": "late", "U": "late"}
            if k.after_deadline
            else {"H": "held", "P": "planned", "D": "draft", "U": "unplanned"}
        ), text
        assert sum(indicators.MONTH_STATUS_UNIT[s] == "failed" for s in slots.values()) == regular.den - regular.num
        assert sum(indicators.MONTH_STATUS_UNIT[s] == "in_progress" for s in slots.values()) == regular.pending
        drill = {
            names[c.pk]: (c.done, c.required, c.pending)
            for c in drilldown.drill_records("regular", scope=k.tccs, period=month_period)
        }
        assert sum(v[0] for v in drill.values()) == regular.num
        assert sum(v[1] for v in drill.values()) == regular.den
        assert sum(v[2] for v in drill.values()) == regular.pending

        # 2. Planned by the deadline: the warning, its drill-down and the reminder name the same cells.
        warnings = {w["code"]: w for w in page["warnings"]}
        not_planned = {
            names[c.pk] for c in report_warnings.warning_records("no_plan", scope=k.tccs, period=month_period)
        }
        assert not_planned == {"D", "U"}
        assert warnings["no_plan"]["count"] == 2
        assert f"{today.month:02d}/{today.year}" in warnings["no_plan"]["label"]
        assert f"25/{today.month:02d}/{today.year}" in warnings["no_plan"]["label"]
        reminded = {names[pk] for pk in reminder_objects("regular_meeting_unplanned", now) if pk in names}
        assert reminded == ({"D", "U"} if today.day >= indicators.PLANNING_DEADLINE_DAY else set())

        # 3. The year: the months ended so far are due; U's missed month (from February on) fails it.
        year = by_code(dashboard.dashboard_page(user=k.officer, scope=k.tccs, period=year_period)["total"])
        ended = today.month - 1
        missed = 1 if today.month > 1 else 0
        figure = year["regular_months"]
        assert (figure.num, figure.den, figure.pending) == (
            4 * ended - missed + 1,
            4 * ended + 1 + failed_now,
            3 - failed_now,
        ), text
        assert figure.status == ("failed" if missed or failed_now else "in_progress")

        # 4. Thematic meeting and upper-level visit in the quarter: H met this quarter, the others are
        # pending; in the year's ended quarters U missed the last one (its guest came to the chi ủy only).
        ended_quarters = (k.quarter.month - 1) // 3
        missed_quarter = 1 if ended_quarters else 0
        for code, missing in (("thematic_quarters", 0), ("visit_quarters", missed_quarter)):
            figure = year[code]
            assert (figure.num, figure.den, figure.pending) == (
                4 * ended_quarters - missing + 1,
                4 * ended_quarters + 1,
                3,
            ), (code, text)
            assert figure.status == ("failed" if missing else "in_progress"), (code, text)
        without_visit = {names[c.pk] for c in indicators.cells_without_visit(quarter=k.quarter, within=k.tccs)}
        assert without_visit == {"P", "D", "U"}
        assert {
            names[c.pk] for c in report_warnings.warning_records("no_visit", scope=k.tccs, period=year_period)
        } == without_visit
        supervision = {
            names[c.pk] for c in scoring_selectors.cells_without_upper_visit(user=k.officer, start=k.quarter)
        }
        assert supervision == without_visit
        reminded = {names[pk] for pk in reminder_objects("supervisor_no_visit", now) if pk in names}
        assert reminded == (without_visit if today.month % 3 == 0 else set())
        if ended_quarters:
            last = indicators.cells_without_visit(quarter=k.previous_quarter, within=k.tccs)
            assert {names[c.pk] for c in last} == {"U"}  # a chi ủy meeting with a guest is not a visit

        # 5. Forum in the year: H held one; the others are pending until the year ends, not failed.
        forum = year["forum_cells"]
        assert (forum.num, forum.den, forum.pending, forum.status) == (1, 1, 3, "in_progress")

        # 6. Minutes overdue: P's last-month meeting, everywhere; H's meeting of an hour ago is in time.
        overdue = {m.pk for m in indicators.minutes_overdue(now=now).filter(organisation__parent=k.tccs)}
        last_month = Meeting.objects.get(
            organisation=k.cells["P"], period_month=k.previous_month, kind=Meeting.Kind.REGULAR
        )
        # P's meeting of this month (the 28th, 14:00–16:00) counts too once two days have passed since its
        # planned end without it being recorded as held.
        this_month = Meeting.objects.get(organisation=k.cells["P"], period_month=k.month)
        late = {this_month.pk} if now > this_month.planned_end + indicators.MINUTES_DUE else set()
        assert overdue == {last_month.pk} | late
        assert reminder_objects("minutes_not_adopted", now) >= overdue
        assert k.h.pk not in reminder_objects("minutes_not_adopted", now)
        assert indicators.minutes_adopted_in_time(last_month, now=now) is False
        assert indicators.minutes_adopted_in_time(k.h, now=now) is None
        assert scoring_selectors.meeting_facts(last_month)["minutes_adopted_in_time"]["value"] == 0
        assert scoring_selectors.meeting_facts(k.h)["minutes_adopted_in_time"]["value"] is None
        previous_period = Period(k.previous_month.year, month=k.previous_month.month)
        assert {
            m.pk for m in report_warnings.warning_records("minutes_overdue", scope=k.tccs, period=previous_period)
        } == {last_month.pk}
        assert {
            m.pk for m in report_warnings.warning_records("minutes_overdue", scope=k.tccs, period=month_period)
        } == late

        # 7. The annual report says where the year stands, on the same figures.
        content = services.annual_report_content(scope=k.tccs, year=today.year)
        assert content["year_open"] is True
        assert [f.status for f in content["total"]] == [f.status for f in year.values()]
        assert content["met_count"] + content["failed_count"] + content["in_progress_count"] == content["judged_count"]
        assert "tính đến ngày" in content["as_of"]


@pytest.mark.django_db
def test_the_month_filter_of_the_issue_reads_planned_not_failed(rules):
    """02/12/2026 with "Tháng 12": one cell met, three planned later in the month — not "20,0 % (1/5)"."""
    now = moment("2026-12-02 10:00")
    with time_machine.travel(now, tick=False):
        k = build(now)
        page = dashboard.dashboard_page(user=k.officer, scope=k.tccs, period=Period(2026, month=12))
        regular = by_code(page["total"])["regular_months"]
        assert regular.display == "100,0 % (1/1)"
        assert regular.pending_display == "3 chi bộ-tháng đang thực hiện"
        assert (regular.status, regular.status_label) == ("in_progress", "Đang thực hiện")
        assert page["attention"] == []  # nothing has failed this month yet
        assert page["as_of"] == "tháng 12/2026, tính đến ngày 02/12/2026"
    later = moment("2026-12-26 08:00")
    with time_machine.travel(later, tick=False):
        page = dashboard.dashboard_page(user=k.officer, scope=k.tccs, period=Period(2026, month=12))
        regular = by_code(page["total"])["regular_months"]
        assert (regular.display, regular.status) == ("33,3 % (1/3)", "failed")
        # The đảng bộ's cells needing attention, by name, with the reason in words.
        attention = {item["organisation"].name: item["reasons"] for item in page["attention"]}
        assert attention["Chi bộ D"][0] == "1 chi bộ-tháng không sinh hoạt thường kỳ"
        assert set(attention) == {"Chi bộ D", "Chi bộ U"}
    after = moment("2027-01-01 00:30")
    with time_machine.travel(after, tick=False):
        # December has ended: P's meeting was never recorded as held, so December failed for it too.
        page = dashboard.dashboard_page(user=k.officer, scope=k.tccs, period=Period(2026, month=12))
        regular = by_code(page["total"])["regular_months"]
        assert (regular.num, regular.den, regular.pending, regular.status) == (1, 4, 0, "failed")
        assert page["as_of"] == "tháng 12/2026"


@pytest.mark.django_db
def test_attendance_at_exactly_85_percent_does_not_meet_the_target_anywhere(rules):
    """17 of 20 members due is 85 %: not "trên 85 %" — the figure, the warning and the score evidence agree."""
    now = moment("2027-01-15 09:00")
    with time_machine.travel(now, tick=False):
        khoi = make_organisation(kind=Organisation.Kind.KHOI, name="Khối 85")
        cell = make_organisation(parent=khoi, kind=Organisation.Kind.CHI_BO_CO_SO, name="Chi bộ 85")
        members = [make_member(organisation=cell) for _ in range(22)]
        meeting = _meeting(cell, datetime.date(2026, 11, 1), state=Meeting.State.HELD)
        presence = [P.PRESENT] * 16 + [P.LATE] + [P.ABSENT_EXCUSED] * 3 + [P.EXEMPT, P.ATTACHED_ELSEWHERE]
        Attendance.objects.bulk_create(
            [Attendance(meeting=meeting, member=m, presence=p) for m, p in zip(members, presence, strict=True)]
        )
        attendance_counts_refresh(meetings=[meeting.pk])
        meeting.refresh_from_db()
        assert (meeting.attendance_present, meeting.attendance_base) == (17, 20)
        assert not indicators.attendance_meets_target(17, 20) and indicators.attendance_meets_target(18, 20)
        period = Period(2026, month=11)
        figures = by_code(report_figures.dashboard(scope=khoi, period=period)["total"])
        assert (figures["attendance_meetings"].num, figures["attendance_meetings"].den) == (0, 1)
        assert figures["attendance_meetings"].status == "failed"
        assert [m.pk for m in report_warnings.warning_records("low_attendance", scope=khoi, period=period)] == [
            meeting.pk
        ]
        counts = {w["code"]: w["count"] for w in report_warnings.warnings(scope=khoi, period=period)}
        assert counts["low_attendance"] == 1
        assert scoring_selectors.meeting_facts(meeting)["attendance_percent"]["value"] == 85
