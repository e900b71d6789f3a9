"""Login throttling: three limits instead of one, on the client's real address (issue #21).

django-axes counted failures per (username, address) only. Behind the TLS proxy every client had the
proxy's address, so five wrong passwords typed by anyone locked that account for everyone, and one
address could try four passwords on every account in turn, every cooling period. Now
(``settings.AXES_LOCKOUT_PARAMETERS`` and the limits below, all counted over the cooling period):

- account + address (``AXES_FAILURE_LIMIT``, 5): the usual guard; it locks only the address that typed
  them, so an attacker elsewhere cannot lock the real user out;
- account, from every address (``LOGIN_USERNAME_FAILURE_LIMIT``, 10): guessing one account from many
  addresses; the lock is short (the cooling period) and failures typed while it holds are not counted
  (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False``), so it lifts by itself at the time the
  page says and nobody can keep it on for good by knocking now and then;
- address, across accounts (``LOGIN_ADDRESS_FAILURE_LIMIT``, 20): one address trying a few passwords on
  many accounts ("password spraying"). A whole office behind one NAT address shares it, so it is set
  well above what its people mistype in a quarter of an hour.

A successful login clears only the failures of that account at that address (``reset_user_attempts``):
logging into one's own account must not wipe the count of an address that has been trying others.
Officer accounts also need the second factor (``cells.selectors.SECOND_FACTOR_REQUIRED_ROLES``), so a
guessed password alone opens nothing there.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render


def failure_limits() -> list[int]:
    """The limit of each entry of ``settings.AXES_LOCKOUT_PARAMETERS``, in the same order."""
    by_parameter = {
        ("ip_address", "username"): settings.AXES_FAILURE_LIMIT,
        ("username",): settings.LOGIN_USERNAME_FAILURE_LIMIT,
        ("ip_address",): settings.LOGIN_ADDRESS_FAILURE_LIMIT,
    }
    return [by_parameter[tuple(sorted([p] if isinstance(p, str) else p))] for p in settings.AXES_LOCKOUT_PARAMETERS]


class LoginThrottleHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        """Axes compares this with one limit (``AXES_FAILURE_LIMIT``): answer at least that when any of the
        three counts has reached its own limit, otherwise the count of the account at this address."""
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        if any(count >= limit for count, limit in zip(counts, failure_limits(), strict=True)):
            return max(settings.AXES_FAILURE_LIMIT, counts[0])
        return counts[0]

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()
        return count


def lockout_response(request, original_response=None, credentials=None):
    """The Vietnamese lock page, saying when the lock lifts by itself."""
    minutes = int(get_cool_off(request).total_seconds() // 60)
    return render(
        request, settings.AXES_LOCKOUT_TEMPLATE, {"minutes": minutes}, status=settings.AXES_HTTP_RESPONSE_CODE
    )
