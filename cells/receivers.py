"""What the cells app does when Django signs a user in or out: note the session for "Phiên đăng nhập"."""

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from lib.client_address import client_address

from . import services
from .models import UserSession
from .selectors import totp_device_of

# Session keys of the sign-in state (cells.middleware reads them).
SESSION_SEEN = "portal_seen_at"
SESSION_ENROLLED = "portal_second_factor_enrolled"


@receiver(user_logged_in, dispatch_uid="cells.record_session_on_login")
def record_session_on_login(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        session.save()
    services.user_session_record(
        user=user,
        session_key=session.session_key,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        ip_address=client_address(request) or None,
    )
    session[SESSION_SEEN] = time.time()
    session[SESSION_ENROLLED] = totp_device_of(user) is not None


@receiver(user_logged_out, dispatch_uid="cells.forget_session_on_logout")
def forget_session_on_logout(sender, request, user, **kwargs):
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()
