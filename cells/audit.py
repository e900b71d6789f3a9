"""How the change log reads to a person: the registry of actions and objects, and the page's rows.

Every app says, in its own ``audit.py`` (loaded by its AppConfig), what its action codes mean in
Vietnamese and how each of its objects is named and linked — one home per kind, like pretix's
``log_action`` displays. The log page asks this module only; it never imports an app above cells.

``entry_rows(entries, user=...)`` turns a page of ``AuditEntry`` rows into what the page shows: the
action's label, the actor's full name, the object's name (and its page when the viewer may open it),
and one before → after line per changed field, with the model field's label and each value as the
user reads it (choices as their labels, foreign keys as the object's name, Có/Không, dd/mm/yyyy,
local time in Asia/Ho_Chi_Minh, "—" for nothing). The names are read in one query per kind of
object, whatever the number of rows (tests/security/test_audit_readable.py counts them).
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import formats
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from lib.formatting import moment_text

from .permissions import roles_with
from .privacy import PERSONAL_FIELDS, mask
from .selectors import _root_paths, sees_whole_khoi

EMPTY = "—"
# Who reads the log: the Khối's Ban Tổ chức, and a TCCS officer over their subtree.
AUDIT_ROLES = roles_with("audit.read")  # the permission table, cells/permissions.py
# Fields every snapshot carries that say nothing to a reader.
HIDDEN_FIELDS = frozenset({"id", "created_at", "updated_at", "path", "depth", "scheme_snapshot"})
# A nested value (a scheme's criteria) is shown to this depth; below it, as a count of items.
MAX_NESTING = 2


@dataclass(frozen=True)
class ObjectKind:
    """How the log names and links one model's objects."""

    label: str  # the model's label_lower, as AuditEntry.object_type stores it
    name: Callable[[models.Model], str]
    url: Callable[[models.Model], str | None] = lambda obj: None
    organisation: Callable[[models.Model], object] = lambda obj: None  # the Organisation whose subtree may read it
    select_related: tuple[str, ...] = ()
    # Fields whose codes are data, not choices (a scheme's levels): field name -> (code, object) -> label.
    values: dict[str, Callable[[object, models.Model], str]] = field(default_factory=dict)


@dataclass
class Registry:
    actions: dict[str, object] = field(default_factory=dict)
    objects: dict[str, ObjectKind] = field(default_factory=dict)
    extra_fields: dict[str, object] = field(default_factory=dict)  # keys of before/after that are no model field
    groups: dict[str, object] = field(default_factory=dict)  # app label -> the app's name in the action filter


REGISTRY = Registry()


def register(
    *,
    app: str,
    actions: dict[str, object],
    objects: Iterable[ObjectKind] = (),
    extra_fields: dict[str, object] | None = None,
) -> None:
    """Called once per app from its ``audit.py``; an action code belongs to exactly one app."""
    for code in actions:
        if not code.startswith(f"{app}."):
            raise ValueError(f"audit action {code!r} registered by app {app!r}")
    REGISTRY.actions.update(actions)
    REGISTRY.objects.update({kind.label: kind for kind in objects})
    REGISTRY.extra_fields.update(extra_fields or {})
    REGISTRY.groups[app] = apps.get_app_config(app).verbose_name


def action_label(code: str) -> str:
    label = REGISTRY.actions.get(code)
    return str(label) if label is not None else code


def action_choices() -> list:
    """The action filter: per app, "every action of the app" then each action, in Vietnamese."""
    grouped = defaultdict(list)
    for code, label in REGISTRY.actions.items():
        grouped[code.split(".", 1)[0]].append((code, str(label)))
    choices = [("", _("Tất cả"))]
    for app, name in REGISTRY.groups.items():
        options = sorted(grouped.get(app, []), key=lambda choice: choice[1])
        choices.append((str(name), [(f"{app}.", _("Mọi thao tác: %(app)s") % {"app": name}), *options]))
    return choices


def object_type_choices() -> list:
    kinds = []
    for label in REGISTRY.objects:
        model = _model(label)
        if model is not None and model is not get_user_model():
            kinds.append((label, str(model._meta.verbose_name).capitalize()))
    return [("", _("Tất cả"))] + sorted(kinds, key=lambda choice: choice[1])


def person_name(user) -> str:
    """A person as the portal names them: the member's full name, else the account's name, else its login."""
    if user is None:
        return EMPTY
    # The reverse one-to-one is read only when the caller selected it (select_related("member")):
    # otherwise it would cost a query per person.
    member = getattr(user, "member", None) if "member" in user._state.fields_cache else None
    if member is not None and member.full_name:
        return member.full_name
    full = f"{user.last_name} {user.first_name}".strip()
    return full or user.get_username()


# --- the rows of a page ----------------------------------------------------------------------


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class Row:
    entry: object
    action: str
    actor: str
    object_kind: str
    object_name: str
    object_url: str | None
    changes: list[Change]


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _fields_by_key(model) -> dict[str, models.Field]:
    """A model's concrete fields by the keys a snapshot uses (attname: ``chair_id``) and by name."""
    found = {}
    for model_field in model._meta.concrete_fields:
        found[model_field.attname] = model_field
        found[model_field.name] = model_field
    return found


def _kind(label: str) -> ObjectKind | None:
    return REGISTRY.objects.get(label)


def _load(label: str, pks: set) -> dict[str, models.Model]:
    """The objects of one model by their pk as text, in one query (with the kind's relations)."""
    model = _model(label)
    if model is None or not pks:
        return {}
    queryset = model._default_manager.all()
    kind = _kind(label)
    if kind and kind.select_related:
        queryset = queryset.select_related(*kind.select_related)
    elif model is get_user_model():
        queryset = queryset.select_related("member")
    valid = (
        [pk for pk in pks if str(pk).isdigit()]
        if isinstance(model._meta.pk, models.AutoField | models.BigAutoField | models.IntegerField)
        else list(pks)
    )
    return {str(obj.pk): obj for obj in queryset.filter(pk__in=valid)}


def _name_of(label: str, obj) -> str:
    if obj is None:
        return EMPTY
    if obj.__class__ is get_user_model():
        return person_name(obj)
    kind = _kind(label)
    return str(kind.name(obj)) if kind else str(obj)


def _changes_keys(entry) -> list[str]:
    before, after = entry.before, entry.after
    keys = list(before) if isinstance(before, dict) else []
    keys += [key for key in (after if isinstance(after, dict) else {}) if key not in keys]
    return [key for key in keys if key not in HIDDEN_FIELDS]


def _foreign_keys(entry, fields: dict) -> Iterable[tuple[str, str]]:
    """(related model label, pk) of every foreign-key value an entry names."""
    for key in _changes_keys(entry):
        model_field = fields.get(key)
        if model_field is None or not isinstance(model_field, models.ForeignKey):
            continue
        for side in (entry.before, entry.after):
            value = side.get(key) if isinstance(side, dict) else None
            if value not in (None, ""):
                yield model_field.related_model._meta.label_lower, str(value)


def entry_rows(entries: Iterable, *, user) -> list[Row]:
    """The page's rows for ``entries`` (each with ``actor__member`` selected): a query per kind of object."""
    entries = list(entries)
    fields_of = {}
    wanted = defaultdict(set)
    for entry in entries:
        model = _model(entry.object_type)
        fields_of[entry.object_type] = _fields_by_key(model) if model is not None else {}
        wanted[entry.object_type].add(entry.object_id)
        for label, pk in _foreign_keys(entry, fields_of[entry.object_type]):
            wanted[label].add(pk)
    loaded = {label: _load(label, pks) for label, pks in wanted.items()}
    paths = None if sees_whole_khoi(user) else (_root_paths(user, AUDIT_ROLES) or [])

    def may_open(kind: ObjectKind, obj) -> bool:
        if paths is None:
            return True
        organisation = kind.organisation(obj)
        return organisation is not None and any(organisation.path.startswith(path) for path in paths)

    rows = []
    for entry in entries:
        model = _model(entry.object_type)
        kind = _kind(entry.object_type)
        obj = loaded.get(entry.object_type, {}).get(entry.object_id)
        kind_label = str(model._meta.verbose_name).capitalize() if model is not None else entry.object_type
        if obj is not None:
            name = _name_of(entry.object_type, obj)
            url = kind.url(obj) if kind and may_open(kind, obj) else None
        else:
            name, url = _("(đã xoá, mã %(id)s)") % {"id": entry.object_id}, None
        fields = fields_of[entry.object_type]
        rows.append(
            Row(
                entry=entry,
                action=action_label(entry.action),
                actor=person_name(entry.actor),
                object_kind=kind_label,
                object_name=name,
                object_url=url,
                changes=_changes(entry, fields, loaded, kind=kind, obj=obj),
            )
        )
    return rows


def _changes(entry, fields: dict, loaded: dict, *, kind=None, obj=None) -> list[Change]:
    before, after = entry.before, entry.after
    if not isinstance(before, dict | type(None)) or not isinstance(after, dict | type(None)):
        return [Change(label="", before=_plain(before), after=_plain(after))]
    creating = before is None
    changes = []
    for key in _changes_keys(entry):
        old = (before or {}).get(key)
        new = (after or {}).get(key)
        if creating and new in (None, "", [], {}):
            continue  # a new object: only what it was given
        model_field = fields.get(key)
        special = kind.values.get(model_field.name if model_field else key) if kind and obj is not None else None

        def shown(value, model_field=model_field, special=special, key=key):
            if key in PERSONAL_FIELDS and value not in (None, "", "None"):
                # A citizen ID or phone is shown only through "Hiện" (cells/privacy.py): masked here too.
                return mask(key, str(value)) or EMPTY
            if special is not None and value not in (None, "", "None"):
                return str(special(value, obj))
            return _value(value, model_field, loaded)

        changes.append(
            Change(label=field_label(key, model_field), before=shown(old) if not creating else EMPTY, after=shown(new))
        )
    return changes


def field_label(key: str, model_field=None) -> str:
    """The model field's label; for a field declared without one (``member``) or a key that is no
    field (``reason``), the label the apps registered; else the related model's name."""
    if model_field is not None:
        verbose = str(model_field.verbose_name)
        if verbose != model_field.name.replace("_", " "):
            return capfirst(verbose)
        key = model_field.name
    extra = REGISTRY.extra_fields.get(key)
    if extra is not None:
        return capfirst(str(extra))
    if model_field is not None and model_field.is_relation:
        return capfirst(str(model_field.related_model._meta.verbose_name))
    return key


def _value(value, model_field, loaded: dict) -> str:
    if value in (None, "", "None"):
        return EMPTY
    if model_field is None:
        return _plain(value)
    if isinstance(model_field, models.ForeignKey):
        label = model_field.related_model._meta.label_lower
        obj = loaded.get(label, {}).get(str(value))
        return _name_of(label, obj) if obj is not None else _("(đã xoá, mã %(id)s)") % {"id": value}
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return _yes_no(value)
    if isinstance(model_field, models.DateTimeField):
        moment = parse_datetime(str(value)) if isinstance(value, str) else value
        return moment_text(moment) if moment else str(value)
    if isinstance(model_field, models.DateField):
        day = parse_date(str(value)) if isinstance(value, str) else value
        return day.strftime("%d/%m/%Y") if day else str(value)
    if isinstance(model_field, models.TimeField):
        moment = parse_time(str(value)) if isinstance(value, str) else value
        return moment.strftime("%H:%M") if moment else str(value)
    if isinstance(model_field, models.DecimalField):
        return _number(value)
    if isinstance(model_field, models.IntegerField) and isinstance(value, int):
        return formats.number_format(value, use_l10n=True, force_grouping=abs(value) >= 10_000)
    return _plain(value)


def _yes_no(value) -> str:
    return _("Có") if value in (True, "true", "True", 1) else _("Không")


def _number(value) -> str:
    try:
        number = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return str(value)
    if number == number.to_integral_value():
        number = number.quantize(decimal.Decimal(1))
    else:
        number = number.normalize()
    return formats.number_format(number, use_l10n=True)


def _plain(value, depth: int = 0) -> str:
    """A value with no model field behind it (a reason, a count, a scheme's criteria)."""
    if value in (None, "", "None"):
        return EMPTY
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, int | float):
        return formats.number_format(value, use_l10n=True)
    if isinstance(value, dict):
        if depth >= MAX_NESTING:
            return _("%(count)s mục") % {"count": len(value)}
        return "; ".join(f"{key}: {_plain(item, depth + 1)}" for key, item in value.items()) or EMPTY
    if isinstance(value, list | tuple):
        if depth >= MAX_NESTING or any(isinstance(item, dict | list) for item in value):
            return _("%(count)s mục") % {"count": len(value)}
        return ", ".join(_plain(item, depth + 1) for item in value) or EMPTY
    if isinstance(value, str):
        moment = parse_datetime(value) if "T" in value and len(value) >= 16 else None
        if moment is not None:
            return moment_text(moment)
        day = parse_date(value) if len(value) == 10 else None
        if day is not None:
            return day.strftime("%d/%m/%Y")
    return str(value)


# --- the cells app's own actions and objects -------------------------------------------------


def _member_org(obj):
    return obj.member.organisation


def register_cells() -> None:
    """Called from CellsConfig.ready()."""
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _l

    def member_url(member_id):
        return reverse("cells:member_detail", args=[member_id])

    register(
        app="cells",
        actions={
            "cells.organisation.create": _l("Lập tổ chức đảng"),
            "cells.organisation.move": _l("Chuyển tổ chức đảng sang cấp trên khác"),
            "cells.organisation.update": _l("Sửa thông tin tổ chức đảng"),
            "cells.member.create": _l("Thêm đảng viên"),
            "cells.member.update": _l("Sửa hồ sơ đảng viên"),
            "cells.member.link_user": _l("Gắn tài khoản cho đảng viên"),
            "cells.member.transfer": _l("Chuyển sinh hoạt đảng"),
            "cells.member.remove": _l("Xoá tên, ra khỏi Đảng"),
            "cells.member.reminder_email": _l("Đổi lựa chọn nhận thư nhắc việc"),
            "cells.member.admit": _l("Kết nạp đảng viên"),
            "cells.member.confirm_full": _l("Công nhận đảng viên chính thức"),
            "cells.exemption.create": _l("Miễn công tác và sinh hoạt đảng"),
            "cells.exemption.end": _l("Kết thúc miễn sinh hoạt"),
            "cells.attachment.create": _l("Ghi nhận sinh hoạt tạm thời nơi khác"),
            "cells.attachment.end": _l("Kết thúc sinh hoạt tạm thời nơi khác"),
            "cells.correction.request": _l("Đề nghị sửa dữ liệu cá nhân"),
            "cells.correction.approve": _l("Chấp nhận đề nghị sửa dữ liệu cá nhân"),
            "cells.correction.refuse": _l("Không chấp nhận đề nghị sửa dữ liệu cá nhân"),
            "cells.member.personal_reveal": _l("Xem số CCCD, điện thoại (bấm “Hiện”)"),
            "cells.member.personal_edit": _l("Mở biểu mẫu sửa có số CCCD, điện thoại"),
            "cells.personal_data.export": _l("Tải tệp có dữ liệu cá nhân"),
            "cells.dues_remittance.create": _l("Ghi nhận nộp đảng phí lên cấp trên"),
            "cells.dues_remittance.update": _l("Sửa khoản nộp đảng phí lên cấp trên"),
            "cells.dues_remittance.delete": _l("Xóa khoản nộp đảng phí lên cấp trên"),
            "cells.fund_entry.create": _l("Ghi thu, chi kinh phí hoạt động"),
            "cells.fund_entry.update": _l("Sửa khoản thu, chi kinh phí hoạt động"),
            "cells.fund_entry.delete": _l("Xóa khoản thu, chi kinh phí hoạt động"),
            "cells.member_import_mapping.update": _l("Lưu cách ghép cột khi nhập danh sách"),
            "cells.session.end_others": _l("Đăng xuất khỏi mọi nơi khác"),
            "cells.two_factor.enable": _l("Bật xác thực hai bước"),
            "cells.two_factor.disable": _l("Tắt xác thực hai bước"),
            "cells.two_factor.recovery_codes": _l("Tạo mã dự phòng mới"),
            "cells.two_factor.recovery_code_used": _l("Đăng nhập bằng mã dự phòng"),
            "cells.suspension.create": _l("Đình chỉ sinh hoạt đảng"),
            "cells.position.create": _l("Giao chức vụ đảng"),
            "cells.position.end": _l("Kết thúc chức vụ đảng"),
            "cells.role.assign": _l("Cấp quyền sử dụng"),
            "cells.role.cancel": _l("Huỷ quyền chưa có hiệu lực"),
            "cells.role.end": _l("Thu hồi quyền sử dụng"),
            "cells.dues.open": _l("Mở sổ đảng phí tháng"),
            "cells.dues.record": _l("Ghi nhận nộp đảng phí"),
            "cells.dues_relief.create": _l("Miễn, giảm đảng phí"),
            "cells.document.upload": _l("Tải lên văn bản của chi bộ"),
            "cells.commitment.portal": _l("Đảng viên xác nhận bản cam kết"),
            "cells.commitment.paper": _l("Ghi nhận bản cam kết bản giấy"),
            "cells.training_course.create": _l("Thêm lớp bồi dưỡng cấp ủy viên"),
            "cells.training_course.update": _l("Sửa lớp bồi dưỡng cấp ủy viên"),
            "cells.course_attendance.create": _l("Thêm học viên lớp bồi dưỡng"),
            "cells.course_attendance.update": _l("Cập nhật kết quả, chứng nhận bồi dưỡng"),
            "cells.course_attendance.delete": _l("Xóa học viên khỏi lớp bồi dưỡng"),
            "cells.candidate.create": _l("Chi bộ giới thiệu quần chúng ưu tú"),
            "cells.candidate.update": _l("Sửa thông tin quần chúng ưu tú"),
            "cells.candidate.class": _l("Ghi giấy chứng nhận lớp bồi dưỡng nhận thức về Đảng"),
            "cells.candidate.documents": _l("Ghi hồ sơ xin vào Đảng"),
            "cells.candidate.proposal": _l("Ghi văn bản đề nghị kết nạp của đảng ủy"),
            "cells.candidate.decision": _l("Ghi quyết định kết nạp đảng viên"),
            "cells.candidate.ceremony": _l("Ghi lễ kết nạp, tạo hồ sơ đảng viên dự bị"),
            "cells.candidate.withdraw": _l("Dừng xem xét quần chúng ưu tú"),
            "cells.candidate_document.create": _l("Tải lên giấy tờ của quần chúng ưu tú"),
            "cells.candidate_document.download": _l("Tải về giấy tờ của quần chúng ưu tú"),
        },
        objects=[
            ObjectKind(
                "cells.organisation",
                name=lambda o: o.name,
                url=lambda o: reverse("cells:organisation_detail", args=[o.pk]),
                organisation=lambda o: o,
            ),
            ObjectKind(
                "cells.member",
                name=lambda m: m.full_name,
                url=lambda m: member_url(m.pk),
                organisation=lambda m: m.organisation,
                select_related=("organisation",),
            ),
            ObjectKind(
                "cells.exemption",
                name=lambda e: e.member.full_name,
                url=lambda e: member_url(e.member_id),
                organisation=_member_org,
                select_related=("member__organisation",),
            ),
            ObjectKind(
                "cells.suspension",
                name=lambda e: e.member.full_name,
                url=lambda e: member_url(e.member_id),
                organisation=_member_org,
                select_related=("member__organisation",),
            ),
            ObjectKind(
                "cells.position",
                name=lambda p: f"{p.get_kind_display()} {p.organisation.name}: {p.member.full_name}",
                url=lambda p: member_url(p.member_id),
                organisation=lambda p: p.organisation,
                select_related=("member", "organisation"),
            ),
            ObjectKind(
                "cells.roleassignment",
                name=lambda a: f"{a.get_role_display()} — {person_name(a.user)} — {a.organisation.name}",
                url=lambda a: reverse("cells:organisation_roles", args=[a.organisation_id]),
                organisation=lambda a: a.organisation,
                select_related=("user__member", "organisation"),
            ),
            ObjectKind(
                "cells.duespayment",
                name=lambda d: f"{d.member.full_name} — {d.month:%m/%Y}",
                url=lambda d: reverse("books:books_member_dues", args=[d.member_id]),
                organisation=lambda d: d.organisation,
                select_related=("member", "organisation"),
            ),
            ObjectKind(
                "cells.duesrelief",
                name=lambda d: f"{d.get_kind_display()}: {d.member.full_name}",
                url=lambda d: reverse("books:books_member_dues", args=[d.member_id]),
                organisation=_member_org,
                select_related=("member__organisation",),
            ),
            ObjectKind(
                "cells.celldocument",
                name=lambda d: f"{d.document_type.name} {d.year or ''} — {d.organisation.name}".replace("  ", " "),
                url=lambda d: reverse("books:books_cell_documents", args=[d.organisation_id]),
                organisation=lambda d: d.organisation,
                select_related=("document_type", "organisation"),
            ),
            ObjectKind(
                "cells.membercommitment",
                name=lambda c: f"{c.member.full_name} — {c.year}",
                url=lambda c: (
                    reverse("books:books_commitments", args=[c.member.organisation_id])
                    if c.member.organisation_id
                    else None
                ),
                organisation=_member_org,
                select_related=("member__organisation",),
            ),
            ObjectKind(
                "cells.candidate",
                name=lambda c: c.full_name,
                url=lambda c: reverse("admission:candidate_detail", args=[c.pk]),
                organisation=lambda c: c.organisation,
                select_related=("organisation",),
            ),
            ObjectKind(
                "cells.candidatedocument",
                name=lambda d: f"{d.get_kind_display()} — {d.candidate.full_name}",
                url=lambda d: reverse("admission:candidate_detail", args=[d.candidate_id]),
                organisation=lambda d: d.candidate.organisation,
                select_related=("candidate__organisation",),
            ),
            ObjectKind("cells.requireddocumenttype", name=lambda t: t.name),
            ObjectKind("cells.term", name=lambda t: str(t), select_related=("organisation",)),
            ObjectKind("cells.duesraterule", name=lambda r: str(r)),
        ],
        extra_fields={
            "member": _l("Đảng viên"),
            "user": _l("Tài khoản"),
            "organisation": _l("Tổ chức đảng"),
            "parent": _l("Cấp trên"),
            "recorded_by": _l("Người ghi nhận"),
            "uploaded_by": _l("Người tải lên"),
            "granted_by": _l("Người cấp quyền"),
            "content_type": _l("Kiểu tệp"),
            "uploaded_at": _l("Thời điểm tải lên"),
            "reason": _l("Lý do"),
            "optional_reminder_email": _l("Nhận thư nhắc việc"),
        },
    )
