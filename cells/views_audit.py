"""The change log (AuditEntry) for the Khối's Ban Tổ chức, and for a TCCS officer over their subtree.

A khoi_admin of the whole Khối reads every entry, including those bound to no organisation
(scoring schemes, accounts); a khoi_admin or tccs_officer lower down reads the entries of their
subtrees only. Everyone else answers 403: the page names no object, so there is nothing to hide.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from lib.paging import page_of

from .models import AuditEntry, Organisation, Role
from .privacy import PERSONAL_FIELDS, mask
from .selectors import _root_paths, _subtree_q, organisations_visible_to, roles_of, sees_whole_khoi

AUDIT_ROLES = frozenset({Role.KHOI_ADMIN, Role.TCCS_OFFICER})
PAGE_SIZE = 50


# --- reads -----------------------------------------------------------------------------------


def can_read_audit(user) -> bool:
    return bool(roles_of(user) & AUDIT_ROLES)


def audit_entries_visible_to(user) -> QuerySet[AuditEntry]:
    """Entries of the user's audit subtrees; the whole log for an admin of the whole Khối."""
    entries = AuditEntry.objects.all()
    if sees_whole_khoi(user):
        return entries
    paths = _root_paths(user, AUDIT_ROLES)
    return entries.filter(_subtree_q(paths, "organisation__path"))


def audit_entry_list(*, user, actor=None, action: str = "", start=None, end=None,
                     organisation: Organisation | None = None) -> QuerySet[AuditEntry]:
    """The filtered log, newest first; ``organisation`` keeps the entries of its whole subtree."""
    entries = audit_entries_visible_to(user)
    if actor is not None:
        entries = entries.filter(actor=actor)
    if action:
        entries = entries.filter(action__startswith=action)
    if start:
        entries = entries.filter(created_at__date__gte=start)
    if end:
        entries = entries.filter(created_at__date__lte=end)
    if organisation is not None:
        entries = entries.filter(organisation__path__startswith=organisation.path)
    return entries.select_related("actor", "organisation").order_by("-created_at", "-pk")


def audit_actors(user) -> QuerySet:
    """Accounts that appear in the user's part of the log (the actor filter's choices)."""
    return get_user_model().objects.filter(
        pk__in=audit_entries_visible_to(user).filter(actor__isnull=False).values("actor_id")
    ).order_by("username")


def changes_of(entry: AuditEntry) -> list[tuple[str, object, object]]:
    """(field, before, after) for every field an entry names, in field order."""
    before, after = entry.before or {}, entry.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [("", before or None, after or None)]
    fields = list(before) + [key for key in after if key not in before]
    # The log is read by the officers, but a citizen ID or phone is shown only through "Hiện"
    # (cells/privacy.py): masked here like everywhere else.
    return [(field, *((mask(field, before.get(field)) or None, mask(field, after.get(field)) or None)
                      if field in PERSONAL_FIELDS else (before.get(field), after.get(field))))
            for field in fields]


# --- the filter form -------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(label=_("Người thực hiện"), queryset=None, required=False,
                                   empty_label=_("Tất cả"))
    action = forms.CharField(label=_("Thao tác (bắt đầu bằng)"), required=False, max_length=80,
                             help_text=_("Ví dụ: cells.member, meetings.meeting.adopt"))
    start = forms.DateField(label=_("Từ ngày"), required=False, input_formats=["%d/%m/%Y"],
                            widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}),
                            error_messages={"invalid": _("Nhập ngày theo dạng dd/mm/yyyy.")})
    end = forms.DateField(label=_("Đến ngày"), required=False, input_formats=["%d/%m/%Y"],
                          widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}),
                          error_messages={"invalid": _("Nhập ngày theo dạng dd/mm/yyyy.")})
    organisation = forms.ModelChoiceField(label=_("Tổ chức đảng (cả cấp dưới)"), queryset=None, required=False,
                                          empty_label=_("Tất cả"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = audit_actors(user)
        self.fields["organisation"].queryset = organisations_visible_to(user, roles=AUDIT_ROLES).order_by("path")
        self.fields["organisation"].label_from_instance = lambda o: ("· " * (o.depth - 1)) + o.name
        for field in self.fields.values():
            css = "form-select form-select-sm" if isinstance(field, forms.ModelChoiceField) else "form-control form-control-sm"
            field.widget.attrs.setdefault("class", css)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("Ngày kết thúc phải sau ngày bắt đầu."))
        return data


# --- the page --------------------------------------------------------------------------------


def audit_list(request):
    if not can_read_audit(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None, user=request.user)
    filters = {}
    if form.is_bound and form.is_valid():
        filters = {key: value for key, value in form.cleaned_data.items() if value not in (None, "")}
    entries = audit_entry_list(user=request.user, **filters) if not form.errors else AuditEntry.objects.none()
    page = page_of(request, entries, PAGE_SIZE)
    rows = [(entry, changes_of(entry)) for entry in page.object_list]
    return render(request, "cells/audit_list.html", {"form": form, "page": page, "rows": rows})
