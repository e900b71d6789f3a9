"""Models of the reports app (design §3 "reports"): a long report is a row built by a Celery task."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cells.models import Organisation


def report_upload_to(instance, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    # A random name: the files hold member figures and must not be guessable.
    return f"bao-cao/{instance.organisation_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


def report_kind_choices() -> list[tuple[str, str]]:
    from .kinds import choices

    return choices()


class ReportRun(models.Model):
    """A report built in the background. While it is built, the building process refreshes
    ``heartbeat_at`` every ``HEARTBEAT_EVERY``; a run "running" without a beat for ``HEARTBEAT_STALE``
    has lost its worker, and any delivery, the beat sweep or "Lập lại" may take it over at once."""

    HEARTBEAT_EVERY = datetime.timedelta(seconds=10)
    HEARTBEAT_STALE = datetime.timedelta(minutes=1)  # six beats missed: the process is gone, not slow

    class Status(models.TextChoices):
        PENDING = "pending", _("Đang chờ")
        RUNNING = "running", _("Đang lập")
        DONE = "done", _("Hoàn thành")
        FAILED = "failed", _("Lỗi")

    # The kinds are the entries of reports.kinds (a callable: a new kind needs no migration).
    kind = models.CharField(_("Loại báo cáo"), max_length=20, choices=report_kind_choices, default="annual_targets")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="report_runs", verbose_name=_("Tổ chức đảng")
    )
    params = models.JSONField(_("Tham số"), default=dict, blank=True)
    status = models.CharField(_("Trạng thái"), max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("Tiến độ (%)"), default=0)
    pdf = models.FileField(_("Tệp PDF"), upload_to=report_upload_to, max_length=255, blank=True)
    xlsx = models.FileField(_("Tệp Excel"), upload_to=report_upload_to, max_length=255, blank=True)
    error = models.TextField(_("Lỗi"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người lập"),
    )
    created_at = models.DateTimeField(_("Tạo lúc"), auto_now_add=True)
    started_at = models.DateTimeField(_("Bắt đầu lúc"), null=True, blank=True)
    finished_at = models.DateTimeField(_("Xong lúc"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        _("Còn hoạt động lúc"),
        null=True,
        blank=True,
        help_text=_("Lần gần nhất tiến trình lập báo cáo báo hiệu còn chạy."),
    )
    worker = models.CharField(_("Tiến trình lập"), max_length=255, blank=True, help_text="host:pid")
    task_id = models.CharField(_("Mã tác vụ Celery"), max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Lần lập báo cáo")
        verbose_name_plural = _("Các lần lập báo cáo")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "kind", "created_at"], name="reportrun_org_kind")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="reportrun_progress_percent"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.params.get('year', '')} — {self.organisation}"

    @property
    def year(self):
        return self.params.get("year")

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)

    @classmethod
    def worker_gone_q(cls, now: datetime.datetime) -> Q:
        """Runs "running" whose building process has stopped beating (rows claimed before the heartbeat
        existed count from their start)."""
        stale = now - cls.HEARTBEAT_STALE
        no_beat = Q(heartbeat_at__isnull=True) & (Q(started_at__isnull=True) | Q(started_at__lt=stale))
        return Q(status=cls.Status.RUNNING) & (Q(heartbeat_at__lt=stale) | no_beat)

    def worker_gone(self, now: datetime.datetime | None = None) -> bool:
        if self.status != self.Status.RUNNING:
            return False
        last_sign = self.heartbeat_at or self.started_at
        return last_sign is None or last_sign < (now or timezone.now()) - self.HEARTBEAT_STALE

    @property
    def can_restart(self) -> bool:
        """Whether "Lập lại" may act: finished, failed, lost with its worker, or waiting for longer than
        a worker takes to start (its message may be lost: a second one is harmless, the claim dedups)."""
        if self.status == self.Status.PENDING:
            return self.updated_at is None or self.updated_at < timezone.now() - self.HEARTBEAT_STALE
        return not self.is_active or self.worker_gone()


class RollupCounts(models.Model):
    """What a rollup row counts, for one month: a cell's own meetings (``MonthlyRollup``) or the sum of
    every cell below an organisation (``SubtreeRollup``). See ``reports.rollups``."""

    month = models.DateField(_("Tháng"))
    regular_held = models.PositiveIntegerField(_("Sinh hoạt thường kỳ đã họp"), default=0)
    thematic_held = models.PositiveIntegerField(_("Sinh hoạt chuyên đề đã họp"), default=0)
    forum_held = models.PositiveIntegerField(_("Diễn đàn đã tổ chức"), default=0)
    visits = models.PositiveIntegerField(_("Buổi có cấp ủy cấp trên dự"), default=0)
    attendance_meetings = models.PositiveIntegerField(_("Buổi có đảng viên phải dự"), default=0)
    attendance_above = models.PositiveIntegerField(_("Buổi có trên 85 % đảng viên dự"), default=0)
    attendance_rate_sum = models.FloatField(_("Tổng tỷ lệ dự (%)"), default=0)
    attendance_unexcused = models.PositiveIntegerField(_("Lượt vắng không lý do"), default=0)
    # Cells whose first thematic meeting (visit) of the quarter, first forum of the year, is in this month:
    # summed over a quarter's (year's) months they give the cells that met at least once, which the
    # per-month counts above cannot (a cell with two thematic meetings in a quarter is one cell).
    thematic_first = models.PositiveIntegerField(_("Chi bộ có buổi chuyên đề đầu tiên của quý"), default=0)
    visit_first = models.PositiveIntegerField(_("Chi bộ có buổi cấp trên dự đầu tiên của quý"), default=0)
    forum_first = models.PositiveIntegerField(_("Chi bộ có diễn đàn đầu tiên của năm"), default=0)
    # {"<kind>|<official level or chua_xac_nhan>": meetings}: the held, scored meetings (quality chart, heat map).
    scored = models.JSONField(_("Buổi được chấm theo loại và xếp loại"), default=dict, blank=True)
    # {"<day of the month, 01–31>": tasks}: the open tasks (meetings.indicators.task_open_q) due on that
    # day of this month — keyed by the due date, not by the month of the meeting that set them. Summed
    # over the days before today they give the overdue tasks ("overdue tasks" warning) on any day.
    tasks_open = models.JSONField(_("Nhiệm vụ đang thực hiện theo ngày đến hạn"), default=dict, blank=True)
    counted_at = models.DateTimeField(_("Đếm lúc"), auto_now=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.organisation_id} {self.month:%m/%Y}"


class MonthlyRollup(RollupCounts):
    """One cell's meetings of one month, counted (issue #20): what the dashboards' whole-tree figures sum.

    Written by ``reports.rollups.recount`` in the transaction of every change of a meeting, its
    attendance counts, its upper-level guests or its score; checked nightly against a fresh count.
    Every count is made with the definitions of ``meetings.indicators`` over the meetings whose
    ``period_month`` is ``month``. A cell-month without any counted meeting has no row.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="monthly_rollups", verbose_name=_("Chi bộ")
    )

    class Meta:
        verbose_name = _("Số liệu tổng hợp tháng")
        verbose_name_plural = _("Số liệu tổng hợp tháng")
        constraints = [models.UniqueConstraint(fields=["organisation", "month"], name="monthly_rollup_cell_month")]
        indexes = [models.Index(fields=["month", "organisation"], name="monthly_rollup_month_cell")]


class SubtreeRollup(RollupCounts):
    """The monthly rollups of every cell below one organisation (the Khối, a TCCS, a đảng bộ bộ phận),
    summed for one month: a whole-tree figure reads one row per child and month, not one per cell.

    Kept by ``reports.rollups`` in the same transaction as the cells' rows (the change of a cell's row
    is added to each organisation above it), and checked with them nightly."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="subtree_rollups", verbose_name=_("Tổ chức")
    )

    class Meta:
        verbose_name = _("Số liệu tổng hợp tháng của cấp trên")
        verbose_name_plural = _("Số liệu tổng hợp tháng của cấp trên")
        constraints = [models.UniqueConstraint(fields=["organisation", "month"], name="subtree_rollup_org_month")]


class DataVersion(models.Model):
    """One row: a number raised after every committed write to a table the figures count (reports.datacache).

    The cached dashboard figures are keyed by it, so a write anywhere — any process, any worker — makes the
    next page compute afresh. ``token`` is drawn again when the row is made (a new or emptied database), so
    two databases sharing one cache server never share a key."""

    token = models.CharField(_("mã cơ sở dữ liệu"), max_length=32)
    number = models.BigIntegerField(_("số phiên bản"), default=0)
    changed_at = models.DateTimeField(_("thay đổi lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("phiên bản dữ liệu (bộ nhớ đệm bảng theo dõi)")
        verbose_name_plural = _("phiên bản dữ liệu (bộ nhớ đệm bảng theo dõi)")

    def __str__(self) -> str:
        return f"{self.token[:8]}:{self.number}"
