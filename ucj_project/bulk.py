"""Fast bulk inserts for offline loaders (the demo, synthetic data): rows as plain dicts, one
prepared INSERT run with `executemany`, which both SQLite and psycopg 3 execute far faster
than Django's `bulk_create` builds model instances and batches. Primary keys are given by the
caller (see `next_ids`, which draws them from the table's sequence on PostgreSQL), so rows
can be linked without reading them back. No model validation and no signals: callers check
rows with the services' own rules first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import connections
from django.db.models import DateField, DateTimeField, JSONField, Max, Model
from django.utils import timezone

CHUNK = 10_000
ANALYZE_AFTER = 10_000


def next_ids(model: type[Model], count: int, *, using: str = "default") -> list[int]:
    """`count` fresh primary keys. PostgreSQL: drawn from the table's own sequence, so writers
    running at the same time can never get the same ones. SQLite (one writer at a time):
    the keys above the current largest."""
    connection = connections[using]
    if count <= 0:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, model._meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
    start = (model.objects.using(using).aggregate(top=Max("pk"))["top"] or 0) + 1
    return list(range(start, start + count))


def _converter(field, connection) -> Callable[[Any], Any]:
    if isinstance(field, DateTimeField):
        return lambda value: connection.ops.adapt_datetimefield_value(value)
    if isinstance(field, DateField):
        return lambda value: connection.ops.adapt_datefield_value(value)
    if isinstance(field, JSONField):
        return lambda value: field.get_db_prep_save(value, connection)
    return lambda value: value


def bulk_insert(
    model: type[Model], rows: Iterable[dict[str, Any]], *, using: str = "default", chunk: int = CHUNK
) -> int:
    """Insert `rows` (dicts keyed by field attname, the pk included); missing fields take their
    default (timestamps: now). Returns the row count."""
    connection = connections[using]
    fields = list(model._meta.concrete_fields)
    now = timezone.now()
    defaults = {}
    for f in fields:
        if isinstance(f, DateTimeField) and (f.auto_now or f.auto_now_add):
            defaults[f.attname] = now
        else:
            defaults[f.attname] = f.get_default()  # "" for text fields without a default
    plan = [(f.attname, defaults[f.attname], _converter(f, connection)) for f in fields]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if connection.vendor == "postgresql":
        return _copy(connection, model, fields, plan, rows)
    batch: list[tuple] = []
    count = 0
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(tuple(convert(row.get(name, default)) for name, default, convert in plan))
            if len(batch) >= chunk:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _copy(connection, model, fields, plan, rows) -> int:
    """PostgreSQL: COPY FROM STDIN, the fastest way in, then move the id sequence past the rows."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(convert(row.get(name, default)) for name, default, convert in plan))
                count += 1
        if count >= ANALYZE_AFTER:
            # Fresh statistics, or the planner keeps believing the table is tiny and picks
            # nested loops over what are now hundreds of thousands of rows.
            cursor.execute(f"ANALYZE {table}")
    return count
