"""Delivering a subscription's changes: each change the feed shows the subscription's owner after
the subscription's position, as a CloudEvent signed by the Standard Webhooks scheme, in order, one
request per change; the position moves on after each 2xx (at least once: a run cut short after a
POST and before its position is written sends that change again, with the same ids).

A failure (another status, a timeout, no connection) is logged, ends the run and sets the next
attempt after an exponential back-off with jitter; a subscription failing for long enough is
disabled and its owner told. One run at a time per subscription, on any number of workers: a run
first takes the subscription's lease by a conditional update, and writes nothing once it lost it."""

from __future__ import annotations

import datetime
import json
import logging
import random
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.utils.encoders import JSONEncoder

from access.choices import AccessKind, Capability
from access.context import may_see_personal_data, scope_for
from access.services import access_log_write_for
from core.db import unflushed
from core.errors import NotFoundError
from enrollment.choices import EventKind
from villages.selectors import region_by_code

from . import sending
from .cursor import Position, cursor_encode
from .models import Delivery, Subscription
from .selectors import WORKER_KINDS, RegionAsked, feed_page
from .signing import signature_header

logger = logging.getLogger(__name__)

TYPE_PREFIX = "id.ucj-desa"
CONTENT_TYPE = "application/cloudevents+json"


def event_type(change: dict[str, Any]) -> str:
    """The CloudEvent type of a change: `id.ucj-desa.worker.{registered,updated,moved,service_ended}`
    or `id.ucj-desa.enrollment.{submitted,activated,renewed,lapsed}`."""
    kind = change["kind"]
    if kind == EventKind.UPDATED and "village" in change["changes"]:
        return f"{TYPE_PREFIX}.worker.moved"
    group = "worker" if kind in WORKER_KINDS else "enrollment"
    return f"{TYPE_PREFIX}.{group}.{kind}"


EVENT_TYPES = [
    *(f"{TYPE_PREFIX}.worker.{name}" for name in ("registered", "updated", "moved", "service_ended")),
    *(f"{TYPE_PREFIX}.enrollment.{name}" for name in ("submitted", "activated", "renewed", "lapsed")),
]


def message_id(event_id: int) -> str:
    """The CloudEvent `id` and `webhook-id` of a change: the same every time the change is sent."""
    return f"change-{event_id}"


def cloud_event(change: dict[str, Any], position: Position) -> dict[str, Any]:
    """A change as the feed shows it (`data`, its `cursor` encoded) in a CloudEvent 1.0."""
    data = {**change, "cursor": cursor_encode(position)}
    return {
        "specversion": "1.0",
        "id": message_id(position.id),
        "source": settings.UCJ_WEBHOOK_SOURCE,
        "type": event_type(change),
        "subject": f"workers/{change['worker_id']}",
        "time": change["recorded_at"],
        "datacontenttype": "application/json",
        "data": data,
    }


def _setting_seconds(name: str) -> datetime.timedelta:
    return datetime.timedelta(seconds=float(getattr(settings, name)))


def backoff(failures: int) -> datetime.timedelta:
    """The wait after the `failures`-th failure in a row: `UCJ_WEBHOOK_BACKOFF` seconds doubled
    each time, at most `UCJ_WEBHOOK_BACKOFF_MAX`, plus up to a tenth more at random (so that
    receivers coming back are not all retried at once)."""
    base = float(settings.UCJ_WEBHOOK_BACKOFF)
    seconds = min(base * 2 ** min(failures - 1, 40), float(settings.UCJ_WEBHOOK_BACKOFF_MAX))
    return datetime.timedelta(seconds=seconds * (1 + random.random() / 10))  # noqa: S311 (jitter, not a secret)


def _lease_length() -> datetime.timedelta:
    return datetime.timedelta(seconds=2 * float(settings.UCJ_WEBHOOK_TIMEOUT) + 30)


def _lease_take(subscription_id: int, token: str) -> bool:
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return bool(
        Subscription.objects.filter(free, pk=subscription_id).update(
            lease_token=token, lease_until=now + _lease_length()
        )
    )


def _lease_release(subscription_id: int, token: str) -> None:
    Subscription.objects.filter(pk=subscription_id, lease_token=token).update(lease_token="", lease_until=None)


@dataclass(frozen=True)
class Audience:
    """Who a subscription delivers for, now: its owner's scope, right to personal data, region."""

    scope: Any
    full: bool
    region: RegionAsked | None


def _audience(subscription: Subscription) -> Audience | str:
    """What the owner sees now, or why the subscription can deliver nothing any more."""
    owner = subscription.owner
    scope = scope_for(owner)
    if not scope.can(Capability.READ_WORKERS):
        return _("Its owner may no longer read workers.")
    region = None
    if subscription.region_code:
        code = subscription.region_code
        try:
            level, pk = region_by_code(code, field="region")
        except NotFoundError:
            return _("Its region %(code)s no longer exists.") % {"code": code}
        if not scope.contains_code(code):
            return _("Its region %(code)s is no longer in its owner's regions.") % {"code": code}
        region = RegionAsked(level=level, id=pk, code=code)
    return Audience(scope=scope, full=may_see_personal_data(owner), region=region)


def _secrets(subscription: Subscription, now: datetime.datetime) -> list[str]:
    kept = [subscription.secret]
    if subscription.previous_secret and subscription.previous_secret_until and subscription.previous_secret_until > now:
        kept.append(subscription.previous_secret)
    return kept


def personal_data_logged(subscription: Subscription, worker_ids: list[int], query: str) -> None:
    """Personal data about to be sent in full, written to the access log under the owner (one
    entry per page of the feed read for the subscription, as the feed writes one per page shown),
    before it leaves."""
    if worker_ids:
        access_log_write_for(
            user=subscription.owner,
            kind=AccessKind.PERSONAL_DATA,
            path=f"/api/v1/subscriptions/{subscription.pk}/",
            query=query,
            worker_ids=sorted(set(worker_ids)),
        )


def change_send(
    subscription: Subscription, change: dict[str, Any], position: Position, *, resend: bool = False
) -> Delivery:
    """Send one change to the subscription's receiver; the attempt's log entry (never the payload),
    not saved yet: the caller saves it with what follows from it, in one transaction."""
    now = timezone.now()
    event = cloud_event(change, position)
    body = json.dumps(event, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": "UCJ-Desa-Webhooks/1",
        "webhook-id": event["id"],
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(_secrets(subscription, now), event["id"], timestamp, body),
    }
    sent = sending.post(subscription.url, body, headers, timeout=float(settings.UCJ_WEBHOOK_TIMEOUT))
    return Delivery(
        subscription=subscription,
        event_id=position.id,
        event_xact=position.xact,
        message_id=event["id"],
        type=event["type"],
        attempt=1 if resend else subscription.failures + 1,
        resend=resend,
        at=now,
        duration_ms=sent.duration_ms,
        status_code=sent.status,
        error=sent.error,
        response_body=sent.body,
    )


def _advance(subscription: Subscription, token: str, position: Position) -> bool:
    """Move the position on (and forget past failures), if this run still holds the lease."""
    now = timezone.now()
    moved = Subscription.objects.filter(pk=subscription.pk, lease_token=token).update(
        position_xact=position.xact,
        position_id=position.id,
        position_stamp=position.stamp,
        failures=0,
        failing_since=None,
        next_attempt_at=None,
        lease_until=now + _lease_length(),
    )
    subscription.position_xact, subscription.position_id, subscription.position_stamp = position
    subscription.failures, subscription.failing_since = 0, None
    return bool(moved)


def subscription_disable(subscription: Subscription, reason: str, *, now: datetime.datetime | None = None) -> None:
    """Disable a subscription, saying why, and tell its owner (an e-mail to the owner's address if
    it has one, and the log)."""
    now = now or timezone.now()
    Subscription.objects.filter(pk=subscription.pk).update(
        active=False, disabled_reason=reason[:500], disabled_at=now, next_attempt_at=None
    )
    subscription.active, subscription.disabled_reason, subscription.disabled_at = False, reason[:500], now
    logger.warning("Webhook subscription %s (%s) disabled: %s", subscription.pk, subscription.url, reason)
    owner = subscription.owner
    if owner.email:
        send_mail(
            _("UCJ Desa: webhook subscription %(id)s disabled") % {"id": subscription.pk},
            _(
                "Your webhook subscription %(id)s to %(url)s was disabled: %(reason)s\n\n"
                "Its position is kept: once the receiver works again, re-enable it (PATCH active=true) and it "
                "goes on from the first change not delivered. Its delivery log: "
                "/api/v1/subscriptions/%(id)s/deliveries/"
            )
            % {"id": subscription.pk, "url": subscription.url, "reason": reason},
            None,
            [owner.email],
            fail_silently=True,
        )


def _failed(subscription: Subscription, token: str, delivery: Delivery) -> None:
    """Count a failed attempt: retry after the back-off, or disable after repeated failure (at least
    `UCJ_WEBHOOK_DISABLE_AFTER_ATTEMPTS` attempts in a row over at least
    `UCJ_WEBHOOK_DISABLE_AFTER_HOURS`)."""
    now = delivery.at
    failures = subscription.failures + 1
    since = subscription.failing_since or now
    giving_up = failures >= int(settings.UCJ_WEBHOOK_DISABLE_AFTER_ATTEMPTS) and now - since >= datetime.timedelta(
        hours=float(settings.UCJ_WEBHOOK_DISABLE_AFTER_HOURS)
    )
    next_at = None if giving_up else now + backoff(failures)
    updated = Subscription.objects.filter(pk=subscription.pk, lease_token=token).update(
        failures=failures, failing_since=since, next_attempt_at=next_at
    )
    if not updated:
        return
    subscription.failures, subscription.failing_since, subscription.next_attempt_at = failures, since, next_at
    delivery.next_attempt_at = next_at
    if giving_up:
        what = f"HTTP {delivery.status_code}" if delivery.status_code else delivery.get_error_display()
        subscription_disable(
            subscription,
            _("%(attempts)d attempts in a row failed since %(since)s; the last: %(what)s.")
            % {"attempts": failures, "since": timezone.localtime(since).isoformat(timespec="seconds"), "what": what},
            now=now,
        )


@dataclass
class Delivered:
    """What a run did: changes delivered, whether one failed, whether another run held the lease."""

    sent: int = 0
    failed: bool = False
    busy: bool = False


def subscription_deliver(*, subscription_id: int, batch: int | None = None) -> Delivered:
    """Deliver the subscription's pending changes in order, until the receiver is up to date, an
    attempt fails, or the subscription is not due (disabled, waiting for its next attempt). The
    delivery job (`deliver_webhooks`) runs this; nothing else need hold a lock."""
    token = secrets.token_hex(8)
    done = Delivered()
    if not _lease_take(subscription_id, token):
        done.busy = True
        return done
    try:
        _deliver(subscription_id, token, batch or int(settings.UCJ_WEBHOOK_BATCH), done)
    finally:
        _lease_release(subscription_id, token)
    return done


def _deliver(subscription_id: int, token: str, batch: int, done: Delivered) -> None:
    subscription = Subscription.objects.select_related("owner").get(pk=subscription_id)
    if not subscription.active or (subscription.next_attempt_at and subscription.next_attempt_at > timezone.now()):
        return
    audience = _audience(subscription)
    if isinstance(audience, str):
        subscription_disable(subscription, audience)
        return
    first = True
    while True:
        if not first and not Subscription.objects.filter(pk=subscription.pk, active=True, lease_token=token).exists():
            return  # disabled or deleted meanwhile, or the lease lost: stop between pages
        first = False
        after = Position(subscription.position_xact, subscription.position_id, subscription.position_stamp)
        page = feed_page(
            scope=audience.scope,
            after=after,
            types=subscription.types,
            region=audience.region,
            limit=batch,
            full=audience.full,
        )
        if audience.full and page.changes:
            positions = f"{page.changes[0]['cursor'].id}-{page.changes[-1]['cursor'].id}"
            personal_data_logged(subscription, page.shown_in_full, f"changes={positions}")
        for change in page.changes:
            position: Position = change["cursor"]
            delivery = change_send(subscription, change, position)
            # The log entry and the position (or the retry) together; a crash of the database that
            # loses them only sends the change again (core.db.unflushed).
            with unflushed():
                if not delivery.succeeded:
                    done.failed = True
                    _failed(subscription, token, delivery)
                    delivery.save()
                    return
                delivery.save()
                if not _advance(subscription, token, position):
                    return  # the lease was lost (this run was too slow): another run goes on
            done.sent += 1
        if not page.changes and page.position[:2] != after[:2] and not _advance(subscription, token, page.position):
            return
        if page.up_to_date:
            return


def change_resend(*, subscription: Subscription, delivery: Delivery) -> Delivery | None:
    """Send the change of a past delivery again (the same ids), as its owner sees it now; None when
    the owner no longer sees that change (outside its regions or types now)."""
    audience = _audience(subscription)
    if isinstance(audience, str):
        return None
    page = feed_page(
        scope=audience.scope,
        after=Position(delivery.event_xact, delivery.event_id - 1, 0),
        types=subscription.types,
        region=audience.region,
        limit=1,
        full=audience.full,
    )
    if not page.changes or page.changes[0]["cursor"][:2] != (delivery.event_xact, delivery.event_id):
        return None
    change = page.changes[0]
    if audience.full:
        personal_data_logged(subscription, page.shown_in_full, f"change={change['cursor'].id}")
    delivery = change_send(subscription, change, change["cursor"], resend=True)
    delivery.save()
    return delivery
