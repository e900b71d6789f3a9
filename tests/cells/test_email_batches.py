"""E-mails in batches over one connection to a real (local) SMTP server (issue #20): each at most once, a
refused recipient does not stop the others, a dropped connection stops the batch and leaves the rest unclaimed."""

import smtplib
import socket

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import connection, transaction

from cells import services
from cells.models import Notification
from cells.services.notifications import EMAIL_SENDING_MARK

from ..factories import make_member


class Recorder:
    """An SMTP server's handler: keeps the recipients of the messages it accepted; refuses ``refuse`` at
    RCPT, and answers 421 (closing the session) to the DATA of the message for ``drop``."""

    def __init__(self, refuse=(), drop=()):
        self.accepted: list[str] = []
        self.refuse, self.drop = set(refuse), set(drop)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Không có hộp thư này"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if set(envelope.rcpt_tos) & self.drop:
            return "421 4.3.0 Máy chủ đóng phiên"
        self.accepted.extend(envelope.rcpt_tos)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    servers = []

    def start(**kwargs):
        handler = Recorder(**kwargs)
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        servers.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        return handler

    yield start
    for controller in servers:
        controller.stop()


def outbox_rows(tree, count, *, blank=()):
    members = [
        make_member(organisation=tree.cell, email="" if i in blank else f"dv{i}@example.vn") for i in range(count)
    ]
    with transaction.atomic():
        return services.notification_send(members=members, kind="cells.test", subject="Họp chi bộ", body="Kính gửi")


@pytest.mark.django_db
def test_a_batch_sends_each_row_once_in_one_statement_per_message(tree, django_assert_num_queries):
    rows = outbox_rows(tree, 6, blank={5})
    ids = [row.pk for row in rows]
    # One read of the batch, one claim per message (which also clears the previous one's mark), one last
    # clear; on PostgreSQL the session's asynchronous commit is set and reset around them, and the claims
    # go to libpq directly (prepared once, each sent before the SMTP envelope and read before the data),
    # unseen by Django but for the DEALLOCATE of the prepared statement at the end.
    postgresql = connection.vendor == "postgresql"
    with django_assert_num_queries(1 + (0 if postgresql else 5) + 1 + (3 if postgresql else 0)):
        assert services.notification_deliver_emails(notification_ids=ids) == 5
    assert sorted(m.to[0] for m in mail.outbox) == [f"dv{i}@example.vn" for i in range(5)]
    sent = Notification.objects.filter(pk__in=ids).exclude(email="")
    assert all(row.email_sent_at and row.email_error == "" for row in sent)
    assert services.notification_deliver_emails(notification_ids=ids) == 0  # a retry or a redelivery
    assert services.notification_deliver_email(notification_id=ids[0]) is False  # nor the single task
    assert len(mail.outbox) == 5


@pytest.mark.django_db
def test_a_batch_skips_what_the_single_task_already_sent(tree):
    rows = outbox_rows(tree, 3)
    assert services.notification_deliver_email(notification_id=rows[1].pk) is True
    assert services.notification_deliver_emails(notification_ids=[r.pk for r in rows]) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["dv0@example.vn", "dv1@example.vn", "dv2@example.vn"]


@pytest.mark.django_db
def test_over_smtp_a_refused_recipient_is_recorded_and_the_others_are_sent(tree, smtp_server):
    server = smtp_server(refuse={"dv1@example.vn"})
    rows = outbox_rows(tree, 4)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        services.notification_deliver_emails(notification_ids=[r.pk for r in rows])
    assert sorted(server.accepted) == ["dv0@example.vn", "dv2@example.vn", "dv3@example.vn"]
    refused = Notification.objects.get(pk=rows[1].pk)
    assert refused.email_sent_at is None and "dv1@example.vn" in refused.email_error
    # The task's retry sends only what is still unsent: the refused one, refused again.
    server.refuse.clear()
    assert services.notification_deliver_emails(notification_ids=[r.pk for r in rows]) == 1
    assert sorted(server.accepted) == [f"dv{i}@example.vn" for i in range(4)]
    assert not Notification.objects.filter(pk__in=[r.pk for r in rows], email_error__gt="").exists()


@pytest.mark.django_db
def test_over_smtp_a_closed_session_stops_the_batch_and_leaves_the_rest_unclaimed(tree, smtp_server):
    server = smtp_server(drop={"dv1@example.vn"})
    rows = outbox_rows(tree, 5)
    with pytest.raises((smtplib.SMTPServerDisconnected, smtplib.SMTPDataError)):
        services.notification_deliver_emails(notification_ids=[r.pk for r in rows])
    assert server.accepted == ["dv0@example.vn"]
    states = {
        r.email: (r.email_sent_at is not None, r.email_error)
        for r in Notification.objects.filter(pk__in=[r.pk for r in rows])
    }
    assert states["dv0@example.vn"] == (True, "")
    assert states["dv1@example.vn"][0] is False and states["dv1@example.vn"][1]  # its error, to retry
    assert states["dv2@example.vn"][0] is False and states["dv2@example.vn"][1]  # the closed session
    # What the batch never reached is neither claimed nor marked: the retry (or the sweep) sends it.
    for i in (3, 4):
        assert states[f"dv{i}@example.vn"] == (False, "")
    assert EMAIL_SENDING_MARK not in {error for _sent, error in states.values()}
    server.drop.clear()
    assert services.notification_deliver_emails(notification_ids=[r.pk for r in rows]) == 4
    assert sorted(server.accepted) == [f"dv{i}@example.vn" for i in range(5)]


@pytest.mark.django_db
def test_the_outbox_is_queued_in_batches(tree, django_capture_on_commit_callbacks):
    rows = outbox_rows(tree, services.EMAIL_BATCH_SIZE + 3)
    assert services.notification_emails_enqueue(notification_ids=[r.pk for r in rows]) == len(rows)
    assert len(mail.outbox) == len(rows)
    assert Notification.objects.filter(email_sent_at__isnull=True).count() == 0
