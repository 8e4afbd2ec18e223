"""Every endpoint's query parameters are the ones it documents. An unknown one (a typo, a filter
the list does not have, `?nik=` where `search=` is meant, `?foo=` on a worker's page or a write)
is a 400 naming it, instead of an answer that silently ignores it; so is a parameter that takes
one value sent more than once (`?page=1&page=2`), where the view would silently read one of them.

What a view knows, by action (viewsets) or method (other views):
- `format` on reads, where the view offers more than one renderer (JSON, the browsable API,
  CSV, XLSX): `?format=json` is how the browsable API links to its JSON. Writes answer JSON.
- On a list: its filterset's filters (a multiple-choice filter may come more than once), the
  search and ordering parameters of the backends it enables, and its pages.
- What the view declares in `query_parameters = {action or method: (...)}`: names, a query
  serializer (its fields; a list field may come more than once), `PAGES` for a paginated answer
  other than a list.

The check runs with the permission every API view has (`CapabilityRequired`), so it answers
only callers allowed to call the endpoint at all, before the view reads anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings

from core.api.fields import RegionCodeField
from core.api.filter_fields import RegionCodeFilter
from core.api.pagination import StandardPagination
from core.codes import region_code

if TYPE_CHECKING:
    from rest_framework.generics import GenericAPIView
    from rest_framework.request import Request
    from rest_framework.views import APIView

# The parameters of a paginated answer, for views that declare them (`query_parameters`).
PAGES = (StandardPagination.page_query_param, StandardPagination.page_size_query_param)

# Per view class, action and method: {name: may it come more than once}. The answer depends on
# the class and its action's attributes only, so it is worked out once per process.
_known: dict[tuple[type, str, str], dict[str, bool]] = {}

MULTIPLE_VALUE_FIELDS = (serializers.ListField, serializers.MultipleChoiceField, serializers.ManyRelatedField)


def refuse_unknown_parameters(request: Request, view: APIView) -> None:
    """A 400 naming every query parameter the view does not read, and every one that takes one
    value but came more than once; nothing if all are known."""
    if not request.query_params:
        return
    known = known_parameters(request, view)
    errors: dict[str, list[serializers.ErrorDetail]] = {}
    for name in sorted(request.query_params):
        if name not in known:
            errors[name] = [serializers.ErrorDetail(str(_("Unknown parameter.")), code="unknown_parameter")]
        elif not known[name] and len(request.query_params.getlist(name)) > 1:
            errors[name] = [
                serializers.ErrorDetail(
                    str(_("This parameter takes one value; send it once.")), code="repeated_parameter"
                )
            ]
    if errors:
        raise serializers.ValidationError(errors)


def known_parameters(request: Request, view: APIView) -> dict[str, bool]:
    """The query parameters `view` reads for this request's action or method: {name: whether it
    may come more than once}."""
    method = (request.method or "").lower()
    action = getattr(view, "action", None) or ("get" if method == "head" else method)
    key = (type(view), action, method)
    known = _known.get(key)
    if known is None:
        known = _known[key] = _work_out(request, view, action)
    return known


def _work_out(request: Request, view: APIView, action: str) -> dict[str, bool]:
    known: dict[str, bool] = {}
    if request.method in SAFE_METHODS and len({r.format for r in view.get_renderers()}) > 1:
        known[api_settings.URL_FORMAT_OVERRIDE] = False
    if action == "list":
        known |= _list_parameters(view)
    for item in getattr(view, "query_parameters", {}).get(action, ()):
        known |= _declared(item)
    return known


def _list_parameters(view: APIView) -> dict[str, bool]:
    """A list's filters, search, ordering and pages."""
    known: dict[str, bool] = {}
    for backend_class in getattr(view, "filter_backends", ()):
        backend = backend_class()
        if isinstance(backend, DjangoFilterBackend):
            queryset = getattr(view, "queryset", None)
            if queryset is None:  # a view filtered by django-filter without a queryset is a generic one
                queryset = cast("GenericAPIView[Any]", view).get_queryset()
            filterset_class = backend.get_filterset_class(view, queryset)
            for name, filter_ in (filterset_class.base_filters if filterset_class else {}).items():
                known[name] = issubclass(
                    filter_.field_class, (forms.MultipleChoiceField, forms.ModelMultipleChoiceField)
                )
        elif isinstance(backend, SearchFilter) and getattr(view, "search_fields", None):
            known[backend.search_param] = False
        elif isinstance(backend, OrderingFilter) and getattr(view, "ordering_fields", None):
            known[backend.ordering_param] = False
    paginator = getattr(view, "paginator", None)
    for attribute in ("page_query_param", "page_size_query_param"):
        if getattr(paginator, attribute, None):
            known[getattr(paginator, attribute)] = False
    return known


def _declared(item: Any) -> dict[str, bool]:
    """A declared name, a tuple of names, or a query serializer's fields."""
    if isinstance(item, str):
        return {item: False}
    if isinstance(item, type) and issubclass(item, serializers.Serializer):
        return {name: isinstance(field, MULTIPLE_VALUE_FIELDS) for name, field in item().fields.items()}
    if isinstance(item, Iterable):
        known: dict[str, bool] = {}
        for part in item:
            known |= _declared(part)
        return known
    raise TypeError(f"query_parameters: {item!r} is not a name, a tuple of names or a serializer class")


# Per view class, action and method: the query parameters that take a region code.
_codes: dict[tuple[type, str, str], frozenset[str]] = {}


def dot_region_codes(request: Request, view: APIView) -> None:
    """Give the request's region-code parameters in the dotted spelling (`?regency=1508` is read as
    `?regency=15.08`, core.codes), before the view reads anything: the filters, the answer's ETag
    and cache keys, the counts kept and the page links all see one spelling, so both spellings are
    the same answer. A value that is no code is left as sent, for the view's check to name it."""
    if not request.query_params:
        return
    method = (request.method or "").lower()
    action = getattr(view, "action", None) or ("get" if method == "head" else method)
    key = (type(view), action, method)
    names = _codes.get(key)
    if names is None:
        names = _codes[key] = region_code_parameters(view, action)
    query = request._request.GET
    if not any(
        region_code(value) not in (None, value) for name in names.intersection(query) for value in query.getlist(name)
    ):
        return
    dotted = query.copy()
    for name in names.intersection(query):
        dotted.setlist(name, [region_code(value) or value for value in query.getlist(name)])
    query_string = dotted.urlencode()
    request._request.GET = QueryDict(query_string)  # immutable, as Django gives it
    request._request.META["QUERY_STRING"] = query_string


def region_code_parameters(view: APIView, action: str) -> frozenset[str]:
    """The query parameters of `view`'s `action` that take a region code: its filterset's
    `RegionCodeFilter`s (a list) and its query serializers' `RegionCodeField`s."""
    names: set[str] = set()
    if action == "list":
        for backend_class in getattr(view, "filter_backends", ()):
            if issubclass(backend_class, DjangoFilterBackend):
                queryset = getattr(view, "queryset", None)
                if queryset is None:
                    queryset = cast("GenericAPIView[Any]", view).get_queryset()
                filterset_class = backend_class().get_filterset_class(view, queryset)
                filters = filterset_class.base_filters if filterset_class else {}
                names.update(name for name, filter_ in filters.items() if isinstance(filter_, RegionCodeFilter))
    for item in getattr(view, "query_parameters", {}).get(action, ()):
        if isinstance(item, type) and issubclass(item, serializers.Serializer):
            names.update(name for name, field in item().fields.items() if isinstance(field, RegionCodeField))
    return frozenset(names)
