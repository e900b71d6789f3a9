from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from lib.admin import column, titled
from lib.forms import add_service_errors

from . import services

# The admin's titles ("Trang quản trị cho Django" otherwise).
admin.site.site_header = _("Quản trị Cổng sinh hoạt chi bộ")
admin.site.site_title = _("Quản trị Cổng sinh hoạt chi bộ")
admin.site.index_title = _("Quản trị hệ thống")

from .models import (  # noqa: E402
    AuditEntry,
    AuthenticatorApp,
    Candidate,
    CandidateDocument,
    CellDocument,
    CellFundEntry,
    CellMembership,
    CourseAttendance,
    DuesPayment,
    DuesRateRule,
    DuesRelief,
    DuesRemittance,
    Exemption,
    Member,
    MemberCommitment,
    MemberImportMapping,
    Notification,
    Organisation,
    PersonalDataCorrection,
    Position,
    RecoveryCode,
    RecoveryCodeDevice,
    RequiredDocumentType,
    RoleAssignment,
    Suspension,
    TemporaryAttachment,
    Term,
    TrainingCourse,
    UserSession,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records written only through the portal's services (validation and audit): the admin reads them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceCheckedForm(forms.ModelForm):
    """An admin form that also runs the rule the service will apply, so a refusal shows on the form
    (as the portal's forms do) instead of failing in ``save_model``."""

    def service_check(self, instance):
        """Raise the service's ValidationError for ``instance`` as the form would save it."""

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            try:
                self.service_check(self.instance)
            except ValidationError as error:
                add_service_errors(self, error)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganisationForm(ServiceCheckedForm):
    def service_check(self, instance):
        if instance.pk is None:
            services.organisation_check_placement(parent=instance.parent, kind=instance.kind)
        elif "parent" in self.changed_data:
            services.organisation_check_move(
                organisation=Organisation.objects.get(pk=instance.pk), new_parent=instance.parent
            )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    """Through the services: a new organisation gets its path, a new parent moves the subtree's paths,
    and every change writes an audit row. The kind stays as created (a cell's members, meetings and
    books depend on it); units merge and split by moving them."""

    form = OrganisationForm
    list_display = ("name", "kind", "short_code", "parent", "unit_type", "has_seal")
    list_filter = ("kind", "unit_type")
    search_fields = ("name", "short_code")
    raw_id_fields = ("parent",)

    def get_readonly_fields(self, request, obj=None):
        return ("path", "depth") + (("kind",) if obj else ())

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.ORGANISATION_FIELDS if name in form.cleaned_data}
        if not change:
            created = services.organisation_create(
                parent=obj.parent, kind=obj.kind, by=request.user, **{**fields, "name": obj.name}
            )
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth
            return
        current = Organisation.objects.get(pk=obj.pk)
        if "parent" in form.changed_data:
            services.organisation_move(organisation=current, new_parent=obj.parent, by=request.user)
        changed = {name: value for name, value in fields.items() if name in form.changed_data}
        if changed:
            services.organisation_update(organisation=current, by=request.user, **changed)


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ("organisation", "name", "start", "end")
    raw_id_fields = ("organisation",)


class CellMembershipInline(ReadOnlyInline):
    model = CellMembership
    fields = ("organisation", "start", "end", "reason_in", "reason_out")


class PositionInline(ReadOnlyInline):
    model = Position
    fields = ("kind", "organisation", "start", "end")


class MemberForm(ServiceCheckedForm):
    def service_check(self, instance):
        services.member_check(instance)
        if "user" in self.changed_data and instance.user is not None:
            if Member.objects.filter(user=instance.user).exclude(pk=instance.pk).exists():
                raise ValidationError({"user": _("Tài khoản này đã gắn với một đảng viên khác.")})


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    """Through the services, with an audit row for every change. The cell and the state change only
    by a transfer, a removal (the portal's pages): they end the roles and meeting lists they gave."""

    form = MemberForm
    list_display = ("full_name", "party_card_number", "status", "state", "organisation")
    list_filter = ("status", "state", "sex", "dues_category")
    search_fields = ("full_name", "party_card_number", "citizen_id", "phone")
    raw_id_fields = ("organisation", "user")
    inlines = [CellMembershipInline, PositionInline]
    fields = ("organisation", "state", *services.MEMBER_FIELDS, "user", "optional_reminder_email")

    def get_readonly_fields(self, request, obj=None):
        return ("state", "optional_reminder_email") + (("organisation",) if obj else ())

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.MEMBER_FIELDS if name in form.cleaned_data}
        if change:
            changed = {name: value for name, value in data.items() if name in form.changed_data}
            if changed:
                services.member_update(member=obj, by=request.user, **changed)
        else:
            created = services.member_create(organisation=form.cleaned_data["organisation"], by=request.user, **data)
            obj.pk = created.pk
        if "user" in form.changed_data:
            services.member_link_user(member=obj, user=form.cleaned_data["user"], by=request.user)


@admin.register(CellMembership)
class CellMembershipAdmin(ReadOnlyAdmin):
    """Written by member_create and member_transfer only: a date changed here would move rights."""

    list_display = ("member", "organisation", "start", "end")
    raw_id_fields = ("member", "organisation")


class PositionForm(ServiceCheckedForm):
    def service_check(self, instance):
        if instance.pk is None:
            services.position_check(member=instance.member, organisation=instance.organisation, kind=instance.kind)


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    """A new position through position_assign (a new secretary replaces the previous one), an end
    through position_end; both write audit rows. Nothing else of a position changes."""

    form = PositionForm
    list_display = ("member", "kind", "organisation", "start", "end")
    list_filter = ("kind",)
    raw_id_fields = ("member", "organisation")

    def get_readonly_fields(self, request, obj=None):
        return ("member", "organisation", "kind", "start") if obj else ("end",)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.position_assign(
                member=obj.member, organisation=obj.organisation, kind=obj.kind, start=obj.start, by=request.user
            )
            obj.pk = created.pk
        elif "end" in form.changed_data and obj.end is not None:
            services.position_end(position=Position.objects.get(pk=obj.pk), on=obj.end, by=request.user)


@admin.register(Exemption)
class ExemptionAdmin(ReadOnlyAdmin):
    """Granted and ended on the member's pages (member_exempt, exemption_end): the meeting lists follow."""

    list_display = ("member", "reason", "start", "end")
    raw_id_fields = ("member",)


@admin.register(TemporaryAttachment)
class TemporaryAttachmentAdmin(ReadOnlyAdmin):
    """Recorded on the member's page (member_attach, attachment_end): the meeting lists follow."""

    list_display = (column("member", _("Đảng viên")), "place", "start", "end")
    raw_id_fields = ("member",)


@admin.register(MemberImportMapping)
class MemberImportMappingAdmin(ReadOnlyAdmin):
    """Remembered by the member import's confirmation (member_excel.member_import_commit), with its audit row."""

    list_display = (
        column("organisation", _("Tổ chức đảng")),
        column("updated_by", _("Người lưu")),
        column("updated_at", _("Lưu lúc")),
    )
    raw_id_fields = ("organisation",)


@admin.register(Suspension)
class SuspensionAdmin(ReadOnlyAdmin):
    """Recorded on the member's page (member_suspend): the duties and meeting lists it ends follow."""

    list_display = ("member", "reason", "start", "end")
    raw_id_fields = ("member",)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    """Roles are granted and ended on the organisation's rights page (role_assign, role_end: audited)."""

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
    list_display = (
        "category",
        column("rate_label", _("Mức đóng"), ordering=""),
        "effective_from",
        "effective_to",
        "exempt_party_years",
        "source",
    )
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


@admin.register(DuesRemittance)
class DuesRemittanceAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "month", "remitted_on", "amount", "receipt_number")
    date_hierarchy = "month"
    search_fields = ("organisation__name", "receipt_number")
    raw_id_fields = ("organisation", "recorded_by")


@admin.register(CellFundEntry)
class CellFundEntryAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "entry_date", "kind", "amount", "voucher_number", "purpose")
    list_filter = ("kind",)
    date_hierarchy = "entry_date"
    search_fields = ("organisation__name", "voucher_number", "purpose")
    raw_id_fields = ("organisation", "recorded_by")


@admin.register(CellDocument)
class CellDocumentAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "document_type", "year", "term", "adopted_on", "uploaded_at")
    list_filter = ("document_type",)
    raw_id_fields = ("organisation", "term", "uploaded_by")


class CourseAttendanceInline(ReadOnlyInline):
    model = CourseAttendance
    fields = ("member", "completed", "certificate_number")
    raw_id_fields = ("member",)


@admin.register(TrainingCourse)
class TrainingCourseAdmin(ReadOnlyAdmin):
    """Read-only: the courses and their attendees are recorded on the portal's pages (cells.services.training)."""

    list_display = ("title", "organiser", "kind", "start_date", "end_date")
    list_filter = ("kind",)
    date_hierarchy = "start_date"
    search_fields = ("title", "organiser__name")
    raw_id_fields = ("organiser",)
    inlines = [CourseAttendanceInline]


@admin.register(MemberCommitment)
class MemberCommitmentAdmin(ReadOnlyAdmin):
    list_display = ("member", "year", "source", "confirmed_at")
    list_filter = ("year", "source")
    raw_id_fields = ("member", "recorded_by")


# --- sign-in (issue #21): a staff user resets a user who lost phone and codes by deleting their devices


class RecoveryCodeInline(ReadOnlyInline):
    model = RecoveryCode
    fields = ("code_hash",)
    readonly_fields = ("code_hash",)


@admin.register(AuthenticatorApp)
class AuthenticatorAppAdmin(ReadOnlyAdmin):
    """The users' authenticator apps (django-otp TOTP devices), read-only but deletable: deleting one makes
    the user enrol again. django-otp's own English admin for the same rows is taken off the site below."""

    list_display = (
        column("user", _("Người dùng")),
        column("name", _("Tên thiết bị")),
        column("created_at", _("Tạo lúc")),
        column("last_used_at", _("Dùng gần nhất")),
        column("confirmed", _("Đã xác nhận")),
    )
    list_filter = [("confirmed", titled(_("Đã xác nhận")))]
    raw_id_fields = ("user",)
    exclude = ("key",)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(RecoveryCodeDevice)
class RecoveryCodeDeviceAdmin(ReadOnlyAdmin):
    """Read-only but deletable: deleting the codes (with the TOTP device) makes the user enrol again."""

    list_display = (
        column("user", _("Người dùng")),
        column("confirmed", _("Đã xác nhận")),
        column("throttling_failure_count", _("Số lần nhập sai liên tiếp")),
    )
    raw_id_fields = ("user",)
    inlines = [RecoveryCodeInline]

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdmin):
    list_display = (column("user", _("Người dùng")), "ip_address", "created_at", "last_seen_at")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(PersonalDataCorrection)
class PersonalDataCorrectionAdmin(ReadOnlyAdmin):
    """Asked by the member on "Dữ liệu cá nhân của tôi", decided on the officer's page (services, audit)."""

    list_display = ("member", "field", "status", "created_at", "decided_by", "decided_at")
    list_filter = ("status", "field")
    raw_id_fields = ("member",)


# --- third-party models under Vietnamese headers --------------------------------------------
# django-celery-beat's list columns are methods without a label; its schedules are declared in
# settings.CELERY_BEAT_SCHEDULE and only shown here.
from django_celery_beat import admin as beat_admin  # noqa: E402
from django_celery_beat.models import CrontabSchedule, PeriodicTask  # noqa: E402


class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    list_display = tuple(
        column("scheduler", _("Lịch chạy"), ordering="") if name == "scheduler" else name
        for name in beat_admin.PeriodicTaskAdmin.list_display
    )
    list_filter = [
        ("task", titled(_("Tác vụ"))) if name == "task" else name for name in beat_admin.PeriodicTaskAdmin.list_filter
    ]


class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin):
    list_display = tuple(
        column("human_readable", _("Diễn giải"), ordering="") if name == "human_readable" else name
        for name in beat_admin.CrontabScheduleAdmin.list_display
    )


for model, model_admin in ((PeriodicTask, PeriodicTaskAdmin), (CrontabSchedule, CrontabScheduleAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)

from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

if admin.site.is_registered(TOTPDevice):  # shown as AuthenticatorApp above, in Vietnamese
    admin.site.unregister(TOTPDevice)

from axes import admin as axes_admin  # noqa: E402
from axes.models import AccessAttempt  # noqa: E402

if admin.site.is_registered(AccessAttempt):

    class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
        @admin.display(description=_("Trạng thái"))
        def status(self, obj):
            return super().status(obj)

    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AccessAttemptAdmin)


@admin.register(Candidate)
class CandidateAdmin(ReadOnlyAdmin):
    """Read-only: candidates and their admission steps are recorded on the portal's pages
    (cells.services.admission), the member record created at the ceremony."""

    list_display = ("full_name", "organisation", "proposed_on", "decision_date", "ceremony_date")
    search_fields = ("full_name",)
    raw_id_fields = ("organisation", "mentor_1", "mentor_2", "member")


@admin.register(CandidateDocument)
class CandidateDocumentAdmin(ReadOnlyAdmin):
    """Read-only: a candidate's papers are uploaded and downloaded on the candidate's page (audited there)."""

    list_display = ("candidate", "kind", "original_name")
    list_filter = ("kind",)
    raw_id_fields = ("candidate", "uploaded_by")
