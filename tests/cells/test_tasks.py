"""Notification e-mails: eagerly without a broker, and through a real Celery worker on Redis in CI."""

import uuid

import pytest
from django.core import mail
from django.db import connection, transaction

from cells import services
from cells.models import Notification

from ..celery_worker import purge_queue, route_tasks_to, running_worker, wait_for
from ..conftest import require_or_skip
from ..factories import make_member


@pytest.mark.django_db
def test_one_email_per_member_after_commit(tree, django_capture_on_commit_callbacks):
    members = [make_member(organisation=tree.cell, email=f"dv{i}@example.vn") for i in range(3)]
    members.append(make_member(organisation=tree.cell, email=""))
    with django_capture_on_commit_callbacks(execute=True):
        rows = services.notification_send(
            members=members,
            kind="cells.test",
            subject="Thông báo họp chi bộ",
            body="Kính gửi đồng chí",
            organisation=tree.cell,
        )
    assert len(rows) == 4
    assert sorted(m.to for m in mail.outbox) == [["dv0@example.vn"], ["dv1@example.vn"], ["dv2@example.vn"]]
    assert Notification.objects.filter(email_sent_at__isnull=False).count() == 3


@pytest.mark.django_db
def test_delivering_twice_sends_once(tree):
    member = make_member(organisation=tree.cell, email="mot@example.vn")
    with transaction.atomic():
        [row] = services.notification_send(members=[member], kind="cells.test", subject="S", body="B")
    assert services.notification_deliver_email(notification_id=row.pk) is True
    assert services.notification_deliver_email(notification_id=row.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_real_worker_on_redis_sends_the_email(tree, tmp_path, real_broker):
    require_or_skip(
        connection.vendor == "postgresql", "needs PostgreSQL (a worker process cannot share the SQLite test database)"
    )
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    member = make_member(organisation=tree.cell, email="worker@example.vn", full_name="Võ Thị Tư")
    queue = f"test-cells-{uuid.uuid4().hex[:10]}"  # other test runs' workers must not take this task
    with route_tasks_to(queue), running_worker(mail_dir=mail_dir, queues=[queue]):
        with transaction.atomic():
            [row] = services.notification_send(
                members=[member], kind="cells.test", subject="Họp chi bộ tháng 12", body="Kính gửi đồng chí Võ Thị Tư"
            )
        assert wait_for(lambda: Notification.objects.get(pk=row.pk).email_sent_at is not None, timeout=60)
    purge_queue(queue)
    messages = [p.read_text() for p in mail_dir.iterdir()]
    assert len(messages) == 1
    assert "worker@example.vn" in messages[0]


@pytest.mark.django_db
def test_sweep_sends_outbox_rows_that_never_reached_the_broker(tree, time_machine):
    time_machine.move_to("2026-11-26 08:00 +07:00")
    members = [make_member(organisation=tree.cell, email=f"hop{i}@example.vn") for i in range(2)]
    # The on-commit queueing never runs inside this test's transaction, as if the broker had been down.
    services.notification_send(members=members, kind="cells.test", subject="S", body="B")
    assert mail.outbox == []
    from cells.tasks import notification_email_sweep

    assert notification_email_sweep() == 0  # too recent: the normal path may still be queueing them
    time_machine.move_to("2026-11-26 08:16 +07:00")
    assert notification_email_sweep() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["hop0@example.vn", "hop1@example.vn"]
    assert notification_email_sweep() == 0
