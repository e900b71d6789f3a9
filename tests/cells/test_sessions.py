""" "Phiên đăng nhập": the user's open sessions, and "Đăng xuất khỏi mọi nơi" (issue #21)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from cells.models import AuditEntry, UserSession
from lib.client_address import client_address
from lib.user_agent import describe

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
COCCOC_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) coc_coc_browser/137.0.260 "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


def log_in(username, *, user_agent, address, client=None):
    client = client or Client()
    response = client.post(
        reverse("login"),
        {"username": username, "password": "matkhau-123"},
        HTTP_USER_AGENT=user_agent,
        REMOTE_ADDR=address,
    )
    assert response.status_code == 302
    return client


def test_the_user_agent_reads_as_a_device():
    assert describe(CHROME_WINDOWS) == ("Chrome", "Windows")
    assert describe(SAFARI_IPHONE) == ("Safari", "iPhone")
    assert describe(COCCOC_ANDROID) == ("Cốc Cốc", "Android")
    assert describe("") == (None, None)


def test_the_list_shows_device_address_and_local_times(people):
    # 23:30 on 29/02/2028 in Vietnam is 16:30 UTC: the page shows the local day and time.
    signed_in = datetime.datetime(2028, 2, 29, 23, 30, tzinfo=LOCAL)
    with time_machine.travel(signed_in, tick=False):
        phone = log_in("member", user_agent=SAFARI_IPHONE, address="198.51.100.7")
    with time_machine.travel(signed_in + datetime.timedelta(minutes=45), tick=False):
        phone.get(reverse("meetings:my_home"), HTTP_USER_AGENT=SAFARI_IPHONE, REMOTE_ADDR="198.51.100.8")
        office = log_in("member", user_agent=CHROME_WINDOWS, address="203.0.113.20")
        page = office.get(reverse("account:sessions"), HTTP_USER_AGENT=CHROME_WINDOWS, REMOTE_ADDR="203.0.113.20")
    body = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    assert "Safari trên iPhone" in body and "Chrome trên Windows" in body
    assert "198.51.100.8" in body  # the address it was last used from
    assert "29/02/2028 23:30" in body  # the phone's sign-in
    assert "01/03/2028 00:15" in body  # its last use, and the office sign-in, past midnight
    assert body.index("Chrome trên Windows") < body.index("Safari trên iPhone")  # most recent first
    assert "Phiên này" in body


def test_the_list_shows_only_the_users_own_open_sessions(people, django_assert_max_num_queries):
    clients = [log_in("member", user_agent=CHROME_WINDOWS, address=f"203.0.113.{n}") for n in range(1, 6)]
    log_in("secretary", user_agent=SAFARI_IPHONE, address="198.51.100.9")
    clients[1].post(reverse("logout"))
    with django_assert_max_num_queries(12):
        body = clients[0].get(reverse("account:sessions")).content.decode()
    assert body.count("Chrome trên Windows") == 4
    assert "Safari trên iPhone" not in body and "198.51.100.9" not in body


def test_sign_out_everywhere_ends_every_other_session(people):
    here = log_in("member", user_agent=CHROME_WINDOWS, address="203.0.113.20")
    there = log_in("member", user_agent=SAFARI_IPHONE, address="198.51.100.7")
    colleague = log_in("secretary", user_agent=SAFARI_IPHONE, address="198.51.100.9")
    assert there.get(reverse("meetings:my_home")).status_code == 200

    answer = here.post(reverse("account:sessions_end_others"))
    assert answer.status_code == 302 and answer.url == reverse("account:sessions")
    assert "Đã đăng xuất khỏi 1 phiên khác" in here.get(reverse("account:sessions")).content.decode()

    gone = there.get(reverse("meetings:my_home"))
    assert gone.status_code == 302 and gone.url.startswith(reverse("login"))
    assert here.get(reverse("meetings:my_home")).status_code == 200
    assert colleague.get(reverse("inbox:inbox")).status_code == 200  # another user's session stays
    assert UserSession.objects.filter(user=people.member).count() == 1
    assert AuditEntry.objects.filter(action="cells.session.end_others", actor=people.member).exists()


def test_the_address_behind_the_proxy_is_the_one_it_appended(settings, rf):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forged an entry; the proxy appended the address it really saw.
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5")
    assert client_address(request) == "203.0.113.5"
    assert client_address(rf.get("/", REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"  # not through the proxy
    assert client_address(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="nonsense")) == "127.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "127.0.0.1"  # no proxy configured: the header is the client's, ignored


def test_turning_on_the_second_factor_ends_the_sessions_opened_with_the_password_alone(people):
    import time_machine as tm
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import totp_code

    with tm.travel(datetime.datetime(2026, 12, 31, 23, 59, 50, tzinfo=LOCAL), tick=False):
        old = log_in("member", user_agent=SAFARI_IPHONE, address="198.51.100.7")
        here = log_in("member", user_agent=CHROME_WINDOWS, address="203.0.113.20")
        here.get(reverse("account:two_factor_setup"))
        device = TOTPDevice.objects.get(user=people.member, confirmed=False)
        assert here.post(reverse("account:two_factor_setup"), {"token": totp_code(device)}).status_code == 200
        assert old.get(reverse("meetings:my_home")).url.startswith(reverse("login"))
        assert here.get(reverse("meetings:my_home")).status_code == 200
