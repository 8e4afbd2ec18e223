"""The data version: one number that every write which can change an answer moves on after it
commits, so that answers computed from the data can be filed (and ETagged) under it.

A reader reads the version before the data, so whatever it computes is at least as new as the
version it files it under; a version seen by a reader never names data older than what was
committed when it was bumped. Any app's writes bump it (regions, workers, counters); coverage's
conditional answers (coverage.caching) read it, and so does the token check (access.authentication),
which reads it along with the token.

On PostgreSQL the version is a sequence: `nextval` takes no lock and waits for nobody, so
writers all over the country never queue behind it. Elsewhere it is the `DataVersion` row. Both
were created by coverage's migrations (coverage.models.DataVersion) and are kept there; this
module only names them, so that a lower app bumps the version without importing coverage.
"""

from __future__ import annotations

import threading

from django.db import connection, transaction

from core.db import Statement
from core.routing import wrote

SEQUENCE = "coverage_data_version_seq"


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
    """The statement that reads the current data version (one row, one column; or no row)."""
    if connection.vendor == "postgresql":
        return f"SELECT last_value + is_called::int FROM {SEQUENCE}", []
    return "SELECT version FROM coverage_dataversion WHERE id = 1", []


def data_version(*, read_along: int | None = None) -> int:
    """The current data version (moved on first if this transaction wrote since it last asked).

    `read_along`: the version as read along with the request's token (access.context), which
    came before any of the request's reads of the data, which is all a version must do; using
    it saves a round trip.
    """
    unread_write = _state.unread and connection.in_atomic_block
    if read_along is not None and not unread_write:
        return read_along
    if unread_write:
        _bump()
    with connection.cursor() as cursor:
        cursor.execute(*version_statement())
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _bump() -> None:
    _state.unread = False
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT nextval('{SEQUENCE}')")
        else:
            # The row is the migration's; a test database emptied by a flush has none until now.
            cursor.execute(
                "INSERT INTO coverage_dataversion (id, version) VALUES (1, 1) "
                "ON CONFLICT (id) DO UPDATE SET version = version + 1"
            )


def _bump_on_commit(promised_at: int) -> None:
    if _state.commits == promised_at:
        _state.commits += 1
        _bump()


def data_version_bump() -> None:
    """Move the data version on once the current transaction commits (at once outside one).

    Called by every write that can change a coverage answer. A reader that saw the version
    before the commit may have filed the old figures under it; the bump after the commit
    retires them. A read of the version later in the same transaction moves it on first
    (`data_version`), so a transaction that reads what it wrote (tests do) never gets answers
    filed before its write; a transaction that only writes pays nothing for that. However many
    writes a transaction makes, its commit moves the version once.
    """
    wrote()  # the rest of the request reads on the primary (core.routing)
    if not connection.in_atomic_block:
        _bump()
        return
    _state.unread = True
    promised_at = _state.commits
    transaction.on_commit(lambda: _bump_on_commit(promised_at))
