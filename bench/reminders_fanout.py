"""Benchmark: fan out one reminder to N members through a real Celery worker (not a test).

Builds its own PostgreSQL database (dropped and re-created each run), one cell of N members with a
meeting 3 days ahead that nobody has answered, then queues one ``rsvp_missing`` rule run on a
private Redis queue and measures, from the moment the task is published until the last e-mail is
accepted: messages per second, and the worker's peak resident memory (VmHWM of the ``--pool=solo``
worker process). A second run of the rule shows the cost of finding nothing new to send.

    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/reminders_fanout.py --members 2000 --repeat 3

E-mails go over SMTP to a local server (``bench/smtp_sink.py``, aiosmtpd) the script starts, which records
every recipient: each run checks that each member got exactly one message. ``--no-smtp`` writes them with
Django's file back end instead. ``--repeat`` runs the fan-out that many times (the claims and inbox rows
deleted in between) and prints the median; the load average is printed before and after each run (the
figure means little on a busy machine). ``--in-process`` also times the same work without the worker and
the broker: the rule run, then the e-mail batches, in this process, to the same SMTP server.
The rule claims and writes ``REMINDER_BATCH_SIZE`` recipients per transaction; the worker sends
``NOTIFICATION_EMAIL_BATCH_SIZE`` e-mails per task over one connection (issue #20).
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
    parser.add_argument(
        "--smtp",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send through a local SMTP server (aiosmtpd), the default; --no-smtp: Django's file back end",
    )
    parser.add_argument("--repeat", type=int, default=1, help="fan-outs through the worker; the median is printed")
    parser.add_argument("--in-process", action="store_true", help="also time the same work in this process")
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (the prefork pool), in seconds: unlike the
    wall clock, it does not grow when other work on the machine keeps the process waiting for a core."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += cpu_seconds(int(child))
    return total


@contextlib.contextmanager
def smtp_sink(directory: Path, *, port: int | None = None, out: Path | None = None):
    """A local SMTP server in its own process; yields (its port, the file of the recipients it accepted)."""
    port = port or free_port()
    out = out or directory / "smtp-recipients.txt"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), "--port", str(port), "--out", str(out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        process.stdout.readline()  # "SMTP sink on …": it is listening
        yield port, out, process
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


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def fan_out_through_worker(args, rule_id, smtp_port, tmp: Path, index: int) -> dict:
    """One fan-out through a fresh worker; returns its figures."""
    from cells.models import Notification
    from meetings.models import ReminderRule
    from meetings.tasks import reminder_rule_run
    from tests.celery_worker import mail_recipients, purge_queue, route_tasks_to, running_worker

    queue = f"bench-reminders-{uuid.uuid4().hex[:8]}"
    sent = Notification.objects.filter(kind="meetings.reminder.rsvp_missing", email_sent_at__isnull=False)
    mail_dir = tmp / f"mail-{index}"
    mail_dir.mkdir()
    smtp_out = tmp / f"smtp-recipients-{index}.txt"
    # Production keeps database connections open between tasks (CONN_MAX_AGE defaults to 60 s).
    worker_env = {"CONN_MAX_AGE": "60"}
    if smtp_port:
        worker_env.update(
            {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp_port),
            }
        )
    with contextlib.ExitStack() as stack:
        stack.enter_context(route_tasks_to(queue))
        sink = None
        if smtp_port:
            _port, _out, sink = stack.enter_context(smtp_sink(tmp, port=smtp_port, out=smtp_out))
        with running_worker(
            mail_dir=mail_dir, queues=[queue], extra_env=worker_env, concurrency=args.concurrency
        ) as worker:
            rss_idle = rss_kib(worker.pid, "VmRSS")
            load_before = load_average()
            cpu_before = cpu_seconds(worker.pid), cpu_seconds(sink.pid) if sink else 0.0
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
                time.sleep(0.02)
            elapsed = time.perf_counter() - t0
            cpu = cpu_seconds(worker.pid) - cpu_before[0], (cpu_seconds(sink.pid) - cpu_before[1]) if sink else 0.0
            load_after = load_average()
            peak = rss_kib(worker.pid, "VmHWM")
            t1 = time.perf_counter()
            reminder_rule_run.delay(rule_id)
            previous = ReminderRule.objects.get(pk=rule_id).last_run_at
            while ReminderRule.objects.get(pk=rule_id).last_run_at == previous:
                time.sleep(0.05)
            rerun = time.perf_counter() - t1
        purge_queue(queue)
    # The sink has stopped: every recipient it accepted is in its file.
    recipients = smtp_out.read_text().split() if smtp_port else mail_recipients(mail_dir)
    runtimes = sorted(
        float(match)
        for log in tmp.glob("worker-*.log")
        for match in re.findall(r"notification_emails_send\[[^]]+\] succeeded in ([0-9.e-]+)s", log.read_text())
    )
    for log in tmp.glob("worker-*.log"):
        log.unlink()
    return {
        "elapsed": elapsed,
        "claimed_at": claimed_at,
        "first_at": first_at,
        "recipients": recipients,
        "rss_idle": rss_idle,
        "peak": peak,
        "rerun": rerun,
        "runtimes": runtimes,
        "load": (load_before, load_after),
        "cpu": cpu,
    }


def fan_out_in_process(args, rule_id, smtp_port) -> tuple[float, float, int]:
    """The same work without worker nor broker: the rule run, then its e-mail batches, here. Returns the
    seconds of each and the number of e-mails sent."""
    from django.test.utils import override_settings

    from cells.services import notifications
    from meetings.reminders import reminder_rule_run

    queued: list[int] = []
    enqueue = notifications.notification_emails_enqueue
    notifications.notification_emails_enqueue = lambda *, notification_ids: queued.extend(notification_ids)
    backend = (
        {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": smtp_port,
        }
        if smtp_port
        else {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    )
    try:
        t0 = time.perf_counter()
        reminder_rule_run(rule_id=rule_id)
        t1 = time.perf_counter()
        # (``email_batch_size`` is the setting; older trees had only the constant: the script also times them)
        size = notifications.email_batch_size() if hasattr(notifications, "email_batch_size") else 100
        sent = 0
        with override_settings(**backend):
            for index in range(0, len(queued), size):
                sent += notifications.notification_deliver_emails(notification_ids=queued[index : index + size])
        t2 = time.perf_counter()
    finally:
        notifications.notification_emails_enqueue = enqueue
    return t1 - t0, t2 - t1, sent


def smtp_floor(port: int, count: int) -> float:
    """Messages/s of bare smtplib to the same sink, one prebuilt message after the other on one connection,
    no database: what the mail server and the machine allow at this moment."""
    import smtplib

    data = ("Subject: floor\r\n\r\n" + "Kính gửi đồng chí\r\n" * 12).encode()
    with smtplib.SMTP("127.0.0.1", port) as session:
        started = time.perf_counter()
        for index in range(count):
            session.sendmail("floor@bench.example.vn", [f"floor{index}@bench.example.vn"], data)
        return count / (time.perf_counter() - started)


def reset_fan_out():
    from cells.models import Notification
    from meetings.models import ReminderDelivery

    ReminderDelivery.objects.all().delete()
    Notification.objects.all().delete()


def main():
    args = parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("set REDIS_URL (e.g. redis://127.0.0.1:6379/0): the benchmark runs a real worker")
    os.environ["DATABASE_URL"] = recreate_database(args.pg, args.database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ.setdefault("CONN_MAX_AGE", "0")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from meetings.models import ReminderRule

    started = time.perf_counter()
    build_data(args.members)
    print(f"data: {args.members} members, 1 meeting, built in {time.perf_counter() - started:.1f} s")
    print(
        f"batches: {getattr(settings, 'REMINDER_BATCH_SIZE', '?')} recipients per claim transaction, "
        f"{getattr(settings, 'NOTIFICATION_EMAIL_BATCH_SIZE', '?')} e-mails per task; "
        f"{'SMTP to a local aiosmtpd sink' if args.smtp else 'Django file back end'}"
    )
    rule_id = ReminderRule.objects.get(code="rsvp_missing").pk
    rates, failed = [], False
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for index in range(args.repeat):
            if index:
                reset_fan_out()
            port = free_port() if args.smtp else None
            run = fan_out_through_worker(args, rule_id, port, tmp, index)
            recipients, elapsed = run["recipients"], run["elapsed"]
            rates.append(args.members / elapsed)
            print(f"run {index + 1}: load average before {run['load'][0]}, after {run['load'][1]}")
            print(f"  inbox rows and delivery claims for all members written after {run['claimed_at']:.2f} s")
            print(
                f"  first e-mail after {run['first_at']:.2f} s; all {args.members} e-mails after {elapsed:.2f} s "
                f"({len(recipients)} messages {'accepted by the SMTP server' if args.smtp else 'written'}, "
                f"{len(set(recipients))} distinct recipients)"
            )
            print(
                f"  throughput: {rates[-1]:.0f} messages/s (publish to last e-mail, "
                f"{'one --pool=solo worker' if args.concurrency == 1 else f'a prefork worker of {args.concurrency} processes'})"
            )
            print(
                f"  worker RSS: {run['rss_idle'] / 1024:.0f} MiB idle, peak {run['peak'] / 1024:.0f} MiB "
                "(VmHWM, summed over the pool's processes)"
            )
            worker_ms = run["cpu"][0] * 1000 / args.members
            print(
                f"  CPU per message: worker {worker_ms:.2f} ms (at most {1000 / worker_ms:.0f} messages/s for one "
                f"worker process with a core to itself), SMTP sink {run['cpu'][1] * 1000 / args.members:.2f} ms"
            )
            runtimes = run["runtimes"]
            if runtimes:
                print(
                    f"  one e-mail batch task inside the worker: median "
                    f"{runtimes[len(runtimes) // 2] * 1000:.0f} ms, slowest {runtimes[-1] * 1000:.0f} ms "
                    f"({len(runtimes)} batches)"
                )
            print(f"  second run of the rule (nothing new to send): {run['rerun']:.2f} s")
            if sorted(recipients) != sorted(set(recipients)) or len(recipients) != args.members:
                print(
                    f"  NOT exactly one message per member: {len(recipients)} messages, {len(set(recipients))} distinct"
                )
                failed = True
        if args.in_process:
            reset_fan_out()
            port = free_port() if args.smtp else None
            with smtp_sink(tmp, port=port, out=tmp / "smtp-in-process.txt") if port else contextlib.nullcontext():
                load_before = load_average()
                cpu_before = time.process_time()
                rule_s, send_s, sent = fan_out_in_process(args, rule_id, port)
                cpu = time.process_time() - cpu_before
                floor = smtp_floor(port, args.members) if port else None
            print(
                f"in process (no worker, no broker; load average before {load_before}, after {load_average()}): "
                f"rule run {rule_s:.2f} s ({args.members / rule_s:.0f} recipients/s), {sent} e-mails sent in "
                f"{send_s:.2f} s ({sent / send_s:.0f}/s), together {sent / (rule_s + send_s):.0f} messages/s; "
                f"CPU {cpu * 1000 / args.members:.2f} ms per message in this process"
            )
            if floor:
                print(f"floor: bare smtplib to the same sink, no database, right after: {floor:.0f} messages/s")
    ordered = sorted(rates)
    print(
        f"median of {len(rates)} through the worker: {ordered[len(ordered) // 2]:.0f} messages/s "
        f"(all: {', '.join(f'{rate:.0f}' for rate in rates)})"
    )
    if failed:
        sys.exit("not exactly one message per member")


if __name__ == "__main__":
    main()
