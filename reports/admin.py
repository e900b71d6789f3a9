from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from lib.admin import column

from .models import ReportRun


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = [
        column("pk", _("Mã")),
        "kind",
        "organisation",
        "status",
        "progress",
        "created_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["kind", "status"]
    readonly_fields = [
        "kind",
        "organisation",
        "params",
        "status",
        "progress",
        "pdf",
        "xlsx",
        "error",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "worker",
        "task_id",
    ]

    def has_add_permission(self, request):
        return False
