"""A meeting held and kept on paper, entered afterwards ("nhập bổ sung", issue 19 item 3).

Today is 03/01/2027; the cell's December 2026 meeting (15/12/2026 14:00–16:00) is entered from its
paper minutes: across the year boundary, after the month ended.
"""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cells.models import AuditEntry, Notification
from meetings import indicators, services
from meetings.models import Attendance, Meeting, Resolution
from scoring.selectors import meeting_facts

from ..factories import make_member
from .test_documents import _pages

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2027, 1, 3, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))
P = Attendance.Presence


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour, minute))


MEETING_DAY = datetime.date(2026, 12, 15)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY, tick=False):
        yield


def form_data(people, *, notice="05/12/2026", **overrides):
    secretary, member = people.members["secretary"], people.members["member"]
    data = {
        "kind": Meeting.Kind.REGULAR,
        "period_month": "",
        "actual_start": "15/12/2026 14:00",
        "actual_end": "15/12/2026 16:00",
        "place": "Phòng họp tầng 2",
        "mode": Meeting.Mode.IN_PERSON,
        "topic": "",
        "chair": secretary.pk,
        "clerk": member.pk,
        "guests": "",
        "notice_date": notice,
        "adopted_on": "",
        "conclusion": "Chi bộ thống nhất tập trung hoàn thành kế hoạch quý IV.",
        f"p_{secretary.pk}": P.PRESENT,
        f"p_{member.pk}": P.PRESENT,
    }
    data.update(overrides)
    return data


def test_the_meeting_list_offers_entering_a_held_meeting(client_for, people, tree):
    page = client_for(people.secretary).get(reverse("meetings:cell_list", args=[tree.cell.pk])).content.decode()
    assert reverse("meetings:record_past", args=[tree.cell.pk]) in page and "Nhập cuộc họp đã tổ chức" in page


def test_a_december_meeting_is_entered_from_paper_and_goes_to_the_normal_minutes(client_for, people, tree):
    absent = make_member(organisation=tree.cell, full_name="Đỗ Văn Vắng")
    client = client_for(people.secretary)
    assert client.get(reverse("meetings:record_past", args=[tree.cell.pk])).status_code == 200
    notifications_before = Notification.objects.count()

    response = client.post(
        reverse("meetings:record_past", args=[tree.cell.pk]),
        form_data(people, **{f"p_{absent.pk}": P.ABSENT_EXCUSED, f"r_{absent.pk}": "Đi công tác"}),
    )

    meeting = Meeting.objects.get(organisation=tree.cell, period_month=datetime.date(2026, 12, 1))
    assert response.status_code == 302 and response.url == meeting.get_absolute_url()
    assert meeting.state == Meeting.State.HELD and meeting.is_entered_afterwards
    assert meeting.entered_afterwards_at == TODAY and meeting.entered_afterwards_by == people.secretary
    assert meeting.actual_start == local(MEETING_DAY, 14) and meeting.duration_minutes == 120
    # The paper's notice date, at the start of that day; no portal notice, no portal notice number.
    assert meeting.paper_notice_date == datetime.date(2026, 12, 5)
    assert meeting.notice_sent_at == local(datetime.date(2026, 12, 5), 0) and meeting.notice_number is None
    assert meeting.paper_adopted_on == MEETING_DAY  # left blank: adopted at the close of the meeting
    assert Notification.objects.count() == notifications_before
    presence = dict(meeting.attendances.values_list("member__full_name", "presence"))
    assert presence == {"Trần Thị Bí Thư": P.PRESENT, "Lê Văn Đảng Viên": P.PRESENT, "Đỗ Văn Vắng": P.ABSENT_EXCUSED}
    assert (meeting.attendance_present, meeting.attendance_base) == (2, 3)
    assert Resolution.objects.get(meeting=meeting).text.startswith("Chi bộ thống nhất")
    assert AuditEntry.objects.filter(action="meetings.meeting.record_past", object_id=str(meeting.pk)).exists()

    page = client.get(meeting.get_absolute_url()).content.decode()
    assert "Nhập bổ sung" in page and "nhập bổ sung từ hồ sơ giấy lúc 10:00 03/01/2027" in page
    assert "Thông báo theo hồ sơ giấy: ngày 05/12/2026." in page
    assert reverse("meetings:notice_pdf", args=[meeting.pk]) not in page  # no notice the portal never sent
    assert reverse("meetings:adopt", args=[meeting.pk]) in page

    # The same completeness check and numbering as a live meeting.
    assert [p.message for p in services.minutes_completeness(meeting) if p.blocking] == []
    response = client.post(reverse("meetings:adopt", args=[meeting.pk]))
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.MINUTES_ADOPTED and meeting.minutes_reference == "01-BB/CB"


def test_the_pdf_of_a_meeting_entered_afterwards_says_nothing_false(
    client_for, people, tree, tmp_path, pdftotext_available
):
    client = client_for(people.secretary)
    client.post(
        reverse("meetings:record_past", args=[tree.cell.pk]), form_data(people, notice="", notice_not_recorded="on")
    )
    meeting = Meeting.objects.get(organisation=tree.cell)
    client.post(reverse("meetings:adopt", args=[meeting.pk]))
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.MINUTES_ADOPTED

    text = " ".join(
        " ".join(_pages(client.get(reverse("meetings:minutes_pdf", args=[meeting.pk])).content, tmp_path)).split()
    )
    assert "ngày 15 tháng 12 năm 2026" in text  # the place-and-date line is the meeting's day
    assert "ngày 03 tháng 01 năm 2027" not in text  # not the day it was typed in
    assert "Theo biên bản giấy của chi bộ, biên bản được thông qua ngày 15/12/2026." in text
    assert "Nhập bổ sung: biên bản này được nhập vào Cổng ngày 03/01/2027 (đồng chí Trần Thị Bí Thư nhập)" in text
    assert "Thông báo triệu tập: hồ sơ giấy không ghi nhận." in text
    assert "đọc lại trước chi bộ" not in text  # the portal was not there to see it
    response = client.get(reverse("meetings:notice_pdf", args=[meeting.pk]))
    assert response.status_code == 302  # no notice printed for a notice that was on paper


def test_timing_criteria_read_the_paper_dates_not_the_entry(people, tree):
    """Noticed on paper 05/12 (ten days ahead): credited; "không ghi nhận": no credit. Adopted on paper the
    same day: in time, although the portal locked it weeks later; no adoption date on paper: not in time."""
    secretary, member = people.members["secretary"], people.members["member"]

    def enter(month, *, notice_date, adopted_on):
        day = datetime.date(2026, month, 15)
        meeting = services.meeting_record_past(
            organisation=tree.cell,
            kind=Meeting.Kind.REGULAR,
            actual_start=local(day, 14),
            actual_end=local(day, 16),
            notice_date=notice_date,
            adopted_on=adopted_on,
            chair=secretary,
            clerk=member,
            by=people.secretary,
            presence={secretary.pk: (P.PRESENT, ""), member.pk: (P.PRESENT, "")},
            conclusion="Kết luận.",
        )
        return meeting, meeting_facts(meeting)

    noticed, facts = enter(11, notice_date=datetime.date(2026, 11, 5), adopted_on=datetime.date(2026, 11, 15))
    assert (facts["notice_sent"]["value"], facts["notice_ahead"]["value"]) == (1, 1)
    assert facts["minutes_adopted_in_time"]["value"] == 1 and indicators.minutes_adopted_in_time(noticed) is True
    assert "theo hồ sơ giấy ngày 05/11/2026" in facts["notice_ahead"]["evidence"]
    # Planned by the 25th of November: by the paper's notice date (planned_by_q reads it).
    deadline = indicators.planning_deadline(datetime.date(2026, 11, 1))
    assert Meeting.objects.filter(indicators.planned_by_q(deadline), pk=noticed.pk).exists()

    unrecorded, facts = enter(12, notice_date=None, adopted_on=None)
    assert (facts["notice_sent"]["value"], facts["notice_ahead"]["value"]) == (0, 0)
    assert facts["notice_ahead"]["evidence"] == "Nhập bổ sung: hồ sơ giấy không ghi nhận ngày thông báo."
    assert facts["minutes_adopted_in_time"]["value"] == 0
    # Not flagged "minutes overdue" when the paper adopted them; flagged when it says nothing.
    overdue = set(indicators.minutes_overdue(now=timezone.now()).values_list("pk", flat=True))
    assert noticed.pk not in overdue and unrecorded.pk in overdue


def test_bad_paper_dates_are_refused_next_to_their_field_and_nothing_is_written(client_for, people, tree):
    client = client_for(people.secretary)
    url = reverse("meetings:record_past", args=[tree.cell.pk])
    before = (Meeting.objects.count(), AuditEntry.objects.count())
    cases = [
        ({"notice_date": "16/12/2026"}, "notice_date", "Ngày thông báo không thể sau ngày họp (15/12/2026)."),
        ({"notice_date": ""}, "notice_date", "Ghi ngày thông báo theo hồ sơ giấy, hoặc chọn “không ghi nhận”."),
        ({"adopted_on": "14/12/2026"}, "adopted_on", "Biên bản không thể thông qua trước ngày họp (15/12/2026)."),
        (
            {"actual_start": "03/01/2027 14:00", "actual_end": "03/01/2027 16:00", "notice_date": "01/01/2027"},
            "actual_end",
            "Chỉ nhập bổ sung buổi sinh hoạt đã kết thúc",
        ),
    ]
    for overrides, field, message in cases:
        response = client.post(url, form_data(people, **overrides))
        assert response.status_code == 200
        assert any(error.startswith(message) for error in response.context["form"].errors[field]), (field, overrides)
    assert (Meeting.objects.count(), AuditEntry.objects.count()) == before


def test_a_month_that_already_has_its_regular_meeting_is_refused(people, tree):
    secretary, member = people.members["secretary"], people.members["member"]
    kwargs = dict(
        organisation=tree.cell,
        kind=Meeting.Kind.REGULAR,
        actual_start=local(MEETING_DAY, 14),
        actual_end=local(MEETING_DAY, 16),
        notice_date=None,
        adopted_on=MEETING_DAY,
        chair=secretary,
        clerk=member,
        by=people.secretary,
    )
    services.meeting_record_past(**kwargs)
    with pytest.raises(ValidationError) as error:
        services.meeting_record_past(**kwargs)
    assert "đã có buổi sinh hoạt thường kỳ của tháng 12/2026" in error.value.message_dict["period_month"][0]
    assert Meeting.objects.filter(organisation=tree.cell).count() == 1


def test_a_member_who_joined_after_the_meeting_cannot_be_marked_present(client_for, people, tree):
    newcomer = make_member(organisation=tree.cell, full_name="Vũ Thị Mới Đến")
    newcomer.memberships.update(start=datetime.date(2027, 1, 2))
    response = client_for(people.secretary).post(
        reverse("meetings:record_past", args=[tree.cell.pk]), form_data(people, **{f"p_{newcomer.pk}": P.PRESENT})
    )
    assert response.status_code == 200
    assert "Không sinh hoạt ở chi bộ vào ngày 15/12/2026: Vũ Thị Mới Đến." in response.content.decode()
    assert not Meeting.objects.filter(organisation=tree.cell).exists()
