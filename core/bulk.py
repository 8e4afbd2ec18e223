"""Fast bulk inserts for offline loaders (the demo, synthetic data) and spreadsheet imports:
rows as plain dicts (`bulk_insert`) or tuples (`insert_rows`), written with COPY on PostgreSQL
and one prepared INSERT run with `executemany` on SQLite, both far faster than Django's
`bulk_create` builds model instances and batches. Primary keys are given by the caller (see
`next_ids`, which draws them from the table's sequence on PostgreSQL), so rows can be linked
without reading them back, or left to the database where nothing links to them. No model
validation and no signals: callers check rows with the services' own rules first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import DateField, DateTimeField, Field, JSONField, Max, Model
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
            # The sequence is looked up once (a subquery), not for every key, and the keys come
            # back as one array rather than one row each: both cost far more than nextval() itself.
            cursor.execute(
                "SELECT array_agg(nextval((SELECT pg_get_serial_sequence(%s, %s)::regclass))) "
                "FROM generate_series(1, %s)",
                [model._meta.db_table, model._meta.pk.column, count],
            )
            ids: list[int] = cursor.fetchone()[0]
            return ids
    start = (model._default_manager.using(using).aggregate(top=Max("pk"))["top"] or 0) + 1
    return list(range(start, start + count))


def _converter(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
    """How a Python value of `field` is passed to the database, or None when it goes as it is."""
    if isinstance(field, JSONField):
        if connection.vendor == "postgresql":
            # COPY takes the JSON text; jsonb parses it like any other input.
            encoder = field.encoder
            return lambda value: None if value is None else json.dumps(value, cls=encoder)
        return lambda value: field.get_db_prep_save(value, connection)
    if connection.vendor == "postgresql":
        return None  # psycopg writes dates and aware datetimes itself
    if isinstance(field, DateTimeField):
        return lambda value: connection.ops.adapt_datetimefield_value(value)
    if isinstance(field, DateField):
        return lambda value: connection.ops.adapt_datefield_value(value)
    return None


def _default(field: Field[Any, Any], now: datetime) -> Any:
    if isinstance(field, DateTimeField) and (field.auto_now or field.auto_now_add):
        return now
    return field.get_default()  # "" for text fields without a default


def _column(field: Field[Any, Any]) -> str:
    """A concrete field's column (only many-to-many fields have none)."""
    if field.column is None:
        raise ValueError(f"{field.name} has no column")
    return field.column


@contextmanager
def row_writer(
    model: type[Model],
    columns: Sequence[str],
    *,
    using: str = "default",
    chunk: int = CHUNK,
    json_text: bool = False,
) -> Iterator[Callable[[Sequence[Any]], None]]:
    """A function writing one row, a tuple of values for `columns` (field attnames) in that
    order, for the time of the `with` block; the rows are in the table when it ends.

    The model's other fields take their default (timestamps: now), except the primary key:
    left out of `columns`, it is numbered by the database in the order of the rows (and a field
    with only a `db_default` gets that from the database). Values are as the model holds them
    (dates, dicts for JSON; with `json_text`, JSON fields are given as JSON text already, the
    way both databases store them).

    PostgreSQL: one COPY open for the whole block, so the database stores rows while the caller
    is still producing the next ones; the connection runs nothing else meanwhile. Other
    databases: `executemany` every `chunk` rows. Database errors are raised as Django's
    (IntegrityError, ...), when the block ends at the latest. An exception inside the block
    abandons the rows not yet written.
    """
    connection = connections[using]
    meta = model._meta
    given: list[Field[Any, Any]] = []
    for name in columns:
        field = meta.get_field(name)
        # A reverse relation or a many-to-many field has no column of this table.
        if not isinstance(field, Field) or field.attname != name or field.column is None:
            raise ValueError(f"row_writer takes field attnames, not {list(columns)}")
        given.append(field)
    now = timezone.now()
    named = set(columns)
    # Left to the database: the primary key, and fields with a database default only.
    rest = [
        f
        for f in meta.concrete_fields
        if f.attname not in named and not f.primary_key and (f.has_default() or not f.has_db_default())
    ]
    fields = given + rest
    defaults = tuple(_default(f, now) for f in rest)
    converters = [
        (i, convert)
        for i, f in enumerate(fields)
        if (convert := _converter(f, connection)) is not None and not (json_text and isinstance(f, JSONField))
    ]

    def prepare(row: Sequence[Any]) -> Sequence[Any]:
        # Only the few columns that need converting are touched; the rest pass through as they are.
        values = (*row, *defaults)
        if not converters:
            return values
        converted = list(values)
        for i, convert in converters:
            converted[i] = convert(converted[i])
        return converted

    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(_column(f)) for f in fields)
    with connection.wrap_database_errors, connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                write_row = copy.write_row
                yield lambda row: write_row(prepare(row))
            return
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"
        batch: list[Sequence[Any]] = []

        def write(row: Sequence[Any]) -> None:
            batch.append(prepare(row))
            if len(batch) >= chunk:
                cursor.executemany(sql, batch)
                batch.clear()

        yield write
        if batch:
            cursor.executemany(sql, batch)


def insert_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    using: str = "default",
    analyze: bool = False,
    chunk: int = CHUNK,
    json_text: bool = False,
) -> int:
    """Insert `rows` (see `row_writer`). `analyze`: refresh the table's statistics afterwards,
    for loaders filling empty tables (PostgreSQL). Returns the row count."""
    count = 0
    with row_writer(model, columns, using=using, chunk=chunk, json_text=json_text) as write:
        for row in rows:
            write(row)
            count += 1
    connection = connections[using]
    if analyze and connection.vendor == "postgresql" and count >= ANALYZE_AFTER:
        # Fresh statistics, or the planner keeps believing the table is tiny and picks
        # nested loops over what are now hundreds of thousands of rows.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return count


def bulk_insert(
    model: type[Model], rows: Iterable[dict[str, Any]], *, using: str = "default", chunk: int = CHUNK
) -> int:
    """Insert `rows` (dicts keyed by field attname, the pk included); missing fields take their
    default (timestamps: now), but a field with only a database default gets that from the database.
    Returns the row count."""
    fields = [f for f in model._meta.concrete_fields if f.has_default() or not f.has_db_default()]
    now = timezone.now()
    plan = [(f.attname, _default(f, now)) for f in fields]
    columns = [f.attname for f in fields]
    tuples = (tuple(row.get(name, default) for name, default in plan) for row in rows)
    return insert_rows(model, columns, tuples, using=using, analyze=True, chunk=chunk)
