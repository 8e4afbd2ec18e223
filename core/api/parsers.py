"""Request body parsers for every endpoint (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"])."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No request of this API nests deeper than a few levels; 32 leaves room without letting a body
# exhaust the interpreter's recursion limit in the parser or in whatever walks the data next.
MAX_JSON_DEPTH = 32


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether parsed JSON nests objects/arrays more than `limit` levels (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a bound on nesting: a body nested deeper than MAX_JSON_DEPTH (or so
    deep that the parser itself runs out of recursion) is a 400 in the one error shape, not a 500."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
            too_deep = True
        else:
            too_deep = _deeper_than(data, MAX_JSON_DEPTH)
        if too_deep:
            raise ParseError(_("The JSON body is nested more than %(depth)d levels deep.") % {"depth": MAX_JSON_DEPTH})
        return data
