"""Page-number pagination used by every list endpoint, with a bounded count.

Counting every row that matches is what a page of a national or provincial worker list would
spend its time on (millions of rows, for 50 shown). So a list counts at most
`UCJ_LIST_COUNT_LIMIT` rows: up to there `count` is exact; beyond it `count` is null and
`count_exceeds` names the limit, pages are still numbered, and whether there is a next page is
learnt by reading one row more than the page.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.cache import caches
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

if TYPE_CHECKING:
    from rest_framework.pagination import HtmlContextWithPageLinks
    from rest_framework.request import Request
    from rest_framework.views import APIView

    # Django's own classes are generic to the type checker only.
    _Page = Page[Any]
    _Paginator = Paginator[Any]
else:
    _Page, _Paginator = Page, Paginator

# The list an example page's links name (the schema's examples of every list).
EXAMPLE_LIST = "https://ucj-desa.example.id/api/v1/workers/"

# As DRF's JSON renderer writes JSON (compact, not limited to ASCII).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

# Past this many rows no list has a page: a larger offset is beyond a 64-bit integer.
MAX_OFFSET = 2**62


class OpenPage(_Page):
    """A page of a list whose length is unknown: it knows only whether a row follows it."""

    def __init__(self, object_list: Sequence[Any], number: int, paginator: Paginator[Any], *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


class BoundedPaginator(_Paginator):
    """A paginator that counts a queryset up to `limit` rows; `count` is None beyond that.

    With a `count_key` (a list's filters, its caller and the data version: see
    `StandardPagination.count_key`), the count is kept in this process under that key, so the
    pages of one list after the first are not counted again."""

    def __init__(self, object_list: Any, per_page: int, *, limit: int, count_key: str | None = None, **kw: Any) -> None:
        super().__init__(object_list, per_page, **kw)
        self.limit = limit
        self.count_key = None if count_key is None else f"{count_key}:{limit}"

    # None beyond the limit is this paginator's point; only this module reads its count.
    @cached_property
    def count(self) -> int | None:  # type: ignore[override]
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        counts = caches["counts"]
        key = self.count_key
        if key is not None and counts.default_timeout != 0:
            kept: tuple[int | None] | None = counts.get(key)
            if kept is not None:
                return kept[0]
        # COUNT(*) over a subquery with LIMIT: the database stops after limit + 1 rows, in
        # whichever order is cheapest (which rows they are does not matter to the count).
        counted = self.object_list.order_by()[: self.limit + 1].count()
        count = counted if counted <= self.limit else None
        if key is not None and counts.default_timeout != 0:
            counts.set(key, (count,))
        return count

    @cached_property
    def num_pages(self) -> int | None:  # type: ignore[override]  # as `count`
        return None if self.count is None else super().num_pages

    def validate_number(self, number: int | float | str) -> int:
        if self.count is not None:
            return super().validate_number(number)
        try:
            whole = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(_("That page number is not an integer")) from exc
        if whole < 1:
            raise EmptyPage(_("That page number is less than 1"))
        if (whole - 1) * self.per_page >= MAX_OFFSET:  # no database takes an offset that large
            raise EmptyPage(_("That page contains no results"))
        return whole

    def page(self, number: int | str) -> Page[Any]:
        if self.count is not None:
            return super().page(number)
        whole = self.validate_number(number)
        bottom = (whole - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and whole > 1:
            raise EmptyPage(_("That page contains no results"))
        return OpenPage(rows[: self.per_page], whole, self, more=len(rows) > self.per_page)


class StandardPagination(PageNumberPagination):
    """Page-number pagination; `page_size` may be asked for, but never above `max_page_size`;
    the count is exact up to `UCJ_LIST_COUNT_LIMIT` rows and null beyond."""

    page_size: int = 50
    page_size_query_param: str = "page_size"
    max_page_size: int = 500
    paginator: BoundedPaginator  # the last page's, set with it
    # Set by a view that knows its list's rows are a function of its query (less the page), its
    # caller and the data version, all three in the key: the count is then kept (BoundedPaginator).
    count_key: str | None = None

    def get_page_size(self, request: Request) -> int:
        """The page size asked for, at most `max_page_size`; one that is not a whole number from
        1 up is a 400 (DRF would answer the default page as if none had been asked for)."""
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:  # absent, or empty as every parameter may be
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and raw.strip("0")):
            raise ValidationError({self.page_size_query_param: [_("A page size is a whole number from 1 up.")]})
        # Any number of digits is a whole number (the schema says so): a long one is the maximum.
        return self.max_page_size if len(raw) > 9 else min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = "The page number, from 1 (`last`: the last page, when the count is known)."
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = (
                    f"Rows a page (default {self.page_size}); more than {self.max_page_size} counts as "
                    f"{self.max_page_size}."
                )
        return parameters

    def paginate_queryset(self, queryset: Any, request: Request, view: APIView | None = None) -> list[Any]:
        # The page's slice as a list at once: iterating the page itself asks it for each row by
        # index (a regency's 500 villages, 500 calls).
        return list(self.page_of(queryset, request).object_list)

    def page_of(self, queryset: Any, request: Request) -> _Page:
        """The page asked for, not yet read: its `object_list` is the queryset's slice (a view may
        read the page's rows its own way, e.g. by the slice's ids as a subquery)."""
        self.request = request
        page_size = self.get_page_size(request)
        paginator = BoundedPaginator(queryset, page_size, limit=settings.UCJ_LIST_COUNT_LIMIT, count_key=self.count_key)
        page_number: int | str = request.query_params.get(self.page_query_param) or 1
        if page_number in self.last_page_strings:
            if paginator.num_pages is None:
                raise NotFound(
                    _("More than %(limit)d rows match, so the last page is not known: narrow the filters.")
                    % {"limit": paginator.limit}
                )
            page_number = paginator.num_pages
        self.paginator = paginator
        try:
            self.page = page = paginator.page(page_number)
        except (EmptyPage, PageNotAnInteger) as exc:
            raise NotFound(self.invalid_page_message.format(page_number=page_number, message=str(exc))) from exc
        if self.template is not None and (page.has_next() or page.has_previous()):
            self.display_page_controls = True  # the browsable API's page links
        return page

    def get_next_link(self) -> str | None:
        """DRF's links, each made once for the same address (parsing and writing the query again
        cost some 0.1 ms a page in a request)."""
        page, request = cast("Page[Any]", self.page), cast("Request", self.request)  # set by page_of
        if not page.has_next():
            return None
        return _replaced(request.build_absolute_uri(), self.page_query_param, page.next_page_number())

    def get_previous_link(self) -> str | None:
        page, request = cast("Page[Any]", self.page), cast("Request", self.request)
        if not page.has_previous():
            return None
        url = request.build_absolute_uri()
        previous = page.previous_page_number()
        if previous == 1:
            return _removed(url, self.page_query_param)
        return _replaced(url, self.page_query_param, previous)

    def get_paginated_response(self, data: Any) -> Response:
        paginator = self.paginator
        body: dict[str, Any] = {"count": paginator.count}
        if paginator.count is None:
            body["count_exceeds"] = paginator.limit
        body.update(next=self.get_next_link(), previous=self.get_previous_link(), results=data)
        return Response(body)

    def get_composed_response(self, results: str) -> Response:
        """The page as `get_paginated_response` answers it, its results given already as JSON
        text: the answer is composed as bytes (core.api.renderers.ComposedJSONRenderer sends
        them as they are)."""
        paginator = self.paginator
        encode = _ENCODER.encode
        body = '{"count":' + encode(paginator.count)
        if paginator.count is None:
            body += ',"count_exceeds":' + encode(paginator.limit)
        body += ',"next":' + encode(self.get_next_link()) + ',"previous":' + encode(self.get_previous_link())
        return Response((body + ',"results":' + results + "}").encode())

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        # The second page of 123 rows: what a list answers, links included.
        properties["next"]["example"] = f"{EXAMPLE_LIST}?page=3"
        properties["previous"]["example"] = EXAMPLE_LIST
        properties["count"] = {
            "type": "integer",
            "nullable": True,
            "example": 123,
            "description": "Rows matching, or null when more than `count_exceeds` match.",
        }
        properties["count_exceeds"] = {
            "type": "integer",
            "example": 100000,
            "description": "Present when `count` is null: more rows than this match.",
        }
        order: tuple[str, ...] = ("count", "count_exceeds", "next", "previous", "results")
        if not isinstance(schema, dict):
            # drf-spectacular builds a list's example page from each property's example (the
            # results standing in as `schema`): a counted page has no `count_exceeds`.
            order = ("count", "next", "previous", "results")
        response["properties"] = {key: properties[key] for key in order}
        return response

    def get_html_context(self) -> HtmlContextWithPageLinks:
        if self.paginator.num_pages is not None:
            return super().get_html_context()
        return {
            # None without a page on that side, as in DRF's own context (its stubs say str).
            "previous_url": self.get_previous_link(),  # type: ignore[typeddict-item]
            "next_url": self.get_next_link(),  # type: ignore[typeddict-item]
            "page_links": [],
        }


# DRF's page links of an address: functions of their strings, kept for the addresses asked again.
_replaced = functools.lru_cache(maxsize=4096)(replace_query_param)
_removed = functools.lru_cache(maxsize=4096)(remove_query_param)
