"""Writes of webhook subscriptions: create, edit, rotate the secret, rewind, queue deliveries.

A subscription belongs to its owner, whose scope (access.scope) it is checked against when written
and delivered for when it runs (integrations.delivering): a region outside the owner's regions is
refused naming `region`, an address webhooks may not go to naming `url` (integrations.addresses)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from access.context import scope_for
from core.errors import NotFoundError, ServiceError
from jobs.choices import FINISHED
from jobs.models import Job
from jobs.services import job_enqueue
from villages.selectors import region_by_code

from .addresses import AddressRefused, url_check
from .cursor import Position
from .models import Delivery, Subscription
from .selectors import TYPES, feed_end
from .signing import secret_new

logger = logging.getLogger(__name__)

DELIVER = "deliver_webhooks"  # a job: deliver one subscription's pending changes
RESEND = "resend_webhook"  # a job: send one change of the delivery log again


def _url_checked(url: str) -> str:
    try:
        url_check(url)
    except AddressRefused as refused:
        raise ServiceError(refused.message, field="url", code=f"url_{refused.code}") from None
    return url


def _region_checked(owner: User, code: str) -> str:
    if not code:
        return ""
    try:
        region_by_code(code, field="region")
    except NotFoundError:
        raise ServiceError(
            _("No region has the code %(code)s.") % {"code": code}, field="region", code="does_not_exist"
        ) from None
    if not scope_for(owner).contains_code(code):
        raise ServiceError(
            _("The region %(code)s is outside your regions.") % {"code": code}, field="region", code="out_of_scope"
        )
    return code


def _types_checked(types: Sequence[str] | None) -> list[str]:
    if not types:
        return list(TYPES)
    return [name for name in TYPES if name in set(types)]


@transaction.atomic
def subscription_create(
    *, owner: User, url: str, types: Sequence[str] | None = None, region: str = "", active: bool = True
) -> Subscription:
    """A subscription of `owner`'s, delivering the changes made from now on (its position: the
    feed's end now); its secret is on the returned object, to be shown once."""
    end = feed_end()
    return Subscription.objects.create(
        owner=owner,
        url=_url_checked(url),
        types=_types_checked(types),
        region_code=_region_checked(owner, region),
        active=active,
        disabled_at=None if active else timezone.now(),
        disabled_reason="" if active else _("Disabled by its owner."),
        secret=secret_new(),
        position_xact=end.xact,
        position_id=end.id,
        position_stamp=end.stamp,
    )


@transaction.atomic
def subscription_update(*, subscription: Subscription, changes: dict[str, Any]) -> Subscription:
    """Edit `url`, `types`, `region` or `active`. Re-enabling resumes from the position, at once;
    disabling says the owner did it."""
    fields = ["updated_at"]
    if "url" in changes:
        subscription.url = _url_checked(changes["url"])
        fields.append("url")
    if "types" in changes:
        subscription.types = _types_checked(changes["types"])
        fields.append("types")
    if "region" in changes:
        subscription.region_code = _region_checked(subscription.owner, changes["region"] or "")
        fields.append("region_code")
    if "active" in changes and changes["active"] != subscription.active:
        subscription.active = changes["active"]
        if subscription.active:
            subscription.disabled_reason, subscription.disabled_at = "", None
        else:
            subscription.disabled_reason, subscription.disabled_at = _("Disabled by its owner."), timezone.now()
        subscription.failures, subscription.failing_since, subscription.next_attempt_at = 0, None, None
        fields += ["active", "disabled_reason", "disabled_at", "failures", "failing_since", "next_attempt_at"]
    subscription.save(update_fields=fields)
    return subscription


@transaction.atomic
def subscription_rotate_secret(*, subscription: Subscription) -> Subscription:
    """A new secret; the one before keeps signing too for `UCJ_WEBHOOK_SECRET_GRACE_HOURS`."""
    now = timezone.now()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_until = now + datetime.timedelta(hours=float(settings.UCJ_WEBHOOK_SECRET_GRACE_HOURS))
    subscription.secret = secret_new()
    subscription.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    return subscription


@transaction.atomic
def subscription_replay(*, subscription: Subscription, after: Position) -> Subscription:
    """Rewind (or move on) the position to `after`, a feed cursor's: the changes after it are
    delivered again, at once (a waiting retry is not waited for)."""
    subscription.position_xact, subscription.position_id, subscription.position_stamp = after
    subscription.failures, subscription.failing_since, subscription.next_attempt_at = 0, None, None
    subscription.save(
        update_fields=[
            "position_xact",
            "position_id",
            "position_stamp",
            "failures",
            "failing_since",
            "next_attempt_at",
            "updated_at",
        ]
    )
    return subscription


def resend_enqueue(*, subscription: Subscription, delivery: Delivery, user: User) -> Job:
    """Queue the re-sending of a delivery's change (the same ids), as a job of the caller's."""
    return job_enqueue(
        kind=RESEND,
        user=user,
        scope=scope_for(user),
        params={"subscription": subscription.pk, "delivery": delivery.pk},
    )


def subscriptions_due(*, now: datetime.datetime | None = None) -> QuerySet[Subscription]:
    """The active subscriptions behind the feed's end now, not waiting for a retry, with no job of
    theirs queued or running: those the workers' poll queues a delivery for."""
    now = now or timezone.now()
    end = feed_end()
    behind = Q(position_xact__lt=end.xact) | Q(position_xact=end.xact, position_id__lt=end.id)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    free = Q(queued_job__isnull=True) | Q(queued_job__state__in=FINISHED)
    return Subscription.objects.filter(due, behind, free, active=True)


class _Taken(Exception):
    """Another worker queued a delivery of the subscription meanwhile."""


def subscriptions_poll(*, now: datetime.datetime | None = None) -> list[int]:
    """Queue a delivery job for each active subscription that is due (no retry waiting) and behind
    the feed's end, unless a job of its is still queued or running: one at a time per subscription
    (so its order holds), however many workers poll. Returns the subscriptions queued. Two
    statements when nothing is to be done (three on PostgreSQL: the feed's horizon first): the
    workers run this every `UCJ_WEBHOOK_POLL_SECONDS`."""
    queued = []
    for pk, job_id in subscriptions_due(now=now).values_list("pk", "queued_job_id"):
        try:
            with transaction.atomic():
                job = job_enqueue(kind=DELIVER, params={"subscription": pk})
                if not Subscription.objects.filter(pk=pk, queued_job_id=job_id).update(queued_job=job):
                    raise _Taken
        except (_Taken, IntegrityError):
            continue
        queued.append(pk)
    return queued


def deliveries_prune(*, now: datetime.datetime | None = None) -> int:
    """Forget deliveries older than `UCJ_WEBHOOK_LOG_DAYS`, and the finished delivery jobs (and
    their tasks) older than a day; returns the deliveries forgotten."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    forgotten, _counts = Delivery.objects.filter(
        at__lt=now - datetime.timedelta(days=float(settings.UCJ_WEBHOOK_LOG_DAYS))
    ).delete()
    old_jobs = Job.objects.filter(kind=DELIVER, state__in=FINISHED, finished_at__lt=now - datetime.timedelta(days=1))
    task_ids = list(old_jobs.values_list("task_id", flat=True)[:10_000])
    DBTaskResult.objects.filter(id__in=[task for task in task_ids if len(task) == 36]).delete()
    old_jobs.filter(task_id__in=task_ids).delete()
    return forgotten
