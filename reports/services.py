"""Writes of the reports app: start, re-run and build a ReportRun; render its PDF and XLSX.

A run is claimed with a conditional UPDATE (pending → running), so a task delivered twice builds
the files once; a re-run replaces the files of the same row.
"""

import datetime
import logging

from django.core.files.base import ContentFile
from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import Organisation
from cells.selectors import document_signer
from cells.services import audit_log, snapshot

from . import exports, selectors
from .models import ReportRun

logger = logging.getLogger(__name__)

# Who signs a report on behalf of the issuing organisation (T/M …).
SIGNER_BODY = {
    Organisation.Kind.KHOI: "BAN THƯỜNG VỤ",
    Organisation.Kind.DANG_BO_CO_SO: "ĐẢNG ỦY",
    Organisation.Kind.DANG_BO_BO_PHAN: "ĐẢNG ỦY",
}

# A run left "running" longer than this was lost with its worker: another delivery may take it over.
STALE_AFTER = datetime.timedelta(minutes=30)


def _snapshot(run: ReportRun) -> dict:
    return snapshot(run, exclude=("created_at", "updated_at", "pdf", "xlsx"))


def _publish(run_id: int) -> bool:
    """Send the build task; False (and a log line) when the broker is down: the run stays pending.

    Redis down must not turn a saved request into a 500; the beat sweep ``report_runs_requeue``
    (or "Lập lại") queues the run once the broker is back.
    """
    from .tasks import report_run_build

    try:
        report_run_build.delay(run_id)
    except Exception as exc:  # noqa: BLE001 - kombu raises several connection error types
        logger.warning("broker unavailable, report run %s stays pending: %s", run_id, exc)
        return False
    return True


def _queue(run: ReportRun) -> None:
    transaction.on_commit(lambda: _publish(run.pk))


@transaction.atomic
def report_run_create(*, organisation: Organisation, year: int, by=None,
                      kind: str = ReportRun.Kind.ANNUAL_TARGETS) -> ReportRun:
    """A new pending run of the annual targets report, built by a task once the transaction commits."""
    run = ReportRun.objects.create(kind=kind, organisation=organisation, params={"year": int(year)}, created_by=by)
    audit_log(actor=by, action="reports.reportrun.create", instance=run, organisation=organisation,
              after=_snapshot(run))
    _queue(run)
    return run


@transaction.atomic
def report_run_restart(*, run: ReportRun, by=None) -> ReportRun:
    """Build the run again (its files are replaced when the new ones are ready)."""
    run = ReportRun.objects.select_for_update().get(pk=run.pk)
    if run.status == ReportRun.Status.RUNNING and run.started_at and timezone.now() - run.started_at < STALE_AFTER:
        return run  # already being built
    before = _snapshot(run)
    run.status, run.progress, run.error = ReportRun.Status.PENDING, 0, ""
    run.started_at = run.finished_at = None
    run.save(update_fields=["status", "progress", "error", "started_at", "finished_at", "updated_at"])
    audit_log(actor=by, action="reports.reportrun.restart", instance=run, organisation=run.organisation,
              before=before, after=_snapshot(run))
    _queue(run)
    return run


REQUEUE_AFTER = datetime.timedelta(minutes=10)


def report_runs_requeue(*, now: datetime.datetime | None = None) -> int:
    """Queue again the runs no worker has taken: pending for ``REQUEUE_AFTER``, or running but stale.

    The sweep for a request made while Redis was down (the run was saved, its message was not). A run
    still waiting in a long queue gets a second message, which its claim turns into a no-op. Each run
    queued here has ``updated_at`` set, so it is queued again at most every ``REQUEUE_AFTER``.
    Returns how many runs were queued.
    """
    now = now or timezone.now()
    waiting = ReportRun.objects.filter(
        Q(status=ReportRun.Status.PENDING, updated_at__lt=now - REQUEUE_AFTER)
        | Q(status=ReportRun.Status.RUNNING, started_at__lt=now - STALE_AFTER)
    )
    queued = 0
    for run_id in waiting.order_by("pk").values_list("pk", flat=True):
        if not _publish(run_id):
            break  # the broker is still down: the next sweep tries again
        ReportRun.objects.filter(pk=run_id, status__in=[ReportRun.Status.PENDING, ReportRun.Status.RUNNING]).update(
            updated_at=now)
        queued += 1
    return queued


def _claim(run_id: int) -> bool:
    now = timezone.now()
    claimable = Q(status=ReportRun.Status.PENDING) | Q(status=ReportRun.Status.RUNNING,
                                                      started_at__lt=now - STALE_AFTER)
    return bool(ReportRun.objects.filter(claimable, pk=run_id).update(
        status=ReportRun.Status.RUNNING, started_at=now, progress=0, error=""))


def _progress(run_id: int, percent: int) -> None:
    ReportRun.objects.filter(pk=run_id, status=ReportRun.Status.RUNNING).update(progress=percent)


def _replace(field, name: str, content: bytes) -> None:
    old = field.name
    field.save(name, ContentFile(content), save=False)
    if old and old != field.name:
        field.storage.delete(old)


def report_run_execute(*, run_id: int, today: datetime.date | None = None) -> bool:
    """Build the run's figures, PDF and XLSX; True when built.

    False when the run is gone, already taken by another delivery, or failed (the error is kept on
    the run). A lost database connection gives the run back (pending) and raises, for the task to retry.
    """
    if not _claim(run_id):
        return False
    run = ReportRun.objects.select_related("organisation", "organisation__parent").get(pk=run_id)
    try:
        year = int(run.params["year"])
        content = annual_report_content(scope=run.organisation, year=year, today=today)
        _progress(run_id, 40)
        pdf = exports.annual_report_pdf(content)
        _progress(run_id, 80)
        xlsx = exports.annual_report_xlsx(content)
        stem = f"bao-cao-chi-tieu-{year}"
        _replace(run.pdf, f"{stem}.pdf", pdf)
        _replace(run.xlsx, f"{stem}.xlsx", xlsx)
        run.status, run.progress, run.finished_at = ReportRun.Status.DONE, 100, timezone.now()
        run.save(update_fields=["pdf", "xlsx", "status", "progress", "finished_at", "updated_at"])
    except OperationalError:
        # The database went away: give the run back so that the task's retry can claim it again.
        ReportRun.objects.filter(pk=run_id).update(status=ReportRun.Status.PENDING, progress=0)
        raise
    except Exception as exc:
        # Anything else will not get better by retrying: record it on the run for the page to show.
        logger.exception("report run %s failed", run_id)
        ReportRun.objects.filter(pk=run_id).update(status=ReportRun.Status.FAILED, error=str(exc)[:2000],
                                                   finished_at=timezone.now())
        return False
    return True


def annual_report_content(*, scope: Organisation, year: int, today: datetime.date | None = None) -> dict:
    """Everything the annual report shows, for the PDF, the XLSX and the command alike."""
    from meetings.formatting import place_and_date

    today = today or timezone.localdate()
    target_list, levels = selectors.annual_levels(scope=scope, year=year, today=today)
    for level in levels:
        level["rows"] = [_judged(organisation, figures) for organisation, figures in level["rows"]]
    total = levels[0]["rows"][0]["figures"]
    period = selectors.Period(year)
    return {
        "scope": scope,
        "year": year,
        "today": today,
        # A year not ended yet is reported as it stands: "tính đến ngày dd/mm/yyyy", targets in progress.
        "year_open": not period.ended(today),
        "as_of": period.as_of(today),
        "targets": target_list,
        "levels": levels,
        "total": total,
        "met_count": sum(1 for f in total if f.status == selectors.MET),
        "failed_count": sum(1 for f in total if f.status == selectors.FAILED),
        "in_progress_count": sum(1 for f in total if f.status == selectors.IN_PROGRESS),
        "judged_count": sum(1 for f in total if selectors.applies(f)),
        "upper_name": scope.parent.name if scope.parent_id else "",
        "issuer_name": scope.name,
        "issuer_code": scope.short_code or "ĐU",
        "type_code": "BC",
        "signer_body": SIGNER_BODY.get(scope.kind, "CHI BỘ"),
        **dict(zip(("signer_title", "signer"), document_signer(organisation=scope, on=today), strict=True)),
        "report_recipients": ["Cấp ủy cấp trên (để báo cáo)", "Các tổ chức đảng trực thuộc", "Lưu văn phòng"],
        "date_line": place_and_date(today),
        "generated_at": timezone.localtime(),
        "title": _("Kết quả thực hiện các chỉ tiêu năm %(year)s của Nghị quyết nâng cao chất lượng sinh hoạt "
                   "chi bộ") % {"year": year},
    }


def _judged(organisation: Organisation, figures: list) -> dict:
    """One organisation's row with how many targets it meets and the numbers of those it does not."""
    judged = [(number, f) for number, f in enumerate(figures, start=1) if selectors.applies(f)]
    return {"organisation": organisation, "figures": figures, "judged": len(judged),
            "met": sum(1 for _number, f in judged if f.status == selectors.MET),
            "unmet": [number for number, f in judged if f.status == selectors.FAILED],
            "in_progress": [number for number, f in judged if f.status == selectors.IN_PROGRESS]}


def annual_report_files(*, scope: Organisation, year: int) -> tuple[bytes, bytes]:
    """The PDF and the XLSX of the annual report, built now (for the management command)."""
    content = annual_report_content(scope=scope, year=year)
    return exports.annual_report_pdf(content), exports.annual_report_xlsx(content)
