"""The four access cases for every view of the cells app: allowed, anonymous, other tenant, read-only."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_redirected_to_login_from_every_page(client, people):
    member = people.members["member"]
    for url in [
        reverse("home"),
        reverse("cells:organisation_tree"),
        reverse("cells:organisation_detail", args=[member.organisation_id]),
        reverse("cells:member_list"),
        reverse("cells:member_detail", args=[member.pk]),
        reverse("cells:member_create"),
        reverse("cells:member_update", args=[member.pk]),
        reverse("cells:member_transfer", args=[member.pk]),
        reverse("cells:member_exempt", args=[member.pk]),
        reverse("password_change"),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_login_page_is_public_and_vietnamese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Đăng nhập" in response.content.decode()


@pytest.mark.parametrize("viewer", ["admin", "viewer", "officer", "secretary", "clerk"])
def test_readers_see_the_cell_page(client_for, people, tree, viewer):
    response = client_for(getattr(people, viewer)).get(reverse("cells:organisation_detail", args=[tree.cell.pk]))
    assert response.status_code == 200
    assert "Lê Văn Đảng Viên" in response.content.decode()


def test_secretary_of_other_cell_gets_404_for_cell_page_and_member(client_for, people, tree):
    client = client_for(people.other_secretary)
    assert client.get(reverse("cells:organisation_detail", args=[tree.cell.pk])).status_code == 404
    assert client.get(reverse("cells:member_detail", args=[people.members["member"].pk])).status_code == 404
    assert client.get(reverse("cells:member_update", args=[people.members["member"].pk])).status_code == 404


def test_secretary_does_not_see_sibling_cell(client_for, people, tree):
    client = client_for(people.secretary)
    assert client.get(reverse("cells:organisation_detail", args=[tree.sibling.pk])).status_code == 404
    assert client.get(reverse("cells:member_detail", args=[people.members["sibling"].pk])).status_code == 404


def test_officer_sees_own_subtree_only(client_for, people, tree):
    client = client_for(people.officer)
    assert client.get(reverse("cells:organisation_detail", args=[tree.sibling.pk])).status_code == 200
    assert client.get(reverse("cells:organisation_detail", args=[tree.other.pk])).status_code == 404
    page = client.get(reverse("cells:member_list")).content.decode()
    assert "Phạm Văn Kế Toán" in page and "Lê Văn Đảng Viên" in page
    assert "Hoàng Thị Điện Lực" not in page


def test_khoi_admin_sees_everything(client_for, people, tree):
    page = client_for(people.admin).get(reverse("cells:member_list")).content.decode()
    for name in ["Phạm Văn Kế Toán", "Lê Văn Đảng Viên", "Hoàng Thị Điện Lực"]:
        assert name in page


def test_secretary_member_list_shows_only_own_cell(client_for, people):
    page = client_for(people.secretary).get(reverse("cells:member_list")).content.decode()
    assert "Lê Văn Đảng Viên" in page
    assert "Phạm Văn Kế Toán" not in page and "Hoàng Thị Điện Lực" not in page


@pytest.mark.parametrize("reader", ["viewer", "secretary", "clerk"])
@pytest.mark.parametrize("route", ["cells:member_update", "cells:member_transfer", "cells:member_exempt"])
def test_read_only_users_get_403_on_member_writes(client_for, people, reader, route):
    client = client_for(getattr(people, reader))
    url = reverse(route, args=[people.members["member"].pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


@pytest.mark.parametrize("reader", ["viewer", "secretary", "clerk", "member"])
def test_read_only_users_get_403_on_member_create(client_for, people, reader):
    assert client_for(getattr(people, reader)).get(reverse("cells:member_create")).status_code == 403


def test_member_sees_own_profile_only(client_for, people, tree):
    client = client_for(people.member)
    response = client.get(reverse("home"))
    # The member starts on their own home (issue #15), which links their profile.
    assert response.status_code == 302 and response.url == reverse("meetings:my_home")
    assert client.get(response.url).status_code == 200
    assert client.get(reverse("cells:member_detail", args=[people.members["member"].pk])).status_code == 200
    assert client.get(reverse("cells:member_detail", args=[people.members["secretary"].pk])).status_code == 404
    assert client.get(reverse("cells:organisation_detail", args=[tree.cell.pk])).status_code == 404
    assert client.get(reverse("cells:member_list")).status_code == 403
    assert client.get(reverse("cells:organisation_tree")).status_code == 403
    assert client.get(reverse("cells:member_update", args=[people.members["member"].pk])).status_code == 403


@pytest.mark.parametrize("writer", ["admin", "officer"])
def test_managers_may_open_member_forms(client_for, people, writer):
    client = client_for(getattr(people, writer))
    for route in ["cells:member_update", "cells:member_transfer", "cells:member_exempt"]:
        assert client.get(reverse(route, args=[people.members["member"].pk])).status_code == 200
    assert client.get(reverse("cells:member_create")).status_code == 200


def test_officer_gets_404_writing_outside_subtree(client_for, people):
    client = client_for(people.officer)
    assert client.post(reverse("cells:member_update", args=[people.members["other"].pk]), {}).status_code == 404


def test_organisation_tree_counts_members_of_the_subtree(client_for, people, tree):
    response = client_for(people.admin).get(reverse("cells:organisation_tree"))
    rows = {o.pk: o for o in response.context["organisations"]}
    assert rows[tree.khoi.pk].member_count == 4
    assert rows[tree.tccs.pk].member_count == 3
    assert rows[tree.cell.pk].member_count == 2
    assert rows[tree.other.pk].member_count == 1


def test_organisation_tree_query_count_does_not_grow_with_rows(client_for, people, django_assert_max_num_queries):
    client = client_for(people.admin)
    with django_assert_max_num_queries(8):
        client.get(reverse("cells:organisation_tree"))


def test_member_list_query_count_is_bounded(client_for, people, django_assert_max_num_queries):
    client = client_for(people.admin)
    with django_assert_max_num_queries(10):
        client.get(reverse("cells:member_list"))
