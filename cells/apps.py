from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CellsConfig(AppConfig):
    name = "cells"
    verbose_name = _("Tổ chức đảng và đảng viên")

    def ready(self):
        from .audit import register_cells

        register_cells()
