"""Writes of the cells app. Each service validates, runs in one transaction and writes an audit row."""

import base64
import datetime
import logging
import math
import secrets
from decimal import Decimal

from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Model, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import (
    PATH_STEP_WIDTH,
    AuditEntry,
    CellDocument,
    CellFundEntry,
    CellMembership,
    DuesPayment,
    DuesRelief,
    DuesRemittance,
    Exemption,
    Member,
    MemberCommitment,
    Notification,
    Organisation,
    Position,
    RecoveryCode,
    RecoveryCodeDevice,
    RequiredDocumentType,
    Role,
    RoleAssignment,
    Suspension,
    TemporaryAttachment,
    Term,
    UserSession,
    path_step,
)
from .selectors import CELL_MEMBER_ROLES, ROLE_LEVELS, second_factor_required
from .signals import member_exemption_changed, member_withdrawn

logger = logging.getLogger(__name__)

# --- audit -------------------------------------------------------------------------------


def _json_value(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Model):
        return value.pk
    return value


def snapshot(instance: Model, *, exclude=("created_at", "updated_at")) -> dict:
    """The instance's concrete field values as JSON-safe data, foreign keys as ids."""
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        data[field.attname] = _json_value(getattr(instance, field.attname))
    return data


def audit_log(*, actor, action: str, instance: Model, organisation=None, before=None, after=None) -> AuditEntry:
    """Record one change. ``action`` is ``app.entity.verb``; ``before``/``after`` are snapshots."""
    if before is not None and after is not None:
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        organisation=organisation,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        before=before,
        after=after,
    )


# --- organisations -----------------------------------------------------------------------


def _next_child_path(parent: Organisation | None) -> str:
    prefix = parent.path if parent else ""
    depth = (parent.depth if parent else 0) + 1
    siblings = Organisation.objects.select_for_update().filter(path__startswith=prefix, depth=depth)
    last = siblings.aggregate(last=Max("path"))["last"]
    number = 1 if last is None else int(last[-PATH_STEP_WIDTH:], 36) + 1
    return prefix + path_step(number)


def organisation_check_placement(*, parent: Organisation | None, kind: str) -> None:
    """Where an organisation of ``kind`` may stand in the tree (the portal's forms and the admin's)."""
    if parent is None and kind != Organisation.Kind.KHOI:
        raise ValidationError({"parent": _("Chỉ Đảng bộ Khối được đứng đầu cây tổ chức.")})
    if parent is not None and parent.kind in Organisation.CELL_KINDS and kind != Organisation.Kind.TO_DANG:
        raise ValidationError({"kind": _("Dưới một chi bộ chỉ có thể lập tổ đảng.")})
    if parent is not None and parent.kind == Organisation.Kind.TO_DANG:
        raise ValidationError({"parent": _("Tổ đảng không có tổ chức trực thuộc.")})


def organisation_check_move(*, organisation: Organisation, new_parent: Organisation | None) -> None:
    if new_parent is None or new_parent.path.startswith(organisation.path):
        raise ValidationError(
            {
                "parent": _("Không thể chuyển một tổ chức vào chính cây con của nó.")
                if new_parent is not None
                else _("Chỉ Đảng bộ Khối được đứng đầu cây tổ chức.")
            }
        )
    organisation_check_placement(parent=new_parent, kind=organisation.kind)


@transaction.atomic
def organisation_create(*, parent: Organisation | None, kind: str, name: str, by=None, **fields) -> Organisation:
    organisation_check_placement(parent=parent, kind=kind)
    path = _next_child_path(parent)
    organisation = Organisation(
        parent=parent, kind=kind, name=name, path=path, depth=len(path) // PATH_STEP_WIDTH, **fields
    )
    organisation.full_clean()
    organisation.save()
    audit_log(
        actor=by,
        action="cells.organisation.create",
        instance=organisation,
        organisation=organisation,
        after=snapshot(organisation),
    )
    return organisation


@transaction.atomic
def organisation_move(*, organisation: Organisation, new_parent: Organisation, by=None) -> Organisation:
    """Move a subtree under another parent (units merge and split): one UPDATE rewrites the paths."""
    organisation_check_move(organisation=organisation, new_parent=new_parent)
    before = snapshot(organisation)
    old_path = organisation.path
    new_path = _next_child_path(new_parent)
    depth_delta = (len(new_path) - len(old_path)) // PATH_STEP_WIDTH
    subtree = list(Organisation.objects.select_for_update().filter(path__startswith=old_path).order_by("path"))
    for node in subtree:
        node.path = new_path + node.path[len(old_path) :]
        node.depth += depth_delta
    # Two passes keep the unique path constraint satisfied while the subtree moves.
    for node in subtree:
        Organisation.objects.filter(pk=node.pk).update(path="~" + node.path)
    for node in subtree:
        Organisation.objects.filter(pk=node.pk).update(path=node.path, depth=node.depth)
    Organisation.objects.filter(pk=organisation.pk).update(parent=new_parent)
    organisation.refresh_from_db()
    audit_log(
        actor=by,
        action="cells.organisation.move",
        instance=organisation,
        organisation=organisation,
        before=before,
        after=snapshot(organisation),
    )
    return organisation


# What may change on an organisation besides its place in the tree (organisation_move) and its kind.
ORGANISATION_FIELDS = ("name", "short_code", "unit_type", "has_seal", "committee_override", "active_from", "active_to")


@transaction.atomic
def organisation_update(*, organisation: Organisation, by=None, **fields) -> Organisation:
    unknown = set(fields) - set(ORGANISATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown organisation fields: {sorted(unknown)}")
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = snapshot(organisation)
    for key, value in fields.items():
        setattr(organisation, key, value)
    organisation.full_clean()
    organisation.save()
    audit_log(
        actor=by,
        action="cells.organisation.update",
        instance=organisation,
        organisation=organisation,
        before=before,
        after=snapshot(organisation),
    )
    return organisation


# --- members -----------------------------------------------------------------------------


def _check_cell(organisation: Organisation | None):
    if organisation is not None and not organisation.is_cell:
        raise ValidationError({"organisation": _("Đảng viên phải sinh hoạt ở một chi bộ.")})


def _check_member_dates(member: Member):
    errors = {}
    today = timezone.localdate()
    if member.date_of_birth and member.date_of_birth > today:
        errors["date_of_birth"] = _("Ngày sinh không thể ở tương lai.")
    if (
        member.admission_decision_date
        and member.date_of_birth
        and member.admission_decision_date < member.date_of_birth
    ):
        errors["admission_decision_date"] = _("Ngày kết nạp phải sau ngày sinh.")
    if (
        member.admission_ceremony_date
        and member.admission_decision_date
        and member.admission_ceremony_date < member.admission_decision_date
    ):
        errors["admission_ceremony_date"] = _("Ngày lễ kết nạp không thể trước ngày quyết định kết nạp.")
    if (
        member.full_membership_date
        and member.admission_ceremony_date
        and member.full_membership_date < member.admission_ceremony_date
    ):
        errors["full_membership_date"] = _("Ngày công nhận chính thức phải sau ngày lễ kết nạp.")
    if member.status == Member.Status.PROBATIONARY and member.full_membership_date:
        errors["full_membership_date"] = _("Đảng viên dự bị chưa có ngày công nhận chính thức.")
    if errors:
        raise ValidationError(errors)


def member_check(member: Member) -> None:
    """The rules a member's record must meet beyond its fields' own (for forms that build one)."""
    _check_cell(member.organisation)
    _check_member_dates(member)


MEMBER_FIELDS = (
    "full_name",
    "date_of_birth",
    "sex",
    "citizen_id",
    "phone",
    "email",
    "party_card_number",
    "admission_decision_date",
    "admission_ceremony_date",
    "full_membership_date",
    "status",
    "workplace",
    "job_title",
    "dues_category",
    "dues_base",
    "hometown",
    "notes",
)


def _check_identifiers_free(member: Member, *, by) -> None:
    """Citizen ID and card number are unique in the Khối. A number held outside ``by``'s subtree is
    refused without saying it exists (entering numbers must not tell who is on file)."""
    from .selectors import identifiers_taken

    values = {key: getattr(member, key) for key in ("citizen_id", "party_card_number")}
    user = by if getattr(by, "is_authenticated", False) else None
    errors = {}
    for key, visible in identifiers_taken(user=user, values=values, exclude_pk=member.pk).items():
        label = member._meta.get_field(key).verbose_name  # type: ignore[union-attr]  # a concrete field
        errors[key] = (
            _("%(field)s này đã có ở một đảng viên khác.")
            if visible
            else _("Không dùng được %(field)s này. Hãy kiểm tra lại; nếu số đúng, đề nghị cấp ủy cấp trên kiểm tra.")
        ) % {"field": label}
    if errors:
        raise ValidationError(errors)


def _blank_to_none(fields: dict) -> dict:
    # Unique optional identifiers are stored as NULL, not "", so that two blanks do not collide.
    for key in ("citizen_id", "party_card_number"):
        if key in fields and not fields[key]:
            fields[key] = None
    return fields


@transaction.atomic
def member_create(*, organisation: Organisation, joined_on: datetime.date | None = None, by=None, **fields) -> Member:
    """Create a member in a cell with the opening row of their membership history."""
    _check_cell(organisation)
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise TypeError(f"unknown member fields: {sorted(unknown)}")
    member = Member(organisation=organisation, **_blank_to_none(fields))
    _check_identifiers_free(member, by=by)
    member.full_clean()
    _check_member_dates(member)
    member.save()
    CellMembership.objects.create(
        member=member, organisation=organisation, start=joined_on or timezone.localdate(), reason_in=_("Tiếp nhận")
    )
    audit_log(
        actor=by, action="cells.member.create", instance=member, organisation=organisation, after=snapshot(member)
    )
    return member


@transaction.atomic
def member_update(*, member: Member, by=None, **fields) -> Member:
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise TypeError(f"unknown member fields: {sorted(unknown)}")
    member = Member.objects.select_for_update().get(pk=member.pk)
    before = snapshot(member)
    for key, value in _blank_to_none(fields).items():
        setattr(member, key, value)
    _check_identifiers_free(member, by=by)
    member.full_clean()
    _check_member_dates(member)
    member.save()
    audit_log(
        actor=by,
        action="cells.member.update",
        instance=member,
        organisation=member.organisation,
        before=before,
        after=snapshot(member),
    )
    return member


# Roles an account holds because it is a member's: they follow the account when it is unlinked.
_STAFF_ROLES = (Role.KHOI_ADMIN, Role.COMMITTEE_VIEWER, Role.TCCS_OFFICER)


@transaction.atomic
def member_link_user(*, member: Member, user, by=None) -> Member:
    """Link a member to their sign-in account (or unlink with None).

    The account gets the member role on the member's cell; an account unlinked loses the roles it
    held over that cell as this member (secretary, clerk, member), not the staff roles it has.
    """
    member = Member.objects.select_for_update(of=("self",)).select_related("user", "organisation").get(pk=member.pk)
    if (user.pk if user else None) == member.user_id:
        return member
    if user is not None and Member.objects.filter(user=user).exclude(pk=member.pk).exists():
        raise ValidationError({"user": _("Tài khoản này đã gắn với một đảng viên khác.")})
    before = snapshot(member)
    previous = member.user
    member.user = user
    member.save(update_fields=["user", "updated_at"])
    audit_log(
        actor=by,
        action="cells.member.link_user",
        instance=member,
        organisation=member.organisation,
        before=before,
        after=snapshot(member),
    )
    cell = member.organisation
    if cell is not None and previous is not None:
        roles_end_over(
            user=previous,
            organisation=cell,
            on=timezone.localdate() - datetime.timedelta(days=1),
            keep=_STAFF_ROLES,
            by=by,
        )
    if cell is not None and user is not None and member.state == Member.State.ACTIVE:
        _grant_member_role(user=user, cell=cell, start=timezone.localdate(), by=by)
    return member


@transaction.atomic
def member_transfer(*, member: Member, to: Organisation | None, on: datetime.date, reason: str = "", by=None) -> Member:
    """Close the member's current membership and open one in ``to`` (None: transferred out of the Khối).

    What the old cell gave ends with it: open positions end on ``on``, the member's roles over the
    old cell end the day before (from ``on`` they belong elsewhere), and the meetings app takes them
    off the old cell's meetings not held yet from ``on`` (which voids their RSVP links). A member
    with an account gets the member role on ``to`` from ``on``. The history is kept.
    """
    member = Member.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)
    _check_cell(to)
    if to is not None and member.organisation_id == to.pk:
        raise ValidationError({"to": _("Đảng viên đang sinh hoạt ở chi bộ này.")})
    current = member.memberships.select_related("organisation").filter(end__isnull=True).first()
    if current and on < current.start:
        raise ValidationError(
            {
                "on": _("Ngày chuyển không thể trước ngày bắt đầu sinh hoạt ở chi bộ hiện tại (%(date)s).")
                % {"date": current.start.strftime("%d/%m/%Y")}
            }
        )
    before = snapshot(member)
    old_cell = current.organisation if current else member.organisation
    if current:
        current.end = on
        current.reason_out = reason or _("Chuyển sinh hoạt")
        current.save(update_fields=["end", "reason_out"])
    member.positions.filter(end__isnull=True).update(end=on)
    if to is not None:
        CellMembership.objects.create(member=member, organisation=to, start=on, reason_in=reason or _("Chuyển đến"))
        member.organisation = to
        member.state = Member.State.ACTIVE
    else:
        member.organisation = None
        member.state = Member.State.TRANSFERRED_OUT
    member.save(update_fields=["organisation", "state", "updated_at"])
    audit_log(
        actor=by,
        action="cells.member.transfer",
        instance=member,
        organisation=to or old_cell,
        before=before,
        after=snapshot(member),
    )
    if old_cell is not None:
        _leave(member=member, cell=old_cell, on=on, by=by)
    if to is not None and member.user_id:
        _grant_member_role(user=member.user, cell=to, start=on, by=by)
    return member


def _leave(
    *, member: Member, cell: Organisation, on: datetime.date, end: datetime.date | None = None, keep_roles=(), by=None
) -> None:
    """What belonging to ``cell`` gave ends from ``on``: the roles over it, its meeting lists."""
    if member.user_id:
        roles_end_over(user=member.user, organisation=cell, on=on - datetime.timedelta(days=1), keep=keep_roles, by=by)
    member_withdrawn.send(sender=Member, member=member, cell=cell, start=on, end=end, by=by)


def _grant_member_role(*, user, cell: Organisation, start: datetime.date, by=None) -> None:
    in_force = RoleAssignment.objects.filter(user=user, organisation=cell, role=Role.MEMBER).filter(
        Q(end__isnull=True) | Q(end__gte=start)
    )
    if not in_force.exists():
        role_assign(user=user, organisation=cell, role=Role.MEMBER, start=start, by=by)


# The party's own kinds of ending (Điều lệ Đảng art. 8–10): xóa tên, khai trừ, từ trần.
REMOVAL_STATES = (Member.State.REMOVED, Member.State.DECEASED)


@transaction.atomic
def member_remove(*, member: Member, state: str, on: datetime.date, reason: str = "", by=None) -> Member:
    """The member leaves the Party (removed from the rolls, expelled) or has died, on ``on``.

    The membership and positions close on ``on``; every role of their account ends the day before
    (a person outside the Party holds no role in its portal); they come off the cell's meetings not
    held yet from ``on``. The record stays with its last cell, for the books.
    """
    member = Member.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)
    if state not in REMOVAL_STATES:
        raise ValidationError({"state": _("Chọn lý do ra khỏi Đảng.")})
    if member.state != Member.State.ACTIVE:
        raise ValidationError(
            {"state": _("Đảng viên không còn sinh hoạt (%(state)s).") % {"state": member.get_state_display()}}
        )
    current = member.memberships.select_related("organisation").filter(end__isnull=True).first()
    if current and on < current.start:
        raise ValidationError(
            {
                "on": _("Ngày này trước ngày bắt đầu sinh hoạt ở chi bộ hiện tại (%(date)s).")
                % {"date": current.start.strftime("%d/%m/%Y")}
            }
        )
    if on > timezone.localdate():
        raise ValidationError({"on": _("Ngày không thể ở tương lai.")})
    before = snapshot(member)
    if current:
        current.end = on
        current.reason_out = reason or str(Member.State(state).label)
        current.save(update_fields=["end", "reason_out"])
    member.positions.filter(end__isnull=True).update(end=on)
    member.state = state
    member.save(update_fields=["state", "updated_at"])
    audit_log(
        actor=by,
        action="cells.member.remove",
        instance=member,
        organisation=member.organisation,
        before=before,
        after={**snapshot(member), "reason": reason},
    )
    if member.user_id:
        for assignment in RoleAssignment.objects.filter(user=member.user).filter(Q(end__isnull=True) | Q(end__gte=on)):
            role_end(assignment=assignment, on=on - datetime.timedelta(days=1), by=by)
    cell = current.organisation if current else member.organisation
    if cell is not None:
        member_withdrawn.send(sender=Member, member=member, cell=cell, start=on, end=None, by=by)
    return member


def _overlapping(queryset, start, end):
    far_future = datetime.date.max
    return queryset.filter(start__lte=end or far_future).exclude(end__lt=start)


@transaction.atomic
def member_exempt(
    *,
    member: Member,
    reason: str,
    start: datetime.date,
    end: datetime.date | None = None,
    resolution_ref: str = "",
    by=None,
) -> Exemption:
    """Exempt a member from party work and meetings (miễn công tác và sinh hoạt đảng)."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if end and end < start:
        raise ValidationError({"end": _("Ngày kết thúc phải sau ngày bắt đầu.")})
    if _overlapping(member.exemptions.all(), start, end).exists():
        raise ValidationError({"start": _("Đảng viên đã được miễn sinh hoạt trong khoảng thời gian này.")})
    exemption = Exemption(member=member, reason=reason, start=start, end=end, resolution_ref=resolution_ref)
    exemption.full_clean()
    exemption.save()
    audit_log(
        actor=by,
        action="cells.exemption.create",
        instance=exemption,
        organisation=member.organisation,
        after=snapshot(exemption),
    )
    member_exemption_changed.send(sender=Member, member=member, since=start, by=by)
    return exemption


@transaction.atomic
def member_attach(
    *,
    member: Member,
    place: str,
    start: datetime.date,
    end: datetime.date | None = None,
    reason: str = "",
    letter_ref: str = "",
    by=None,
) -> TemporaryAttachment:
    """Record that a member is attached for a time to a party organisation elsewhere (sinh hoạt tạm thời)."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if end and end < start:
        raise ValidationError({"end": _("Ngày kết thúc phải sau ngày bắt đầu.")})
    if _overlapping(member.attachments.all(), start, end).exists():
        raise ValidationError({"start": _("Đảng viên đã sinh hoạt tạm thời nơi khác trong khoảng thời gian này.")})
    attachment = TemporaryAttachment(
        member=member, place=place, start=start, end=end, reason=reason, letter_ref=letter_ref
    )
    attachment.full_clean()
    attachment.save()
    audit_log(
        actor=by,
        action="cells.attachment.create",
        instance=attachment,
        organisation=member.organisation,
        after=snapshot(attachment),
    )
    # Who is expected at the meetings not held yet changes as for an exemption.
    member_exemption_changed.send(sender=Member, member=member, since=start, by=by)
    return attachment


@transaction.atomic
def attachment_end(*, attachment: TemporaryAttachment, on: datetime.date, by=None) -> TemporaryAttachment:
    attachment = TemporaryAttachment.objects.select_for_update().select_related("member").get(pk=attachment.pk)
    if on < attachment.start:
        raise ValidationError({"on": _("Ngày kết thúc phải sau ngày bắt đầu.")})
    before = snapshot(attachment)
    attachment.end = on
    attachment.save(update_fields=["end"])
    audit_log(
        actor=by,
        action="cells.attachment.end",
        instance=attachment,
        organisation=attachment.member.organisation,
        before=before,
        after=snapshot(attachment),
    )
    member_exemption_changed.send(sender=Member, member=attachment.member, since=on, by=by)
    return attachment


@transaction.atomic
def exemption_end(*, exemption: Exemption, on: datetime.date, by=None) -> Exemption:
    exemption = Exemption.objects.select_for_update().get(pk=exemption.pk)
    if on < exemption.start:
        raise ValidationError({"on": _("Ngày kết thúc phải sau ngày bắt đầu.")})
    before = snapshot(exemption)
    exemption.end = on
    exemption.save(update_fields=["end"])
    audit_log(
        actor=by,
        action="cells.exemption.end",
        instance=exemption,
        organisation=exemption.member.organisation,
        before=before,
        after=snapshot(exemption),
    )
    # The end of an exemption gives nothing back to end: the member simply has duties again. The lists
    # of meetings not held yet, which marked them exempt, now expect them after ``on``.
    member_exemption_changed.send(sender=Member, member=exemption.member, since=on, by=by)
    return exemption


@transaction.atomic
def member_suspend(
    *,
    member: Member,
    reason: str,
    start: datetime.date,
    end: datetime.date | None = None,
    decision_ref: str = "",
    by=None,
) -> Suspension:
    member = Member.objects.select_for_update(of=("self",)).select_related("user", "organisation").get(pk=member.pk)
    if end and end < start:
        raise ValidationError({"end": _("Ngày kết thúc phải sau ngày bắt đầu.")})
    if _overlapping(member.suspensions.all(), start, end).exists():
        raise ValidationError({"start": _("Đảng viên đã bị đình chỉ sinh hoạt trong khoảng thời gian này.")})
    suspension = Suspension(member=member, reason=reason, start=start, end=end, decision_ref=decision_ref)
    suspension.full_clean()
    suspension.save()
    audit_log(
        actor=by,
        action="cells.suspension.create",
        instance=suspension,
        organisation=member.organisation,
        after=snapshot(suspension),
    )
    # A suspended member takes no part in party work while it lasts: the duties their roles give over
    # the cell (secretary, clerk…) end the day before; they stay a member of the cell (with the member
    # role, granted if they had none) but come off its meetings not held yet within the suspension.
    # A suspension recorded after it is over changes nobody's rights today.
    if member.organisation is not None and (end is None or end >= timezone.localdate()):
        _leave(member=member, cell=member.organisation, on=start, end=end, keep_roles=(Role.MEMBER,), by=by)
        if member.user_id:
            _grant_member_role(user=member.user, cell=member.organisation, start=start, by=by)
    return suspension


def position_check(*, member: Member, organisation: Organisation, kind: str) -> None:
    if kind != Position.Kind.SUPERVISOR and member.organisation_id != organisation.pk:
        raise ValidationError({"member": _("Đảng viên không sinh hoạt ở chi bộ này.")})


@transaction.atomic
def position_assign(
    *, member: Member, organisation: Organisation, kind: str, start: datetime.date, by=None
) -> Position:
    """Give a member a party position; a new secretary replaces the previous one from ``start``."""
    position_check(member=member, organisation=organisation, kind=kind)
    if kind == Position.Kind.SECRETARY:
        for previous in organisation.positions.select_for_update().filter(kind=kind, end__isnull=True):
            position_end(position=previous, on=start, by=by)
    position = Position(member=member, organisation=organisation, kind=kind, start=start)
    position.full_clean()
    position.save()
    audit_log(
        actor=by, action="cells.position.create", instance=position, organisation=organisation, after=snapshot(position)
    )
    return position


@transaction.atomic
def position_end(*, position: Position, on: datetime.date, by=None) -> Position:
    if on < position.start:
        raise ValidationError({"on": _("Ngày kết thúc phải sau ngày bắt đầu.")})
    before = snapshot(position)
    position.end = on
    position.save(update_fields=["end"])
    audit_log(
        actor=by,
        action="cells.position.end",
        instance=position,
        organisation=position.organisation,
        before=before,
        after=snapshot(position),
    )
    return position


@transaction.atomic
def role_assign(
    *, user, organisation: Organisation, role: str, start: datetime.date | None = None, by=None
) -> RoleAssignment:
    """Grant ``role`` on ``organisation`` (and so on its subtree) from ``start``, with an audit row.

    Refused: a role at a level it does not belong to (a secretary of a đảng ủy cơ sở), a cell role
    for an account that is not one of the cell's members, a role the user already holds there.
    """
    start = start or timezone.localdate()
    if role not in Role.values:
        raise ValidationError({"role": _("Vai trò không hợp lệ.")})
    if organisation.kind not in ROLE_LEVELS[role]:
        raise ValidationError(
            {
                "role": _('Vai trò "%(role)s" không áp dụng cho %(kind)s.')
                % {"role": Role(role).label, "kind": organisation.get_kind_display().lower()}
            }
        )
    if role in CELL_MEMBER_ROLES:
        member = Member.objects.filter(user=user).first()
        if member is None or member.organisation_id != organisation.pk or member.state != Member.State.ACTIVE:
            raise ValidationError(
                {
                    "user": _("Tài khoản này không phải của một đảng viên đang sinh hoạt tại %(cell)s.")
                    % {"cell": organisation.name}
                }
            )
    held = RoleAssignment.objects.filter(user=user, organisation=organisation, role=role).filter(
        Q(end__isnull=True) | Q(end__gte=start)
    )
    if held.exists():
        raise ValidationError(
            {"role": _("Tài khoản đã có vai trò này tại %(organisation)s.") % {"organisation": organisation.name}}
        )
    assignment = RoleAssignment(user=user, organisation=organisation, role=role, start=start)
    assignment.full_clean()
    assignment.save()
    audit_log(
        actor=by, action="cells.role.assign", instance=assignment, organisation=organisation, after=snapshot(assignment)
    )
    return assignment


@transaction.atomic
def role_end(*, assignment: RoleAssignment, on: datetime.date, by=None) -> RoleAssignment | None:
    """End a role: ``on`` is the last day it is in force (as ``end`` reads everywhere).

    A role that would end before it starts never took effect: it is deleted (None is returned),
    and the audit row keeps what it was.
    """
    assignment = RoleAssignment.objects.select_for_update().select_related("organisation").get(pk=assignment.pk)
    before = snapshot(assignment)
    if assignment.end is not None and assignment.end <= on:
        return assignment  # already over by then
    if on < assignment.start:
        audit_log(
            actor=by,
            action="cells.role.cancel",
            instance=assignment,
            organisation=assignment.organisation,
            before=before,
        )
        assignment.delete()
        return None
    assignment.end = on
    assignment.save(update_fields=["end"])
    audit_log(
        actor=by,
        action="cells.role.end",
        instance=assignment,
        organisation=assignment.organisation,
        before=before,
        after=snapshot(assignment),
    )
    return assignment


def roles_end_over(*, user, organisation: Organisation, on: datetime.date, keep=(), by=None) -> list[RoleAssignment]:
    """End, with ``on`` their last day, the user's roles on ``organisation`` and its subtree (but ``keep``)."""
    assignments = (
        RoleAssignment.objects.filter(user=user, organisation__path__startswith=organisation.path)
        .filter(Q(end__isnull=True) | Q(end__gt=on))
        .exclude(role__in=keep)
        .order_by("pk")
    )
    ended = (role_end(assignment=assignment, on=on, by=by) for assignment in assignments)
    return [assignment for assignment in ended if assignment is not None]


# --- notifications -----------------------------------------------------------------------


def notification_send(
    *,
    members,
    kind: str,
    subject: str,
    body: str,
    url: str = "",
    organisation: Organisation | None = None,
    body_for=None,
    optional: bool = False,
    attachment: tuple[str, str, str] | None = None,
    attachment_for=None,
) -> list[Notification]:
    """One inbox row per member (and one e-mail each, never a shared list), sent after commit.

    ``body_for(member)`` may give each person their own text (e.g. their personal RSVP link).
    ``attachment`` is a file for the e-mail as ``(name, mime type, text)``, e.g. a meeting's
    ``invitation.ics``; ``attachment_for(member)`` gives each person their own one.
    ``optional`` marks a reminder a member may take off e-mail (``Member.optional_reminder_email``);
    meeting notices never pass it. The inbox row is written either way.
    E-mail delivery failures are recorded on the row, never raised into the caller's request.
    """

    def attachment_fields(member) -> dict:
        name, mime_type, text = (attachment_for(member) if attachment_for else attachment) or ("", "", "")
        return {"attachment_name": name, "attachment_type": mime_type, "attachment": text}

    rows = [
        Notification(
            recipient_id=member.user_id,
            member=member,
            organisation=organisation,
            kind=kind,
            subject=subject,
            body=body_for(member) if body_for else body,
            url=url,
            email=(member.email or "") if not optional or member.optional_reminder_email else "",
            **attachment_fields(member),
        )
        for member in members
    ]
    Notification.objects.bulk_create(rows)
    ids = [row.pk for row in rows if row.email]
    if ids:
        transaction.on_commit(lambda: notification_emails_enqueue(notification_ids=ids), robust=True)
    return rows


def notification_emails_enqueue(*, notification_ids) -> int:
    """Queue one e-mail task per notification. The rows are the outbox: if the broker is down the
    request still succeeds, and ``notification_email_sweep`` queues them again once it is back."""
    from .tasks import notification_email_send

    queued = 0
    for notification_id in notification_ids:
        try:
            notification_email_send.delay(notification_id)
        except Exception as exc:  # kombu raises several connection error types
            logger.warning("broker unavailable, notification %s stays in the outbox: %s", notification_id, exc)
            break
        queued += 1
    return queued


def notification_pending_email_ids(*, older_than_seconds: int = 900, limit: int = 5000) -> list[int]:
    """Outbox rows whose e-mail was never sent nor failed, older than the normal queueing delay."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        Notification.objects.filter(email_sent_at__isnull=True, email_error="", created_at__lt=cutoff)
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


# Left in ``email_error`` while the e-mail is being handed to the mail server. A worker killed in
# that moment leaves it behind: the admin sees the message may not have left, and nothing resends
# it on its own (a second copy is worse than asking the admin to check).
EMAIL_SENDING_MARK = "Đang gửi: nếu trạng thái này còn sau vài phút, tiến trình gửi đã bị dừng giữa chừng."


def _email_of(notification: Notification):
    """The e-mail of one notification, with its attachment when it has one.

    A MIME type with parameters (``text/calendar; method=REQUEST``) is kept whole on the part:
    RFC 6047 §2.4 asks for the iTIP method there too, and Outlook reads it to show an invitation.
    """
    from email.mime.text import MIMEText

    from django.core.mail import EmailMessage

    message = EmailMessage(notification.subject, notification.body, None, [notification.email])
    if notification.attachment_name:
        mime_type, *parameters = [part.strip() for part in notification.attachment_type.split(";")]
        maintype, subtype = (mime_type or "application/octet-stream").split("/", 1)
        if maintype != "text":
            message.attach(notification.attachment_name, notification.attachment, mime_type)
            return message
        part = MIMEText(notification.attachment, subtype, "utf-8")
        for parameter in parameters:
            name, _sep, value = parameter.partition("=")
            if name.strip().lower() != "charset":  # MIMEText has set it: the text is always UTF-8
                part.set_param(name.strip(), value.strip().strip('"'), requote=False)
        part.add_header("Content-Disposition", "attachment", filename=notification.attachment_name)
        message.attach(part)
    return message


def notification_deliver_email(*, notification_id: int) -> bool:
    """Send one notification's e-mail once: the row is claimed with a conditional UPDATE first."""
    claimed = (
        Notification.objects.filter(pk=notification_id, email_sent_at__isnull=True)
        .exclude(email="")
        .update(
            email_sent_at=timezone.now(),
            email_error=EMAIL_SENDING_MARK,
        )
    )
    if not claimed:
        return False
    notification = Notification.objects.get(pk=notification_id)
    try:
        _email_of(notification).send()
    except Exception as exc:  # SMTP errors are many types; record and let the task decide to retry
        Notification.objects.filter(pk=notification_id).update(email_sent_at=None, email_error=str(exc)[:2000])
        raise
    Notification.objects.filter(pk=notification_id).update(email_error="")
    return True


@transaction.atomic
def member_set_reminder_email(*, member: Member, enabled: bool, by=None) -> Member:
    """Turn e-mail for optional reminders on or off (meeting notices are always e-mailed)."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.optional_reminder_email != enabled:
        member.optional_reminder_email = enabled
        member.save(update_fields=["optional_reminder_email", "updated_at"])
        audit_log(
            actor=by,
            action="cells.member.reminder_email",
            instance=member,
            organisation=member.organisation,
            before={"optional_reminder_email": not enabled},
            after={"optional_reminder_email": enabled},
        )
    return member


def notification_mark_read(*, notification: Notification) -> None:
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())


# --- the cell's books: party dues ----------------------------------------------------------


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đ"


def _month_label(month: datetime.date) -> str:
    return month.strftime("%m/%Y")


def _check_month_open(month: datetime.date, field: str = "month"):
    from lib.dates import month_start

    if month_start(month) > month_start(timezone.localdate()):
        raise ValidationError({field: _("Tháng %(month)s chưa đến.") % {"month": _month_label(month)}})


def _new_dues_line(*, member: Member, organisation: Organisation, month: datetime.date, by) -> DuesPayment:
    from .dues import assess

    assessment = assess(member=member, month=month)
    if assessment.rule is None:
        raise ValidationError(
            {
                "month": _("Chưa có mức đảng phí áp dụng cho đối tượng này trong tháng %(month)s.")
                % {"month": _month_label(month)}
            }
        )
    return DuesPayment(
        member=member,
        month=month,
        organisation=organisation,
        base=assessment.base,
        rate_rule=assessment.rule,
        adjustment=assessment.adjustment,
        amount_due=assessment.amount_due,
        recorded_by=by,
    )


@transaction.atomic
def dues_month_open(*, organisation: Organisation, month: datetime.date, by=None) -> list[DuesPayment]:
    """Open the month's page of the cell's dues book: one unpaid line per member of the cell that month.

    The amount due is fixed when the line is made, from the member's category and base and the rule
    in force for that month; members who already have a line are left alone.
    """
    from lib.dates import month_start

    from .selectors import dues_members_without_line

    _check_cell(organisation)
    month = month_start(month)
    _check_month_open(month)
    lines = []
    for member in dues_members_without_line(cell=organisation, month=month):
        line = _new_dues_line(member=member, organisation=organisation, month=month, by=by)
        line.save()
        audit_log(actor=by, action="cells.dues.open", instance=line, organisation=organisation, after=snapshot(line))
        lines.append(line)
    return lines


@transaction.atomic
def dues_payment_record(
    *,
    organisation: Organisation,
    member: Member,
    month: datetime.date,
    amount_paid: int,
    paid_on: datetime.date | None = None,
    method: str = "",
    note: str = "",
    by=None,
) -> DuesPayment:
    """Record what ``member`` paid for ``month`` in the cell's book (creating the line if needed).

    Refused, with the message on the field: a negative amount, a month not yet come or when the
    member was not in the cell, more than due without a note (voluntary extra is allowed but must be
    explained), a payment without its date or method, a date in the future.
    """
    from lib.dates import month_start

    from .dues import was_in_cell

    month = month_start(month)
    _check_month_open(month)
    errors = {}
    if amount_paid is None or amount_paid < 0:
        errors["amount_paid"] = _("Số tiền không được âm.")
    if not was_in_cell(member=member, organisation_id=organisation.pk, month=month):
        errors["month"] = _("Đảng viên không sinh hoạt ở chi bộ trong tháng %(month)s.") % {
            "month": _month_label(month)
        }
    if errors:
        raise ValidationError(errors)
    line = DuesPayment.objects.select_for_update().filter(member=member, month=month).first()
    if line is not None and line.organisation_id != organisation.pk:
        raise ValidationError(
            {
                "month": _("Tháng %(month)s của đảng viên này đã ghi ở %(cell)s.")
                % {"month": _month_label(month), "cell": line.organisation.name}
            }
        )
    before = snapshot(line) if line else None
    if line is None:
        line = _new_dues_line(member=member, organisation=organisation, month=month, by=by)
    note = (note or "").strip()
    if amount_paid > line.amount_due and not note:
        errors["amount_paid"] = _(
            "Số tiền nộp (%(paid)s) lớn hơn mức phải nộp (%(due)s): ghi rõ lý do vào ô ghi chú."
        ) % {"paid": _money(amount_paid), "due": _money(line.amount_due)}
    if amount_paid > 0 and not paid_on:
        errors["paid_on"] = _("Nhập ngày nộp.")
    if paid_on and paid_on > timezone.localdate():
        errors["paid_on"] = _("Ngày nộp không thể ở tương lai.")
    if amount_paid > 0 and method not in DuesPayment.Method.values:
        errors["method"] = _("Chọn hình thức nộp.")
    if errors:
        raise ValidationError(errors)
    line.amount_paid = amount_paid
    line.paid_on = paid_on if amount_paid else None
    line.method = method if amount_paid else ""
    line.note = note
    line.recorded_by = by if getattr(by, "is_authenticated", False) else None
    line.full_clean()
    line.save()
    audit_log(
        actor=by,
        action="cells.dues.record",
        instance=line,
        organisation=organisation,
        before=before,
        after=snapshot(line),
    )
    return line


@transaction.atomic
def dues_relief_grant(
    *,
    member: Member,
    kind: str,
    start: datetime.date,
    end: datetime.date | None = None,
    reduction_percent: int | None = None,
    reason: str,
    decision_ref: str = "",
    by=None,
) -> DuesRelief:
    """Exempt a member from dues, or reduce them by 30/50/70 % for at most 12 months (QĐ 01-QĐ/TW)."""
    from lib.dates import add_years, month_end, month_start

    start = month_start(start)
    end = month_end(end) if end else None
    errors = {}
    if end and end < start:
        errors["end"] = _("Tháng kết thúc phải sau tháng bắt đầu.")
    if kind == DuesRelief.Kind.REDUCE:
        if reduction_percent not in (30, 50, 70):
            errors["reduction_percent"] = _("Mức giảm là 30 %, 50 % hoặc 70 %.")
        if end is None or end >= add_years(start, 1):
            errors["end"] = _("Mỗi lần giảm đảng phí không quá 12 tháng.")
    else:
        reduction_percent = None
    if errors:
        raise ValidationError(errors)
    relief = DuesRelief(
        member=member,
        kind=kind,
        start=start,
        end=end,
        reduction_percent=reduction_percent,
        reason=reason,
        decision_ref=decision_ref,
    )
    relief.full_clean()
    relief.save()
    audit_log(
        actor=by,
        action="cells.dues_relief.create",
        instance=relief,
        organisation=member.organisation,
        after=snapshot(relief),
    )
    return relief


# The largest amount a form or a service takes: 1,000 billion đồng, far above any cell's book and far
# below what a PositiveBigIntegerField holds (a typing slip must not become a database error).
MONEY_MAX = 10**12


def _check_amount(amount, errors: dict, field: str = "amount") -> None:
    if not isinstance(amount, int) or isinstance(amount, bool):
        errors[field] = _("Nhập số tiền bằng chữ số, đơn vị đồng.")
    elif amount <= 0:
        errors[field] = _("Số tiền phải lớn hơn 0.")
    elif amount > MONEY_MAX:
        errors[field] = _("Số tiền quá lớn: kiểm tra lại số chữ số.")


def _check_past_date(day, errors: dict, field: str, *, required_message: str) -> None:
    if not day:
        errors[field] = required_message
    elif day > timezone.localdate():
        errors[field] = _("Ngày không thể ở tương lai.")


def _lock_cell(organisation: Organisation) -> Organisation:
    """Take the cell's row lock, so two clerks writing its book at once are checked one after the other."""
    return Organisation.objects.select_for_update().get(pk=organisation.pk)


@transaction.atomic
def dues_remittance_record(
    *,
    organisation: Organisation,
    month: datetime.date,
    remitted_on: datetime.date | None,
    amount: int,
    receipt_number: str,
    note: str = "",
    by=None,
) -> DuesRemittance:
    """Record a payment of ``month``'s dues up to the committee above, with its receipt number.

    Refused, with the message on the field: an amount not above 0 or above what is still owed for the
    month under the split in force (``cells.dues.dues_share``), a month not yet come, a date in the
    future or before the month began, a receipt number already used in this cell's book.
    """
    from lib.dates import month_start

    from .selectors import dues_book_months

    _check_cell(organisation)
    month = month_start(month)
    _check_month_open(month)
    _lock_cell(organisation)
    receipt_number = (receipt_number or "").strip()
    note = (note or "").strip()
    errors: dict[str, str] = {}
    _check_amount(amount, errors)
    _check_past_date(remitted_on, errors, "remitted_on", required_message=_("Nhập ngày nộp."))
    if remitted_on and "remitted_on" not in errors and remitted_on < month:
        errors["remitted_on"] = _("Ngày nộp phải từ ngày %(day)s, đầu kỳ tháng %(month)s.") % {
            "day": month.strftime("%d/%m/%Y"),
            "month": _month_label(month),
        }
    if not receipt_number:
        errors["receipt_number"] = _("Nhập số biên lai của cấp trên.")
    elif DuesRemittance.objects.filter(organisation=organisation, receipt_number__iexact=receipt_number).exists():
        errors["receipt_number"] = _("Số biên lai %(number)s đã ghi trong sổ của chi bộ.") % {"number": receipt_number}
    if "amount" not in errors:
        book_month = dues_book_months(cell=organisation, start=month, end=month)[0]
        if book_month.outstanding is not None and amount > book_month.outstanding:
            if book_month.to_remit == 0:
                errors["amount"] = _(
                    "Tháng %(month)s chưa thu được đảng phí nên chưa có khoản phải nộp cấp trên: "
                    "ghi thu đảng phí của đảng viên trước."
                ) % {"month": _month_label(month)}
            else:
                errors["amount"] = _("Số tiền vượt số còn phải nộp cấp trên của tháng %(month)s (%(outstanding)s).") % {
                    "month": _month_label(month),
                    "outstanding": _money(book_month.outstanding),
                }
    if errors:
        raise ValidationError(errors)
    assert remitted_on is not None  # required: _check_past_date refused an empty one
    remittance = DuesRemittance(
        organisation=organisation,
        month=month,
        remitted_on=remitted_on,
        amount=amount,
        receipt_number=receipt_number,
        note=note,
        recorded_by=by if getattr(by, "is_authenticated", False) else None,
    )
    remittance.full_clean(validate_constraints=False)
    remittance.save()
    audit_log(
        actor=by,
        action="cells.dues_remittance.create",
        instance=remittance,
        organisation=organisation,
        after=snapshot(remittance, exclude=("created_at",)),
    )
    return remittance


@transaction.atomic
def cell_fund_entry_record(
    *,
    organisation: Organisation,
    kind: str,
    entry_date: datetime.date | None,
    amount: int,
    purpose: str,
    voucher_number: str = "",
    by=None,
) -> CellFundEntry:
    """Record money the cell received for its activities, spent, or carried over from its paper book.

    Refused, with the message on the field: an amount not above 0, a date in the future, no purpose, no
    voucher number on a receipt or an expense, a voucher number of that kind already used in the cell's
    book, a second balance brought forward.
    """
    _check_cell(organisation)
    _lock_cell(organisation)
    purpose = (purpose or "").strip()
    voucher_number = (voucher_number or "").strip()
    errors = {}
    if kind not in CellFundEntry.Kind.values:
        errors["kind"] = _("Chọn loại: thu, chi hoặc số dư chuyển sang.")
    _check_amount(amount, errors)
    _check_past_date(entry_date, errors, "entry_date", required_message=_("Nhập ngày."))
    if not purpose:
        errors["purpose"] = _("Nhập nội dung thu, chi.")
    if kind == CellFundEntry.Kind.BROUGHT_FORWARD:
        if CellFundEntry.objects.filter(organisation=organisation, kind=kind).exists():
            errors["kind"] = _("Sổ của chi bộ đã có số dư chuyển sang; mỗi sổ chỉ ghi một lần.")
    elif not voucher_number:
        errors["voucher_number"] = _("Nhập số chứng từ (phiếu thu, phiếu chi).")
    if (
        voucher_number
        and "kind" not in errors
        and CellFundEntry.objects.filter(
            organisation=organisation, kind=kind, voucher_number__iexact=voucher_number
        ).exists()
    ):
        errors["voucher_number"] = _("Số chứng từ %(number)s đã ghi trong sổ của chi bộ.") % {"number": voucher_number}
    if errors:
        raise ValidationError(errors)
    assert entry_date is not None  # required: _check_past_date refused an empty one
    entry = CellFundEntry(
        organisation=organisation,
        kind=kind,
        entry_date=entry_date,
        amount=amount,
        purpose=purpose,
        voucher_number=voucher_number,
        recorded_by=by if getattr(by, "is_authenticated", False) else None,
    )
    entry.full_clean(validate_constraints=False)
    entry.save()
    audit_log(
        actor=by,
        action="cells.fund_entry.create",
        instance=entry,
        organisation=organisation,
        after=snapshot(entry, exclude=("created_at",)),
    )
    return entry


# --- the cell's books: required documents ----------------------------------------------------

DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
# What a cell may upload, by the type its content shows, with the file-name endings that type may carry.
DOCUMENT_KINDS = {
    "application/pdf": (".pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
}


def _check_document_file(file) -> str:
    """The content type of an upload, checked by its content (not its name); raises on anything else."""
    import filetype

    if file.size > DOCUMENT_MAX_BYTES:
        raise ValidationError({"file": _("Tệp lớn hơn 10 MB.")})
    file.seek(0)
    head = file.read(8192)
    file.seek(0)
    kind = filetype.guess(head)
    name = (file.name or "").lower()
    if kind is None or kind.mime not in DOCUMENT_KINDS:
        raise ValidationError({"file": _("Chỉ nhận tệp PDF, Word (.docx) hoặc ảnh (JPG, PNG).")})
    if not name.endswith(DOCUMENT_KINDS[kind.mime]):
        raise ValidationError(
            {
                "file": _("Nội dung tệp không đúng với tên tệp (%(name)s): tệp thực chất là %(kind)s.")
                % {"name": file.name, "kind": kind.extension.upper()}
            }
        )
    return kind.mime


def _document_snapshot(document: CellDocument) -> dict:
    # snapshot() keeps field values as they are; a FieldFile must be stored as its name.
    data = snapshot(document, exclude=("uploaded_at",))
    data["file"] = document.file.name if document.file else ""
    return data


@transaction.atomic
def cell_document_upload(
    *,
    organisation: Organisation,
    document_type: RequiredDocumentType,
    file,
    adopted_on: datetime.date,
    year: int | None = None,
    term: Term | None = None,
    by=None,
) -> CellDocument:
    """Store the adopted file of a required document for a year or for a term (replacing an earlier one)."""
    _check_cell(organisation)
    today = timezone.localdate()
    errors = {}
    if document_type.period == RequiredDocumentType.Period.YEAR:
        term = None
        if not year:
            errors["year"] = _("Chọn năm của văn bản.")
        elif year > today.year + 1 or year < 2000:
            errors["year"] = _("Năm %(year)s không hợp lệ.") % {"year": year}
    else:
        year = None
        if term is None or term.organisation_id != organisation.pk:
            errors["term"] = _("Chọn nhiệm kỳ của chi bộ.")
    if adopted_on and adopted_on > today:
        errors["adopted_on"] = _("Ngày ban hành không thể ở tương lai.")
    if errors:
        raise ValidationError(errors)
    content_type = _check_document_file(file)
    existing = (
        CellDocument.objects.select_for_update()
        .filter(organisation=organisation, document_type=document_type, year=year, term=term)
        .first()
    )
    document = existing or CellDocument(organisation=organisation, document_type=document_type, year=year, term=term)
    before = _document_snapshot(existing) if existing else None
    old_file = existing.file.name if existing else None
    document.file = file
    document.original_name = (file.name or "")[:255]
    document.content_type = content_type
    document.adopted_on = adopted_on
    document.uploaded_by = by if getattr(by, "is_authenticated", False) else None
    document.save()
    if old_file and old_file != document.file.name:
        storage = document.file.storage
        transaction.on_commit(lambda: storage.delete(old_file))
    audit_log(
        actor=by,
        action="cells.document.upload",
        instance=document,
        organisation=organisation,
        before=before,
        after=_document_snapshot(document),
    )
    return document


# --- the cell's books: yearly commitments ----------------------------------------------------


def _check_commitment(*, year, content):
    errors = {}
    if not year or year > timezone.localdate().year:
        errors["year"] = _("Năm %(year)s chưa mở để cam kết.") % {"year": year or "—"}
    elif year < 2000:
        errors["year"] = _("Năm %(year)s không hợp lệ.") % {"year": year}
    if not (content or "").strip():
        errors["content"] = _("Nhập nội dung cam kết.")
    if errors:
        raise ValidationError(errors)


def _commitment_save(*, member, year, content, confirmed_at, source, action, by) -> MemberCommitment:
    _check_commitment(year=year, content=content)
    commitment = MemberCommitment.objects.select_for_update().filter(member=member, year=year).first()
    before = snapshot(commitment) if commitment else None
    commitment = commitment or MemberCommitment(member=member, year=year)
    commitment.content = content.strip()
    commitment.confirmed_at = confirmed_at
    commitment.source = source
    commitment.recorded_by = by if getattr(by, "is_authenticated", False) else None
    commitment.save()
    audit_log(
        actor=by,
        action=action,
        instance=commitment,
        organisation=member.organisation,
        before=before,
        after=snapshot(commitment),
    )
    return commitment


@transaction.atomic
def commitment_confirm(*, member: Member, year: int, content: str, by) -> MemberCommitment:
    """The member fills in and confirms their own yearly commitment in the portal."""
    if getattr(by, "pk", None) is None or member.user_id != by.pk:
        raise ValidationError(_("Chỉ đảng viên mới tự xác nhận được bản cam kết của mình."))
    return _commitment_save(
        member=member,
        year=year,
        content=content,
        confirmed_at=timezone.now(),
        source=MemberCommitment.Source.PORTAL,
        action="cells.commitment.portal",
        by=by,
    )


@transaction.atomic
def commitment_record_paper(
    *, member: Member, year: int, content: str, signed_on: datetime.date, by=None
) -> MemberCommitment:
    """The secretary records a commitment the member signed on paper."""
    if signed_on and signed_on > timezone.localdate():
        raise ValidationError({"signed_on": _("Ngày ký không thể ở tương lai.")})
    # Noon of the day it was signed, but not later than now (a paper signed this morning).
    confirmed_at = min(timezone.make_aware(datetime.datetime.combine(signed_on, datetime.time(12, 0))), timezone.now())
    return _commitment_save(
        member=member,
        year=year,
        content=content,
        confirmed_at=confirmed_at,
        source=MemberCommitment.Source.PAPER,
        action="cells.commitment.paper",
        by=by,
    )


# --- member lifecycle ------------------------------------------------------------------------

PROBATION_MONTHS = 12


@transaction.atomic
def member_record_admission(
    *, member: Member, decision_date: datetime.date, ceremony_date: datetime.date | None = None, by=None
) -> Member:
    """Record a new member's admission: the decision (party age counts from it) and the ceremony
    (the 12 months of probation count from it). The member is probationary until confirmed."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    today = timezone.localdate()
    errors = {}
    if member.status != Member.Status.PROBATIONARY:
        errors["decision_date"] = _("Đảng viên đã là đảng viên chính thức.")
    if decision_date and decision_date > today:
        errors["decision_date"] = _("Ngày quyết định kết nạp không thể ở tương lai.")
    if ceremony_date and ceremony_date > today:
        errors["ceremony_date"] = _("Ngày lễ kết nạp không thể ở tương lai.")
    if ceremony_date and decision_date and ceremony_date < decision_date:
        errors["ceremony_date"] = _("Ngày lễ kết nạp không thể trước ngày quyết định kết nạp.")
    if errors:
        raise ValidationError(errors)
    before = snapshot(member)
    member.admission_decision_date = decision_date
    member.admission_ceremony_date = ceremony_date
    member.full_membership_date = None
    _check_member_dates(member)
    member.save(
        update_fields=["admission_decision_date", "admission_ceremony_date", "full_membership_date", "updated_at"]
    )
    audit_log(
        actor=by,
        action="cells.member.admit",
        instance=member,
        organisation=member.organisation,
        before=before,
        after=snapshot(member),
    )
    return member


def _full_membership_vote(member: Member, due: datetime.date):
    """The cell's passed vote confirming ``member``'s full membership, held once the probation ended.

    Điều lệ Đảng Art. 5 and HD 06-HD/TW §3.6b: the cell's resolution needs at least two thirds of its
    official members (counted as ``meetings.votes`` counts them). Read through the app registry: the
    meetings app sits above this one.
    """
    from django.apps import apps

    Vote = apps.get_model("meetings", "Vote")  # noqa: N806
    candidates = (
        Vote.objects.filter(
            kind="full_membership",
            subject=member,
            meeting__organisation_id=member.organisation_id,
            meeting__state__in=["held", "minutes_adopted"],
        )
        .select_related("meeting")
        .order_by("-meeting__actual_start", "-pk")
    )
    for vote in candidates:
        day = timezone.localdate(vote.meeting.actual_start or vote.meeting.planned_start)
        if day >= due and vote.passed:
            return vote
    return None


@transaction.atomic
def member_confirm_full_membership(*, member: Member, on: datetime.date, by=None) -> Member:
    """Chuyển đảng chính thức: probationary → official from ``on``, refused before 12 months of probation and
    without the cell's passed vote (≥ 2/3) on the member, taken at a meeting after the probation ended."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status != Member.Status.PROBATIONARY:
        raise ValidationError({"on": _("Đảng viên này không phải đảng viên dự bị.")})
    if not member.admission_ceremony_date:
        raise ValidationError({"on": _("Chưa ghi ngày lễ kết nạp: không tính được thời gian dự bị.")})
    due = member.probation_review_due()
    assert due is not None  # the ceremony date is set (checked above)
    if on < due:
        raise ValidationError(
            {"on": _("Chưa đủ 12 tháng dự bị: sớm nhất từ ngày %(date)s.") % {"date": due.strftime("%d/%m/%Y")}}
        )
    if on > timezone.localdate():
        raise ValidationError({"on": _("Ngày công nhận không thể ở tương lai.")})
    if _full_membership_vote(member, due) is None:
        raise ValidationError(
            {
                "on": _(
                    'Chưa có nghị quyết của chi bộ: cần một biểu quyết "công nhận đảng viên '
                    'chính thức" cho đồng chí %(name)s tại buổi sinh hoạt của chi bộ sau ngày '
                    "%(date)s, được từ 2/3 số đảng viên chính thức tán thành."
                )
                % {"name": member.full_name, "date": due.strftime("%d/%m/%Y")}
            }
        )
    before = snapshot(member)
    member.status = Member.Status.OFFICIAL
    member.full_membership_date = on
    member.save(update_fields=["status", "full_membership_date", "updated_at"])
    audit_log(
        actor=by,
        action="cells.member.confirm_full",
        instance=member,
        organisation=member.organisation,
        before=before,
        after=snapshot(member),
    )
    return member


# --- sign-in: the second factor, recovery codes and sessions (issue #21) ------------------------------

RECOVERY_CODE_COUNT = 10


def _throttled_message(data) -> str:
    wait = max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds())) if data else 1
    return _("Bạn đã nhập sai mã nhiều lần liên tiếp. Vui lòng đợi %(seconds)s giây rồi nhập lại.") % {"seconds": wait}


def _check_token(device, token: str) -> None:
    """Verify ``token`` on ``device`` (locked for the check), keeping django-otp's throttling of failures.

    The failure count is committed even though the caller then raises: the check runs in its own
    transaction, so a refused code still makes the next try wait.
    """
    with transaction.atomic():
        device = type(device).objects.select_for_update().get(pk=device.pk)
        allowed, data = device.verify_is_allowed()
        if not allowed:
            raise_after = _throttled_message(data)
        elif device.verify_token(token):
            return
        else:
            raise_after = None
    if raise_after:
        raise ValidationError({"token": raise_after})
    raise ValidationError({"token": _("Mã không đúng hoặc đã hết hạn. Hãy nhập mã đang hiện trên ứng dụng.")})


def recovery_code_format(raw: str) -> str:
    """ABCD-EFGH-JKLM-NPQR: four groups of four, as the user writes them down."""
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _recovery_codes_replace(*, user) -> list[str]:
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [base64.b32encode(secrets.token_bytes(10)).decode() for _n in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(device=device, code_hash=RecoveryCode.digest(code)) for code in codes]
    )
    return [recovery_code_format(code) for code in codes]


def two_factor_enrolment_start(*, user) -> TOTPDevice:
    """The not yet confirmed TOTP device whose QR code the enrolment page shows (the same one on a reload)."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError(_("Xác thực hai bước đã được bật cho tài khoản này."))
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="totp", confirmed=False)
    return device


def two_factor_enrolment_confirm(*, user, token: str) -> tuple[TOTPDevice, list[str]]:
    """Turn the second factor on with the first code the app shows; returns the device and the recovery codes.

    The codes exist in clear only in the return value: the page shows them once.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        raise ValidationError({"token": _("Hãy mở lại trang bật xác thực hai bước để lấy mã QR mới.")})
    _check_token(device, token)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user=user)
        audit_log(
            actor=user,
            action="cells.two_factor.enable",
            instance=device,
            after={"user": user.pk, "recovery_codes": len(codes)},
        )
    return device, codes


def recovery_codes_regenerate(*, user) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError(_("Hãy bật xác thực hai bước trước khi tạo mã dự phòng."))
    with transaction.atomic():
        codes = _recovery_codes_replace(user=user)
        audit_log(
            actor=user, action="cells.two_factor.recovery_codes", instance=user, after={"recovery_codes": len(codes)}
        )
    return codes


def second_factor_verify(*, user, token: str):
    """The device that accepts ``token``: the authenticator app's 6 digits, or one recovery code (used up)."""
    token = (token or "").strip().replace(" ", "")
    if not token:
        raise ValidationError({"token": _("Hãy nhập mã 6 số trên ứng dụng xác thực, hoặc một mã dự phòng.")})
    if token.isdigit():
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
    else:
        device = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise ValidationError({"token": _("Mã không đúng hoặc đã hết hạn. Hãy nhập mã đang hiện trên ứng dụng.")})
    _check_token(device, token)
    if isinstance(device, RecoveryCodeDevice):
        audit_log(
            actor=user,
            action="cells.two_factor.recovery_code_used",
            instance=user,
            after={"recovery_codes_left": device.codes.count()},
        )
    return device


def two_factor_disable(*, user, token: str) -> None:
    """Turn the second factor off, with a current code; not for the roles that must keep it."""
    if second_factor_required(user):
        raise ValidationError(_("Vai trò của bạn bắt buộc xác thực hai bước: không thể tắt."))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
    if device is None:
        raise ValidationError(_("Xác thực hai bước chưa được bật."))
    _check_token(device, token)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()
        audit_log(
            actor=user,
            action="cells.two_factor.disable",
            instance=user,
            before={"two_factor": True},
            after={"two_factor": False},
        )


def user_session_record(*, user, session_key: str, user_agent: str, ip_address: str | None) -> None:
    """Note (or refresh) a signed-in session of ``user`` for the session list."""
    now = timezone.now()
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user": user,
            "user_agent": (user_agent or "")[:300],
            "ip_address": ip_address or None,
            "last_seen_at": now,
        },
        create_defaults={
            "user": user,
            "user_agent": (user_agent or "")[:300],
            "ip_address": ip_address or None,
            "created_at": now,
            "last_seen_at": now,
        },
    )


def user_session_touch(*, user, session_key: str, user_agent: str, ip_address: str | None) -> None:
    """The session was used just now: one UPDATE, or the row again if a key change (password change) lost it."""
    updated = UserSession.objects.filter(session_key=session_key, user=user).update(
        last_seen_at=timezone.now(), ip_address=ip_address or None
    )
    if not updated:
        user_session_record(user=user, session_key=session_key, user_agent=user_agent, ip_address=ip_address)


def user_sessions_end_others(*, user, keep_session_key: str) -> int:
    """ "Đăng xuất khỏi mọi nơi": end every session of ``user`` but the one in use; returns how many ended."""
    with transaction.atomic():
        others = UserSession.objects.filter(user=user).exclude(session_key=keep_session_key)
        keys = list(others.values_list("session_key", flat=True))
        ended, _count = Session.objects.filter(session_key__in=keys).delete()
        others.delete()
        audit_log(actor=user, action="cells.session.end_others", instance=user, after={"sessions_ended": ended})
    return ended


# --- personal data (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15; the rule's home: cells/privacy.py) ---


def member_personal_reveal(*, member: Member, fields, by, purpose: str = "reveal") -> dict[str, str]:
    """The unmasked ``fields`` of ``member`` for ``by``, after an audit row that says who saw whose field
    and when (written first: a value is never shown without its row). PermissionDenied for a user
    ``privacy.can_see_personal`` refuses; ``purpose`` is "reveal" ("Hiện") or "edit" (the edit form)."""
    from django.core.exceptions import PermissionDenied

    from .privacy import PERSONAL_FIELDS, can_see_personal

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
    from .privacy import PERSONAL_FIELDS, mask

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

    from .models import PersonalDataCorrection
    from .privacy import correction_value, display_value

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

    from .models import PersonalDataCorrection
    from .privacy import correction_value
    from .selectors import can_manage_member

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
    from .privacy import field_label

    return field_label(field)
