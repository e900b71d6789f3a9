from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data and the cross-app commands (``seed_demo``, ``backup``, ``restore``): the top layer.

    No models; it may import every app, and no app imports it.
    """

    name = "demo"
