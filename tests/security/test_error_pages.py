"""The 403 and 404 answers are pages in Vietnamese inside the portal's layout, not Django's bare English."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_another_cells_member_answers_404_with_a_vietnamese_page(client_for, people):
    other = people.members["sibling"]  # a member of a cell the secretary does not lead
    response = client_for(people.secretary).get(reverse("cells:member_detail", args=[other.pk]))
    assert response.status_code == 404
    page = response.content.decode()
    assert "Không tìm thấy trang" in page and "Về trang chủ" in page
    assert "Not Found" not in page and 'class="navbar' in page


def test_a_read_only_role_answers_403_with_a_vietnamese_page(client_for, people):
    # The member may open the portal but not the form that adds a member.
    response = client_for(people.member).get(reverse("cells:member_create"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Không có quyền thực hiện" in page and "Forbidden" not in page
