"""Reminder rules on hand-worked calendars (time_machine), the e-mail's content, the member's preference,
exactly-once under repeated and concurrent runs, the beat schedule, and the admin log.

Calendar used throughout (Asia/Ho_Chi_Minh): a regular meeting of "Chi bộ Văn phòng" on Friday
04/12/2026, 14:00–16:00, notified on Tuesday 01/12/2026.
"""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cells import services as cell_services
from cells.models import DuesPayment, DuesRateRule, Notification, Position
from meetings import reminders
from meetings import services as meeting_services
from meetings.models import Attendance, Meeting, ReminderDelivery, ReminderRule, Task

from ..conftest import require_or_skip
from ..factories import make_member, pass_second_factor

TZ = "+07:00"


def local(text: str) -> datetime.datetime:
    """An aware datetime from "2026-12-04 14:00" in local time."""
    return datetime.datetime.fromisoformat(f"{text}{TZ}")


def run(code: str) -> int:
    return reminders.reminder_rule_run(rule_id=ReminderRule.objects.get(code=code).pk)


def sent_to(kind_code: str) -> list[str]:
    return sorted(
        Notification.objects.filter(kind=f"meetings.reminder.{kind_code}").values_list("member__full_name", flat=True)
    )


@pytest.fixture(autouse=True)
def default_rules(db):
    """The rules the data migration seeds (a transactional test's flush removes them)."""
    import importlib

    from django.apps import apps

    importlib.import_module("meetings.migrations.0003_reminder_rules_seed").seed(apps, None)
    importlib.import_module("meetings.migrations.0008_reminder_params_from_indicators").forward(apps, None)


@pytest.fixture
def calendar(tree, people, time_machine, django_capture_on_commit_callbacks):
    """The cell with its secretary (bí thư), a clerk, two more members, one exempt, and the meeting."""
    time_machine.move_to(local("2026-12-01 08:00"), tick=False)
    secretary, clerk = people.members["secretary"], people.members["member"]
    cell_services.member_update(member=secretary, email="bithu@example.vn")
    cell_services.member_update(member=clerk, email="thuky@example.vn")
    cell_services.position_assign(
        member=secretary, organisation=tree.cell, kind=Position.Kind.SECRETARY, start=datetime.date(2025, 1, 1)
    )
    an = make_member(organisation=tree.cell, full_name="Ngô Văn An", email="an@example.vn")
    binh = make_member(organisation=tree.cell, full_name="Đỗ Thị Bình", email="binh@example.vn")
    exempt = make_member(organisation=tree.cell, full_name="Vũ Văn Miễn", email="mien@example.vn")
    cell_services.member_exempt(member=exempt, reason="Tuổi cao", start=datetime.date(2026, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        meeting = meeting_services.meeting_create(
            organisation=tree.cell,
            kind=Meeting.Kind.REGULAR,
            planned_start=local("2026-12-04 14:00"),
            planned_end=local("2026-12-04 16:00"),
            place="Phòng họp tầng 2, trụ sở Sở Tài chính",
            chair=secretary,
            clerk=clerk,
        )
        meeting = meeting_services.meeting_publish(meeting=meeting)
    mail.outbox.clear()
    return type(
        "Calendar",
        (),
        {
            "meeting": meeting,
            "secretary": secretary,
            "clerk": clerk,
            "an": an,
            "binh": binh,
            "exempt": exempt,
            "tree": tree,
            "people": people,
        },
    )


def at(time_machine, text):
    time_machine.move_to(local(text), tick=False)


def opened_without_answering(meeting):
    """Everyone on the list opened the notice and did not answer: the day before, those who never opened it
    get the "notice not opened" reminder instead of this one (tests/meetings/test_notice_unopened.py)."""
    Attendance.objects.filter(meeting=meeting).update(notice_opened_at=meeting.notice_sent_at)


# --- rsvp_missing ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_unanswered_members_are_reminded_3_days_and_1_day_before(
    calendar, time_machine, django_capture_on_commit_callbacks
):
    c = calendar
    opened_without_answering(c.meeting)
    meeting_services.attendance_confirm(meeting=c.meeting, member=c.an, attending=True)
    with django_capture_on_commit_callbacks(execute=True):
        at(time_machine, "2026-12-01 09:00")  # 04/12 is 3 days away
        assert run("rsvp_missing") == 3
        assert run("rsvp_missing") == 0  # the same day again: nothing new
        at(time_machine, "2026-12-02 09:00")  # 2 days: no reminder
        assert run("rsvp_missing") == 0
        meeting_services.attendance_confirm(meeting=c.meeting, member=c.binh, attending=False, reason="Đi công tác")
        at(time_machine, "2026-12-03 07:05")  # 1 day
        assert run("rsvp_missing") == 2
        at(time_machine, "2026-12-04 07:05")  # the day itself: nothing
        assert run("rsvp_missing") == 0
    # Exempt members and members who answered are never reminded.
    assert list(
        ReminderDelivery.objects.order_by("occurrence", "member__full_name").values_list(
            "occurrence", "member__full_name"
        )
    ) == [
        ("1d", "Lê Văn Đảng Viên"),
        ("1d", "Trần Thị Bí Thư"),
        ("3d", "Lê Văn Đảng Viên"),
        ("3d", "Trần Thị Bí Thư"),
        ("3d", "Đỗ Thị Bình"),
    ]
    assert len(mail.outbox) == 5
    assert all(len(message.to) == 1 and not message.bcc and not message.cc for message in mail.outbox)


@pytest.mark.django_db
def test_reminder_email_content_is_vietnamese_with_date_time_place_and_rsvp_link(
    calendar, time_machine, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://chibo.example.vn"
    opened_without_answering(calendar.meeting)
    at(time_machine, "2026-12-03 07:05")
    with django_capture_on_commit_callbacks(execute=True):
        run("rsvp_missing")
    message = next(m for m in mail.outbox if m.to == ["an@example.vn"])
    assert message.subject == "Nhắc xác nhận tham dự: sinh hoạt thường kỳ 14:00 ngày 04/12/2026"
    body = message.body
    assert body.startswith("Kính gửi đồng chí Ngô Văn An,")
    assert "Chi bộ Văn phòng sẽ tổ chức sinh hoạt thường kỳ sau 1 ngày. Đồng chí chưa xác nhận tham dự." in body
    assert "Thời gian: 14:00 ngày 04/12/2026, kết thúc dự kiến 16:00" in body
    assert "Địa điểm: Phòng họp tầng 2, trụ sở Sở Tài chính" in body
    assert "Hình thức: Trực tiếp" in body
    [link] = [word for word in body.split() if word.startswith("https://")]
    assert link.startswith("https://chibo.example.vn/sinh-hoat/xac-nhan/")
    token = link.rstrip("/").rsplit("/", 1)[1]
    meeting, attendance = meeting_services.rsvp_read_token(token)
    assert (meeting.pk, attendance.member_id) == (calendar.meeting.pk, calendar.an.pk)
    # The link works without logging in and records the answer.
    from django.test import Client

    response = Client().post(reverse("meetings:rsvp", args=[token]), {"answer": "yes"})
    assert response.status_code in (200, 302)
    assert Attendance.objects.get(pk=attendance.pk).rsvp == Attendance.Rsvp.YES


# --- decline without reason ------------------------------------------------------------------


@pytest.mark.django_db
def test_decline_without_reason_is_reminded_once(calendar, time_machine):
    c = calendar
    Attendance.objects.filter(meeting=c.meeting, member__in=[c.an, c.binh]).update(
        rsvp=Attendance.Rsvp.NO, rsvp_reason="   ", rsvp_at=timezone.now()
    )
    Attendance.objects.filter(meeting=c.meeting, member=c.clerk).update(rsvp=Attendance.Rsvp.NO, rsvp_reason="Ốm")
    assert run("decline_without_reason") == 2
    assert sent_to("decline_without_reason") == ["Ngô Văn An", "Đỗ Thị Bình"]
    at(time_machine, "2026-12-02 09:00")
    assert run("decline_without_reason") == 0
    at(time_machine, "2026-12-04 15:00")  # the meeting has started: no more reminders about it
    Attendance.objects.filter(meeting=c.meeting, member=c.secretary).update(rsvp=Attendance.Rsvp.NO)
    assert run("decline_without_reason") == 0


# --- the month's regular meeting not planned by the 25th ---------------------------------------


@pytest.mark.django_db
def test_secretary_is_reminded_from_the_25th_when_no_regular_meeting_is_planned(tree, people, time_machine):
    at(time_machine, "2027-01-02 08:00")
    secretary = people.members["secretary"]
    cell_services.position_assign(
        member=secretary, organisation=tree.cell, kind=Position.Kind.SECRETARY, start=datetime.date(2025, 1, 1)
    )
    sibling_secretary = people.members["sibling"]
    cell_services.position_assign(
        member=sibling_secretary,
        organisation=tree.sibling,
        kind=Position.Kind.DEPUTY_SECRETARY,
        start=datetime.date(2025, 1, 1),
    )
    # The sibling cell planned January's meeting and sent its notice; "Chi bộ Văn phòng" only has a draft,
    # which is not a plan until its notice goes out (meetings.indicators); tree.other has no secretary.
    planned = meeting_services.meeting_create(
        organisation=tree.sibling,
        kind=Meeting.Kind.REGULAR,
        planned_start=local("2027-01-28 14:00"),
        planned_end=local("2027-01-28 16:00"),
    )
    meeting_services.meeting_publish(meeting=planned)
    meeting_services.meeting_create(
        organisation=tree.cell,
        kind=Meeting.Kind.REGULAR,
        planned_start=local("2027-01-29 14:00"),
        planned_end=local("2027-01-29 16:00"),
    )
    at(time_machine, "2027-01-24 09:00")
    assert run("regular_meeting_unplanned") == 0
    at(time_machine, "2027-01-25 09:00")
    assert run("regular_meeting_unplanned") == 1
    assert sent_to("regular_meeting_unplanned") == ["Trần Thị Bí Thư"]
    notification = Notification.objects.get(kind="meetings.reminder.regular_meeting_unplanned")
    assert notification.subject == "Chưa lập kế hoạch sinh hoạt thường kỳ tháng 01/2027"
    assert "Đến ngày 25/01/2027, Chi bộ Văn phòng chưa có kế hoạch" in notification.body
    at(time_machine, "2027-01-31 09:00")
    assert run("regular_meeting_unplanned") == 0
    at(time_machine, "2027-02-25 09:00")  # both cells lack February's meeting; the deputy stands in
    assert run("regular_meeting_unplanned") == 2
    assert ReminderDelivery.objects.filter(occurrence="2027-02").count() == 2


# --- minutes not adopted 2 days after the meeting ----------------------------------------------


@pytest.mark.django_db
def test_clerk_and_secretary_are_reminded_2_days_after_a_meeting_without_adopted_minutes(calendar, time_machine):
    c = calendar
    at(time_machine, "2026-12-04 16:30")
    meeting_services.meeting_record_held(
        meeting=c.meeting, actual_start=local("2026-12-04 14:05"), actual_end=local("2026-12-04 16:10")
    )
    at(time_machine, "2026-12-06 16:05")  # 1 day 23 h 55 min after the end (indicators.MINUTES_DUE)
    assert run("minutes_not_adopted") == 0
    at(time_machine, "2026-12-06 16:15")
    assert run("minutes_not_adopted") == 2
    assert sent_to("minutes_not_adopted") == ["Lê Văn Đảng Viên", "Trần Thị Bí Thư"]
    body = Notification.objects.filter(kind="meetings.reminder.minutes_not_adopted").first().body
    assert "ngày 04/12/2026 đã qua 2 ngày nhưng biên bản chưa được thông qua" in body
    at(time_machine, "2026-12-08 09:00")
    assert run("minutes_not_adopted") == 0


@pytest.mark.django_db
def test_adopted_minutes_need_no_reminder(calendar, time_machine):
    at(time_machine, "2026-12-08 09:00")
    Meeting.objects.filter(pk=calendar.meeting.pk).update(
        state=Meeting.State.MINUTES_ADOPTED, actual_start=local("2026-12-04 14:00")
    )
    assert run("minutes_not_adopted") == 0


# --- tasks due in 3 days and overdue ------------------------------------------------------------


@pytest.mark.django_db
def test_task_assignees_are_reminded_3_days_before_and_once_overdue(calendar, time_machine):
    c = calendar
    task = Task.objects.create(
        meeting=c.meeting, description="Hoàn thiện báo cáo quý IV", due_date=datetime.date(2026, 12, 10)
    )
    task.assignees.set([c.an, c.binh])
    done = Task.objects.create(
        meeting=c.meeting, description="Đã xong", due_date=datetime.date(2026, 12, 10), status=Task.Status.DONE
    )
    done.assignees.set([c.an])
    expected = {
        "2026-12-06": (0, 0),
        "2026-12-07": (2, 0),
        "2026-12-08": (0, 0),
        "2026-12-10": (0, 0),
        "2026-12-11": (0, 2),
        "2026-12-12": (0, 0),
    }
    for day, (soon, overdue) in expected.items():
        at(time_machine, f"{day} 08:00")
        assert (run("task_due_soon"), run("task_overdue")) == (soon, overdue), day
    subject = Notification.objects.filter(kind="meetings.reminder.task_overdue").first().subject
    assert subject == "Nhiệm vụ đã quá hạn (hạn 10/12/2026)"


# --- the supervisor and the quarter's visit ------------------------------------------------------


@pytest.mark.django_db
def test_supervisor_is_reminded_in_the_last_month_of_a_quarter_without_a_visit(tree, people, time_machine):
    at(time_machine, "2026-10-01 08:00")
    supervisor = make_member(organisation=tree.sibling, full_name="Phan Văn Phụ Trách")
    other_supervisor = make_member(organisation=tree.sibling, full_name="Lý Thị Giám Sát")
    for member, cell in [(supervisor, tree.cell), (other_supervisor, tree.other)]:
        cell_services.position_assign(
            member=member, organisation=cell, kind=Position.Kind.SUPERVISOR, start=datetime.date(2026, 1, 1)
        )
    visited = Meeting.objects.create(
        organisation=tree.other,
        kind=Meeting.Kind.REGULAR,
        period_month=datetime.date(2026, 10, 1),
        planned_start=local("2026-10-15 14:00"),
        planned_end=local("2026-10-15 16:00"),
        actual_start=local("2026-10-15 14:00"),
        actual_end=local("2026-10-15 16:00"),
        state=Meeting.State.HELD,
    )
    visited.upper_guests.add(other_supervisor)
    at(time_machine, "2026-11-30 08:00")  # not yet the last month of Q4
    assert run("supervisor_no_visit") == 0
    at(time_machine, "2026-12-01 08:00")
    assert run("supervisor_no_visit") == 1
    assert sent_to("supervisor_no_visit") == ["Phan Văn Phụ Trách"]
    assert ReminderDelivery.objects.get().occurrence == "2026-Q4"
    at(time_machine, "2026-12-20 08:00")
    assert run("supervisor_no_visit") == 0
    at(time_machine, "2027-03-02 08:00")  # Q1 2027: neither cell visited
    assert run("supervisor_no_visit") == 2


# --- dues unpaid for 3 months --------------------------------------------------------------------


@pytest.mark.django_db
def test_secretary_hears_monthly_about_members_with_3_unpaid_months(calendar, time_machine):
    c = calendar
    rule = DuesRateRule.objects.filter(category="salaried").first()
    for member, unpaid in [(c.an, 3), (c.binh, 2)]:
        for month in range(1, 5):
            DuesPayment.objects.create(
                member=member,
                organisation=c.tree.cell,
                month=datetime.date(2026, month, 1),
                base=5_000_000,
                rate_rule=rule,
                amount_due=50_000,
                amount_paid=0 if month <= unpaid else 50_000,
            )
    at(time_machine, "2026-04-05 08:00")
    assert run("dues_unpaid") == 1
    notification = Notification.objects.get(kind="meetings.reminder.dues_unpaid")
    assert notification.member == c.secretary
    assert "- Ngô Văn An: 3 tháng, còn thiếu 150.000 đ" in notification.body
    assert "Đỗ Thị Bình" not in notification.body
    at(time_machine, "2026-04-28 08:00")
    assert run("dues_unpaid") == 0
    at(time_machine, "2026-05-02 08:00")
    assert run("dues_unpaid") == 1


# --- the member's e-mail preference ----------------------------------------------------------------


@pytest.mark.django_db
def test_member_can_turn_off_email_for_optional_reminders_but_not_for_meeting_notices(
    calendar, time_machine, django_capture_on_commit_callbacks
):
    c = calendar
    cell_services.member_set_reminder_email(member=c.an, enabled=False)
    c.an.refresh_from_db()
    task = Task.objects.create(meeting=c.meeting, description="Viết tham luận", due_date=datetime.date(2026, 12, 4))
    task.assignees.set([c.an])
    with django_capture_on_commit_callbacks(execute=True):
        assert run("task_due_soon") == 1  # optional: inbox only
        assert run("rsvp_missing") == 4  # about a meeting notice: e-mailed regardless
        notice = meeting_services.meeting_create(
            organisation=c.tree.cell,
            kind=Meeting.Kind.THEMATIC,
            planned_start=local("2026-12-09 14:00"),
            planned_end=local("2026-12-09 16:00"),
            place="Hội trường",
        )
        meeting_services.meeting_publish(meeting=notice)
    task_row = Notification.objects.get(kind="meetings.reminder.task_due_soon")
    assert task_row.member == c.an and task_row.email == "" and task_row.read_at is None
    to_an = [m.subject for m in mail.outbox if m.to == ["an@example.vn"]]
    assert len(to_an) == 2
    assert any(subject.startswith("Nhắc xác nhận tham dự") for subject in to_an)
    assert any(subject.startswith("Thông báo sinh hoạt chuyên đề") for subject in to_an)


# --- exactly once ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_disabled_rule_sends_nothing(calendar, time_machine):
    ReminderRule.objects.filter(code="rsvp_missing").update(enabled=False)
    assert run("rsvp_missing") == 0
    assert not ReminderDelivery.objects.exists()


@pytest.mark.django_db
def test_dispatch_runs_every_enabled_rule_and_twice_is_harmless(
    calendar, time_machine, django_capture_on_commit_callbacks
):
    from meetings.tasks import reminders_dispatch

    with django_capture_on_commit_callbacks(execute=True):
        # the eight rules of 0003, the yearly thematic plan's (0021), the unopened notice's (0025), the
        # admission steps' (0027) and the assigned visitor's (0028)
        assert reminders_dispatch() == ReminderRule.objects.filter(enabled=True).count() == 12
        assert reminders_dispatch() == 12
    assert Notification.objects.filter(kind="meetings.reminder.rsvp_missing").count() == 4
    assert len(mail.outbox) == 4


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_reminder_once(tree, time_machine):
    require_or_skip(
        connection.vendor == "postgresql", "concurrent transactions need PostgreSQL (SQLite serialises writers)"
    )
    at(time_machine, "2026-12-01 08:00")
    members = [make_member(organisation=tree.cell, email=f"dv{i}@example.vn") for i in range(60)]
    meeting = meeting_services.meeting_create(
        organisation=tree.cell,
        kind=Meeting.Kind.REGULAR,
        planned_start=local("2026-12-04 14:00"),
        planned_end=local("2026-12-04 16:00"),
        place="Phòng họp",
    )
    Attendance.objects.bulk_create([Attendance(meeting=meeting, member=m) for m in members])
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.NOTIFIED)
    rule_id = ReminderRule.objects.get(code="rsvp_missing").pk
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(reminders.reminder_rule_run(rule_id=rule_id, now=local("2026-12-01 09:00")))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results)[1] + sorted(results)[0] == 60
    assert Notification.objects.filter(kind="meetings.reminder.rsvp_missing").count() == 60
    assert ReminderDelivery.objects.count() == 60


# --- rule parameters, the beat schedule, the admin ---------------------------------------------------


@pytest.mark.django_db
def test_rule_parameters_are_validated_in_vietnamese():
    from django.core.exceptions import ValidationError

    rule = ReminderRule.objects.get(code="rsvp_missing")
    rule.params = {"days_before": [3, "một"]}
    with pytest.raises(ValidationError, match="danh sách số ngày dương"):
        rule.full_clean()
    rule.params = {"days_before": [5, 2]}
    rule.full_clean()
    rule = ReminderRule.objects.get(code="regular_meeting_unplanned")
    rule.params = {"ngay": 20}
    with pytest.raises(ValidationError, match="không dùng tham số"):
        rule.full_clean()


@pytest.mark.django_db
def test_edited_parameters_change_the_calendar(calendar, time_machine):
    ReminderRule.objects.filter(code="rsvp_missing").update(params={"days_before": [2]})
    at(time_machine, "2026-12-01 09:00")
    assert run("rsvp_missing") == 0
    at(time_machine, "2026-12-02 09:00")
    assert run("rsvp_missing") == 4


@pytest.mark.django_db(transaction=True)  # the scheduler closes the database connection
def test_beat_schedule_is_declared_once_and_stored_in_the_database(settings):
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["reminders-dispatch"]
    assert entry["task"] == "meetings.tasks.reminders_dispatch"
    DatabaseScheduler(app=app, lazy=False)
    task = PeriodicTask.objects.get(name="reminders-dispatch")
    assert task.task == "meetings.tasks.reminders_dispatch" and task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("5", "7-20")
    assert PeriodicTask.objects.filter(name="notification-email-sweep").exists()


@pytest.mark.django_db
def test_admin_sees_what_was_sent_to_whom_and_what_failed(
    calendar, time_machine, client, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    opened_without_answering(calendar.meeting)
    at(time_machine, "2026-12-03 07:05")
    with django_capture_on_commit_callbacks(execute=True):
        run("rsvp_missing")
    failed = Notification.objects.filter(kind="meetings.reminder.rsvp_missing", email="an@example.vn").get()
    Notification.objects.filter(pk=failed.pk).update(email_sent_at=None, email_error="SMTP 550 hộp thư không tồn tại")
    admin = get_user_model().objects.create_superuser("quantri", "qt@example.vn", "matkhau-123")
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    pass_second_factor(client, admin)  # staff: the admin is behind the second factor
    page = client.get(reverse("admin:meetings_emaillog_changelist") + "?email_status=failed").content.decode()
    assert "an@example.vn" in page and "SMTP 550" in page and "binh@example.vn" not in page
    page = client.get(reverse("admin:meetings_reminderdelivery_changelist")).content.decode()
    assert "Ngô Văn An" in page and "Đỗ Thị Bình" in page
    assert client.get(reverse("admin:meetings_reminderrule_changelist")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:meetings_emaillog_changelist"), {"action": "resend_failed", "_selected_action": [failed.pk]}
        )
    assert response.status_code == 302
    assert Notification.objects.get(pk=failed.pk).email_sent_at is not None
    assert [m.to for m in mail.outbox].count(["an@example.vn"]) == 2  # the first copy stands in for one that failed


@pytest.mark.django_db
def test_khoi_admin_edits_a_rule_and_bad_parameters_are_refused(client):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("quantri", "qt@example.vn", "matkhau-123")
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    pass_second_factor(client, admin)  # staff: the admin is behind the second factor
    rule = ReminderRule.objects.get(code="task_due_soon")
    url = reverse("admin:meetings_reminderrule_change", args=[rule.pk])
    assert client.get(url).status_code == 200
    form = {"name": rule.name, "description": rule.description, "enabled": "on", "optional": "on"}
    response = client.post(url, {**form, "params": '{"days_before": -2}'})
    assert response.status_code == 200 and "phải là số nguyên không âm" in response.content.decode()
    assert client.post(url, {**form, "params": '{"days_before": 5}'}).status_code == 302
    assert ReminderRule.objects.get(pk=rule.pk).params == {"days_before": 5}
