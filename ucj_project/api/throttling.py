"""Rate limits: per token (or session user), per anonymous address, and for login attempts.

Counts are fixed windows kept in the database (`access.RateCount`), so every server process
enforces the same limit, and each request costs one atomic `INSERT ... ON CONFLICT DO UPDATE
... RETURNING`: no read-modify-write race between processes, and no list of timestamps to load
and store as DRF's default (cache-based, sliding-window) throttles do. A fixed window lets a
caller spend up to twice the rate across a window boundary; that is the price of one
statement per request. DRF answers 429 with Retry-After.
"""

from __future__ import annotations

import random

from django.db import connection
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from access.models import RateCount

# One request in this many also deletes the counts of windows long gone.
CLEANUP_ONE_IN = 512
CLEANUP_GRACE_SECONDS = 3600


def _hit(key: str, window: int, expires: int) -> int:
    """Count one request of `key` in `window`; returns the window's count so far."""
    table = connection.ops.quote_name(RateCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, window_no, hits, expires) VALUES (%s, %s, 1, %s) "
            "ON CONFLICT (key) DO UPDATE SET "
            f"hits = CASE WHEN {table}.window_no = excluded.window_no THEN {table}.hits + 1 ELSE 1 END, "
            "window_no = excluded.window_no, expires = excluded.expires "
            "RETURNING hits",
            [key, window, expires],
        )
        hits = cursor.fetchone()[0]
        if random.randrange(CLEANUP_ONE_IN) == 0:  # noqa: S311 - not security: spreads the cleanup
            cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [expires - CLEANUP_GRACE_SECONDS])
    return hits


class WindowCountThrottle(SimpleRateThrottle):
    """DRF's rate parsing and keys, with database window counts instead of cached histories."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        if _hit(self.key, window, int(self.window_end)) > self.num_requests:
            return self.throttle_failure()
        return True

    def wait(self) -> float:
        return max(1.0, self.window_end - self.now)


class TokenRateThrottle(WindowCountThrottle):
    """Per API token; session users (the browsable API) are limited per user."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        token_key = getattr(request.auth, "token_key", None)
        ident = f"t{token_key}" if token_key else f"u{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(WindowCountThrottle):
    scope = "anon"

    get_cache_key = AnonRateThrottle.get_cache_key


class LoginRateThrottle(AnonymousRateThrottle):
    """Login attempts per IP, whatever the username."""

    scope = "login"
