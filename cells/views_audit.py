"""The change log (AuditEntry) for the Khối's Ban Tổ chức, and for a TCCS officer over their subtree.

A khoi_admin of the whole Khối reads every entry, including those bound to no organisation
(scoring schemes, accounts); a khoi_admin or tccs_officer lower down reads the entries of their
subtrees only. Everyone else answers 403: the page names no object, so there is nothing to hide.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from lib import xlsx
from lib.paging import page_of, query_without_page

from . import audit
from .audit import AUDIT_ROLES
from .models import AuditEntry, Organisation
from .permissions import can, require
from .selectors import _root_paths, _subtree_q, organisations_visible_to, sees_whole_khoi

PAGE_SIZE = 50
# The export answers in one request: beyond this many rows, narrow the filters (the page says so).
EXPORT_MAX_ROWS = 20_000
EXPORT_CHUNK = 500


# --- reads -----------------------------------------------------------------------------------


def can_read_audit(user) -> bool:
    return can(user, "audit.read")


def audit_entries_visible_to(user) -> QuerySet[AuditEntry]:
    """Entries of the user's audit subtrees; the whole log for an admin of the whole Khối."""
    entries = AuditEntry.objects.all()
    if sees_whole_khoi(user):
        return entries
    paths = _root_paths(user, AUDIT_ROLES)
    return entries.filter(_subtree_q(paths, "organisation__path"))


def audit_entry_list(
    *,
    user,
    actor=None,
    action: str = "",
    start=None,
    end=None,
    organisation: Organisation | None = None,
    object_type: str = "",
    object_id: str = "",
) -> QuerySet[AuditEntry]:
    """The filtered log, newest first; ``organisation`` keeps the entries of its whole subtree.

    ``action`` is one action code, or an app's prefix ending in "." (every action of the app);
    ``object_type`` (a model label) with ``object_id`` is the history of one object.
    """
    entries = audit_entries_visible_to(user)
    if actor is not None:
        entries = entries.filter(actor=actor)
    if action:
        entries = entries.filter(action__startswith=action) if action.endswith(".") else entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
        if object_id:
            entries = entries.filter(object_id=object_id)
    if start:
        entries = entries.filter(created_at__date__gte=start)
    if end:
        entries = entries.filter(created_at__date__lte=end)
    if organisation is not None:
        entries = entries.filter(organisation__path__startswith=organisation.path)
    return entries.select_related("actor__member", "organisation").order_by("-created_at", "-pk")


def audit_actors(user) -> QuerySet:
    """Accounts that appear in the user's part of the log (the actor filter's choices)."""
    return (
        get_user_model()
        .objects.filter(pk__in=audit_entries_visible_to(user).filter(actor__isnull=False).values("actor_id"))
        .select_related("member")
        .order_by("member__full_name", "last_name", "first_name", "username")
    )


# --- the filter form -------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(label=_("Người thực hiện"), queryset=None, required=False, empty_label=_("Tất cả"))
    action = forms.ChoiceField(label=_("Thao tác"), required=False)
    start = forms.DateField(
        label=_("Từ ngày"),
        required=False,
        input_formats=["%d/%m/%Y"],
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}),
        error_messages={"invalid": _("Nhập ngày theo dạng dd/mm/yyyy.")},
    )
    end = forms.DateField(
        label=_("Đến ngày"),
        required=False,
        input_formats=["%d/%m/%Y"],
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}),
        error_messages={"invalid": _("Nhập ngày theo dạng dd/mm/yyyy.")},
    )
    organisation = forms.ModelChoiceField(
        label=_("Tổ chức đảng (cả cấp dưới)"), queryset=None, required=False, empty_label=_("Tất cả")
    )
    object_type = forms.ChoiceField(label=_("Loại đối tượng"), required=False)
    # The history of one object: set by the "Lịch sử" link of a row, kept while paging and exporting.
    object_id = forms.RegexField(
        regex=r"^[0-9A-Za-z_-]{1,40}$",
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("Mã đối tượng không hợp lệ.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["actor"].queryset = audit_actors(user)
        self.fields["actor"].label_from_instance = audit.person_name
        self.fields["action"].choices = audit.action_choices()
        self.fields["object_type"].choices = audit.object_type_choices()
        for name in ("action", "object_type"):
            self.fields[name].error_messages["invalid_choice"] = _("Chọn một giá trị trong danh sách.")
        self.fields["organisation"].queryset = organisations_visible_to(user, roles=AUDIT_ROLES).order_by("path")
        self.fields["organisation"].label_from_instance = lambda o: ("· " * (o.depth - 1)) + o.name
        for field in self.fields.values():
            css = (
                "form-select form-select-sm" if isinstance(field, forms.ChoiceField) else "form-control form-control-sm"
            )
            field.widget.attrs.setdefault("class", css)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("Ngày kết thúc phải sau ngày bắt đầu."))
        if data.get("object_id") and not data.get("object_type"):
            data["object_id"] = ""
        return data

    def object_filter_name(self) -> str:
        """The object whose history is shown (the "object" filter), by name."""
        data = getattr(self, "cleaned_data", None) or {}
        if not (data.get("object_type") and data.get("object_id")):
            return ""
        entry = AuditEntry(object_type=data["object_type"], object_id=data["object_id"], action="")
        return audit.entry_rows([entry], user=self.user)[0].object_name


# --- the page and its export -----------------------------------------------------------------


def _filtered(request):
    require(request.user, "audit.read")
    form = AuditFilterForm(request.GET or None, user=request.user)
    filters = {}
    if form.is_bound and form.is_valid():
        filters = {key: value for key, value in form.cleaned_data.items() if value not in (None, "")}
    entries = audit_entry_list(user=request.user, **filters) if not form.errors else AuditEntry.objects.none()
    return form, entries


def audit_list(request):
    form, entries = _filtered(request)
    page = page_of(request, entries, PAGE_SIZE)
    query = query_without_page(request)
    rows = audit.entry_rows(page.object_list, user=request.user)
    return render(
        request,
        "cells/audit_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query,
            "object_filter": form.object_filter_name() if not form.errors else "",
            "export_max": EXPORT_MAX_ROWS,
        },
    )


EXPORT_HEADER = (
    _("Thời điểm"),
    _("Người thực hiện"),
    _("Tổ chức đảng"),
    _("Thao tác"),
    _("Loại đối tượng"),
    _("Đối tượng"),
    _("Thông tin"),
    _("Trước"),
    _("Sau"),
)


def audit_export(request):
    """The log with the page's filters, as an .xlsx: one line per changed field, as the page reads."""
    form, entries = _filtered(request)
    workbook = xlsx.new_workbook()
    sheet = workbook.active
    sheet.title = _t("Nhật ký thay đổi")
    xlsx.append_row(sheet, [str(title) for title in EXPORT_HEADER])
    entries = entries[:EXPORT_MAX_ROWS]
    for offset in range(0, EXPORT_MAX_ROWS, EXPORT_CHUNK):
        chunk = list(entries[offset : offset + EXPORT_CHUNK])
        for row in audit.entry_rows(chunk, user=request.user):
            entry = row.entry
            first = [
                timezone.localtime(entry.created_at).strftime("%d/%m/%Y %H:%M"),
                row.actor,
                entry.organisation.name if entry.organisation else audit.EMPTY,
                row.action,
                row.object_kind,
                row.object_name,
            ]
            for change in row.changes or [audit.Change(label="", before="", after="")]:
                xlsx.append_row(sheet, [*first, change.label, change.before, change.after])
        if len(chunk) < EXPORT_CHUNK:
            break
    for column, width in zip("ABCDEFGHI", (17, 24, 28, 34, 20, 40, 26, 30, 30), strict=True):
        sheet.column_dimensions[column].width = width
    response = HttpResponse(xlsx.workbook_bytes(workbook), content_type=xlsx.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="nhat-ky-thay-doi-{timezone.localdate():%Y%m%d}.xlsx"'
    response["Cache-Control"] = "no-store"
    return response
