"""Webhook subscriptions and their delivery log, as the API shows and takes them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api.fields import ChoiceField, RegionCodeField, RejectUnknownFieldsMixin, StrictCharField

from ..choices import DeliveryError
from ..cursor import Position, cursor_encode
from ..models import Delivery, Subscription
from ..selectors import TYPES

SUBSCRIPTION_EXAMPLE = {
    "id": 3,
    "url": "https://sipd.bungokab.go.id/hooks/ucj",
    "types": ["enrollment", "coverage"],
    "region": "15.08",
    "active": True,
    "disabled_reason": "",
    "disabled_at": None,
    "position": "YzEuNzQxMjIuNTEyLjE3NjUwMDAwMDA",
    "failures": 0,
    "next_attempt_at": None,
    "created_at": "2026-12-06T09:00:00+07:00",
    "updated_at": "2026-12-06T09:00:00+07:00",
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0Fp2aTb4Z1s="


class SubscriptionWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    url = StrictCharField(
        max_length=2000,
        help_text=_(
            "Where to POST the events: https (http only where the server allows it), no user name or password, "
            "a host on a public network."
        ),
    )
    types = serializers.ListField(
        child=ChoiceField(choices=[(name, name) for name in TYPES]),
        allow_empty=False,
        required=False,
        help_text=_("The types of change to receive (default all): worker, enrollment, region, coverage."),
    )
    region = RegionCodeField(
        required=False,
        allow_null=True,
        help_text=_("Only changes of workers in this region of yours (any level, `15.08` or `1508`); null: all yours."),
    )
    active = serializers.BooleanField(
        required=False,
        help_text=_("False stops deliveries (the position is kept); true again resumes from the position."),
    )


@extend_schema_field({"type": "string", "example": SUBSCRIPTION_EXAMPLE["position"]})
class PositionField(serializers.Field):
    """The position as a feed cursor (what `/api/v1/changes/?after=` takes)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, value: Subscription) -> str:
        return cursor_encode(Position(value.position_xact, value.position_id, value.position_stamp))


@extend_schema_serializer(examples=[OpenApiExample("subscription", value=SUBSCRIPTION_EXAMPLE, response_only=True)])
class SubscriptionSerializer(serializers.ModelSerializer):
    """A webhook subscription: where its events go, which, and how far it got."""

    region = serializers.CharField(
        source="region_code",
        allow_null=True,
        read_only=True,
        help_text=_("The region (dotted code), or empty: all yours."),
    )
    types = serializers.ListField(child=ChoiceField(choices=[(name, name) for name in TYPES]), read_only=True)
    position = PositionField(
        help_text=_(
            "Delivered up to here: the cursor of the last change the receiver acknowledged (2xx), as "
            "`/api/v1/changes/?after=` takes it."
        )
    )

    class Meta:
        model = Subscription
        fields = [
            "id",
            "url",
            "types",
            "region",
            "active",
            "disabled_reason",
            "disabled_at",
            "position",
            "failures",
            "next_attempt_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "disabled_reason": {"help_text": _("Why deliveries stopped (repeated failure, or its owner).")},
            "failures": {"help_text": _("Attempts in a row that failed (0 once one succeeds).")},
            "next_attempt_at": {"help_text": _("When a failed delivery is tried again (null: not waiting).")},
        }


@extend_schema_serializer(
    examples=[OpenApiExample("created", value={**SUBSCRIPTION_EXAMPLE, "secret": SECRET_EXAMPLE}, response_only=True)]
)
class SubscriptionWithSecretSerializer(SubscriptionSerializer):
    """A subscription with its signing secret: shown in this answer only, keep it."""

    secret = serializers.CharField(
        read_only=True,
        help_text=_(
            "The signing secret (Standard Webhooks: `whsec_` + base64). Shown only in this answer: keep it. "
            "After a rotation the previous one keeps signing too for a while (a second signature)."
        ),
    )

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class ReplaySerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    after = StrictCharField(
        required=False,
        help_text=_(
            "A feed cursor (a `cursor` of /api/v1/changes/ or of a delivered change's `data`): the changes after "
            "it are delivered again. Without it: from the beginning."
        ),
    )


DELIVERY_EXAMPLE = {
    "id": 91,
    "change": 512,
    "event_id": "change-512",
    "type": "id.ucj-desa.enrollment.activated",
    "attempt": 2,
    "resend": False,
    "at": "2026-12-06T09:00:12+07:00",
    "duration_ms": 10004,
    "status_code": None,
    "error": "timeout",
    "response_body": "",
    "next_attempt_at": "2026-12-06T09:00:33+07:00",
}


@extend_schema_serializer(examples=[OpenApiExample("a timeout", value=DELIVERY_EXAMPLE, response_only=True)])
class DeliverySerializer(serializers.ModelSerializer):
    """One attempt to deliver one change (never its payload)."""

    change = serializers.IntegerField(source="event_id", read_only=True, help_text=_("The change (history event) id."))
    event_id = serializers.CharField(
        source="message_id", read_only=True, help_text=_("The CloudEvent `id` and `webhook-id` sent.")
    )
    error = ChoiceField(
        choices=[("", ""), *[(value, value) for value in DeliveryError.values]],
        read_only=True,
        help_text=_(
            "Empty: the receiver answered (`status_code`); otherwise why not: status (not 2xx), timeout, refused, "
            "dns, address (a private network), tls, connection."
        ),
    )

    class Meta:
        model = Delivery
        fields = [
            "id",
            "change",
            "event_id",
            "type",
            "attempt",
            "resend",
            "at",
            "duration_ms",
            "status_code",
            "error",
            "response_body",
            "next_attempt_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "response_body": {"help_text": _("The first kilobyte of the receiver's answer.")},
            "attempt": {"help_text": _("The attempt at this change (1, 2, ...: retries after failures).")},
        }
