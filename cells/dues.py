"""The party-dues rules engine: which rate applies to a member in a month, and how much is due.

Rounding: neither QĐ 342-QĐ/TW nor QĐ 01-QĐ/TW (as summarised in domain-research §7) prescribes a
rounding step, so a percentage is rounded to the nearest đồng, halves up, in integer arithmetic
(6,000,000 đ × 1 % = 60,000 đ; 1,234,567 đ × 0.5 % = 6,173 đ). Money is always an int of đồng.

Exemptions and reductions (QĐ 01-QĐ/TW): a member whose party age reaches the rule's
``exempt_party_years`` (50) owes nothing from the month of that anniversary; a ``DuesRelief`` row
exempts a member or reduces the amount by 30/50/70 % for the months it covers.
"""

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from lib.dates import add_years, month_end, month_start
from lib.formatting import basis_points_label, money

from .models import PATH_STEP_WIDTH, CellMembership, DuesPayment, DuesRateRule, DuesRelief, Member, Organisation

BASIS_POINTS_WHOLE = 10_000  # 100 % in basis points


def percent_of(base: int, basis_points: int) -> int:
    """``base`` × ``basis_points`` / 10,000, rounded to the nearest đồng (halves up)."""
    return (base * basis_points * 2 + BASIS_POINTS_WHOLE) // (2 * BASIS_POINTS_WHOLE)


def rule_in_force(*, category: str, month: datetime.date, rules=None) -> DuesRateRule | None:
    """The rule for ``category`` covering ``month`` (the latest start wins if ranges overlap)."""
    month = month_start(month)
    if rules is not None:
        matching = [
            r
            for r in rules
            if r.category == category
            and r.effective_from <= month_end(month)
            and (r.effective_to is None or r.effective_to >= month)
        ]
        return max(matching, key=lambda r: r.effective_from, default=None)
    return (
        DuesRateRule.objects.filter(category=category, effective_from__lte=month_end(month))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=month))
        .order_by("-effective_from")
        .first()
    )


# --- HD 03-HD/VPTW: the fixed amount by area (QĐ 342-QĐ/TW regime) -------------------------------
#
# The one home of these amounts. Source: HD 03-HD/VPTW ngày 06/7/2016 guiding QĐ 342-QĐ/TW (in force until
# 31/01/2026), as domain-research.md §7.1 gives it (M): members paying a fixed amount pay 10,000 đ in the
# inner districts of centrally-run cities, 8,000 đ in the inner urban areas of class I–III towns, 4,000 đ in
# mountain, remote, border and island areas, 6,000 đ elsewhere; members past working age pay 50 % of that.
# A rule row of kind ``area`` (cells/0017) holds the share: 100 % for "other" and students, 50 % for the
# retirement-age category. The area is a property of the unit (``Organisation.dues_area``): blank inherits
# from the nearest ancestor that sets it; if none does, the Khối's default is the inner-urban area (the
# amount the portal charged for the whole Khối before the area existed). QĐ 01-QĐ/TW (from 01/02/2026) has
# no area amounts: its rows are percentages or a flat amount and stay as they are.

Area = Organisation.DuesArea
HD03_FIXED_AMOUNTS: dict[str, int] = {
    Area.INNER_CITY: 10_000,
    Area.INNER_URBAN: 8_000,
    Area.MOUNTAIN: 4_000,
    Area.ELSEWHERE: 6_000,
}
HD03_SOURCE = "HD 03-HD/VPTW ngày 06/7/2016 (hướng dẫn QĐ 342-QĐ/TW)"
DEFAULT_DUES_AREA = Area.INNER_URBAN


def ancestor_paths(path: str) -> list[str]:
    """The paths of an organisation and of each of its ancestors, nearest first."""
    steps = len(path) // PATH_STEP_WIDTH
    return [path[: n * PATH_STEP_WIDTH] for n in range(steps, 0, -1)]


def dues_area_of(organisation: Organisation | None, *, areas_by_path: dict[str, str] | None = None) -> str:
    """The HD 03 area of ``organisation``: its own, else its nearest ancestor's, else the Khối's default.

    ``areas_by_path`` (path → dues_area of the units that set one) may be passed pre-loaded.
    """
    if organisation is None:
        return DEFAULT_DUES_AREA
    if organisation.dues_area:
        return organisation.dues_area
    paths = ancestor_paths(organisation.path)
    if areas_by_path is None:
        areas_by_path = dict(
            Organisation.objects.filter(path__in=paths).exclude(dues_area="").values_list("path", "dues_area")
        )
    return next((areas_by_path[p] for p in paths if areas_by_path.get(p)), DEFAULT_DUES_AREA)


def dues_area_source(organisation: Organisation) -> Organisation | None:
    """The unit whose setting gives ``organisation`` its area (itself or an ancestor); None: the default."""
    if organisation.dues_area:
        return organisation
    paths = ancestor_paths(organisation.path)
    units = {o.path: o for o in Organisation.objects.filter(path__in=paths).exclude(dues_area="")}
    return next((units[p] for p in paths if p in units), None)


def area_amount(area: str) -> int:
    """HD 03-HD/VPTW's full fixed amount for ``area``."""
    return HD03_FIXED_AMOUNTS[area]


def amount_for_rule(rule: DuesRateRule, base: int, *, area: str | None = None) -> int:
    if rule.kind == DuesRateRule.Kind.PERCENT:
        return percent_of(base, rule.basis_points)
    if rule.kind == DuesRateRule.Kind.AREA:
        return percent_of(area_amount(area or DEFAULT_DUES_AREA), rule.basis_points)
    return rule.fixed_amount


def cell_of_member_in(*, member: Member, month: datetime.date) -> Organisation | None:
    """The cell ``member`` belonged to in ``month`` (the latest membership that month), else the current one."""
    membership = (
        CellMembership.objects.filter(member=member, start__lte=month_end(month))
        .filter(Q(end__isnull=True) | Q(end__gte=month_start(month)))
        .select_related("organisation")
        .order_by("-start")
        .first()
    )
    return membership.organisation if membership else member.organisation


# --- the share a cell keeps and the share it remits upward ---------------------------------------
#
# The one home of the split. Sources, as domain-research.md (DR) gives them:
#
# * QĐ 342-QĐ/TW (28/12/2010, in force 01/4/2011) §II.1: "a chi bộ under a đảng ủy cơ sở passes 70 % up
#   and keeps 30 %" — DR §7.1 and §11.7 take this from a quiz key citing §II.1 and mark it L, "not
#   checked against the text". Encoded as that: 30 % kept, 70 % remitted, for a chi bộ trực thuộc.
# * QĐ 01-QĐ/TW (03/02/2026, in force 01/02/2026): DR §7.2 summarises its rates, exemptions and the
#   payment through the Cổng DVC Quốc gia, but **states no split**. No share is invented here: the row
#   from 01/02/2026 carries QĐ 342's 30/70 forward as a parameter, marked unconfirmed, and the book says
#   so under its figures. When the text of QĐ 01 (or the Văn phòng TW's guidance) is in hand, change
#   ``kept_basis_points`` of that row and set ``stated``; months before 01/02/2026 keep their row.
# * A chi bộ cơ sở (a grassroots organisation that is itself a cell) remits to the Khối under a share
#   DR does not give for either regime: ``kept_basis_points`` is None, the book shows the remittances
#   actually made but computes no amount owed, and such a cell counts as remitted once it has paid
#   something up for the month.


@dataclass(frozen=True)
class DuesSplitRule:
    effective_from: datetime.date
    effective_to: datetime.date | None
    cell_kind: str  # Organisation.Kind value
    kept_basis_points: int | None  # the cell's share of what it collected; None: no source states it
    source: str
    stated: bool  # whether a source in DR states the share (QĐ 342: L, a quiz key)
    note: str = ""

    @property
    def remitted_basis_points(self) -> int | None:
        return None if self.kept_basis_points is None else BASIS_POINTS_WHOLE - self.kept_basis_points

    @property
    def kept_label(self) -> str:
        return "—" if self.kept_basis_points is None else basis_points_label(self.kept_basis_points)

    @property
    def remitted_label(self) -> str:
        return "—" if self.kept_basis_points is None else basis_points_label(self.remitted_basis_points)


QD_342_FROM, QD_342_TO, QD_01_FROM = datetime.date(2011, 4, 1), datetime.date(2026, 1, 31), datetime.date(2026, 2, 1)
_CHI_BO, _CHI_BO_CO_SO = "chi_bo", "chi_bo_co_so"  # Organisation.Kind.CHI_BO, CHI_BO_CO_SO

DUES_SPLIT_RULES: tuple[DuesSplitRule, ...] = (
    DuesSplitRule(
        QD_342_FROM,
        QD_342_TO,
        _CHI_BO,
        3_000,
        "QĐ 342-QĐ/TW ngày 28/12/2010, mục II.1",
        stated=True,
        note="Chi bộ trực thuộc đảng ủy cơ sở trích giữ lại 30 %, nộp cấp trên 70 %.",
    ),
    DuesSplitRule(
        QD_01_FROM,
        None,
        _CHI_BO,
        3_000,
        "QĐ 01-QĐ/TW ngày 03/02/2026",
        stated=False,
        note="Tài liệu tham chiếu không nêu tỷ lệ trích giữ lại theo QĐ 01-QĐ/TW: tạm áp dụng tiếp "
        "tỷ lệ 30 % / 70 % của QĐ 342-QĐ/TW, cần đối chiếu văn bản gốc.",
    ),
    DuesSplitRule(
        QD_342_FROM,
        QD_342_TO,
        _CHI_BO_CO_SO,
        None,
        "QĐ 342-QĐ/TW ngày 28/12/2010",
        stated=False,
        note="Tài liệu tham chiếu không nêu tỷ lệ trích giữ lại của chi bộ cơ sở: chỉ ghi số đã nộp.",
    ),
    DuesSplitRule(
        QD_01_FROM,
        None,
        _CHI_BO_CO_SO,
        None,
        "QĐ 01-QĐ/TW ngày 03/02/2026",
        stated=False,
        note="Tài liệu tham chiếu không nêu tỷ lệ trích giữ lại của chi bộ cơ sở: chỉ ghi số đã nộp.",
    ),
)


def split_in_force(*, cell_kind: str, month: datetime.date, rules=DUES_SPLIT_RULES) -> DuesSplitRule | None:
    """The split rule for a cell of ``cell_kind`` covering ``month`` (None before any rule or for other kinds)."""
    month = month_start(month)
    matching = [
        r
        for r in rules
        if r.cell_kind == cell_kind
        and r.effective_from <= month
        and (r.effective_to is None or r.effective_to >= month)
    ]
    return max(matching, key=lambda r: r.effective_from, default=None)


@dataclass(frozen=True)
class DuesShare:
    collected: int
    to_remit: int | None  # None when no rule states the share
    kept: int | None
    rule: DuesSplitRule | None


def dues_share(*, collected: int, cell_kind: str, month: datetime.date, rules=DUES_SPLIT_RULES) -> DuesShare:
    """Split what a cell collected in ``month`` into what it keeps and what it owes upward.

    The upward share is the rounded percentage (nearest đồng, halves up, as every amount of this
    module); the cell keeps the rest, so the two always add up to what was collected.
    """
    rule = split_in_force(cell_kind=cell_kind, month=month, rules=rules)
    if rule is None or rule.kept_basis_points is None:
        return DuesShare(collected=collected, to_remit=None, kept=None, rule=rule)
    to_remit = percent_of(collected, rule.remitted_basis_points)
    return DuesShare(collected=collected, to_remit=to_remit, kept=collected - to_remit, rule=rule)


def month_remitted(*, share: DuesShare, remitted: int) -> bool:
    """Whether the month's upward share is paid: in full, or (no share known) by any remittance."""
    if share.to_remit is None:
        return remitted > 0
    return remitted >= share.to_remit


@dataclass(frozen=True)
class DuesAssessment:
    base: int
    rule: DuesRateRule | None
    amount_due: int
    adjustment: str = ""
    area: str = ""  # the HD 03 area the amount was taken for (a rule of kind ``area`` only)


def assess(
    *, member: Member, month: datetime.date, rules=None, reliefs=None, area: str | None = None
) -> DuesAssessment:
    """What ``member`` owes for ``month`` under the rules in force then.

    ``rules`` and ``reliefs`` may be passed pre-loaded to assess many members without a query each; ``area``
    (the HD 03 area of the member's cell that month) too, else it is read from the cell the member was in.
    """
    month = month_start(month)
    base = member.dues_base or 0
    rule = rule_in_force(category=member.dues_category, month=month, rules=rules)
    if rule is None:
        return DuesAssessment(base=base, rule=None, amount_due=0)
    if rule.kind == DuesRateRule.Kind.AREA and not area:
        area = dues_area_of(cell_of_member_in(member=member, month=month))
    area = area if rule.kind == DuesRateRule.Kind.AREA else ""
    amount = amount_for_rule(rule, base, area=area)
    if rule.exempt_party_years and member.admission_decision_date:
        if add_years(member.admission_decision_date, rule.exempt_party_years) <= month_end(month):
            return DuesAssessment(
                base=base,
                rule=rule,
                amount_due=0,
                adjustment=f"Miễn: tuổi đảng từ {rule.exempt_party_years} năm",
                area=area,
            )
    if reliefs is None:
        reliefs = DuesRelief.objects.filter(member=member)
    for relief in reliefs:
        if relief.member_id != member.pk or relief.start > month_end(month) or (relief.end and relief.end < month):
            continue
        if relief.kind == DuesRelief.Kind.EXEMPT:
            return DuesAssessment(base=base, rule=rule, amount_due=0, adjustment=f"Miễn: {relief.reason}", area=area)
        kept = 100 - relief.reduction_percent
        amount = (amount * kept * 2 + 100) // 200
        return DuesAssessment(
            base=base,
            rule=rule,
            amount_due=amount,
            adjustment=f"Giảm {relief.reduction_percent} %: {relief.reason}",
            area=area,
        )
    return DuesAssessment(base=base, rule=rule, amount_due=amount, area=area)


def was_in_cell(*, member: Member, organisation_id: int, month: datetime.date) -> bool:
    """Whether ``member`` belonged to the cell for at least one day of ``month``."""
    return (
        CellMembership.objects.filter(member=member, organisation_id=organisation_id, start__lte=month_end(month))
        .filter(Q(end__isnull=True) | Q(end__gte=month_start(month)))
        .exists()
    )


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
    areas_by_path = dict(Organisation.objects.exclude(dues_area="").values_list("path", "dues_area"))
    cells = {o.pk: o for o in Organisation.objects.filter(kind__in=Organisation.CELL_KINDS)}
    rows = []
    for member in members:
        for month in all_months:
            if (member.pk, month) in existing:
                continue
            cell = next(
                (
                    ms.organisation_id
                    for ms in memberships_by_member[member.pk]
                    if ms.start <= month_end(month) and (ms.end is None or ms.end >= month)
                ),
                None,
            )
            if cell is None:
                continue
            area = dues_area_of(cells.get(cell), areas_by_path=areas_by_path)
            assessment = assess(
                member=member, month=month, rules=rules, reliefs=reliefs_by_member[member.pk], area=area
            )
            if assessment.rule is None:
                continue
            paid = chooser.random() < paid_share
            rows.append(
                DuesPayment(
                    member=member,
                    month=month,
                    organisation_id=cell,
                    base=assessment.base,
                    rate_rule=assessment.rule,
                    adjustment=assessment.adjustment,
                    amount_due=assessment.amount_due,
                    amount_paid=assessment.amount_due if paid else 0,
                    paid_on=min(month.replace(day=chooser.randint(5, 25)), today)
                    if paid and assessment.amount_due
                    else None,
                    method=(DuesPayment.Method.CASH if chooser.random() < 0.7 else DuesPayment.Method.TRANSFER)
                    if paid and assessment.amount_due
                    else "",
                    recorded_by=recorded_by,
                )
            )
    return DuesPayment.objects.bulk_create(rows, batch_size=1000)


# --- the ledger as a document (PDF and XLSX share one context) ---------------------------------


BOOK_TITLE = "SỔ THEO DÕI THU, CHI ĐẢNG PHÍ, KINH PHÍ HOẠT ĐỘNG CỦA CHI BỘ"  # the seed resolution's name


def ledger_document_context(
    *, cell, month: datetime.date, lines, totals: dict, book, book_month, remittances, fund_entries
) -> dict:
    """Everything the printed dues book shows; the PDF and the XLSX are both made from it.

    ``book`` is the balance of each month of the year up to ``month`` (``selectors.dues_book_months``),
    ``book_month`` its last row; ``remittances`` and ``fund_entries`` the month's lines.
    """
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
    remittance_rows = [
        {
            "number": number,
            "date": r.remitted_on.strftime("%d/%m/%Y"),
            "receipt": r.receipt_number,
            "amount": r.amount,
            "note": r.note,
        }
        for number, r in enumerate(remittances, start=1)
    ]
    fund_rows = [
        {
            "number": number,
            "date": e.entry_date.strftime("%d/%m/%Y"),
            "voucher": e.voucher_number,
            "purpose": e.purpose,
            "kind": e.kind,
            "kind_label": e.get_kind_display(),
            "received": e.amount if e.kind != "expense" else None,
            "spent": e.amount if e.kind == "expense" else None,
        }
        for number, e in enumerate(fund_entries, start=1)
    ]
    from .selectors import document_signer

    signer_title, signer = document_signer(organisation=cell, on=timezone.localdate())
    return {
        "cell": cell,
        "upper": cell.parent.name if cell.parent_id else "",
        "signer_title": signer_title,
        "signer": signer,
        "month": month,
        "title": BOOK_TITLE,
        "period": f"Tháng {month:%m/%Y}",
        "rows": rows,
        "totals": totals,
        "book": book,
        "book_month": book_month,
        "split": book_month.share.rule,
        "remittance_rows": remittance_rows,
        "remitted_total": sum(r["amount"] for r in remittance_rows),
        "fund_rows": fund_rows,
        # A balance brought forward is printed on its line but is no receipt of the month (section IV counts
        # it in the opening balance): the total leaves it out, as the balance does.
        "fund_received_total": sum(r["received"] or 0 for r in fund_rows if r["kind"] != "brought_forward"),
        "fund_brought_forward": any(r["kind"] == "brought_forward" for r in fund_rows),
        "fund_spent_total": sum(r["spent"] or 0 for r in fund_rows),
        "printed_on": timezone.localdate(),
        "filename": f"so-dang-phi-{cell.pk}-{month:%Y-%m}",
    }


def ledger_pdf(context: dict) -> bytes:
    """The dues book of one month as an A4 landscape PDF in Liberation Serif (WeasyPrint)."""
    from lib.documents import render_pdf

    from .privacy import PERSONAL_DATA_NOTICE

    return render_pdf(
        "documents/dues_ledger.html", {**context, "money": money, "personal_notice": PERSONAL_DATA_NOTICE}
    )


def ledger_xlsx(context: dict) -> bytes:
    """The same dues book as a workbook: the members' payments, the remittances upward, the activity
    funds and the monthly balance, one sheet each; amounts as whole numbers with thousand separators.

    Written through ``lib.xlsx``: a name, purpose or receipt number starting with "=" stays text.
    """
    from openpyxl.styles import Alignment, Font

    from lib import xlsx

    from .privacy import PERSONAL_DATA_NOTICE

    bold = Font(bold=True)

    def header(sheet, values):
        for cell in xlsx.append_row(sheet, values):
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="center")

    def money_format(cells):
        for cell in cells:
            if isinstance(cell.value, int) and not isinstance(cell.value, bool):
                cell.number_format = "#,##0"

    def widths(sheet, values):
        for index, width in enumerate(values):
            sheet.column_dimensions[chr(ord("A") + index)].width = width

    def titled(sheet, subtitle, *, personal=False):
        xlsx.append_row(sheet, [context["cell"].name])[0].font = bold
        xlsx.append_row(sheet, [context["title"]])[0].font = Font(bold=True, size=13)
        xlsx.append_row(sheet, [f"{context['period']} — {subtitle}"])
        if personal:  # the members' names and payments (cells.privacy: every file with personal data says so)
            xlsx.append_row(sheet, [str(PERSONAL_DATA_NOTICE)])[0].font = Font(italic=True, bold=True, color="C00000")
        xlsx.append_row(sheet, [])

    workbook = xlsx.new_workbook()
    sheet = workbook.active
    sheet.title = f"{context['month']:%m-%Y}"
    titled(sheet, "Thu đảng phí của đảng viên", personal=True)
    header(
        sheet,
        [
            "STT",
            "Họ và tên",
            "Mức căn cứ (đ)",
            "Mức đóng",
            "Phải nộp (đ)",
            "Đã nộp (đ)",
            "Ngày nộp",
            "Hình thức",
            "Ghi chú",
        ],
    )
    for row in context["rows"]:
        cells = xlsx.append_row(
            sheet,
            [
                row["number"],
                row["name"],
                row["base"],
                row["rate"],
                row["due"],
                row["paid"],
                row["paid_on"],
                row["method"],
                row["note"],
            ],
        )
        money_format(cells[2:6])
    totals = context["totals"]
    cells = xlsx.append_row(sheet, ["", "Cộng", totals["base"], "", totals["due"], totals["paid"], "", "", ""])
    for cell in cells:
        cell.font = bold
    money_format(cells[2:6])
    widths(sheet, (6, 30, 16, 14, 14, 14, 12, 16, 30))

    book_month, split = context["book_month"], context["split"]
    sheet = workbook.create_sheet("Nộp cấp trên")
    titled(sheet, "Trích giữ lại và nộp đảng phí lên cấp trên")
    for label, value in (
        ("Đảng phí thu được trong tháng (đ)", book_month.collected),
        ("Tỷ lệ chi bộ được giữ lại", split.kept_label if split else "—"),
        ("Chi bộ giữ lại (đ)", book_month.kept if book_month.kept is not None else "—"),
        ("Phải nộp cấp trên (đ)", book_month.to_remit if book_month.to_remit is not None else "—"),
        ("Đã nộp cấp trên (đ)", book_month.remitted),
        ("Còn phải nộp (đ)", book_month.outstanding if book_month.outstanding is not None else "—"),
        ("Căn cứ", f"{split.source}. {split.note}" if split else "Chưa có quy định cho tháng này."),
    ):
        cells = xlsx.append_row(sheet, [label, value])
        cells[0].font = bold
        money_format(cells[1:])
    xlsx.append_row(sheet, [])
    header(sheet, ["STT", "Ngày nộp", "Số biên lai", "Số tiền (đ)", "Ghi chú"])
    for row in context["remittance_rows"]:
        money_format(xlsx.append_row(sheet, [row["number"], row["date"], row["receipt"], row["amount"], row["note"]]))
    widths(sheet, (36, 14, 18, 16, 40))

    sheet = workbook.create_sheet("Kinh phí")
    titled(sheet, "Thu, chi kinh phí hoạt động")
    header(sheet, ["STT", "Ngày", "Số chứng từ", "Nội dung", "Loại", "Thu (đ)", "Chi (đ)"])
    for row in context["fund_rows"]:
        money_format(
            xlsx.append_row(
                sheet,
                [
                    row["number"],
                    row["date"],
                    row["voucher"],
                    row["purpose"],
                    row["kind_label"],
                    row["received"],
                    row["spent"],
                ],
            )
        )
    widths(sheet, (6, 12, 16, 40, 22, 14, 14))

    sheet = workbook.create_sheet("Cân đối")
    titled(sheet, "Cân đối thu, chi theo tháng")
    header(
        sheet,
        [
            "Tháng",
            "Tồn đầu tháng (đ)",
            "Thu đảng phí (đ)",
            "Chi bộ giữ lại (đ)",
            "Nộp cấp trên (đ)",
            "Thu kinh phí (đ)",
            "Chi (đ)",
            "Tồn cuối tháng (đ)",
        ],
    )
    for row in context["book"]:
        money_format(
            xlsx.append_row(
                sheet,
                [
                    f"{row.month:%m/%Y}",
                    row.opening,
                    row.collected,
                    row.kept if row.kept is not None else "—",
                    row.remitted,
                    row.funds_in,
                    row.spent,
                    row.closing,
                ],
            )
        )
    widths(sheet, (10, 16, 16, 16, 16, 16, 14, 16))
    return xlsx.workbook_bytes(workbook)
