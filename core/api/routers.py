"""The router every app's `api/urls.py` uses."""

from rest_framework.routers import SimpleRouter


class Router(SimpleRouter):
    """SimpleRouter (no root view: every API view declares its permissions) whose numeric-id
    routes only match ids a database key can hold: `workers/abc/` or an id of 23 digits does not
    reach the view (where it could overflow the database's integer) and answers the API's JSON 404.
    Viewsets addressed by another field keep their own `lookup_value_regex`."""

    ID_REGEX = r"[0-9]{1,18}"  # below 2**63: a bigint primary key

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if getattr(viewset, "lookup_value_regex", None) is None and viewset.lookup_field in ("pk", "id"):
            kwarg = getattr(viewset, "lookup_url_kwarg", None) or viewset.lookup_field
            return f"(?P<{lookup_prefix}{kwarg}>{self.ID_REGEX})"
        return super().get_lookup_regex(viewset, lookup_prefix)
