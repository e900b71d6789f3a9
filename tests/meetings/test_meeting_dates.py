"""Issue 21: meeting dates were barely constrained — a meeting lasting ten years, a meeting held in
April 2027 counted as the regular meeting of 01/2030, an actual start in 1990, a meeting held before
its notice. Each is refused by the service with a message next to the field, and by the database."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import MEETING_MAX_LENGTH, Meeting

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 3, 10, 9, 0)


def local(year, month, day, hour=14, minute=0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(timezone.make_aware(TODAY), tick=False)


def create(cell, *, start, end, kind=Meeting.Kind.REGULAR, **fields):
    return services.meeting_create(
        organisation=cell, kind=kind, planned_start=start, planned_end=end, place="Phòng họp", **fields
    )


def errors_of(raised) -> dict:
    return raised.value.message_dict


def refused_by_database(meeting_id, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        Meeting.objects.filter(pk=meeting_id).update(**values)


@pytest.fixture
def noticed(tree):
    """The regular meeting of 03/2026, noticed at 09:00 on 10/03 for 14:00 on 20/03."""
    meeting = create(tree.cell, start=local(2026, 3, 20), end=local(2026, 3, 20, 16))
    return services.meeting_publish(meeting=meeting)


# --- length -----------------------------------------------------------------------------------


def test_a_meeting_lasting_ten_years_is_refused(tree):
    with pytest.raises(ValidationError) as raised:
        create(tree.cell, start=local(2026, 3, 20), end=local(2036, 3, 20))
    assert "không thể kéo dài quá 12 giờ" in errors_of(raised)["planned_end"][0]
    assert not Meeting.objects.exists()


def test_twelve_hours_is_the_sanity_bound_of_a_meeting_length(tree):
    start = local(2026, 3, 20, 7)
    meeting = create(tree.cell, start=start, end=start + MEETING_MAX_LENGTH)  # exactly 12 hours: accepted
    with pytest.raises(ValidationError) as raised:
        services.meeting_update(meeting=meeting, planned_end=start + MEETING_MAX_LENGTH + datetime.timedelta(minutes=1))
    assert "planned_end" in errors_of(raised)
    refused_by_database(meeting.pk, planned_end=start + datetime.timedelta(days=3650))


def test_an_actual_meeting_lasting_two_days_is_refused(tree, noticed, time_machine):
    time_machine.move_to(local(2026, 3, 22, 9), tick=False)
    with pytest.raises(ValidationError) as raised:
        services.meeting_record_held(meeting=noticed, actual_start=local(2026, 3, 20), actual_end=local(2026, 3, 22, 8))
    assert "không thể kéo dài quá 12 giờ" in errors_of(raised)["actual_end"][0]
    assert Meeting.objects.get(pk=noticed.pk).state == Meeting.State.NOTIFIED
    refused_by_database(noticed.pk, actual_start=local(2026, 3, 20), actual_end=local(2026, 3, 22, 8))


# --- the month a regular meeting counts for ---------------------------------------------------


def test_a_meeting_in_april_2027_is_not_the_regular_meeting_of_january_2030(tree):
    with pytest.raises(ValidationError) as raised:
        create(tree.cell, start=local(2027, 4, 8), end=local(2027, 4, 8, 16), period_month=datetime.date(2030, 1, 1))
    message = errors_of(raised)["period_month"][0]
    assert "tháng 01/2030 phải họp trong tháng đó" in message and "08/04/2027" in message
    assert not Meeting.objects.exists()


def test_the_month_is_read_in_local_time(tree):
    """00:30 on 01/04 in Hà Nội is 17:30 on 31/03 in UTC: the meeting is April's, not March's."""
    start = local(2026, 4, 1, 0, 30)
    with pytest.raises(ValidationError):
        create(tree.cell, start=start, end=start + datetime.timedelta(hours=2), period_month=datetime.date(2026, 3, 1))
    meeting = create(tree.cell, start=start, end=start + datetime.timedelta(hours=2))
    assert meeting.period_month == datetime.date(2026, 4, 1)
    refused_by_database(meeting.pk, period_month=datetime.date(2026, 3, 1))


def test_a_regular_meeting_moved_into_the_next_month_is_that_months(tree, noticed):
    with pytest.raises(ValidationError) as raised:
        services.meeting_update(meeting=noticed, planned_start=local(2026, 4, 2), planned_end=local(2026, 4, 2, 16))
    assert "Hãy sửa ngày họp hoặc chọn tháng 04/2026" in errors_of(raised)["period_month"][0]
    moved = services.meeting_update(
        meeting=noticed,
        planned_start=local(2026, 4, 2),
        planned_end=local(2026, 4, 2, 16),
        period_month=datetime.date(2026, 4, 1),
    )
    assert moved.period_month == datetime.date(2026, 4, 1)


def test_a_regular_meeting_recorded_as_held_in_another_month_is_refused(tree, noticed, time_machine):
    time_machine.move_to(local(2026, 4, 3, 9), tick=False)
    with pytest.raises(ValidationError) as raised:
        services.meeting_record_held(meeting=noticed, actual_start=local(2026, 4, 2), actual_end=local(2026, 4, 2, 16))
    assert "tháng 03/2026 phải họp trong tháng đó" in errors_of(raised)["actual_start"][0]
    refused_by_database(noticed.pk, actual_start=local(2026, 4, 2), actual_end=local(2026, 4, 2, 16))


def test_a_chi_uy_meeting_may_prepare_the_next_months_meeting(tree):
    """Only the regular kinds are bound: the chi ủy meets days before, in the month before when the
    cell's meeting is early in its month."""
    meeting = create(
        tree.cell,
        kind=Meeting.Kind.COMMITTEE,
        start=local(2026, 3, 30),
        end=local(2026, 3, 30, 16),
        period_month=datetime.date(2026, 4, 1),
    )
    assert meeting.period_month == datetime.date(2026, 4, 1)


# --- the earliest start and the notice --------------------------------------------------------


def test_an_actual_start_in_1990_is_refused(tree, noticed, time_machine):
    time_machine.move_to(local(2026, 3, 21, 9), tick=False)
    with pytest.raises(ValidationError) as raised:
        services.meeting_record_held(
            meeting=noticed, actual_start=local(1990, 3, 20), actual_end=local(1990, 3, 20, 16)
        )
    assert "không thể trước ngày 01/01/2000" in errors_of(raised)["actual_start"][0]
    refused_by_database(noticed.pk, actual_start=local(1990, 3, 20), actual_end=local(1990, 3, 20, 16))


def test_a_planned_start_before_the_organisation_existed_is_refused(tree):
    tree.cell.active_from = datetime.date(2025, 7, 1)
    tree.cell.save(update_fields=["active_from"])
    with pytest.raises(ValidationError) as raised:
        create(tree.cell, kind=Meeting.Kind.EXTRAORDINARY, start=local(2025, 6, 30), end=local(2025, 6, 30, 16))
    assert "không thể trước ngày 01/07/2025" in errors_of(raised)["planned_start"][0]


def test_a_meeting_held_before_its_notice_is_refused(tree, noticed, time_machine):
    time_machine.move_to(local(2026, 3, 21, 9), tick=False)
    with pytest.raises(ValidationError) as raised:  # noticed at 09:00 on 10/03
        services.meeting_record_held(
            meeting=noticed, actual_start=local(2026, 3, 10, 8), actual_end=local(2026, 3, 10, 10)
        )
    assert "không thể trước lúc gửi thông báo triệu tập (09:00 ngày 10/03/2026)" in errors_of(raised)["actual_start"][0]
    held = services.meeting_record_held(
        meeting=noticed, actual_start=local(2026, 3, 20, 14, 5), actual_end=local(2026, 3, 20, 16)
    )
    assert held.state == Meeting.State.HELD
    refused_by_database(noticed.pk, actual_start=local(2026, 3, 10, 8), actual_end=local(2026, 3, 10, 10))


# --- the pages --------------------------------------------------------------------------------


def test_the_meeting_form_shows_the_error_next_to_the_field(client_for, people, tree):
    data = {
        "kind": Meeting.Kind.REGULAR,
        "period_month": "01/2030",
        "planned_start": "08/04/2027 14:00",
        "planned_end": "08/04/2027 16:00",
        "place": "Phòng họp",
        "mode": Meeting.Mode.IN_PERSON,
    }
    response = client_for(people.secretary).post(reverse("meetings:create", args=[tree.cell.pk]), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert "phải họp trong tháng đó" in form.errors["period_month"][0]
    data.update(period_month="", planned_end="08/04/2037 16:00")
    response = client_for(people.secretary).post(reverse("meetings:create", args=[tree.cell.pk]), data)
    assert "không thể kéo dài quá 12 giờ" in response.context["form"].errors["planned_end"][0]
    assert not Meeting.objects.exists()


def test_the_held_form_shows_the_notice_error_next_to_the_actual_start(client_for, people, noticed, time_machine):
    time_machine.move_to(local(2026, 3, 21, 9), tick=False)
    response = client_for(people.secretary).post(
        reverse("meetings:held", args=[noticed.pk]),
        {"actual_start": "10/03/2026 08:00", "actual_end": "10/03/2026 10:00"},
    )
    assert response.status_code == 200
    assert "thông báo triệu tập" in response.context["form"].errors["actual_start"][0]
