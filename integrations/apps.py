from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """What other systems read to stay in sync: the change feed (and, next, its webhooks)."""

    name = "integrations"
    verbose_name = "Integrations"
