"""Webhook subscriptions and their delivery log in the admin: for admins only (the `admin`
capability), read-only, the signing secrets never shown (not even as fields hidden in a form)."""

from __future__ import annotations

from django.contrib import admin

from access.admin_scope import ScopedAdminMixin
from access.choices import Capability

from .models import Delivery, Subscription

DELIVERY_FIELDS = (
    "subscription",
    "event_id",
    "message_id",
    "type",
    "attempt",
    "resend",
    "at",
    "duration_ms",
    "status_code",
    "error",
    "response_body",
    "next_attempt_at",
)


@admin.register(Subscription)
class SubscriptionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    view_capability = Capability.ADMIN
    scope_columns = None
    list_display = ["id", "url", "owner", "active", "failures", "next_attempt_at", "updated_at"]
    list_filter = ["active"]
    search_fields = ["url", "owner__username"]
    list_select_related = ["owner"]  # the owner column
    # Everything but the secrets.
    fields = readonly_fields = (
        "owner",
        "url",
        "types",
        "region_code",
        "active",
        "disabled_reason",
        "disabled_at",
        "position_xact",
        "position_id",
        "failures",
        "failing_since",
        "next_attempt_at",
        "lease_until",
        "queued_job",
        "created_at",
        "updated_at",
    )


@admin.register(Delivery)
class DeliveryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    view_capability = Capability.ADMIN
    scope_columns = None
    list_display = ["id", "subscription", "message_id", "type", "attempt", "at", "status_code", "error"]
    list_filter = ["error", "resend", "subscription"]  # a subscription's log: filter by it
    search_fields = ["message_id"]
    list_select_related = ["subscription__owner"]  # the subscription column (its url and owner)
    fields = readonly_fields = DELIVERY_FIELDS
