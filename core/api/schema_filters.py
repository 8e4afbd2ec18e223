"""What `search` and `ordering` take, in the schema: DRF describes them on every list as "A
search term." and "Which field to use when ordering the results."; these extensions say which
fields a list's search matches and its ordering sorts by (the AutoSchema documents them only on
the lists that read them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.extensions import OpenApiFilterExtension

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema

# How each searched field is matched (DRF's default lookup: a part of it, any case).
SEARCHED = {"name": "the name", "code": "the code"}


class SearchFilterExtension(OpenApiFilterExtension):
    target_class = "rest_framework.filters.SearchFilter"

    def get_schema_operation_parameters(
        self, auto_schema: AutoSchema, *args: Any, **kwargs: Any
    ) -> list[dict[str, Any]]:
        fields = getattr(auto_schema.view, "search_fields", None)
        if not fields:
            return []  # not searched here (or searched by the view's filterset, which says how)
        matched = " or ".join(SEARCHED.get(field, f"`{field}`") for field in fields)
        return [
            {
                "name": self.target.search_param,
                "in": "query",
                "required": False,
                "description": f"A part of {matched}, any case (`bungo`).",
                "schema": {"type": "string"},
            }
        ]


class OrderingFilterExtension(OpenApiFilterExtension):
    target_class = "rest_framework.filters.OrderingFilter"

    def get_schema_operation_parameters(
        self, auto_schema: AutoSchema, *args: Any, **kwargs: Any
    ) -> list[dict[str, Any]]:
        view = auto_schema.view
        fields = getattr(view, "ordering_fields", None)
        if not fields or fields == "__all__":
            return []
        default = ", ".join(f"`{field}`" for field in getattr(view, "ordering", None) or [])
        names = ", ".join(f"`{field}`" for field in fields)
        return [
            {
                "name": self.target.ordering_param,
                "in": "query",
                "required": False,
                "description": f"Sort by {names}; `-` before a field for descending (`-{fields[0]}`); "
                f"several separated by commas. Default: {default}.",
                "schema": {"type": "string"},
            }
        ]
