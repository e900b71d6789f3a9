"""Issue 15 item 7: "Quên mật khẩu" by e-mail with Django's own views, in Vietnamese, throttled, and
never saying whether an address has an account; the favicon."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RESET = reverse("password_reset")
START = datetime.datetime(2026, 3, 31, 16, 30, tzinfo=datetime.UTC)  # 23:30 in Asia/Ho_Chi_Minh


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def account(db):
    user = UserFactory(username="bithu", email="bi.thu@duk.example.com", first_name="Thư", last_name="Trần Thị Bí")
    user.set_password("mat-khau-cu-2026")
    user.save()
    return user


def _link(message) -> str:
    found = re.search(r"https?://[^\s]+/dat-lai-mat-khau/[^\s]+/", message.body)
    assert found, message.body
    return found.group(0)


def _path(link: str, settings) -> str:
    assert link.startswith(settings.SITE_URL)  # built from SITE_URL, not from the Host header
    return link[len(settings.SITE_URL) :]


def test_the_login_page_links_to_the_reset(client):
    assert f'href="{RESET}"' in client.get(reverse("login")).content.decode()


def test_reset_end_to_end_the_link_works_once(client, account, settings):
    settings.SITE_URL = "https://cong.duk.example.vn"
    with time_machine.travel(START, tick=False):
        response = client.post(RESET, {"email": "BI.THU@duk.example.com"})
        assert response.status_code == 302 and response.url == reverse("password_reset_done")
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["bi.thu@duk.example.com"]
        assert message.subject == "Đặt lại mật khẩu — Cổng sinh hoạt chi bộ"
        assert "Tên đăng nhập: bithu" in message.body and "trong 2 giờ" in message.body
        assert "testserver" not in message.body
        path = _path(_link(message), settings)

        # The link leads to the form (Django moves the token into the session and out of the address).
        form_page = client.get(path, follow=True)
        assert form_page.status_code == 200 and form_page.context["validlink"]
        set_password_url = form_page.redirect_chain[-1][0]
        mismatch = client.post(
            set_password_url, {"new_password1": "Chi-bo-van-phong-2026", "new_password2": "khac-hoan-toan"}
        )
        assert "Hai lần nhập mật khẩu mới không giống nhau." in mismatch.content.decode()
        done = client.post(
            set_password_url, {"new_password1": "Chi-bo-van-phong-2026", "new_password2": "Chi-bo-van-phong-2026"}
        )
        assert done.status_code == 302 and done.url == reverse("password_reset_complete")
    account.refresh_from_db()
    assert account.check_password("Chi-bo-van-phong-2026")
    response = client.post(reverse("login"), {"username": "bithu", "password": "Chi-bo-van-phong-2026"})
    assert response.status_code == 302 and response.url == reverse("home")
    # The same link a second time: refused, with a way forward.
    client.logout()
    again = client.get(path, follow=True)
    assert not again.context["validlink"]
    page = again.content.decode()
    assert "Liên kết đặt lại mật khẩu không còn dùng được" in page and f'href="{RESET}"' in page


def test_an_expired_link_is_refused(client, account, settings):
    with time_machine.travel(START, tick=False):
        client.post(RESET, {"email": account.email})
    path = _path(_link(mail.outbox[0]), settings)
    with time_machine.travel(START + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 60), tick=False):
        assert client.get(path, follow=True).context["validlink"]
    client.cookies.clear()
    with time_machine.travel(START + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60), tick=False):
        assert not client.get(path, follow=True).context["validlink"]
    account.refresh_from_db()
    assert account.check_password("mat-khau-cu-2026")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, account):
    known = client.post(RESET, {"email": account.email})
    unknown = client.post(RESET, {"email": "khong.co@duk.example.com"})
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert len(mail.outbox) == 1


def test_throttled_per_email_address_whether_or_not_it_exists(client, account, settings):
    per_address, per_email, window = settings.PASSWORD_RESET_RATE_LIMIT
    for address in (account.email, "khong.co@duk.example.com"):
        for _ in range(per_email):
            assert client.post(RESET, {"email": address}).status_code == 302
        refused = client.post(RESET, {"email": address.upper()})
        assert refused.status_code == 429
        assert "Đã có quá nhiều yêu cầu đặt lại mật khẩu" in refused.content.decode()
    assert len(mail.outbox) == per_email  # only the real account's first requests were sent
    # The next window: allowed again (the cache's expiry reads the travelled clock).
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=window + 1)):
        assert client.post(RESET, {"email": account.email}).status_code == 302


def test_throttled_per_client_address(client, settings):
    per_address, _per_email, _window = settings.PASSWORD_RESET_RATE_LIMIT
    for n in range(per_address):
        assert client.post(RESET, {"email": f"nguoi{n}@duk.example.com"}, REMOTE_ADDR="10.0.0.7").status_code == 302
    assert client.post(RESET, {"email": "them@duk.example.com"}, REMOTE_ADDR="10.0.0.7").status_code == 429
    assert client.post(RESET, {"email": "them@duk.example.com"}, REMOTE_ADDR="10.0.0.8").status_code == 302


def test_a_bad_address_is_refused_in_vietnamese(client):
    page = client.post(RESET, {"email": "khong-phai-dia-chi"}).content.decode()
    assert "Địa chỉ thư điện tử không hợp lệ" in page
    assert "Nhập địa chỉ thư điện tử." in client.post(RESET, {"email": ""}).content.decode()
    assert not mail.outbox


def test_a_reset_lifts_a_login_lockout(client, account, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "bithu", "password": "sai"})
    assert AccessAttempt.objects.filter(username="bithu").exists()
    client.post(RESET, {"email": account.email})
    form_page = client.get(_path(_link(mail.outbox[0]), settings), follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Chi-bo-van-phong-2026", "new_password2": "Chi-bo-van-phong-2026"},
    )
    assert not AccessAttempt.objects.filter(username="bithu").exists()
    response = client.post(reverse("login"), {"username": "bithu", "password": "Chi-bo-van-phong-2026"})
    assert response.status_code == 302 and response.url == reverse("home")


def test_favicon_is_served_at_the_root_as_an_image(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/")
    assert b"".join(response)[:4] == b"\x00\x00\x01\x00"  # the ICO header
    assert "public" in response["Cache-Control"]


def test_every_page_links_the_icon(client):
    page = client.get(reverse("login")).content.decode()
    assert re.search(r'<link rel="icon" href="/static/favicon[^"]*\.ico"', page)
