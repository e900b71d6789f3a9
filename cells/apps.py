from axes import apps as axes_apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CellsConfig(AppConfig):
    name = "cells"
    verbose_name = _("Tổ chức đảng và đảng viên")

    def ready(self):
        from .audit import register_cells

        register_cells()


class AxesConfig(axes_apps.AppConfig):
    """django-axes (login throttling) under a Vietnamese name in the admin; axes itself names no app."""

    default = False  # not the cells app's own config
    verbose_name = _("Chống dò mật khẩu")
