"""Reminders through a real Celery worker on Redis (CI): exactly once when the rule runs twice, when
a worker is killed with SIGKILL in the middle of a batch, and when Redis is down at publish time.

Each test uses its own queue, so runs sharing the Redis server cannot take each other's tasks.
E-mails are counted as the files Django's file back end writes, one message per recipient.
"""

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection
from django.db.models import F
from django.urls import reverse

from cells.models import Notification
from cells.services import EMAIL_SENDING_MARK
from cells.tasks import notification_email_sweep
from meetings.models import Attendance, Meeting, ReminderDelivery, ReminderRule
from meetings.tasks import reminder_rule_run, reminders_dispatch

from .. import celery_worker
from ..celery_worker import ROOT, mail_recipients, purge_queue, route_tasks_to, running_worker, wait_for
from ..conftest import require_or_skip
from ..factories import make_member
from .conftest import plan


@pytest.fixture(autouse=True)
def default_rules(db):
    """The rules the data migration seeds (a transactional test's flush removes them)."""
    import importlib

    from django.apps import apps

    importlib.import_module("meetings.migrations.0003_reminder_rules_seed").seed(apps, None)
    importlib.import_module("meetings.migrations.0008_reminder_params_from_indicators").forward(apps, None)


@pytest.fixture
def queue(real_broker):
    require_or_skip(
        connection.vendor == "postgresql", "needs PostgreSQL (a worker process cannot share the SQLite test database)"
    )
    name = f"test-reminders-{uuid.uuid4().hex[:10]}"
    with route_tasks_to(name):
        yield name
    purge_queue(name)


@pytest.fixture
def mail_dir(tmp_path):
    path = tmp_path / "mail"
    path.mkdir()
    return path


def notified_meeting(cell, members) -> Meeting:
    """A regular meeting 3 days from now, notified, nobody has answered: ``rsvp_missing`` is due today."""
    meeting = plan(cell, days=3)
    Attendance.objects.bulk_create([Attendance(meeting=meeting, member=member) for member in members])
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.NOTIFIED)
    return meeting


def rsvp_rule_id() -> int:
    return ReminderRule.objects.get(code="rsvp_missing").pk


def emails_sent(kind: str) -> int:
    return Notification.objects.filter(kind=kind, email_sent_at__isnull=False).count()


# Leaving ``running_worker`` stops the worker with SIGTERM, Celery's warm shutdown: it finishes the tasks
# it is running before it exits, and stop_process_group waits for that exit. So once the queue is drained
# and the block is left, every task taken from the queue has finished — no sleep is needed.
def queue_drained(queue: str) -> bool:
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL).llen(queue) == 0


@pytest.mark.django_db(transaction=True)
def test_rule_run_twice_and_dispatched_twice_sends_one_email_each(tree, mail_dir, queue):
    members = [make_member(organisation=tree.cell, email=f"hai{i}@example.vn") for i in range(12)]
    notified_meeting(tree.cell, members)
    with running_worker(mail_dir=mail_dir, queues=[queue]):
        rule_id = rsvp_rule_id()
        reminder_rule_run.delay(rule_id)
        reminder_rule_run.delay(rule_id)
        reminders_dispatch.delay()
        reminders_dispatch.delay()
        assert wait_for(lambda: emails_sent("meetings.reminder.rsvp_missing") == 12, timeout=90)
        assert wait_for(lambda: queue_drained(queue), timeout=30)
    assert sorted(mail_recipients(mail_dir)) == sorted(m.email for m in members)
    assert ReminderDelivery.objects.count() == 12


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_every_recipient_gets_exactly_one_email(tree, mail_dir, queue):
    members = [make_member(organisation=tree.cell, email=f"dv{i:02d}@example.vn") for i in range(40)]
    notified_meeting(tree.cell, members)
    rule_id = rsvp_rule_id()
    slow_mail = {"EMAIL_BACKEND": "tests.celery_worker.SlowFileEmailBackend", "TEST_EMAIL_DELAY": "0.3"}
    with running_worker(mail_dir=mail_dir, queues=[queue], extra_env=slow_mail) as worker:
        reminder_rule_run.delay(rule_id)
        # Count messages, not files: the file back end opens a file before it has written the message.
        assert wait_for(lambda: len(mail_recipients(mail_dir)) >= 10, timeout=90, interval=0.02)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    sent_by_first = len(mail_recipients(mail_dir))
    assert 10 <= sent_by_first < 40, "the worker must die in the middle of the batch"
    assert ReminderDelivery.objects.count() == 40  # claimed before the first e-mail

    with running_worker(mail_dir=mail_dir, queues=[queue]):
        # The next beat tick runs the rule again, and the outbox sweep re-queues whatever the killed
        # worker held (its message is only redelivered after the broker's visibility timeout).
        reminder_rule_run.delay(rule_id)
        Notification.objects.update(created_at=F("created_at") - datetime.timedelta(minutes=20))
        notification_email_sweep.delay()
        assert wait_for(lambda: emails_sent("meetings.reminder.rsvp_missing") == 40, timeout=120)
        assert wait_for(lambda: queue_drained(queue), timeout=30)
        notification_email_sweep.delay()
        assert wait_for(lambda: queue_drained(queue), timeout=30)
    recipients = mail_recipients(mail_dir)
    assert sorted(recipients) == sorted(m.email for m in members), "each member exactly once"
    assert Notification.objects.filter(kind="meetings.reminder.rsvp_missing").count() == 40
    # A message the worker was handing to the mail server when it died stays visible to the admin.
    assert Notification.objects.filter(email_error=EMAIL_SENDING_MARK).count() <= 1


PUBLISH_SCRIPT = """
import sys
import django

django.setup()
from django.contrib.auth import get_user_model
from django.test import Client

client = Client()
client.force_login(get_user_model().objects.get(username=sys.argv[1]), backend="django.contrib.auth.backends.ModelBackend")
response = client.post(sys.argv[2])
print(response.status_code)
"""


@pytest.mark.django_db(transaction=True)
def test_notice_published_while_redis_is_down_goes_out_once_redis_is_back(tree, people, mail_dir, queue):
    members = [make_member(organisation=tree.cell, email=f"hop{i}@example.vn") for i in range(3)]
    meeting = plan(tree.cell, days=5, by=people.secretary)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": celery_worker.test_database_url(),
            "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens there: the broker is down
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "CONN_MAX_AGE": "0",
        }
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", PUBLISH_SCRIPT, "secretary", reverse("meetings:publish", args=[meeting.pk])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "302", result.stderr[-3000:]  # the request succeeded
    assert elapsed < 60
    assert "stays in the outbox" in result.stderr
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.NOTIFIED
    notices = Notification.objects.filter(kind="meetings.notice").exclude(email="")
    assert sorted(notices.values_list("email", flat=True)) == sorted(m.email for m in members)
    assert not notices.filter(email_sent_at__isnull=False).exists()
    assert list(mail_dir.iterdir()) == []

    with running_worker(mail_dir=mail_dir, queues=[queue]):
        # Redis is back. Beat runs the sweep every 5 minutes; it leaves rows younger than 15 minutes to
        # the normal path, so age them as if the outage had lasted 20 minutes.
        Notification.objects.update(created_at=F("created_at") - datetime.timedelta(minutes=20))
        notification_email_sweep.delay()
        assert wait_for(lambda: not notices.filter(email_sent_at__isnull=True).exists(), timeout=90)
        notification_email_sweep.delay()  # a second sweep finds nothing left to send
        assert wait_for(lambda: queue_drained(queue), timeout=30)
    assert sorted(mail_recipients(mail_dir)) == sorted(m.email for m in members)
    assert notices.filter(email_error="").count() == 3
