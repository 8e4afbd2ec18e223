from django.apps import AppConfig
from django.conf import settings


class IntegrationsConfig(AppConfig):
    """What other systems read to stay in sync: the change feed and its signed webhooks."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from jobs.registry import job_kind_register, job_poll_register

        from . import jobs, services

        job_kind_register(services.DELIVER, jobs.deliver_run, atomic=False)
        job_kind_register(services.RESEND, jobs.resend_run, atomic=False)
        job_poll_register(
            "webhooks", services.subscriptions_poll, every=lambda: float(settings.UCJ_WEBHOOK_POLL_SECONDS)
        )
        job_poll_register("webhook-log", services.deliveries_prune, every=lambda: 3600.0)
