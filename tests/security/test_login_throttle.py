"""Login throttling behind the TLS proxy (issue #21 finding; cells/throttle.py says the policy).

Each client reaches gunicorn through the proxy, so every request has REMOTE_ADDR 127.0.0.1 and the
client's address in the X-Forwarded-For entry the proxy appended, as in production
(TRUSTED_PROXY_COUNT=1).
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROXY = "127.0.0.1"
MOMENT = datetime.datetime(2026, 12, 31, 23, 50, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.fixture(autouse=True)
def behind_the_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_USERNAME_FAILURE_LIMIT = 10
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 20
    settings.AXES_COOLOFF_TIME = 0.25  # 15 minutes


def attempt(username, password, *, address, client=None):
    client = client or Client()
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address
    )


def signed_in(response):
    return response.status_code == 302 and response.url == reverse("home")


def test_five_wrong_passwords_from_one_client_do_not_lock_the_real_user_out(people):
    """The attack: before, the five failures of 203.0.113.5 locked 'secretary' for every client (one address)."""
    with time_machine.travel(MOMENT, tick=False):
        for _ in range(5):
            attempt("secretary", "doan-sai", address="203.0.113.5")
        assert attempt("secretary", "matkhau-123", address="203.0.113.5").status_code == 429
        assert signed_in(attempt("secretary", "matkhau-123", address="198.51.100.7"))


def test_one_address_cannot_spray_passwords_across_accounts(people):
    """The attack: before, one address could try four passwords on every account each cooling period."""
    users = [UserFactory(username=f"dangvien{n:02d}") for n in range(21)]
    with time_machine.travel(MOMENT, tick=False):
        for user in users[:19]:
            response = attempt(user.username, "123456a@", address="203.0.113.5")
            assert response.status_code == 200  # one wrong password each: no single account is near its limit
        assert attempt(users[19].username, "123456a@", address="203.0.113.5").status_code == 429  # the 20th
        locked = attempt(users[20].username, "matkhau-123", address="203.0.113.5")
        assert locked.status_code == 429
        assert "tạm dừng 15 phút" in locked.content.decode()
        # Other clients behind the same proxy are not affected.
        assert signed_in(attempt(users[20].username, "matkhau-123", address="198.51.100.7"))


def test_signing_into_ones_own_account_does_not_clear_the_addresss_count(people):
    with time_machine.travel(MOMENT, tick=False):
        accounts = [UserFactory(username=f"tk{n:02d}") for n in range(19)]
        for user in accounts:
            attempt(user.username, "sai-roi", address="203.0.113.5")
        assert signed_in(attempt("member", "matkhau-123", address="203.0.113.5"))  # the attacker's own account
        attempt(UserFactory(username="tk99").username, "sai-roi", address="203.0.113.5")  # the 20th failure
        assert attempt("secretary", "matkhau-123", address="203.0.113.5").status_code == 429


def test_guessing_one_account_from_many_addresses_locks_it_briefly_and_it_lifts_by_itself(people):
    with time_machine.travel(MOMENT, tick=False):
        for n in range(10):
            attempt("officer", "doan-sai", address=f"192.0.2.{n + 1}")
        locked = attempt("officer", "matkhau-123", address="198.51.100.7")
        assert locked.status_code == 429
        assert "tự mở lại" in locked.content.decode()
    # The attacker keeps knocking during the lock: that does not extend it.
    with time_machine.travel(MOMENT + datetime.timedelta(minutes=10), tick=False):
        for n in range(5):
            assert attempt("officer", "doan-sai", address=f"192.0.2.{n + 50}").status_code == 429
    with time_machine.travel(MOMENT + datetime.timedelta(minutes=15, seconds=1), tick=False):
        assert signed_in(attempt("officer", "matkhau-123", address="198.51.100.7"))


def test_a_users_own_typos_are_forgiven_by_a_right_password(people):
    with time_machine.travel(MOMENT, tick=False):
        for _ in range(4):
            attempt("member", "sai", address="198.51.100.7")
        assert signed_in(attempt("member", "matkhau-123", address="198.51.100.7"))
        for _ in range(4):
            attempt("member", "sai", address="198.51.100.7")
        assert signed_in(attempt("member", "matkhau-123", address="198.51.100.7"))


def test_a_forged_forwarded_address_does_not_escape_the_limit(people):
    """The client may write X-Forwarded-For itself; the proxy appends the real address after it."""
    with time_machine.travel(MOMENT, tick=False):
        for n in range(5):
            attempt("secretary", "doan-sai", address=f"10.0.0.{n}, 203.0.113.5")
        assert attempt("secretary", "matkhau-123", address="10.0.0.77, 203.0.113.5").status_code == 429
