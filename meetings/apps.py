from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Sinh hoạt chi bộ")

    def ready(self):
        from .audit import register_meetings

        register_meetings()
        from . import receivers  # noqa: F401 - connects the receivers of cells.signals
