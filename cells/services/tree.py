"""The party tree: units, their placement and moves; positions (bí thư, chi ủy) and role grants."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lib.formatting import date_text

from ..models import (
    PATH_STEP_WIDTH,
    Member,
    Organisation,
    Position,
    Role,
    RoleAssignment,
    path_step,
)
from ..selectors import CELL_MEMBER_ROLES, ROLE_LEVELS, ancestor_ids
from ..signals import organisation_moved
from .audit import audit_log, snapshot

# --- organisations -----------------------------------------------------------------------


def _next_child_path(parent: Organisation | None) -> str:
    prefix = parent.path if parent else ""
    depth = (parent.depth if parent else 0) + 1
    siblings = Organisation.objects.select_for_update().filter(path__startswith=prefix, depth=depth)
    last = siblings.aggregate(last=Max("path"))["last"]
    number = 1 if last is None else int(last[-PATH_STEP_WIDTH:], 36) + 1
    return prefix + path_step(number)


def _ancestor_ids(organisation: Organisation) -> list[int]:
    return ancestor_ids({organisation.pk: organisation.path})[organisation.pk]


def organisation_check_placement(*, parent: Organisation | None, kind: str) -> None:
    """Where an organisation of ``kind`` may stand in the tree (the portal's forms and the admin's)."""
    if parent is None and kind != Organisation.Kind.KHOI:
        raise ValidationError({"parent": _("Chỉ Đảng bộ Khối được đứng đầu cây tổ chức.")})
    if parent is not None and kind == Organisation.Kind.KHOI:
        raise ValidationError({"kind": _("Đảng bộ Khối đứng đầu cây tổ chức, không trực thuộc tổ chức nào.")})
    # A tổ đảng is a part of one chi bộ (Điều lệ Art. 24.1; domain-research §5, "Tổ đảng").
    if parent is not None and parent.kind not in Organisation.CELL_KINDS and kind == Organisation.Kind.TO_DANG:
        raise ValidationError({"kind": _("Tổ đảng chỉ lập trong một chi bộ.")})
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
    old_ancestors = _ancestor_ids(organisation)
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
    organisation_moved.send(
        sender=Organisation,
        organisation=organisation,
        old_ancestors=old_ancestors,
        new_ancestors=_ancestor_ids(organisation),
    )
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
ORGANISATION_FIELDS = (
    "name",
    "short_code",
    "unit_type",
    "has_seal",
    "committee_override",
    "active_from",
    "active_to",
    "dues_area",
)


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
            if start < previous.start:
                raise ValidationError(
                    {
                        "start": _("Bí thư hiện tại giữ chức từ %(date)s: bí thư mới nhận chức từ ngày đó trở đi.")
                        % {"date": date_text(previous.start)}
                    }
                )
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
