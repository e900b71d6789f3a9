from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Báo cáo")

    def ready(self):
        from . import datacache, receivers
        from .audit import register_reports

        register_reports()
        receivers.connect()
        datacache.install()
