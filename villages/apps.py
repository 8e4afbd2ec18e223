from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class VillagesConfig(AppConfig):
    name = "villages"
    verbose_name = _("Regions")

    def ready(self) -> None:
        # The lowest of the project's apps: what every database connection is given (core.db).
        from core.db import timestamps_read_in_c

        connection_created.connect(timestamps_read_in_c, dispatch_uid="core.db.timestamps_read_in_c")
