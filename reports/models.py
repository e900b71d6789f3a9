"""Models of the reports app (design §3 "reports"): a long report is a row built by a Celery task."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cells.models import Organisation


def report_upload_to(instance, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    # A random name: the files hold member figures and must not be guessable.
    return f"bao-cao/{instance.organisation_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class ReportRun(models.Model):
    class Kind(models.TextChoices):
        ANNUAL_TARGETS = "annual_targets", _("Báo cáo kết quả thực hiện chỉ tiêu năm")

    class Status(models.TextChoices):
        PENDING = "pending", _("Đang chờ")
        RUNNING = "running", _("Đang lập")
        DONE = "done", _("Hoàn thành")
        FAILED = "failed", _("Lỗi")

    kind = models.CharField(_("Loại báo cáo"), max_length=20, choices=Kind.choices, default=Kind.ANNUAL_TARGETS)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="report_runs",
                                     verbose_name=_("Tổ chức đảng"))
    params = models.JSONField(_("Tham số"), default=dict, blank=True)
    status = models.CharField(_("Trạng thái"), max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("Tiến độ (%)"), default=0)
    pdf = models.FileField(_("Tệp PDF"), upload_to=report_upload_to, max_length=255, blank=True)
    xlsx = models.FileField(_("Tệp Excel"), upload_to=report_upload_to, max_length=255, blank=True)
    error = models.TextField(_("Lỗi"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("Người lập"))
    created_at = models.DateTimeField(_("Tạo lúc"), auto_now_add=True)
    started_at = models.DateTimeField(_("Bắt đầu lúc"), null=True, blank=True)
    finished_at = models.DateTimeField(_("Xong lúc"), null=True, blank=True)
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
