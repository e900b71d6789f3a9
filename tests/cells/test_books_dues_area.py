"""HD 03-HD/VPTW: under QĐ 342-QĐ/TW (until 31/01/2026) the fixed dues depend on the cell's area.

Hand-worked (domain-research §7.1): 10,000 đ inner districts of centrally-run cities, 8,000 đ inner urban
class I–III, 4,000 đ mountain/remote/border/island, 6,000 đ elsewhere; past working age 50 % of that.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cells import dues, services
from cells.models import AuditEntry, DuesPayment, DuesRateRule, Member, Organisation

from ..factories import make_member

pytestmark = pytest.mark.django_db

D = datetime.date
Area = Organisation.DuesArea
OTHER, RETIRED = Member.DuesCategory.OTHER, Member.DuesCategory.RETIREMENT_AGE


def set_area(organisation, area):
    return services.organisation_update(organisation=organisation, dues_area=area)


def test_the_qd342_fixed_rows_are_area_rows_with_their_share():
    rows = DuesRateRule.objects.filter(kind=DuesRateRule.Kind.AREA).order_by("category")
    assert [(r.category, r.basis_points, r.effective_to) for r in rows] == [
        ("other", 10_000, D(2026, 1, 31)),
        ("retired_age", 5_000, D(2026, 1, 31)),
        ("student", 10_000, D(2026, 1, 31)),
    ]
    # QĐ 01's rows are untouched: none of them depends on the area.
    assert not DuesRateRule.objects.filter(kind=DuesRateRule.Kind.AREA, effective_from__gte=D(2026, 2, 1)).exists()


def test_a_mountain_cell_charges_4_000_and_2_000_for_december_2025_and_qd01_from_february(tree):
    set_area(tree.cell, Area.MOUNTAIN)
    fixed = make_member(organisation=tree.cell, dues_category=OTHER, dues_base=4_960_000)
    retired = make_member(organisation=tree.cell, dues_category=RETIRED, dues_base=4_960_000)
    december = D(2025, 12, 1)
    assert dues.assess(member=fixed, month=december).amount_due == 4_000
    assert dues.assess(member=retired, month=december).amount_due == 2_000  # 50 % of 4,000
    assert dues.assess(member=fixed, month=december).area == Area.MOUNTAIN
    # January 2026 is still QĐ 342; from 02/2026 QĐ 01 applies unchanged, whatever the area:
    # "other" 0.3 % of the base 4,960,000 = 14,880 đ; retirement age 0.2 % = 9,920 đ.
    assert dues.assess(member=fixed, month=D(2026, 1, 1)).amount_due == 4_000
    assert dues.assess(member=fixed, month=D(2026, 2, 1)).amount_due == 14_880
    assert dues.assess(member=retired, month=D(2026, 2, 1)).amount_due == 9_920
    assert dues.assess(member=fixed, month=D(2026, 2, 1)).area == ""


def test_a_cell_with_no_area_inherits_its_nearest_ancestors_else_the_khoi_default(tree):
    fixed = make_member(organisation=tree.cell, dues_category=OTHER)
    retired = make_member(organisation=tree.cell, dues_category=RETIRED)
    december = D(2025, 12, 1)
    # Nothing set anywhere: the Khối's default, inner urban class I–III, 8,000 đ (4,000 đ at 50 %).
    assert dues.dues_area_of(tree.cell) == Area.INNER_URBAN
    assert (
        dues.assess(member=fixed, month=december).amount_due,
        dues.assess(member=retired, month=december).amount_due,
    ) == (8_000, 4_000)
    set_area(tree.khoi, Area.ELSEWHERE)
    assert dues.assess(member=fixed, month=december).amount_due == 6_000
    set_area(tree.tccs, Area.MOUNTAIN)  # the nearest ancestor wins over the Khối
    assert dues.dues_area_of(Organisation.objects.get(pk=tree.cell.pk)) == Area.MOUNTAIN
    assert dues.dues_area_source(Organisation.objects.get(pk=tree.cell.pk)).pk == tree.tccs.pk
    assert dues.assess(member=fixed, month=december).amount_due == 4_000
    set_area(tree.cell, Area.INNER_CITY)  # the cell's own setting wins over both
    assert (
        dues.assess(member=fixed, month=december).amount_due,
        dues.assess(member=retired, month=december).amount_due,
    ) == (10_000, 5_000)
    # The sibling cell under the same đảng bộ still inherits the mountain area.
    sibling_member = make_member(organisation=tree.sibling, dues_category=OTHER)
    assert dues.assess(member=sibling_member, month=december).amount_due == 4_000


def test_the_book_line_takes_the_area_of_the_cell_it_is_written_in(tree, time_machine):
    time_machine.move_to(datetime.datetime(2026, 1, 10, 9, 0, tzinfo=timezone.get_current_timezone()), tick=False)
    set_area(tree.tccs, Area.MOUNTAIN)
    fixed = make_member(organisation=tree.cell, dues_category=OTHER)
    retired = make_member(organisation=tree.cell, dues_category=RETIRED)
    services.dues_month_open(organisation=tree.cell, month=D(2025, 12, 1))
    lines = {line.member_id: line for line in DuesPayment.objects.filter(organisation=tree.cell)}
    assert (lines[fixed.pk].amount_due, lines[retired.pk].amount_due) == (4_000, 2_000)
    assert lines[fixed.pk].rate_rule.rate_label == "Mức theo địa bàn"
    assert lines[retired.pk].rate_rule.rate_label == "50 % mức theo địa bàn"


def test_the_secretary_sets_the_cells_area_and_a_tccs_is_set_by_its_officer(client_for, people, tree):
    url = reverse("books:books_dues_area", args=[tree.cell.pk])
    client = client_for(people.secretary)
    page = client.get(url)
    assert page.status_code == 200 and "8.000 đ" in page.content.decode() and "HD 03-HD/VPTW" in page.content.decode()
    response = client.post(url, {"dues_area": "mountain"})
    assert response.status_code == 302
    assert Organisation.objects.get(pk=tree.cell.pk).dues_area == Area.MOUNTAIN
    audit = AuditEntry.objects.get(action="cells.organisation.update", object_id=str(tree.cell.pk))
    assert (audit.before, audit.after) == ({"dues_area": ""}, {"dues_area": "mountain"})
    assert "4.000 đ" in client.get(url).content.decode() and "2.000 đ" in client.get(url).content.decode()
    bad = client.post(url, {"dues_area": "sao_hoa"})
    assert bad.status_code == 200 and bad.context["form"].errors["dues_area"]
    # The cell's secretary keeps no books of the đảng bộ above; its officer does.
    tccs_url = reverse("books:books_dues_area", args=[tree.tccs.pk])
    assert client.post(tccs_url, {"dues_area": "elsewhere"}).status_code in (403, 404)
    officer = client_for(people.officer)
    assert officer.post(tccs_url, {"dues_area": "elsewhere"}).status_code == 302
    assert Organisation.objects.get(pk=tree.tccs.pk).dues_area == Area.ELSEWHERE
