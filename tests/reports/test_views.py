"""The dashboard pages: who sees what, drill-down links, XLSX exports, and a bounded number of queries."""

import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cells.models import Organisation, Role
from meetings.models import Meeting

from ..factories import UserFactory, grant, make_member, make_organisation
from .conftest import add_meeting


def dashboard_url(organisation, **query):
    url = reverse("reports:dashboard", args=[organisation.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_admin_sees_the_khoi_dashboard_with_hand_counted_figures(client_for, khoi):
    response = client_for(khoi.users["admin"]).get(dashboard_url(khoi.khoi, year=2026))
    assert response.status_code == 200
    page = response.content.decode()
    assert "93,1 % (67/72)" in page  # cell-months with a regular meeting
    assert "69,2 % (27/39)" in page  # commitments
    assert "Đảng bộ A" in page and "Chi bộ C" in page


def test_home_and_index_lead_khoi_staff_to_their_dashboard(client_for, khoi):
    client = client_for(khoi.users["officer_a"])
    assert client.get(reverse("home")).url == reverse("reports:index")
    assert client.get(reverse("reports:index")).url == reverse("reports:dashboard", args=[khoi.a.pk])


def test_every_number_on_the_dashboard_links_to_a_working_list(client_for, khoi):
    client = client_for(khoi.users["admin"])
    page = client.get(dashboard_url(khoi.khoi, year=2026)).content.decode()
    links = {href.replace("&amp;", "&") for href in re.findall(r'href="(/bao-cao/\d+/chi-tiet/[^"]+)"', page)}
    assert len(links) > 50
    for link in links:
        assert client.get(link).status_code == 200, link


def test_grid_cells_show_their_figure_and_link_to_their_rows(client_for, khoi):
    page = client_for(khoi.users["admin"]).get(dashboard_url(khoi.khoi, year=2026)).content.decode()
    drill = reverse("reports:drill", args=[khoi.khoi.pk, "regular"])
    # By organisation: A held its regular meeting in 33 of 36 cell-months, 91.7 % shown rounded.
    assert re.search(
        rf'<td class="not-met"><a class="text-reset" href="{drill}\?nam=2026&amp;org={khoi.a.pk}" '
        r'title="[^"]*">92%</a></td>',
        page,
    )
    # Heat map: A in March, 2 of its 3 cells held it (A2 cancelled): under 80 %, marked red.
    assert re.search(
        rf'<td class="s-missing" title="2/3 chi bộ đã sinh hoạt"><a href="{drill}\?nam=2026&amp;thang=3'
        rf'&amp;org={khoi.a.pk}">2/3</a>',
        page,
    )
    # A TCCS links to its own dashboard, a chi bộ cơ sở (itself a cell) to its meetings.
    assert f'href="{reverse("reports:dashboard", args=[khoi.a.pk])}?nam=2026">Đảng bộ A</a>' in page
    assert f'href="{reverse("meetings:cell_list", args=[khoi.c.pk])}">Chi bộ C</a>' in page


def test_drill_down_shows_the_cells_behind_a_figure(client_for, khoi):
    url = reverse("reports:drill", args=[khoi.khoi.pk, "regular"]) + f"?year=2026&org={khoi.a.pk}"
    page = client_for(khoi.users["admin"]).get(url).content.decode()
    assert "Chi bộ A3" in page and "Chi bộ B1" not in page


def test_tccs_officer_sees_only_their_subtree(client_for, khoi):
    client = client_for(khoi.users["officer_a"])
    page = client.get(dashboard_url(khoi.a, year=2026)).content.decode()
    assert "91,7 % (33/36)" in page
    assert "Chi bộ B1" not in page
    assert client.get(dashboard_url(khoi.b)).status_code == 404
    assert client.get(dashboard_url(khoi.khoi)).status_code == 404
    # A drill-down of their own dashboard cannot reach into another subtree.
    url = reverse("reports:drill", args=[khoi.a.pk, "regular"]) + f"?org={khoi.b.pk}"
    assert client.get(url).status_code == 404
    assert client.get(reverse("reports:drill", args=[khoi.b.pk, "regular"])).status_code == 404


def test_committee_viewer_reads_the_khoi_dashboard(client_for, khoi):
    assert client_for(khoi.users["viewer"]).get(dashboard_url(khoi.khoi)).status_code == 200


@pytest.mark.parametrize("username", ["member", "secretary"])
def test_cell_users_get_403(client_for, khoi, username):
    client = client_for(khoi.users[username])
    assert client.get(dashboard_url(khoi.a)).status_code == 403
    assert client.get(reverse("reports:index")).status_code == 403
    assert client.get(reverse("reports:drill", args=[khoi.a.pk, "regular"])).status_code == 403


def test_anonymous_is_sent_to_login(client, khoi):
    for url in (dashboard_url(khoi.khoi), reverse("reports:index"), reverse("reports:runs", args=[khoi.khoi.pk])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response.url


def test_a_cell_has_no_dashboard(client_for, khoi):
    assert client_for(khoi.users["admin"]).get(dashboard_url(khoi.cells["A1"])).status_code == 404


def test_dashboard_tables_export_to_xlsx(client_for, khoi):
    response = client_for(khoi.users["admin"]).get(dashboard_url(khoi.khoi, year=2026, format="xlsx"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "Chỉ tiêu",
        "Theo tổ chức trực thuộc",
        "Bản đồ sinh hoạt",
        "Chất lượng sinh hoạt",
        "Cảnh báo",
        "Cần quan tâm",
    ]
    values = [row for row in workbook["Chỉ tiêu"].iter_rows(values_only=True)]
    assert any(row[3] == "93,1 % (67/72)" and row[5] == "Chưa đạt" for row in values)
    heat = [row for row in workbook["Bản đồ sinh hoạt"].iter_rows(values_only=True)]
    assert heat[1][:4] == ("Đảng bộ A", "3/3", "3/3", "2/3")  # the Khối's map: TCCS × month
    tccs = client_for(khoi.users["admin"]).get(dashboard_url(khoi.a, year=2026, format="xlsx"))
    assert load_workbook(io.BytesIO(tccs.content))["Bản đồ sinh hoạt"].max_row == 4  # the TCCS's map: its cells


def test_drill_down_exports_the_whole_list_to_xlsx(client_for, khoi):
    url = reverse("reports:drill", args=[khoi.khoi.pk, "commitments"]) + "?year=2026&format=xlsx"
    workbook = load_workbook(io.BytesIO(client_for(khoi.users["admin"]).get(url).content))
    sheet = workbook.worksheets[0]
    assert sheet.max_row == 40  # header and 39 members (the exempt one is not counted)


def _small_khoi(size: int):
    khoi = make_organisation(kind=Organisation.Kind.KHOI, name="Khối đo truy vấn")
    for index in range(size):
        tccs = make_organisation(parent=khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name=f"Đảng bộ {index}")
        for number in range(2):
            cell = make_organisation(parent=tccs, name=f"Chi bộ {index}-{number}")
            members = [make_member(organisation=cell) for _ in range(3)]
            for month in (1, 2, 3):
                add_meeting(
                    cell,
                    month,
                    members=members,
                    guests=members[:1],
                    kind=Meeting.Kind.COMBINED if month == 2 else Meeting.Kind.REGULAR,
                )
    return khoi


@pytest.mark.django_db
def test_dashboard_queries_do_not_grow_with_the_khoi(client_for, django_assert_max_num_queries, time_machine):
    time_machine.move_to("2027-01-15 09:00 +07:00", tick=False)
    admin = UserFactory(username="dem-truy-van")
    small = _small_khoi(1)
    grant(admin, small, Role.KHOI_ADMIN)
    client = client_for(admin)
    with django_assert_max_num_queries(30) as small_run:
        assert client.get(dashboard_url(small, year=2026)).status_code == 200
    large = _small_khoi(6)
    grant(admin, large, Role.KHOI_ADMIN)
    with django_assert_max_num_queries(30) as large_run:
        assert client.get(dashboard_url(large, year=2026)).status_code == 200
    assert len(large_run.captured_queries) == len(small_run.captured_queries)


def test_bad_drill_parameters_answer_404(client_for, khoi):
    client = client_for(khoi.users["admin"])
    assert client.get(reverse("reports:drill", args=[khoi.khoi.pk, "nothing"])).status_code == 404
    assert client.get(reverse("reports:drill", args=[khoi.khoi.pk, "documents"]) + "?type=x").status_code == 404
    assert client.get(reverse("reports:drill", args=[khoi.khoi.pk, "regular"]) + "?org=abc").status_code == 404
    # A bad period falls back to this year rather than failing.
    assert client.get(dashboard_url(khoi.khoi, year="abc", month=13)).status_code == 200


@pytest.mark.parametrize(
    ("metric", "level"),
    [
        ("org_ratings", "\x00"),
        ("org_ratings", "htxsnv\x00"),
        ("member_ratings", "\x00"),
        ("quality", "tot\x00"),
        ("org_ratings", "nothing"),
        ("regular", "tot"),
    ],
)
def test_a_level_that_names_no_level_answers_404(client_for, khoi, metric, level):
    """A NUL byte in ``?level=`` answered 500 on PostgreSQL; a level the list does not know is a wrong address."""
    client = client_for(khoi.users["admin"])
    url = reverse("reports:drill", args=[khoi.khoi.pk, metric])
    assert client.get(url, {"year": 2026, "level": level}).status_code == 404
    assert client.get(url, {"year": 2026, "level": level, "format": "xlsx"}).status_code == 404


def test_the_levels_the_dashboard_links_to_still_answer(client_for, khoi):
    client = client_for(khoi.users["admin"])
    for metric, level in [
        ("org_ratings", "htxsnv"),
        ("member_ratings", "httnv"),
        ("quality", "tot"),
        ("quality", "chua_xac_nhan"),
    ]:
        url = reverse("reports:drill", args=[khoi.khoi.pk, metric])
        assert client.get(url, {"year": 2026, "level": level}).status_code == 200, (metric, level)
