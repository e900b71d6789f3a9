"""Each role starts on what it has to do next (issue #15): the member's and the secretary's homes."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cells.models import Notification
from meetings import homes, services
from meetings.models import Attendance, Meeting, Resolution

from .conftest import hold, plan

pytestmark = pytest.mark.django_db


def test_the_member_home_offers_the_next_meeting_to_answer_and_the_tasks(
    client_for, people, tree, meeting, django_capture_on_commit_callbacks
):
    member = people.members["member"]
    meeting = services.meeting_publish(meeting=meeting)
    page = client_for(people.member).get(reverse("meetings:my_home"))
    body = page.content.decode()
    assert page.status_code == 200
    assert reverse("meetings:confirm", args=[meeting.pk]) in body and "Tham dự" in body
    # One tap from the home: the answer is recorded and the member is back on the home.
    response = client_for(people.member).post(
        reverse("meetings:confirm", args=[meeting.pk]), {"answer": "yes", "next": reverse("meetings:my_home")}
    )
    assert response.url == reverse("meetings:my_home")
    assert Attendance.objects.get(meeting=meeting, member=member).rsvp == Attendance.Rsvp.YES
    # A task given to her reaches her inbox (and her e-mail), and shows on her home.
    held = hold(plan(tree.cell, days=5, kind=Meeting.Kind.THEMATIC, chair=people.members["secretary"], clerk=member))
    with django_capture_on_commit_callbacks(execute=True):
        services.task_create(
            meeting=held,
            description="Rà soát hồ sơ đảng viên",
            assignees=[member],
            due_date=timezone.localdate() + datetime.timedelta(days=10),
        )
    assert Notification.objects.filter(member=member, kind="meetings.task.assigned").exists()
    context = homes.member_home(member=member)
    assert [t.description for t in context["tasks"]] == ["Rà soát hồ sơ đảng viên"]
    assert "Rà soát hồ sơ đảng viên" in client_for(people.member).get(reverse("meetings:my_home")).content.decode()


def test_the_secretary_home_is_this_months_checklist(client_for, people, tree, time_machine):
    time_machine.move_to(datetime.datetime(2026, 12, 2, 9, 0, tzinfo=timezone.get_current_timezone()), tick=False)
    context = homes.secretary_home(cell=tree.cell)
    assert [s["label"] for s in context["steps"]] == ["Lập kế hoạch sinh hoạt thường kỳ tháng này"]
    assert context["steps"][0]["state"] == "todo" and "25/12/2026" in context["steps"][0]["detail"]
    start = timezone.make_aware(datetime.datetime(2026, 12, 10, 14))
    meeting = services.meeting_create(
        organisation=tree.cell,
        kind=Meeting.Kind.REGULAR,
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        place="Phòng họp",
    )
    steps = homes.secretary_home(cell=tree.cell)["steps"]
    assert [(s["label"], s["state"]) for s in steps][:2] == [
        ("Lập kế hoạch", "done"),
        ("Gửi thông báo cho đảng viên", "todo"),
    ]
    services.meeting_publish(meeting=meeting)
    steps = {s["label"]: s for s in homes.secretary_home(cell=tree.cell)["steps"]}
    answers = steps["Đảng viên xác nhận tham dự"]
    assert answers["state"] == "todo" and "Lê Văn Đảng Viên" in answers["detail"] and answers["action"]
    # "Nhắc người chưa trả lời" sends each of them their own link.
    mail.outbox.clear()
    response = client_for(people.secretary).post(
        answers["action"], {"next": reverse("meetings:cell_home", args=[tree.cell.pk])}
    )
    assert response.url == reverse("meetings:cell_home", args=[tree.cell.pk])
    assert Notification.objects.filter(kind="meetings.rsvp.reminder").count() == 2
    page = client_for(people.secretary).get(reverse("meetings:cell_home", args=[tree.cell.pk]))
    assert page.status_code == 200 and "Sinh hoạt thường kỳ tháng 12/2026" in page.content.decode()
    # After the 25th without a held meeting the planning is still done; the meeting waits to be recorded.
    time_machine.move_to(datetime.datetime(2026, 12, 11, 9, 0, tzinfo=timezone.get_current_timezone()), tick=False)
    steps = {s["label"]: s for s in homes.secretary_home(cell=tree.cell)["steps"]}
    assert steps["Ghi nhận buổi sinh hoạt đã họp (giờ thực tế)"]["state"] == "todo"


def test_the_secretary_home_follows_a_held_meeting_to_its_adoption(people, tree, time_machine):
    time_machine.move_to(datetime.datetime(2026, 12, 8, 9, 0, tzinfo=timezone.get_current_timezone()), tick=False)
    meeting = hold(plan(tree.cell, days=3, chair=people.members["secretary"], clerk=people.members["member"]))
    steps = {s["label"]: s for s in homes.secretary_home(cell=tree.cell)["steps"]}
    assert steps["Điểm danh"]["state"] == "done"
    assert steps["Hoàn thiện và thông qua biên bản"]["state"] == "todo"
    services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="Kết luận")
    services.meeting_adopt_minutes(meeting=meeting)
    steps = {s["label"]: s for s in homes.secretary_home(cell=tree.cell)["steps"]}
    assert steps["Thông qua biên bản"]["state"] == "done"
