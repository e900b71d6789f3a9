"""Notifications: the inbox row and the e-mail that may follow it."""

import datetime
import logging
import smtplib

from django.db import connection, transaction
from django.utils import timezone

from ..models import (
    Member,
    Notification,
    Organisation,
)
from .audit import audit_log

logger = logging.getLogger(__name__)


# --- notifications -----------------------------------------------------------------------


def notification_send(
    *,
    members,
    kind: str,
    subject: str,
    body: str,
    url: str = "",
    organisation: Organisation | None = None,
    body_for=None,
    optional: bool = False,
    attachment: tuple[str, str, str] | None = None,
    attachment_for=None,
) -> list[Notification]:
    """One inbox row per member (and one e-mail each, never a shared list), sent after commit.

    ``body_for(member)`` may give each person their own text (e.g. their personal RSVP link).
    ``attachment`` is a file for the e-mail as ``(name, mime type, text)``, e.g. a meeting's
    ``invitation.ics``; ``attachment_for(member)`` gives each person their own one.
    ``optional`` marks a reminder a member may take off e-mail (``Member.optional_reminder_email``);
    meeting notices never pass it. The inbox row is written either way.
    E-mail delivery failures are recorded on the row, never raised into the caller's request.
    """

    def attachment_fields(member) -> dict:
        name, mime_type, text = (attachment_for(member) if attachment_for else attachment) or ("", "", "")
        return {"attachment_name": name, "attachment_type": mime_type, "attachment": text}

    rows = [
        Notification(
            recipient_id=member.user_id,
            member=member,
            organisation=organisation,
            kind=kind,
            subject=subject,
            body=body_for(member) if body_for else body,
            url=url,
            email=(member.email or "") if not optional or member.optional_reminder_email else "",
            **attachment_fields(member),
        )
        for member in members
    ]
    Notification.objects.bulk_create(rows)
    ids = [row.pk for row in rows if row.email]
    if ids:
        transaction.on_commit(lambda: notification_emails_enqueue(notification_ids=ids), robust=True)
    return rows


# How many e-mails one worker task sends over one connection to the mail server (issue #20: a task, a
# broker round trip and an SMTP session per message capped the fan-out near 125 messages/s).
EMAIL_BATCH_SIZE = 100


def notification_emails_enqueue(*, notification_ids) -> int:
    """Queue the e-mails of these notifications, ``EMAIL_BATCH_SIZE`` to a task. The rows are the outbox:
    if the broker is down the request still succeeds, and ``notification_email_sweep`` queues them again
    once it is back. Returns how many notifications were queued."""
    from ..tasks import notification_emails_send

    ids = list(notification_ids)
    queued = 0
    for index in range(0, len(ids), EMAIL_BATCH_SIZE):
        batch = ids[index : index + EMAIL_BATCH_SIZE]
        try:
            notification_emails_send.delay(batch)
        except Exception as exc:  # kombu raises several connection error types
            logger.warning(
                "broker unavailable, the rest (%s notifications) stays in the outbox: %s", len(ids) - queued, exc
            )
            break
        queued += len(batch)
    return queued


def notification_pending_email_ids(*, older_than_seconds: int = 900, limit: int = 5000) -> list[int]:
    """Outbox rows whose e-mail was never sent nor failed, older than the normal queueing delay."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        Notification.objects.filter(email_sent_at__isnull=True, email_error="", created_at__lt=cutoff)
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


# Left in ``email_error`` while the e-mail is being handed to the mail server. A worker killed in
# that moment leaves it behind: the admin sees the message may not have left, and nothing resends
# it on its own (a second copy is worse than asking the admin to check).
EMAIL_SENDING_MARK = "Đang gửi: nếu trạng thái này còn sau vài phút, tiến trình gửi đã bị dừng giữa chừng."


def _email_of(notification: Notification):
    """The e-mail of one notification, with its attachment when it has one.

    A MIME type with parameters (``text/calendar; method=REQUEST``) is kept whole on the part:
    RFC 6047 §2.4 asks for the iTIP method there too, and Outlook reads it to show an invitation.
    """
    from email.mime.text import MIMEText

    from django.core.mail import EmailMessage

    message = EmailMessage(notification.subject, notification.body, None, [notification.email])
    if notification.attachment_name:
        mime_type, *parameters = [part.strip() for part in notification.attachment_type.split(";")]
        maintype, subtype = (mime_type or "application/octet-stream").split("/", 1)
        if maintype != "text":
            message.attach(notification.attachment_name, notification.attachment, mime_type)
            return message
        part = MIMEText(notification.attachment, subtype, "utf-8")
        for parameter in parameters:
            name, _sep, value = parameter.partition("=")
            if name.strip().lower() != "charset":  # MIMEText has set it: the text is always UTF-8
                part.set_param(name.strip(), value.strip().strip('"'), requote=False)
        part.add_header("Content-Disposition", "attachment", filename=notification.attachment_name)
        message.attach(part)
    return message


def notification_deliver_email(*, notification_id: int) -> bool:
    """Send one notification's e-mail once: the row is claimed with a conditional UPDATE first."""
    claimed = (
        Notification.objects.filter(pk=notification_id, email_sent_at__isnull=True)
        .exclude(email="")
        .update(
            email_sent_at=timezone.now(),
            email_error=EMAIL_SENDING_MARK,
        )
    )
    if not claimed:
        return False
    notification = Notification.objects.get(pk=notification_id)
    try:
        _email_of(notification).send()
    except Exception as exc:  # SMTP errors are many types; record and let the task decide to retry
        Notification.objects.filter(pk=notification_id).update(email_sent_at=None, email_error=str(exc)[:2000])
        raise
    Notification.objects.filter(pk=notification_id).update(email_error="")
    return True


# Errors that concern one message; the connection to the mail server is still good for the next one.
_MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def _claim_next_sql() -> str:
    table = connection.ops.quote_name(Notification._meta.db_table)
    # One statement per message: claim this one (only if nobody sent it: the same guard as
    # ``notification_deliver_email``, so a batch and a single task never both send a row) and take the
    # sending mark off the previous one, which the mail server has accepted.
    return (
        f"UPDATE {table} SET "  # noqa: S608 - the model's own table name, quoted; every value is a parameter
        "email_sent_at = CASE WHEN id = %s THEN %s ELSE email_sent_at END, "
        "email_error = CASE WHEN id = %s THEN %s ELSE '' END "
        "WHERE (id = %s AND email_sent_at IS NULL AND email <> '') OR id = %s "
        "RETURNING id"
    )


def notification_deliver_emails(*, notification_ids) -> int:
    """Send the e-mails of these notifications over one connection to the mail server; each at most once.

    Each row is claimed just before its message is handed over, with the same conditional UPDATE as a
    single send, and marked ``EMAIL_SENDING_MARK`` until the next statement: a worker killed in the middle
    of a batch leaves at most one message in doubt, and the rows it had not reached unclaimed for the
    outbox sweep. A message the server refuses is recorded on its row and the others go on; the first
    such error is raised at the end (the task retries the batch, which skips what was sent). An error of
    the connection itself stops the batch and is raised at once. Returns the number of e-mails sent.
    """
    from django.core.mail import get_connection

    rows = list(
        Notification.objects.filter(pk__in=list(notification_ids), email_sent_at__isnull=True)
        .exclude(email="")
        .order_by("pk")
    )
    if not rows:
        return 0
    claim_sql = _claim_next_sql()
    sent, previous, refused = 0, None, None
    mail = get_connection()
    mail.open()
    asynchronous = connection.vendor == "postgresql"
    if asynchronous:
        # Each claim is its own commit, so that a worker killed mid-batch leaves at most one message in
        # doubt. Waiting for each commit to reach the disk (~4 ms here) would cap a worker near 250
        # messages/s; an asynchronous commit is applied and visible at once and reaches the disk within
        # 3 × wal_writer_delay (PostgreSQL manual, "Asynchronous Commit"). Only a crash of PostgreSQL itself
        # in that fraction of a second can undo a claim, and that message may then go out twice.
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        for notification in rows:
            with connection.cursor() as cursor:
                cursor.execute(
                    claim_sql,
                    [notification.pk, timezone.now(), notification.pk, EMAIL_SENDING_MARK, notification.pk, previous],
                )
                claimed = notification.pk in {row[0] for row in cursor.fetchall()}
            previous = None
            if not claimed:
                continue
            try:
                mail.send_messages([_email_of(notification)])
            except Exception as exc:
                Notification.objects.filter(pk=notification.pk).update(email_sent_at=None, email_error=str(exc)[:2000])
                if not isinstance(exc, _MESSAGE_ERRORS):
                    raise
                refused = refused or exc
                continue
            previous = notification.pk
            sent += 1
    finally:
        if previous is not None:
            Notification.objects.filter(pk=previous).update(email_error="")
        if asynchronous:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        mail.close()
    if refused is not None:
        raise refused
    return sent


@transaction.atomic
def member_set_reminder_email(*, member: Member, enabled: bool, by=None) -> Member:
    """Turn e-mail for optional reminders on or off (meeting notices are always e-mailed)."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.optional_reminder_email != enabled:
        member.optional_reminder_email = enabled
        member.save(update_fields=["optional_reminder_email", "updated_at"])
        audit_log(
            actor=by,
            action="cells.member.reminder_email",
            instance=member,
            organisation=member.organisation,
            before={"optional_reminder_email": not enabled},
            after={"optional_reminder_email": enabled},
        )
    return member


def notification_mark_read(*, notification: Notification) -> None:
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
