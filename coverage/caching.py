"""Conditional requests (ETag / If-None-Match → 304) and a per-process cache for coverage answers.

A coverage answer is a function of the data, the request (path, query, format) and the
caller's scope. The data part is summarised by one number, the data version, which every
write that can change an answer bumps *after it commits*. A reader reads the version before
the data, so whatever it computes is at least as new as the version it files it under; a
version seen by a reader never names data older than what was committed when it was bumped.

- ETag = hash(version, path, query, format, scope): an unchanged answer costs one read of the
  version and no computation (304).
- Computed answers are kept in the process's own cache (`CACHES["coverage"]`) under a key
  with the version in it: processes never have to agree on what is stale, and an entry simply
  stops being asked for once the version moves on. A JSON answer is kept as sent, too: asked
  again, it costs the version read and a cache lookup.

A view declares it with `@conditional_answer` on its handler (in the spirit of Django's
`condition`), and computes through `cached(compute, ...)`. A view whose answer is about one
region and the regions under it says which (`answer_region(request, kwargs)`, a code, or None
for an answer that reads the whole country): the answer is then filed under that province's
version and everything else's instead of the country's data version (core.data_version), so a
write in Aceh does not retire Jambi's answers.

The version itself (read, bump) is core.data_version: every app's writes bump it.

With a read replica (core.routing) the version is still read on the primary, at the request's
start, before the primary's WAL position; an answer computed on the replica was computed only
once the replica had replayed that position, so it is at least as new as the version it is
filed under, as one computed on the primary is.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Concatenate, ParamSpec, TypeVar

from django.core.cache import caches
from django.http import HttpResponse, HttpResponseBase
from django.utils import translation
from rest_framework.request import Request
from rest_framework.response import Response

from access.context import request_context, scope_for
from access.scope import Scope
from core.clock import today
from core.data_version import Versions, versions

P = ParamSpec("P")
T = TypeVar("T")
View = TypeVar("View")

# The request parameters that only page or format an answer: the computed rows are the same.
PRESENTATION_PARAMS = {"page", "page_size", "format"}
# The cache key of what the handler running under `conditional_answer` computes (`cached`).
_computing: ContextVar[str | None] = ContextVar("ucj_coverage_computing", default=None)


def _scope_key(scope: Scope) -> str:
    if scope.everything:
        return "all"
    return f"p{sorted(scope.province_ids)}r{sorted(scope.regency_ids)}"


def _digest(*parts: Any) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


def _if_none_match(request: Request) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def conditional_answer(
    handler: Callable[Concatenate[View, Request, P], Response],
) -> Callable[Concatenate[View, Request, P], HttpResponseBase]:
    """A view handler whose answer depends only on the data, the request and the caller's scope:
    answered with 304 when the caller's ETag is current; otherwise run, its values computed
    through `cached` kept for this version, and the response tagged with the ETag.

    A JSON answer is also kept whole, as sent: the same request (same version, query, scope,
    language and host, which its page links name) is answered with those bytes, without
    validating, paging or rendering again. Only successful JSON (and ADX) answers carry an ETag;
    files (CSV, XLSX) are always produced afresh, so every export is logged.
    """

    @functools.wraps(handler)
    def answer(view: View, request: Request, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        scope_key = _scope_key(scope_for(request.user))
        known = _versions()  # a token's check read the versions with the token
        # An answer about one province's regions is filed under that province's version (and
        # everything else's): writes elsewhere in the country leave it good. The default date is
        # today's: answers change at midnight.
        region_of = getattr(view, "answer_region", None)
        version = (known.of(region_of(request, kwargs) if region_of is not None else None), today())
        fmt = request.query_params.get("format") or request.accepted_renderer.format
        query = sorted(request.query_params.lists())
        language = translation.get_language()
        path = _answer_path(request)
        etag = f'"{_digest(version, path, query, fmt, scope_key, language)}"'
        conditional_format = fmt in ("json", "api", "geojson", "adx")
        if conditional_format and etag in _if_none_match(request):
            return _tagged(Response(status=304), etag)
        cache = caches["coverage"]
        kept_format = fmt in ("json", "geojson", "adx")
        body_key = "body:" + _digest(etag, request.scheme, request.get_host()) if kept_format and keeping() else None
        if body_key is not None:
            kept = cache.get(body_key)
            if kept is not None:
                content_type, body = kept
                return _tagged(HttpResponse(body, content_type=content_type), etag)
        computed_query = [(k, v) for k, v in query if k not in PRESENTATION_PARAMS]
        computing = _computing.set("cov:" + _digest(version, path, computed_query, scope_key, language))
        try:
            response = handler(view, request, *args, **kwargs)
        finally:
            _computing.reset(computing)
        if conditional_format and response.status_code == 200:
            _tagged(response, etag)
            if body_key is not None:
                response.add_post_render_callback(
                    lambda done: cache.set(body_key, (done["Content-Type"], done.content))
                )
        return response

    # The schema documents ETag, If-None-Match and 304 for the handlers that have them (core.api.schema).
    answer.conditional_answers = True  # type: ignore[attr-defined]
    return answer


def _answer_path(request: Request) -> object:
    """What the path says of the answer: its route and arguments as the view reads them, so
    `coverage/1508/` and `coverage/15.08/` (a region code in either spelling, core.codes) are one
    answer with one ETag; the region-code query parameters were dotted before (core.api.parameters)."""
    match = request.resolver_match
    if match is None or not match.kwargs:
        return request.path
    return (match.route, sorted(match.kwargs.items()))


def keeping() -> bool:
    """Whether the coverage cache keeps anything (`UCJ_COVERAGE_CACHE_SECONDS` 0 keeps nothing:
    then nothing is looked up or pickled for it either)."""
    return caches["coverage"].default_timeout != 0


def cached(compute: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`compute(*args, **kwargs)`, from the process cache when this version of the answer has
    already computed it. Called by a `conditional_answer` handler: the value is filed under the
    same version, path, query (less paging and format), scope and language as its answer."""
    key = _computing.get()
    if key is None:
        raise RuntimeError("cached() computes for a handler decorated with @conditional_answer.")
    if not keeping():
        return compute(*args, **kwargs)
    cache = caches["coverage"]
    key = f"{key}:{compute.__module__}.{compute.__qualname__}"  # one answer may keep several values
    value: T | None = cache.get(key)
    if value is None:
        value = compute(*args, **kwargs)
        cache.set(key, value)
    return value


def _tagged(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    response["ETag"] = etag
    # Private: answers depend on who asks. no-cache: keep it, but ask (cheaply) before reuse.
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Authorization, Cookie, Accept, Accept-Language"
    return response


def remembered(compute: Callable[..., T], /, **kwargs: Any) -> T:
    """`compute(**kwargs)`, from the process cache when this data version has already computed
    it: for a page that is not a `conditional_answer` (the portal's), the same cache, the same
    versions, the same scope rule as the API's answers. Every argument is part of the key (a
    scope by its regions), and so are the function and the language."""
    version = _version_today()
    arguments = sorted((name, _scope_key(v) if isinstance(v, Scope) else v) for name, v in kwargs.items())
    key = "page:" + _digest(version, compute.__module__, compute.__qualname__, arguments, translation.get_language())
    if not keeping():
        return compute(**kwargs)
    cache = caches["coverage"]
    value: T | None = cache.get(key)
    if value is None:
        value = compute(**kwargs)
        cache.set(key, value)
    return value


def shown_key(*parts: Any, scope: Scope) -> str:
    """The key under which a page's part that shows figures is kept as rendered (a template's
    `{% cache %}` in the same cache): this data version and day, `parts` (the page's path and
    query), the caller's regions and capabilities (what it may see and do changes the links and
    buttons shown), and the language."""
    capabilities = sorted(scope.capabilities)
    return "shown:" + _digest(_version_today(), parts, _scope_key(scope), capabilities, translation.get_language())


def _versions() -> Versions:
    """The data and region versions. A reading request (GET) reads them once, before any of its
    data, and keeps them: they hold for everything the request reads after."""
    context = request_context()
    known = versions(read_along=context.versions if context is not None else None)
    if context is not None and context.reading:
        context.versions = known
    return known


# The region a portal page is about (`page_about`), or None for a page about the whole country.
_page_region: ContextVar[str | None] = ContextVar("ucj_page_region", default=None)


@contextmanager
def page_about(code: str | None) -> Iterator[None]:
    """Within it, a page's remembered values and rendered parts (`remembered`, `shown_key`) are
    about the region coded `code` and the regions under it: filed under that province's version
    and everything else's, as an API answer that declares its `answer_region`, so a write in
    another province leaves them good. None: the page reads the whole country."""
    token = _page_region.set(code)
    try:
        yield
    finally:
        _page_region.reset(token)


def _version_today() -> tuple[tuple[int, ...], Any]:
    """The versions a page's answers are filed under (`page_about`), and today."""
    return _versions().of(_page_region.get()), today()
