"""The dashboards' cache (reports.datacache): served only while nothing it counts has changed.

Every test here that caches commits its writes (``transactional_db``): the version is raised after a commit,
as in production. The hand-built Khối of tests/reports/conftest.py is read on 15/01/2027, 09:00 local.
"""

import datetime
import re

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cells.models import Organisation
from meetings.models import Attendance, Meeting
from meetings.services import rsvp_token
from reports import datacache
from reports.dashboard import dashboard_parts
from reports.models import DataVersion
from reports.periods import Period
from reports.warnings import minutes_overdue_grows_at

from ..conftest import require_or_skip


def version() -> int:
    return DataVersion.objects.get(pk=1).number


def dashboard_url(organisation) -> str:
    return reverse("reports:dashboard", args=[organisation.pk]) + "?nam=2026"


@pytest.fixture
def version_row(transactional_db):
    """The row the migration makes (a transactional test's flush empties the table before each test)."""
    datacache.bump()
    return DataVersion.objects.get(pk=1)


@pytest.mark.parametrize(
    ("sql", "counted"),
    [
        ('INSERT INTO "meetings_meeting" ("state") VALUES (%s)', True),
        ('UPDATE "meetings_meeting" SET "state" = %s', True),
        ('DELETE FROM "meetings_attendance" WHERE "id" = %s', True),
        ("UPDATE meetings_meeting m SET attendance_base = 0", True),  # raw SQL, unquoted
        ('TRUNCATE "cells_organisation", "meetings_meeting"', True),
        ("WITH moved AS (UPDATE cells_organisation SET depth = 2 RETURNING id) SELECT count(*) FROM moved", True),
        ("WITH recent AS (SELECT 1) SELECT * FROM recent", False),
        ('SELECT "meetings_meeting"."id" FROM "meetings_meeting"', False),
        ('UPDATE "django_session" SET "expire_date" = %s', False),
        ('INSERT INTO "cells_auditentry" ("action") VALUES (%s)', False),
        ('UPDATE "reports_reportrun" SET "heartbeat_at" = %s', False),
        ('SAVEPOINT "s1_x1"', False),
    ],
)
def test_which_statements_count_as_a_change_of_the_figures(sql, counted):
    assert datacache.counted_write(sql) is counted


def test_a_committed_write_raises_the_version_once_and_a_rolled_back_one_not_at_all(version_row, khoi):
    start = version()
    with transaction.atomic():
        Organisation.objects.filter(pk=khoi.a.pk).update(name="Đảng bộ A (mới)")  # .update(): no signal
        Organisation.objects.filter(pk=khoi.b.pk).update(name="Đảng bộ B (mới)")
        assert version() == start  # not before the commit
        assert datacache.pending()
    assert version() == start + 1  # once for the transaction
    assert not datacache.pending()

    with pytest.raises(RuntimeError), transaction.atomic():
        Organisation.objects.filter(pk=khoi.a.pk).update(name="Đảng bộ A (bỏ)")
        raise RuntimeError
    assert version() == start + 1

    with connection.cursor() as cursor:  # raw SQL in autocommit: raised at once
        cursor.execute("UPDATE cells_organisation SET name = %s WHERE id = %s", ["Đảng bộ B (thô)", khoi.b.pk])
    assert version() == start + 2


def test_a_write_undone_with_its_savepoint_raises_nothing_and_one_kept_raises_once(version_row, khoi):
    start = version()
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint
            Organisation.objects.filter(pk=khoi.a.pk).update(name="Đảng bộ A (bỏ)")
            raise RuntimeError
        assert not datacache.pending()
    assert version() == start

    with transaction.atomic():
        Organisation.objects.filter(pk=khoi.a.pk).update(name="Đảng bộ A (giữ)")
        with pytest.raises(RuntimeError), transaction.atomic():
            Organisation.objects.filter(pk=khoi.b.pk).update(name="Đảng bộ B (bỏ)")
            raise RuntimeError
        assert datacache.pending()
        Organisation.objects.filter(pk=khoi.b.pk).update(name="Đảng bộ B (giữ)")
    assert version() == start + 1


def test_a_request_that_writes_raises_the_version_after_its_work(version_row, khoi, client):
    now = timezone.now()
    cell, members = khoi.cells["A1"], khoi.members["A1"]
    meeting = Meeting.objects.create(
        organisation=cell,
        kind=Meeting.Kind.REGULAR,
        period_month=datetime.date(2027, 1, 1),
        state=Meeting.State.NOTIFIED,
        planned_start=now + datetime.timedelta(days=10),
        planned_end=now + datetime.timedelta(days=10, hours=2),
        notice_sent_at=now,
    )
    Attendance.objects.bulk_create([Attendance(meeting=meeting, member=member) for member in members])
    start = version()
    url = reverse("meetings:rsvp", args=[rsvp_token(meeting=meeting, member=members[0])])
    with CaptureQueriesContext(connection) as answered:
        assert client.post(url, {"answer": "yes", "reason": ""}).status_code == 302
    statements = [q["sql"] for q in answered.captured_queries]
    assert any(datacache.counted_write(sql) for sql in statements)
    assert datacache.TABLE in statements[-1]  # raised after everything the request did
    assert version() == start + 1
    assert Attendance.objects.get(meeting=meeting, member=members[0]).rsvp == Attendance.Rsvp.YES


def test_in_a_request_many_commits_raise_the_version_once_when_it_ends(version_row, khoi):
    start = version()
    request_started.send(sender=None)
    Organisation.objects.filter(pk=khoi.a.pk).update(name="Đảng bộ A (1)")  # autocommit
    with transaction.atomic():
        Organisation.objects.filter(pk=khoi.b.pk).update(name="Đảng bộ B (2)")
    assert version() == start and datacache.pending()  # the request's own page reads afresh
    request_finished.send(sender=None)
    assert version() == start + 1 and not datacache.pending()


def test_writes_no_figure_reads_leave_the_version_alone(version_row, khoi):
    start = version()
    Session.objects.create(session_key="k" * 32, session_data="", expire_date=timezone.now())
    assert version() == start
    khoi.users["admin"].save()  # the user row is counted: only the listed tables are not
    assert version() == start + 1


def test_the_page_is_served_from_the_cache_until_a_write_then_shows_the_write(
    version_row, khoi, client_for, django_assert_max_num_queries
):
    client = client_for(khoi.users["admin"])
    with CaptureQueriesContext(connection) as first:
        page = client.get(dashboard_url(khoi.khoi)).content.decode()
    assert "93,1 % (67/72)" in page and "Đảng bộ A" in page
    with CaptureQueriesContext(connection) as second:
        cached = client.get(dashboard_url(khoi.khoi)).content.decode()
    assert "93,1 % (67/72)" in cached
    assert len(second.captured_queries) < len(first.captured_queries) - 10  # the figures were not computed
    # The same page, but for the parts built per request (the CSRF token of the menu's forms).
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", cached) == strip.sub("", page)

    # A write the ORM sends no signal for (.update()) is seen at the next page.
    Organisation.objects.filter(pk=khoi.a.pk).update(name="Đảng bộ A đổi tên")
    changed = client.get(dashboard_url(khoi.khoi)).content.decode()
    assert "Đảng bộ A đổi tên" in changed

    # A regular meeting of A1 in January cancelled through the ORM (the rollups follow): 66 of 72 cell-months.
    january = Meeting.objects.get(
        organisation__name="Chi bộ A1", kind=Meeting.Kind.REGULAR, period_month__year=2026, period_month__month=1
    )
    january.state = Meeting.State.CANCELLED
    january.save()
    assert "91,7 % (66/72)" in client.get(dashboard_url(khoi.khoi)).content.decode()


def test_a_writer_with_an_uncommitted_change_reads_afresh(version_row, khoi):
    period = Period(2026)
    today = timezone.localdate()
    dashboard_parts(scope=khoi.khoi, period=period, today=today)  # cached
    with transaction.atomic():
        Organisation.objects.filter(pk=khoi.a.pk).update(name="Đảng bộ A trong giao dịch")
        parts = dashboard_parts(scope=khoi.khoi, period=period, today=today)
        assert "Đảng bộ A trong giao dịch" in parts["figures"]
    assert "Đảng bộ A trong giao dịch" in dashboard_parts(scope=khoi.khoi, period=period, today=today)["figures"]


def test_the_next_local_day_is_computed_afresh(version_row, khoi, time_machine):
    period = Period(2026)
    time_machine.move_to("2027-01-15 23:59:30 +07:00", tick=False)
    dashboard_parts(scope=khoi.khoi, period=period, today=timezone.localdate())
    with CaptureQueriesContext(connection) as same_day:
        dashboard_parts(scope=khoi.khoi, period=period, today=timezone.localdate())
    time_machine.move_to("2027-01-16 00:00:30 +07:00", tick=False)  # 16/01 local, still 15/01 in UTC
    with CaptureQueriesContext(connection) as next_day:
        dashboard_parts(scope=khoi.khoi, period=period, today=timezone.localdate())
    assert len(same_day.captured_queries) == 1  # the version only
    assert len(next_day.captured_queries) > 10


def test_an_entry_lives_at_most_the_set_seconds(version_row, khoi, time_machine, settings):
    settings.DASHBOARD_CACHE_SECONDS = 60
    period = Period(2026)
    dashboard_parts(scope=khoi.khoi, period=period, today=timezone.localdate())
    time_machine.move_to("2027-01-15 09:01:01 +07:00", tick=False)
    with CaptureQueriesContext(connection) as later:
        dashboard_parts(scope=khoi.khoi, period=period, today=timezone.localdate())
    assert len(later.captured_queries) > 10


def test_an_entry_is_not_kept_past_the_moment_a_meeting_s_minutes_fall_overdue(version_row, khoi, time_machine):
    """15/01/2027 09:00 local: A1's January meeting ended 13/01 at 09:00:30, so its minutes fall due
    (MINUTES_DUE, 2 days) at 15/01 09:00:30 — 30 s from now, well inside the cache's 60 s."""
    now = timezone.now()
    ended = now - datetime.timedelta(days=2) + datetime.timedelta(seconds=30)
    Meeting.objects.create(
        organisation=khoi.cells["A1"],
        kind=Meeting.Kind.REGULAR,
        period_month=datetime.date(2027, 1, 1),
        state=Meeting.State.HELD,
        planned_start=ended - datetime.timedelta(hours=2),
        planned_end=ended,
        actual_start=ended - datetime.timedelta(hours=2),
        actual_end=ended,
    )
    period = Period(2027)
    assert minutes_overdue_grows_at(scope=khoi.khoi, period=period, now=now) == ended + datetime.timedelta(days=2)
    before = dashboard_parts(scope=khoi.khoi, period=period, today=timezone.localdate())
    time_machine.move_to("2027-01-15 09:00:20 +07:00", tick=False)
    with CaptureQueriesContext(connection) as still_cached:
        assert dashboard_parts(scope=khoi.khoi, period=period, today=timezone.localdate()) == before
    assert len(still_cached.captured_queries) == 1
    time_machine.move_to("2027-01-15 09:00:31 +07:00", tick=False)
    after = dashboard_parts(scope=khoi.khoi, period=period, today=timezone.localdate())
    assert after != before  # the warning counts the meeting now
    assert minutes_overdue_grows_at(scope=khoi.khoi, period=period, now=timezone.now()) is None


def test_no_dashboard_reads_a_table_whose_writes_are_not_counted(khoi, client_for):
    """The tables left out of the version (UNCOUNTED_TABLES) are read by none of the cached parts."""
    period = Period(2026)
    read = set()
    for scope in (khoi.khoi, khoi.a, khoi.b):
        with CaptureQueriesContext(connection) as captured:
            dashboard_parts(scope=scope, period=period, today=timezone.localdate())
        for query in captured.captured_queries:
            read |= set(re.findall(r'(?:FROM|JOIN)\s+"?(\w+)"?', query["sql"]))
    assert {"meetings_meeting", "reports_monthlyrollup", "cells_organisation"} <= read  # the capture works
    assert read & datacache.UNCOUNTED_TABLES <= {datacache.TABLE}


def test_the_shared_redis_cache_serves_the_page_and_a_dead_one_costs_only_time(version_row, khoi, settings):
    require_or_skip(bool(settings.REDIS_URL), "REDIS_URL is not set: no Redis to cache in")
    period = Period(2026)
    today = timezone.localdate()
    redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": settings.REDIS_URL,
        "KEY_PREFIX": f"test-figures-{version_row.token}",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    settings.CACHES = {**settings.CACHES, "figures": redis}
    assert "RedisCache" in type(caches["figures"]).__name__
    fresh = dashboard_parts(scope=khoi.khoi, period=period, today=today)
    with CaptureQueriesContext(connection) as again:
        assert dashboard_parts(scope=khoi.khoi, period=period, today=today) == fresh
    assert len(again.captured_queries) == 1  # the version; the parts came from Redis
    settings.CACHES = {**settings.CACHES, "figures": {**redis, "LOCATION": "redis://127.0.0.1:1/0"}}
    assert dashboard_parts(scope=khoi.khoi, period=period, today=today) == fresh
