"""The cell's books: party dues, remittances and funds; required documents; yearly commitments."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lib.formatting import money, month_text
from lib.uploads import check_content

from ..models import (
    CellDocument,
    CellFundEntry,
    DuesPayment,
    DuesRelief,
    DuesRemittance,
    Member,
    MemberCommitment,
    Organisation,
    RequiredDocumentType,
    Term,
)
from .audit import audit_log, snapshot
from .members import _check_cell

# --- the cell's books: party dues ----------------------------------------------------------


def _check_month_open(month: datetime.date, field: str = "month"):
    from lib.dates import month_start

    if month_start(month) > month_start(timezone.localdate()):
        raise ValidationError({field: _("Tháng %(month)s chưa đến.") % {"month": month_text(month)}})


def _new_dues_line(*, member: Member, organisation: Organisation, month: datetime.date, by) -> DuesPayment:
    from ..dues import assess, dues_area_of

    # The HD 03 area is the one of the cell whose book the line is written in.
    assessment = assess(member=member, month=month, area=dues_area_of(organisation))
    if assessment.rule is None:
        raise ValidationError(
            {
                "month": _("Chưa có mức đảng phí áp dụng cho đối tượng này trong tháng %(month)s.")
                % {"month": month_text(month)}
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

    from ..selectors import dues_members_without_line

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

    from ..dues import was_in_cell

    month = month_start(month)
    _check_month_open(month)
    errors = {}
    if amount_paid is None or amount_paid < 0:
        errors["amount_paid"] = _("Số tiền không được âm.")
    if not was_in_cell(member=member, organisation_id=organisation.pk, month=month):
        errors["month"] = _("Đảng viên không sinh hoạt ở chi bộ trong tháng %(month)s.") % {"month": month_text(month)}
    if errors:
        raise ValidationError(errors)
    line = DuesPayment.objects.select_for_update().filter(member=member, month=month).first()
    if line is not None and line.organisation_id != organisation.pk:
        raise ValidationError(
            {
                "month": _("Tháng %(month)s của đảng viên này đã ghi ở %(cell)s.")
                % {"month": month_text(month), "cell": line.organisation.name}
            }
        )
    before = snapshot(line) if line else None
    if line is None:
        line = _new_dues_line(member=member, organisation=organisation, month=month, by=by)
    note = (note or "").strip()
    if amount_paid > line.amount_due and not note:
        errors["amount_paid"] = _(
            "Số tiền nộp (%(paid)s) lớn hơn mức phải nộp (%(due)s): ghi rõ lý do vào ô ghi chú."
        ) % {"paid": money(amount_paid), "due": money(line.amount_due)}
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


def _remittance_errors(
    *,
    organisation: Organisation,
    month: datetime.date,
    remitted_on: datetime.date | None,
    amount,
    receipt_number: str,
    current: DuesRemittance | None = None,
) -> dict[str, str]:
    """What is wrong with a remittance line (new, or ``current`` corrected), by field."""
    from ..selectors import dues_book_months

    errors: dict[str, str] = {}
    _check_amount(amount, errors)
    _check_past_date(remitted_on, errors, "remitted_on", required_message=_("Nhập ngày nộp."))
    if remitted_on and "remitted_on" not in errors and remitted_on < month:
        errors["remitted_on"] = _("Ngày nộp phải từ ngày %(day)s, đầu kỳ tháng %(month)s.") % {
            "day": month.strftime("%d/%m/%Y"),
            "month": month_text(month),
        }
    receipts = DuesRemittance.objects.filter(organisation=organisation, receipt_number__iexact=receipt_number)
    if current is not None:
        receipts = receipts.exclude(pk=current.pk)
    if not receipt_number:
        errors["receipt_number"] = _("Nhập số biên lai của cấp trên.")
    elif receipts.exists():
        errors["receipt_number"] = _("Số biên lai %(number)s đã ghi trong sổ của chi bộ.") % {"number": receipt_number}
    if "amount" not in errors:
        book_month = dues_book_months(cell=organisation, start=month, end=month)[0]
        outstanding = book_month.outstanding
        if outstanding is not None and current is not None and current.month == month:
            outstanding += current.amount  # the line being corrected no longer counts as paid
        if outstanding is not None and amount > outstanding:
            if book_month.to_remit == 0:
                errors["amount"] = _(
                    "Tháng %(month)s chưa thu được đảng phí nên chưa có khoản phải nộp cấp trên: "
                    "ghi thu đảng phí của đảng viên trước."
                ) % {"month": month_text(month)}
            else:
                errors["amount"] = _("Số tiền vượt số còn phải nộp cấp trên của tháng %(month)s (%(outstanding)s).") % {
                    "month": month_text(month),
                    "outstanding": money(outstanding),
                }
    return errors


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

    _check_cell(organisation)
    month = month_start(month)
    _check_month_open(month)
    _lock_cell(organisation)
    receipt_number = (receipt_number or "").strip()
    note = (note or "").strip()
    errors = _remittance_errors(
        organisation=organisation, month=month, remitted_on=remitted_on, amount=amount, receipt_number=receipt_number
    )
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


def _locked_line(model, line, organisation: Organisation | None):
    """The line re-read under its cell's lock; refused if it is not (or no longer) in ``organisation``'s book."""
    if organisation is not None and line.organisation_id != organisation.pk:
        raise ValidationError(_("Khoản này không thuộc sổ của chi bộ."))
    _lock_cell(line.organisation)
    fresh = model.objects.select_for_update().filter(pk=line.pk).first()
    if fresh is None:
        raise ValidationError(_("Khoản này đã bị xóa khỏi sổ."))
    return fresh


@transaction.atomic
def dues_remittance_update(
    *,
    remittance: DuesRemittance,
    month: datetime.date,
    remitted_on: datetime.date | None,
    amount: int,
    receipt_number: str,
    note: str = "",
    organisation: Organisation | None = None,
    by=None,
) -> DuesRemittance:
    """Correct a mistyped remittance line (month, date, amount, receipt number, note).

    Checked as a new line is, except that the line's own amount no longer counts as paid and its own
    receipt number is not a duplicate; the audit row keeps the changed fields before → after.
    """
    from lib.dates import month_start

    remittance = _locked_line(DuesRemittance, remittance, organisation)
    cell = remittance.organisation
    month = month_start(month)
    _check_month_open(month)
    receipt_number = (receipt_number or "").strip()
    errors = _remittance_errors(
        organisation=cell,
        month=month,
        remitted_on=remitted_on,
        amount=amount,
        receipt_number=receipt_number,
        current=remittance,
    )
    if errors:
        raise ValidationError(errors)
    assert remitted_on is not None  # required: _check_past_date refused an empty one
    before = snapshot(remittance, exclude=("created_at",))
    remittance.month = month
    remittance.remitted_on = remitted_on
    remittance.amount = amount
    remittance.receipt_number = receipt_number
    remittance.note = (note or "").strip()
    remittance.full_clean(validate_constraints=False)
    remittance.save()
    audit_log(
        actor=by,
        action="cells.dues_remittance.update",
        instance=remittance,
        organisation=cell,
        before=before,
        after=snapshot(remittance, exclude=("created_at",)),
    )
    return remittance


@transaction.atomic
def dues_remittance_delete(
    *, remittance: DuesRemittance, organisation: Organisation | None = None, by=None
) -> DuesRemittance:
    """Delete a remittance line entered by mistake; the audit row keeps what was deleted."""
    remittance = _locked_line(DuesRemittance, remittance, organisation)
    before = snapshot(remittance, exclude=("created_at",))
    audit_log(
        actor=by,
        action="cells.dues_remittance.delete",
        instance=remittance,
        organisation=remittance.organisation,
        before=before,
    )
    remittance.delete()
    return remittance


def _fund_entry_errors(
    *,
    organisation: Organisation,
    kind: str,
    entry_date: datetime.date | None,
    amount,
    purpose: str,
    voucher_number: str,
    current: CellFundEntry | None = None,
) -> dict[str, str]:
    """What is wrong with an activity-fund line (new, or ``current`` corrected), by field."""
    others = CellFundEntry.objects.filter(organisation=organisation)
    if current is not None:
        others = others.exclude(pk=current.pk)
    errors: dict[str, str] = {}
    if kind not in CellFundEntry.Kind.values:
        errors["kind"] = _("Chọn loại: thu, chi hoặc số dư chuyển sang.")
    _check_amount(amount, errors)
    _check_past_date(entry_date, errors, "entry_date", required_message=_("Nhập ngày."))
    if not purpose:
        errors["purpose"] = _("Nhập nội dung thu, chi.")
    if kind == CellFundEntry.Kind.BROUGHT_FORWARD:
        if others.filter(kind=kind).exists():
            errors["kind"] = _("Sổ của chi bộ đã có số dư chuyển sang; mỗi sổ chỉ ghi một lần.")
    elif not voucher_number:
        errors["voucher_number"] = _("Nhập số chứng từ (phiếu thu, phiếu chi).")
    if (
        voucher_number
        and "kind" not in errors
        and others.filter(kind=kind, voucher_number__iexact=voucher_number).exists()
    ):
        errors["voucher_number"] = _("Số chứng từ %(number)s đã ghi trong sổ của chi bộ.") % {"number": voucher_number}
    return errors


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
    errors = _fund_entry_errors(
        organisation=organisation,
        kind=kind,
        entry_date=entry_date,
        amount=amount,
        purpose=purpose,
        voucher_number=voucher_number,
    )
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


@transaction.atomic
def cell_fund_entry_update(
    *,
    entry: CellFundEntry,
    kind: str,
    entry_date: datetime.date | None,
    amount: int,
    purpose: str,
    voucher_number: str = "",
    organisation: Organisation | None = None,
    by=None,
) -> CellFundEntry:
    """Correct a mistyped activity-fund line; checked as a new line is, the line itself left out of the
    duplicate checks; the audit row keeps the changed fields before → after."""
    entry = _locked_line(CellFundEntry, entry, organisation)
    purpose = (purpose or "").strip()
    voucher_number = (voucher_number or "").strip()
    errors = _fund_entry_errors(
        organisation=entry.organisation,
        kind=kind,
        entry_date=entry_date,
        amount=amount,
        purpose=purpose,
        voucher_number=voucher_number,
        current=entry,
    )
    if errors:
        raise ValidationError(errors)
    assert entry_date is not None  # required: _check_past_date refused an empty one
    before = snapshot(entry, exclude=("created_at",))
    entry.kind = kind
    entry.entry_date = entry_date
    entry.amount = amount
    entry.purpose = purpose
    entry.voucher_number = voucher_number
    entry.full_clean(validate_constraints=False)
    entry.save()
    audit_log(
        actor=by,
        action="cells.fund_entry.update",
        instance=entry,
        organisation=entry.organisation,
        before=before,
        after=snapshot(entry, exclude=("created_at",)),
    )
    return entry


@transaction.atomic
def cell_fund_entry_delete(*, entry: CellFundEntry, organisation: Organisation | None = None, by=None) -> CellFundEntry:
    """Delete an activity-fund line entered by mistake; the audit row keeps what was deleted."""
    entry = _locked_line(CellFundEntry, entry, organisation)
    audit_log(
        actor=by,
        action="cells.fund_entry.delete",
        instance=entry,
        organisation=entry.organisation,
        before=snapshot(entry, exclude=("created_at",)),
    )
    entry.delete()
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
    return check_content(
        file,
        kinds=DOCUMENT_KINDS,
        max_bytes=DOCUMENT_MAX_BYTES,
        too_large=_("Tệp lớn hơn 10 MB."),
        not_allowed=_("Chỉ nhận tệp PDF, Word (.docx) hoặc ảnh (JPG, PNG)."),
    )


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
