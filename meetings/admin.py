"""Read-only admin: every write goes through the services (audit rows, numbering, locks)."""

from django.contrib import admin

from .models import AgendaItem, Amendment, Attendance, Meeting, MeetingDocument, Opinion, Resolution, Task, Vote


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AgendaInline(admin.TabularInline):
    model = AgendaItem
    extra = 0
    fields = ("order", "step", "title")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "kind", "period_month", "planned_start", "state", "minutes_number")
    list_filter = ("kind", "state")
    search_fields = ("organisation__name", "topic")
    date_hierarchy = "planned_start"
    list_select_related = ("organisation",)
    inlines = [AgendaInline]


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "member", "rsvp", "presence")
    list_filter = ("rsvp", "presence")
    list_select_related = ("meeting", "meeting__organisation", "member")


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "question", "kind", "votes_for", "votes_against", "votes_abstain", "eligible_count")


@admin.register(Resolution)
class ResolutionAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "kind", "number", "adopted_at")


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("description", "meeting", "due_date", "status")
    list_filter = ("status",)


admin.site.register([Opinion, MeetingDocument, Amendment], ReadOnlyAdmin)
