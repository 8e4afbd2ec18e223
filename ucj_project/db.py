"""Fewer round trips to the database: statements sent together (psycopg's pipeline mode on
PostgreSQL), and querysets whose rows are read together.

The server still runs the statements one after the other, in the order sent, each in its own
snapshot under READ COMMITTED, so sending them together changes how long the client waits,
not what they see: a statement sent after a locking one runs once the lock is held.
"""

from __future__ import annotations

import contextlib

from django.db import connections
from django.db.models import Model, QuerySet


def pipelined(using: str = "default") -> contextlib.ExitStack:
    """A context in which statements are sent without waiting for each result, where the driver
    can (psycopg's pipeline mode; elsewhere they simply run one by one). Errors arrive when a
    result is read, raised as Django's database errors."""
    connection = connections[using]
    stack = contextlib.ExitStack()
    if connection.vendor == "postgresql":
        import psycopg

        if psycopg.Pipeline.is_supported():
            connection.ensure_connection()
            stack.enter_context(connection.wrap_database_errors)
            stack.enter_context(connection.connection.pipeline())
    return stack


def read_together(*querysets: QuerySet) -> list[list[Model]]:
    """The rows of each queryset, as model instances with their annotations, read in one round
    trip on PostgreSQL (in a transaction not yet begun, its BEGIN goes along too).

    For plain querysets of one model: no select_related, deferred fields or values()."""
    using = querysets[0].db
    connection = connections[using]
    compilers = [queryset.query.get_compiler(using=using) for queryset in querysets]
    statements = [compiler.as_sql() for compiler in compilers]
    with pipelined(using), contextlib.ExitStack() as cursors:
        opened = [cursors.enter_context(connection.cursor()) for _ in statements]
        for cursor, (sql, params) in zip(opened, statements, strict=True):
            cursor.execute(sql, params)
        results = [cursor.fetchall() for cursor in opened]
    found = []
    for queryset, compiler, rows in zip(querysets, compilers, results, strict=True):
        model = queryset.model
        fields = [field.attname for field in model._meta.concrete_fields]
        annotations = list(queryset.query.annotation_select)
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        if converters:
            rows = compiler.apply_converters(rows, converters)
        instances = []
        for row in rows:
            row = tuple(row)
            instance = model.from_db(using, fields, row[: len(fields)])
            for name, value in zip(annotations, row[len(fields) :], strict=True):
                setattr(instance, name, value)
            instances.append(instance)
        found.append(instances)
    return found
