"""Forgotten passwords ("Quên mật khẩu"): Django's own reset views, in Vietnamese, throttled.

The request page never says whether an address has an account: it answers the same "check your
mail" page either way, and its limits count requests per client address and per e-mail address
whether or not the address exists (``settings.PASSWORD_RESET_RATE_LIMIT``). The link in the mail is
Django's signed token: it works once (it hashes the password and the last login, which the reset
changes) and for ``settings.PASSWORD_RESET_TIMEOUT`` seconds. Its address is built from
``settings.SITE_URL``, never from the request's Host header.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from lib import ratelimit

from .forms import PortalPasswordResetForm, PortalSetPasswordForm


def _limited(request, email: str) -> bool:
    per_address, per_email, window = settings.PASSWORD_RESET_RATE_LIMIT
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()  # no address kept in the cache in clear
    by_client = ratelimit.hit(f"pwreset:ip:{request.META.get('REMOTE_ADDR', '')}", limit=per_address, window=window)
    by_email = ratelimit.hit(f"pwreset:email:{digest}", limit=per_email, window=window)
    return by_client or by_email


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PortalPasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")
    title = _("Quên mật khẩu")

    def get_extra_email_context(self):
        return {"site_url": settings.SITE_URL, "hours": settings.PASSWORD_RESET_TIMEOUT // 3600}

    def form_valid(self, form):
        if _limited(self.request, form.cleaned_data["email"]):
            form.add_error(
                None,
                _("Đã có quá nhiều yêu cầu đặt lại mật khẩu. Vui lòng thử lại sau %(minutes)s phút.")
                % {"minutes": settings.PASSWORD_RESET_RATE_LIMIT[2] // 60},
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        self.extra_email_context = self.get_extra_email_context()
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"
    title = _("Đã gửi hướng dẫn")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = PortalSetPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    title = _("Đặt mật khẩu mới")

    def form_valid(self, form):
        response = super().form_valid(form)
        # A person locked out after failed logins (django-axes) may log in with the new password at once.
        from axes.utils import reset

        reset(username=form.user.get_username())
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
    title = _("Đã đặt mật khẩu mới")
