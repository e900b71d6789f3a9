"""Writes of the reports app: start, re-run and build a ReportRun; render its PDF and XLSX.

A run is claimed with a conditional UPDATE (pending → running), so a task delivered twice builds
the files once; a re-run replaces the files of the same row. While a run is built, a thread of the
building process refreshes its heartbeat (``ReportRun.HEARTBEAT_EVERY``). A worker killed mid-build
leaves a run "running" whose heartbeat stops: the redelivered message takes it over at once (it
carries the task id of the claim, so its first delivery is known to be gone); any other delivery,
the beat sweep and "Lập lại" take it over once the heartbeat is ``ReportRun.HEARTBEAT_STALE`` old.
Every write of the build names its claim (worker and start time), so a process that lost its run
to another never overwrites the other's files.
"""

import datetime
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import Organisation
from cells.selectors import document_signer
from cells.services import audit_log, snapshot
from lib.replica import replica_reads

from . import exports, periods, targets
from .figures import annual_levels, applies
from .kinds import ANNUAL_TARGETS, FILE_KINDS, kind_of
from .models import ReportRun

logger = logging.getLogger(__name__)

# Who signs a report on behalf of the issuing organisation (T/M …).
SIGNER_BODY: dict[str, str] = {
    Organisation.Kind.KHOI: "BAN THƯỜNG VỤ",
    Organisation.Kind.DANG_BO_CO_SO: "ĐẢNG ỦY",
    Organisation.Kind.DANG_BO_BO_PHAN: "ĐẢNG ỦY",
}


def _snapshot(run: ReportRun) -> dict:
    return snapshot(run, exclude=("created_at", "updated_at", "heartbeat_at", "pdf", "xlsx"))


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


def _queue(run: ReportRun, sent: list | None = None) -> None:
    """Publish after commit; ``sent`` receives whether the broker took the message."""
    transaction.on_commit(lambda: (sent if sent is not None else []).append(_publish(run.pk)))


@transaction.atomic
def report_run_create(
    *,
    organisation: Organisation,
    year: int | None = None,
    by=None,
    kind: str = ANNUAL_TARGETS,
    params: dict | None = None,
) -> ReportRun:
    """A new pending run of a report kind (reports.kinds; the annual targets report by default) with its
    ``params`` (the annual report's: its ``year``), built by a task once the transaction commits."""
    kind_of(kind)  # a kind with no entry is refused here, not by the worker
    if params is None and year is None:
        raise TypeError("report_run_create needs the params or the year")
    params = dict(params) if params is not None else {"year": int(year)}  # type: ignore[arg-type]
    run = ReportRun.objects.create(kind=kind, organisation=organisation, params=params, created_by=by)
    audit_log(
        actor=by, action="reports.reportrun.create", instance=run, organisation=organisation, after=_snapshot(run)
    )
    _queue(run)
    return run


def report_run_restart(*, run: ReportRun, by=None) -> bool:
    """Build the run again (its files are replaced when the new ones are ready).

    Refused (ValidationError) while a live worker builds it; a run whose worker is gone is taken
    back and queued. Returns whether the broker took the message: False when it is down, and the run
    then waits, pending, for the beat sweep. Inside a caller's transaction the message goes at its
    commit and True is returned.
    """
    sent: list[bool] = []
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().get(pk=run.pk)
        if run.status == ReportRun.Status.RUNNING and not run.worker_gone():
            beat = timezone.localtime(run.heartbeat_at or run.started_at)
            raise ValidationError(
                _(
                    "Báo cáo đang được lập (%(progress)s%%, tiến trình lập còn hoạt động lúc %(time)s); không lập lại "
                    "khi đang lập. Nếu tiến độ không đổi, hãy thử lại sau một phút."
                )
                % {"progress": run.progress, "time": beat.strftime("%H:%M:%S")}
            )
        before = _snapshot(run)
        run.status, run.progress, run.error = ReportRun.Status.PENDING, 0, ""
        run.started_at = run.finished_at = run.heartbeat_at = None
        run.worker = run.task_id = ""
        run.save(
            update_fields=[
                "status",
                "progress",
                "error",
                "started_at",
                "finished_at",
                "heartbeat_at",
                "worker",
                "task_id",
                "updated_at",
            ]
        )
        audit_log(
            actor=by,
            action="reports.reportrun.restart",
            instance=run,
            organisation=run.organisation,
            before=before,
            after=_snapshot(run),
        )
        _queue(run, sent)
    return all(sent)


REQUEUE_AFTER = datetime.timedelta(minutes=10)


def report_runs_requeue(*, now: datetime.datetime | None = None) -> int:
    """Queue again the runs no worker has: pending for ``REQUEUE_AFTER``, or running with no heartbeat.

    The sweep for a request made while Redis was down (the run was saved, its message was not) and
    for a worker lost with its message (a whole worker killed: Redis gives the message back only
    after its visibility timeout). A run still waiting in a long queue gets a second message, which
    its claim turns into a no-op. Each run queued here has ``updated_at`` set, so a pending run is
    queued again at most every ``REQUEUE_AFTER``. Returns how many runs were queued.
    """
    now = now or timezone.now()
    waiting = ReportRun.objects.filter(
        Q(status=ReportRun.Status.PENDING, updated_at__lt=now - REQUEUE_AFTER) | ReportRun.worker_gone_q(now)
    )
    queued = 0
    for run_id in waiting.order_by("pk").values_list("pk", flat=True):
        if not _publish(run_id):
            break  # the broker is still down: the next sweep tries again
        ReportRun.objects.filter(pk=run_id, status=ReportRun.Status.PENDING).update(updated_at=now)
        queued += 1
    return queued


@dataclass(frozen=True)
class _Claim:
    """Who builds a run: every write of the build is conditional on it still being this claim."""

    run_id: int
    worker: str
    started_at: datetime.datetime

    def rows(self):
        return ReportRun.objects.filter(
            pk=self.run_id, status=ReportRun.Status.RUNNING, worker=self.worker, started_at=self.started_at
        )

    def beat(self, **fields) -> bool:
        """Refresh the heartbeat (and ``fields``); False when the run is no longer this claim's."""
        now = timezone.now()
        return bool(self.rows().update(heartbeat_at=now, updated_at=now, **fields))


class _RunTakenOver(Exception):
    """The run was taken over by another delivery while this one was building it."""


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def _claim(run_id: int, task_id: str | None = None) -> _Claim | None:
    """Take a pending run, or a running one whose worker is gone: stopped beating, or killed while it
    carried this very message (a redelivery has the task id of the claim it finds)."""
    now = timezone.now()
    claimable = Q(status=ReportRun.Status.PENDING) | ReportRun.worker_gone_q(now)
    if task_id:
        claimable |= Q(status=ReportRun.Status.RUNNING, task_id=task_id)
    claim = _Claim(run_id=run_id, worker=_worker_name(), started_at=now)
    taken = ReportRun.objects.filter(claimable, pk=run_id).update(
        status=ReportRun.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        updated_at=now,
        progress=0,
        error="",
        worker=claim.worker,
        task_id=task_id or "",
    )
    return claim if taken else None


class _Heartbeat:
    """While the build runs, a thread refreshes the run's heartbeat every ``HEARTBEAT_EVERY``.

    A thread, because one step (a PDF of a whole Khối) can take longer than a beat: beating between
    steps only would make a slow build look dead. The thread has its own database connection and
    closes it when it stops.
    """

    def __init__(self, claim: _Claim, every: datetime.timedelta | None = None):
        self.claim = claim
        self.every = (every or ReportRun.HEARTBEAT_EVERY).total_seconds()
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"report-run-{claim.run_id}-heartbeat", daemon=True)

    # The thread sleeps in short slices and looks at the stop flag between them, instead of
    # ``Event.wait(every)``: that wait is an absolute deadline on the monotonic clock, which a moved process
    # clock (libfaketime, as the suite is run under ``faketime``) pushes out of reach, so no beat came.
    TICK = 0.05

    def _sleep_until_next_beat(self, due: float) -> bool:
        """Sleep until ``due`` (time.monotonic()); False when asked to stop first."""
        while not self._stop.is_set():
            left = due - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(self.TICK, left))
        return False

    def _run(self) -> None:
        try:
            due = time.monotonic() + self.every
            while self._sleep_until_next_beat(due):
                due = time.monotonic() + self.every
                try:
                    if not self.claim.beat():
                        self.lost = True
                        return
                except DatabaseError as exc:  # a missed beat is not a lost run; the next one may pass
                    logger.warning("heartbeat of report run %s failed: %s", self.claim.run_id, exc)
        finally:
            connection.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=self.every + 5)


def _progress(claim: _Claim, percent: int) -> None:
    if not claim.beat(progress=percent):
        raise _RunTakenOver


def report_run_execute(*, run_id: int, task_id: str | None = None, today: datetime.date | None = None) -> bool:
    """Build the run's files with its kind's builder (reports.kinds); True when built.

    False when the run is gone, already taken by a live delivery, taken over by another one while
    this one built it, or failed (the error is kept on the run). A lost database connection gives
    the run back (pending) and raises, for the task to retry. ``task_id`` is the Celery task id of
    this delivery.
    """
    claim = _claim(run_id, task_id)
    if claim is None:
        return False
    run = ReportRun.objects.select_related("organisation", "organisation__parent").get(pk=run_id)
    storage = run.pdf.storage
    old_files, new_files = {run.pdf.name, run.xlsx.name} - {""}, set()
    try:
        with _Heartbeat(claim):
            kind = kind_of(run.kind)
            files = kind.build(
                scope=run.organisation,
                params=run.params,
                today=today,
                progress=lambda percent: _progress(claim, percent),
            )
            stem = kind.stored_stem(run.params)
            for file_kind in FILE_KINDS:
                field = getattr(run, file_kind)
                if file_kind in files:
                    field.save(f"{stem}.{file_kind}", ContentFile(files[file_kind]), save=False)
                    new_files.add(field.name)
                else:
                    field.name = ""
            if not claim.beat(
                pdf=run.pdf.name,
                xlsx=run.xlsx.name,
                status=ReportRun.Status.DONE,
                progress=100,
                finished_at=timezone.now(),
            ):
                raise _RunTakenOver
    except _RunTakenOver:
        logger.warning("report run %s was taken over by another worker; this build is dropped", run_id)
        _delete(storage, new_files - old_files)
        return False
    except OperationalError:
        # The database went away: give the run back so that the task's retry can claim it again.
        _delete(storage, new_files - old_files)
        claim.rows().update(status=ReportRun.Status.PENDING, progress=0)
        raise
    except Exception as exc:
        # Anything else will not get better by retrying: record it on the run for the page to show.
        logger.exception("report run %s failed", run_id)
        _delete(storage, new_files - old_files)
        claim.rows().update(status=ReportRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now())
        return False
    _delete(storage, old_files - new_files)  # the files of the previous build, now replaced
    return True


def _delete(storage, names) -> None:
    for name in names:
        storage.delete(name)


def annual_report_content(*, scope: Organisation, year: int, today: datetime.date | None = None) -> dict:
    """Everything the annual report shows, for the PDF, the XLSX and the command alike."""
    from lib.formatting import place_and_date

    today = today or timezone.localdate()
    with replica_reads():  # the figures from the read replica when there is one (lib.replica)
        target_list, levels = annual_levels(scope=scope, year=year, today=today)
    for level in levels:
        level["rows"] = [_judged(organisation, figures) for organisation, figures in level["rows"]]
    total = levels[0]["rows"][0]["figures"]
    period = periods.Period(year)
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
        "met_count": sum(1 for f in total if f.status == targets.MET),
        "failed_count": sum(1 for f in total if f.status == targets.FAILED),
        "in_progress_count": sum(1 for f in total if f.status == targets.IN_PROGRESS),
        "judged_count": sum(1 for f in total if applies(f)),
        "upper_name": scope.parent.name if scope.parent is not None else "",
        "issuer_name": scope.name,
        "issuer_code": scope.short_code or "ĐU",
        "type_code": "BC",
        "signer_body": SIGNER_BODY.get(scope.kind, "CHI BỘ"),
        **dict(zip(("signer_title", "signer"), document_signer(organisation=scope, on=today), strict=True)),
        "report_recipients": ["Cấp ủy cấp trên (để báo cáo)", "Các tổ chức đảng trực thuộc", "Lưu văn phòng"],
        "date_line": place_and_date(today),
        "generated_at": timezone.localtime(),
        "title": _("Kết quả thực hiện các chỉ tiêu năm %(year)s của Nghị quyết nâng cao chất lượng sinh hoạt chi bộ")
        % {"year": year},
    }


def _judged(organisation: Organisation, figures: list) -> dict:
    """One organisation's row with how many targets it meets and the numbers of those it does not."""
    judged = [(number, f) for number, f in enumerate(figures, start=1) if applies(f)]
    return {
        "organisation": organisation,
        "figures": figures,
        "judged": len(judged),
        "met": sum(1 for _number, f in judged if f.status == targets.MET),
        "unmet": [number for number, f in judged if f.status == targets.FAILED],
        "in_progress": [number for number, f in judged if f.status == targets.IN_PROGRESS],
    }


def annual_report_build(
    *, scope: Organisation, year: int, today: datetime.date | None = None, progress=None
) -> dict[str, bytes]:
    """The builder of the annual targets report (reports.kinds): its PDF and XLSX."""
    progress = progress or (lambda percent: None)
    content = annual_report_content(scope=scope, year=year, today=today)
    progress(40)
    pdf = exports.annual_report_pdf(content)
    progress(80)
    return {"pdf": pdf, "xlsx": exports.annual_report_xlsx(content)}


def annual_report_files(*, scope: Organisation, year: int) -> tuple[bytes, bytes]:
    """The PDF and the XLSX of the annual report, built now (for the management command)."""
    content = annual_report_content(scope=scope, year=year)
    return exports.annual_report_pdf(content), exports.annual_report_xlsx(content)
