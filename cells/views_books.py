"""The cell's books: party dues, required documents, yearly commitments and the members' lifecycle."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from lib import query, xlsx
from lib.dates import month_end, month_start, parse_month, previous_month
from lib.formatting import date_text, money, month_text
from lib.paging import page_of
from lib.views import run_service

from . import dues, selectors, services
from .forms import (
    AdmissionForm,
    CellDocumentForm,
    CellFundEntryForm,
    CommitmentForm,
    DuesAreaForm,
    DuesPaymentForm,
    DuesReliefForm,
    DuesRemittanceForm,
    ExemptionEndForm,
    FullMembershipForm,
    PaperCommitmentForm,
    RemovalForm,
    SuspensionForm,
)
from .models import CellFundEntry, DuesRemittance, Organisation, RequiredDocumentType


def _month(request):
    """The month asked for in the query (mm/yyyy), else the current one: always a first day."""
    return query.month(request.GET) or parse_month(request.POST.get(query.MONTH)) or month_start(timezone.localdate())


def _year(request):
    return query.year(request.GET, default=timezone.localdate().year)


def _form_page(request, form, title, **context):
    return render(request, "cells/books/form.html", {"form": form, "title": title, **context})


def _save(request, form, service, message, success_url, **kwargs):
    """Run ``service`` with the form's data; on a ValidationError show it on the form and write nothing."""
    return run_service(
        request, form, lambda data: service(**data, **kwargs, by=request.user), success=message, redirect_to=success_url
    )


# --- index ---------------------------------------------------------------------------------


def books_index(request):
    """Send each user to the books they keep or read: their cell, their subtree, or their own dues."""
    for assignment in selectors.role_assignments_of(request.user):
        if assignment.role in selectors.READ_MEMBERS:
            organisation = assignment.organisation
            return redirect(
                "books:books_cell" if organisation.is_cell else "books:books_documents_table", pk=organisation.pk
            )
    if request.user.is_superuser:
        top = Organisation.objects.filter(depth=1).order_by("path").first()
        if top is not None:
            return redirect("books:books_documents_table", pk=top.pk)
    member = getattr(request.user, "member", None)
    if member is not None:
        return redirect("books:books_member_dues", pk=member.pk)
    raise PermissionDenied


def books_cell(request, pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk)
    year, month = timezone.localdate().year, month_start(timezone.localdate())
    return render(
        request,
        "cells/books/cell.html",
        {
            "cell": cell,
            "can_keep": selectors.can_keep_books(request.user, cell),
            "totals": selectors.dues_totals(selectors.dues_ledger(cell=cell, month=month)),
            "month": month,
            "year": year,
            "alerts": selectors.members_with_unpaid_months(
                organisations=Organisation.objects.filter(pk=cell.pk), year=year
            ),
            "lifecycle": selectors.lifecycle_of_cell(cell=cell),
        },
    )


# --- dues ----------------------------------------------------------------------------------


def _book_context(*, cell, month) -> dict:
    """What the dues book shows for ``month``: the members' lines, the share kept and remitted, the
    remittances, the activity funds and the balance of each month of the year so far (one context
    for the page, the PDF and the XLSX)."""
    lines = selectors.dues_ledger(cell=cell, month=month)
    book = selectors.dues_book_months(cell=cell, start=month.replace(month=1), end=month)
    while len(book) > 1 and book[0].is_empty:  # months of the year before the book was kept in the portal
        book = book[1:]
    return {
        "lines": lines,
        "totals": selectors.dues_totals(lines),
        "book": book,
        "book_month": book[-1],
        "remittances": list(selectors.dues_remittances(cell=cell, month=month)),
        "fund_entries": list(selectors.fund_entries(cell=cell, month=month)),
    }


def dues_ledger(request, pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk)
    month = _month(request)
    return render(
        request,
        "cells/books/dues_ledger.html",
        {
            "cell": cell,
            "month": month,
            **_book_context(cell=cell, month=month),
            "missing": selectors.dues_members_without_line(cell=cell, month=month),
            "can_keep": selectors.can_keep_books(request.user, cell),
            "previous": month_start(month - datetime.timedelta(days=1)),
            "next": month_start(month_end(month) + datetime.timedelta(days=1)),
            "alerts": selectors.members_with_unpaid_months(
                organisations=Organisation.objects.filter(pk=cell.pk), year=month.year
            ),
        },
    )


@require_POST
def dues_month_open(request, pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk, write=True)
    month = _month(request)
    try:
        lines = services.dues_month_open(organisation=cell, month=month, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Đã lập sổ tháng %(month)s: %(count)s dòng mới.")
            % {"month": month.strftime("%m/%Y"), "count": len(lines)},
        )
    return redirect(reverse("books:books_dues_ledger", args=[cell.pk]) + f"?thang={month:%m/%Y}")


@require_http_methods(["GET", "POST"])
def dues_payment_record(request, pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk, write=True)
    initial = {
        "member": request.GET.get("dang_vien"),
        "month": _month(request),
        "paid_on": timezone.localdate(),
        "method": "cash",
    }
    form = DuesPaymentForm(request.POST or None, cell=cell, initial=initial)
    if request.method == "POST" and form.is_valid():
        month = form.cleaned_data["month"]
        done = _save(
            request,
            form,
            services.dues_payment_record,
            _("Đã ghi sổ đảng phí."),
            reverse("books:books_dues_ledger", args=[cell.pk]) + f"?thang={month:%m/%Y}",
            organisation=cell,
        )
        if done:
            return done
    return _form_page(request, form, _("Ghi thu đảng phí"), cell=cell)


def _previous_month() -> datetime.date:
    return previous_month(timezone.localdate())


@require_http_methods(["GET", "POST"])
def dues_remittance_record(request, pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk, write=True)
    month = _month(request)
    book_month = selectors.dues_book_months(cell=cell, start=month, end=month)[0]
    initial = {"month": month, "remitted_on": timezone.localdate(), "amount": book_month.outstanding or None}
    form = DuesRemittanceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = _save(
            request,
            form,
            services.dues_remittance_record,
            _("Đã ghi khoản nộp đảng phí lên cấp trên."),
            reverse("books:books_dues_ledger", args=[cell.pk]) + f"?thang={form.cleaned_data['month']:%m/%Y}",
            organisation=cell,
        )
        if done:
            return done
    return _form_page(request, form, _("Nộp đảng phí lên cấp trên"), cell=cell, book_month=book_month)


@require_http_methods(["GET", "POST"])
def fund_entry_record(request, pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk, write=True)
    kind = request.GET.get("loai")
    initial = {"entry_date": timezone.localdate(), "kind": kind if kind in CellFundEntry.Kind.values else None}
    form = CellFundEntryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = _save(
            request,
            form,
            services.cell_fund_entry_record,
            _("Đã ghi thu, chi kinh phí."),
            reverse("books:books_dues_ledger", args=[cell.pk]) + f"?thang={form.cleaned_data['entry_date']:%m/%Y}",
            organisation=cell,
        )
        if done:
            return done
    return _form_page(request, form, _("Thu, chi kinh phí hoạt động"), cell=cell)


def _ledger_url(cell, month) -> str:
    return reverse("books:books_dues_ledger", args=[cell.pk]) + f"?thang={month:%m/%Y}"


@require_http_methods(["GET", "POST"])
def dues_remittance_edit(request, pk, line_pk):
    """Correct a mistyped remittance line of the cell's book."""
    cell = selectors.get_cell_for_books_or_404(request.user, pk, write=True)
    remittance = get_object_or_404(DuesRemittance, pk=line_pk, organisation=cell)
    initial = {
        "month": remittance.month,
        "remitted_on": remittance.remitted_on,
        "amount": remittance.amount,
        "receipt_number": remittance.receipt_number,
        "note": remittance.note,
    }
    form = DuesRemittanceForm(request.POST or None, initial=initial, submit_label=_("Lưu sửa đổi"))
    if request.method == "POST" and form.is_valid():
        done = _save(
            request,
            form,
            services.dues_remittance_update,
            _("Đã sửa khoản nộp đảng phí lên cấp trên."),
            _ledger_url(cell, form.cleaned_data["month"]),
            remittance=remittance,
            organisation=cell,
        )
        if done:
            return done
    book_month = selectors.dues_book_months(cell=cell, start=remittance.month, end=remittance.month)[0]
    return _form_page(
        request,
        form,
        _("Sửa khoản nộp cấp trên (biên lai %(number)s)") % {"number": remittance.receipt_number},
        cell=cell,
        book_month=book_month,
        cancel_url=_ledger_url(cell, remittance.month),
    )


@require_http_methods(["GET", "POST"])
def dues_remittance_delete(request, pk, line_pk):
    """Delete a remittance line entered by mistake, after a confirm step."""
    cell = selectors.get_cell_for_books_or_404(request.user, pk, write=True)
    remittance = get_object_or_404(DuesRemittance, pk=line_pk, organisation=cell)
    if request.method == "POST":
        try:
            services.dues_remittance_delete(remittance=remittance, organisation=cell, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Đã xóa khoản nộp cấp trên (biên lai %(number)s) khỏi sổ.") % {"number": remittance.receipt_number},
            )
        return redirect(_ledger_url(cell, remittance.month))
    return render(
        request,
        "cells/books/line_delete.html",
        {
            "cell": cell,
            "title": _("Xóa khoản nộp đảng phí lên cấp trên"),
            "facts": [
                (_("Nộp cho tháng"), month_text(remittance.month)),
                (_("Ngày nộp"), date_text(remittance.remitted_on)),
                (_("Số biên lai"), remittance.receipt_number),
                (_("Số tiền"), money(remittance.amount)),
                (_("Ghi chú"), remittance.note or "—"),
            ],
            "cancel_url": _ledger_url(cell, remittance.month),
        },
    )


@require_http_methods(["GET", "POST"])
def fund_entry_edit(request, pk, line_pk):
    """Correct a mistyped activity-fund line of the cell's book."""
    cell = selectors.get_cell_for_books_or_404(request.user, pk, write=True)
    entry = get_object_or_404(CellFundEntry, pk=line_pk, organisation=cell)
    initial = {
        "kind": entry.kind,
        "entry_date": entry.entry_date,
        "amount": entry.amount,
        "voucher_number": entry.voucher_number,
        "purpose": entry.purpose,
    }
    form = CellFundEntryForm(request.POST or None, initial=initial, submit_label=_("Lưu sửa đổi"))
    if request.method == "POST" and form.is_valid():
        done = _save(
            request,
            form,
            services.cell_fund_entry_update,
            _("Đã sửa khoản thu, chi kinh phí."),
            _ledger_url(cell, form.cleaned_data["entry_date"]),
            entry=entry,
            organisation=cell,
        )
        if done:
            return done
    return _form_page(
        request,
        form,
        _("Sửa khoản thu, chi kinh phí"),
        cell=cell,
        cancel_url=_ledger_url(cell, entry.entry_date),
    )


@require_http_methods(["GET", "POST"])
def fund_entry_delete(request, pk, line_pk):
    """Delete an activity-fund line entered by mistake, after a confirm step."""
    cell = selectors.get_cell_for_books_or_404(request.user, pk, write=True)
    entry = get_object_or_404(CellFundEntry, pk=line_pk, organisation=cell)
    if request.method == "POST":
        try:
            services.cell_fund_entry_delete(entry=entry, organisation=cell, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Đã xóa khoản thu, chi kinh phí khỏi sổ."))
        return redirect(_ledger_url(cell, entry.entry_date))
    return render(
        request,
        "cells/books/line_delete.html",
        {
            "cell": cell,
            "title": _("Xóa khoản thu, chi kinh phí"),
            "facts": [
                (_("Loại"), entry.get_kind_display()),
                (_("Ngày"), date_text(entry.entry_date)),
                (_("Số chứng từ"), entry.voucher_number or "—"),
                (_("Nội dung"), entry.purpose),
                (_("Số tiền"), money(entry.amount)),
            ],
            "cancel_url": _ledger_url(cell, entry.entry_date),
        },
    )


@require_http_methods(["GET", "POST"])
def dues_area(request, pk):
    """The HD 03-HD/VPTW area of a unit, which sets the fixed dues of its cells' members under QĐ 342-QĐ/TW."""
    organisation = selectors.get_organisation_for_user_or_404(request.user, pk)
    if not selectors.can_keep_books(request.user, organisation):
        raise PermissionDenied
    parent_area = dues.dues_area_of(organisation.parent) if organisation.parent_id else dues.DEFAULT_DUES_AREA
    form = DuesAreaForm(
        request.POST or None,
        initial={"dues_area": organisation.dues_area},
        inherited_label=Organisation.DuesArea(parent_area).label,
    )
    if request.method == "POST" and form.is_valid():
        done = _save(
            request,
            form,
            services.organisation_update,
            _("Đã lưu địa bàn tính mức đảng phí cố định."),
            reverse("books:books_dues_area", args=[organisation.pk]),
            organisation=organisation,
        )
        if done:
            return done
    area = dues.dues_area_of(organisation)
    return render(
        request,
        "cells/books/dues_area.html",
        {
            "organisation": organisation,
            "cell": organisation if organisation.is_cell else None,
            "form": form,
            "area_label": Organisation.DuesArea(area).label,
            "area_source": dues.dues_area_source(organisation),
            "amount": dues.area_amount(area),
            "half": dues.percent_of(dues.area_amount(area), 5_000),
            "amounts": [(Organisation.DuesArea(a).label, amount) for a, amount in dues.HD03_FIXED_AMOUNTS.items()],
            "source": dues.HD03_SOURCE,
        },
    )


def dues_unremitted(request, pk):
    """The cells of a subtree that have not remitted a month's dues upward (the đảng ủy cơ sở's list)."""
    organisation = selectors.get_organisation_for_user_or_404(request.user, pk)
    month = query.month(request.GET) or _previous_month()
    rows = selectors.cells_remittance_status(organisation=organisation, month=month)
    return render(
        request,
        "cells/books/dues_unremitted.html",
        {
            "organisation": organisation,
            "month": month,
            "unremitted": [row for row in rows if row.status != "remitted"],
            "remitted_count": sum(row.status == "remitted" for row in rows),
            "cell_count": len(rows),
            "previous": month_start(month - datetime.timedelta(days=1)),
            "next": month_start(month_end(month) + datetime.timedelta(days=1)),
        },
    )


def dues_arrears(request, pk):
    organisation = selectors.get_organisation_for_user_or_404(request.user, pk)
    year = _year(request)
    subtree = Organisation.objects.filter(path__startswith=organisation.path)
    page = page_of(request, selectors.members_with_unpaid_months(organisations=subtree, year=year))
    return render(
        request,
        "cells/books/dues_arrears.html",
        {
            "organisation": organisation,
            "year": year,
            "members": page.object_list,
            "page": page,
        },
    )


def member_dues(request, pk):
    member = selectors.get_member_for_user_or_404(request.user, pk)
    payments = selectors.member_dues_history(member=member)
    return render(
        request,
        "cells/books/member_dues.html",
        {
            "member": member,
            "payments": payments,
            "totals": selectors.dues_totals(payments),
            "reliefs": member.dues_reliefs.order_by("-start"),
            "can_keep": member.organisation is not None and selectors.can_keep_books(request.user, member.organisation),
            "is_self": member.user_id == request.user.pk,
        },
    )


@require_http_methods(["GET", "POST"])
def dues_relief(request, pk):
    member = selectors.get_member_for_user_or_404(request.user, pk)
    if member.organisation is None or not selectors.can_keep_books(request.user, member.organisation):
        raise PermissionDenied
    form = DuesReliefForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _save(
            request,
            form,
            services.dues_relief_grant,
            _("Đã ghi nhận miễn, giảm đảng phí."),
            reverse("books:books_member_dues", args=[member.pk]),
            member=member,
        )
        if done:
            return done
    return _form_page(request, form, _("Miễn, giảm đảng phí"), member=member)


def _ledger_context(request, pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk)
    month = _month(request)
    return dues.ledger_document_context(cell=cell, month=month, **_book_context(cell=cell, month=month))


def _log_ledger_export(request, context, kind):
    """The dues book names each member with their salary base: personal data, each file logged."""
    services.personal_export_log(
        by=request.user,
        document=f"dues_ledger.{kind}",
        rows=len(context["rows"]),
        organisation=context["cell"],
        params={"month": context["month"].strftime("%m/%Y")},
    )


def dues_ledger_pdf(request, pk):
    context = _ledger_context(request, pk)
    _log_ledger_export(request, context, "pdf")
    response = HttpResponse(dues.ledger_pdf(context), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{context["filename"]}.pdf"'
    return response


def dues_ledger_xlsx(request, pk):
    context = _ledger_context(request, pk)
    _log_ledger_export(request, context, "xlsx")
    response = HttpResponse(dues.ledger_xlsx(context), content_type=xlsx.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{context["filename"]}.xlsx"'
    return response


# --- required documents --------------------------------------------------------------------


def cell_documents(request, pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk)
    year, today = _year(request), timezone.localdate()
    return render(
        request,
        "cells/books/cell_documents.html",
        {
            "cell": cell,
            "year": year,
            "term": selectors.current_term(organisation=cell, on=today),
            "types": selectors.required_documents_of_cell(cell=cell, year=year, on=today),
            "can_keep": selectors.can_keep_books(request.user, cell),
        },
    )


@require_http_methods(["GET", "POST"])
def document_upload(request, pk, type_pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk, write=True)
    document_type = RequiredDocumentType.objects.filter(pk=type_pk, active=True).first()
    if document_type is None:
        raise Http404
    today = timezone.localdate()
    initial = {"year": _year(request), "term": selectors.current_term(organisation=cell, on=today)}
    form = CellDocumentForm(
        request.POST or None, request.FILES or None, cell=cell, document_type=document_type, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        done = _save(
            request,
            form,
            services.cell_document_upload,
            _("Đã lưu văn bản."),
            reverse("books:books_cell_documents", args=[cell.pk]) + f"?nam={form.cleaned_data.get('year') or ''}",
            organisation=cell,
            document_type=document_type,
        )
        if done:
            return done
    return _form_page(request, form, document_type.name, cell=cell)


def document_download(request, pk):
    document = selectors.get_document_for_user_or_404(request.user, pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name or document.file.name,
        content_type=document.content_type or None,
    )


# Cells × documents: a đảng ủy's cells fit on a page, the Khối's several hundred do not.
DOCUMENT_ROWS_PER_PAGE = 100


def documents_table(request, pk):
    organisation = selectors.get_organisation_for_user_or_404(request.user, pk)
    year = _year(request)
    types, cells, totals = selectors.documents_table(organisation=organisation, year=year, on=timezone.localdate())
    page = page_of(request, cells, DOCUMENT_ROWS_PER_PAGE)
    rows = [(cell, [getattr(cell, f"doc_{t.pk}") for t in types]) for cell in page.object_list]
    return render(
        request,
        "cells/books/documents_table.html",
        {
            "organisation": organisation,
            "year": year,
            "types": types,
            "rows": rows,
            "page": page,
            "totals": [totals.get(t.pk, 0) for t in types],
            "cell_count": page.paginator.count,
        },
    )


# --- commitments ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def commitment_mine(request):
    member = getattr(request.user, "member", None)
    if member is None:
        raise PermissionDenied
    year = timezone.localdate().year
    current = member.commitments.filter(year=year).first()
    initial = {"year": year, "content": current.content if current else ""}
    form = CommitmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = _save(
            request,
            form,
            services.commitment_confirm,
            _("Đã xác nhận bản cam kết."),
            reverse("books:books_commitment_mine"),
            member=member,
        )
        if done:
            return done
    return _form_page(
        request,
        form,
        _("Cam kết tu dưỡng, rèn luyện của tôi"),
        member=member,
        commitments=member.commitments.order_by("-year"),
    )


def commitments_cell(request, pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk)
    year = _year(request)
    members = list(selectors.commitments_of_cell(cell=cell, year=year))
    return render(
        request,
        "cells/books/commitments.html",
        {
            "cell": cell,
            "year": year,
            "members": members,
            "missing": [m for m in members if m.commitment_id is None],
            "can_keep": selectors.can_keep_books(request.user, cell),
        },
    )


@require_http_methods(["GET", "POST"])
def commitment_paper(request, pk, member_pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk, write=True)
    member = selectors.get_member_books_for_user_or_404(request.user, cell, member_pk)
    form = PaperCommitmentForm(request.POST or None, initial={"year": _year(request)})
    if request.method == "POST" and form.is_valid():
        done = _save(
            request,
            form,
            services.commitment_record_paper,
            _("Đã ghi nhận bản cam kết giấy."),
            reverse("books:books_commitments", args=[cell.pk]) + f"?nam={form.cleaned_data['year']}",
            member=member,
        )
        if done:
            return done
    return _form_page(request, form, _("Ghi nhận bản cam kết giấy"), cell=cell, member=member)


# --- member lifecycle ----------------------------------------------------------------------


def lifecycle_cell(request, pk):
    cell = selectors.get_cell_for_books_or_404(request.user, pk)
    return render(
        request,
        "cells/books/lifecycle.html",
        {
            "cell": cell,
            **selectors.lifecycle_of_cell(cell=cell),
            "can_manage": bool(selectors.roles_over(request.user, cell) & selectors.MANAGE_MEMBERS),
        },
    )


def _lifecycle_step(request, pk, *, form_class, service, title, message, form_kwargs=None):
    member = selectors.get_member_for_user_or_404(request.user, pk, write=True)
    form = form_class(request.POST or None, **(form_kwargs(member) if form_kwargs else {}))
    if request.method == "POST" and form.is_valid():
        done = _save(request, form, service, message, reverse("cells:member_detail", args=[member.pk]), member=member)
        if done:
            return done
    return _form_page(request, form, title, member=member)


@require_http_methods(["GET", "POST"])
def member_admission(request, pk):
    return _lifecycle_step(
        request,
        pk,
        form_class=AdmissionForm,
        service=services.member_record_admission,
        title=_("Kết nạp đảng viên"),
        message=_("Đã ghi nhận kết nạp."),
    )


@require_http_methods(["GET", "POST"])
def member_full_membership(request, pk):
    return _lifecycle_step(
        request,
        pk,
        form_class=FullMembershipForm,
        service=services.member_confirm_full_membership,
        title=_("Công nhận đảng viên chính thức"),
        message=_("Đã công nhận đảng viên chính thức."),
    )


def _end_exemption(*, member, exemption, on, by):
    return services.exemption_end(exemption=exemption, on=on, by=by)


@require_http_methods(["GET", "POST"])
def member_exemption_end(request, pk):
    return _lifecycle_step(
        request,
        pk,
        form_class=ExemptionEndForm,
        service=_end_exemption,
        form_kwargs=lambda member: {"member": member},
        title=_("Kết thúc miễn sinh hoạt"),
        message=_("Đã kết thúc miễn sinh hoạt."),
    )


@require_http_methods(["GET", "POST"])
def member_suspension(request, pk):
    return _lifecycle_step(
        request,
        pk,
        form_class=SuspensionForm,
        service=services.member_suspend,
        title=_("Đình chỉ sinh hoạt đảng"),
        message=_("Đã ghi nhận đình chỉ sinh hoạt."),
    )


@require_http_methods(["GET", "POST"])
def member_removal(request, pk):
    return _lifecycle_step(
        request,
        pk,
        form_class=RemovalForm,
        service=services.member_remove,
        title=_("Ra khỏi Đảng, từ trần"),
        message=_("Đã ghi nhận; các quyền và danh sách triệu tập của đảng viên đã kết thúc."),
    )
