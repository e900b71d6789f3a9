"""Benchmark: fan out one reminder to N members through a real Celery worker (not a test).

Builds its own PostgreSQL database (dropped and re-created each run), one cell of N members with a
meeting 3 days ahead that nobody has answered, then queues one ``rsvp_missing`` rule run on a
private Redis queue and measures, from the moment the task is published until the last e-mail is
written: messages per second, and the worker's peak resident memory (VmHWM of the ``--pool=solo``
worker process). A second run of the rule shows the cost of finding nothing new to send.

    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/reminders_fanout.py --members 10000

E-mails are written by Django's file back end to a temporary directory (no SMTP round trips), or with
``--smtp`` sent over SMTP to a local server (``bench/smtp_sink.py``, aiosmtpd) started by the script, which
records every recipient: the run then checks that each member got exactly one message.
The worker sends ``cells.services.EMAIL_BATCH_SIZE`` e-mails per task over one connection (issue #20).
"""

import argparse
import contextlib
import datetime
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--database", default="bench_reminders")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="worker processes: 1 = the solo pool (default), more = a prefork pool",
    )
    parser.add_argument("--smtp", action="store_true", help="send through a local SMTP server (aiosmtpd)")
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name",
    )
    return parser.parse_args()


def recreate_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def rss_kib(pid: int, field: str) -> int:
    """``VmRSS`` or ``VmHWM`` (peak) of a process and its children (the prefork pool), in KiB."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            total += int(line.split()[1])
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += rss_kib(int(child), field)
    return total


@contextlib.contextmanager
def smtp_sink(directory: Path):
    """A local SMTP server in its own process; yields (its port, the file of the recipients it accepted)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = directory / "smtp-recipients.txt"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), "--port", str(port), "--out", str(out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        process.stdout.readline()  # "SMTP sink on …": it is listening
        yield port, out
    finally:
        process.terminate()
        process.wait(timeout=30)


def build_data(members_count: int):
    from django.utils import timezone

    from cells.models import CellMembership, Member, Organisation
    from cells.services import organisation_create
    from meetings.models import Attendance, Meeting
    from meetings.services import attendance_counts_refresh, meeting_create

    khoi = organisation_create(parent=None, kind=Organisation.Kind.KHOI, name="Đảng bộ Khối (bench)")
    cell = organisation_create(parent=khoi, kind=Organisation.Kind.CHI_BO_CO_SO, name="Chi bộ Bench", short_code="CB")
    members = Member.objects.bulk_create(
        [
            Member(full_name=f"Đảng viên {i:05d}", email=f"dv{i:05d}@bench.example.vn", organisation=cell)
            for i in range(members_count)
        ],
        batch_size=2000,
    )
    CellMembership.objects.bulk_create(
        [CellMembership(member=m, organisation=cell, start=datetime.date(2020, 1, 1)) for m in members], batch_size=2000
    )
    day = timezone.localdate() + datetime.timedelta(days=3)
    start = timezone.make_aware(datetime.datetime(day.year, day.month, day.day, 14, 0))
    meeting = meeting_create(
        organisation=cell,
        kind=Meeting.Kind.REGULAR,
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        place="Hội trường lớn",
    )
    Attendance.objects.bulk_create([Attendance(meeting=meeting, member=m) for m in members], batch_size=2000)
    attendance_counts_refresh(meetings=[meeting.pk])
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.NOTIFIED)


def main():
    args = parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("set REDIS_URL (e.g. redis://127.0.0.1:6379/0): the benchmark runs a real worker")
    os.environ["DATABASE_URL"] = recreate_database(args.pg, args.database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ.setdefault("CONN_MAX_AGE", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from cells.models import Notification
    from meetings.models import ReminderRule
    from meetings.tasks import reminder_rule_run
    from tests.celery_worker import mail_recipients, purge_queue, route_tasks_to, running_worker

    started = time.perf_counter()
    build_data(args.members)
    print(f"data: {args.members} members, 1 meeting, built in {time.perf_counter() - started:.1f} s")
    rule_id = ReminderRule.objects.get(code="rsvp_missing").pk
    queue = f"bench-reminders-{uuid.uuid4().hex[:8]}"
    sent = Notification.objects.filter(kind="meetings.reminder.rsvp_missing", email_sent_at__isnull=False)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        stack.enter_context(route_tasks_to(queue))
        mail_dir = Path(tmp) / "mail"
        mail_dir.mkdir()
        # Production keeps database connections open between tasks (CONN_MAX_AGE defaults to 60 s).
        worker_env = {"CONN_MAX_AGE": "60"}
        if args.smtp:
            port, smtp_out = stack.enter_context(smtp_sink(Path(tmp)))
            worker_env.update(
                {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1"}
            )
            worker_env["EMAIL_PORT"] = str(port)
        with running_worker(
            mail_dir=mail_dir, queues=[queue], extra_env=worker_env, concurrency=args.concurrency
        ) as worker:
            rss_idle = rss_kib(worker.pid, "VmRSS")
            t0 = time.perf_counter()
            reminder_rule_run.delay(rule_id)
            claimed_at = first_at = None
            while True:
                count = sent.count()
                now = time.perf_counter()
                if (
                    claimed_at is None
                    and Notification.objects.filter(kind="meetings.reminder.rsvp_missing").count() == args.members
                ):
                    claimed_at = now - t0
                if first_at is None and count:
                    first_at = now - t0
                if count >= args.members:
                    break
                if now - t0 > 1800:
                    sys.exit(f"timed out with {count} of {args.members} e-mails sent")
                time.sleep(0.25)
            elapsed = time.perf_counter() - t0
            peak = rss_kib(worker.pid, "VmHWM")
            t1 = time.perf_counter()
            reminder_rule_run.delay(rule_id)
            previous = ReminderRule.objects.get(pk=rule_id).last_run_at
            while ReminderRule.objects.get(pk=rule_id).last_run_at == previous:
                time.sleep(0.05)
            rerun = time.perf_counter() - t1
        recipients = smtp_out.read_text().split() if args.smtp else mail_recipients(mail_dir)
        runtimes = sorted(
            float(match)
            for log in Path(tmp).glob("worker-*.log")
            for match in re.findall(r"notification_emails_send\[[^]]+\] succeeded in ([0-9.e-]+)s", log.read_text())
        )
        purge_queue(queue)
    print(f"inbox rows and delivery claims for all members written after {claimed_at:.1f} s")
    print(
        f"first e-mail after {first_at:.2f} s; all {args.members} e-mails after {elapsed:.1f} s "
        f"({len(recipients)} messages {'accepted by the SMTP server' if args.smtp else 'written'}, "
        f"{len(set(recipients))} distinct recipients)"
    )
    print(
        f"throughput: {args.members / elapsed:.0f} messages/s (publish to last e-mail, "
        f"{'one --pool=solo worker' if args.concurrency == 1 else f'a prefork worker of {args.concurrency} processes'})"
    )
    print(
        f"worker RSS: {rss_idle / 1024:.0f} MiB idle, peak {peak / 1024:.0f} MiB "
        "(VmHWM, summed over the pool's processes)"
    )
    if runtimes:
        from cells.services import EMAIL_BATCH_SIZE

        print(
            f"one batch task ({EMAIL_BATCH_SIZE} e-mails) inside the worker: median "
            f"{runtimes[len(runtimes) // 2] * 1000:.0f} ms, slowest {runtimes[-1] * 1000:.0f} ms "
            f"({len(runtimes)} batches)"
        )
    if sorted(recipients) != sorted(set(recipients)) or len(recipients) != args.members:
        sys.exit(f"not exactly one message per member: {len(recipients)} messages, {len(set(recipients))} distinct")
    print(f"second run of the rule (nothing new to send): {rerun:.2f} s")


if __name__ == "__main__":
    main()
