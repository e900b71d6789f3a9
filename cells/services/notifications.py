"""Notifications: the inbox row and the e-mail that may follow it."""

import datetime
import email
import logging
import re
import select
import smtplib
import time
import uuid
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone

from ..models import (
    Member,
    Notification,
    Organisation,
)
from .audit import audit_log

logger = logging.getLogger(__name__)


# --- notifications -----------------------------------------------------------------------


def _insert(rows: list[Notification]) -> None:
    """``bulk_create`` of new notifications. On PostgreSQL: one ``INSERT … SELECT FROM unnest(…)`` with one
    array per column, built here. Django's own bulk_create sends the same statement, but first prepares
    every value of every row through its field (13 per row), which for a reminder fan-out of thousands
    cost more than the insert itself (issue #20). The ids come back in the order of the rows (as Django's
    UNNEST insert relies on too)."""
    if connection.vendor != "postgresql" or len(rows) < 2:
        Notification.objects.bulk_create(rows)
        return
    now = timezone.now()
    for row in rows:
        row.created_at = now  # auto_now_add
    qn = connection.ops.quote_name
    fields = [field for field in Notification._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(qn(field.column) for field in fields)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    sql = (
        f"INSERT INTO {qn(Notification._meta.db_table)} ({columns}) "  # noqa: S608 - names quoted, values arrays
        f"SELECT * FROM unnest({arrays}) RETURNING {qn(Notification._meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [[getattr(row, field.attname) for row in rows] for field in fields])
        ids = [pk for (pk,) in cursor.fetchall()]
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding, row._state.db = False, connection.alias


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
    _insert(rows)
    ids = [row.pk for row in rows if row.email]
    if ids:
        transaction.on_commit(lambda: notification_emails_enqueue(notification_ids=ids), robust=True)
    return rows


def email_batch_size() -> int:
    """How many e-mails one worker task sends over one connection to the mail server
    (``NOTIFICATION_EMAIL_BATCH_SIZE``; issue #20: a task, a broker round trip and an SMTP session per
    message capped the fan-out near 125 messages/s)."""
    return max(1, int(getattr(settings, "NOTIFICATION_EMAIL_BATCH_SIZE", EMAIL_BATCH_SIZE)))


EMAIL_BATCH_SIZE = 250  # the default of the setting


def notification_emails_enqueue(*, notification_ids) -> int:
    """Queue the e-mails of these notifications, ``email_batch_size()`` to a task. The rows are the outbox:
    if the broker is down the request still succeeds, and ``notification_email_sweep`` queues them again
    once it is back. Returns how many notifications were queued."""
    from ..tasks import notification_emails_send

    ids = list(notification_ids)
    queued, size = 0, email_batch_size()
    for index in range(0, len(ids), size):
        batch = ids[index : index + size]
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


# A recipient the fast path writes into the envelope and the ``To:`` header as it is: an ASCII address with
# nothing to quote or encode. Anything else (a display name, an IDN, a quote) goes through Django's own
# address handling.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
# RFC 5322 §2.1.1: a line is at most 998 octets; Django switches to quoted-printable past it.
_MAX_LINE = 998
# The header fields that differ from one message of a batch to the next.
_OWN_FIELDS = {b"to", b"date", b"message-id", b"content-transfer-encoding"}


class _PreparedMessage:
    """The bytes of a composed message, with the part of ``email.message.Message`` the back ends use."""

    def __init__(self, data: bytes):
        self._data = data  # CRLF line ends

    def as_bytes(self, unixfrom=False, linesep="\n"):
        return self._data if linesep == "\r\n" else self._data.replace(b"\r\n", linesep.encode())

    def as_string(self, unixfrom=False, linesep="\n"):
        return self.as_bytes(linesep=linesep).decode("utf-8")

    def get_charset(self):
        return None  # the console and file back ends then read the bytes as UTF-8

    def __getitem__(self, name):
        return email.message_from_bytes(self._data)[name]


class _PreparedEmail(EmailMessage):
    """A plain-text e-mail whose MIME form ``_Composer`` built from a shared header block; the attributes
    (subject, body, to) are the usual ones, so every back end, the test outbox included, reads it as usual."""

    def __init__(self, subject, body, to, data: bytes):
        super().__init__(subject, body, None, [to])
        self._data = data

    def message(self):
        return _PreparedMessage(self._data)


class _Composer:
    """Builds the plain-text e-mails of one batch without building each one's MIME tree.

    Django composes one message per subject (its encoded ``Subject``, ``From``, ``Content-Type`` and
    ``MIME-Version`` fields); each message then gets its own ``To``, ``Date``, ``Message-ID`` and
    ``Content-Transfer-Encoding`` and its UTF-8 body, exactly as Django would write them (7bit for an ASCII
    body, 8bit otherwise, CRLF line ends). A notification the shortcut cannot write the same way (an
    attachment, an address that needs quoting or encoding, a body line over 998 octets or a bare CR) is
    composed by Django in full (``_email_of``). Measured in issue #20: 0.67 ms of Django's work per message
    against a few microseconds here.
    """

    def __init__(self):
        from django.core.mail.message import sanitize_address
        from django.core.mail.utils import DNS_NAME

        self.from_email = settings.DEFAULT_FROM_EMAIL
        self.envelope_from = sanitize_address(self.from_email, settings.DEFAULT_CHARSET)
        self.domain = str(DNS_NAME)
        self.localtime = settings.EMAIL_USE_LOCALTIME
        self._shared: dict[str, bytes] = {}
        self._date = (None, b"")

    def _shared_fields(self, subject: str) -> bytes:
        shared = self._shared.get(subject)
        if shared is None:
            template = EmailMessage(subject, "", self.from_email, ["template@example.invalid"])
            head = template.message().as_bytes(linesep="\r\n").partition(b"\r\n\r\n")[0]
            fields, keep = [], False
            for line in head.split(b"\r\n"):
                if line[:1] in (b" ", b"\t"):  # a folded field goes on
                    if keep:
                        fields.append(line)
                    continue
                keep = line.split(b":", 1)[0].strip().lower() not in _OWN_FIELDS
                if keep:
                    fields.append(line)
            shared = self._shared[subject] = b"\r\n".join(fields) + b"\r\n"
        return shared

    def _date_field(self) -> bytes:
        second = int(time.time())
        if self._date[0] != second:
            self._date = (second, formatdate(second, localtime=self.localtime).encode())
        return self._date[1]

    def compose(self, notification: Notification) -> tuple[EmailMessage, str | None, bytes | None]:
        """The e-mail, and for the shortcut also its envelope recipient and bytes (None, None otherwise)."""
        body, to = notification.body, notification.email
        if notification.attachment_name or "\r" in body or not _PLAIN_ADDRESS.fullmatch(to):
            return _email_of(notification), None, None
        lines = body.split("\n")
        try:
            encoded = "\r\n".join(lines).encode("utf-8")
        except UnicodeEncodeError:
            return _email_of(notification), None, None
        if len(encoded) > _MAX_LINE and any(len(line.encode("utf-8")) > _MAX_LINE for line in lines):
            return _email_of(notification), None, None
        data = b"".join(
            [
                self._shared_fields(notification.subject),
                b"To: ",
                to.encode(),
                b"\r\nDate: ",
                self._date_field(),
                b"\r\nMessage-ID: ",
                make_msgid(domain=self.domain).encode(),
                b"\r\nContent-Transfer-Encoding: ",
                b"7bit" if encoded.isascii() else b"8bit",
                b"\r\n\r\n",
                encoded,
            ]
        )
        return _PreparedEmail(notification.subject, body, to, data), to, data


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


class _Claims:
    """The claim of each message of a batch (``_claim_next_sql``), one statement per message.

    On PostgreSQL the statement is prepared once per batch and each execution is sent without waiting for
    its answer (libpq's asynchronous ``PQsendQueryPrepared``), and the answer is read only when it is needed: after the SMTP envelope
    (MAIL, RCPT), before the message's DATA. The database's round trip then overlaps the mail server's,
    and nothing is handed over before its row is claimed. Elsewhere the statement simply runs when the
    answer is asked for. ``claimed()`` may be asked again: it keeps the answer.
    """

    def __init__(self):
        self.sql = _claim_next_sql()
        self.pgconn = None
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            self.pgconn = connection.connection.pgconn
            parts = self.sql.split("%s")
            # Prepared once per batch (parsed and planned once, not once per message), dropped in ``close``.
            self.name = f"portal_email_claim_{uuid.uuid4().hex}".encode()
            libpq_sql = "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]
            self.pgconn.send_prepare(self.name, libpq_sql.encode())
            self._flush()
            self._results()
        self._params = None
        self._pending, self._answer = False, False

    def close(self) -> None:
        if self.pgconn is not None:
            self.claimed()  # nothing left unread on the connection
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"DEALLOCATE {self.name.decode()}")
            except DatabaseError:  # an aborted transaction: the statement goes with the connection
                logger.warning("could not drop the prepared e-mail claim %s", self.name.decode())

    def _flush(self) -> None:
        while self.pgconn.flush():
            select.select([], [self.pgconn.socket], [])

    def send(self, pk: int, previous: int | None) -> None:
        self._params = [pk, timezone.now(), pk, EMAIL_SENDING_MARK, pk, previous]
        if self.pgconn is not None:
            values = [
                None if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v)).encode()
                for v in self._params
            ]
            self.pgconn.send_query_prepared(self.name, values)
            self._flush()
        self._pending = True

    def _results(self) -> list:
        from psycopg import pq

        pgconn, results = self.pgconn, []
        while True:
            while pgconn.is_busy():
                select.select([pgconn.socket], [], [])
                pgconn.consume_input()
            result = pgconn.get_result()
            if result is None:
                break
            results.append(result)
        for result in results:
            if result.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
                raise OperationalError((result.error_message or b"").decode(errors="replace"))
        return results

    def _answer_from_libpq(self) -> set[int]:
        return {int(result.get_value(row, 0)) for result in self._results() for row in range(result.ntuples)}

    def claimed(self) -> bool:
        if not self._pending:
            return self._answer
        self._pending, self._answer = False, False
        pk = self._params[0]
        if self.pgconn is not None:
            self._answer = pk in self._answer_from_libpq()
        else:
            with connection.cursor() as cursor:
                cursor.execute(self.sql, self._params)
                self._answer = pk in {row[0] for row in cursor.fetchall()}
        return self._answer


def _smtp_deliver(session, sender: str, recipient: str, data: bytes, claimed) -> bool:
    """One message over an open ``smtplib.SMTP`` session, as its ``sendmail`` sends it (same commands, same
    errors, the transaction reset after a refusal), except that ``claimed()`` is asked between the envelope
    and the data: only a claimed message is handed over. Returns whether it was."""
    code, response = session.docmd("mail", f"FROM:{sender}")
    if code != 250:
        session.close() if code == 421 else session._rset()
        raise smtplib.SMTPSenderRefused(code, response, sender)
    code, response = session.docmd("rcpt", f"TO:<{recipient}>")
    if code not in (250, 251):
        session.close() if code == 421 else session._rset()
        raise smtplib.SMTPRecipientsRefused({recipient: (code, response)})
    try:
        ours = claimed()
    except BaseException:
        session._rset()
        raise
    if not ours:
        session._rset()
        return False
    code, response = session.data(data)
    if code != 250:
        session.close() if code == 421 else session._rset()
        raise smtplib.SMTPDataError(code, response)
    return True


def notification_deliver_emails(*, notification_ids) -> int:
    """Send the e-mails of these notifications over one connection to the mail server; each at most once.

    Each row is claimed just before its message is handed over, with the same conditional UPDATE as a
    single send, and marked ``EMAIL_SENDING_MARK`` until the next statement: a worker killed in the middle
    of a batch leaves at most one message in doubt, and the rows it had not reached unclaimed for the
    outbox sweep. A message the server refuses is recorded on its row and the others go on; the first
    such error is raised at the end (the task retries the batch, which skips what was sent). An error of
    the connection itself stops the batch and is raised at once. Returns the number of e-mails sent.

    The messages are composed by ``_Composer`` (one MIME header block per subject), and with Django's SMTP
    back end handed straight to its session (``_smtp_deliver``), the claim's round trip to the database
    overlapping the envelope's (``_Claims``).
    """
    from django.core.mail import get_connection
    from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

    rows = list(
        Notification.objects.filter(pk__in=list(notification_ids), email_sent_at__isnull=True)
        .exclude(email="")
        .order_by("pk")
    )
    if not rows:
        return 0
    sent, previous, refused = 0, None, None
    mail = get_connection()
    mail.open()
    composer = _Composer()
    # Django's SMTP back end: hand the composed bytes to its smtplib session (its own ``send_messages`` would
    # parse and re-encode both addresses of every message first). Any other back end gets the messages.
    smtp_session = mail.connection if getattr(type(mail), "_send", None) is SMTPBackend._send else None  # type: ignore[attr-defined]
    if smtp_session is not None:
        smtp_session.ehlo_or_helo_if_needed()
        sender = smtplib.quoteaddr(composer.envelope_from)
    asynchronous = connection.vendor == "postgresql"
    if asynchronous:
        # Each claim is its own commit, so that a worker killed mid-batch leaves at most one message in
        # doubt. Waiting for each commit to reach the disk (~4 ms here) would cap a worker near 250
        # messages/s; an asynchronous commit is applied and visible at once and reaches the disk within
        # 3 × wal_writer_delay (PostgreSQL manual, "Asynchronous Commit"). Only a crash of PostgreSQL itself
        # in that fraction of a second can undo a claim, and that message may then go out twice.
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    claims = None
    try:
        claims = _Claims()
        for notification in rows:
            claims.send(notification.pk, previous)
            previous = None  # the statement has taken the previous message's mark off
            try:
                message, recipient, data = composer.compose(notification)
                if data is not None and recipient is not None and smtp_session is not None:
                    delivered = _smtp_deliver(smtp_session, sender, recipient, data, claims.claimed)
                elif claims.claimed():
                    mail.send_messages([message])
                    delivered = True
                else:
                    delivered = False
            except Exception as exc:
                ours = claims.claimed()  # the answer is in (a failed claim raised and answers no)
                if ours:
                    Notification.objects.filter(pk=notification.pk).update(
                        email_sent_at=None, email_error=str(exc)[:2000]
                    )
                if not isinstance(exc, _MESSAGE_ERRORS):
                    raise
                if ours:
                    refused = refused or exc
                continue
            if delivered:
                previous = notification.pk
                sent += 1
    finally:
        if claims is not None:
            claims.close()  # nothing left unread on the database connection, the prepared claim dropped
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
