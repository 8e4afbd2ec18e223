"""The background jobs of webhooks (registered in IntegrationsConfig.ready): deliver one
subscription's pending changes; re-send one change. Neither is atomic: a delivery commits its
position after each change it sent (integrations.delivering), and is safe to run again."""

from __future__ import annotations

from typing import Any

from jobs.models import Job
from jobs.registry import Outcome, Progress

from .delivering import change_resend, subscription_deliver
from .models import Delivery, Subscription


def deliver_run(job: Job, progress: Progress, prepared: Any) -> Outcome:
    subscription_id = int(job.params["subscription"])
    done = subscription_deliver(subscription_id=subscription_id)
    progress.report("send", done.sent, None)
    return Outcome({"sent": done.sent, "failed": done.failed, "busy": done.busy})


def resend_run(job: Job, progress: Progress, prepared: Any) -> Outcome:
    subscription = Subscription.objects.select_related("owner").filter(pk=job.params["subscription"]).first()
    delivery = Delivery.objects.filter(pk=job.params["delivery"]).first()
    if subscription is None or delivery is None or delivery.subscription_id != subscription.pk:
        return Outcome({"sent": False, "delivery": None}, 404, failed=True)
    sent = change_resend(subscription=subscription, delivery=delivery)
    if sent is None:
        return Outcome({"sent": False, "delivery": None}, 404, failed=True)
    return Outcome({"sent": sent.succeeded, "delivery": sent.pk, "status_code": sent.status_code, "error": sent.error})
