"""Two-factor sign-in (issue #21): officers pass a second factor after the password before any page.

The codes are computed with django_otp.oath.totp from the device's key at a fixed time (time_machine),
as the user's authenticator app would.
"""

import base64
import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cells import services
from cells.models import AuditEntry, RecoveryCode, Role
from cells.selectors import SECOND_FACTOR_REQUIRED_ROLES, second_factor_required
from tests.factories import UserFactory, grant, totp_code, totp_device

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
MOMENT = datetime.datetime(2026, 2, 28, 23, 30, tzinfo=LOCAL)
# Pages an officer uses; with the password alone every one of them sends to the second factor.
OFFICER_PAGES = [
    "home",
    "cells:member_list",
    "cells:organisation_tree",
    "reports:index",
    "audit:audit_list",
    "inbox:inbox",
    "account:account",
    "account:sessions",
    "password_change",
    "meetings:index",
]


def wrong_code(device) -> str:
    """Six digits that no step the device accepts now (its tolerance is one step either side) would show."""
    import time

    from django_otp.oath import totp

    accepted = {f"{totp(device.bin_key, t0=-offset * device.step):06d}" for offset in (-1, 0, 1)}
    assert int(time.time())  # under time_machine: the same clock the device reads
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def log_in(client, username):
    response = client.post(reverse("login"), {"username": username, "password": "matkhau-123"})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def test_the_roles_that_must_have_it():
    assert SECOND_FACTOR_REQUIRED_ROLES == {Role.KHOI_ADMIN, Role.COMMITTEE_VIEWER, Role.TCCS_OFFICER}


def test_officer_with_password_alone_is_sent_to_enrolment_from_every_page(client, people, tree):
    log_in(client, "officer")
    setup = reverse("account:two_factor_setup")
    for name in OFFICER_PAGES:
        for method in ("get", "post"):
            response = getattr(client, method)(reverse(name))
            assert response.status_code == 302 and response.url.startswith(setup), (method, name, response)
    detail = client.get(reverse("cells:organisation_detail", args=[tree.cell.pk]))
    assert detail.url.startswith(setup)
    assert client.get("/quan-tri/").url.startswith(setup)
    page = client.get(setup)
    assert page.status_code == 200
    assert "Bật xác thực hai bước" in page.content.decode()
    # No menu to the rest of the portal while the second factor is missing.
    assert reverse("cells:member_list") not in page.content.decode()


def test_enrolment_shows_the_qr_code_and_the_grouped_secret_and_a_code_confirms_it(client, people):
    with time_machine.travel(MOMENT, tick=False):
        log_in(client, "officer")
        page = client.get(reverse("account:two_factor_setup")).content.decode()
        device = TOTPDevice.objects.get(user=people.officer, confirmed=False)
        secret = base64.b32encode(device.bin_key).decode()
        assert 'src="data:image/svg+xml' in page
        grouped = re.search(r'data-testid="secret">([^<]+)<', page).group(1)
        assert grouped.replace(" ", "") == secret and grouped.split(" ")[0] == secret[:4]
        # A reload shows the same secret (the app may already have scanned it).
        assert grouped in client.get(reverse("account:two_factor_setup")).content.decode()

        wrong = client.post(reverse("account:two_factor_setup"), {"token": wrong_code(device)})
        assert wrong.status_code == 200 and "Mã không đúng" in wrong.content.decode()
        device.refresh_from_db()
        assert not device.confirmed

    with time_machine.travel(MOMENT + datetime.timedelta(seconds=30), tick=False):
        answer = client.post(reverse("account:two_factor_setup"), {"token": totp_code(device)})
        body = answer.content.decode()
        codes = re.findall(r"<li>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</li>", body)
        assert answer.status_code == 200 and len(codes) == 10 and len(set(codes)) == 10
        device.refresh_from_db()
        assert device.confirmed
        # Stored hashed: no code is in the database in clear.
        stored = set(RecoveryCode.objects.filter(device__user=people.officer).values_list("code_hash", flat=True))
        assert len(stored) == 10
        assert not stored & {code.replace("-", "") for code in codes}
        assert stored == {RecoveryCode.digest(code) for code in codes}
        assert AuditEntry.objects.filter(action="cells.two_factor.enable", actor=people.officer).exists()
        # This session has passed the second factor: the officer reaches the dashboard.
        assert client.get(reverse("home")).url == reverse("reports:index")
        assert client.get(reverse("cells:member_list")).status_code == 200
        # The codes are shown once: the account page only counts them.
        account = client.get(reverse("account:account")).content.decode()
        assert "Còn 10 mã dự phòng" in account and codes[0] not in account


def test_enrolled_officer_must_give_the_code_a_wrong_one_is_refused_and_throttled(client, people):
    device = totp_device(people.officer)
    with time_machine.travel(MOMENT, tick=False):
        log_in(client, "officer")
        verify = reverse("two_factor_verify")
        for name in OFFICER_PAGES:
            response = client.get(reverse(name))
            assert response.status_code == 302 and response.url.startswith(verify), name
        assert client.get(reverse("account:two_factor_setup")).url.startswith(verify)  # no second enrolment

        right = totp_code(device)
        wrong = wrong_code(device)
        refused = client.post(verify, {"token": wrong})
        assert refused.status_code == 200 and "Mã không đúng" in refused.content.decode()
        # Throttled: even the right code waits after a failure (django-otp's back-off, 1 s after the first).
        throttled = client.post(verify, {"token": right})
        assert throttled.status_code == 200 and "Vui lòng đợi 1 giây" in throttled.content.decode()
        assert client.get(reverse("cells:member_list")).url.startswith(verify)
        refused_again = client.post(verify, {"token": wrong})  # still waiting: not even counted
        assert "Vui lòng đợi" in refused_again.content.decode()

    with time_machine.travel(MOMENT + datetime.timedelta(seconds=2), tick=False):
        client.post(verify, {"token": wrong})  # a second failure: now 2 s to wait
    with time_machine.travel(MOMENT + datetime.timedelta(seconds=3), tick=False):
        assert "Vui lòng đợi 1 giây" in client.post(verify, {"token": right}).content.decode()
    with time_machine.travel(MOMENT + datetime.timedelta(seconds=4), tick=False):
        answer = client.post(verify, {"token": right, "next": reverse("cells:member_list")})
        assert answer.status_code == 302 and answer.url == reverse("cells:member_list")
        assert client.get(reverse("cells:member_list")).status_code == 200


def test_a_used_code_cannot_be_replayed_in_another_session(client, people):
    device = totp_device(people.officer)
    with time_machine.travel(MOMENT, tick=False):
        code = totp_code(device)
        log_in(client, "officer")
        assert client.post(reverse("two_factor_verify"), {"token": code}).status_code == 302
        from django.test import Client

        other = log_in(Client(), "officer")
        again = other.post(reverse("two_factor_verify"), {"token": code})
        assert again.status_code == 200 and "Mã không đúng" in again.content.decode()


def test_a_recovery_code_works_once(client, people):
    with time_machine.travel(MOMENT, tick=False):
        services.two_factor_enrolment_start(user=people.officer)
        device = TOTPDevice.objects.get(user=people.officer)
        _device, codes = services.two_factor_enrolment_confirm(user=people.officer, token=totp_code(device))

        log_in(client, "officer")
        answer = client.post(reverse("two_factor_verify"), {"token": codes[3].lower()})
        assert answer.status_code == 302
        page = client.get(reverse("reports:index"), follow=True).content.decode()
        assert "còn 9 mã" in page
        client.post(reverse("logout"))

        log_in(client, "officer")
        used = client.post(reverse("two_factor_verify"), {"token": codes[3]})
        assert used.status_code == 200 and "Mã không đúng" in used.content.decode()
    with time_machine.travel(MOMENT + datetime.timedelta(seconds=5), tick=False):
        # Typed with spaces instead of hyphens, another code still works.
        assert client.post(reverse("two_factor_verify"), {"token": codes[4].replace("-", " ")}).status_code == 302
        assert RecoveryCode.objects.filter(device__user=people.officer).count() == 8


def test_new_recovery_codes_replace_the_old_ones(client_for, people):
    with time_machine.travel(MOMENT, tick=False):
        services.two_factor_enrolment_start(user=people.member)
        device = TOTPDevice.objects.get(user=people.member)
        _device, old = services.two_factor_enrolment_confirm(user=people.member, token=totp_code(device))
        new = services.recovery_codes_regenerate(user=people.member)
    assert not set(old) & set(new)
    hashes = set(RecoveryCode.objects.filter(device__user=people.member).values_list("code_hash", flat=True))
    assert hashes == {RecoveryCode.digest(code) for code in new}


def test_a_plain_member_is_not_forced_but_is_offered_it(client, people):
    log_in(client, "member")
    assert not second_factor_required(people.member)
    assert client.get(reverse("meetings:my_home")).status_code == 200
    account = client.get(reverse("account:account")).content.decode()
    assert "Chưa bật" in account and reverse("account:two_factor_setup") in account


def test_a_member_who_enrolled_gives_the_code_too_and_may_turn_it_off(client, people):
    device = totp_device(people.member)
    with time_machine.travel(MOMENT, tick=False):
        log_in(client, "member")
        assert client.get(reverse("meetings:my_home")).url.startswith(reverse("two_factor_verify"))
        assert client.post(reverse("two_factor_verify"), {"token": totp_code(device)}).status_code == 302
    with time_machine.travel(MOMENT + datetime.timedelta(seconds=60), tick=False):
        bad = client.post(reverse("account:two_factor_disable"), {"token": wrong_code(device)})
        assert bad.status_code == 200 and TOTPDevice.objects.filter(user=people.member).exists()
    with time_machine.travel(MOMENT + datetime.timedelta(seconds=90), tick=False):
        assert client.post(reverse("account:two_factor_disable"), {"token": totp_code(device)}).url == reverse(
            "account:account"
        )
        assert not TOTPDevice.objects.filter(user=people.member).exists()
        client.post(reverse("logout"))
        log_in(client, "member")
        assert client.get(reverse("meetings:my_home")).status_code == 200


def test_an_officer_cannot_turn_it_off(client_for, people):
    client = client_for(people.officer)
    assert client.post(reverse("account:two_factor_disable"), {"token": "123456"}).status_code == 403
    assert TOTPDevice.objects.filter(user=people.officer, confirmed=True).exists()


def test_the_admin_is_behind_the_second_factor(client, people):
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    assert second_factor_required(staff)  # staff, whatever their roles
    device = totp_device(staff)
    with time_machine.travel(MOMENT, tick=False):
        log_in(client, "staff")
        assert client.get("/quan-tri/").url.startswith(reverse("two_factor_verify"))
        assert client.get("/quan-tri/cells/member/").url.startswith(reverse("two_factor_verify"))
        client.post(reverse("two_factor_verify"), {"token": totp_code(device)})
        assert client.get("/quan-tri/").status_code == 200
    # And the admin site itself refuses a session that has not passed it (should the middleware be bypassed).
    request = RequestFactory().get("/quan-tri/")
    request.user = staff
    staff.is_verified = lambda: False
    assert not admin.site.has_permission(request)
    staff.is_verified = lambda: True
    assert admin.site.has_permission(request)


def test_a_role_granted_later_requires_it_at_the_next_page(client, people, tree):
    log_in(client, "secretary")
    assert client.get(reverse("cells:member_list")).status_code == 200
    grant(people.secretary, tree.tccs, Role.TCCS_OFFICER)
    assert client.get(reverse("cells:member_list")).url.startswith(reverse("account:two_factor_setup"))


def test_next_never_leads_off_site(client, people):
    device = totp_device(people.officer)
    with time_machine.travel(MOMENT, tick=False):
        log_in(client, "officer")
        answer = client.post(
            reverse("two_factor_verify"), {"token": totp_code(device), "next": "https://evil.example/"}
        )
        assert answer.url == reverse("home")
