"""The annual targets report: a ReportRun built by a Celery task, its PDF and XLSX, the command."""

import io
import subprocess

import pytest
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


def test_button_queues_a_run_built_after_commit(client_for, khoi, tmp_path, django_capture_on_commit_callbacks,
                                                pdftotext_available):
    client = client_for(khoi.users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:runs", args=[khoi.khoi.pk]), {"year": 2026})
    assert response.status_code == 302
    run = ReportRun.objects.get()
    assert (run.status, run.progress, run.params, run.created_by) == ("done", 100, {"year": 2026},
                                                                       khoi.users["admin"])
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


def test_a_run_lost_with_its_worker_is_taken_over(khoi):
    import datetime

    from django.utils import timezone

    run = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026}, status="running",
                                   started_at=timezone.now() - datetime.timedelta(minutes=5))
    assert services.report_run_execute(run_id=run.pk) is False  # still being built elsewhere
    ReportRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - datetime.timedelta(hours=1))
    assert services.report_run_execute(run_id=run.pk) is True


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
    require_or_skip(connection.vendor == "postgresql",
                    "needs PostgreSQL (a worker process cannot share the SQLite test database)")
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


def test_the_sweep_requeues_a_stale_running_run(khoi):
    now = timezone.now()
    stale = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026}, status=ReportRun.Status.RUNNING,
                                     started_at=now - services.STALE_AFTER * 2)
    busy = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026}, status=ReportRun.Status.RUNNING,
                                    started_at=now)
    assert services.report_runs_requeue(now=now) == 1
    assert dict(ReportRun.objects.values_list("pk", "status")) == {stale.pk: "done", busy.pk: "running"}


def test_the_sweep_is_scheduled_every_five_minutes():
    from celery import current_app
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["report-runs-requeue"]
    assert entry["schedule"] == 300.0 and entry["task"] in current_app.tasks
