"""What one request learns about its caller and the data, once, in one typed place.

Every entry point asks the same questions many times over a request: the caller's scope, whether
it may see personal data, its rate-limit count, the data version. The answers are kept in the
request's `RequestContext`, opened by `RequestContextMiddleware` for the length of the request
(a context variable: each thread or task has its own). The token check fills in what it reads
with the token in one round trip (the personal-data right, the count, the version;
access.authentication); a session's reads do the same in two (the session with the version,
access.sessions; the user with the right and, for a page that counts it, the count,
access.backends); the rest is computed on first use.

Outside a request (commands, jobs, tests calling services) there is no context: every question
is answered afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponseBase

from core.data_version import Versions, versions

from .personal_data import personal_data_right
from .scope import NOTHING, Scope, scope_compute


@dataclass(frozen=True)
class Counted:
    """A request already counted (with the token's lookup): the count and when it was made."""

    hits: int
    now: float


@dataclass(frozen=True)
class RateLimitState:
    """A counted caller's rate: requests allowed in the window, left in it, seconds until it ends."""

    limit: int
    remaining: int
    reset: int


@dataclass
class RequestContext:
    """The answers of one request. `user_id` is the caller they are about: the first user asked
    about (the one authenticated); questions about anyone else are answered afresh."""

    user_id: int | None = None
    scope: Scope | None = None
    personal_data: bool | None = None
    rate_counted: Counted | None = None  # counted with the token's lookup
    rate_limit: RateLimitState | None = None  # for the RateLimit-* headers of the answer
    # The data and region versions, read with the token's lookup or the session, or by the first
    # read of the data (safe methods).
    versions: Versions | None = None
    reading: bool = False  # a safe method (GET, HEAD): the data version read first holds for the request
    # A view that counts its signed-in caller (access.throttling.counted_per_user): counted with
    # the session user's lookup (access.backends).
    user_counted_along: bool = False

    def about(self, user_id: int) -> bool:
        if self.user_id is None:
            self.user_id = user_id
        return self.user_id == user_id


_current: ContextVar[RequestContext | None] = ContextVar("ucj_request_context", default=None)


def request_context() -> RequestContext | None:
    """The current request's context, or None outside a request."""
    return _current.get()


@contextmanager
def request_context_open() -> Iterator[RequestContext]:
    """A fresh context for the block (a request, or a job acting as one caller)."""
    context = RequestContext()
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def caller_context(user: object) -> RequestContext | None:
    """The current context if it is about `user` (claiming it for `user` if about nobody yet)."""
    context = _current.get()
    pk = getattr(user, "pk", None)
    if context is None or pk is None or not context.about(pk):
        return None
    return context


def _active(user: object) -> bool:
    return (
        user is not None and bool(getattr(user, "is_authenticated", False)) and bool(getattr(user, "is_active", False))
    )


def scope_for(user: object) -> Scope:
    """The caller's scope (access.scope), computed once per request."""
    if not _active(user):
        return NOTHING
    context = caller_context(user)
    if context is None:
        return scope_compute(user)
    if context.scope is None:
        # Kept under the version of everything but the workers (regions, branches), which is all
        # a scope is made of.
        known = request_versions(context)
        context.scope = scope_compute(user, version=None if known is None else known.everywhere)
    return context.scope


def request_versions(context: RequestContext) -> Versions | None:
    """The data and region versions as the request knows them: for a reading request (GET), the
    ones read with its token or its session, or read now, before any of its data, and kept for
    all of it (`versions` moves them on first if the transaction has written since: a test's
    own writes). A write request asks when it needs them (it may have written since)."""
    if context.reading:
        context.versions = versions(read_along=context.versions)
    return context.versions


def request_data_version(context: RequestContext) -> int | None:
    """The data version as the request knows it (`request_versions`)."""
    known = request_versions(context)
    return None if known is None else known.data


def may_see_personal_data(user: object) -> bool:
    """Whether `user` sees full NIK, birth date and phone (access.personal_data), decided once per
    request: a token's check reads it with the token."""
    if not _active(user):
        return False
    context = caller_context(user)
    if context is None:
        return personal_data_right(user)
    if context.personal_data is None:
        context.personal_data = personal_data_right(user)
    return context.personal_data


def can_see_personal_data(request: object) -> bool:
    """The same for the caller of a request: an API request or a plain Django one (the admin)."""
    return may_see_personal_data(getattr(request, "user", None))


class RequestContextMiddleware:
    """Opens the request's context; its answer carries the RateLimit-* headers of a caller
    counted against its own rate (a token or a session user), 429s included. Once the view is
    known, notes whether it counts its signed-in caller, so that the count goes with the
    caller's lookup (which happens later, on first use of `request.user`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with request_context_open() as context:
            context.reading = request.method in ("GET", "HEAD", "OPTIONS")
            response = self.get_response(request)
            state = context.rate_limit
        if state is not None:
            response.headers["RateLimit-Limit"] = str(state.limit)
            response.headers["RateLimit-Remaining"] = str(state.remaining)
            response.headers["RateLimit-Reset"] = str(state.reset)
        return response

    def process_view(self, request: HttpRequest, view: Callable[..., Any], *args: Any) -> None:
        context = _current.get()
        if context is not None and getattr(view, "counted_per_user", False):
            context.user_counted_along = True
