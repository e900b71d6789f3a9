"""Login, logout, password change in Vietnamese; repeated failed logins are throttled (django-axes)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_secretary_logs_in_and_lands_on_their_cell(client, people, tree):
    response = client.post(reverse("login"), {"username": "secretary", "password": "matkhau-123"})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).url == reverse("meetings:cell_home", args=[tree.cell.pk])


def test_officer_lands_on_the_dashboard(client_for, people):
    assert client_for(people.officer).get(reverse("home")).url == reverse("reports:index")


def test_wrong_password_message_is_vietnamese(client, people):
    response = client.post(reverse("login"), {"username": "secretary", "password": "sai"})
    assert response.status_code == 200
    assert "mật khẩu chính xác" in response.content.decode()


def test_login_is_locked_after_five_failures(client, people, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(5):
        client.post(reverse("login"), {"username": "secretary", "password": "sai"}, REMOTE_ADDR="10.0.0.9")
    response = client.post(
        reverse("login"), {"username": "secretary", "password": "matkhau-123"}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 429
    assert "tạm thời bị khóa" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_needs_post_and_ends_the_session(client_for, people):
    client = client_for(people.secretary)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("cells:organisation_tree")).status_code == 302


def test_password_change(client_for, people):
    client = client_for(people.secretary)
    assert "Đổi mật khẩu" in client.get(reverse("password_change")).content.decode()
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "matkhau-123",
            "new_password1": "Chibo-Moi-2026!",
            "new_password2": "Chibo-Moi-2026!",
        },
    )
    assert response.status_code == 302
    people.secretary.refresh_from_db()
    assert people.secretary.check_password("Chibo-Moi-2026!")


def test_admin_requires_staff(client_for, people):
    assert client_for(people.secretary).get("/quan-tri/").status_code == 302


def test_vietnamese_by_default_even_for_an_english_browser(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Đăng nhập" in response.content.decode() and response["Content-Language"] == "vi"


def test_english_when_the_user_chooses_it(client_for, people):
    client = client_for(people.admin)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("cells:member_list")).content.decode()
    assert "Party member" in page
