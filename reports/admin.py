from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from lib.admin import column

from .models import DataVersion, MonthlyRollup, ReportRun, SubtreeRollup


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


@admin.register(MonthlyRollup)
class MonthlyRollupAdmin(admin.ModelAdmin):
    """Derived data (reports.rollups): read here, rebuilt by ``manage.py rollups_rebuild``, never typed in."""

    list_display = ["organisation", "month", "regular_held", "thematic_held", "visits", "attendance_meetings"]
    list_filter = ["month"]
    search_fields = ["organisation__name"]
    list_select_related = ["organisation"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SubtreeRollup)
class SubtreeRollupAdmin(MonthlyRollupAdmin):
    """The cells' rollups summed for each organisation above them (reports.rollups): derived, read here."""


@admin.register(DataVersion)
class DataVersionAdmin(admin.ModelAdmin):
    """The dashboards' cache version (reports.datacache): raised by every counted write, never typed in."""

    list_display = ["token", "number", "changed_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
