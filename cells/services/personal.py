"""Personal data: reveal, export log and corrections (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15; the rule's home: cells/privacy.py)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    AuditEntry,
    Member,
)
from .audit import _json_value, audit_log
from .members import member_update
from .notifications import notification_send

# --- personal data (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15; the rule's home: cells/privacy.py) ---


def member_personal_reveal(*, member: Member, fields, by, purpose: str = "reveal") -> dict[str, str]:
    """The unmasked ``fields`` of ``member`` for ``by``, after an audit row that says who saw whose field
    and when (written first: a value is never shown without its row). PermissionDenied for a user
    ``privacy.can_see_personal`` refuses; ``purpose`` is "reveal" ("Hiện") or "edit" (the edit form)."""
    from django.core.exceptions import PermissionDenied

    from ..privacy import PERSONAL_FIELDS, can_see_personal

    fields = [field for field in fields if field in PERSONAL_FIELDS]
    if not fields or not can_see_personal(by, member):
        raise PermissionDenied
    with transaction.atomic():
        AuditEntry.objects.create(
            actor=by,
            organisation=member.organisation,
            action="cells.member.personal_edit" if purpose == "edit" else "cells.member.personal_reveal",
            object_type=Member._meta.label_lower,
            object_id=str(member.pk),
            after={"fields": fields},
        )
    return {field: getattr(member, field) or "" for field in fields}


@transaction.atomic
def personal_export_log(
    *, by, document: str, rows: int, organisation=None, full_values: int = 0, params: dict | None = None
) -> AuditEntry:
    """One audit row per file written with members' personal data: who, which document, how many rows,
    how many of them with unmasked identifiers, with which filters."""
    return AuditEntry.objects.create(
        actor=by if getattr(by, "is_authenticated", False) else None,
        organisation=organisation,
        action="cells.personal_data.export",
        object_type="export",
        object_id=document[:40],
        after={"document": document, "rows": rows, "unmasked_rows": full_values, "params": params or {}},
    )


def _correction_snapshot(correction) -> dict:
    from ..privacy import PERSONAL_FIELDS, mask

    # The asked value of a citizen ID or phone is kept masked in the log (the change itself is logged
    # by member_update, and the log's page masks it too).
    new_value = (
        mask(correction.field, correction.new_value) if correction.field in PERSONAL_FIELDS else correction.new_value
    )
    return {
        "field": correction.field,
        "new_value": new_value,
        "reason": correction.reason,
        "status": correction.status,
        "decision_note": correction.decision_note,
    }


@transaction.atomic
def correction_request(*, member: Member, field: str, new_value: str, reason: str, by):
    """A member asks to correct one item of the data held about them; the value is checked as the
    field stores it. Only the member themself asks; one open request per item."""
    from django.core.exceptions import PermissionDenied

    from ..models import PersonalDataCorrection
    from ..privacy import correction_value, display_value

    if member.user_id is None or getattr(by, "pk", None) != member.user_id:
        raise PermissionDenied
    value = correction_value(field, new_value)
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Cần ghi lý do đề nghị sửa.")
    if display_value(field, getattr(member, field)) == display_value(field, value):
        errors["new_value"] = _("Giá trị này trùng với dữ liệu đang lưu.")
    if PersonalDataCorrection.objects.filter(
        member=member, field=field, status=PersonalDataCorrection.Status.PENDING
    ).exists():
        errors["field"] = _("Đồng chí đã có một đề nghị sửa mục này đang chờ xử lý.")
    if errors:
        raise ValidationError(errors)
    correction = PersonalDataCorrection.objects.create(
        member=member, field=field, new_value=display_value(field, value), reason=reason[:500], requested_by=by
    )
    audit_log(
        actor=by,
        action="cells.correction.request",
        instance=correction,
        organisation=member.organisation,
        after=_correction_snapshot(correction),
    )
    return correction


@transaction.atomic
def correction_decide(*, correction, approve: bool, note: str = "", by):
    """An officer who manages the member approves the correction — the member's record is changed by
    ``member_update`` (its audit row holds before → after) — or refuses it with a reason (nothing changes)."""
    from django.core.exceptions import PermissionDenied

    from ..models import PersonalDataCorrection
    from ..privacy import correction_value
    from ..selectors import can_manage_member

    correction = (
        PersonalDataCorrection.objects.select_for_update(of=("self",))
        .select_related("member__organisation")
        .get(pk=correction.pk)
    )
    if not can_manage_member(by, correction.member):
        raise PermissionDenied
    if correction.status != PersonalDataCorrection.Status.PENDING:
        raise ValidationError(_("Đề nghị này đã được xử lý."))
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": _("Cần ghi lý do không chấp nhận.")})
    before = _correction_snapshot(correction)
    member = correction.member
    if approve:
        value = correction_value(correction.field, correction.new_value)
        member_before = getattr(member, correction.field)
        member = member_update(member=member, by=by, **{correction.field: value})
        correction.status = PersonalDataCorrection.Status.APPROVED
    else:
        correction.status = PersonalDataCorrection.Status.REFUSED
    correction.decided_by, correction.decided_at, correction.decision_note = by, timezone.now(), note[:500]
    correction.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    after = _correction_snapshot(correction)
    if approve:
        before[correction.field] = _json_value(member_before)
        after[correction.field] = _json_value(getattr(member, correction.field))
    audit_log(
        actor=by,
        action="cells.correction.approve" if approve else "cells.correction.refuse",
        instance=correction,
        organisation=member.organisation,
        before=before,
        after=after,
    )
    if member.user_id:
        notification_send(
            members=[member],
            kind="cells.correction",
            subject=(
                _("Đề nghị sửa %(field)s đã được chấp nhận")
                if approve
                else _("Đề nghị sửa %(field)s không được chấp nhận")
            )
            % {"field": _field_label(correction.field)},
            body=note or _("Dữ liệu của đồng chí đã được cập nhật."),
            url=reverse("cells:my_personal_data"),
        )
    return correction


def _field_label(field: str) -> str:
    from ..privacy import field_label

    return field_label(field)
