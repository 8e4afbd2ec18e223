"""Webhook subscriptions and their delivery log.

A subscription is a receiver's address, the changes it wants (types, a region) and its own
position in the change feed's order: the history (enrollment.EnrollmentEvent) is the outbox, so
no write of a worker writes anything here. Deliveries are the log of every attempt to send a
change (kept `UCJ_WEBHOOK_LOG_DAYS` days)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jobs.models import Job

from .choices import DeliveryError


class Subscription(models.Model):
    """A receiver of signed webhooks for its owner (an integration client or an officer who may read
    workers): what it receives is what the change feed shows its owner now, after `position`."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    url = models.URLField(_("address"), max_length=2000)
    types = models.JSONField(_("types"), default=list)
    region_code = models.CharField(_("region"), max_length=16, blank=True, default="")
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=500, blank=True, default="")
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    # Signing secrets (Standard Webhooks, `whsec_` + base64): never shown again after the answer
    # that created or rotated them, nor in the admin. The previous one signs too until it expires.
    secret = models.CharField(_("secret"), max_length=100)
    previous_secret = models.CharField(_("previous secret"), max_length=100, blank=True, default="")
    previous_secret_until = models.DateTimeField(_("previous secret valid until"), null=True, blank=True)
    # Delivered up to this change of the feed's order (integrations.cursor.Position).
    position_xact = models.BigIntegerField(_("position (transaction)"), default=0)
    position_id = models.BigIntegerField(_("position (event)"), default=0)
    position_stamp = models.BigIntegerField(_("position (stamp)"), default=0)
    # Failing: attempts in a row that failed, since when, and when to try again.
    failures = models.PositiveIntegerField(_("failed attempts in a row"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # Who delivers it now: the run holding the lease (a conditional update takes it), and the job
    # queued for it (one at a time: the worker's poll queues another only once this one finished).
    lease_token = models.CharField(_("lease"), max_length=32, blank=True, default="")
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    queued_job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("queued job")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [
            models.Index(fields=["owner", "-id"], name="subscription_owner_idx"),
            # What the worker's poll scans every second: the active ones.
            models.Index(fields=["active", "next_attempt_at"], name="subscription_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.url} ({self.owner})"


class Delivery(models.Model):
    """One attempt to send one change to a subscription: its outcome, never its payload (it may hold
    personal data); the receiver's answer cut to its first kilobyte."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("subscription")
    )
    event_id = models.BigIntegerField(_("change"))  # enrollment.EnrollmentEvent id (the history is kept)
    event_xact = models.BigIntegerField(_("change (transaction)"), default=0)
    message_id = models.CharField(_("message id"), max_length=64)  # the CloudEvent id, `webhook-id`
    type = models.CharField(_("event type"), max_length=100)
    attempt = models.PositiveIntegerField(_("attempt"), default=1)
    resend = models.BooleanField(_("re-sent on request"), default=False)
    at = models.DateTimeField(_("at"), db_index=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=16, choices=DeliveryError.choices, blank=True, default="")
    response_body = models.CharField(_("response (first 1 KB)"), max_length=1024, blank=True, default="")
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["subscription", "-id"], name="delivery_subscription_idx")]

    def __str__(self) -> str:
        return f"{self.message_id} -> {self.subscription_id}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
