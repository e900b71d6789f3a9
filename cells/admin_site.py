"""The Django admin, behind the same door as the portal: the portal's login page, then the second factor."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class PortalAdminSite(admin.AdminSite):
    site_header = _("Quản trị hệ thống — Cổng sinh hoạt chi bộ")
    site_title = _("Quản trị hệ thống")

    def has_permission(self, request):
        """Staff who have passed the second factor in this session (staff must have it: cells.selectors)."""
        is_verified = getattr(request.user, "is_verified", None)
        return super().has_permission(request) and bool(is_verified and is_verified())

    def login(self, request, extra_context=None):
        """No second way in: the admin's own password form would skip neither the throttle nor the code,
        but it is one more page to keep right; the portal's login sends staff on to the second factor."""
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("login"))
