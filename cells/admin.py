from django.contrib import admin

from .models import (
    AuditEntry,
    CellDocument,
    CellMembership,
    DuesPayment,
    DuesRateRule,
    DuesRelief,
    Exemption,
    Member,
    MemberCommitment,
    Notification,
    Organisation,
    Position,
    RequiredDocumentType,
    RoleAssignment,
    Suspension,
    Term,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records written only through the portal's services (validation and audit): the admin reads them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "short_code", "parent", "unit_type", "has_seal")
    list_filter = ("kind", "unit_type")
    search_fields = ("name", "short_code")
    readonly_fields = ("path", "depth")
    raw_id_fields = ("parent",)


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ("organisation", "name", "start", "end")
    raw_id_fields = ("organisation",)


class CellMembershipInline(admin.TabularInline):
    model = CellMembership
    extra = 0
    raw_id_fields = ("organisation",)


class PositionInline(admin.TabularInline):
    model = Position
    extra = 0
    raw_id_fields = ("organisation",)


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("full_name", "party_card_number", "status", "state", "organisation")
    list_filter = ("status", "state", "sex", "dues_category")
    search_fields = ("full_name", "party_card_number", "citizen_id", "phone")
    raw_id_fields = ("organisation", "user")
    inlines = [CellMembershipInline, PositionInline]


@admin.register(CellMembership)
class CellMembershipAdmin(admin.ModelAdmin):
    list_display = ("member", "organisation", "start", "end")
    raw_id_fields = ("member", "organisation")


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ("member", "kind", "organisation", "start", "end")
    list_filter = ("kind",)
    raw_id_fields = ("member", "organisation")


@admin.register(Exemption)
class ExemptionAdmin(admin.ModelAdmin):
    list_display = ("member", "reason", "start", "end")
    raw_id_fields = ("member",)


@admin.register(Suspension)
class SuspensionAdmin(admin.ModelAdmin):
    list_display = ("member", "reason", "start", "end")
    raw_id_fields = ("member",)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "organisation", "start", "end")
    list_filter = ("role",)
    raw_id_fields = ("user", "organisation")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "object_type", "object_id")
    list_filter = ("action",)
    search_fields = ("object_id", "action")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "subject", "member", "email", "email_sent_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("subject", "email")
    raw_id_fields = ("recipient", "member", "organisation")


# --- the cell's books ------------------------------------------------------------------------


@admin.register(RequiredDocumentType)
class RequiredDocumentTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "period", "order", "active")
    list_editable = ("order", "active")
    list_filter = ("period", "active")


@admin.register(DuesRateRule)
class DuesRateRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "rate_label", "effective_from", "effective_to", "exempt_party_years", "source")
    list_filter = ("category", "kind")


@admin.register(DuesPayment)
class DuesPaymentAdmin(ReadOnlyAdmin):
    list_display = ("member", "month", "organisation", "amount_due", "amount_paid", "paid_on", "method")
    list_filter = ("method",)
    date_hierarchy = "month"
    search_fields = ("member__full_name",)
    raw_id_fields = ("member", "organisation", "rate_rule", "recorded_by")


@admin.register(DuesRelief)
class DuesReliefAdmin(ReadOnlyAdmin):
    list_display = ("member", "kind", "reduction_percent", "start", "end", "reason")
    raw_id_fields = ("member",)


@admin.register(CellDocument)
class CellDocumentAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "document_type", "year", "term", "adopted_on", "uploaded_at")
    list_filter = ("document_type",)
    raw_id_fields = ("organisation", "term", "uploaded_by")


@admin.register(MemberCommitment)
class MemberCommitmentAdmin(ReadOnlyAdmin):
    list_display = ("member", "year", "source", "confirmed_at")
    list_filter = ("year", "source")
    raw_id_fields = ("member", "recorded_by")
