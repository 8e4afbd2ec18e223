"""The data version: one number that every write which can change an answer moves on after it
commits, so that answers computed from the data can be filed (and ETagged) under it.

A reader reads the version before the data, so whatever it computes is at least as new as the
version it files it under; a version seen by a reader never names data older than what was
committed when it was bumped. Any app's writes bump it (regions, workers, counters); coverage's
conditional answers (coverage.caching) read it, and so does the token check (access.authentication),
which reads it along with the token.

On PostgreSQL the version is a sequence: `nextval` takes no lock and waits for nobody, so
writers all over the country never queue behind it. Elsewhere it is the `DataVersion` row.

Beside it, each province has a version of its own (`RegionVersion`), set to a new value (its
own sequence on PostgreSQL) by a write that changes only that province's workers, and a row for
everything else (regions, targets, rates, branches, snapshots, recounts: any write that does not
name its provinces moves it). An answer about one province's regions depends on the workers of that province and on
everything else only: filed under those two versions, it stays good while writers elsewhere in
the country move the data version on (coverage.caching). The rows are written in the writer's
transaction, last, each set to a fresh `nextval` taken under the row's lock (a row's version only
grows), and become visible with the data they version.

All three were created by coverage's migrations (coverage.models) and are kept there; this
module only names them, so that a lower app bumps the versions without importing coverage.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import connection, transaction

from core.db import Joined, Statement, WriteBatch, once_committed
from core.routing import wrote

SEQUENCE = "coverage_data_version_seq"
REGION_VERSIONS = "coverage_regionversion"
# The region versions' own sequence (a value taken by a transaction that rolls back moves no
# reader's data version).
REGION_SEQUENCE = "coverage_region_version_seq"
# The data version moved on, on PostgreSQL.
_BUMP: Statement = (f"SELECT nextval('{SEQUENCE}')", [])
PROVINCES = "villages_province"
# The region versions' row of everything that is not one province's workers.
EVERYWHERE = 0


@dataclass(frozen=True)
class Versions:
    """The data version and the region versions ({province code: version}, "" for everything
    that is not one province's workers), as read together."""

    data: int
    regions: Mapping[str, int] = field(default_factory=dict)

    def of(self, code: str | None) -> tuple[int, ...]:
        """The version under which an answer about the region coded `code` and the regions
        under it is filed: the province's own with everything else's; the data version for an
        answer about the whole country (None)."""
        if code is None:
            return (self.data,)
        return (self.regions.get("", 0), self.regions.get(code[:2], 0))

    @property
    def everywhere(self) -> int:
        """The version of everything but the workers (regions, branches, targets, ...)."""
        return self.regions.get("", 0)


def _versions_read(row: tuple[object, ...] | None) -> Versions:
    if not row or row[0] is None:
        return Versions(0)
    regions: dict[str, int] = {}
    for pair in str(row[1] or "").split(","):
        if pair:
            code, version = pair.rsplit("=", 1)
            regions[code] = int(version)
    return Versions(int(row[0]), regions)  # type: ignore[call-overload]


class _WriteState(threading.local):
    """This thread's writes as the version sees them (Django's connections are per thread too).

    `unread`: the current transaction wrote since the version was last read, so a read in it
    moves the version on first. `commits`: the bumps run by this thread after a commit. Each
    write of a transaction promises one, remembering that count: the first promise of a commit
    to run moves the version on, and the others of the same commit find the count moved."""

    unread: bool = False
    commits: int = 0


_state = _WriteState()


def version_statement() -> Statement:
    """The statement that reads the current data version and the region versions (one row: the
    version, the region versions as text `code=version,...`, `=version` for everything else)."""
    regions = (
        f"SELECT {{agg}}(COALESCE(p.code, '') || '=' || v.version{{sep}}) FROM {REGION_VERSIONS} v "
        f"LEFT JOIN {PROVINCES} p ON p.id = v.province_id"
    )
    if connection.vendor == "postgresql":
        agg = regions.format(agg="string_agg", sep=", ','")
        return f"SELECT last_value + is_called::int, ({agg}) FROM {SEQUENCE}", []
    agg = regions.format(agg="group_concat", sep=", ','")
    return f"SELECT (SELECT version FROM coverage_dataversion WHERE id = 1), ({agg})", []


def version_joined() -> Joined:
    """`version_statement` as columns that ride in another statement (core.db.fetch_joined)."""
    alone = version_statement()
    regions = (
        f"(SELECT string_agg(COALESCE(p.code, '') || '=' || v.version, ',') FROM {REGION_VERSIONS} v "
        f"LEFT JOIN {PROVINCES} p ON p.id = v.province_id)"
    )
    return Joined(
        columns=[f"(SELECT last_value + is_called::int FROM {SEQUENCE})", regions],
        params=[],
        ctes="",
        cte_params=[],
        alone=alone,
    )


def versions_of(row: tuple[object, ...] | None) -> Versions:
    """The versions in a row read by `version_statement` (none read: all 0)."""
    return _versions_read(row)


def versions(*, read_along: Versions | None = None) -> Versions:
    """The current versions (the data version moved on first if this transaction wrote since it
    last asked).

    `read_along`: the versions as read along with the request's token or session
    (access.context), which came before any of the request's reads of the data, which is all a
    version must do; using them saves a round trip.
    """
    unread_write = _state.unread and connection.in_atomic_block
    if read_along is not None and not unread_write:
        return read_along
    if unread_write:
        _data_bump()  # (the commit moves it on again)
    with connection.cursor() as cursor:
        cursor.execute(*version_statement())
        row = cursor.fetchone()
    return _versions_read(row)


def data_version(*, read_along: int | None = None) -> int:
    """The current data version (see `versions`)."""
    unread_write = _state.unread and connection.in_atomic_block
    if read_along is not None and not unread_write:
        return read_along
    return versions().data


def _bumped() -> None:
    _state.unread = False


def _data_bump() -> None:
    """Move the data version on."""
    _state.unread = False
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(*_BUMP)
        else:
            # The row is the migration's; a test database emptied by a flush has none until now.
            cursor.execute(
                "INSERT INTO coverage_dataversion (id, version) VALUES (1, 1) "
                "ON CONFLICT (id) DO UPDATE SET version = version + 1"
            )


def _regions_statement(provinces: Iterable[int]) -> Statement:
    """The statement setting the region versions of `provinces` (EVERYWHERE: the row of
    everything else) to a new value each. In a transaction, the rows stay locked until it ends
    and the new values become visible with its writes, at its commit."""
    rows = sorted(set(provinces))  # in one order: two writers never wait for each other in a circle
    if connection.vendor == "postgresql":
        # A fresh value, taken under the row's lock: a row's version only grows.
        return (
            f"INSERT INTO {REGION_VERSIONS} (province_id, version) "
            f"SELECT p, nextval('{REGION_SEQUENCE}') FROM unnest(%s::int[]) AS p ORDER BY p "
            f"ON CONFLICT (province_id) DO UPDATE SET version = nextval('{REGION_SEQUENCE}')",
            [rows],
        )
    # One past the data version: the data version moves on (at the latest) at the commit, so the
    # next transaction's value differs.
    value = "(SELECT COALESCE(MAX(version), 0) + 1 FROM coverage_dataversion WHERE id = 1)"
    values = ", ".join([f"(%s, {value})"] * len(rows))
    return (
        f"INSERT INTO {REGION_VERSIONS} (province_id, version) VALUES {values} "
        "ON CONFLICT (province_id) DO UPDATE SET version = excluded.version",
        rows,
    )


def _bump_on_commit(promised_at: int) -> None:
    if _state.commits == promised_at:
        _state.commits += 1
        _data_bump()


def data_version_bump(*, provinces: Iterable[int] | None = None, writes: WriteBatch | None = None) -> None:
    """Move the versions on: the region versions of `provinces` with the transaction's writes
    (at its commit), the data version once it has committed (at once outside a transaction).

    `provinces`: the provinces (ids) whose workers the write changes, and nothing else; without
    them the write may change anything (regions, targets, ...) and moves every answer on.
    `writes`: the writer's batch of statements not yet sent (core.db), which the region versions'
    statement then joins, last, instead of taking a round trip of its own.

    Called by every write that can change a coverage answer, after its statements. The region
    versions are rows written in the transaction: a reader sees them move exactly when it sees
    the data move. The data version is a sequence, which moves for everyone at once: a reader
    that saw it before the commit may have filed the old figures under it; the bump after the
    commit retires them. A read of the versions later in the same transaction moves the data
    version on first (`versions`), so a transaction that reads what it wrote (tests do) never
    gets answers filed before its write; a transaction that only writes pays nothing for that.
    However many writes a transaction makes, its commit moves the data version once.
    """
    wrote()  # the rest of the request reads on the primary (core.routing)
    named = {EVERYWHERE} if provinces is None else set(provinces) or {EVERYWHERE}
    statement = _regions_statement(named)
    if writes is not None:
        writes.execute(*statement)
    else:
        with connection.cursor() as cursor:
            cursor.execute(*statement)
    if not connection.in_atomic_block:
        _data_bump()
        return
    _state.unread = True
    if once_committed("data_version", _BUMP, done=_bumped):  # sent with the COMMIT (core.db)
        return
    promised_at = _state.commits
    transaction.on_commit(lambda: _bump_on_commit(promised_at))
