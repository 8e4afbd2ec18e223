from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = _("Apparatus and enrollment")

    def ready(self) -> None:
        from jobs.registry import job_kind_register

        from . import jobs
        from .api import reconciliations

        job_kind_register(jobs.IMPORT_WORKERS, jobs.import_workers_run, prepare=jobs.import_workers_prepare)
        job_kind_register(jobs.EXPIRE_ENROLLMENTS, jobs.expire_enrollments_run)
        job_kind_register(jobs.EXPORT_WORKERS, jobs.export_workers_run)
        job_kind_register(
            reconciliations.RECONCILE, reconciliations.reconcile_run, prepare=reconciliations.reconcile_prepare
        )
