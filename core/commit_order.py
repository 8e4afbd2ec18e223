"""The order in which writes became visible, for readers that page through an append-only table
while writers run (the change feed, integrations).

An id drawn from a sequence is not commit order: a transaction that took id 10 may commit after
one that took id 11, and a reader paging by id past 11 never sees 10. On PostgreSQL each row
therefore also keeps the id of the transaction that wrote it (`CurrentTransaction`, the column's
database default, so no writer sends it), and a reader serves only rows written by transactions
that have all finished (`FINISHED_BELOW`): no row can later appear before a position it served.
Rows are ordered by (transaction id, id). SQLite has one writer at a time, so id order is commit
order there: the column is 0 and the order falls back to the id.
"""

from __future__ import annotations

from typing import Any

from django.db.models import BigIntegerField, Func


class CurrentTransaction(Func):
    """The id of the transaction writing the row: PostgreSQL's `pg_current_xact_id()` (an xid8,
    which never wraps around, as a bigint); 0 on other databases. A column's `db_default`."""

    template = "0"
    output_field = BigIntegerField()

    def __init__(self) -> None:
        super().__init__()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, template="(pg_current_xact_id()::text::bigint)", **extra_context)


# Every transaction id below this one has finished (committed or rolled back), but the reader's
# own and those of other databases of the cluster: the smallest id in progress in the reader's
# snapshot, or the snapshot's xmax (every id below it has finished) when none is.
# - The reader's own transaction counts as finished for it when every id below it has finished
#   (the limit is then one past it): it sees its own rows, and nothing can commit before them.
# - A transaction that `pg_stat_activity` shows working in another database counts as finished:
#   transaction ids are the cluster's, and an open transaction elsewhere would otherwise hold
#   every reader back. One that ends before that view is read stays counted as in progress,
#   which only holds a page back until the next read.
# One scalar subquery, evaluated once per statement (PostgreSQL only).
FINISHED_BELOW = """(SELECT CASE WHEN h.below = pg_current_xact_id_if_assigned()::text::bigint
    THEN h.below + 1 ELSE h.below END FROM (SELECT COALESCE(
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
      WHERE x IS DISTINCT FROM pg_current_xact_id_if_assigned()
        AND NOT EXISTS (
          SELECT 1 FROM pg_stat_activity AS a
           WHERE a.backend_xid IS NOT NULL
             AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database())
             AND a.backend_xid::text::bigint = mod(x::text::bigint, 4294967296))),
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint) AS below) AS h)"""
