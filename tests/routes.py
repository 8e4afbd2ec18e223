"""The URL patterns of the v1 API as the tests walk them: the access matrix (every view declares
its capabilities) and the bad-input tests (every detail route answers a malformed id)."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver


def api_patterns() -> Iterator[tuple[str, URLPattern]]:
    """(route, pattern) of every URL pattern under /api/v1/; the route is the patterns' regexes
    joined, without their "^" anchors."""

    def walk(patterns, prefix: str) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^")
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                yield route, pattern

    yield from walk(get_resolver().url_patterns, "")
