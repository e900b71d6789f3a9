"""Redis stopped: the pages still work.

Redis is only Celery's broker here (base.py has no CACHES, so the cache is in process memory; sessions
and django-axes use the database). A real gunicorn server runs with REDIS_URL pointing at a port where
nothing listens; the pages answer 200, and an action that queues e-mails answers at once (the
notification rows are the outbox, swept again once Redis is back: tests/meetings/test_reminders_worker.py).
"""

import pytest
from django.db import connection
from django.urls import reverse

from cells.models import Notification
from meetings.models import Meeting
from reports.models import ReportRun

from ..conftest import require_or_skip
from ..factories import make_member
from ..meetings.conftest import plan
from .server import REQUEST_TIMEOUT, Visitor, running_server

pytestmark = pytest.mark.django_db(transaction=True)
REDIS_DOWN = {"REDIS_URL": "redis://127.0.0.1:1/0"}  # nothing listens on port 1


@pytest.fixture
def postgres(transactional_db):
    require_or_skip(
        connection.vendor == "postgresql", "needs PostgreSQL (a server process cannot share the SQLite test database)"
    )


def test_pages_work_and_a_notice_is_kept_while_redis_is_down(postgres, tree, people, tmp_path):
    for n in range(3):
        make_member(organisation=tree.cell, email=f"dv{n}@example.vn")
    meeting = plan(tree.cell, days=5, by=people.secretary)
    with running_server(tmp_path, extra_env=REDIS_DOWN) as server:
        secretary = Visitor(server)
        secretary.log_in("secretary")
        for path in (
            reverse("cells:member_list"),
            reverse("meetings:cell_list", args=[tree.cell.pk]),
            reverse("meetings:detail", args=[meeting.pk]),
            reverse("inbox:inbox"),
            reverse("cells:member_detail", args=[people.members["member"].pk]),
        ):
            answer = secretary.get(path)
            assert answer.status == 200, (path, answer, server.log_tail())

        answer = secretary.post(reverse("meetings:publish", args=[meeting.pk]), {})
        assert answer.status == 302, (answer, server.log_tail())
        assert answer.elapsed < REQUEST_TIMEOUT / 2
        assert "stays in the outbox" in server.log.read_text()

    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.NOTIFIED
    outbox = Notification.objects.filter(kind="meetings.notice").exclude(email="")
    assert outbox.count() == 3
    assert not outbox.filter(email_sent_at__isnull=False).exists()


def test_an_annual_report_requested_while_redis_is_down_is_kept_pending(postgres, tree, people, tmp_path):
    """The run row is saved and the officer is sent back to the list; the beat sweep (or "Lập lại") queues it later."""
    with running_server(tmp_path, extra_env=REDIS_DOWN) as server:
        officer = Visitor(server)
        officer.log_in("officer")
        path = reverse("reports:runs", args=[tree.tccs.pk])
        assert officer.get(path).status == 200
        answer = officer.post(path, {"year": "2026"})
        assert answer.status == 302, (answer, server.log_tail())
        assert answer.elapsed < REQUEST_TIMEOUT / 2
        assert "stays pending" in server.log.read_text()
    assert list(ReportRun.objects.values_list("status", flat=True)) == [ReportRun.Status.PENDING]
