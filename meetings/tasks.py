"""Background tasks of the meetings app: thin wrappers over ``meetings.reminders``, taking ids, safe to run twice.

Beat runs ``reminders_dispatch`` (declared in ``CELERY_BEAT_SCHEDULE``); it queues one
``reminder_rule_run`` per enabled rule. Each run claims its deliveries in the database before any
message is written, so running either task twice sends nothing twice. Beat also runs
``async_decisions_close`` every five minutes (a page showing a due question closes it too). Transient database and broker
errors are retried with backoff; e-mail errors are handled per message by ``cells.tasks``.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from . import async_decisions, reminders

TRANSIENT = (OperationalError, InterfaceError, BrokerError, ConnectionError)


@shared_task(
    acks_late=True, autoretry_for=TRANSIENT, max_retries=5, retry_backoff=30, retry_backoff_max=600, retry_jitter=True
)
def reminder_rule_run(rule_id: int) -> int:
    return reminders.reminder_rule_run(rule_id=rule_id)


@shared_task(
    acks_late=True, autoretry_for=TRANSIENT, max_retries=5, retry_backoff=30, retry_backoff_max=600, retry_jitter=True
)
def reminders_dispatch() -> int:
    """Periodic: queue a run of every enabled reminder rule."""
    rule_ids = reminders.enabled_rule_ids()
    for rule_id in rule_ids:
        reminder_rule_run.delay(rule_id)
    return len(rule_ids)


@shared_task(
    acks_late=True, autoretry_for=TRANSIENT, max_retries=5, retry_backoff=30, retry_backoff_max=600, retry_jitter=True
)
def async_decisions_close() -> int:
    """Periodic: close the questions asked between meetings whose deadline has passed (issue #17, item 4).
    Each is closed once under its row lock; two workers running it at once close each one once."""
    return async_decisions.decisions_close_due()
