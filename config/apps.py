from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """The Django admin with the portal's site: staff pass the second factor first (cells.admin_site)."""

    default_site = "cells.admin_site.PortalAdminSite"
