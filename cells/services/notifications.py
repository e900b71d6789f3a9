"""Notifications: the inbox row and the e-mail that may follow it."""

import datetime
import logging

from django.db import transaction
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


def notification_emails_enqueue(*, notification_ids) -> int:
    """Queue one e-mail task per notification. The rows are the outbox: if the broker is down the
    request still succeeds, and ``notification_email_sweep`` queues them again once it is back."""
    from ..tasks import notification_email_send

    queued = 0
    for notification_id in notification_ids:
        try:
            notification_email_send.delay(notification_id)
        except Exception as exc:  # kombu raises several connection error types
            logger.warning("broker unavailable, notification %s stays in the outbox: %s", notification_id, exc)
            break
        queued += 1
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
