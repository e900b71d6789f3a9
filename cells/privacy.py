"""Members' personal data under Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 (in force from 01/01/2026).

The one home of "who may see a member's citizen ID and phone": ``can_see_personal``. Everyone else
sees them masked (``mask``) on every page and in every export; those who may see them also see the
masks first and reveal one value at a time with "Hiện", which writes an audit row before the value
is shown (``cells.services.member_personal_reveal``). The law's principle is that data are processed
only as far as the purpose needs (data minimisation) and that every processing can be accounted
for; the portal's purposes are the cell's and the organisation office's work with the member.

Also here: which fields a member may ask to have corrected, and how the asked value is read
(``correction_value``); the request and its decision are services.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Member, Role
from .permissions import can, roles_with

# The identifiers masked everywhere: a citizen ID opens every state record of a person, a phone
# number reaches them directly. (Name, dates and party card stay readable: they are what the cell's
# work is about, and the party card number is already limited to those who read the member list.)
PERSONAL_FIELDS = ("citizen_id", "phone")

# Who needs the unmasked values, by role on the member's cell or an organisation above it:
# - khoi_admin: Ban Tổ chức of the Khối keeps the member records (design §2: "organisations, members");
# - tccs_officer: the đảng ủy cơ sở's organisation office manages the members of its subtree;
# - cell_secretary: the bí thư / phó bí thư of the member's own cell contacts and registers the member.
# Not a committee_viewer (reads dashboards and figures, needs no identifier), not the cell's clerk
# (takes minutes), not another cell's secretary (not their member), not a plain member about others.
PERSONAL_DATA_ROLES = roles_with("personal.see")  # the permission table, cells/permissions.py

# A header line in every file the portal writes with members' personal data (exports, their PDFs).
PERSONAL_DATA_NOTICE = gettext_lazy(
    "Tài liệu có dữ liệu cá nhân — chỉ dùng cho công tác đảng trong phạm vi được giao; không sao chép, "
    "chia sẻ cho người không có trách nhiệm (Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15)."
)


def can_see_personal(user, member: Member) -> bool:
    """Whether ``user`` may reveal ``member``'s citizen ID and phone (see PERSONAL_DATA_ROLES).

    The member themself may: a data subject has the right to know the data held about them
    (Luật 91/2025/QH15). A member who has left the Khối (no cell) is read by a whole-Khối admin only.
    """
    from .selectors import roles_of, sees_whole_khoi

    if not getattr(user, "is_authenticated", False):
        return False
    if member.user_id is not None and member.user_id == user.pk:
        return True
    if member.organisation_id is None:
        return sees_whole_khoi(user) and Role.KHOI_ADMIN in roles_of(user)
    return can(user, "personal.see", member.organisation)


def may_see_personal_somewhere(user) -> bool:
    """Whether ``user`` holds a role that reads personal data over some members (e.g. searching phones)."""
    from .selectors import roles_of

    return bool(roles_of(user) & PERSONAL_DATA_ROLES)


def mask(field: str, value) -> str:
    """The masked form of one personal value: ``********1234`` for a citizen ID, ``09x xxx x789``
    for a phone; empty stays empty."""
    text = str(value or "").strip()
    if not text:
        return ""
    if field == "citizen_id":
        return "*" * max(len(text) - 4, 4) + text[-4:]
    if field == "phone":
        digits = re.sub(r"\D", "", text)
        if len(digits) <= 4:
            return "x" * len(digits)
        hidden = digits[0] + "x" * (len(digits) - 4) + digits[-3:]
        return " ".join(hidden[i : i + 3] for i in range(0, 6, 3)) + " " + hidden[6:] if len(hidden) == 10 else hidden
    return text


def masked_values(member: Member) -> dict[str, str]:
    return {field: mask(field, getattr(member, field)) for field in PERSONAL_FIELDS}


def shown_values(user, member: Member) -> dict[str, str]:
    """The personal values as an export shows them to ``user``: in full where ``can_see_personal``."""
    if can_see_personal(user, member):
        return {field: getattr(member, field) or "" for field in PERSONAL_FIELDS}
    return masked_values(member)


# --- corrections asked by the member ------------------------------------------------------

CORRECTABLE_FIELDS = ("full_name", "date_of_birth", "citizen_id", "phone", "email", "workplace", "job_title")


def field_label(field: str) -> str:
    return str(Member._meta.get_field(field).verbose_name)


def correction_value(field: str, text: str):
    """The value a member asked for, read as the field stores it; ValidationError keyed ``new_value``."""
    from lib.forms import VNDateField

    if field not in CORRECTABLE_FIELDS:
        raise ValidationError({"field": _("Mục này không sửa được qua đề nghị; hãy liên hệ chi bộ.")})
    text = (text or "").strip()
    try:
        if field == "date_of_birth":
            value = VNDateField(required=True).clean(text)
        elif field == "email":
            value = forms.EmailField(required=True).clean(text)
        elif field == "citizen_id":
            if not re.fullmatch(r"\d{12}", text):
                raise ValidationError(_("Số CCCD gồm đúng 12 chữ số."))
            value = text
        elif field == "phone":
            if not re.fullmatch(r"\+?[\d .]{8,20}", text) or not 8 <= len(re.sub(r"\D", "", text)) <= 15:
                raise ValidationError(_("Số điện thoại gồm 8 đến 15 chữ số."))
            value = re.sub(r"[ .]", "", text)
        else:
            limit = Member._meta.get_field(field).max_length
            if not text:
                raise ValidationError(_("Cần ghi giá trị mới."))
            if len(text) > limit:
                raise ValidationError(_("Tối đa %(limit)d ký tự.") % {"limit": limit})
            value = text
    except ValidationError as error:
        raise ValidationError({"new_value": error.messages}) from None
    return value


def display_value(field: str, value) -> str:
    """A stored value as the pages show it (dates dd/mm/yyyy)."""
    if value is None or value == "":
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return str(value)
