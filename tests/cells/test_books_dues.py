"""Party dues: the rate rules on hand-worked cases, the book of a month, arrears and the 3-month alert."""

import datetime
import io
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from cells import dues, selectors, services
from cells.models import AuditEntry, DuesPayment, DuesRelief, Member, Organisation

from ..factories import make_member

pytestmark = pytest.mark.django_db

D = datetime.date
SALARIED, PENSIONER, STUDENT = Member.DuesCategory.SALARIED, Member.DuesCategory.PENSIONER, Member.DuesCategory.STUDENT


def due(member, month):
    return dues.assess(member=member, month=month)


# --- rate rules ----------------------------------------------------------------------------


def test_salaried_member_owes_one_percent_under_qd01(tree):
    member = make_member(organisation=tree.cell, dues_category=SALARIED, dues_base=6_000_000)
    assessment = due(member, D(2026, 3, 1))
    assert assessment.amount_due == 60_000
    assert "01-QĐ/TW" in assessment.rule.source


def test_a_member_past_working_age_without_bhxh_pays_by_the_rule_of_the_month(tree):
    # QĐ 342 (until 31/01/2026): 50 % of the others' fixed 8.000 đ = 4.000 đ. QĐ 01: 0,2 % of the regional
    # minimum wage until 2027 (4.960.000 đ × 0,2 % = 9.920 đ), 0,3 % from 2028 (14.880 đ); the base is the
    # regional minimum wage the cell enters (domain-research §7.1, §7.2).
    member = make_member(organisation=tree.cell, dues_category=Member.DuesCategory.RETIREMENT_AGE, dues_base=4_960_000)
    assert due(member, D(2026, 1, 1)).amount_due == 4_000
    assert due(member, D(2026, 2, 1)).amount_due == 9_920
    assert due(member, D(2027, 12, 1)).amount_due == 9_920
    assert due(member, D(2028, 1, 1)).amount_due == 14_880
    assert "01-QĐ/TW" in due(member, D(2028, 1, 1)).rule.source


def test_pensioner_owes_half_a_percent(tree):
    member = make_member(organisation=tree.cell, dues_category=PENSIONER, dues_base=5_000_000)
    assert due(member, D(2026, 3, 1)).amount_due == 25_000


def test_student_owes_five_thousand(tree):
    member = make_member(organisation=tree.cell, dues_category=STUDENT, dues_base=0)
    assert due(member, D(2026, 3, 1)).amount_due == 5_000


def test_same_members_in_january_2026_fall_under_qd342(tree):
    # QĐ 342-QĐ/TW: 1 % of salary and allowances, 0.5 % of a pension; students a fixed amount
    # (HD 03-HD/VPTW: 8,000 đ in the inner towns of class I–III).
    salaried = make_member(organisation=tree.cell, dues_category=SALARIED, dues_base=6_000_000)
    pensioner = make_member(organisation=tree.cell, dues_category=PENSIONER, dues_base=5_000_000)
    student = make_member(organisation=tree.cell, dues_category=STUDENT)
    january = D(2026, 1, 1)
    assert due(salaried, january).amount_due == 60_000
    assert "342-QĐ/TW" in due(salaried, january).rule.source
    assert due(pensioner, january).amount_due == 25_000
    assert due(student, january).amount_due == 8_000


def test_rule_changes_on_the_first_of_february_2026(tree):
    student = make_member(organisation=tree.cell, dues_category=STUDENT)
    assert due(student, D(2026, 1, 1)).amount_due == 8_000
    assert due(student, D(2026, 2, 1)).amount_due == 5_000


def test_percentages_round_to_the_nearest_dong():
    assert dues.percent_of(1_234_567, 50) == 6_173  # 6,172.835
    assert dues.percent_of(1_234_500, 100) == 12_345
    assert dues.percent_of(50, 100) == 1  # 0.5 đ rounds up


def test_fifty_years_of_party_age_exempts_from_the_anniversary_month(tree):
    member = make_member(
        organisation=tree.cell,
        dues_category=SALARIED,
        dues_base=6_000_000,
        date_of_birth=D(1950, 1, 1),
        admission_decision_date=D(1976, 3, 10),
        full_membership_date=D(1977, 3, 10),
    )
    assert due(member, D(2026, 2, 1)).amount_due == 60_000
    march = due(member, D(2026, 3, 1))
    assert march.amount_due == 0 and "50 năm" in march.adjustment


def test_reduction_on_application_and_its_twelve_month_cap(tree, people):
    member = make_member(organisation=tree.cell, dues_category=SALARIED, dues_base=6_000_000)
    services.dues_relief_grant(
        member=member,
        kind=DuesRelief.Kind.REDUCE,
        reduction_percent=50,
        start=D(2026, 3, 1),
        end=D(2026, 8, 1),
        reason="Hoàn cảnh khó khăn",
        by=people.secretary,
    )
    assert due(member, D(2026, 3, 1)).amount_due == 30_000
    assert due(member, D(2026, 9, 1)).amount_due == 60_000
    with pytest.raises(ValidationError) as error:
        services.dues_relief_grant(
            member=member,
            kind=DuesRelief.Kind.REDUCE,
            reduction_percent=30,
            start=D(2026, 1, 1),
            end=D(2027, 1, 1),
            reason="x",
        )
    assert "12 tháng" in str(error.value.message_dict["end"])


# --- the book of a month -------------------------------------------------------------------


@pytest.fixture
def book(tree, people):
    """Chi bộ Văn phòng with three members of three categories, March 2026 opened."""
    Member.objects.filter(pk=people.members["secretary"].pk).update(dues_category=SALARIED, dues_base=6_000_000)
    Member.objects.filter(pk=people.members["member"].pk).update(dues_category=PENSIONER, dues_base=5_000_000)
    student = make_member(organisation=tree.cell, full_name="Vũ Thị Sinh Viên", dues_category=STUDENT)
    lines = services.dues_month_open(organisation=tree.cell, month=D(2026, 3, 15), by=people.secretary)
    assert len(lines) == 3
    services.dues_payment_record(
        organisation=tree.cell,
        member=people.members["secretary"],
        month=D(2026, 3, 1),
        amount_paid=60_000,
        paid_on=D(2026, 3, 10),
        method="cash",
        by=people.secretary,
    )
    services.dues_payment_record(
        organisation=tree.cell,
        member=student,
        month=D(2026, 3, 1),
        amount_paid=5_000,
        paid_on=D(2026, 3, 12),
        method="transfer",
        by=people.secretary,
    )
    return type("Book", (), {"cell": tree.cell, "student": student, "month": D(2026, 3, 1)})


def test_ledger_totals(book):
    totals = selectors.dues_totals(selectors.dues_ledger(cell=book.cell, month=book.month))
    assert totals == {"lines": 3, "base": 11_000_000, "due": 90_000, "paid": 65_000, "paid_lines": 2, "arrears": 25_000}


def test_opening_a_month_twice_adds_nobody_and_audits_each_line(book, people):
    assert services.dues_month_open(organisation=book.cell, month=book.month, by=people.secretary) == []
    assert AuditEntry.objects.filter(action="cells.dues.open").count() == 3
    assert AuditEntry.objects.filter(action="cells.dues.record").count() == 2


def test_payment_above_due_needs_a_note(book, people):
    member = people.members["member"]
    with pytest.raises(ValidationError) as error:
        services.dues_payment_record(
            organisation=book.cell,
            member=member,
            month=book.month,
            amount_paid=50_000,
            paid_on=D(2026, 3, 5),
            method="cash",
            by=people.secretary,
        )
    assert "ghi chú" in error.value.message_dict["amount_paid"][0]
    assert DuesPayment.objects.get(member=member, month=book.month).amount_paid == 0
    services.dues_payment_record(
        organisation=book.cell,
        member=member,
        month=book.month,
        amount_paid=50_000,
        paid_on=D(2026, 3, 5),
        method="cash",
        note="Tự nguyện nộp cao hơn",
        by=people.secretary,
    )
    assert DuesPayment.objects.get(member=member, month=book.month).amount_paid == 50_000


def test_payment_for_a_month_outside_the_cell_is_refused(tree, people):
    newcomer = services.member_create(organisation=tree.cell, joined_on=D(2026, 5, 1), full_name="Mới Chuyển Đến")
    with pytest.raises(ValidationError) as error:
        services.dues_payment_record(
            organisation=tree.cell, member=newcomer, month=D(2026, 4, 1), amount_paid=0, by=people.secretary
        )
    assert "không sinh hoạt ở chi bộ" in error.value.message_dict["month"][0]
    with pytest.raises(ValidationError):
        services.dues_payment_record(
            organisation=tree.cell,
            member=people.members["sibling"],
            month=D(2026, 4, 1),
            amount_paid=0,
            by=people.secretary,
        )
    assert not DuesPayment.objects.exists()


def test_negative_amount_and_future_month_are_refused(tree, people):
    member = people.members["member"]
    with pytest.raises(ValidationError) as error:
        services.dues_payment_record(
            organisation=tree.cell, member=member, month=D(2026, 3, 1), amount_paid=-1, by=people.secretary
        )
    assert error.value.message_dict["amount_paid"] == ["Số tiền không được âm."]
    with pytest.raises(ValidationError) as error:
        services.dues_payment_record(
            organisation=tree.cell, member=member, month=D(2099, 1, 1), amount_paid=0, by=people.secretary
        )
    assert "chưa đến" in error.value.message_dict["month"][0]
    assert not DuesPayment.objects.exists()


def test_transferred_member_keeps_old_lines_in_the_old_cell(book, people, tree):
    member = people.members["member"]
    services.member_transfer(member=member, to=tree.sibling, on=D(2026, 4, 15), by=people.officer)
    services.dues_month_open(organisation=tree.sibling, month=D(2026, 5, 1), by=people.officer)
    assert DuesPayment.objects.get(member=member, month=D(2026, 3, 1)).organisation == tree.cell
    assert DuesPayment.objects.get(member=member, month=D(2026, 5, 1)).organisation == tree.sibling
    # April: in both cells for part of the month; the first book to record it keeps it.
    services.dues_month_open(organisation=tree.cell, month=D(2026, 4, 1), by=people.secretary)
    with pytest.raises(ValidationError) as error:
        services.dues_payment_record(
            organisation=tree.sibling, member=member, month=D(2026, 4, 1), amount_paid=0, by=people.officer
        )
    assert "Chi bộ Văn phòng" in error.value.message_dict["month"][0]


# --- arrears and the 3-unpaid-months alert -------------------------------------------------


def _line(member, cell, month, due_amount, paid):
    rule = dues.rule_in_force(category=member.dues_category, month=month)
    return DuesPayment.objects.create(
        member=member, organisation=cell, month=month, base=0, rate_rule=rule, amount_due=due_amount, amount_paid=paid
    )


def test_three_unpaid_months_in_a_year_raise_the_alert(tree, people):
    cell = tree.cell
    three = make_member(organisation=cell, full_name="Ba Tháng Nợ")
    two = make_member(organisation=cell, full_name="Hai Tháng Nợ")
    split = make_member(organisation=cell, full_name="Nợ Hai Năm")
    partial = make_member(organisation=cell, full_name="Nộp Thiếu")
    for month in (1, 2, 3, 4, 5):
        _line(three, cell, D(2026, month, 1), 60_000, 0 if month in (1, 3, 5) else 60_000)
        _line(two, cell, D(2026, month, 1), 60_000, 0 if month in (2, 4) else 60_000)
        _line(partial, cell, D(2026, month, 1), 60_000, 30_000 if month <= 3 else 60_000)
    _line(split, cell, D(2025, 12, 1), 60_000, 0)
    _line(split, cell, D(2026, 1, 1), 60_000, 0)
    _line(split, cell, D(2026, 2, 1), 60_000, 0)
    # An exempt month (nothing due) is never unpaid.
    _line(two, cell, D(2026, 6, 1), 0, 0)

    alerted = selectors.members_with_unpaid_months(organisations=Organisation.objects.filter(pk=cell.pk), year=2026)
    assert {(m.full_name, m.unpaid_months, m.unpaid_amount) for m in alerted} == {
        ("Ba Tháng Nợ", 3, 180_000),
        ("Nộp Thiếu", 3, 90_000),
    }
    assert not selectors.members_with_unpaid_months(
        organisations=Organisation.objects.filter(pk=tree.other.pk), year=2026
    ).exists()
    assert [
        m.full_name
        for m in selectors.members_with_unpaid_months(
            organisations=Organisation.objects.filter(path__startswith=tree.khoi.path), year=2025, threshold=1
        )
    ] == ["Nợ Hai Năm"]
    # The warning's count is the length of that list, for every scope, year and threshold.
    for organisations, year, threshold in (
        (Organisation.objects.filter(pk=cell.pk), 2026, 3),
        (Organisation.objects.filter(pk=cell.pk), 2026, 2),
        (Organisation.objects.filter(path__startswith=tree.khoi.path), 2025, 1),
        (Organisation.objects.filter(pk=tree.other.pk), 2026, 3),
    ):
        listed = selectors.members_with_unpaid_months(organisations=organisations, year=year, threshold=threshold)
        assert selectors.count_members_with_unpaid_months(
            organisations=organisations, year=year, threshold=threshold
        ) == len(list(listed))


def test_alert_counts_only_the_books_of_the_given_organisations(tree, people):
    """A member who moved: two unpaid months in one cell's book and one in another's."""
    moved = make_member(organisation=tree.sibling, full_name="Chuyển Chi Bộ")
    for month, cell in ((1, tree.cell), (2, tree.cell), (3, tree.sibling)):
        _line(moved, cell, D(2026, month, 1), 50_000, 10_000)
    both = Organisation.objects.filter(pk__in=[tree.cell.pk, tree.sibling.pk])
    assert [
        (m.full_name, m.unpaid_months, m.unpaid_amount, m.organisation.name)
        for m in selectors.members_with_unpaid_months(organisations=both, year=2026)
    ] == [("Chuyển Chi Bộ", 3, 120_000, "Chi bộ Kế toán")]
    assert not selectors.members_with_unpaid_months(
        organisations=Organisation.objects.filter(pk=tree.cell.pk), year=2026
    ).exists()
    assert [
        (m.unpaid_months, m.unpaid_amount)
        for m in selectors.members_with_unpaid_months(
            organisations=Organisation.objects.filter(pk=tree.cell.pk), year=2026, threshold=2
        )
    ] == [(2, 80_000)]


def test_alert_is_one_query(tree, people, django_assert_num_queries):
    organisations = Organisation.objects.filter(pk=tree.cell.pk)
    with django_assert_num_queries(1):
        list(selectors.members_with_unpaid_months(organisations=organisations, year=2026))


# --- seeding helper for demo data ----------------------------------------------------------


def test_bulk_create_makes_one_line_per_member_month_and_skips_existing(tree, people):
    Member.objects.update(dues_base=6_000_000)
    members = list(Member.objects.filter(pk__in=[people.members[k].pk for k in ("secretary", "member", "other")]))
    months = [D(2026, m, 1) for m in range(1, 7)]
    created = dues.dues_payments_bulk_create(members=members, months=months, paid_share=0.5)
    assert len(created) == 18
    assert {line.organisation_id for line in created if line.member_id == people.members["other"].pk} == {tree.other.pk}
    assert DuesPayment.objects.filter(amount_paid=0).exists() and DuesPayment.objects.filter(amount_paid__gt=0).exists()
    assert dues.dues_payments_bulk_create(members=members, months=months) == []


# --- views ---------------------------------------------------------------------------------


def test_secretary_sees_the_ledger_with_money_formatted(client_for, people, book):
    page = client_for(people.secretary).get(
        reverse("books:books_dues_ledger", args=[book.cell.pk]), {"thang": "03/2026"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "90.000 đ" in html and "65.000 đ" in html and "Vũ Thị Sinh Viên" in html


def test_secretary_records_a_payment_through_the_form(client_for, people, book):
    client = client_for(people.secretary)
    url = reverse("books:books_dues_record", args=[book.cell.pk])
    response = client.post(
        url,
        {
            "member": people.members["member"].pk,
            "month": "03/2026",
            "amount_paid": "25.000",
            "paid_on": "20/03/2026",
            "method": "cash",
        },
    )
    assert response.status_code == 302
    line = DuesPayment.objects.get(member=people.members["member"], month=book.month)
    assert (line.amount_paid, line.paid_on) == (25_000, D(2026, 3, 20))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount_paid": "-5000"}, "amount_paid", "Số tiền không được âm."),
        ({"amount_paid": "99.000"}, "amount_paid", "ghi rõ lý do"),
        ({"month": "01/2019"}, "month", "không sinh hoạt ở chi bộ"),
        ({"month": "13/2026"}, "month", "tháng/năm"),
    ],
)
def test_bad_payments_are_shown_next_to_the_field_and_write_nothing(client_for, people, book, data, field, message):
    client = client_for(people.secretary)
    before = list(DuesPayment.objects.values_list("pk", "amount_paid"))
    post = {
        "member": people.members["member"].pk,
        "month": "03/2026",
        "amount_paid": "25.000",
        "paid_on": "20/03/2026",
        "method": "cash",
        **data,
    }
    response = client.post(reverse("books:books_dues_record", args=[book.cell.pk]), post)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert list(DuesPayment.objects.values_list("pk", "amount_paid")) == before


def test_month_open_through_the_page(client_for, people, tree):
    response = client_for(people.secretary).post(
        reverse("books:books_dues_open", args=[tree.cell.pk]), {"thang": "02/2026"}
    )
    assert response.status_code == 302
    assert DuesPayment.objects.filter(organisation=tree.cell, month=D(2026, 2, 1)).count() == 2


def test_member_sees_own_history_only(client_for, people, book):
    client = client_for(people.member)
    own = client.get(reverse("books:books_member_dues", args=[people.members["member"].pk]))
    assert own.status_code == 200 and "25.000 đ" in own.content.decode()
    assert client.get(reverse("books:books_member_dues", args=[people.members["secretary"].pk])).status_code == 404
    assert client.get(reverse("books:books_dues_ledger", args=[book.cell.pk])).status_code == 404


def test_arrears_page_over_a_subtree(client_for, people, tree):
    member = people.members["sibling"]
    for month in (1, 2, 3):
        _line(member, tree.sibling, D(2026, month, 1), 60_000, 0)
    page = client_for(people.officer).get(reverse("books:books_dues_arrears", args=[tree.tccs.pk]), {"nam": "2026"})
    assert "Phạm Văn Kế Toán" in page.content.decode() and "180.000 đ" in page.content.decode()


# --- the ledger as PDF and XLSX ------------------------------------------------------------


def test_ledger_pdf_has_the_cell_name_and_totals(client_for, people, book, tmp_path, pdftotext_available):
    response = client_for(people.secretary).get(
        reverse("books:books_dues_pdf", args=[book.cell.pk]), {"thang": "03/2026"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "so.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Chi bộ Văn phòng" in text or "CHI BỘ VĂN PHÒNG" in text.upper()
    assert "SỔ THEO DÕI THU, CHI ĐẢNG PHÍ, KINH PHÍ HOẠT ĐỘNG CỦA CHI BỘ" in text and "Tháng 03/2026" in text
    assert "90.000 đ" in text and "65.000 đ" in text and "25.000 đ" in text
    assert "Vũ Thị Sinh Viên" in text


def test_ledger_xlsx_has_the_rows_and_totals(client_for, people, book):
    response = client_for(people.secretary).get(
        reverse("books:books_dues_xlsx", args=[book.cell.pk]), {"thang": "03/2026"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "Chi bộ Văn phòng"
    by_name = {row[1]: row for row in rows if row and row[1]}
    assert by_name["Trần Thị Bí Thư"][2:6] == [6_000_000, "1 %", 60_000, 60_000]
    assert by_name["Lê Văn Đảng Viên"][4:6] == [25_000, 0]
    assert by_name["Vũ Thị Sinh Viên"][3] == "5.000 đ"
    assert by_name["Cộng"][4:6] == [90_000, 65_000]
