"""Rate limits: per token (or session user), per anonymous address, and for login attempts.

Counts are fixed windows kept in the database (`access.RateCount`), so every server process
enforces the same limit, and each request costs one atomic `INSERT ... ON CONFLICT DO UPDATE
... RETURNING`: no read-modify-write race between processes, and no list of timestamps to load
and store as DRF's default (cache-based, sliding-window) throttles do. A fixed window lets a
caller spend up to twice the rate across a window boundary; that is the price of one
statement per request. DRF answers 429 with Retry-After.

Where a request is counted:
- With an API token, its count travels with the token's lookup, in the same round trip
  (`access.authentication.TokenAuthentication`), and `TokenRateThrottle` reads it.
- Without one (or with one that fails), the caller's address is counted by the last
  authentication class, `AnonymousRateLimit`, before any permission is checked: requests
  refused with 401, token guessing included, use up the anonymous rate too. DRF itself would
  check throttles only after authentication and permissions.
- A session user (the browsable API) is counted by `TokenRateThrottle`, per user; the same
  count and rate hold for its requests of the portal's pages (`TokenRateThrottle.allow_user`).
  A view marked `counted_per_user` (the portal's) has the count travel with the session user's
  lookup (`access.backends`), in the same round trip.

A user's access profile may set its own rate (`AccessProfile.rate_limit`, requests a minute),
for each of its tokens and its session, instead of `UCJ_RATE_TOKEN`. The profile comes with the
token's lookup (or the session's user, `access.backends`): reading it costs no query. Answers to
a counted caller say where it stands: `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` (seconds until the window ends), added by `access.context.RequestContextMiddleware`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import F
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import Throttled
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from access.context import Counted, RateLimitState, caller_context
from access.models import RateCount
from core.db import Joined, Statement

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

_View = TypeVar("_View", bound=Callable[..., Any])

# Counts of windows that ended this long ago are deleted along the way.
CLEANUP_GRACE_SECONDS = 3600
# ... by each server process at most once in this many seconds: the DELETE costs about as much
# as the rest of a token's check (0.08 ms in-process on the national benchmark's database).
CLEANUP_EVERY_SECONDS = 60.0
_clock = time.monotonic
_next_cleanup = 0.0  # when this process next deletes along the way (`_clock`)


def _cleanup_due() -> bool:
    """Whether the count being made now deletes the long-gone counts along the way (and, if so,
    the next one only after CLEANUP_EVERY_SECONDS)."""
    global _next_cleanup
    now = _clock()
    if now < _next_cleanup:
        return False
    _next_cleanup = now + CLEANUP_EVERY_SECONDS
    return True


def _upsert(table: str) -> str:
    """The upsert counting requests of a key in a window (parameters: key, window, amount,
    expires), returning the window's count so far."""
    return (
        f"INSERT INTO {table} (key, window_no, hits, expires) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (key) DO UPDATE SET "
        f"hits = CASE WHEN {table}.window_no = excluded.window_no THEN {table}.hits + excluded.hits "
        "ELSE excluded.hits END, "
        "window_no = excluded.window_no, expires = excluded.expires "
        "RETURNING hits"
    )


def _expired(table: str) -> str:
    # The key counted now is left alone: one statement must not both delete and update a row.
    return f"expired AS (DELETE FROM {table} WHERE expires < %s AND key <> %s)"


def count_statement(key: str, window: int, expires: int, amount: int = 1) -> Statement:
    """The statement that counts `amount` requests (or lookups) of `key` in `window` and returns
    the window's count so far. On PostgreSQL it also deletes, once a minute in each process
    (`_cleanup_due`), the counts of other keys whose windows ended over an hour ago, so the table
    holds only recent callers. SQLite cannot delete in the same statement, and a development
    server has few callers: it keeps them.
    """
    return _count(key, window, expires, amount, cleanup=connection.vendor == "postgresql" and _cleanup_due())


def _count(key: str, window: int, expires: int, amount: int, *, cleanup: bool) -> Statement:
    table = connection.ops.quote_name(RateCount._meta.db_table)
    upsert = _upsert(table)
    if not cleanup:
        return upsert, [key, window, amount, expires]
    return f"WITH {_expired(table)} {upsert}", [expires - CLEANUP_GRACE_SECONDS, key, key, window, amount, expires]


def count_joined(key: str, window: int, expires: int, amount: int = 1) -> Joined:
    """`count_statement` as a column that rides in another statement (core.db.fetch_joined; on
    PostgreSQL: its DELETE, when due, and upsert in the other statement's WITH)."""
    if connection.vendor != "postgresql":
        alone = count_statement(key, window, expires, amount)
        return Joined(columns=[], params=[], ctes="", cte_params=[], alone=alone)
    cleanup = _cleanup_due()
    table = connection.ops.quote_name(RateCount._meta.db_table)
    counted = f"counted AS ({_upsert(table)})"
    return Joined(
        columns=["(SELECT hits FROM counted)"],
        params=[],
        ctes=f"{_expired(table)}, {counted}" if cleanup else counted,
        cte_params=[*([expires - CLEANUP_GRACE_SECONDS, key] if cleanup else []), key, window, amount, expires],
        alone=_count(key, window, expires, amount, cleanup=cleanup),
    )


def counted_per_user(view: _View) -> _View:
    """Mark a view that counts its signed-in caller's request against the user's rate
    (`TokenRateThrottle.allow_user`): the count is then made with the session user's lookup, in
    the same round trip (`access.context.RequestContextMiddleware`, `access.backends`). Decorators
    that wrap the view with `functools.wraps` keep the mark."""
    view.counted_per_user = True  # type: ignore[attr-defined]
    return view


def hit(key: str, window: int, expires: int, amount: int = 1) -> int:
    """Count `amount` requests of `key` in `window`; returns the window's count so far."""
    with connection.cursor() as cursor:
        cursor.execute(*count_statement(key, window, expires, amount))
        return cursor.fetchone()[0]


class WindowCountThrottle(SimpleRateThrottle):
    """DRF's rate parsing and keys, with database window counts instead of cached histories."""

    # Parsed from the rate by SimpleRateThrottle.__init__ (None without one; read only with one).
    num_requests: int
    duration: int
    window_end: float

    def window(self, now: float | None = None) -> tuple[int, int]:
        """The window's number at `now` (the current time if not given) and the second it ends
        (both kept for `wait`)."""
        self.now = self.timer() if now is None else now
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        return window, int(self.window_end)

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        return self.allow_count(hit(self.key, *self.window()))

    def allow_count(self, hits: int) -> bool:
        return self.throttle_failure() if hits > self.num_requests else True

    def wait(self) -> float:
        return max(1.0, self.window_end - self.now)


class TokenRateThrottle(WindowCountThrottle):
    """Per API token; session users (the browsable API) are limited per user. A user whose
    access profile sets `rate_limit` has that rate instead of the default."""

    scope = "token"

    def token_key(self, token_key: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": f"t{token_key}"}

    def user_key(self, user_pk: Any) -> str:
        """The key of a session user's count (its requests of the API and of the portal)."""
        return self.cache_format % {"scope": self.scope, "ident": f"u{user_pk}"}

    def limit_for(self, user: Any) -> int:
        """The requests `user` may make in a window: its profile's `rate_limit` (a minute's
        worth, scaled to the window should `UCJ_RATE_TOKEN` count by another period), or the
        default. The profile came with the caller (its token's lookup, the session's user)."""
        if not getattr(user, "is_authenticated", False):
            return self.num_requests
        if user.is_superuser:  # superusers are admins without a profile (access.models)
            return self.num_requests
        try:
            profile = user.access_profile
        except ObjectDoesNotExist:
            return self.num_requests
        per_minute = profile.rate_limit
        if per_minute is None:
            return self.num_requests
        return max(1, round(per_minute * self.duration / 60))

    def settle(self, request: Request, user: Any, counted: Counted) -> int:
        """Take `user`'s rate and the window of `counted`, and keep where the caller stands for
        the RateLimit-* headers of its answer; returns the window's count."""
        self.num_requests = self.limit_for(user)
        self.window(counted.now)
        context = caller_context(user)
        if context is not None:  # for the RateLimit-* headers (access.context)
            context.rate_limit = RateLimitState(
                limit=self.num_requests,
                remaining=max(0, self.num_requests - counted.hits),
                reset=max(1, math.ceil(self.window_end - self.now)),
            )
        return counted.hits

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        context = caller_context(request.user)
        counted = context.rate_counted if context is not None else None
        if counted is None:  # a session user: counted now
            self.key = self.get_cache_key(request, view)
            if self.key is None:
                return True
            counted = Counted(hits=hit(self.key, *self.window()), now=self.now)
        return self.allow_count(self.settle(request, request.user, counted))

    def allow_user(self, request: Any) -> bool:
        """A signed-in user's request outside DRF (a portal page): counted per user, against the
        same count and rate as the user's session in the API (a request of no one is not)."""
        user: Any = getattr(request, "user", None)
        if self.rate is None or user is None or not user.is_authenticated:
            return True
        context = caller_context(user)
        counted = context.rate_counted if context is not None else None
        if counted is None:  # not counted with the user's lookup (access.backends): counted now
            self.key = self.user_key(user.pk)
            counted = Counted(hits=hit(self.key, *self.window()), now=self.now)
        return self.allow_count(self.settle(request, user, counted))

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not getattr(request.user, "is_authenticated", False):  # no user (None) or an anonymous one
            return None
        token_key = getattr(request.auth, "token_key", None)
        if token_key:
            return self.token_key(token_key)
        return self.user_key(request.user.pk)


class AnonymousRateThrottle(WindowCountThrottle):
    scope = "anon"

    get_cache_key = AnonRateThrottle.get_cache_key


class AnonymousRateLimit(BaseAuthentication):
    """The last authentication class: authenticates no one, but counts a caller that none of
    the others recognised, by address, and refuses it with 429 beyond the anonymous rate. As an
    authentication class it runs before the permissions, so refused requests count too."""

    def authenticate(self, request: Request) -> None:
        """Nobody (the request goes on as anonymous), or 429 beyond the rate."""
        throttle = AnonymousRateThrottle()
        if throttle.rate is not None:
            key = throttle.cache_format % {"scope": throttle.scope, "ident": throttle.get_ident(request)}
            if not throttle.allow_count(hit(key, *throttle.window())):
                raise Throttled(throttle.wait())


class LoginRateThrottle(AnonymousRateThrottle):
    """Login attempts per IP, whatever the username."""

    scope = "login"


class NikLookupRate(WindowCountThrottle):
    """Exact-NIK lookups of a caller who may not see personal data (`UCJ_RATE_NIK_LOOKUP`):
    searches by full NIK, NIKs sent in a registration or edit, rows of an import. Counted per
    NIK rather than per request, since one import can look up thousands of them."""

    scope = "nik_lookup"

    def count(self, user_pk: int, lookups: int) -> bool:
        """Count `lookups` for the user; False (and nothing counted) beyond the rate."""
        if self.rate is None:
            return True
        key = self.cache_format % {"scope": self.scope, "ident": f"u{user_pk}"}
        window, expires = self.window()
        if hit(key, window, expires, lookups) <= self.num_requests:
            return True
        # A refused batch does not use up the rate.
        RateCount.objects.filter(key=key, window_no=window).update(hits=F("hits") - lookups)
        return False
