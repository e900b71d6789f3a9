"""One pager for every long list (issue #15): ``?trang=``, "Trang 2/5", the list's filters kept on both links."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cells import services as cell_services
from meetings.models import Meeting
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_the_member_list_pages_and_keeps_its_filters(client_for, tree, people):
    for n in range(55):
        make_member(organisation=tree.cell, full_name=f"Hà Văn {n:02d}")
    client = client_for(people.officer)
    first = client.get(reverse("cells:member_list"), {"q": "Hà Văn", "status": "chinh_thuc"})
    body = first.content.decode()
    assert first.context["page"].paginator.count == 55 and len(first.context["page"].object_list) == 50
    assert "Trang 1/2" in body
    assert "q=H%C3%A0+V%C4%83n&amp;status=chinh_thuc&amp;trang=2" in body
    second = client.get(reverse("cells:member_list"), {"q": "Hà Văn", "status": "chinh_thuc", "trang": 2})
    assert len(second.context["page"].object_list) == 5 and "Trang 2/2" in second.content.decode()
    assert "status=chinh_thuc&amp;trang=1" in second.content.decode()  # back to the first page, still filtered
    names = {m.full_name for m in first.context["page"].object_list} | {
        m.full_name for m in second.context["page"].object_list
    }
    assert len(names) == 55


def test_a_bad_page_number_shows_the_first_page(client_for, tree, people):
    for n in range(51):
        make_member(organisation=tree.cell, full_name=f"Hà Văn {n:02d}")
    response = client_for(people.officer).get(reverse("cells:member_list"), {"trang": "abc"})
    assert response.status_code == 200 and response.context["page"].number == 1


def test_the_inbox_pages_with_the_shared_pager(client_for, people):
    member = people.members["member"]
    for n in range(31):
        cell_services.notification_send(members=[member], kind="test", subject=f"Thông báo {n:02d}", body="Nội dung")
    client = client_for(people.member)
    body = client.get(reverse("inbox:inbox")).content.decode()
    assert "Trang 1/2" in body and 'href="?trang=2"' in body
    assert len(client.get(reverse("inbox:inbox"), {"trang": 2}).context["page"].object_list) == 1


def test_a_cell_s_meetings_are_paged_newest_first(client_for, tree, people, django_assert_max_num_queries):
    meetings = []
    for n in range(53):
        month = datetime.date(2020 + n // 12, n % 12 + 1, 1)
        start = timezone.make_aware(datetime.datetime(month.year, month.month, 10, 14))
        meetings.append(
            Meeting(
                organisation=tree.cell,
                period_month=month,
                planned_start=start,
                planned_end=start + datetime.timedelta(hours=2),
                state=Meeting.State.HELD,
            )
        )
    Meeting.objects.bulk_create(meetings)
    client = client_for(people.secretary)
    url = reverse("meetings:cell_list", args=[tree.cell.pk])
    with django_assert_max_num_queries(20):
        first = client.get(url)
    assert [m.period_month for m in first.context["meetings"]][:1] == [datetime.date(2024, 5, 1)]
    assert len(first.context["meetings"]) == 50 and "Trang 1/2" in first.content.decode()
    with django_assert_max_num_queries(20):
        second = client.get(url, {"trang": 2})
    assert [m.period_month for m in second.context["meetings"]] == [
        datetime.date(2020, 3, 1),
        datetime.date(2020, 2, 1),
        datetime.date(2020, 1, 1),
    ]


def test_the_organisation_tree_is_paged_in_tree_order(client_for, tree, people):
    from cells.views import TREE_PAGE_SIZE
    from tests.factories import make_organisation

    for n in range(TREE_PAGE_SIZE):
        make_organisation(parent=tree.tccs, name=f"Chi bộ {n:03d}")
    client = client_for(people.admin)
    first = client.get(reverse("cells:organisation_tree"))
    assert first.context["organisations"][0] == tree.khoi and "Trang 1/2" in first.content.decode()
    second = client.get(reverse("cells:organisation_tree"), {"trang": 2})
    assert len(second.context["organisations"]) == 5  # Khối, 2 TCCS, 2 + 100 cells: 105 rows
