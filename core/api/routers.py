"""The router every app's `api/urls.py` uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.routers import SimpleRouter

from core.codes import PATH_PATTERN, region_code

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase
    from rest_framework.views import APIView
    from rest_framework.viewsets import ViewSetMixin

    _View = APIView  # what the mixin below is mixed into, for the type checker only
else:
    _View = object


class Router(SimpleRouter):
    """SimpleRouter (no root view: every API view declares its permissions) whose numeric-id
    routes only match ids a database key can hold: `workers/abc/` or an id of 23 digits does not
    reach the view (where it could overflow the database's integer) and answers the API's JSON 404.
    Viewsets addressed by another field keep their own `lookup_value_regex`."""

    ID_REGEX = r"[0-9]{1,18}"  # below 2**63: a bigint primary key

    def get_lookup_regex(self, viewset: type[ViewSetMixin], lookup_prefix: str = "") -> str:
        lookup_field = getattr(viewset, "lookup_field", "pk")  # as SimpleRouter reads it
        if getattr(viewset, "lookup_value_regex", None) is None and lookup_field in ("pk", "id"):
            kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
            return f"(?P<{lookup_prefix}{kwarg}>{self.ID_REGEX})"
        return super().get_lookup_regex(viewset, lookup_prefix)


class RegionCodeInPath(_View):
    """A viewset addressed by region code (`regencies/{code}/`): either spelling (`15.08` or
    `1508`, core.codes) reaches the same object and the same answer, the view always reading the
    dotted code. A segment that is no code (`15.8`) is passed on as sent and found nowhere (404);
    one with other characters matches no route (the API's JSON 404). Views routed with
    `path()` take the `<region:...>` converter instead, which does the same."""

    lookup_field = "code"
    lookup_value_regex = PATH_PATTERN
    region_code_in_path = True  # the schema describes the spellings (core.api.schema)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        name = getattr(self, "lookup_url_kwarg", None) or self.lookup_field
        if isinstance(kwargs.get(name), str):
            kwargs[name] = region_code(kwargs[name]) or kwargs[name]
        return super().dispatch(request, *args, **kwargs)
