"""The dues book as the resolution names it: "Sổ theo dõi thu, chi đảng phí, kinh phí hoạt động của chi bộ".

Hand-worked: what a cell keeps and remits under the split in force, its remittances, its activity
funds and the balance of each month, across December → January; the đảng ủy cơ sở's list of the
cells that have not remitted a month.
"""

import datetime
import io
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cells import dues, selectors, services
from cells.models import AuditEntry, CellFundEntry, DuesRemittance, Member, Organisation

from ..factories import make_member, make_organisation

pytestmark = pytest.mark.django_db

D = datetime.date
RECEIPT, EXPENSE, BROUGHT_FORWARD = (
    CellFundEntry.Kind.RECEIPT,
    CellFundEntry.Kind.EXPENSE,
    CellFundEntry.Kind.BROUGHT_FORWARD,
)


def at(time_machine, *args):
    """Freeze the clock at a local time of Asia/Ho_Chi_Minh."""
    time_machine.move_to(datetime.datetime(*args, tzinfo=timezone.get_current_timezone()), tick=False)


def collect(cell, month, payments, by=None):
    """Open ``month`` in ``cell``'s book and record each (member, amount) as paid in cash on the 10th."""
    services.dues_month_open(organisation=cell, month=month, by=by)
    for member, amount in payments:
        services.dues_payment_record(
            organisation=cell,
            member=member,
            month=month,
            amount_paid=amount,
            paid_on=month.replace(day=10),
            method="cash",
            by=by,
        )


@pytest.fixture
def office(tree, people):
    """Chi bộ Văn phòng (a chi bộ trực thuộc of Đảng bộ Sở Tài chính) with three salaried members owing 1 %:
    50,000,000 đ → 500,000; 40,000,000 đ → 400,000; 30,000,000 đ → 300,000; in all 1,200,000 đ a month."""
    secretary, member = people.members["secretary"], people.members["member"]
    Member.objects.filter(pk=secretary.pk).update(dues_base=50_000_000)
    Member.objects.filter(pk=member.pk).update(dues_base=40_000_000)
    third = make_member(organisation=tree.cell, full_name="Đỗ Văn Thứ Ba", dues_base=30_000_000)
    secretary.refresh_from_db()
    member.refresh_from_db()
    return type(
        "Office",
        (),
        {
            "cell": tree.cell,
            "members": [secretary, member, third],
            "payments": [(secretary, 500_000), (member, 400_000), (third, 300_000)],
        },
    )


# --- the split: one dated rule table ---------------------------------------------------------


def test_a_chi_bo_collecting_1_200_000_keeps_360_000_and_remits_840_000():
    # QĐ 342-QĐ/TW §II.1 as DR §7.1 gives it: a chi bộ trực thuộc keeps 30 %, remits 70 %.
    # 1,200,000 × 70 % = 840,000 up; 1,200,000 − 840,000 = 360,000 kept (= 30 %).
    for month in (D(2025, 11, 1), D(2026, 11, 1)):
        share = dues.dues_share(collected=1_200_000, cell_kind=Organisation.Kind.CHI_BO, month=month)
        assert (share.to_remit, share.kept) == (840_000, 360_000)


def test_the_upward_share_is_rounded_and_the_cell_keeps_the_rest():
    # 65,005 × 70 % = 45,503.5 → 45,504 (halves up); kept 65,005 − 45,504 = 19,501: the two add up.
    share = dues.dues_share(collected=65_005, cell_kind=Organisation.Kind.CHI_BO, month=D(2026, 3, 1))
    assert (share.to_remit, share.kept) == (45_504, 19_501)


def test_january_2026_falls_under_qd342_and_february_under_qd01_whose_split_is_not_stated():
    january = dues.split_in_force(cell_kind=Organisation.Kind.CHI_BO, month=D(2026, 1, 31))
    february = dues.split_in_force(cell_kind=Organisation.Kind.CHI_BO, month=D(2026, 2, 1))
    assert "342-QĐ/TW" in january.source and january.stated
    assert "01-QĐ/TW" in february.source and not february.stated
    assert "không nêu" in february.note
    # Before QĐ 342 was in force (01/4/2011) the portal knows no split.
    assert dues.split_in_force(cell_kind=Organisation.Kind.CHI_BO, month=D(2011, 3, 1)) is None


def test_months_before_and_after_a_change_compute_with_their_own_row():
    # Were QĐ 01's text to set 50 % kept from 02/2026: January's 1,200,000 → 840,000 up, February's → 600,000.
    rules = (
        dues.DuesSplitRule(D(2011, 4, 1), D(2026, 1, 31), "chi_bo", 3_000, "QĐ 342", stated=True),
        dues.DuesSplitRule(D(2026, 2, 1), None, "chi_bo", 5_000, "QĐ 01", stated=True),
    )
    january = dues.dues_share(collected=1_200_000, cell_kind="chi_bo", month=D(2026, 1, 1), rules=rules)
    february = dues.dues_share(collected=1_200_000, cell_kind="chi_bo", month=D(2026, 2, 1), rules=rules)
    assert (january.to_remit, january.kept, february.to_remit, february.kept) == (840_000, 360_000, 600_000, 600_000)


def test_a_chi_bo_co_so_has_no_stated_share_and_counts_as_remitted_once_it_paid_something():
    share = dues.dues_share(collected=1_200_000, cell_kind=Organisation.Kind.CHI_BO_CO_SO, month=D(2026, 11, 1))
    assert (share.to_remit, share.kept) == (None, None) and share.rule is not None
    assert not dues.month_remitted(share=share, remitted=0)
    assert dues.month_remitted(share=share, remitted=1_000_000)


# --- remittances -------------------------------------------------------------------------------


def test_a_remittance_of_the_upward_share_leaves_the_month_remitted(office, people, time_machine):
    at(time_machine, 2026, 12, 5, 9, 0)
    november = D(2026, 11, 1)
    collect(office.cell, november, office.payments, by=people.secretary)
    month = selectors.dues_book_months(cell=office.cell, start=november, end=november)[0]
    assert (month.collected, month.kept, month.to_remit, month.outstanding) == (1_200_000, 360_000, 840_000, 840_000)
    assert not month.remitted_in_full

    services.dues_remittance_record(
        organisation=office.cell,
        month=november,
        remitted_on=D(2026, 11, 30),
        amount=500_000,
        receipt_number="BL-0107",
        by=people.secretary,
    )
    month = selectors.dues_book_months(cell=office.cell, start=november, end=november)[0]
    assert (month.remitted, month.outstanding, month.remitted_in_full) == (500_000, 340_000, False)

    # 840,000 − 500,000 = 340,000 still owed: 340,001 is refused, 340,000 closes the month.
    with pytest.raises(ValidationError) as error:
        services.dues_remittance_record(
            organisation=office.cell,
            month=november,
            remitted_on=D(2026, 12, 5),
            amount=340_001,
            receipt_number="BL-0112",
            by=people.secretary,
        )
    assert "340.000 đ" in error.value.message_dict["amount"][0]
    services.dues_remittance_record(
        organisation=office.cell,
        month=november,
        remitted_on=D(2026, 12, 5),
        amount=340_000,
        receipt_number="BL-0112",
        by=people.secretary,
    )
    month = selectors.dues_book_months(cell=office.cell, start=november, end=november)[0]
    assert (month.remitted, month.outstanding, month.remitted_in_full) == (840_000, 0, True)
    audits = AuditEntry.objects.filter(action="cells.dues_remittance.create").order_by("pk")
    assert [(a.after["amount"], a.after["receipt_number"], a.actor_id) for a in audits] == [
        (500_000, "BL-0107", people.secretary.pk),
        (340_000, "BL-0112", people.secretary.pk),
    ]


def test_nothing_collected_means_nothing_to_remit_yet(office, people, time_machine):
    at(time_machine, 2026, 12, 5, 9, 0)
    services.dues_month_open(organisation=office.cell, month=D(2026, 11, 1), by=people.secretary)
    with pytest.raises(ValidationError) as error:
        services.dues_remittance_record(
            organisation=office.cell,
            month=D(2026, 11, 1),
            remitted_on=D(2026, 12, 1),
            amount=100_000,
            receipt_number="BL-1",
            by=people.secretary,
        )
    assert "ghi thu đảng phí" in error.value.message_dict["amount"][0]
    assert not DuesRemittance.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": 0}, "amount", "lớn hơn 0"),
        ({"amount": -840_000}, "amount", "lớn hơn 0"),
        ({"amount": 10**13}, "amount", "quá lớn"),
        ({"remitted_on": D(2026, 12, 6)}, "remitted_on", "tương lai"),
        ({"remitted_on": D(2026, 10, 31)}, "remitted_on", "01/11/2026"),
        ({"remitted_on": None}, "remitted_on", "Nhập ngày nộp"),
        ({"receipt_number": "  "}, "receipt_number", "Nhập số biên lai"),
        ({"receipt_number": "bl-0107"}, "receipt_number", "đã ghi trong sổ"),
        ({"month": D(2027, 1, 1)}, "month", "chưa đến"),
    ],
)
def test_bad_remittances_are_refused_on_their_field_and_write_nothing(
    office, people, time_machine, changes, field, message
):
    at(time_machine, 2026, 12, 5, 9, 0)
    november = D(2026, 11, 1)
    collect(office.cell, november, office.payments)
    services.dues_remittance_record(
        organisation=office.cell, month=november, remitted_on=D(2026, 11, 30), amount=100_000, receipt_number="BL-0107"
    )
    before = (DuesRemittance.objects.count(), AuditEntry.objects.count())
    data = {
        "organisation": office.cell,
        "month": november,
        "remitted_on": D(2026, 12, 5),
        "amount": 200_000,
        "receipt_number": "BL-0200",
        **changes,
    }
    with pytest.raises(ValidationError) as error:
        services.dues_remittance_record(**data, by=people.secretary)
    assert message in " ".join(error.value.message_dict[field])
    assert (DuesRemittance.objects.count(), AuditEntry.objects.count()) == before


def test_the_same_receipt_number_may_be_used_by_another_cell(office, people, tree, time_machine):
    at(time_machine, 2026, 12, 5, 9, 0)
    november = D(2026, 11, 1)
    collect(office.cell, november, office.payments)
    sibling_member = people.members["sibling"]
    Member.objects.filter(pk=sibling_member.pk).update(dues_base=10_000_000)
    sibling_member.refresh_from_db()
    collect(tree.sibling, november, [(sibling_member, 100_000)])
    for cell in (office.cell, tree.sibling):
        services.dues_remittance_record(
            organisation=cell, month=november, remitted_on=D(2026, 12, 1), amount=70_000, receipt_number="BL-01"
        )
    assert DuesRemittance.objects.filter(receipt_number="BL-01").count() == 2


def test_at_half_past_midnight_on_new_year_the_local_date_is_the_new_one(office, people, time_machine):
    # 00:30 on 01/01/2027 in Asia/Ho_Chi_Minh is 17:30 on 31/12/2026 in UTC: the 1st is today, the 2nd is not.
    at(time_machine, 2026, 12, 20, 9, 0)
    collect(office.cell, D(2026, 12, 1), office.payments)
    at(time_machine, 2027, 1, 1, 0, 30)
    with pytest.raises(ValidationError) as error:
        services.dues_remittance_record(
            organisation=office.cell,
            month=D(2026, 12, 1),
            remitted_on=D(2027, 1, 2),
            amount=840_000,
            receipt_number="BL-9",
        )
    assert "tương lai" in error.value.message_dict["remitted_on"][0]
    services.dues_remittance_record(
        organisation=office.cell, month=D(2026, 12, 1), remitted_on=D(2027, 1, 1), amount=840_000, receipt_number="BL-9"
    )


# --- activity funds --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": 0}, "amount", "lớn hơn 0"),
        ({"entry_date": D(2026, 12, 6)}, "entry_date", "tương lai"),
        ({"purpose": " "}, "purpose", "Nhập nội dung"),
        ({"voucher_number": ""}, "voucher_number", "Nhập số chứng từ"),
        ({"voucher_number": "pc-01"}, "voucher_number", "đã ghi trong sổ"),
        ({"kind": "gift"}, "kind", "Chọn loại"),
    ],
)
def test_bad_fund_entries_are_refused_on_their_field_and_write_nothing(
    office, people, time_machine, changes, field, message
):
    at(time_machine, 2026, 12, 5, 9, 0)
    services.cell_fund_entry_record(
        organisation=office.cell,
        kind=EXPENSE,
        entry_date=D(2026, 12, 1),
        amount=100_000,
        purpose="Mua văn phòng phẩm",
        voucher_number="PC-01",
    )
    before = (CellFundEntry.objects.count(), AuditEntry.objects.count())
    data = {
        "organisation": office.cell,
        "kind": EXPENSE,
        "entry_date": D(2026, 12, 5),
        "amount": 50_000,
        "purpose": "Nước uống sinh hoạt chi bộ",
        "voucher_number": "PC-02",
        **changes,
    }
    with pytest.raises(ValidationError) as error:
        services.cell_fund_entry_record(**data, by=people.secretary)
    assert message in " ".join(error.value.message_dict[field])
    assert (CellFundEntry.objects.count(), AuditEntry.objects.count()) == before


def test_receipts_and_payment_vouchers_are_numbered_apart_and_one_balance_is_brought_forward(office, time_machine):
    at(time_machine, 2026, 12, 5, 9, 0)
    services.cell_fund_entry_record(
        organisation=office.cell,
        kind=RECEIPT,
        entry_date=D(2026, 12, 1),
        amount=500_000,
        purpose="Công đoàn hỗ trợ",
        voucher_number="01",
    )
    services.cell_fund_entry_record(
        organisation=office.cell,
        kind=EXPENSE,
        entry_date=D(2026, 12, 2),
        amount=100_000,
        purpose="Văn phòng phẩm",
        voucher_number="01",
    )
    services.cell_fund_entry_record(
        organisation=office.cell,
        kind=BROUGHT_FORWARD,
        entry_date=D(2026, 12, 1),
        amount=200_000,
        purpose="Tồn quỹ sổ giấy đến 30/11/2026",
    )
    with pytest.raises(ValidationError) as error:
        services.cell_fund_entry_record(
            organisation=office.cell, kind=BROUGHT_FORWARD, entry_date=D(2026, 12, 2), amount=1, purpose="Lần hai"
        )
    assert "chỉ ghi một lần" in error.value.message_dict["kind"][0]
    assert AuditEntry.objects.filter(action="cells.fund_entry.create").count() == 3


# --- the balance over December → January -------------------------------------------------------------


@pytest.fixture
def two_months(office, people, time_machine):
    """December 2026 and January 2027 of Chi bộ Văn phòng, entered on 20/01/2027.

    December: 200,000 brought forward from the paper book; 1,200,000 collected (keeps 360,000, owes
    840,000, remitted on 28/12); 500,000 received from the trade union; 300,000 spent.
        closing = 200,000 + 1,200,000 − 840,000 + 500,000 − 300,000 = 760,000
    January: two members pay (500,000 + 400,000 = 900,000; keeps 270,000, owes 630,000, remitted on
    15/01); 150,000 spent.
        opening = 760,000; closing = 760,000 + 900,000 − 630,000 − 150,000 = 880,000
    """
    at(time_machine, 2027, 1, 20, 10, 0)
    cell, by = office.cell, people.secretary
    december, january = D(2026, 12, 1), D(2027, 1, 1)
    services.cell_fund_entry_record(
        organisation=cell,
        kind=BROUGHT_FORWARD,
        entry_date=D(2026, 12, 1),
        amount=200_000,
        purpose="Tồn quỹ sổ giấy đến 30/11/2026",
        by=by,
    )
    collect(cell, december, office.payments, by=by)
    services.dues_remittance_record(
        organisation=cell, month=december, remitted_on=D(2026, 12, 28), amount=840_000, receipt_number="BL-1226", by=by
    )
    services.cell_fund_entry_record(
        organisation=cell,
        kind=RECEIPT,
        entry_date=D(2026, 12, 15),
        amount=500_000,
        purpose="Công đoàn cơ quan hỗ trợ hoạt động",
        voucher_number="PT-01",
        by=by,
    )
    services.cell_fund_entry_record(
        organisation=cell,
        kind=EXPENSE,
        entry_date=D(2026, 12, 31),
        amount=300_000,
        purpose="Tặng quà đảng viên nhân ngày 22/12",
        voucher_number="PC-01",
        by=by,
    )
    collect(cell, january, office.payments[:2], by=by)
    services.dues_remittance_record(
        organisation=cell, month=january, remitted_on=D(2027, 1, 15), amount=630_000, receipt_number="BL-0127", by=by
    )
    services.cell_fund_entry_record(
        organisation=cell,
        kind=EXPENSE,
        entry_date=D(2027, 1, 2),
        amount=150_000,
        purpose="Nước uống sinh hoạt chi bộ",
        voucher_number="PC-02",
        by=by,
    )
    return type("TwoMonths", (), {"cell": cell, "december": december, "january": january})


def test_the_balance_closes_over_december_and_january(two_months):
    december, january = selectors.dues_book_months(
        cell=two_months.cell, start=two_months.december, end=two_months.january
    )
    assert (
        december.opening,
        december.collected,
        december.kept,
        december.remitted,
        december.funds_in,
        december.spent,
        december.closing,
    ) == (200_000, 1_200_000, 360_000, 840_000, 500_000, 300_000, 760_000)
    assert (
        january.opening,
        january.collected,
        january.kept,
        january.remitted,
        january.funds_in,
        january.spent,
        january.closing,
    ) == (760_000, 900_000, 270_000, 630_000, 0, 150_000, 880_000)
    assert december.remitted_in_full and january.remitted_in_full
    # January's page starts its year: one row, opened with December's closing.
    [only] = selectors.dues_book_months(cell=two_months.cell, start=two_months.january, end=two_months.january)
    assert (only.month, only.opening, only.closing) == (two_months.january, 760_000, 880_000)


def test_the_book_page_shows_the_month_and_its_queries_do_not_grow(
    client_for, people, two_months, time_machine, django_assert_max_num_queries
):
    client = client_for(people.secretary)
    url = reverse("books:books_dues_ledger", args=[two_months.cell.pk])
    html = client.get(url, {"thang": "12/2026"}).content.decode()
    for text in (
        "Trích giữ lại",
        "840.000 đ",
        "360.000 đ",
        "BL-1226",
        "PC-01",
        "Tặng quà đảng viên",
        "760.000 đ",
        "200.000 đ",
        "QĐ 01-QĐ/TW",
        "Số thu",
    ):
        assert text in html, text
    assert "Thứ 5" not in html  # "Thu" alone is Django's Thursday
    # 15 for the book (one more, the device, for a user with a second factor).
    with django_assert_max_num_queries(16) as small:
        client.get(url, {"thang": "12/2026"})
    # Ten more members paying, ten more remittances and twenty more fund lines in December.
    at(time_machine, 2027, 1, 20, 11, 0)
    for n in range(10):
        member = make_member(organisation=two_months.cell, full_name=f"Đảng Viên Thêm {n:02d}", dues_base=1_000_000)
        services.dues_payment_record(
            organisation=two_months.cell,
            member=member,
            month=two_months.december,
            amount_paid=10_000,
            paid_on=D(2026, 12, 20),
            method="cash",
        )
        services.dues_remittance_record(
            organisation=two_months.cell,
            month=two_months.december,
            remitted_on=D(2026, 12, 30),
            amount=7_000,
            receipt_number=f"BL-X{n}",
        )
        for kind in (RECEIPT, EXPENSE):
            services.cell_fund_entry_record(
                organisation=two_months.cell,
                kind=kind,
                entry_date=D(2026, 12, 20),
                amount=1_000,
                purpose="Khoản thêm",
                voucher_number=f"X-{n}",
            )
    # A month later the session also writes its row of "Phiên đăng nhập" (at most once a minute:
    # its row's update and the session's save in a savepoint); ten more of everything add none.
    with django_assert_max_num_queries(len(small.captured_queries) + 4):
        page = client.get(url, {"thang": "12/2026"})
    assert page.status_code == 200 and "BL-X9" in page.content.decode()


# --- printed and exported -------------------------------------------------------------------------


def test_the_book_prints_its_sections_in_the_party_layout(
    client_for, people, two_months, tmp_path, pdftotext_available
):
    response = client_for(people.secretary).get(
        reverse("books:books_dues_pdf", args=[two_months.cell.pk]), {"thang": "12/2026"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "so.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in text and "ĐẢNG BỘ SỞ TÀI CHÍNH" in text
    assert "SỔ THEO DÕI THU, CHI ĐẢNG PHÍ, KINH PHÍ HOẠT ĐỘNG CỦA CHI BỘ" in text and "Tháng 12/2026" in text
    for heading in (
        "I. THU ĐẢNG PHÍ CỦA ĐẢNG VIÊN",
        "II. TRÍCH GIỮ LẠI VÀ NỘP ĐẢNG PHÍ LÊN CẤP TRÊN",
        "III. THU, CHI KINH PHÍ HOẠT ĐỘNG CỦA CHI BỘ",
        "IV. CÂN ĐỐI THU, CHI THEO THÁNG",
    ):
        assert heading in text, heading
    for figure in ("1.200.000 đ", "360.000 đ", "840.000 đ", "BL-1226", "28/12/2026", "PC-01", "760.000 đ"):
        assert figure in text, figure
    assert "Tồn quỹ cuối tháng 760.000 đồng" in " ".join(text.split())


def test_the_book_exports_each_section_to_its_sheet_and_user_text_stays_text(
    client_for, people, two_months, time_machine
):
    services.cell_fund_entry_record(
        organisation=two_months.cell,
        kind=RECEIPT,
        entry_date=D(2026, 12, 16),
        amount=1_000,
        purpose='=HYPERLINK("http://x","y")',
        voucher_number="PT-02",
    )
    response = client_for(people.secretary).get(
        reverse("books:books_dues_xlsx", args=[two_months.cell.pk]), {"thang": "12/2026"}
    )
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["12-2026", "Nộp cấp trên", "Kinh phí", "Cân đối"]
    remit = {row[0]: row[1] for row in workbook["Nộp cấp trên"].iter_rows(values_only=True) if row and row[0]}
    assert (
        remit["Đảng phí thu được trong tháng (đ)"],
        remit["Chi bộ giữ lại (đ)"],
        remit["Phải nộp cấp trên (đ)"],
        remit["Đã nộp cấp trên (đ)"],
        remit["Còn phải nộp (đ)"],
    ) == (1_200_000, 360_000, 840_000, 840_000, 0)
    assert any(
        row[2] == "BL-1226" and row[3] == 840_000 for row in workbook["Nộp cấp trên"].iter_rows(values_only=True)
    )
    funds = workbook["Kinh phí"]
    purposes = [cell for cell in funds["D"] if cell.value and str(cell.value).startswith("=")]
    assert purposes and all(cell.data_type == "s" for cell in purposes)
    balance = [row for row in workbook["Cân đối"].iter_rows(values_only=True) if row and row[0] == "12/2026"]
    assert balance == [("12/2026", 200_000, 1_200_000, 360_000, 840_000, 501_000, 300_000, 761_000)]


# --- forms -------------------------------------------------------------------------------------------


def test_secretary_records_a_remittance_through_the_form(client_for, people, office, time_machine):
    at(time_machine, 2026, 12, 5, 9, 0)
    collect(office.cell, D(2026, 11, 1), office.payments)
    client = client_for(people.secretary)
    url = reverse("books:books_dues_remit", args=[office.cell.pk])
    form_page = client.get(url, {"thang": "11/2026"})
    assert "840.000 đ" in form_page.content.decode()  # what is owed, and the amount pre-filled
    assert form_page.context["form"].initial["amount"] == 840_000
    response = client.post(
        url, {"month": "11/2026", "remitted_on": "05/12/2026", "amount": "840.000", "receipt_number": "BL-0107"}
    )
    assert response.status_code == 302 and response.url.endswith("?thang=11/2026")
    remittance = DuesRemittance.objects.get()
    assert (remittance.amount, remittance.remitted_on, remittance.recorded_by) == (
        840_000,
        D(2026, 12, 5),
        people.secretary,
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "0"}, "amount", "lớn hơn 0"),
        ({"amount": "tám trăm"}, "amount", "chữ số"),
        ({"amount": "900.000"}, "amount", "vượt số còn phải nộp"),
        ({"remitted_on": "06/12/2026"}, "remitted_on", "tương lai"),
        ({"remitted_on": "31/02/2026"}, "remitted_on", "ngày/tháng/năm"),
        ({"receipt_number": ""}, "receipt_number", "required"),
        ({"month": "13/2026"}, "month", "tháng/năm"),
    ],
)
def test_bad_remittance_forms_show_the_error_next_to_the_field(
    client_for, people, office, time_machine, data, field, message
):
    at(time_machine, 2026, 12, 5, 9, 0)
    collect(office.cell, D(2026, 11, 1), office.payments)
    post = {"month": "11/2026", "remitted_on": "05/12/2026", "amount": "840.000", "receipt_number": "BL-1", **data}
    response = client_for(people.secretary).post(reverse("books:books_dues_remit", args=[office.cell.pk]), post)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors or (message == "required" and errors), errors
    assert not DuesRemittance.objects.exists()


def test_secretary_records_an_expense_through_the_form_and_a_bad_one_is_refused(
    client_for, people, office, time_machine
):
    at(time_machine, 2026, 12, 5, 9, 0)
    client = client_for(people.secretary)
    url = reverse("books:books_fund_entry", args=[office.cell.pk])
    bad = client.post(
        url,
        {
            "kind": "expense",
            "entry_date": "07/12/2026",
            "amount": "-5",
            "voucher_number": "PC-1",
            "purpose": "Văn phòng phẩm",
        },
    )
    assert bad.status_code == 200
    assert "lớn hơn 0" in " ".join(bad.context["form"].errors["amount"])
    assert not CellFundEntry.objects.exists()
    future = client.post(
        url,
        {
            "kind": "expense",
            "entry_date": "07/12/2026",
            "amount": "50.000",
            "voucher_number": "PC-1",
            "purpose": "Văn phòng phẩm",
        },
    )
    assert "tương lai" in " ".join(future.context["form"].errors["entry_date"])
    response = client.post(
        url,
        {
            "kind": "expense",
            "entry_date": "04/12/2026",
            "amount": "50.000",
            "voucher_number": "PC-1",
            "purpose": "Văn phòng phẩm",
        },
    )
    assert response.status_code == 302 and response.url.endswith("?thang=12/2026")
    assert CellFundEntry.objects.get().amount == 50_000


# --- the đảng ủy cơ sở: which cells have not remitted -----------------------------------------------


@pytest.fixture
def three_cells(office, people, tree, time_machine):
    """November 2026: Chi bộ Văn phòng collects 1,200,000 and remits its 840,000; Chi bộ Kế toán collects
    100,000 and remits nothing (owes 70,000); Chi bộ Công ty Điện lực, outside Đảng bộ Sở Tài chính,
    collects and remits nothing."""
    at(time_machine, 2026, 12, 10, 9, 0)
    november = D(2026, 11, 1)
    collect(office.cell, november, office.payments)
    services.dues_remittance_record(
        organisation=office.cell, month=november, remitted_on=D(2026, 12, 3), amount=840_000, receipt_number="BL-0107"
    )
    for key, cell in (("sibling", tree.sibling), ("other", tree.other)):
        member = people.members[key]
        Member.objects.filter(pk=member.pk).update(dues_base=10_000_000)
        member.refresh_from_db()
        collect(cell, november, [(member, 100_000)])
    return november


def test_the_dang_uy_sees_the_one_cell_that_has_not_remitted(client_for, people, tree, three_cells):
    rows = selectors.cells_remittance_status(organisation=tree.tccs, month=three_cells)
    assert [(row.cell.name, row.status, row.share.to_remit, row.remitted) for row in rows] == [
        ("Chi bộ Văn phòng", "remitted", 840_000, 840_000),
        ("Chi bộ Kế toán", "not_remitted", 70_000, 0),
    ]
    page = client_for(people.officer).get(
        reverse("books:books_dues_unremitted", args=[tree.tccs.pk]), {"thang": "11/2026"}
    )
    assert page.status_code == 200
    assert [row.cell.name for row in page.context["unremitted"]] == ["Chi bộ Kế toán"]
    html = page.content.decode()
    assert "1/2 chi bộ" in html and "70.000 đ" in html and "Chưa nộp" in html
    assert "Chi bộ Công ty Điện lực" not in html


def test_the_unremitted_list_defaults_to_last_month_and_names_each_state(
    client_for, people, tree, three_cells, time_machine
):
    # 10/12/2026: the month just ended is November. A partial remittance and an unopened book are named.
    services.dues_remittance_record(
        organisation=tree.sibling,
        month=three_cells,
        remitted_on=D(2026, 12, 10),
        amount=20_000,
        receipt_number="BL-KT1",
    )
    extra = make_organisation(parent=tree.tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Mới Lập")
    page = client_for(people.officer).get(reverse("books:books_dues_unremitted", args=[tree.tccs.pk]))
    assert page.context["month"] == three_cells
    assert [(row.cell.pk, row.status, row.outstanding) for row in page.context["unremitted"]] == [
        (tree.sibling.pk, "partial", 50_000),
        (extra.pk, "no_book", 0),
    ]
    assert "Nộp chưa đủ" in page.content.decode() and "Chưa lập sổ tháng" in page.content.decode()


def test_the_unremitted_list_is_a_fixed_number_of_queries(
    client_for, people, tree, three_cells, django_assert_max_num_queries
):
    client = client_for(people.officer)
    url = reverse("books:books_dues_unremitted", args=[tree.tccs.pk])
    # 7 for the list and the second factor's device (django_otp reads it on every request).
    with django_assert_max_num_queries(8) as small:
        client.get(url, {"thang": "11/2026"})
    for n in range(15):
        cell = make_organisation(parent=tree.tccs, kind=Organisation.Kind.CHI_BO, name=f"Chi bộ Thêm {n:02d}")
        member = make_member(organisation=cell, dues_base=10_000_000)
        collect(cell, three_cells, [(member, 100_000)])
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(url, {"thang": "11/2026"})
    assert len(page.context["unremitted"]) == 16


def test_at_half_past_midnight_on_new_year_the_list_shows_december(client_for, people, tree, time_machine):
    # 00:30 on 01/01/2027 local is still 31/12/2026 in UTC: the month just ended is December 2026.
    at(time_machine, 2027, 1, 1, 0, 30)
    page = client_for(people.officer).get(reverse("books:books_dues_unremitted", args=[tree.tccs.pk]))
    assert page.context["month"] == D(2026, 12, 1)
    assert "12/2026" in page.content.decode()


# --- correcting and deleting a mistyped line (issue #19) --------------------------------------------


def _remit(cell, month, amount, receipt, by=None):
    return services.dues_remittance_record(
        organisation=cell, month=month, remitted_on=D(2026, 12, 3), amount=amount, receipt_number=receipt, by=by
    )


def _book_month(cell, month):
    return selectors.dues_book_months(cell=cell, start=month, end=month)[0]


def test_a_remittance_of_840_000_corrected_to_804_000_raises_the_closing_balance_by_36_000(
    office, people, time_machine
):
    # November 2026: 1,200,000 collected, 840,000 remitted → closing 1,200,000 − 840,000 = 360,000.
    # Corrected to 804,000: closing 1,200,000 − 804,000 = 396,000 (+36,000), and 36,000 is still owed.
    at(time_machine, 2026, 12, 5, 9, 0)
    november = D(2026, 11, 1)
    collect(office.cell, november, office.payments)
    remittance = _remit(office.cell, november, 840_000, "BL-0107")
    assert (_book_month(office.cell, november).closing, _book_month(office.cell, november).remitted_in_full) == (
        360_000,
        True,
    )
    services.dues_remittance_update(
        remittance=remittance,
        month=november,
        remitted_on=D(2026, 12, 3),
        amount=804_000,
        receipt_number="BL-0107",
        note="Sửa số gõ nhầm",
        organisation=office.cell,
        by=people.secretary,
    )
    month = _book_month(office.cell, november)
    assert (month.remitted, month.closing, month.outstanding, month.remitted_in_full) == (
        804_000,
        396_000,
        36_000,
        False,
    )
    audit = AuditEntry.objects.get(action="cells.dues_remittance.update")
    assert (audit.before, audit.after, audit.actor_id) == (
        {"amount": 840_000, "note": ""},
        {"amount": 804_000, "note": "Sửa số gõ nhầm"},
        people.secretary.pk,
    )
    # Its own 804,000 no longer counts as paid: back to 840,000 is allowed, 840,001 is refused.
    with pytest.raises(ValidationError) as error:
        services.dues_remittance_update(
            remittance=remittance,
            month=november,
            remitted_on=D(2026, 12, 3),
            amount=840_001,
            receipt_number="BL-0107",
        )
    assert "840.000 đ" in error.value.message_dict["amount"][0]
    assert DuesRemittance.objects.get().amount == 804_000


def test_a_corrected_remittance_keeps_its_receipt_but_may_not_take_another_lines(office, time_machine):
    at(time_machine, 2026, 12, 5, 9, 0)
    november = D(2026, 11, 1)
    collect(office.cell, november, office.payments)
    first = _remit(office.cell, november, 500_000, "BL-0107")
    _remit(office.cell, november, 100_000, "BL-0108")
    base = {"remittance": first, "month": november, "amount": 500_000}
    with pytest.raises(ValidationError) as error:
        services.dues_remittance_update(**base, remitted_on=D(2026, 12, 3), receipt_number="bl-0108")
    assert "BL-0108" in error.value.message_dict["receipt_number"][0] or "bl-0108" in str(error.value)
    with pytest.raises(ValidationError) as error:
        services.dues_remittance_update(**base, remitted_on=D(2026, 12, 6), receipt_number="BL-0107")
    assert "tương lai" in error.value.message_dict["remitted_on"][0]
    assert not AuditEntry.objects.filter(action="cells.dues_remittance.update").exists()


def test_deleting_the_remittance_puts_the_month_back_on_the_not_remitted_list(people, tree, three_cells):
    remittance = DuesRemittance.objects.get(organisation=tree.cell)
    services.dues_remittance_delete(remittance=remittance, organisation=tree.cell, by=people.secretary)
    rows = selectors.cells_remittance_status(organisation=tree.tccs, month=three_cells)
    assert [(row.cell.name, row.status, row.remitted) for row in rows] == [
        ("Chi bộ Văn phòng", "not_remitted", 0),
        ("Chi bộ Kế toán", "not_remitted", 0),
    ]
    # 1,200,000 collected, nothing remitted: the month closes at 1,200,000 (it closed at 360,000).
    assert _book_month(tree.cell, three_cells).closing == 1_200_000
    audit = AuditEntry.objects.get(action="cells.dues_remittance.delete")
    assert audit.after is None and audit.actor_id == people.secretary.pk
    assert (audit.before["amount"], audit.before["receipt_number"], audit.object_id) == (
        840_000,
        "BL-0107",
        str(remittance.pk),
    )
    assert not DuesRemittance.objects.filter(organisation=tree.cell).exists()


def test_another_cells_line_is_refused(office, tree, time_machine):
    at(time_machine, 2026, 12, 5, 9, 0)
    entry = services.cell_fund_entry_record(
        organisation=office.cell,
        kind=EXPENSE,
        entry_date=D(2026, 12, 4),
        amount=5_000,
        purpose="Giấy",
        voucher_number="PC-1",
    )
    with pytest.raises(ValidationError):
        services.cell_fund_entry_delete(entry=entry, organisation=tree.sibling)
    assert CellFundEntry.objects.filter(pk=entry.pk).exists()


def test_a_fund_expense_corrected_and_deleted_moves_the_balance(office, people, time_machine):
    # December 2026: 500,000 received (PT-1), an expense typed 500,000 instead of 50,000 (PC-1).
    # Closing 500,000 − 500,000 = 0; corrected: 500,000 − 50,000 = 450,000; deleted: 500,000.
    at(time_machine, 2026, 12, 5, 9, 0)
    december = D(2026, 12, 1)
    services.cell_fund_entry_record(
        organisation=office.cell,
        kind=RECEIPT,
        entry_date=D(2026, 12, 1),
        amount=500_000,
        purpose="Cấp kinh phí",
        voucher_number="PT-1",
    )
    expense = services.cell_fund_entry_record(
        organisation=office.cell,
        kind=EXPENSE,
        entry_date=D(2026, 12, 4),
        amount=500_000,
        purpose="Văn phòng phẩm",
        voucher_number="PC-1",
    )
    assert _book_month(office.cell, december).closing == 0
    # A receipt's voucher number already used is refused; the expense's own number is not a duplicate.
    with pytest.raises(ValidationError) as error:
        services.cell_fund_entry_update(
            entry=expense,
            kind=RECEIPT,
            entry_date=D(2026, 12, 4),
            amount=50_000,
            purpose="Văn phòng phẩm",
            voucher_number="PT-1",
        )
    assert "PT-1" in error.value.message_dict["voucher_number"][0]
    services.cell_fund_entry_update(
        entry=expense,
        kind=EXPENSE,
        entry_date=D(2026, 12, 4),
        amount=50_000,
        purpose="Văn phòng phẩm",
        voucher_number="PC-1",
        by=people.secretary,
    )
    assert (_book_month(office.cell, december).spent, _book_month(office.cell, december).closing) == (50_000, 450_000)
    audit = AuditEntry.objects.get(action="cells.fund_entry.update")
    assert (audit.before, audit.after) == ({"amount": 500_000}, {"amount": 50_000})
    services.cell_fund_entry_delete(entry=expense, by=people.secretary)
    assert _book_month(office.cell, december).closing == 500_000
    deleted = AuditEntry.objects.get(action="cells.fund_entry.delete")
    assert (deleted.before["amount"], deleted.before["voucher_number"], deleted.after) == (50_000, "PC-1", None)


def test_secretary_corrects_and_deletes_lines_on_the_book_page(client_for, people, office, time_machine):
    at(time_machine, 2026, 12, 5, 9, 0)
    november = D(2026, 11, 1)
    collect(office.cell, november, office.payments)
    remittance = _remit(office.cell, november, 840_000, "BL-0107")
    entry = services.cell_fund_entry_record(
        organisation=office.cell,
        kind=RECEIPT,
        entry_date=D(2026, 11, 2),
        amount=300_000,
        purpose="Cấp kinh phí",
        voucher_number="PT-1",
    )
    client = client_for(people.secretary)
    ledger = client.get(
        reverse("books:books_dues_ledger", args=[office.cell.pk]), {"thang": "11/2026"}
    ).content.decode()
    edit_url = reverse("books:books_dues_remit_edit", args=[office.cell.pk, remittance.pk])
    delete_url = reverse("books:books_fund_entry_delete", args=[office.cell.pk, entry.pk])
    assert edit_url in ledger and delete_url in ledger
    form = client.get(edit_url)
    assert form.context["form"].initial["amount"] == 840_000
    post = {"month": "11/2026", "remitted_on": "03/12/2026", "amount": "900.000", "receipt_number": "BL-0107"}
    bad = client.post(edit_url, post)
    assert bad.status_code == 200 and "vượt số còn phải nộp" in " ".join(bad.context["form"].errors["amount"])
    done = client.post(edit_url, {**post, "amount": "804.000"})
    assert done.status_code == 302 and done.url.endswith("?thang=11/2026")
    assert DuesRemittance.objects.get().amount == 804_000

    confirm = client.get(delete_url)
    assert confirm.status_code == 200 and "Xác nhận xóa" in confirm.content.decode()
    assert CellFundEntry.objects.filter(pk=entry.pk).exists()  # the GET deletes nothing
    gone = client.post(delete_url)
    assert gone.status_code == 302 and gone.url.endswith("?thang=11/2026")
    assert not CellFundEntry.objects.filter(pk=entry.pk).exists()
    page = client.get(reverse("books:books_dues_ledger", args=[office.cell.pk]), {"thang": "11/2026"})
    # 1,200,000 collected − 804,000 remitted, the fund receipt gone: 396,000.
    assert page.context["book_month"].closing == 396_000
    # A reader who does not keep the book sees no buttons.
    viewer_page = client_for(people.viewer).get(
        reverse("books:books_dues_ledger", args=[office.cell.pk]), {"thang": "11/2026"}
    )
    assert edit_url not in viewer_page.content.decode()
