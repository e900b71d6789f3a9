"""Spreadsheet exports keep text that looks like a formula as text (CSV/Excel formula injection)."""

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cells import services
from cells.models import Member

from ..factories import make_member

pytestmark = pytest.mark.django_db
HOSTILE_NAME = '=HYPERLINK("http://example.invalid/x","Bấm vào đây")'


def test_the_dues_ledger_xlsx_keeps_a_formula_like_name_and_note_as_text(client_for, tree, people):
    member = make_member(
        organisation=tree.cell, full_name=HOSTILE_NAME, dues_category=Member.DuesCategory.SALARIED, dues_base=5_000_000
    )
    services.dues_month_open(organisation=tree.cell, month=datetime.date(2026, 3, 15), by=people.secretary)
    services.dues_payment_record(
        organisation=tree.cell,
        member=member,
        month=datetime.date(2026, 3, 1),
        amount_paid=50_000,
        paid_on=datetime.date(2026, 3, 10),
        method="cash",
        note="=1+1",
        by=people.secretary,
    )
    response = client_for(people.secretary).get(
        reverse("books:books_dues_xlsx", args=[tree.cell.pk]), {"thang": "03/2026"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value in (HOSTILE_NAME, "=1+1")]
    assert len(cells) == 2
    assert all(cell.data_type == "s" for cell in cells)  # not "f": Excel shows the text, runs nothing
