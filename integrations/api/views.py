"""The change feed's endpoint. Thin: the query checked here, the page read by
integrations.selectors.feed_page, personal data shown in full written to the access log."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.permissions import CapabilityRequired
from access.choices import AccessKind, Capability
from access.context import can_see_personal_data, scope_for
from access.services import access_log_write
from core.errors import NotFoundError, ServiceError
from villages.selectors import region_by_code

from ..cursor import START, BadCursor, Position, cursor_decode, cursor_encode
from ..selectors import TYPES, RegionAsked, feed_page
from .serializers import DEFAULT_PAGE_SIZE, ChangesPageSerializer, ChangesQuerySerializer


class CursorExpired(ServiceError):
    """A cursor older than the changes the feed keeps (UCJ_CHANGE_FEED_RETENTION_DAYS): 410."""

    status_code = 410
    default_code = "cursor_expired"


def cursor_position(after: str | None) -> Position:
    """The position a cursor sent as `after` names (none: the beginning), refused as the feed refuses
    it: 400 naming `after` for anything but a cursor of this feed, 410 for one no longer kept."""
    if after is None:
        return START
    try:
        position = cursor_decode(after)
    except BadCursor:
        raise ServiceError(
            _("Not a cursor of this feed: send the `cursor` of an answer, or nothing to start from the beginning."),
            field="after",
            code="invalid_cursor",
        ) from None
    days = settings.UCJ_CHANGE_FEED_RETENTION_DAYS
    if days is not None and position != START:
        kept_since = timezone.now() - datetime.timedelta(days=days)
        if position.stamp < kept_since.timestamp():
            raise CursorExpired(
                _(
                    "This cursor is older than the %(days)d days of changes kept: start again without `after` "
                    "(the whole feed), or read the present state from /api/v1/workers/ and follow the feed from "
                    "the cursor of its last page."
                )
                % {"days": days},
                field="after",
            )
    return position


class ChangesView(GenericAPIView):
    """Every change of the workers in your regions, in commit order, after a cursor.

    Page on with `next` while `up_to_date` is false; once it is true, keep `cursor` (or `next`)
    and ask again later. Replaying the whole feed from the beginning, keeping the last `worker` of
    each worker (and forgetting one whose `worker` is null), gives the workers the list shows."""

    permission_classes = [CapabilityRequired]
    required_capabilities = {"get": Capability.READ_WORKERS}
    serializer_class = ChangesPageSerializer
    query_parameters = {"get": (ChangesQuerySerializer,)}  # core.api.parameters
    error_statuses = {"get": {404, 410}}  # a region outside yours; a cursor no longer kept

    @extend_schema(parameters=[ChangesQuerySerializer], responses=ChangesPageSerializer)
    def get(self, request: Request) -> Response:
        query = ChangesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params: dict[str, Any] = dict(query.validated_data)
        after = cursor_position(params.get("after"))
        scope = scope_for(request.user)
        region = None
        code = params.get("region")
        if code is not None:
            level, pk = region_by_code(code, field="region")
            if not scope.contains_code(code):  # outside the caller's regions: it does not exist for it
                raise NotFoundError(_("No region has the code %(code)s.") % {"code": code}, field="region")
            region = RegionAsked(level=level, id=pk, code=code)
        types = params.get("types") or list(TYPES)
        full = can_see_personal_data(request)
        page = feed_page(
            scope=scope,
            after=after,
            types=types,
            region=region,
            limit=params.get("page_size", DEFAULT_PAGE_SIZE),
            full=full,
        )
        if page.shown_in_full:
            access_log_write(request=request, kind=AccessKind.PERSONAL_DATA, worker_ids=page.shown_in_full)
        cursor = cursor_encode(page.position)
        for change in page.changes:
            change["cursor"] = cursor_encode(change["cursor"])
        kept = {name: value for name, value in request.query_params.items() if name != "after"}
        next_url = request.build_absolute_uri(f"{request.path}?{urlencode({**kept, 'after': cursor})}")
        data = {"results": page.changes, "cursor": cursor, "next": next_url, "up_to_date": page.up_to_date}
        return Response(data)  # built as the page serializer documents it (integrations.selectors)
