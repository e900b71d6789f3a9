"""The annual targets report: a ReportRun built by a Celery task, its PDF and XLSX, the command."""

import datetime
import io
import os
import pathlib
import signal
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cells.models import AuditEntry
from reports import services
from reports.models import ReportRun

from ..celery_worker import running_worker, wait_for
from ..conftest import require_or_skip


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_button_queues_a_run_built_after_commit(
    client_for, khoi, tmp_path, django_capture_on_commit_callbacks, pdftotext_available
):
    client = client_for(khoi.users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:runs", args=[khoi.khoi.pk]), {"year": 2026})
    assert response.status_code == 302
    run = ReportRun.objects.get()
    assert (run.status, run.progress, run.params, run.created_by) == ("done", 100, {"year": 2026}, khoi.users["admin"])
    assert AuditEntry.objects.filter(action="reports.reportrun.create", object_id=str(run.pk)).exists()
    text = pdf_text(run.pdf.read(), tmp_path)
    assert "BÁO CÁO" in text and "ĐẢNG CỘNG SẢN VIỆT NAM" in text
    assert "Chi bộ-tháng có sinh hoạt thường kỳ" in text and "93,1 % (67/72)" in text
    assert "Đảng bộ A" in text and "Chưa đạt" in text
    workbook = load_workbook(io.BytesIO(run.xlsx.read()))
    assert workbook.sheetnames == ["Chỉ tiêu", "Đảng bộ Khối", "TCCS", "Chi bộ"]
    assert [row[0].value for row in workbook["TCCS"].iter_rows(min_row=2)] == ["Đảng bộ A", "Đảng bộ B", "Chi bộ C"]
    assert workbook["Chi bộ"].max_row == 7
    page = client.get(reverse("reports:runs", args=[khoi.khoi.pk])).content.decode()
    assert reverse("reports:run_download", args=[run.pk, "pdf"]) in page
    download = client.get(reverse("reports:run_download", args=[run.pk, "xlsx"]))
    assert download.status_code == 200 and b"".join(download.streaming_content)[:2] == b"PK"


def test_running_twice_builds_once_and_a_rerun_replaces_the_files(khoi, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.report_run_create(organisation=khoi.a, year=2026, by=khoi.users["officer_a"])
    run.refresh_from_db()
    first_pdf = run.pdf.name
    assert services.report_run_execute(run_id=run.pk) is False  # a second delivery finds it done
    with django_capture_on_commit_callbacks(execute=True):
        services.report_run_restart(run=run, by=khoi.users["officer_a"])
    run.refresh_from_db()
    assert run.status == "done" and run.pdf.name != first_pdf
    assert not run.pdf.storage.exists(first_pdf)
    assert services.report_run_execute(run_id=10**9) is False  # gone


def test_a_failed_run_records_its_error(khoi, monkeypatch):
    run = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026})

    def broken(content):
        raise RuntimeError("máy in hỏng")

    monkeypatch.setattr("reports.exports.annual_report_pdf", broken)
    assert services.report_run_execute(run_id=run.pk) is False
    run.refresh_from_db()
    assert (run.status, run.error) == ("failed", "máy in hỏng")


def test_a_lost_database_gives_the_run_back_for_the_retry(khoi, monkeypatch):
    from django.db import OperationalError

    run = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026})
    calls = []

    def flaky(content):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return b"%PDF-1.7 thu"

    monkeypatch.setattr("reports.exports.annual_report_pdf", flaky)
    with pytest.raises(OperationalError):
        services.report_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "pending"
    assert services.report_run_execute(run_id=run.pk) is True  # the retry
    run.refresh_from_db()
    assert run.status == "done" and run.pdf.read() == b"%PDF-1.7 thu"


def _claimed_by_a_dead_worker(khoi, *, beat_ago, task_id="celery-task-1"):
    """A run a worker claimed (worker, task id, start) and then stopped beating ``beat_ago`` ago."""
    now = timezone.now()
    return ReportRun.objects.create(
        organisation=khoi.khoi,
        params={"year": 2026},
        status="running",
        progress=40,
        started_at=now - beat_ago - datetime.timedelta(seconds=30),
        heartbeat_at=now - beat_ago,
        worker="may-chet:4242",
        task_id=task_id,
    )


def test_a_redelivered_task_takes_over_at_once_the_run_its_killed_worker_held(khoi):
    """A worker killed mid-build: Celery redelivers the same message (same task id) within seconds,
    while the dead worker's last heartbeat still looks fresh. The task id proves the first delivery is gone."""
    run = _claimed_by_a_dead_worker(khoi, beat_ago=datetime.timedelta(seconds=5))
    assert services.report_run_execute(run_id=run.pk, task_id="another-task") is False  # a live worker's run
    assert ReportRun.objects.get(pk=run.pk).worker == "may-chet:4242"
    assert services.report_run_execute(run_id=run.pk, task_id="celery-task-1") is True
    run.refresh_from_db()
    assert (run.status, run.progress, run.task_id) == ("done", 100, "celery-task-1")
    assert run.worker != "may-chet:4242" and run.pdf and run.xlsx


def test_any_delivery_takes_over_a_run_whose_heartbeat_is_stale(khoi):
    """Claimed by a worker gone for a minute and a half: not 30 minutes of "running 0 %"."""
    run = _claimed_by_a_dead_worker(khoi, beat_ago=ReportRun.HEARTBEAT_STALE + datetime.timedelta(seconds=30))
    assert run.worker_gone()
    assert services.report_run_execute(run_id=run.pk, task_id="sweep-task") is True
    assert ReportRun.objects.get(pk=run.pk).status == "done"


def test_a_live_worker_keeps_its_run(khoi):
    run = _claimed_by_a_dead_worker(khoi, beat_ago=ReportRun.HEARTBEAT_STALE - datetime.timedelta(seconds=10))
    assert not run.worker_gone()
    assert services.report_run_execute(run_id=run.pk) is False
    assert services.report_run_execute(run_id=run.pk, task_id="another-task") is False
    assert ReportRun.objects.get(pk=run.pk).status == "running"


def test_a_build_that_lost_its_run_to_another_worker_leaves_the_other_alone(khoi, monkeypatch):
    """Taken over while building (its heartbeat stalled): the first build drops its files and writes nothing."""
    run = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026})
    other_start = timezone.now() + datetime.timedelta(seconds=1)

    def taken_over_meanwhile(content):
        ReportRun.objects.filter(pk=run.pk).update(worker="may-khac:1", started_at=other_start, progress=10)
        return b"%PDF-1.7 thu"

    monkeypatch.setattr("reports.exports.annual_report_pdf", taken_over_meanwhile)
    assert services.report_run_execute(run_id=run.pk) is False
    run.refresh_from_db()
    assert (run.status, run.worker, run.progress, run.pdf.name) == ("running", "may-khac:1", 10, "")

    def taken_over_at_the_end(content):
        ReportRun.objects.filter(pk=run.pk).update(worker="may-khac:2")
        return b"x"

    ReportRun.objects.filter(pk=run.pk).update(status="pending")
    monkeypatch.setattr("reports.exports.annual_report_xlsx", taken_over_at_the_end)
    monkeypatch.setattr("reports.exports.annual_report_pdf", lambda content: b"%PDF-1.7 thu")
    assert services.report_run_execute(run_id=run.pk) is False
    run.refresh_from_db()
    assert (run.status, run.worker, run.pdf.name) == ("running", "may-khac:2", "")
    media = run.pdf.storage.path("bao-cao")
    assert not [path for path in pathlib.Path(media).rglob("*") if path.is_file()], (
        "the dropped build's files are deleted"
    )


@pytest.mark.django_db(transaction=True)
def test_the_running_build_beats_from_its_own_thread(monkeypatch, tmp_path):
    """A slow step (the PDF) does not make a live build look dead: the heartbeat moves while it runs."""
    import time

    from tests.factories import make_organisation

    monkeypatch.setattr(ReportRun, "HEARTBEAT_EVERY", datetime.timedelta(seconds=0.05))
    organisation = make_organisation(kind="khoi", name="Đảng bộ Khối nhịp")
    run = ReportRun.objects.create(organisation=organisation, params={"year": 2026})
    beats = []

    def slow_pdf(content):
        started = ReportRun.objects.get(pk=run.pk).heartbeat_at
        time.sleep(0.6)
        beats.append((started, ReportRun.objects.get(pk=run.pk).heartbeat_at))
        return b"%PDF-1.7 thu"

    monkeypatch.setattr(services, "annual_report_content", lambda **kwargs: {})
    monkeypatch.setattr("reports.exports.annual_report_pdf", slow_pdf)
    monkeypatch.setattr("reports.exports.annual_report_xlsx", lambda content: b"PK")
    assert services.report_run_execute(run_id=run.pk) is True
    [(before, after)] = beats
    assert after > before, "the heartbeat thread refreshed the run during the slow step"


def test_status_row_polls_while_running(client_for, khoi):
    run = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026}, status="running", progress=40)
    page = client_for(khoi.users["admin"]).get(reverse("reports:run_status", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page and "40%" in page


def test_runs_access(client_for, client, khoi):
    run = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026})
    runs_url = reverse("reports:runs", args=[khoi.khoi.pk])
    # A committee viewer reads the history but may not start a run.
    viewer = client_for(khoi.users["viewer"])
    assert viewer.get(runs_url).status_code == 200
    assert viewer.post(runs_url, {"year": 2026}).status_code == 403
    assert viewer.post(reverse("reports:run_restart", args=[run.pk])).status_code == 403
    # Another subtree's officer does not see the Khối's runs.
    officer = client_for(khoi.users["officer_b"])
    assert officer.get(reverse("reports:run_status", args=[run.pk])).status_code == 404
    assert officer.get(reverse("reports:run_download", args=[run.pk, "pdf"])).status_code == 404
    member = client_for(khoi.users["member"])
    assert member.get(runs_url).status_code == 403
    client.logout()
    assert reverse("login") in client.get(runs_url).url


def test_annual_report_command_writes_both_files(khoi, tmp_path, pdftotext_available):
    call_command("annual_report", year=2026, organisation=khoi.b.pk, output=str(tmp_path / "out"))
    pdf = tmp_path / "out" / f"bao-cao-chi-tieu-2026-{khoi.b.pk}.pdf"
    xlsx = tmp_path / "out" / f"bao-cao-chi-tieu-2026-{khoi.b.pk}.xlsx"
    text = pdf_text(pdf.read_bytes(), tmp_path)
    assert "Đảng bộ B" in text and "95,8 % (23/24)" in text
    assert load_workbook(xlsx).sheetnames == ["Chỉ tiêu", "Đảng bộ cơ sở", "Trực thuộc", "Chi bộ"]


@pytest.mark.django_db(transaction=True)
def test_real_worker_on_redis_builds_the_report(real_broker, khoi, tmp_path, settings, pdftotext_available):
    require_or_skip(
        connection.vendor == "postgresql", "needs PostgreSQL (a worker process cannot share the SQLite test database)"
    )
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    media = tmp_path / "worker-media"
    settings.MEDIA_ROOT = media
    with running_worker(mail_dir=mail_dir, extra_env={"MEDIA_ROOT": str(media)}):
        with transaction.atomic():
            run = services.report_run_create(organisation=khoi.khoi, year=2026, by=khoi.users["admin"])
        assert wait_for(lambda: ReportRun.objects.get(pk=run.pk).status in ("done", "failed"), timeout=120)
    run.refresh_from_db()
    assert run.status == "done", run.error
    # The worker reads the real clock (the test's frozen one stays in this process): check the shape.
    text = pdf_text(run.pdf.read(), tmp_path)
    assert "BÁO CÁO" in text and "Chi bộ-tháng có sinh hoạt thường kỳ" in text and "Đảng bộ B" in text
    assert "TCCS" in load_workbook(io.BytesIO(run.xlsx.read())).sheetnames


def test_the_sweep_queues_runs_no_worker_has_taken_and_leaves_the_others(khoi):
    """A run saved while Redis was down stays pending; the beat sweep queues it once 10 minutes have passed."""
    now = timezone.now()
    old = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026})
    fresh = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026})
    done = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2025}, status=ReportRun.Status.DONE)
    ReportRun.objects.filter(pk__in=[old.pk, done.pk]).update(updated_at=now - services.REQUEUE_AFTER * 2)

    assert services.report_runs_requeue(now=now) == 1  # tasks run eagerly here: the run is built at once
    statuses = dict(ReportRun.objects.values_list("pk", "status"))
    assert statuses == {old.pk: "done", fresh.pk: "pending", done.pk: "done"}
    assert services.report_runs_requeue(now=now) == 0  # nothing left waiting


def test_the_sweep_requeues_a_running_run_whose_worker_stopped_beating(khoi):
    now = timezone.now()
    stale = ReportRun.objects.create(
        organisation=khoi.khoi,
        params={"year": 2026},
        status=ReportRun.Status.RUNNING,
        started_at=now - ReportRun.HEARTBEAT_STALE * 3,
        heartbeat_at=now - ReportRun.HEARTBEAT_STALE * 2,
    )
    # Claimed before heartbeats existed: its start is its last sign of life.
    old_style = ReportRun.objects.create(
        organisation=khoi.khoi,
        params={"year": 2025},
        status=ReportRun.Status.RUNNING,
        started_at=now - ReportRun.HEARTBEAT_STALE * 2,
    )
    busy = ReportRun.objects.create(
        organisation=khoi.khoi,
        params={"year": 2026},
        status=ReportRun.Status.RUNNING,
        started_at=now - ReportRun.HEARTBEAT_STALE * 5,
        heartbeat_at=now,
    )
    assert services.report_runs_requeue(now=now) == 2
    assert dict(ReportRun.objects.values_list("pk", "status")) == {
        stale.pk: "done",
        old_style.pk: "done",
        busy.pk: "running",
    }


def test_restart_refuses_while_a_live_worker_builds_and_says_so(client_for, khoi):
    run = ReportRun.objects.create(
        organisation=khoi.khoi,
        params={"year": 2026},
        status="running",
        progress=40,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        worker="may:1",
    )
    with pytest.raises(ValidationError, match="đang được lập"):
        services.report_run_restart(run=run, by=khoi.users["admin"])
    response = client_for(khoi.users["admin"]).post(reverse("reports:run_restart", args=[run.pk]), follow=True)
    text = response.content.decode()
    assert "Báo cáo đang được lập (40%" in text
    assert "Đã đưa báo cáo vào hàng đợi" not in text
    assert ReportRun.objects.get(pk=run.pk).worker == "may:1"
    assert not AuditEntry.objects.filter(action="reports.reportrun.restart").exists()


def test_restart_takes_back_a_run_lost_with_its_worker(client_for, khoi, django_capture_on_commit_callbacks):
    run = _claimed_by_a_dead_worker(khoi, beat_ago=ReportRun.HEARTBEAT_STALE * 2)
    client = client_for(khoi.users["admin"])
    page = client.get(reverse("reports:run_status", args=[run.pk])).content.decode()
    assert reverse("reports:run_restart", args=[run.pk]) in page and "không còn hoạt động" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:run_restart", args=[run.pk]), follow=True)
    assert "Đã đưa báo cáo vào hàng đợi để lập lại" in response.content.decode()
    run.refresh_from_db()
    assert run.status == "done" and run.worker != "may-chet:4242"
    assert AuditEntry.objects.filter(action="reports.reportrun.restart", object_id=str(run.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_restart_with_the_broker_down_says_the_run_waits(client_for, khoi, monkeypatch):
    """No false "Đã đưa báo cáo vào hàng đợi": the run is pending, and the page says the sweep will queue it."""
    from reports import tasks

    run = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026}, status="failed", error="lỗi cũ")

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis: connection refused")

    monkeypatch.setattr(tasks.report_run_build, "delay", broker_down)
    response = client_for(khoi.users["admin"]).post(reverse("reports:run_restart", args=[run.pk]), follow=True)
    text = response.content.decode()
    assert "Chưa đưa được báo cáo vào hàng đợi" in text and "Đã đưa báo cáo vào hàng đợi" not in text
    run.refresh_from_db()
    assert (run.status, run.error) == ("pending", "")


def test_the_sweep_is_scheduled_every_five_minutes():
    from celery import current_app
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["report-runs-requeue"]
    assert entry["schedule"] == 300.0 and entry["task"] in current_app.tasks


@pytest.fixture
def report_queue(real_broker):
    """A Redis queue of this test alone, and the test's tasks routed to it.

    The tests using it run on the real clock (the ``tree`` fixture, not the frozen ``khoi``): they
    compare the worker's times with their own."""
    import uuid

    from ..celery_worker import purge_queue, route_tasks_to

    require_or_skip(
        connection.vendor == "postgresql", "needs PostgreSQL (a worker process cannot share the SQLite test database)"
    )
    name = f"test-report-runs-{uuid.uuid4().hex[:10]}"
    with route_tasks_to(name):
        yield name
    purge_queue(name)


def _worker_pid(run_id: int) -> int | None:
    worker = ReportRun.objects.get(pk=run_id).worker
    return int(worker.rsplit(":", 1)[1]) if worker else None


def _beating(run_id: int) -> bool:
    run = ReportRun.objects.get(pk=run_id)
    return run.status == "running" and run.heartbeat_at is not None and run.heartbeat_at > run.started_at


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_killed_mid_build_is_replaced_at_once(tree, people, tmp_path, settings, report_queue):
    """The OOM killer takes the pool process building the report: Celery gives the message back
    (acks_late, reject on worker lost), and the next process takes the run over at once: no "running
    0 %" until the heartbeat goes stale, let alone 30 minutes."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    settings.MEDIA_ROOT = media = tmp_path / "worker-media"
    env = {"MEDIA_ROOT": str(media), "TEST_REPORT_PDF_DELAY": "15"}
    with running_worker(mail_dir=mail_dir, extra_env=env, queues=[report_queue], concurrency=2):
        with transaction.atomic():
            run = services.report_run_create(organisation=tree.tccs, year=2026, by=people.officer)
        # The build is under way and its thread beats (every 10 s) during the slow PDF.
        assert wait_for(lambda: _beating(run.pk), timeout=60), ReportRun.objects.get(pk=run.pk).__dict__
        first = ReportRun.objects.get(pk=run.pk)
        os.kill(_worker_pid(run.pk), signal.SIGKILL)
        killed_at = timezone.now()
        assert wait_for(lambda: ReportRun.objects.get(pk=run.pk).worker != first.worker, timeout=30)
        taken = ReportRun.objects.get(pk=run.pk)
        assert taken.status == "running" and taken.task_id == first.task_id, "the same message, redelivered"
        assert taken.started_at - killed_at < ReportRun.HEARTBEAT_STALE, "taken over before the heartbeat went stale"
        assert wait_for(lambda: ReportRun.objects.get(pk=run.pk).status in ("done", "failed"), timeout=90)
    run.refresh_from_db()
    assert run.status == "done", run.error
    assert run.pdf.read()[:4] == b"%PDF"
    assert load_workbook(io.BytesIO(run.xlsx.read())).sheetnames == [
        "Chỉ tiêu",
        "Đảng bộ cơ sở",
        "Trực thuộc",
        "Chi bộ",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_whole_worker_killed_mid_build_is_recovered_by_the_sweep(tree, people, tmp_path, settings, report_queue):
    """A machine lost with its worker: Redis keeps the message for its visibility timeout (an hour).
    Once the run's heartbeat is stale, the sweep queues it and another worker builds it."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    settings.MEDIA_ROOT = media = tmp_path / "worker-media"
    env = {"MEDIA_ROOT": str(media), "TEST_REPORT_PDF_DELAY": "30"}
    with running_worker(mail_dir=mail_dir, extra_env=env, queues=[report_queue]) as worker:
        with transaction.atomic():
            run = services.report_run_create(organisation=tree.tccs, year=2026, by=people.officer)
        assert wait_for(lambda: ReportRun.objects.get(pk=run.pk).status == "running", timeout=60)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    dead = ReportRun.objects.get(pk=run.pk)
    assert dead.status == "running"
    assert services.report_runs_requeue() == 0, "a worker gone for seconds is not yet known to be gone"
    # A minute passes without a beat (moved back rather than waited for).
    ReportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - ReportRun.HEARTBEAT_STALE * 2)
    with running_worker(mail_dir=mail_dir, extra_env={"MEDIA_ROOT": str(media)}, queues=[report_queue]):
        assert services.report_runs_requeue() == 1
        assert wait_for(lambda: ReportRun.objects.get(pk=run.pk).status in ("done", "failed"), timeout=120)
    run.refresh_from_db()
    assert run.status == "done" and run.worker != dead.worker, run.error
