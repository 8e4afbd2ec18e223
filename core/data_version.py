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

from django.db import connection, transaction
from rest_framework.request import Request

SEQUENCE = "coverage_data_version_seq"


def version_statement() -> tuple[str, list]:
    """The statement that reads the current data version (one row, one column; or no row)."""
    if connection.vendor == "postgresql":
        return f"SELECT last_value + is_called::int FROM {SEQUENCE}", []
    return "SELECT version FROM coverage_dataversion WHERE id = 1", []


def data_version(request: Request | None = None) -> int:
    """The current data version (moved on first if this transaction wrote since it last asked).

    A token request of a safe method read it already, with the token (`request.auth.data_version`,
    see access.authentication): that read came before any of the request's reads of the data,
    which is all a version must do, and it saves a round trip.
    """
    unread_write = getattr(connection, "ucj_unread_write", False) and connection.in_atomic_block
    read_along = getattr(getattr(request, "auth", None), "data_version", None)
    if read_along is not None and not unread_write:
        return read_along
    if unread_write:
        _bump()
    with connection.cursor() as cursor:
        cursor.execute(*version_statement())
        row = cursor.fetchone()
    return row[0] if row else 0


def _bump() -> None:
    connection.ucj_unread_write = False
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT nextval('{SEQUENCE}')")
        else:
            cursor.execute("UPDATE coverage_dataversion SET version = version + 1 WHERE id = 1")


def data_version_bump() -> None:
    """Move the data version on once the current transaction commits (at once outside one).

    Called by every write that can change a coverage answer. A reader that saw the version
    before the commit may have filed the old figures under it; the bump after the commit
    retires them. A read of the version later in the same transaction moves it on first
    (`data_version`), so a transaction that reads what it wrote (tests do) never gets answers
    filed before its write; a transaction that only writes pays nothing for that.
    """
    if not connection.in_atomic_block:
        _bump()
        return
    connection.ucj_unread_write = True
    if not any(entry[1] is _bump for entry in connection.run_on_commit):
        transaction.on_commit(_bump)
