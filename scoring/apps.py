from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("Chấm điểm và xếp loại")

    def ready(self):
        from .audit import register_scoring

        register_scoring()
        # Connects the receivers; registers the shipped measures (scoring/measures.py).
        from . import facts, signals  # noqa: F401
