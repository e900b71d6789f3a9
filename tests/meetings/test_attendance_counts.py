"""The attendance counts stored on the meeting: after every write of attendance rows they equal a recount
of the rows (present or late / everyone but the exempt and those attached elsewhere / unexcused)."""

import datetime
import importlib
from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q

from cells.services import member_exempt
from meetings import services
from meetings.models import Attendance, Meeting, Resolution
from tests.factories import make_member

from .conftest import hold, plan

pytestmark = pytest.mark.django_db

P = Attendance.Presence
FIELDS = ("attendance_present", "attendance_base", "attendance_unexcused")


def recounted(meetings=None) -> dict[int, tuple[int, int, int]]:
    """Every meeting's three counts, counted again from its attendance rows."""
    rows = (
        (meetings if meetings is not None else Meeting.objects.all())
        .annotate(
            present=Count("attendances", filter=Q(attendances__presence__in=Attendance.PRESENT_VALUES)),
            base=Count("attendances", filter=~Q(attendances__presence__in=[P.EXEMPT, P.ATTACHED_ELSEWHERE])),
            unexcused=Count("attendances", filter=Q(attendances__presence=P.ABSENT_UNEXCUSED)),
        )
        .values_list("pk", "present", "base", "unexcused")
    )
    return {pk: (present, base, unexcused) for pk, present, base, unexcused in rows}


def stored(meetings=None) -> dict[int, tuple[int, int, int]]:
    rows = (meetings if meetings is not None else Meeting.objects.all()).values_list("pk", *FIELDS)
    return {pk: tuple(counts) for pk, *counts in rows}


def counts_of(meeting) -> tuple[int, int, int]:
    """The stored counts, checked against the recount."""
    assert stored() == recounted()
    return stored()[meeting.pk]


@pytest.fixture
def crowd(tree, people):
    """The cell's two members, four more and an exempt one: six in the base."""
    extra = [make_member(organisation=tree.cell, full_name=f"Đảng Viên {n}") for n in range(4)]
    exempt = make_member(organisation=tree.cell, full_name="Đỗ Văn Miễn")
    member_exempt(member=exempt, reason="Tuổi cao", start=datetime.date(2024, 1, 1))
    return [people.members["secretary"], people.members["member"], *extra]


def test_a_planned_meeting_counts_nothing(meeting):
    assert counts_of(meeting) == (0, 0, 0)


def test_publishing_counts_everyone_expected_in_the_base(crowd, meeting, people):
    published = services.meeting_publish(meeting=meeting, by=people.secretary)
    # Seven rows: six not recorded yet (in the base), one exempt (outside it).
    assert published.attendance_base == 6
    assert counts_of(meeting) == (0, 6, 0)


def test_rsvp_answers_leave_the_counts_as_they_are(crowd, meeting, people):
    services.meeting_publish(meeting=meeting, by=people.secretary)
    services.attendance_rsvp(
        token=services.rsvp_token(meeting=meeting, member=crowd[2]), attending=False, reason="Đi công tác"
    )
    services.attendance_confirm(
        meeting=meeting, member=people.members["member"], attending=True, by=people.users["member"]
    )
    assert counts_of(meeting) == (0, 6, 0)


def test_recording_presence_counts_late_as_present_and_unexcused_apart(crowd, meeting, people):
    held = hold(
        meeting,
        presence={
            crowd[2].pk: (P.LATE, ""),
            crowd[3].pk: (P.ABSENT_EXCUSED, "Ốm"),
            crowd[4].pk: (P.ABSENT_UNEXCUSED, ""),
            crowd[5].pk: (P.ATTACHED_ELSEWHERE, ""),
        },
        by=people.secretary,
    )
    # Present: the two officers, crowd[2] late. Base: six less the one attached elsewhere.
    assert counts_of(held) == (3, 5, 1)
    # Correcting the record recounts: crowd[4] had a reason after all, crowd[5] came.
    services.attendance_record(
        meeting=held,
        presence={crowd[4].pk: (P.ABSENT_EXCUSED, "Việc gia đình"), crowd[5].pk: (P.PRESENT, "")},
        by=people.secretary,
    )
    assert counts_of(held) == (4, 6, 0)


def test_a_refused_record_leaves_the_counts_as_they_were(crowd, meeting, people):
    held = hold(meeting, by=people.secretary)
    with pytest.raises(ValidationError):  # an excused absence needs its reason: nothing is recorded
        services.attendance_record(
            meeting=held, presence={crowd[2].pk: (P.ABSENT_UNEXCUSED, ""), crowd[3].pk: (P.ABSENT_EXCUSED, "")}
        )
    assert counts_of(held) == (6, 6, 0)


def test_later_steps_keep_the_counts(crowd, meeting, people):
    held = hold(meeting, presence={crowd[4].pk: (P.ABSENT_UNEXCUSED, "")}, by=people.secretary)
    held = services.meeting_update(meeting=held, topic="Chủ đề mới", by=people.secretary)
    services.resolution_set(meeting=held, kind=Resolution.Kind.CONCLUSION, text="Chi bộ thống nhất.")
    adopted = services.meeting_adopt_minutes(meeting=held, by=people.secretary)
    assert adopted.state == Meeting.State.MINUTES_ADOPTED
    assert counts_of(adopted) == (5, 6, 1)


def test_cancelling_a_notified_meeting_keeps_its_counts(crowd, meeting, people):
    services.meeting_publish(meeting=meeting, by=people.secretary)
    cancelled = services.meeting_cancel(meeting=meeting, reason="Trùng lịch", by=people.secretary)
    assert cancelled.state == Meeting.State.CANCELLED
    assert counts_of(cancelled) == (0, 6, 0)


def test_refresh_corrects_counts_that_drifted_and_only_for_the_meetings_given(tree, crowd, people):
    first = hold(plan(tree.cell, days=3), by=people.secretary)
    second = hold(plan(tree.cell, days=5, kind=Meeting.Kind.EXTRAORDINARY), by=people.secretary)
    Meeting.objects.update(attendance_present=99, attendance_base=99, attendance_unexcused=99)
    services.attendance_counts_refresh(meetings=[first.pk])
    assert stored()[first.pk] == (6, 6, 0) and stored()[second.pk] == (99, 99, 99)
    services.attendance_counts_refresh(meetings=Meeting.objects.filter(organisation=tree.cell))
    assert stored() == recounted() == {first.pk: (6, 6, 0), second.pk: (6, 6, 0)}


def test_a_meeting_whose_rows_are_gone_counts_zero(crowd, meeting, people):
    held = hold(meeting, by=people.secretary)
    held.attendances.all().delete()
    services.attendance_counts_refresh(meetings=[held.pk])
    assert counts_of(held) == (0, 0, 0)


def test_the_migration_backfills_every_meeting_in_one_update(tree, crowd, people, django_assert_num_queries):
    hold(plan(tree.cell, days=3), presence={crowd[3].pk: (P.ABSENT_UNEXCUSED, "")}, by=people.secretary)
    services.meeting_publish(meeting=plan(tree.cell, days=5, kind=Meeting.Kind.EXTRAORDINARY))
    Meeting.objects.update(attendance_present=0, attendance_base=0, attendance_unexcused=0)
    migration = importlib.import_module("meetings.migrations.0004_meeting_attendance_counts")
    with django_assert_num_queries(1):
        migration.backfill(apps, SimpleNamespace(connection=connection))
    assert sorted(stored().values()) == [(0, 6, 0), (5, 6, 1)]
    assert stored() == recounted()


def test_the_demo_generator_stores_the_counts_of_its_meetings(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=StringIO())  # rolled back with the test
    meetings = Meeting.objects.all()
    assert meetings.filter(attendance_base__gt=0).count() > 100
    assert meetings.filter(attendance_unexcused__gt=0).exists()
    assert stored() == recounted()
