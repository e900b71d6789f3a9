"""Issue #17 item 6: a member who has not opened a meeting's notice one day before (local time) gets one
reminder, in the inbox and by e-mail under the opt-out rules; nobody is reminded of what they already did —
opened the notice (its link or the meeting page), answered it, or asked to be excused."""

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse

from cells import services as cell_services
from cells.models import Notification
from meetings import reminders
from meetings import services as meeting_services
from meetings.models import AbsenceRequest, Attendance, Meeting, ReminderDelivery, ReminderRule
from tests.factories import make_member

pytestmark = pytest.mark.django_db

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=HCM)


def run(code: str) -> int:
    return reminders.reminder_rule_run(rule_id=ReminderRule.objects.get(code=code).pk)


def sent(code: str = "notice_unopened") -> list[str]:
    return sorted(ReminderDelivery.objects.filter(rule__code=code).values_list("member__full_name", flat=True))


def noticed(tree, people, time_machine, *, start: datetime.datetime, notice_at: datetime.datetime):
    """Cell A's regular meeting at ``start``, noticed at ``notice_at``; six members with e-mail addresses:
    An opens the link, Bình answers, Chi asks to be excused, Dũng and Em do nothing (Em took optional e-mail
    off), Giang is exempt. The secretary and the member of the fixture open the meeting page."""
    time_machine.move_to(notice_at, tick=False)
    names = ["Ngô Văn An", "Đỗ Thị Bình", "Hà Văn Chi", "Lê Văn Dũng", "Phan Thị Em", "Vũ Văn Giang"]
    m = {
        name.split()[-1]: make_member(organisation=tree.cell, full_name=name, email=f"{n}@example.vn")
        for n, name in enumerate(names)
    }
    cell_services.member_set_reminder_email(member=m["Em"], enabled=False)
    cell_services.member_exempt(member=m["Giang"], reason="Tuổi cao", start=datetime.date(2026, 1, 1))
    meeting = meeting_services.meeting_create(
        organisation=tree.cell,
        kind=Meeting.Kind.REGULAR,
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        place="Phòng họp tầng 2",
    )
    meeting = meeting_services.meeting_publish(meeting=meeting)
    mail.outbox.clear()
    return meeting, m


def act(client, client_for, people, meeting, m):
    """What each member did with the notice before the reminder's day."""
    token = meeting_services.rsvp_token(meeting=meeting, member=m["An"])
    client.logout()
    assert client.get(reverse("meetings:rsvp", args=[token])).status_code == 200  # opened, not answered
    meeting_services.attendance_confirm(meeting=meeting, member=m["Bình"], attending=True)
    meeting_services.absence_request_file(
        meeting=meeting, member=m["Chi"], reason_type=AbsenceRequest.ReasonType.WORK, reason="Đi công tác"
    )
    for user in (people.secretary, people.member):
        assert client_for(user).get(reverse("meetings:detail", args=[meeting.pk])).status_code == 200


def test_the_first_view_of_the_link_is_recorded_once(client, tree, people, time_machine):
    meeting, m = noticed(tree, people, time_machine, start=local(2026, 12, 10, 8), notice_at=local(2026, 12, 1, 9))
    url = reverse("meetings:rsvp", args=[meeting_services.rsvp_token(meeting=meeting, member=m["Dũng"])])
    time_machine.move_to(local(2026, 12, 2, 20, 15), tick=False)
    client.get(url)
    time_machine.move_to(local(2026, 12, 3, 7, 0), tick=False)
    client.get(url)
    opened = Attendance.objects.get(meeting=meeting, member=m["Dũng"]).notice_opened_at
    assert opened == local(2026, 12, 2, 20, 15)
    # A HEAD (a mail scanner's probe) or a bad token records nothing.
    client.head(reverse("meetings:rsvp", args=[meeting_services.rsvp_token(meeting=meeting, member=m["Em"])]))
    assert Attendance.objects.get(meeting=meeting, member=m["Em"]).notice_opened_at is None


def test_one_reminder_the_day_before_only_to_those_who_did_nothing(
    client, client_for, tree, people, time_machine, django_capture_on_commit_callbacks
):
    # The meeting on Tuesday 01/12/2026 08:00 (Hà Nội), noticed on 24/11: the day before is the month's last.
    meeting, m = noticed(tree, people, time_machine, start=local(2026, 12, 1, 8), notice_at=local(2026, 11, 24, 9))
    act(client, client_for, people, meeting, m)
    with django_capture_on_commit_callbacks(execute=True):
        time_machine.move_to(local(2026, 11, 29, 23, 30), tick=False)  # two local days before
        assert run("notice_unopened") == 0
        # 00:30 on 30/11 in Hà Nội is still 29/11 in UTC (17:30): the local day is the one that counts.
        time_machine.move_to(local(2026, 11, 30, 0, 30), tick=False)
        assert run("notice_unopened") == 2
        time_machine.move_to(local(2026, 11, 30, 23, 30), tick=False)  # the same local day, later: nothing new
        assert run("notice_unopened") == 0
        time_machine.move_to(local(2026, 12, 1, 7, 0), tick=False)  # the day itself: nothing
        assert run("notice_unopened") == 0
    assert sent() == ["Lê Văn Dũng", "Phan Thị Em"]
    # Inbox for both; e-mail only to Dũng (Em took optional reminders off e-mail).
    assert Notification.objects.filter(kind="meetings.reminder.notice_unopened").count() == 2
    assert [message.to for message in mail.outbox] == [["3@example.vn"]]
    message = mail.outbox[0]
    assert message.subject == "Đồng chí chưa xem thông báo sinh hoạt: sinh hoạt thường kỳ 08:00 ngày 01/12/2026"
    assert "Chi bộ Văn phòng sẽ tổ chức sinh hoạt thường kỳ vào ngày mai." in message.body
    assert "/sinh-hoat/xac-nhan/" in message.body


def test_the_unanswered_reminder_of_that_day_leaves_the_unopened_to_their_own_reminder(
    client, client_for, tree, people, time_machine, django_capture_on_commit_callbacks
):
    meeting, m = noticed(tree, people, time_machine, start=local(2026, 12, 1, 8), notice_at=local(2026, 11, 24, 9))
    act(client, client_for, people, meeting, m)
    time_machine.move_to(local(2026, 11, 30, 23, 30), tick=False)
    run("notice_unopened")
    run("rsvp_missing")
    # An opened it without answering: the "not answered" reminder. The secretary and the member opened the page
    # and did not answer either. Dũng and Em: the "not opened" one only — one message each that day.
    assert sent("rsvp_missing") == ["Lê Văn Đảng Viên", "Ngô Văn An", "Trần Thị Bí Thư"]
    assert sent("notice_unopened") == ["Lê Văn Dũng", "Phan Thị Em"]
    for member in (m["Dũng"], m["Em"]):
        assert Notification.objects.filter(member=member, kind__startswith="meetings.reminder.").count() == 1
    # With the "not opened" rule off, the "not answered" one reminds them as before.
    ReminderRule.objects.filter(code="notice_unopened").update(enabled=False)
    ReminderDelivery.objects.filter(rule__code="rsvp_missing").delete()
    run("rsvp_missing")
    assert "Lê Văn Dũng" in sent("rsvp_missing")


def test_at_the_year_end_the_reminder_comes_on_31_12_for_a_meeting_on_01_01(
    tree, people, time_machine, django_capture_on_commit_callbacks
):
    meeting, m = noticed(tree, people, time_machine, start=local(2027, 1, 1, 8), notice_at=local(2026, 12, 20, 9))
    time_machine.move_to(local(2026, 12, 30, 23, 30), tick=False)
    assert run("notice_unopened") == 0
    time_machine.move_to(local(2026, 12, 31, 23, 30), tick=False)
    # Everyone on the list but the exempt: nobody opened anything.
    assert run("notice_unopened") == 7
    assert "Vũ Văn Giang" not in sent()
    time_machine.move_to(local(2026, 12, 31, 23, 59), tick=False)
    assert run("notice_unopened") == 0


def test_opening_the_reminders_link_or_being_excused_before_the_run_spares_the_reminder(
    client, tree, people, time_machine
):
    meeting, m = noticed(tree, people, time_machine, start=local(2026, 12, 10, 8), notice_at=local(2026, 12, 1, 9))
    time_machine.move_to(local(2026, 12, 9, 6, 0), tick=False)
    # Dũng opens a document from his link; Em is recorded "vắng có lý do" by the secretary; the rest are silent.
    meeting_services.meeting_document_add(meeting=meeting, file=_pdf())
    document = meeting.documents.get()
    token = meeting_services.rsvp_token(meeting=meeting, member=m["Dũng"])
    client.get(reverse("meetings:rsvp_document", args=[token, document.pk]))
    meeting_services.attendance_record(
        meeting=meeting, presence={m["Em"].pk: (Attendance.Presence.ABSENT_EXCUSED, "Ốm")}
    )
    assert run("notice_unopened") == 5
    assert "Lê Văn Dũng" not in sent() and "Phan Thị Em" not in sent()


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("tai-lieu.pdf", b"%PDF-1.4\n%%EOF\n")
