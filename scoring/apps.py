from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("Chấm điểm và xếp loại")

    def ready(self):
        from .audit import register_scoring

        register_scoring()
        from . import signals  # noqa: F401 - connects the receivers
