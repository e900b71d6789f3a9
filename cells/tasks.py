"""Background tasks of the cells app: thin wrappers over services, taking ids, safe to run twice."""

import smtplib

from celery import shared_task

from . import services


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=5,
    autoretry_for=(smtplib.SMTPException, ConnectionError, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
)
def notification_email_send(self, notification_id: int) -> bool:
    return services.notification_deliver_email(notification_id=notification_id)


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=5,
    autoretry_for=(smtplib.SMTPException, ConnectionError, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
)
def notification_emails_send(self, notification_ids: list[int]) -> int:
    """A batch of e-mails over one mail-server connection; a retry sends only what is still unsent."""
    return services.notification_deliver_emails(notification_ids=notification_ids)


@shared_task(acks_late=True)
def notification_email_sweep() -> int:
    """Periodic: re-queue outbox e-mails that never reached the broker (e.g. Redis was down)."""
    return services.notification_emails_enqueue(notification_ids=services.notification_pending_email_ids())
