"""Reads that may go to a streaming read replica (`DATABASE_REPLICA_URL`: README "Read replicas").

Only reads marked as such go there: the coverage figures and the lists of workers and regions,
read by a reading request (GET, HEAD) in a `replica_reads()` block. Everything else stays on
the primary (`default`): authentication, sessions, rate counts, the data version, the access
log, every write, every read inside a transaction, and every read of a request that wrote.

A replica never answers with data older than the data version the caller has seen. The
request reads the primary's WAL flush position in the same round trip as its token or session
(access.authentication, access.sessions), after the data version: every write the caller can
know of (its own, or any whose data version it was shown) committed before that position.
Before the request's first replica read, the replica's replayed position is read once; a
replica behind that position (or out of reach) leaves the request's reads on the primary. The
data version's sequence on the replica says nothing of this: PostgreSQL logs a sequence 32
values ahead, so a standby can show a value ahead of the data it has replayed.

The answer sent says where its marked reads went: `X-Read-From: replica` or `primary`.

Hand-written SQL is never seen by the router: a marked read of its own asks `read_alias()`
which connection to use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponseBase

PRIMARY = "default"
REPLICA = "replica"
# The apps whose tables a marked read may find on the replica: regions, workers, coverage.
# Users, tokens, sessions, access profiles and the access log (auth, knox, sessions, access)
# are always read on the primary.
REPLICA_APPS = frozenset({"villages", "enrollment", "coverage"})
HEADER = "X-Read-From"

logger = logging.getLogger(__name__)


@dataclass
class _Reads:
    """One reading request's reads, as routing sees them."""

    position: str | None = None  # the primary's WAL flush position, read with the token or session
    marked: int = 0  # depth of `replica_reads()` blocks
    wrote: bool = False  # the request wrote data a marked read could read
    chosen: str | None = None  # where its marked reads go, decided on the first one


_current: ContextVar[_Reads | None] = ContextVar("ucj_replica_reads", default=None)


class _Reachability:
    """Whether this process found the replica out of reach, and until when it does not ask again."""

    down_until: float = 0.0
    logged: bool = False


_reachability = _Reachability()


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def position_statement() -> tuple[str, list[Any]] | None:
    """The statement reading the primary's WAL flush position (one row, one column), for a
    request that may read the replica and has not read it yet; None otherwise. Sent after the
    data version's, in the same round trip."""
    reads = _current.get()
    if reads is None or reads.position is not None:
        return None
    return "SELECT pg_current_wal_flush_lsn()::text", []


def position_read(row: Any) -> None:
    """The row `position_statement()` returned."""
    reads = _current.get()
    if reads is not None and row:
        reads.position = row[0]


@contextmanager
def replica_reads() -> Iterator[None]:
    """The reads of this block may go to the replica (a decorator too): those the router sees,
    and hand-written ones that ask `read_alias()`. Outside a reading request with a replica
    configured, nothing changes."""
    reads = _current.get()
    if reads is None:
        yield
        return
    reads.marked += 1
    try:
        yield
    finally:
        reads.marked -= 1


def wrote() -> None:
    """The request wrote: its reads stay on the primary from now on (they must see the write)."""
    reads = _current.get()
    if reads is not None:
        reads.wrote = True


def read_alias() -> str:
    """The connection for a marked read: "replica" when the request may read there and the
    replica has replayed the position read at the request's start, "default" otherwise."""
    reads = _current.get()
    if reads is None or not reads.marked or reads.wrote or connections[PRIMARY].in_atomic_block:
        return PRIMARY
    if reads.chosen is None:
        reads.chosen = _choose(reads.position)
    return reads.chosen


def _choose(position: str | None) -> str:
    if position is None:
        # Nothing read the primary's position with the caller (a request without a token or
        # session): nothing to hold the replica to, so the primary answers.
        return PRIMARY
    if time.monotonic() < _reachability.down_until:
        return PRIMARY
    connection = connections[REPLICA]
    try:
        with connection.cursor() as cursor:
            # NULL when the server is not replaying WAL (not a standby): not caught up.
            cursor.execute("SELECT coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)", [position])
            row = cursor.fetchone()
    except DatabaseError as exc:
        connection.close()
        # Not asked again for a while (`UCJ_REPLICA_RETRY_SECONDS`): each try may wait for a timeout.
        _reachability.down_until = time.monotonic() + settings.UCJ_REPLICA_RETRY_SECONDS
        if not _reachability.logged:
            _reachability.logged = True
            logger.warning("The read replica is out of reach; reads stay on the primary: %s", exc)
        return PRIMARY
    if _reachability.logged:
        _reachability.logged = False
        logger.warning("The read replica is reachable again.")
    return REPLICA if row and row[0] else PRIMARY


class ReplicaRouter:
    """Django's router for a configured replica (`DATABASE_ROUTERS`): a marked read of a region,
    worker or coverage table goes where `read_alias()` says; everything else, every write and
    every migration goes to the primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        if model._meta.app_label in REPLICA_APPS:
            return read_alias()
        return PRIMARY

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        if model._meta.app_label in REPLICA_APPS:
            wrote()
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the same data on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY


class ReplicaReadsMiddleware:
    """Opens a reading request's routing (a replica configured, `UCJ_REPLICA_READS` on) and
    tells, in `X-Read-From`, where its marked reads went. Installed only with a replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD") or not settings.UCJ_REPLICA_READS:
            return self.get_response(request)
        reads = _Reads()
        token = _current.set(reads)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        if reads.chosen is not None:
            response[HEADER] = "replica" if reads.chosen == REPLICA else "primary"
        return response
