"""Writes of the cells app. Each service validates, runs in one transaction and writes an audit row."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    PATH_STEP_WIDTH,
    AuditEntry,
    CellMembership,
    Exemption,
    Member,
    Notification,
    Organisation,
    Position,
    RoleAssignment,
    Suspension,
    path_step,
)

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


@transaction.atomic
def organisation_create(*, parent: Organisation | None, kind: str, name: str, by=None, **fields) -> Organisation:
    if parent is None and kind != Organisation.Kind.KHOI:
        raise ValidationError({"parent": _("Chỉ Đảng bộ Khối được đứng đầu cây tổ chức.")})
    if parent is not None and parent.kind in Organisation.CELL_KINDS and kind != Organisation.Kind.TO_DANG:
        raise ValidationError({"kind": _("Dưới một chi bộ chỉ có thể lập tổ đảng.")})
    path = _next_child_path(parent)
    organisation = Organisation(parent=parent, kind=kind, name=name, path=path, depth=len(path) // PATH_STEP_WIDTH, **fields)
    organisation.full_clean()
    organisation.save()
    audit_log(actor=by, action="cells.organisation.create", instance=organisation, organisation=organisation,
              after=snapshot(organisation))
    return organisation


@transaction.atomic
def organisation_move(*, organisation: Organisation, new_parent: Organisation, by=None) -> Organisation:
    """Move a subtree under another parent (units merge and split): one UPDATE rewrites the paths."""
    if new_parent.path.startswith(organisation.path):
        raise ValidationError({"parent": _("Không thể chuyển một tổ chức vào chính cây con của nó.")})
    before = snapshot(organisation)
    old_path = organisation.path
    new_path = _next_child_path(new_parent)
    depth_delta = (len(new_path) - len(old_path)) // PATH_STEP_WIDTH
    subtree = list(Organisation.objects.select_for_update().filter(path__startswith=old_path).order_by("path"))
    for node in subtree:
        node.path = new_path + node.path[len(old_path):]
        node.depth += depth_delta
    # Two passes keep the unique path constraint satisfied while the subtree moves.
    for node in subtree:
        Organisation.objects.filter(pk=node.pk).update(path="~" + node.path)
    for node in subtree:
        Organisation.objects.filter(pk=node.pk).update(path=node.path, depth=node.depth)
    Organisation.objects.filter(pk=organisation.pk).update(parent=new_parent)
    organisation.refresh_from_db()
    audit_log(actor=by, action="cells.organisation.move", instance=organisation, organisation=organisation,
              before=before, after=snapshot(organisation))
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
    if member.admission_decision_date and member.date_of_birth and member.admission_decision_date < member.date_of_birth:
        errors["admission_decision_date"] = _("Ngày kết nạp phải sau ngày sinh.")
    if (
        member.admission_ceremony_date
        and member.admission_decision_date
        and member.admission_ceremony_date < member.admission_decision_date
    ):
        errors["admission_ceremony_date"] = _("Ngày lễ kết nạp không thể trước ngày quyết định kết nạp.")
    if member.full_membership_date and member.admission_ceremony_date and member.full_membership_date < member.admission_ceremony_date:
        errors["full_membership_date"] = _("Ngày công nhận chính thức phải sau ngày lễ kết nạp.")
    if member.status == Member.Status.PROBATIONARY and member.full_membership_date:
        errors["full_membership_date"] = _("Đảng viên dự bị chưa có ngày công nhận chính thức.")
    if errors:
        raise ValidationError(errors)


MEMBER_FIELDS = (
    "full_name", "date_of_birth", "sex", "citizen_id", "phone", "email", "party_card_number",
    "admission_decision_date", "admission_ceremony_date", "full_membership_date", "status",
    "workplace", "job_title", "dues_category", "dues_base",
)


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
    member.full_clean()
    _check_member_dates(member)
    member.save()
    CellMembership.objects.create(
        member=member, organisation=organisation, start=joined_on or timezone.localdate(), reason_in=_("Tiếp nhận")
    )
    audit_log(actor=by, action="cells.member.create", instance=member, organisation=organisation, after=snapshot(member))
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
    member.full_clean()
    _check_member_dates(member)
    member.save()
    audit_log(actor=by, action="cells.member.update", instance=member, organisation=member.organisation,
              before=before, after=snapshot(member))
    return member


@transaction.atomic
def member_transfer(
    *, member: Member, to: Organisation | None, on: datetime.date, reason: str = "", by=None
) -> Member:
    """Close the member's current membership and open one in ``to`` (None: transferred out of the Khối).

    Open positions in the old cell end on the same day; the history is kept.
    """
    member = Member.objects.select_for_update().get(pk=member.pk)
    _check_cell(to)
    if to is not None and member.organisation_id == to.pk:
        raise ValidationError({"to": _("Đảng viên đang sinh hoạt ở chi bộ này.")})
    current = member.memberships.filter(end__isnull=True).first()
    if current and on < current.start:
        raise ValidationError({"on": _("Ngày chuyển không thể trước ngày bắt đầu sinh hoạt ở chi bộ hiện tại (%(date)s).")
                               % {"date": current.start.strftime("%d/%m/%Y")}})
    before = snapshot(member)
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
    audit_log(actor=by, action="cells.member.transfer", instance=member, organisation=to or (current and current.organisation),
              before=before, after=snapshot(member))
    return member


def _overlapping(queryset, start, end):
    far_future = datetime.date.max
    return queryset.filter(start__lte=end or far_future).exclude(end__lt=start)


@transaction.atomic
def member_exempt(
    *, member: Member, reason: str, start: datetime.date, end: datetime.date | None = None, resolution_ref: str = "", by=None
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
    audit_log(actor=by, action="cells.exemption.create", instance=exemption, organisation=member.organisation,
              after=snapshot(exemption))
    return exemption


@transaction.atomic
def exemption_end(*, exemption: Exemption, on: datetime.date, by=None) -> Exemption:
    exemption = Exemption.objects.select_for_update().get(pk=exemption.pk)
    if on < exemption.start:
        raise ValidationError({"on": _("Ngày kết thúc phải sau ngày bắt đầu.")})
    before = snapshot(exemption)
    exemption.end = on
    exemption.save(update_fields=["end"])
    audit_log(actor=by, action="cells.exemption.end", instance=exemption, organisation=exemption.member.organisation,
              before=before, after=snapshot(exemption))
    return exemption


@transaction.atomic
def member_suspend(
    *, member: Member, reason: str, start: datetime.date, end: datetime.date | None = None, decision_ref: str = "", by=None
) -> Suspension:
    member = Member.objects.select_for_update().get(pk=member.pk)
    if end and end < start:
        raise ValidationError({"end": _("Ngày kết thúc phải sau ngày bắt đầu.")})
    if _overlapping(member.suspensions.all(), start, end).exists():
        raise ValidationError({"start": _("Đảng viên đã bị đình chỉ sinh hoạt trong khoảng thời gian này.")})
    suspension = Suspension(member=member, reason=reason, start=start, end=end, decision_ref=decision_ref)
    suspension.full_clean()
    suspension.save()
    audit_log(actor=by, action="cells.suspension.create", instance=suspension, organisation=member.organisation,
              after=snapshot(suspension))
    return suspension


@transaction.atomic
def position_assign(*, member: Member, organisation: Organisation, kind: str, start: datetime.date, by=None) -> Position:
    """Give a member a party position; a new secretary replaces the previous one from ``start``."""
    if kind != Position.Kind.SUPERVISOR and member.organisation_id != organisation.pk:
        raise ValidationError({"member": _("Đảng viên không sinh hoạt ở chi bộ này.")})
    if kind == Position.Kind.SECRETARY:
        for previous in organisation.positions.select_for_update().filter(kind=kind, end__isnull=True):
            position_end(position=previous, on=start, by=by)
    position = Position(member=member, organisation=organisation, kind=kind, start=start)
    position.full_clean()
    position.save()
    audit_log(actor=by, action="cells.position.create", instance=position, organisation=organisation, after=snapshot(position))
    return position


@transaction.atomic
def position_end(*, position: Position, on: datetime.date, by=None) -> Position:
    if on < position.start:
        raise ValidationError({"on": _("Ngày kết thúc phải sau ngày bắt đầu.")})
    before = snapshot(position)
    position.end = on
    position.save(update_fields=["end"])
    audit_log(actor=by, action="cells.position.end", instance=position, organisation=position.organisation,
              before=before, after=snapshot(position))
    return position


@transaction.atomic
def role_assign(*, user, organisation: Organisation, role: str, start: datetime.date | None = None, by=None) -> RoleAssignment:
    assignment = RoleAssignment(user=user, organisation=organisation, role=role, start=start or timezone.localdate())
    assignment.full_clean()
    assignment.save()
    audit_log(actor=by, action="cells.role.assign", instance=assignment, organisation=organisation, after=snapshot(assignment))
    return assignment


# --- notifications -----------------------------------------------------------------------


def notification_send(
    *, members, kind: str, subject: str, body: str, url: str = "", organisation: Organisation | None = None,
    body_for=None,
) -> list[Notification]:
    """One inbox row per member (and one e-mail each, never a shared list), sent after commit.

    ``body_for(member)`` may give each person their own text (e.g. their personal RSVP link).
    E-mail delivery failures are recorded on the row, never raised into the caller's request.
    """
    rows = [
        Notification(
            recipient_id=member.user_id, member=member, organisation=organisation, kind=kind, subject=subject,
            body=body_for(member) if body_for else body, url=url, email=member.email or "",
        )
        for member in members
    ]
    Notification.objects.bulk_create(rows)
    ids = [row.pk for row in rows if row.email]
    if ids:
        from .tasks import notification_email_send

        transaction.on_commit(lambda: [notification_email_send.delay(notification_id) for notification_id in ids])
    return rows


def notification_deliver_email(*, notification_id: int) -> bool:
    """Send one notification's e-mail once: the row is claimed with a conditional UPDATE first."""
    from django.core.mail import send_mail

    claimed = Notification.objects.filter(pk=notification_id, email_sent_at__isnull=True).exclude(email="").update(
        email_sent_at=timezone.now()
    )
    if not claimed:
        return False
    notification = Notification.objects.get(pk=notification_id)
    try:
        send_mail(notification.subject, notification.body, None, [notification.email])
    except Exception as exc:  # SMTP errors are many types; record and let the task decide to retry
        Notification.objects.filter(pk=notification_id).update(email_sent_at=None, email_error=str(exc)[:2000])
        raise
    Notification.objects.filter(pk=notification_id).update(email_error="")
    return True


def notification_mark_read(*, notification: Notification) -> None:
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
