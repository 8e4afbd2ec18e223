from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from jobs.registry import job_kind_register

        from . import jobs
        from .views.worklists import EXPORT_WORKLIST

        job_kind_register(EXPORT_WORKLIST, jobs.export_worklist_run)
