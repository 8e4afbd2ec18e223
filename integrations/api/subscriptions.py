"""Webhook subscriptions: `/api/v1/subscriptions/` (a caller's own; another's is 404), their secret
rotation, delivery log, re-send and replay. Thin: the writes are integrations.services'."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.permissions import CapabilityRequired, signed_in_user
from access.choices import Capability
from core.api.parameters import PAGES
from core.errors import NotFoundError
from jobs.api.serializers import QUEUED_JOB_EXAMPLE, JobSerializer

from .. import services
from ..models import Delivery, Subscription
from .subscription_serializers import (
    SECRET_EXAMPLE,
    SUBSCRIPTION_EXAMPLE,
    DeliverySerializer,
    ReplaySerializer,
    SubscriptionSerializer,
    SubscriptionWithSecretSerializer,
    SubscriptionWriteSerializer,
)
from .views import cursor_position

READ = Capability.READ_WORKERS  # what the change feed needs: a subscription is the feed, pushed


class SubscriptionViewSet(viewsets.ModelViewSet):
    """Your webhook subscriptions: each receives, as signed CloudEvents, every change the change feed
    shows you, in order, from when it was created (README "Webhooks")."""

    serializer_class = SubscriptionSerializer
    queryset = Subscription.objects.none()  # see get_queryset
    permission_classes = [CapabilityRequired]
    required_capabilities = {
        name: READ
        for name in (
            "list",
            "retrieve",
            "create",
            "update",
            "partial_update",
            "destroy",
            "rotate_secret",
            "deliveries",
            "resend",
            "replay",
        )
    }
    query_parameters = {"deliveries": PAGES}  # core.api.parameters
    error_statuses = {"replay": {410}}
    ordering = ["-id"]
    ordering_fields = ["id", "created_at"]
    path_example = 3

    def get_queryset(self) -> QuerySet[Subscription]:
        # Only the caller's own: another's does not exist for it (404). No relation is shown.
        return Subscription.objects.filter(owner=signed_in_user(self.request))

    def get_serializer_class(self) -> Any:
        if self.action in ("create", "update", "partial_update") and self.request.method != "GET":
            return SubscriptionWriteSerializer
        return super().get_serializer_class()

    @extend_schema(
        request=SubscriptionWriteSerializer,
        responses={201: SubscriptionWithSecretSerializer},
        examples=[
            OpenApiExample(
                "subscribe",
                value={"url": SUBSCRIPTION_EXAMPLE["url"], "types": ["enrollment", "coverage"], "region": "1508"},
                request_only=True,
            ),
            OpenApiExample(
                "created",
                value={**SUBSCRIPTION_EXAMPLE, "secret": SECRET_EXAMPLE},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Subscribe: the answer holds the signing secret, shown this once."""
        body = SubscriptionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        subscription = services.subscription_create(
            owner=signed_in_user(request),
            url=data["url"],
            types=data.get("types"),
            region=data.get("region") or "",
            active=data.get("active", True),
        )
        return Response(SubscriptionWithSecretSerializer(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SubscriptionWriteSerializer,
        responses=SubscriptionSerializer,
        examples=[
            OpenApiExample(
                "replace",
                value={"url": SUBSCRIPTION_EXAMPLE["url"], "types": ["enrollment", "coverage"], "region": "15.08"},
                request_only=True,
            ),
            OpenApiExample("replaced", value=SUBSCRIPTION_EXAMPLE, response_only=True),
        ],
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change the address, types, region, or stop (`active: false`) and resume deliveries."""
        subscription = self.get_object()
        body = SubscriptionWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        if not kwargs.get("partial", False):
            changes.setdefault("types", None)
            changes.setdefault("region", None)
            changes.setdefault("active", subscription.active)
        subscription = services.subscription_update(subscription=subscription, changes=changes)
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(
        request=SubscriptionWriteSerializer,
        responses=SubscriptionSerializer,
        examples=[
            OpenApiExample("resume", value={"active": True}, request_only=True),
            OpenApiExample("resumed", value=SUBSCRIPTION_EXAMPLE, response_only=True),
        ],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change some of the address, types, region, or stop and resume deliveries (`active`)."""
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=None, responses=SubscriptionWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: Any = None) -> Response:
        """A new signing secret, shown this once; the previous one keeps signing too for a while
        (`UCJ_WEBHOOK_SECRET_GRACE_HOURS`, 24 by default): deliveries carry both signatures."""
        subscription = services.subscription_rotate_secret(subscription=self.get_object())
        return Response(SubscriptionWithSecretSerializer(subscription).data)

    @extend_schema(responses=DeliverySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: Any = None) -> Response:
        """The delivery log, newest first: every attempt, its outcome, the receiver's answer (its
        first kilobyte), the next attempt."""
        subscription = self.get_object()
        attempts = Delivery.objects.filter(subscription=subscription).order_by("-id")
        page = self.paginate_queryset(attempts)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={202: OpenApiResponse(JobSerializer, description="Queued: the attempt appears in the delivery log.")},
        examples=[
            OpenApiExample(
                "queued",
                value={**QUEUED_JOB_EXAMPLE, "kind": services.RESEND, "created_by": "sipd-bungo"},
                status_codes=["202"],
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9]{1,18})/resend")
    def resend(self, request: Request, pk: Any = None, delivery_id: str = "") -> Response:
        """Send the change of this delivery again, with the same ids (`webhook-id`, CloudEvent `id`),
        as you see it now, in a background job."""
        subscription = self.get_object()
        delivery = Delivery.objects.filter(subscription=subscription, pk=int(delivery_id)).first()
        if delivery is None:
            raise NotFoundError(_("No delivery %(id)s in this subscription's log.") % {"id": delivery_id})
        job = services.resend_enqueue(subscription=subscription, delivery=delivery, user=signed_in_user(request))
        body = JobSerializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(
        request=ReplaySerializer,
        responses=SubscriptionSerializer,
        examples=[
            OpenApiExample("rewind", value={"after": SUBSCRIPTION_EXAMPLE["position"]}, request_only=True),
            OpenApiExample("rewound", value=SUBSCRIPTION_EXAMPLE, response_only=True),
        ],
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: Any = None) -> Response:
        """Rewind the position to a feed cursor: the changes after it are delivered again (those
        already delivered keep their ids, so a receiver that deduplicates skips them)."""
        subscription = self.get_object()
        body = ReplaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        after = cursor_position(body.validated_data.get("after"))
        subscription = services.subscription_replay(subscription=subscription, after=after)
        return Response(SubscriptionSerializer(subscription).data)
