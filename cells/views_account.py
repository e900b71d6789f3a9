"""The user's own account: the second factor (enrolment, the code after the password, recovery codes)
and the sessions they are signed in with (issue #21). Everything here is the signed-in user's own."""

import base64

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from lib.forms import add_service_errors
from lib.user_agent import describe

from . import selectors, services
from .forms import SecondFactorForm
from .models import RecoveryCodeDevice
from .receivers import SESSION_ENROLLED


def second_factor_exempt(view):
    """The page opens between the password and the second factor (cells.middleware.SecondFactorMiddleware)."""
    view.second_factor_exempt = True
    return view


def _next_url(request, default="home"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse(default)


def _grouped(text: str, size: int = 4) -> str:
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


@second_factor_exempt
def two_factor_verify(request):
    """The second step of signing in: the app's code, or a recovery code."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    if selectors.totp_device_of(request.user) is None and not selectors.recovery_codes_left(request.user):
        request.session[SESSION_ENROLLED] = False  # the devices were removed: enrolment decides now
        return redirect(_next_url(request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.second_factor_verify(user=request.user, token=form.cleaned_data["token"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            otp_login(request, device)
            if isinstance(device, RecoveryCodeDevice):
                left = selectors.recovery_codes_left(request.user)
                messages.warning(
                    request,
                    _(
                        "Bạn đã dùng một mã dự phòng; còn %(left)s mã. Nếu mất điện thoại, hãy tạo "
                        "mã dự phòng mới và bật lại xác thực hai bước trên trang Tài khoản."
                    )
                    % {"left": left},
                )
            return redirect(_next_url(request))
    return render(request, "cells/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@second_factor_exempt
def two_factor_setup(request):
    """Enrolment: the QR code and the secret for the app, then the first code confirms it."""
    if selectors.totp_device_of(request.user) is not None:
        if not request.user.is_verified():
            return redirect_to_login(_next_url(request), reverse("two_factor_verify"))
        messages.info(request, _("Xác thực hai bước đã được bật cho tài khoản này."))
        return redirect("account:account")
    device = services.two_factor_enrolment_start(user=request.user)
    form = SecondFactorForm(request.POST or None, digits_only=True)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.two_factor_enrolment_confirm(user=request.user, token=form.cleaned_data["token"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            otp_login(request, device)
            request.session[SESSION_ENROLLED] = True
            # Sessions opened before with the password alone would not be asked for the code: end them.
            services.user_sessions_end_others(user=request.user, keep_session_key=request.session.session_key)
            messages.success(request, _("Đã bật xác thực hai bước. Các phiên đăng nhập khác đã được đăng xuất."))
            return render(request, "cells/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "cells/two_factor_setup.html",
        {
            "form": form,
            "qr_data_uri": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2),
            "secret": _grouped(secret),
            "required": selectors.second_factor_required(request.user),
            "next": _next_url(request),
        },
    )


@require_POST
def recovery_codes_regenerate(request):
    try:
        codes = services.recovery_codes_regenerate(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("account:account")
    messages.success(request, _("Đã tạo 10 mã dự phòng mới; các mã cũ không còn dùng được."))
    return render(request, "cells/recovery_codes.html", {"codes": codes, "next": reverse("account:account")})


@require_POST
def two_factor_disable(request):
    if selectors.second_factor_required(request.user):
        raise PermissionDenied(_("Vai trò của bạn bắt buộc xác thực hai bước: không thể tắt."))
    form = SecondFactorForm(request.POST, digits_only=True)
    if form.is_valid():
        try:
            services.two_factor_disable(user=request.user, token=form.cleaned_data["token"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            request.session[SESSION_ENROLLED] = False
            messages.success(request, _("Đã tắt xác thực hai bước."))
            return redirect("account:account")
    return _account_page(request, disable_form=form)


def _account_page(request, *, disable_form=None):
    device = selectors.totp_device_of(request.user)
    return render(
        request,
        "cells/account.html",
        {
            "device": device,
            "required": selectors.second_factor_required(request.user),
            "recovery_codes_left": selectors.recovery_codes_left(request.user) if device else 0,
            "disable_form": disable_form or SecondFactorForm(digits_only=True),
            "session_count": selectors.user_sessions_of(request.user).count(),
        },
    )


def account(request):
    return _account_page(request)


def sessions(request):
    """ "Phiên đăng nhập": where the user is signed in now."""
    rows = []
    for user_session in selectors.user_sessions_of(request.user):
        browser, system = describe(user_session.user_agent)
        rows.append(
            {
                "session": user_session,
                "browser": browser,
                "system": system,
                "current": user_session.session_key == request.session.session_key,
            }
        )
    return render(request, "cells/sessions.html", {"rows": rows})


@require_POST
def sessions_end_others(request):
    ended = services.user_sessions_end_others(user=request.user, keep_session_key=request.session.session_key)
    messages.success(request, _("Đã đăng xuất khỏi %(count)s phiên khác. Phiên này vẫn đăng nhập.") % {"count": ended})
    return redirect("account:sessions")
