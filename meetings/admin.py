"""Read-only admin: every write goes through the services (audit rows, numbering, locks)."""

from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cells.admin import ReadOnlyAdmin
from cells.services import EMAIL_SENDING_MARK, notification_emails_enqueue
from lib.admin import column

from .models import (
    AbsenceRequest,
    AgendaItem,
    Amendment,
    AsyncBallot,
    AsyncDecision,
    AsyncDecisionDocument,
    Attendance,
    Ballot,
    CalendarFeed,
    DocumentRead,
    DocumentReminder,
    DraftComment,
    EmailLog,
    FiledDocument,
    MaterialRead,
    Meeting,
    MeetingDocument,
    Opinion,
    PlannedTopic,
    ReminderDelivery,
    ReminderRule,
    Resolution,
    SpeakRequest,
    SuggestedTopic,
    Task,
    UpperMaterial,
    VisitAssignment,
    VisitObservation,
    Vote,
    VoteQuestion,
)


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
    list_display = (column("meeting", _("Buổi sinh hoạt")), column("member", _("Đảng viên")), "rsvp", "presence")
    list_filter = ("rsvp", "presence")
    list_select_related = ("meeting", "meeting__organisation", "member")


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = (
        column("meeting", _("Buổi sinh hoạt")),
        "question",
        "kind",
        "votes_for",
        "votes_against",
        "votes_abstain",
        "eligible_count",
    )


@admin.register(Resolution)
class ResolutionAdmin(ReadOnlyAdmin):
    list_display = (column("meeting", _("Buổi sinh hoạt")), "kind", "number", "adopted_at")


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("description", column("meeting", _("Buổi sinh hoạt")), "due_date", "status")
    list_filter = ("status",)


admin.site.register([Opinion, MeetingDocument, Amendment, FiledDocument, DocumentRead, DocumentReminder], ReadOnlyAdmin)


@admin.register(UpperMaterial)
class UpperMaterialAdmin(ReadOnlyAdmin):
    """The upper level's materials (issue #17): published on their pages only (services.material_publish)."""

    list_display = ("title", "kind", "month", "publisher", "confidential", "published_at")
    list_filter = ("kind", "month")
    search_fields = ("title",)
    list_select_related = ("publisher",)


admin.site.register(MaterialRead, ReadOnlyAdmin)


@admin.register(AbsenceRequest)
class AbsenceRequestAdmin(ReadOnlyAdmin):
    list_display = ("member", column("meeting", _("Buổi sinh hoạt")), "reason_type", "state", "decided_at")
    list_filter = ("state", "reason_type")


admin.site.register([SpeakRequest, DraftComment, VoteQuestion], ReadOnlyAdmin)


@admin.register(Ballot)
class BallotAdmin(ReadOnlyAdmin):
    """Who cast a ballot and when; never what it says (a ballot is secret before the close, and afterwards
    only the Vote's counts are shown)."""

    list_display = ("question", "member", "cast_at", "changed_at")
    fields = ("question", "member", "cast_at", "changed_at")


@admin.register(VisitAssignment)
class VisitAssignmentAdmin(ReadOnlyAdmin):
    """The visit plan (issue #18): written on its pages only (meetings.services.visit_assign, visit_confirm)."""

    list_display = ("visitor", "cell", "quarter", "upper", "confirmed_at")
    list_filter = ("quarter",)


@admin.register(VisitObservation)
class VisitObservationAdmin(ReadOnlyAdmin):
    list_display = (column("assignment", _("Phân công")), column("meeting", _("Buổi sinh hoạt")), "rating")


# --- reminders and the e-mail log (issue #6) --------------------------------------------------


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    """The Khối admin switches rules on and off and edits their numbers; the codes are fixed by the code."""

    list_display = ("name", "code", "enabled", "optional", "params", "last_run_at")
    list_editable = ("enabled", "optional")
    readonly_fields = ("code", "last_run_at")
    fields = ("code", "name", "description", "enabled", "optional", "params", "last_run_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EmailStatusFilter(admin.SimpleListFilter):
    title = _("Trạng thái thư điện tử")
    parameter_name = "email_status"

    def lookups(self, request, model_admin):
        return [
            ("sent", _("Đã gửi")),
            ("failed", _("Lỗi")),
            ("interrupted", _("Bị gián đoạn khi đang gửi")),
            ("pending", _("Đang chờ gửi")),
            ("none", _("Không gửi thư (chỉ hộp thư trên cổng)")),
        ]

    def queryset(self, request, queryset):
        prefix = "notification__" if queryset.model is ReminderDelivery else ""
        conditions = {
            "sent": Q(**{f"{prefix}email_sent_at__isnull": False, f"{prefix}email_error": ""}),
            "failed": Q(**{f"{prefix}email_sent_at__isnull": True}) & ~Q(**{f"{prefix}email_error": ""}),
            "interrupted": Q(**{f"{prefix}email_sent_at__isnull": False, f"{prefix}email_error": EMAIL_SENDING_MARK}),
            "pending": Q(**{f"{prefix}email_sent_at__isnull": True, f"{prefix}email_error": ""})
            & ~Q(**{f"{prefix}email": ""}),
            "none": Q(**{f"{prefix}email": ""}),
        }
        return queryset.filter(conditions[self.value()]) if self.value() in conditions else queryset


def _email_status(notification) -> str:
    if notification is None:
        return "—"
    if not notification.email:
        return _("Không gửi thư")
    if notification.email_error == EMAIL_SENDING_MARK:
        return _("Bị gián đoạn khi đang gửi")
    if notification.email_error:
        return _("Lỗi")
    if notification.email_sent_at:
        return _("Đã gửi")
    return _("Đang chờ gửi")


@admin.register(EmailLog)
class EmailLogAdmin(ReadOnlyAdmin):
    """Every notice and reminder: to whom, when it was e-mailed, read, and the error if it failed."""

    list_display = ("created_at", "kind", "member", "email", "status", "email_sent_at", "error_short", "read_at")
    list_filter = (EmailStatusFilter, "kind")
    search_fields = ("subject", "email", "member__full_name")
    date_hierarchy = "created_at"
    list_select_related = ("member",)
    actions = ["resend_failed"]

    @admin.display(description=_("Trạng thái"))
    def status(self, obj):
        return _email_status(obj)

    @admin.display(description=_("Lỗi"))
    def error_short(self, obj):
        if not obj.email_error:
            return ""
        return format_html('<span title="{}">{}</span>', obj.email_error, obj.email_error[:80])

    def has_change_permission(self, request, obj=None):
        # The list is read-only; ``change`` is needed to run the resend action.
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description=_("Gửi lại thư bị lỗi hoặc bị gián đoạn"))
    def resend_failed(self, request, queryset):
        ids = list(
            queryset.exclude(email="")
            .filter(Q(email_sent_at__isnull=True) & ~Q(email_error="") | Q(email_error=EMAIL_SENDING_MARK))
            .values_list("pk", flat=True)
        )
        EmailLog.objects.filter(pk__in=ids).update(email_sent_at=None, email_error="")
        queued = notification_emails_enqueue(notification_ids=ids)
        self.message_user(request, _("Đã đưa %(count)s thư vào hàng đợi gửi lại.") % {"count": queued})


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "rule",
        "member",
        "object_type",
        "object_id",
        "occurrence",
        "email",
        "status",
        "email_sent_at",
        "read_at",
    )
    list_filter = ("rule", EmailStatusFilter)
    search_fields = ("member__full_name", "notification__email")
    date_hierarchy = "created_at"
    list_select_related = ("rule", "member", "notification")

    @admin.display(description=_("Thư điện tử"))
    def email(self, obj):
        return obj.notification.email if obj.notification else ""

    @admin.display(description=_("Trạng thái"))
    def status(self, obj):
        return _email_status(obj.notification)

    @admin.display(description=_("Gửi thư lúc"))
    def email_sent_at(self, obj):
        return obj.notification.email_sent_at if obj.notification else None

    @admin.display(description=_("Đã đọc lúc"))
    def read_at(self, obj):
        return obj.notification.read_at if obj.notification else None


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    """Who has a personal calendar address; the secret token itself is never shown here."""

    list_display = ("member", "created_at")
    fields = ("member", "created_at")
    search_fields = ("member__full_name",)
    list_select_related = ("member",)
    actions = ["revoke"]

    @admin.action(description=_("Tắt đường dẫn lịch đã chọn (ví dụ khi mất điện thoại)"))
    def revoke(self, request, queryset):
        from .services import calendar_feed_revoke

        count = sum(calendar_feed_revoke(member=feed.member, by=request.user) for feed in queryset)
        self.message_user(request, _("Đã tắt %(count)s đường dẫn lịch.") % {"count": count})


@admin.register(SuggestedTopic)
class SuggestedTopicAdmin(ReadOnlyAdmin):
    """The bank of suggested topics; published on the plan pages (services.suggested_topic_create)."""

    list_display = ("title", "kind", "year", "publisher")
    list_filter = ("kind", "year")
    search_fields = ("title",)
    list_select_related = ("publisher",)


@admin.register(PlannedTopic)
class PlannedTopicAdmin(ReadOnlyAdmin):
    """The cells' yearly plans of thematic meetings and forums; written on the plan pages."""

    list_display = ("title", "organisation", "year", "quarter", "kind", "drafter", "draft_due", "approved_at")
    list_filter = ("kind", "year", "quarter")
    search_fields = ("title", "organisation__name")
    list_select_related = ("organisation", "drafter")


# Questions asked between meetings (issue #17 item 4): written by meetings.async_decisions only. A member's
# answer is not shown here (nobody reads it before the deadline; the decision's counts say the result).
@admin.register(AsyncDecision)
class AsyncDecisionAdmin(ReadOnlyAdmin):
    list_display = ("question", "organisation", "deadline", "state", "votes_for", "eligible_count", "passed")
    list_filter = ("state", "kind")
    list_select_related = ("organisation",)


@admin.register(AsyncBallot)
class AsyncBallotAdmin(ReadOnlyAdmin):
    list_display = ("member", "decision", "voter", "answered_at")
    exclude = ("choice", "comment")
    list_select_related = ("member", "decision")


admin.site.register(AsyncDecisionDocument, ReadOnlyAdmin)
