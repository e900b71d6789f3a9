"""The close of questions asked between meetings through a real Celery worker on Redis (CI): the periodic
task run twice at once by a pool of two processes closes each due question once, records its result and
sends each member one result e-mail. Own queue per test, as in test_reminders_worker.py."""

import datetime
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from cells.models import AuditEntry, Notification
from meetings import async_decisions
from meetings.models import AsyncDecision
from meetings.tasks import async_decisions_close

from ..celery_worker import mail_recipients, purge_queue, route_tasks_to, running_worker, wait_for
from ..conftest import require_or_skip
from ..factories import make_member


@pytest.fixture
def queue(real_broker):
    require_or_skip(
        connection.vendor == "postgresql", "needs PostgreSQL (a worker process cannot share the SQLite test database)"
    )
    name = f"test-async-{uuid.uuid4().hex[:10]}"
    with route_tasks_to(name):
        yield name
    purge_queue(name)


@pytest.fixture
def mail_dir(tmp_path):
    path = tmp_path / "mail"
    path.mkdir()
    return path


def queue_drained(queue: str) -> bool:
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL).llen(queue) == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_close_at_once_close_each_due_question_once(tree, mail_dir, queue):
    members = [make_member(organisation=tree.cell, email=f"dv{i}@example.vn") for i in range(5)]
    opened = [
        async_decisions.decision_open(
            cell=tree.cell, question=f"Câu hỏi {n}", deadline=timezone.now() + datetime.timedelta(days=1)
        )
        for n in range(3)
    ]
    for member in members[:3]:
        async_decisions.ballot_answer(
            token=async_decisions.answer_token(decision=opened[0], member=member), choice="for"
        )
    # The deadline passes (the worker reads the real clock, so the rows are moved back instead).
    past = timezone.now() - datetime.timedelta(minutes=1)
    AsyncDecision.objects.filter(pk__in=[d.pk for d in opened]).update(
        opened_at=past - datetime.timedelta(days=1), deadline=past
    )
    with running_worker(mail_dir=mail_dir, queues=[queue], concurrency=2):
        async_decisions_close.delay()
        async_decisions_close.delay()
        assert wait_for(lambda: not AsyncDecision.objects.filter(state="open").exists(), timeout=90)
        assert wait_for(
            lambda: (
                Notification.objects.filter(kind="meetings.async_decision.result", email_sent_at__isnull=False).count()
                == 15
            ),
            timeout=90,
        )
        assert wait_for(lambda: queue_drained(queue), timeout=30)
    assert AuditEntry.objects.filter(action="meetings.async_decision.close").count() == 3
    first = AsyncDecision.objects.get(pk=opened[0].pk)
    assert (first.eligible_count, first.votes_for, first.not_answered, first.passed) == (5, 3, 2, True)
    # Each member: 3 opening notices (queued at commit, sent by the worker) and 3 results, one e-mail each.
    recipients = mail_recipients(mail_dir)
    assert sorted(recipients) == sorted(m.email for m in members for _ in range(6))
    assert Notification.objects.filter(kind="meetings.async_decision.result").count() == 15
