from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoverageConfig(AppConfig):
    name = "coverage"
    verbose_name = _("Coverage")

    def ready(self) -> None:
        from enrollment.counting import counters_register
        from jobs.registry import job_kind_register

        from . import jobs, services, signals
        from .api import views

        signals.connect()
        counters_register(services.counter_statements)
        job_kind_register(jobs.SNAPSHOT_COVERAGE, jobs.snapshot_coverage_run)
        job_kind_register(views.EXPORT_COVERAGE, views.export_coverage_run)
        job_kind_register(views.EXPORT_AGGREGATE, views.export_aggregate_run)
