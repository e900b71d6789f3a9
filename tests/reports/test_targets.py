"""Each dashboard target is one declaration (reports.targets): its counts, its drill-down and its words."""

import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import Count, F, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from meetings.models import Meeting
from reports import counting, drilldown, figures, tables
from reports import targets as registry
from reports import warnings as report_warnings
from reports.periods import Period
from reports.targets import targets


def test_every_target_declares_its_numerator_denominator_and_drill_down():
    target_list = targets([SimpleNamespace(pk=7, name="Quy chế làm việc")])
    assert len({t.code for t in target_list}) == len(target_list)
    for target in target_list:
        assert target.num and target.den, target.code
        assert target.drill and drilldown.drill_title(
            target.drill, target.drill_params, period=drilldown.Period(2026)
        ), target.code
    document = next(t for t in target_list if t.code == "doc_7")
    assert (document.num, document.den, document.drill_params) == ("doc_7", "cells", {"type": 7})
    assert {t.code: t.pending for t in target_list if t.pending} == {
        "regular_months": "regular_pending",
        "thematic_quarters": "thematic_pending",
        "forum_cells": "forum_pending",
        "visit_quarters": "visits_pending",
    }


# --- a target added in a test: one declaration brings its figure, its drill-down and its warning -------

TRIAL_DRILL = "bien_ban_thu"
TRIAL_WARNING = "bien_ban_chua_thong_qua_thu"


def _trial_counts(*, scope, period, length, today):
    """One grouped query: per group, the held meetings of the year and those whose minutes are adopted."""
    return list(
        Meeting.objects.filter(
            counting._of_cells_in(scope, period),
            state__in=counting.HELD_STATES,
            period_month__gte=period.year_start,
            period_month__lte=period.year_end,
        )
        .order_by()
        .values(grp=counting._group("organisation__path", length))
        .annotate(trial_held=Count("pk"), trial_adopted=Count("pk", filter=Q(state=Meeting.State.MINUTES_ADOPTED)))
    )


def _trial_meetings(scope, period):
    return Meeting.objects.filter(
        counting._of_cells_in(scope, period),
        state__in=counting.HELD_STATES,
        period_month__gte=period.year_start,
        period_month__lte=period.year_end,
    ).select_related("organisation")


TRIAL = registry.Target(
    "bien_ban_thong_qua",
    "Buổi sinh hoạt có biên bản được thông qua",
    "100 %",
    "share",
    "gte",
    100,
    section="Sinh hoạt chi bộ",
    span="year",
    shortfall="%(n)s buổi sinh hoạt chưa thông qua biên bản",
    num="trial_adopted",
    den="trial_held",
    count=_trial_counts,
    drill_down=registry.DrillDown(
        TRIAL_DRILL,
        "Biên bản các buổi sinh hoạt",
        lambda *, scope, period, params, today: _trial_meetings(scope, period).order_by(
            F("state").asc(), "period_month", "organisation__path"
        ),
        ("Buổi sinh hoạt", "Chi bộ", "Biên bản"),
        lambda m: [
            tables.meeting_link(m),
            m.organisation.name,
            "Đã thông qua" if m.state == Meeting.State.MINUTES_ADOPTED else "Chưa thông qua",
        ],
        span="year",
    ),
    early_warning=registry.EarlyWarning(
        TRIAL_WARNING,
        lambda period, today: f"Buổi sinh hoạt đã họp, chưa thông qua biên bản (năm {period.year})",
        lambda *, scope, period, today: (
            _trial_meetings(scope, period).filter(state=Meeting.State.HELD).order_by("period_month", "pk")
        ),
        ("Buổi sinh hoạt", "Chi bộ"),
        lambda m: [tables.meeting_link(m), m.organisation.name],
    ),
)


@pytest.fixture
def trial_target():
    registry.register(TRIAL)
    yield TRIAL
    registry.unregister(TRIAL.code)


def _dashboard(client, scope):
    return client.get(reverse("reports:dashboard", args=[scope.pk]), {"nam": 2026}).content.decode()


def test_a_target_registered_in_a_test_shows_its_figure_records_and_warning(client_for, khoi, trial_target):
    client = client_for(khoi.users["admin"])
    # Held in 2026 (tests/reports/conftest.py): regular and combined meetings 72 - 5 = 67, B1's four
    # thematic meetings, five forums (A3's is a draft): 76, all adopted but A1's December meeting: 75.
    # By TCCS: A 35/36 (A1 12/13 with its forum, A2 13/13, A3 10/10), B 28/28, C 12/12.
    total = {f.target.code: f for f in figures.dashboard(scope=khoi.khoi, period=Period(2026))["total"]}
    figure = total["bien_ban_thong_qua"]
    assert (figure.num, figure.den, figure.display, figure.status) == (75, 76, "98,7 % (75/76)", "failed")
    page = _dashboard(client, khoi.khoi)
    drill = reverse("reports:drill", args=[khoi.khoi.pk, TRIAL_DRILL])
    assert "Buổi sinh hoạt có biên bản được thông qua" in page
    assert f'<a href="{drill}?nam=2026">98,7 % (75/76)</a>' in page
    # The table by organisation: A's cell links to A's records, 35/36 rounded.
    assert re.search(rf'href="{drill}\?nam=2026&amp;org={khoi.a.pk}" title="[^"]*">97%</a>', page)
    # The units needing attention give its shortfall in words.
    assert "1 buổi sinh hoạt chưa thông qua biên bản" in page

    # Its drill-down lists the 76 meetings behind the figure, the one not adopted first; A's part has 36.
    listing = client.get(drill, {"nam": 2026}).content.decode()
    assert "Biên bản các buổi sinh hoạt — năm 2026" in listing and "76 dòng" in listing
    assert listing.index("Chưa thông qua") < listing.index("Đã thông qua")
    december = khoi.regular["A1", 12]  # A1's combined meeting of December: held, minutes not adopted
    assert f"{december.get_kind_display()} 12/2026" in listing
    assert "36 dòng" in client.get(drill, {"nam": 2026, "org": khoi.a.pk}).content.decode()
    records = drilldown.drill_records(TRIAL_DRILL, scope=khoi.khoi, period=Period(2026))
    assert (len(records), records[0].organisation.name, records[0].period_month.month) == (76, "Chi bộ A1", 12)

    # Its warning: one meeting held and not adopted, A1's December meeting, with its list.
    warnings = {w["code"]: w for w in report_warnings.warnings(scope=khoi.khoi, period=Period(2026))}
    assert warnings[TRIAL_WARNING]["count"] == 1
    assert warnings[TRIAL_WARNING]["label"] == "Buổi sinh hoạt đã họp, chưa thông qua biên bản (năm 2026)"
    warning_url = reverse("reports:drill", args=[khoi.khoi.pk, TRIAL_WARNING])
    assert f'href="{warning_url}?nam=2026"' in page
    assert "Buổi sinh hoạt đã họp, chưa thông qua biên bản (năm 2026)" in page
    warned = client.get(warning_url, {"nam": 2026}).content.decode()
    assert "1 dòng" in warned and f"{december.get_kind_display()} 12/2026" in warned and "Chi bộ A1" in warned
    assert client.get(drill, {"nam": 2026, "format": "xlsx"}).status_code == 200

    # Unregistered, all of it is gone: the figure, the drill-downs, the warning.
    registry.unregister(TRIAL.code)
    page = _dashboard(client, khoi.khoi)
    assert "Buổi sinh hoạt có biên bản được thông qua" not in page
    assert "Buổi sinh hoạt đã họp, chưa thông qua biên bản" not in page
    assert client.get(drill, {"nam": 2026}).status_code == 404
    assert client.get(warning_url, {"nam": 2026}).status_code == 404
    assert TRIAL_WARNING not in {w["code"] for w in report_warnings.warnings(scope=khoi.khoi, period=Period(2026))}
    assert "bien_ban_thong_qua" not in {t.code for t in registry.targets([])}


def test_a_registered_target_costs_its_own_grouped_query_and_warning_count_only(client_for, khoi):
    """The dashboard's queries do not depend on the units: a new target adds its one grouped query and its
    warning's one COUNT, whatever the size of the Khối."""
    client = client_for(khoi.users["admin"])
    _dashboard(client, khoi.khoi)
    with CaptureQueriesContext(connection) as before:
        _dashboard(client, khoi.khoi)
    registry.register(TRIAL)
    try:
        with CaptureQueriesContext(connection) as after:
            _dashboard(client, khoi.khoi)
    finally:
        registry.unregister(TRIAL.code)
    assert len(after.captured_queries) == len(before.captured_queries) + 2


def test_every_code_a_target_names_is_registered():
    """A target's drill-down and warning are named by code: a misspelt one fails here, not on a page."""
    target_list = targets([SimpleNamespace(pk=7, name="Quy chế làm việc")])
    assert {t.drill for t in target_list} <= set(registry.DRILLS)
    assert {t.code: t.warning for t in target_list if t.warning} == {
        "regular_months": "no_plan",
        "attendance_meetings": "low_attendance",
        "unexcused": "unexcused",
        "visit_quarters": "no_visit",
    }
    assert {t.warning for t in target_list if t.warning} <= set(registry.WARNINGS)
    # Every warning is its own drill-down, under its code.
    assert set(registry.WARNINGS) <= set(registry.DRILLS)
    assert list(report_warnings.WARNING_CODES) == [
        "no_plan",
        "minutes_overdue",
        "low_attendance",
        "unexcused",
        "overdue_tasks",
        "no_visit",
        "unpaid_dues",
    ]
