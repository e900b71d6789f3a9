"""Admin: scoring schemes and rating rules are edited here (data, not code); scores, ratings and
inspections are read-only because every write goes through the services (audit rows, frozen copies)."""

import json

from django.contrib import admin, messages
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from cells.admin import ReadOnlyAdmin
from cells.services import audit_log, snapshot
from lib.admin import column, titled

from . import schemes, services
from .models import (
    AnnualRating,
    Criterion,
    Inspection,
    MeetingScore,
    MeetingScoreLine,
    RatingAmendment,
    RatingRegime,
    ScoringGroup,
    ScoringScheme,
)


class _VersionedMixin:
    """Edits of a scheme's definition raise its version and leave an audit row with before/after;
    a definition that no longer adds up is saved (the admin may be half-way) but flagged at once."""

    def _scheme_of(self, obj):
        return obj if isinstance(obj, ScoringScheme) else obj.scheme

    def _before(self, obj, change):
        if isinstance(obj, ScoringScheme) and not change:
            return None
        return schemes.scheme_to_dict(ScoringScheme.objects.get(pk=self._scheme_of(obj).pk))

    def save_model(self, request, obj, form, change):
        request._scheme_before = self._before(obj, change)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self._touch(request, self._scheme_of(form.instance), getattr(request, "_scheme_before", None))

    def delete_model(self, request, obj):
        if isinstance(obj, ScoringScheme):
            return super().delete_model(request, obj)
        scheme, before = obj.scheme, self._before(obj, True)
        super().delete_model(request, obj)
        self._touch(request, scheme, before)

    def _touch(self, request, scheme, before):
        scheme = services.scheme_touch(scheme=scheme, before=before, by=request.user)
        errors = schemes.validate_scheme_data(schemes.scheme_to_dict(scheme))
        if errors:
            messages.warning(request, _("Bộ tiêu chí chưa hợp lệ: %(errors)s") % {"errors": " ".join(errors)})


class GroupInline(admin.TabularInline):
    model = ScoringGroup
    extra = 0
    fields = ("order", "code", "name", "max_points")
    show_change_link = True


@admin.register(ScoringScheme)
class ScoringSchemeAdmin(_VersionedMixin, admin.ModelAdmin):
    list_display = ("name", "code", "version", "effective_from", "effective_to", "is_provisional")
    list_filter = ("is_provisional",)
    search_fields = ("name", "code", "source_document")
    filter_horizontal = ("scope",)
    readonly_fields = ("version",)
    inlines = [GroupInline]
    actions = ["export_json"]

    @admin.action(description=_("Xuất JSON các bộ tiêu chí đã chọn"))
    def export_json(self, request, queryset):
        data = [schemes.scheme_to_dict(scheme) for scheme in queryset.order_by("effective_from")]
        response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="bo-tieu-chi.json"'
        return response


class CriterionInline(admin.StackedInline):
    model = Criterion
    extra = 0

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "measure":
            from django import forms

            choices = [("", _("— Bí thư tự chấm —"))] + [
                (key, f"{key}: {label}") for key, label in schemes.MEASURES.items()
            ]
            return forms.ChoiceField(
                label=db_field.verbose_name, choices=choices, required=False, help_text=db_field.help_text
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    fields = (
        ("order", "code", "max_points", "kind"),
        "name",
        "guidance",
        "measure",
        "options",
        ("is_key", "only_when_thematic", "is_bonus"),
    )


@admin.register(ScoringGroup)
class ScoringGroupAdmin(_VersionedMixin, admin.ModelAdmin):
    list_display = (column("scheme", _("Bộ tiêu chí")), "order", "code", "name", "max_points")
    list_filter = (("scheme", titled(_("Bộ tiêu chí"))),)
    inlines = [CriterionInline]


@admin.register(RatingRegime)
class RatingRegimeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "first_year", "excellent_quota_percent", "cell_excellent_min_good_percent")

    def save_model(self, request, obj, form, change):
        before = snapshot(RatingRegime.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit_log(
            actor=request.user, action="scoring.ratingregime.edit", instance=obj, before=before, after=snapshot(obj)
        )


class ScoreLineInline(admin.TabularInline):
    model = MeetingScoreLine
    extra = 0
    fields = (
        "group_code",
        "criterion_code",
        "max_points",
        "proposed_points",
        "self_points",
        "official_points",
        "override_reason",
    )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MeetingScore)
class MeetingScoreAdmin(ReadOnlyAdmin):
    list_display = (
        column("meeting", _("Buổi sinh hoạt")),
        column("scheme", _("Bộ tiêu chí")),
        column("scheme_version", _("Phiên bản bộ tiêu chí")),
        "state",
        "self_total",
        "official_total",
        "official_level",
    )
    list_filter = ("state", ("scheme", titled(_("Bộ tiêu chí"))))
    list_select_related = ("meeting", "meeting__organisation", "scheme")
    inlines = [ScoreLineInline]


@admin.register(AnnualRating)
class AnnualRatingAdmin(ReadOnlyAdmin):
    list_display = ("year", "organisation", "member", "state", "self_level", "proposed_level", "decided_level")
    list_filter = ("year", "state", "decided_level")
    list_select_related = ("organisation", "member")


@admin.register(RatingAmendment)
class RatingAmendmentAdmin(ReadOnlyAdmin):
    list_display = ("rating", "level_before", "level_after", "by", "created_at")
    list_select_related = ("rating", "rating__organisation", "rating__member", "by")


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "inspected_on", "inspectors", "follow_up_due", "follow_up_done_on")
    list_filter = ("year",)
    list_select_related = ("organisation",)
