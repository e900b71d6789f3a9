from axes import apps as axes_apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CellsConfig(AppConfig):
    name = "cells"
    verbose_name = _("Tổ chức đảng và đảng viên")

    def ready(self):
        from django.db.backends.signals import connection_created

        from lib.textsearch import register_sqlite_functions

        from . import receivers  # noqa: F401  (connects the sign-in receivers)
        from .audit import register_cells

        # The accent fold of the search (lib/textsearch.py) as an SQL function on SQLite connections.
        connection_created.connect(register_sqlite_functions, dispatch_uid="portal_fold")
        register_cells()


class AxesConfig(axes_apps.AppConfig):
    """django-axes (login throttling) under a Vietnamese name in the admin; axes itself names no app."""

    default = False  # not the cells app's own config
    verbose_name = _("Chống dò mật khẩu")
