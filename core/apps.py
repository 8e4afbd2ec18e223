from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared infrastructure: no models, only what it keeps in the database itself (core/migrations)."""

    name = "core"
    verbose_name = "core"
