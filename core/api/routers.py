"""The router every app's `api/urls.py` uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.routers import SimpleRouter

if TYPE_CHECKING:
    from rest_framework.viewsets import ViewSetMixin


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
