"""The reminder fan-out in batches (issue #20): each recipient exactly once when the recipients straddle the
batch size, with a member who took optional reminders off e-mail and one already claimed; the statements
per batch do not grow with the batch; the e-mail batches over a real local SMTP server (aiosmtpd) leave a
refused recipient retriable and hand nothing over whose row another sender took meanwhile; the composed
messages read as Django's own."""

import datetime
import email
import email.policy

import psycopg
import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cells import services as cell_services
from cells.models import Notification
from cells.services import notifications
from meetings import reminders
from meetings.models import Attendance, Meeting, ReminderDelivery, ReminderRule
from meetings.services import rsvp_read_token, rsvp_url, rsvp_url_for

from .. import celery_worker
from ..cells import test_email_batches
from ..cells.test_email_batches import Recorder, free_port
from ..conftest import require_or_skip
from ..factories import make_member
from .conftest import plan

smtp_server = test_email_batches.smtp_server  # a real local SMTP server (aiosmtpd), as the e-mail batch tests use


@pytest.fixture(autouse=True)
def default_rules(db):
    import importlib

    from django.apps import apps

    importlib.import_module("meetings.migrations.0003_reminder_rules_seed").seed(apps, None)
    importlib.import_module("meetings.migrations.0008_reminder_params_from_indicators").forward(apps, None)


def rsvp_rule() -> ReminderRule:
    return ReminderRule.objects.get(code="rsvp_missing")


def notified_meeting(cell, members) -> Meeting:
    """A regular meeting 3 days from now, notified, nobody has answered: ``rsvp_missing`` is due today."""
    meeting = plan(cell, days=3)
    Attendance.objects.bulk_create([Attendance(meeting=meeting, member=member) for member in members])
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.NOTIFIED)
    return meeting


def members_of(cell, count, prefix="dv"):
    return [make_member(organisation=cell, email=f"{prefix}{i:02d}@example.vn") for i in range(count)]


def reminder_rows():
    return Notification.objects.filter(kind="meetings.reminder.rsvp_missing")


@pytest.mark.django_db
def test_recipients_straddling_the_batch_size_each_get_exactly_one_message(
    tree, settings, django_capture_on_commit_callbacks
):
    settings.REMINDER_BATCH_SIZE = 4  # 11 recipients: batches of 4, 4 and 3
    settings.NOTIFICATION_EMAIL_BATCH_SIZE = 3
    members = members_of(tree.cell, 11)
    opted_out, claimed_before, no_address = members[3], members[6], members[9]
    cell_services.member_set_reminder_email(member=opted_out, enabled=False)
    cell_services.member_update(member=no_address, email="")
    rule = rsvp_rule()
    ReminderRule.objects.filter(pk=rule.pk).update(optional=True)  # the admin made this reminder optional
    meeting = notified_meeting(tree.cell, members)
    # An earlier run (or a concurrent one) already claimed this member's reminder for this occurrence.
    earlier = ReminderDelivery.objects.create(
        rule=rule,
        object_type="meeting",
        object_id=meeting.pk,
        occurrence="3d",
        member=claimed_before,
        claim="00000000-0000-0000-0000-000000000001",
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.reminder_rule_run(rule_id=rule.pk) == 10
    expected = sorted(m.email for m in members if m not in (opted_out, claimed_before, no_address))
    assert sorted(message.to[0] for message in mail.outbox) == expected
    assert all(len(message.to) == 1 for message in mail.outbox)
    # Everyone but the member claimed before has an inbox row; the opted-out member's has no e-mail.
    rows = {row.member_id: row for row in reminder_rows()}
    assert set(rows) == {m.pk for m in members} - {claimed_before.pk}
    assert rows[opted_out.pk].email == "" and rows[no_address.pk].email == ""
    assert all(row.email_sent_at for row in rows.values() if row.email)
    # One delivery per recipient, each pointing at that recipient's own inbox row.
    deliveries = ReminderDelivery.objects.filter(rule=rule, object_id=meeting.pk, occurrence="3d")
    assert deliveries.count() == 11
    for delivery in deliveries.exclude(pk=earlier.pk).select_related("notification"):
        assert delivery.notification.member_id == delivery.member_id
    earlier.refresh_from_db()
    assert earlier.notification_id is None

    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.reminder_rule_run(rule_id=rule.pk) == 0  # the next beat tick: nothing new
    assert len(mail.outbox) == len(expected)
    assert reminder_rows().count() == 10


def queries_of_a_run(rule) -> int:
    with CaptureQueriesContext(connection) as context:
        reminders.reminder_rule_run(rule_id=rule.pk)
    return len(context.captured_queries)


@pytest.mark.django_db
def test_the_statements_of_a_batch_do_not_grow_with_the_batch(tree, settings, django_assert_max_num_queries):
    settings.REMINDER_BATCH_SIZE = 500
    rule = rsvp_rule()
    few = members_of(tree.cell, 3, prefix="it")
    notified_meeting(tree.cell, few)
    one_batch = queries_of_a_run(rule)
    assert reminder_rows().count() == 3

    Notification.objects.all().delete()
    ReminderDelivery.objects.all().delete()
    Meeting.objects.all().delete()
    many = few + members_of(tree.cell, 45, prefix="nhieu")
    notified_meeting(tree.cell, many)
    with django_assert_max_num_queries(one_batch):  # 48 recipients, one batch: as many statements as 3
        reminders.reminder_rule_run(rule_id=rule.pk)
    assert reminder_rows().count() == 48

    Notification.objects.all().delete()
    ReminderDelivery.objects.all().delete()
    settings.REMINDER_BATCH_SIZE = 20  # three batches
    # Each batch: its claims, its inbox rows, their links; and here (the test runs inside a transaction)
    # the savepoint of its ``atomic`` and its release.
    assert queries_of_a_run(rule) == one_batch + 2 * (3 + 2)
    assert reminder_rows().count() == 48
    assert ReminderDelivery.objects.filter(notification__isnull=True).count() == 0


@pytest.mark.django_db
def test_an_email_batch_costs_the_same_statements_whatever_its_size(tree):
    require_or_skip(
        connection.vendor == "postgresql",
        "the claims are pipelined through libpq on PostgreSQL; on SQLite each message's claim is a statement",
    )

    def outbox(count, prefix):
        members = members_of(tree.cell, count, prefix=prefix)
        return [
            row.pk
            for row in cell_services.notification_send(
                members=members, kind="cells.test", subject="Họp", body="Kính gửi"
            )
        ]

    small, large = outbox(2, "nho"), outbox(30, "lon")
    with CaptureQueriesContext(connection) as two:
        assert cell_services.notification_deliver_emails(notification_ids=small) == 2
    with CaptureQueriesContext(connection) as thirty:
        assert cell_services.notification_deliver_emails(notification_ids=large) == 30
    assert len(thirty.captured_queries) == len(two.captured_queries)
    assert len(mail.outbox) == 32


@pytest.mark.django_db
def test_a_recipient_refused_in_the_middle_of_a_batch_stays_unsent_and_is_sent_by_the_retry(
    tree,
    settings,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    settings.REMINDER_BATCH_SIZE = 3
    members = members_of(tree.cell, 7)
    server = smtp_server(refuse={"dv02@example.vn"})
    notified_meeting(tree.cell, members)
    with django_capture_on_commit_callbacks(execute=False):  # the worker's part is done by hand below
        assert reminders.reminder_rule_run(rule_id=rsvp_rule().pk) == 7
    ids = list(reminder_rows().order_by("pk").values_list("pk", flat=True))
    first, second = ids[:4], ids[4:]

    with pytest.raises(Exception, match="dv02@example.vn"):
        cell_services.notification_deliver_emails(notification_ids=first)
    assert sorted(server.accepted) == ["dv00@example.vn", "dv01@example.vn", "dv03@example.vn"]
    refused = Notification.objects.get(email="dv02@example.vn")
    assert refused.email_sent_at is None and "550" in refused.email_error  # the outbox still holds it
    assert cell_services.notification_deliver_emails(notification_ids=second) == 3

    server.refuse.clear()
    assert cell_services.notification_deliver_emails(notification_ids=first) == 1  # the task's retry
    assert sorted(server.accepted) == sorted(m.email for m in members)  # each exactly once
    assert not reminder_rows().filter(email_sent_at__isnull=True).exists()
    assert not reminder_rows().exclude(email_error="").exists()


class TakenMeanwhile(Recorder):
    """While the batch gives the envelope of ``trigger``, another sender takes ``taken``'s row (a committed
    UPDATE on its own connection, as ``notification_deliver_email`` would do). Counts DATA per address."""

    def __init__(self, *, trigger, taken, database_url):
        super().__init__()
        self.trigger, self.taken, self.database_url = trigger, taken, database_url
        self.rcpt: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt.append(address)
        if address == self.trigger:
            self.take()
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    def take(self):
        with psycopg.connect(self.database_url, autocommit=True) as other:
            other.execute(
                "UPDATE cells_notification SET email_sent_at = now() WHERE email = %s AND email_sent_at IS NULL",
                [self.taken],
            )


@pytest.mark.django_db(transaction=True)
def test_a_row_another_sender_took_after_the_batch_read_it_is_not_handed_over(tree, settings):
    require_or_skip(connection.vendor == "postgresql", "another sender's connection needs PostgreSQL's test database")
    assert Notification._meta.db_table == "cells_notification"
    members = members_of(tree.cell, 4)
    # The outbox rows, written directly: notification_send would queue (here: send) them at once.
    rows = Notification.objects.bulk_create(
        [Notification(member=m, kind="cells.test", subject="Họp", body="Kính", email=m.email) for m in members]
    )
    ids = [row.pk for row in rows]
    handler = TakenMeanwhile(
        trigger="dv00@example.vn", taken="dv02@example.vn", database_url=celery_worker.test_database_url()
    )
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        assert cell_services.notification_deliver_emails(notification_ids=ids) == 3
    finally:
        controller.stop()
    # Its envelope had gone out (the claim's answer is read after it), but not its data: the session was
    # reset and the message never left.
    assert "dv02@example.vn" in handler.rcpt
    assert sorted(handler.accepted) == ["dv00@example.vn", "dv01@example.vn", "dv03@example.vn"]
    taken = Notification.objects.get(email="dv02@example.vn")
    assert taken.email_sent_at is not None and taken.email_error == ""


# --- the composed messages ------------------------------------------------------------------------


def parsed(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Nhắc xác nhận tham dự: sinh hoạt thường kỳ 14:00 ngày 04/12/2026", "Kính gửi đồng chí An,\n\nNội dung.\n"),
        ("Plain subject", "An ASCII body\nwith two lines"),
        (
            "Chưa lên lịch sinh hoạt chuyên đề quý 4: "
            + "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh " * 3,
            "Dòng một\n. a line starting with a dot\n\nDòng cuối",
        ),
    ],
)
@pytest.mark.django_db
def test_a_composed_message_reads_as_the_one_django_builds(tree, settings, subject, body):
    settings.DEFAULT_FROM_EMAIL = "Cổng sinh hoạt chi bộ <no-reply@chibo.example.vn>"
    [member] = members_of(tree.cell, 1)
    [row] = cell_services.notification_send(members=[member], kind="cells.test", subject=subject, body=body)
    message, recipient, data = notifications._Composer().compose(row)
    assert recipient == "dv00@example.vn" and isinstance(message, EmailMessage)
    ours = parsed(data)
    django = parsed(EmailMessage(subject, body, None, [recipient]).message().as_bytes(linesep="\r\n"))
    for field in ("Subject", "From", "To", "Content-Type", "Content-Transfer-Encoding", "MIME-Version"):
        assert str(ours[field]) == str(django[field]), field
    assert ours.get_content() == django.get_content()
    assert ours["Message-ID"] and ours["Date"]
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF line ends only
    # The test outbox and the file back end read it like any other message.
    assert message.subject == subject and message.body == body and message.to == [recipient]


@pytest.mark.django_db
def test_what_the_shortcut_cannot_write_alike_is_composed_by_django(tree):
    [member] = members_of(tree.cell, 1)

    def compose(row=None, **fields):
        [notification] = cell_services.notification_send(
            members=[member], kind="cells.test", subject="Họp", body=fields.pop("body", "Kính gửi"), **fields
        )
        for name, value in (row or {}).items():
            setattr(notification, name, value)
        return notifications._Composer().compose(notification)

    _message, recipient, data = compose(attachment=("invitation.ics", "text/calendar; method=REQUEST", "BEGIN"))
    assert data is None and recipient is None
    _message, _recipient, data = compose(row={"email": "Đảng Viên <dv@example.vn>"})
    assert data is None
    _message, _recipient, data = compose(body="x" * 1200)  # a line past RFC 5322's 998 octets
    assert data is None
    _message, _recipient, data = compose(body="a\rb")
    assert data is None


# --- the rsvp reminder's text -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_rsvp_reminder_text_and_link_made_once_per_meeting(tree, settings, time_machine):
    time_machine.move_to(datetime.datetime.fromisoformat("2026-12-01 09:00+07:00"), tick=False)
    settings.SITE_URL = "https://chibo.example.vn/"
    [member] = [make_member(organisation=tree.cell, full_name="Ngô Văn An", email="an@example.vn")]
    meeting = notified_meeting(tree.cell, [member])
    assert rsvp_url_for(meeting)(member) == rsvp_url(meeting=meeting, member=member)
    token = rsvp_url(meeting=meeting, member=member).rstrip("/").rsplit("/", 1)[1]
    read_meeting, attendance = rsvp_read_token(token)
    assert (read_meeting.pk, attendance.member_id) == (meeting.pk, member.pk)

    [reminder] = list(reminders.rule_rsvp_missing(rsvp_rule(), today=datetime.date(2026, 12, 1), now=timezone.now()))
    assert reminder.body_for(member) == "\n".join(
        [
            "Kính gửi đồng chí Ngô Văn An,",
            "",
            f"{tree.cell.name} sẽ tổ chức sinh hoạt thường kỳ sau 3 ngày. Đồng chí chưa xác nhận tham dự.",
            "",
            "Thời gian: 14:00 ngày 04/12/2026, kết thúc dự kiến 16:00",
            "Địa điểm: Phòng họp tầng 2",
            "Hình thức: Trực tiếp",
            "",
            f"Xác nhận tham dự hoặc báo vắng (không cần đăng nhập): {rsvp_url(meeting=meeting, member=member)}",
            "",
            "Thư này do Cổng sinh hoạt chi bộ gửi tự động, mỗi đồng chí nhận một thư riêng.",
        ]
    )
