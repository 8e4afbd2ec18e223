"""Fewer round trips to the database: statements sent together (psycopg's pipeline mode on
PostgreSQL), querysets whose rows are read together, and writes collected and sent together.

The server still runs the statements one after the other, in the order sent, each in its own
snapshot under READ COMMITTED, so sending them together changes how long the client waits,
not what they see: a statement sent after a locking one runs once the lock is held.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar, cast

from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.db.models import Field, Model, QuerySet
from django.db.models.expressions import DatabaseDefault
from django.db.models.sql import InsertQuery, UpdateQuery

from core.routing import wrote

T = TypeVar("T")

# A statement of our own: SQL and its parameters.
Statement = tuple[str, Sequence[Any]]

# A queryset ready to be read: the queryset, its compiler, its SQL and the SQL's parameters.
_Compiled = tuple[QuerySet[Any], Any, str, Sequence[Any]]


def pipelined(using: str = "default") -> contextlib.ExitStack:
    """A context in which statements are sent without waiting for each result, where the driver
    can (psycopg's pipeline mode; elsewhere they simply run one by one). Errors arrive when a
    result is read, raised as Django's database errors.

    The first statements of a transaction take its BEGIN with them (`_begin_along`)."""
    connection = connections[using]
    stack = contextlib.ExitStack()
    if connection.vendor == "postgresql":
        import psycopg

        if psycopg.Pipeline.is_supported():
            connection.ensure_connection()
            stack.enter_context(connection.wrap_database_errors)
            begin = _begin_along(connection, stack)
            stack.enter_context(connection.connection.pipeline())
            if begin:
                connection.connection.execute("BEGIN", prepare=False)
    return stack


def _begin_along(connection: Any, stack: contextlib.ExitStack) -> bool:
    """Whether the BEGIN of the transaction a block of Django's `atomic` has opened, and no
    statement has begun yet, is to be sent with the pipeline's statements.

    psycopg sends that BEGIN itself before the first statement and waits for its answer, even in
    a pipeline: a round trip of its own on every transaction. Here psycopg is told to leave it
    (autocommit on, which it allows while no transaction is open) and the pipeline's first
    statement is the BEGIN. The transaction then runs as any other: psycopg commits and rolls
    back what is open whatever its autocommit says, and Django, which keeps its own state, turns
    autocommit on again when the block ends. If nothing was begun after all (an error before
    anything was sent), psycopg is told again to begin the next statement's transaction."""
    from psycopg.pq import TransactionStatus

    raw = connection.connection
    if not connection.in_atomic_block or raw.autocommit or raw.info.transaction_status != TransactionStatus.IDLE:
        return False
    raw.autocommit = True

    def settled() -> None:
        if raw.info.transaction_status == TransactionStatus.IDLE and connection.in_atomic_block:
            raw.autocommit = False

    stack.callback(settled)  # runs once the pipeline has ended (an exit stack unwinds in reverse)
    return True


# A write of a batch: its SQL, its parameters and the row count expected of it (None: any).
_Write = tuple[str, Sequence[Any], int | None]

# Translates an error the database gave a write into the caller's own (raises it), or returns.
Refusal = Callable[[DatabaseError], None]

# The refusals of the `refusals` blocks the code runs in (innermost last).
_refusals: contextvars.ContextVar[tuple[Refusal, ...]] = contextvars.ContextVar("refusals", default=())


class _Whole:
    """An `all_or_nothing` transaction: its connection, the depth of its atomic block, and, when
    it is the outermost block and the driver can, the statements sent with its COMMIT: writes
    held back (`WriteBatch.send`) with the refusals that name their errors, then `before`."""

    __slots__ = ("after", "before", "connection", "depth", "own", "pending", "pending_refusals")

    def __init__(self, connection: Any, depth: int, own: bool) -> None:
        self.connection = connection
        self.depth = depth
        self.own = own  # it began the transaction, and commits it itself
        self.pending: list[_Write] = []
        self.pending_refusals: list[Refusal] = []
        self.before: list[Statement] = []
        self.after: dict[str, tuple[Statement, Callable[[], None] | None]] = {}

    def hold(self, writes: list[_Write]) -> None:
        """Keep `writes` for the COMMIT's round trip. Until then any other statement on the
        connection sends them first (`_sent_first`): nothing reads the transaction without them."""
        if not self.pending:
            self.connection.execute_wrappers.append(self._sent_first)
        self.pending.extend(writes)
        self.pending_refusals.extend(refusal for refusal in _refusals.get() if refusal not in self.pending_refusals)

    def release(self) -> tuple[list[_Write], list[Refusal]]:
        """The writes held back and their refusals, no longer held."""
        if self.pending:
            self.connection.execute_wrappers.remove(self._sent_first)
        pending, refusals = self.pending, self.pending_refusals
        self.pending, self.pending_refusals = [], []
        return pending, refusals

    def _sent_first(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        pending, refusals = self.release()
        with _refused_as(refusals):
            _send_writes(self.connection.alias, pending)
        return execute(sql, params, many, context)


# Per thread: the innermost `all_or_nothing` transaction.
_whole = threading.local()


@contextlib.contextmanager
def all_or_nothing(using: str = "default") -> Iterator[None]:
    """A transaction that any error inside rolls back whole, and nothing in it catches an error to
    go on: the blocks opened directly in it by `atomic` take no savepoint (SAVEPOINT and its
    RELEASE are a round trip each), since none would ever be rolled back alone. For a request's
    write and the access log of its answer: an error is the request's answer, and nothing of it
    is kept.

    On PostgreSQL, when it begins the transaction, it commits it itself, in one round trip with
    the writes `WriteBatch.send` held back for it (their row counts checked by the server), the
    statements given to `with_commit` (before the COMMIT: the access log of the answer) and
    `once_committed` (after it: the data version moved on), instead of one round trip each."""
    connection = connections[using]
    own = (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and connection.get_autocommit()
        and _pipeline_supported()
    )
    with transaction.atomic(using=using):
        previous = getattr(_whole, "block", None)
        whole = _whole.block = _Whole(connection, len(connection.atomic_blocks), own)
        try:
            yield
        except BaseException:
            whole.release()  # rolled back: what was held back is never sent
            raise
        finally:
            _whole.block = previous
        if whole.pending or whole.before or whole.after:
            _commit_along(using, whole)


def _pipeline_supported() -> bool:
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


def _commit_along(using: str, whole: _Whole) -> None:
    """COMMIT the transaction `all_or_nothing` began, with the statements to send before and
    after it, in one round trip. An error in any of them (the server skips the rest) leaves the
    transaction rolled back or failed, and is raised: the atomic block then rolls back, and its
    own COMMIT finds nothing to commit. Django's commit that follows is then a formality (the
    driver commits nothing in a transaction already ended), and its on_commit hooks run as
    after any commit."""
    connection = whole.connection
    pending, refusals = whole.release()
    if connection.needs_rollback:  # an inner block failed: the atomic block rolls back, nothing is sent
        return
    with _refused_as(refusals), connection.cursor() as cursor, pipelined(using):
        for sql, params, rows in pending:
            cursor.execute(*(_checked(sql, params, rows) if rows is not None else (sql, params)))
        for sql, params in whole.before:
            cursor.execute(sql, params)
        cursor.execute("COMMIT")
        for (sql, params), _done in whole.after.values():
            cursor.execute(sql, params)
    for _statement, done in whole.after.values():
        if done is not None:
            done()


def _committing(using: str) -> _Whole | None:
    """The innermost `all_or_nothing` transaction on `using` if it commits itself."""
    whole: _Whole | None = getattr(_whole, "block", None)
    if whole is None or not whole.own or whole.connection is not connections[using]:
        return None
    return whole


def _holding(using: str) -> _Whole | None:
    """The `all_or_nothing` transaction that can carry writes to its COMMIT: it commits itself,
    and no savepoint has been taken in it (one rolled back would have to take back writes that
    were never sent)."""
    whole = _committing(using)
    if whole is None or whole.connection.needs_rollback:
        return None
    if any(sid is not None for sid in whole.connection.savepoint_ids):
        return None
    return whole


# Whether a statement can be sent as a CTE that returns its rows (`_checked`).
_CHECKABLE = re.compile(r"^\s*(UPDATE|INSERT|DELETE)\s", re.IGNORECASE)


def _checked(sql: str, params: Sequence[Any], rows: int) -> Statement:
    """The write `sql`, sent as one statement that fails (rolling the transaction back) unless it
    wrote `rows` rows: the count is checked by the server, before the COMMIT sent after it
    (`ucj_rows_written`, core/migrations)."""
    return (
        f"WITH written AS ({sql} RETURNING 1) SELECT ucj_rows_written(count(*), %s, %s) FROM written",
        [*params, rows, sql[:200]],
    )


def _can_check(sql: str) -> bool:
    return bool(_CHECKABLE.match(sql)) and " RETURNING " not in sql.upper()


@contextlib.contextmanager
def refusals(refusal: Refusal) -> Iterator[None]:
    """A block whose writes' errors `refusal` names: called with a database error of a write sent
    in the block, whenever the database answers it (in the block, or with the COMMIT its writes
    were held back for: `WriteBatch.send`), it raises the caller's own error for one it knows."""
    token = _refusals.set((*_refusals.get(), refusal))
    try:
        with _refused_as([refusal]):
            yield
    finally:
        _refusals.reset(token)


@contextlib.contextmanager
def _refused_as(refusals: Sequence[Refusal]) -> Iterator[None]:
    try:
        yield
    except DatabaseError as exc:
        for refusal in refusals:
            refusal(exc)
        raise


def with_commit(statement: Statement, using: str = "default") -> bool:
    """Send `statement` (a write whose row count matters to no one) with the COMMIT of the
    `all_or_nothing` transaction the caller is in, just before it: an error in it rolls the
    whole back, as if it had run now. False where there is none to carry it (the caller then
    runs it itself)."""
    whole = _committing(using)
    if whole is None:
        return False
    whole.before.append(statement)
    return True


def once_committed(
    key: str, statement: Statement, done: Callable[[], None] | None = None, using: str = "default"
) -> bool:
    """Send `statement` right after the COMMIT of the `all_or_nothing` transaction the caller is
    in, with it (the server runs it once the commit is done), once per `key` however many times
    asked; `done()` once it has run. False where there is none to carry it (the caller then
    runs it after the commit itself, e.g. with `transaction.on_commit`)."""
    whole = _committing(using)
    if whole is None:
        return False
    whole.after.setdefault(key, (statement, done))
    return True


def atomic(using: str = "default") -> transaction.Atomic:
    """`transaction.atomic`, which takes no savepoint when opened directly in an `all_or_nothing`
    transaction (an error in it rolls back the whole anyway)."""
    connection = connections[using]
    whole: _Whole | None = getattr(_whole, "block", None)
    directly_in = whole is not None and whole.connection is connection and whole.depth == len(connection.atomic_blocks)
    return transaction.atomic(using=using, savepoint=not directly_in)


@contextlib.contextmanager
def unflushed(using: str = "default") -> Iterator[None]:
    """A transaction whose commit does not wait for the database's write-ahead log to reach the
    disk (PostgreSQL's `synchronous_commit` off for it alone): for bookkeeping that a crash of the
    database server may lose without harm because it is done again (a webhook's position and its
    delivery log: the change is sent again). Elsewhere, and nested in another transaction, a
    plain one."""
    connection = connections[using]
    outermost = not connection.in_atomic_block  # SET LOCAL would hold for the enclosing transaction too
    with transaction.atomic(using=using):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def binary_results(cursor: Any) -> None:
    """Have the cursor (one of Django's) read its next results in PostgreSQL's binary format
    where the driver can: many integers are read faster that way (a regency's 852 villages with
    two figures each: about 0.1 ms of 0.2 in a request, measured in-process). Elsewhere nothing
    changes."""
    if cursor.db.vendor == "postgresql":
        from psycopg.pq import Format

        cursor.cursor.format = Format.BINARY


def fetch_along(using: str, statement: Statement, along: Sequence[Statement] = ()) -> tuple[list[Any], list[Any]]:
    """The rows of `statement`, and the first row (or None) of each statement `along`, all sent
    in one round trip where the driver can (`pipelined`)."""
    connection = connections[using]
    if not along and not connection.in_atomic_block:
        # One statement, and no transaction whose BEGIN could go with it: a pipeline would only
        # add its own work (entering it, the sync, leaving it), about 0.05 ms a request.
        with connection.cursor() as cursor:
            cursor.execute(*statement)
            return cursor.fetchall(), []
    with contextlib.ExitStack() as cursors:
        cursor = cursors.enter_context(connection.cursor())
        others = [cursors.enter_context(connection.cursor()) for _ in along]
        with pipelined(using):
            cursor.execute(*statement)
            for other, (sql, params) in zip(others, along, strict=True):
                other.execute(sql, params)
        # Read after the pipeline's end, which receives every result in one round trip.
        return cursor.fetchall(), [other.fetchone() for other in others]


class Joined(NamedTuple):
    """A statement of one row that can ride in another statement instead of beside it
    (`fetch_joined`): `columns`, expressions of a select list, with `params`, and `ctes`, what
    they read from, for a WITH ("" if nothing), with `cte_params`. `alone` is the same statement
    on its own, for where it cannot ride (`fetch_along`)."""

    columns: Sequence[str]
    params: Sequence[Any]
    ctes: str
    cte_params: Sequence[Any]
    alone: Statement


def fetch_joined(
    using: str, statement: Statement, joined: Sequence[Joined], along: Sequence[Statement] = ()
) -> tuple[list[Any], list[Any], list[Any]]:
    """`fetch_along` of `statement` with the statements `joined` inside it, where the database can
    (PostgreSQL: one statement, `statement`'s rows LEFT JOINed to one row of the joined ones'
    columns), and `along` beside it in the same round trip: one statement parsed, planned (once,
    prepared) and answered instead of several, each with its share of the driver's work.
    Returns `statement`'s rows, the row of each joined statement, and the first row (or None) of
    each statement along. `statement` must not begin with WITH."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not joined:
        rows, returned = fetch_along(using, statement, [*(j.alone for j in joined), *along])
        return rows, returned[: len(joined)], returned[len(joined) :]
    sql, params = statement
    ctes = [j.ctes for j in joined if j.ctes]
    columns = [column for j in joined for column in j.columns]
    combined = (
        (f"WITH {', '.join(ctes)} " if ctes else "")
        + f"SELECT {', '.join(columns)}, main.* FROM (SELECT 1) one "
        + f"LEFT JOIN (SELECT true AS found, s.* FROM ({sql}) s) main ON true"
    )
    combined_params = [
        *(p for j in joined for p in j.cte_params),
        *(p for j in joined for p in j.params),
        *params,
    ]
    rows, returned = fetch_along(using, (combined, combined_params), along)
    joined_rows, start = [], 0
    first = rows[0]  # one row at least: the joined columns', whatever `statement` finds
    for j in joined:
        joined_rows.append(tuple(first[start : start + len(j.columns)]))
        start += len(j.columns)
    found = [row[start + 1 :] for row in rows if row[start] is not None]
    return found, joined_rows, returned


def checking_the_connection(using: str, read: Callable[[], T]) -> T:
    """`read()`, the first statement of a request, standing in for Django's health check of a
    persistent connection (`CONN_HEALTH_CHECKS`): Django would send a statement of its own first
    (`SELECT 1`), a round trip on every request, to find a connection that no longer works (the
    server restarted, the connection cut while idle) and open a new one. Here the statement is
    the check: if it fails because the connection is broken, the connection is closed and
    `read()` runs once more, on a new one. Anywhere else (no connection open yet, the check
    already done in this request, inside a transaction) it is plain `read()`.

    `read` must be safe to send twice: a lost connection cannot have answered it, and a statement
    that writes (a rate count) had at most its own count committed."""
    connection: Any = connections[using]  # the health check's attributes are not in the stubs
    if (
        connection.connection is None
        or not connection.health_check_enabled
        or connection.health_check_done
        or connection.in_atomic_block
    ):
        return read()
    connection.health_check_done = True  # Django's own check is not needed any more
    try:
        return read()
    except (OperationalError, InterfaceError):
        raw = connection.connection
        if raw is not None and not (getattr(raw, "broken", False) or getattr(raw, "closed", False)):
            raise  # a refusal of the statement itself, on a connection that works
        connection.close()
    return read()


def read_together(*querysets: QuerySet[Any]) -> list[list[Model]]:
    """The rows of each queryset, as model instances with their annotations, read in one round
    trip on PostgreSQL (in a transaction not yet begun, its BEGIN goes along too).

    For plain querysets of one model: no select_related, deferred fields or values()."""
    using = querysets[0].db
    compiled: list[_Compiled] = []
    for queryset in querysets:
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        compiled.append((queryset, compiler, sql, params))
    return _read(using, compiled)


# The compiled plans of each connection (gone with the connection object).
_plans: weakref.WeakKeyDictionary[Any, dict[PreparedRead, list[tuple[QuerySet[Any], Any, str, int]]]] = (
    weakref.WeakKeyDictionary()
)


class PreparedRead:
    """`read_together` of querysets that differ only in the value of one parameter (a worker's
    id, say), compiled once per database instead of on every read.

    Compiling a queryset with annotations and subqueries can cost more than running it (about
    2 ms for the two statements that lock a worker, several round trips' worth). `build(value)`
    returns the querysets for a value; they are compiled once with a stand-in value, which must
    be their only parameter, and each read puts the value in its place.
    """

    STAND_IN = -73_190_427

    def __init__(self, build: Callable[[Any], list[QuerySet[Any]]]) -> None:
        self.build = build

    def _plan(self, using: str) -> list[tuple[QuerySet[Any], Any, str, int]]:
        # Kept per connection object, which is the thread's own: compilers are not shared.
        plans = _plans.setdefault(connections[using], {})
        plan = plans.get(self)
        if plan is None:
            plan = []
            for queryset in self.build(self.STAND_IN):
                compiler = queryset.query.get_compiler(using=using)
                sql, params = compiler.as_sql()
                # The stand-in arrives as the field's type has it (a string for a text field).
                if not params or any(str(param) != str(self.STAND_IN) for param in params):
                    raise ValueError(f"A prepared read's only parameter must be its value, not {params!r}: {sql}")
                plan.append((queryset, compiler, sql, len(params)))
            plans[self] = plan
        return plan

    def read(self, value: Any, using: str = "default") -> list[list[Model]]:
        compiled: list[_Compiled] = [
            (queryset, compiler, sql, [value] * n) for queryset, compiler, sql, n in self._plan(using)
        ]
        return _read(using, compiled)


def _read(using: str, compiled: list[_Compiled]) -> list[list[Model]]:
    connection = connections[using]
    with contextlib.ExitStack() as cursors:
        opened = [cursors.enter_context(connection.cursor()) for _ in compiled]
        with pipelined(using):
            for cursor, (_queryset, _compiler, sql, params) in zip(opened, compiled, strict=True):
                cursor.execute(sql, params)
        # Read once the pipeline has ended: its end syncs and receives every result, one round trip
        # for all of them. A read inside it would wait for its result, then for the sync's answer.
        results = [cursor.fetchall() for cursor in opened]
    found = []
    for (queryset, compiler, _sql, _params), rows in zip(compiled, results, strict=True):
        model = queryset.model
        fields = [field.attname for field in model._meta.concrete_fields]
        annotations = list(queryset.query.annotation_select)
        converters = compiler.__dict__.get("_kept_converters")
        if converters is None:  # a prepared read's compiler is kept: so are its converters
            converters = compiler._kept_converters = compiler.get_converters(
                [column for column, _sql, _alias in compiler.select]
            )
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


# The SQL of a row's INSERT, or of an UPDATE by whole-number keys and null tests (`update_where`,
# a row's `save`), per model, columns (and which of them take their database default or, in an
# UPDATE, are set to NULL), lookups and database, as the ORM compiled it the first time:
# compiling costs more than the statement runs.
_kept_statements: dict[tuple[Any, ...], str] = {}


def _kept(
    kind: str, model: type[Model], fields: Sequence[Field[Any, Any]], values: Sequence[Any], using: str
) -> tuple[tuple[Any, ...] | None, list[Any]]:
    """The kept statement's key and its parameters: the values as the ORM's compiler prepares them
    (get_db_prep_save()), but those that take their database default and, in an UPDATE, those
    set to NULL, which are part of the statement (and of the key). No key when a value is an
    expression or a model instance, or a column has a placeholder of its own: those statements
    are compiled each time."""
    if any(
        hasattr(value, "resolve_expression")
        and not isinstance(value, DatabaseDefault)
        or hasattr(value, "prepare_database_save")
        or hasattr(field, "get_placeholder")
        for field, value in zip(fields, values, strict=True)
    ):
        return None, []
    connection = connections[using]
    prepared = [
        value if isinstance(value, DatabaseDefault) else field.get_db_prep_save(value, connection=connection)
        for field, value in zip(fields, values, strict=True)
    ]
    structural = tuple(isinstance(value, DatabaseDefault) or (kind == "update" and value is None) for value in prepared)
    params = [value for value, kept_out in zip(prepared, structural, strict=True) if not kept_out]
    return (kind, model, tuple(field.attname for field in fields), structural, using), params


def _keep(key: tuple[Any, ...] | None, params: Sequence[Any], sql: str, compiled: Sequence[Any], extra: int) -> None:
    # Kept when the compiled statement's parameters are as many as ours (and `extra` more: the
    # rows' keys of an UPDATE): nothing else in it depends on the values.
    if key is not None and len(compiled) == len(params) + extra:
        _kept_statements[key] = sql


class WriteBatch:
    """Writes collected, then sent together by `send()`: one round trip on PostgreSQL.

    The statements are the ORM's own (its compilers convert the values as `save()` and
    `update()` do), but the client does not wait for each one's row count before sending the
    next, as `save()` must. A write whose row count is not the one expected (`rows`) is a
    DatabaseError, raised once all have run: inside a transaction, it rolls every one back.
    """

    def __init__(self, using: str = "default") -> None:
        self.using = using
        self._statements: list[tuple[str, Sequence[Any], int | None]] = []

    def __len__(self) -> int:
        return len(self._statements)

    def update(self, queryset: QuerySet[Any], *, rows: int | None = None, **values: Any) -> None:
        """`queryset.update(**values)`, expected to change `rows` rows if given."""
        # chain(klass) returns a klass, which the stubs type as any Query.
        query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))
        query.add_update_values(values)
        sql, params = query.get_compiler(self.using).as_sql()
        self._statements.append((sql, params, rows))

    def update_where(
        self, model: type[Model], where: dict[str, Any], *, rows: int | None = None, **values: Any
    ) -> None:
        """`model._base_manager.filter(**where).update(**values)`, expected to change `rows` rows
        if given; its statement compiled once per model, columns and lookups when `where` holds
        only whole numbers compared exactly and `__isnull` tests."""
        fields = [cast(Field[Any, Any], model._meta.get_field(name)) for name in values]
        key, params = _kept("update", model, fields, list(values.values()), self.using)
        exact = sorted((name, value) for name, value in where.items() if not name.endswith("__isnull"))
        if key is not None and all(type(value) is int for _name, value in exact):
            tests = tuple(sorted((name, bool(value)) for name, value in where.items() if name.endswith("__isnull")))
            key = (*key, tuple(name for name, _value in exact), tests)  # the filter's parameters: sorted by name
        else:
            key = None
        sql = _kept_statements.get(key) if key is not None else None
        if sql is not None:
            self._statements.append((sql, [*params, *(value for _name, value in exact)], rows))
            return
        self.update(model._base_manager.filter(**where), rows=rows, **values)
        _keep(key, params, self._statements[-1][0], self._statements[-1][1], extra=len(exact))

    def save(self, obj: Model, *, update_fields: list[str]) -> None:
        """`obj.save(update_fields=...)` of a row that exists: the values as `save()` would write
        them (an `auto_now` field named moves on, on `obj` too)."""
        meta = obj._meta
        values = {}
        for name in update_fields:
            field = meta.get_field(name)
            if not isinstance(field, Field):  # a reverse relation: no column of this table
                raise ValueError(f"{name!r} is not a field of {meta.label} that save() writes.")
            values[field.attname] = field.pre_save(obj, add=False)
        self.update_where(type(obj), {"pk": obj.pk}, rows=1, **values)  # kept for a whole-number key

    def insert(self, obj: Model) -> None:
        """`obj` inserted as `obj.save()` would (defaults and auto_now_add included), without
        reading back its primary key: `obj.pk` stays unset unless it was given."""
        meta = obj._meta
        fields = [f for f in meta.local_concrete_fields if not f.generated]
        if obj.pk is None:
            fields = [f for f in fields if f is not meta.auto_field]
        key, params = _kept(
            "insert", type(obj), fields, [field.pre_save(obj, add=True) for field in fields], self.using
        )
        sql = _kept_statements.get(key) if key is not None else None
        if sql is not None:  # the ORM's statement for these columns, compiled before
            self._statements.append((sql, params, 1))
            return
        query = InsertQuery(type(obj))
        query.insert_values(fields, [obj], raw=True)  # the values just taken (pre_save), not new ones
        compiled = query.get_compiler(self.using).as_sql()
        for sql, compiled_params in compiled:
            self._statements.append((sql, compiled_params, 1))
        if len(compiled) == 1:
            _keep(key, params, compiled[0][0], compiled[0][1], extra=0)

    def execute(self, sql: str, params: Sequence[Any], *, rows: int | None = None) -> None:
        """A statement of our own, with its parameters."""
        self._statements.append((sql, params, rows))

    def extend(self, statements: Iterable[Statement]) -> None:
        """Statements of our own, each with its parameters, changing any number of rows."""
        for sql, params in statements:
            self._statements.append((sql, params, None))

    def send(self) -> None:
        """Run the collected writes in the order added, and check their row counts.

        In an `all_or_nothing` transaction that commits itself they are held back and sent with
        its COMMIT, one round trip fewer, their row counts checked by the server before it; any
        statement run on the connection before that sends them first, so nothing in the
        transaction reads without them. An error of theirs then arrives with the COMMIT: a
        caller that names such errors does so with `refusals`."""
        statements, self._statements = self._statements, []
        if not statements:
            return
        wrote()  # the rest of the request reads on the primary (core.routing)
        whole = _holding(self.using)
        if whole is not None and all(rows is None or _can_check(sql) for sql, _params, rows in statements):
            whole.hold(statements)
            return
        _send_writes(self.using, statements)


def _send_writes(using: str, statements: Sequence[_Write]) -> None:
    """Run `statements` in order, in one round trip where the driver can, then check their row
    counts."""
    connection = connections[using]
    with contextlib.ExitStack() as cursors:
        shared = cursors.enter_context(connection.cursor())  # for writes of any row count
        opened = []
        with pipelined(using):
            for sql, params, rows in statements:
                cursor = shared if rows is None else cursors.enter_context(connection.cursor())
                cursor.execute(sql, params)
                if rows is not None:
                    opened.append((cursor, sql, rows))
        # Row counts are known once the pipeline has synced.
        for cursor, sql, rows in opened:
            if cursor.rowcount != rows:
                raise DatabaseError(f"{cursor.rowcount} rows written, {rows} expected: {sql[:200]}")


def timestamps_read_in_c(sender: Any, connection: Any, **kwargs: Any) -> None:
    """(`connection_created`) Read PostgreSQL's timestamps with the C parser of the standard
    library on a connection that works in UTC (USE_TZ, as this project does).

    Django reads every `timestamptz` with psycopg's loader written in Python (its subclass that
    sets the time zone), about 4 µs a value: a page of 50 workers reads 100. PostgreSQL writes
    them as ISO 8601 with the session's offset, which `datetime.fromisoformat` reads, with the
    same result; anything else it writes (another offset, infinity, a year before 1) is read by
    Django's loader as before."""
    if connection.vendor != "postgresql" or connection.timezone is not datetime.UTC:
        return
    connection.connection.adapters.register_loader("timestamptz", _utc_timestamp_loader())


_UTC_LOADER: Any = None


def _utc_timestamp_loader() -> Any:
    global _UTC_LOADER
    if _UTC_LOADER is None:
        from django.db.backends.postgresql.psycopg_any import BaseTzLoader

        utc, no_offset = datetime.UTC, datetime.timedelta(0)

        class UtcTimestampLoader(BaseTzLoader):  # type: ignore[misc]
            timezone = utc  # what Django's cursors compare with their connection's

            def load(self, data: Any) -> Any:
                try:
                    value = datetime.datetime.fromisoformat(bytes(data).decode())
                except ValueError:
                    return super().load(data)
                if value.utcoffset() != no_offset:
                    return super().load(data)
                return value.replace(tzinfo=utc)

        _UTC_LOADER = UtcTimestampLoader
    return _UTC_LOADER
