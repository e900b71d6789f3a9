"""The party-dues rules engine: which rate applies to a member in a month, and how much is due.

Rounding: neither QĐ 342-QĐ/TW nor QĐ 01-QĐ/TW (as summarised in domain-research §7) prescribes a
rounding step, so a percentage is rounded to the nearest đồng, halves up, in integer arithmetic
(6,000,000 đ × 1 % = 60,000 đ; 1,234,567 đ × 0.5 % = 6,173 đ). Money is always an int of đồng.

Exemptions and reductions (QĐ 01-QĐ/TW): a member whose party age reaches the rule's
``exempt_party_years`` (50) owes nothing from the month of that anniversary; a ``DuesRelief`` row
exempts a member or reduces the amount by 30/50/70 % for the months it covers.
"""

import calendar
import datetime
import random
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from .models import CellMembership, DuesPayment, DuesRateRule, DuesRelief, Member

BASIS_POINTS_WHOLE = 10_000  # 100 % in basis points


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def percent_of(base: int, basis_points: int) -> int:
    """``base`` × ``basis_points`` / 10,000, rounded to the nearest đồng (halves up)."""
    return (base * basis_points * 2 + BASIS_POINTS_WHOLE) // (2 * BASIS_POINTS_WHOLE)


def rule_in_force(*, category: str, month: datetime.date, rules=None) -> DuesRateRule | None:
    """The rule for ``category`` covering ``month`` (the latest start wins if ranges overlap)."""
    month = month_start(month)
    if rules is not None:
        matching = [
            r for r in rules
            if r.category == category and r.effective_from <= month_end(month)
            and (r.effective_to is None or r.effective_to >= month)
        ]
        return max(matching, key=lambda r: r.effective_from, default=None)
    return (
        DuesRateRule.objects.filter(category=category, effective_from__lte=month_end(month))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=month))
        .order_by("-effective_from")
        .first()
    )


def amount_for_rule(rule: DuesRateRule, base: int) -> int:
    if rule.kind == DuesRateRule.Kind.PERCENT:
        return percent_of(base, rule.basis_points)
    return rule.fixed_amount


@dataclass(frozen=True)
class DuesAssessment:
    base: int
    rule: DuesRateRule | None
    amount_due: int
    adjustment: str = ""


def assess(*, member: Member, month: datetime.date, rules=None, reliefs=None) -> DuesAssessment:
    """What ``member`` owes for ``month`` under the rules in force then.

    ``rules`` and ``reliefs`` may be passed pre-loaded to assess many members without a query each.
    """
    month = month_start(month)
    base = member.dues_base or 0
    rule = rule_in_force(category=member.dues_category, month=month, rules=rules)
    if rule is None:
        return DuesAssessment(base=base, rule=None, amount_due=0)
    amount = amount_for_rule(rule, base)
    if rule.exempt_party_years and member.admission_decision_date:
        if add_years(member.admission_decision_date, rule.exempt_party_years) <= month_end(month):
            return DuesAssessment(base=base, rule=rule, amount_due=0,
                                  adjustment=f"Miễn: tuổi đảng từ {rule.exempt_party_years} năm")
    if reliefs is None:
        reliefs = DuesRelief.objects.filter(member=member)
    for relief in reliefs:
        if relief.member_id != member.pk or relief.start > month_end(month) or (relief.end and relief.end < month):
            continue
        if relief.kind == DuesRelief.Kind.EXEMPT:
            return DuesAssessment(base=base, rule=rule, amount_due=0, adjustment=f"Miễn: {relief.reason}")
        kept = 100 - relief.reduction_percent
        amount = (amount * kept * 2 + 100) // 200
        return DuesAssessment(base=base, rule=rule, amount_due=amount,
                              adjustment=f"Giảm {relief.reduction_percent} %: {relief.reason}")
    return DuesAssessment(base=base, rule=rule, amount_due=amount)


def was_in_cell(*, member: Member, organisation_id: int, month: datetime.date) -> bool:
    """Whether ``member`` belonged to the cell for at least one day of ``month``."""
    return CellMembership.objects.filter(
        member=member, organisation_id=organisation_id, start__lte=month_end(month)
    ).filter(Q(end__isnull=True) | Q(end__gte=month_start(month))).exists()


def dues_payments_bulk_create(
    *, members, months, paid_share: float = 0.9, seed: int = 2026, recorded_by=None
) -> list[DuesPayment]:
    """Realistic dues lines for demo data: each member × month in their cell then, mostly paid.

    About ``paid_share`` of the lines are paid in full (on a day between the 5th and 25th, mostly in
    cash); the rest are left unpaid, so arrears and the 3-unpaid-months alert have something to show.
    Months the member was not in a cell and lines that already exist are skipped. No audit rows: this
    is for ``seed_demo`` only. Deterministic for a given ``seed``.
    """
    chooser = random.Random(seed)  # noqa: S311 - demo data, not security
    rules = list(DuesRateRule.objects.all())
    members = list(members)
    member_ids = [m.pk for m in members]
    reliefs_by_member = defaultdict(list)
    for relief in DuesRelief.objects.filter(member_id__in=member_ids):
        reliefs_by_member[relief.member_id].append(relief)
    memberships_by_member = defaultdict(list)
    for membership in CellMembership.objects.filter(member_id__in=member_ids):
        memberships_by_member[membership.member_id].append(membership)
    all_months = sorted({month_start(m) for m in months})
    existing = set(DuesPayment.objects.filter(member_id__in=member_ids).values_list("member_id", "month"))
    today = timezone.localdate()
    rows = []
    for member in members:
        for month in all_months:
            if (member.pk, month) in existing:
                continue
            cell = next((ms.organisation_id for ms in memberships_by_member[member.pk]
                         if ms.start <= month_end(month) and (ms.end is None or ms.end >= month)), None)
            assessment = assess(member=member, month=month, rules=rules, reliefs=reliefs_by_member[member.pk])
            if cell is None or assessment.rule is None:
                continue
            paid = chooser.random() < paid_share
            rows.append(DuesPayment(
                member=member, month=month, organisation_id=cell, base=assessment.base, rate_rule=assessment.rule,
                adjustment=assessment.adjustment, amount_due=assessment.amount_due,
                amount_paid=assessment.amount_due if paid else 0,
                paid_on=min(month.replace(day=chooser.randint(5, 25)), today) if paid and assessment.amount_due else None,
                method=(DuesPayment.Method.CASH if chooser.random() < 0.7 else DuesPayment.Method.TRANSFER)
                if paid and assessment.amount_due else "",
                recorded_by=recorded_by,
            ))
    return DuesPayment.objects.bulk_create(rows, batch_size=1000)


# --- the ledger as a document (PDF and XLSX share one context) ---------------------------------


def money(amount: int) -> str:
    """60000 → "60.000 đ" (Vietnamese thousand separator)."""
    return f"{amount:,}".replace(",", ".") + " đ"


def ledger_document_context(*, cell, month: datetime.date, lines, totals: dict) -> dict:
    """Everything the printed dues book shows; the PDF and the XLSX are both made from it."""
    rows = [
        {
            "number": number,
            "name": line.member.full_name,
            "base": line.base,
            "rate": line.rate_rule.rate_label + (f" ({line.adjustment})" if line.adjustment else ""),
            "due": line.amount_due,
            "paid": line.amount_paid,
            "paid_on": line.paid_on.strftime("%d/%m/%Y") if line.paid_on else "",
            "method": line.get_method_display() if line.method else "",
            "note": line.note,
        }
        for number, line in enumerate(lines, start=1)
    ]
    from .selectors import document_signer

    signer_title, signer = document_signer(organisation=cell, on=timezone.localdate())
    return {
        "cell": cell,
        "upper": cell.parent.name if cell.parent_id else "",
        "signer_title": signer_title, "signer": signer,
        "month": month,
        "title": f"SỔ THU NỘP ĐẢNG PHÍ THÁNG {month:%m/%Y}",
        "rows": rows,
        "totals": totals,
        "printed_on": timezone.localdate(),
        "filename": f"so-dang-phi-{cell.pk}-{month:%Y-%m}",
    }


def ledger_pdf(context: dict) -> bytes:
    """The dues book of one month as an A4 landscape PDF in Liberation Serif (WeasyPrint)."""
    from .pdf import render_pdf
    from .privacy import PERSONAL_DATA_NOTICE

    return render_pdf("documents/dues_ledger.html", {**context, "money": money, "personal_notice": PERSONAL_DATA_NOTICE})


def ledger_xlsx(context: dict) -> bytes:
    """The same dues book as a worksheet: amounts as whole numbers formatted with thousand separators.

    Written through ``lib.xlsx``: a name or note starting with "=" stays text.
    """
    from openpyxl.styles import Alignment, Font

    from lib import xlsx

    from .privacy import PERSONAL_DATA_NOTICE

    workbook = xlsx.new_workbook()
    sheet = workbook.active
    sheet.title = f"{context['month']:%m-%Y}"
    xlsx.append_row(sheet, [context["cell"].name])[0].font = Font(bold=True)
    xlsx.append_row(sheet, [context["title"]])[0].font = Font(bold=True, size=13)
    xlsx.append_row(sheet, [str(PERSONAL_DATA_NOTICE)])[0].font = Font(italic=True, bold=True, color="C00000")
    headers = ["STT", "Họ và tên", "Mức căn cứ (đ)", "Mức đóng", "Phải nộp (đ)", "Đã nộp (đ)", "Ngày nộp",
               "Hình thức", "Ghi chú"]
    for cell in xlsx.append_row(sheet, headers):
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    amount_cells = []
    for row in context["rows"]:
        cells = xlsx.append_row(sheet, [row["number"], row["name"], row["base"], row["rate"], row["due"], row["paid"],
                                        row["paid_on"], row["method"], row["note"]])
        amount_cells += cells[2:6]
    totals = context["totals"]
    cells = xlsx.append_row(sheet, ["", "Cộng", totals["base"], "", totals["due"], totals["paid"], "", "", ""])
    for cell in cells:
        cell.font = Font(bold=True)
    for cell in amount_cells + cells[2:6]:
        if isinstance(cell.value, int):
            cell.number_format = "#,##0"
    for column, width in zip("ABCDEFGHI", (6, 30, 16, 14, 14, 14, 12, 16, 30), strict=True):
        sheet.column_dimensions[column].width = width
    return xlsx.workbook_bytes(workbook)
