"""Every model of the project's apps can be found in the Django admin (registered, or inline)."""

from django.apps import apps
from django.contrib import admin


def test_every_project_model_is_in_the_admin():
    reachable = set(admin.site._registry)
    for model_admin in admin.site._registry.values():
        reachable.update(inline.model for inline in model_admin.inlines)
    missing = [
        model._meta.label
        for app in ("cells", "meetings", "scoring", "reports")
        for model in apps.get_app_config(app).get_models()
        if not model._meta.auto_created and model not in reachable
    ]
    assert missing == []
