"""Member records: create, update, transfer, leave, exemptions, attachments, suspensions, admission and full membership."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    CellMembership,
    Exemption,
    Member,
    Organisation,
    Role,
    RoleAssignment,
    Suspension,
    TemporaryAttachment,
)
from ..signals import member_exemption_changed, member_withdrawn
from .audit import audit_log, snapshot
from .tree import role_assign, role_end, roles_end_over

# --- members -----------------------------------------------------------------------------


def _check_cell(organisation: Organisation | None):
    if organisation is not None and not organisation.is_cell:
        raise ValidationError({"organisation": _("Đảng viên phải sinh hoạt ở một chi bộ.")})


def member_check_dates(member: Member):
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
    member_check_dates(member)


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
    from ..selectors import identifiers_taken

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
    member_check_dates(member)
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
    member_check_dates(member)
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


def _period_end(model, *, record, on: datetime.date, action: str, by):
    """End a dated record of a member (an attachment elsewhere, an exemption) on ``on``, with its audit row;
    the lists of meetings not held yet then expect the member again after ``on``."""
    record = model.objects.select_for_update().select_related("member").get(pk=record.pk)
    if on < record.start:
        raise ValidationError({"on": _("Ngày kết thúc phải sau ngày bắt đầu.")})
    before = snapshot(record)
    record.end = on
    record.save(update_fields=["end"])
    audit_log(
        actor=by,
        action=action,
        instance=record,
        organisation=record.member.organisation,
        before=before,
        after=snapshot(record),
    )
    member_exemption_changed.send(sender=Member, member=record.member, since=on, by=by)
    return record


@transaction.atomic
def attachment_end(*, attachment: TemporaryAttachment, on: datetime.date, by=None) -> TemporaryAttachment:
    return _period_end(TemporaryAttachment, record=attachment, on=on, action="cells.attachment.end", by=by)


@transaction.atomic
def exemption_end(*, exemption: Exemption, on: datetime.date, by=None) -> Exemption:
    # The end of an exemption gives nothing back to end: the member simply has duties again.
    return _period_end(Exemption, record=exemption, on=on, action="cells.exemption.end", by=by)


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
    member_check_dates(member)
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
