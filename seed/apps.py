from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SeedConfig(AppConfig):
    """Demo and synthetic data with their commands (`load_demo`, `generate_synthetic`). It uses
    every app and no app uses it; it has no models."""

    name = "seed"
    verbose_name = _("Demo and synthetic data")
