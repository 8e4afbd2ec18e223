"""The one seam of the write path: every change of a worker goes through `worker_locked` (or, for a
new one, `worker_created`), which owns the transaction, the lock, the write batch, sending it and
moving the data version on. The service in between sees a typed `LockedWorker`, adds its writes
and records the change (enrollment.recording); it never sends a statement itself.

    with worker_locked(worker_id) as locked:
        ...                                   # check, then change locked.worker / .enrollment
        locked.writes.save(locked.worker, update_fields=[...])
        locked.record(kind=..., ...)          # period, event, counters: into the batch

The worker the block hands over carries its enrollment (`worker.enrollment`, no query), and so
does the worker every service returns.

Many workers changed together (a reconciliation's accepted rows) take the batched form of the same
seam, `workers_locked`: one query locks them all, each service step runs on its `LockedWorker` as
it does alone, and `LockedWorker.record` collects rows (recording.BatchRows) instead of statements,
written in bulk at the end: one UPDATE per table and set of fields, COPY for events and periods on
PostgreSQL, the counters' deltas summed. One worker keeps its one round trip of statements.

On leaving the block the batch is sent (one round trip on PostgreSQL, see core.db) and, if a
change was recorded, the data version moves on once the transaction commits. An exception
leaves nothing written.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from django.db import DatabaseError, connection, transaction
from django.db.models import (
    AutoField,
    BigAutoField,
    BooleanField,
    CharField,
    DateField,
    F,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.transaction import TransactionManagementError

from core.bulk import insert_rows
from core.data_version import data_version_bump
from core.db import PreparedRead, WriteBatch, atomic

from .counting import counters_moved
from .models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerPeriod
from .recording import PERIOD_COLUMNS, BatchRows, LockedWorker, PeriodState

LOCK_CHUNK = 2000  # workers locked per query (SQLite takes at most 32,766 parameters)


# The codes of a worker's regions, read with its enrollment once it is locked (annotations).
_REGION_CODES = {
    f"{region}_code": F(f"worker__{region}__code") for region in ("village", "district", "regency", "province")
}


def _lock_reads(worker_id: int) -> list[QuerySet[Any]]:
    # The enrollment is read after the lock, in its own statement. Joined into the locking query,
    # a writer that waited for the lock got the worker's new row but the enrollment's old one
    # (PostgreSQL re-reads only the locked rows), so two transitions could both pass the state
    # check; the two dates would likewise come from before the wait. Both statements still go to
    # PostgreSQL in one round trip: the server starts the second once the first holds the lock.
    # The second also brings the codes of the worker's regions as it is then, which its answer
    # shows (`ApparatusWorker.region_codes`): no read of them before the write, nor after.
    workers, enrollments = _locking(Q(pk=worker_id))
    return [workers, enrollments.annotate(**_REGION_CODES)]


def _locking(workers: Q) -> list[QuerySet[Any]]:
    return [
        ApparatusWorker.objects.select_for_update().filter(workers).order_by("pk"),
        Enrollment.objects.annotate(
            last_change=Subquery(
                EnrollmentEvent.objects.filter(worker_id=OuterRef("pk"))
                .order_by("-effective_date")
                .values("effective_date")[:1]
            ),
            open_from=Subquery(
                WorkerPeriod.objects.filter(worker_id=OuterRef("pk"), valid_to__isnull=True).values("valid_from")[:1]
            ),
        ).filter(workers),
    ]


_LOCK = PreparedRead(_lock_reads)  # compiled once: compiling cost more than the round trip


def _lock(worker_id: int) -> LockedWorker:
    """The worker, locked, with its enrollment as committed by whoever held the lock before, the
    date of its last recorded change and the start of its open period."""
    if connection.get_autocommit():  # the prepared statement skips the ORM's own check
        raise TransactionManagementError("A worker can only be locked inside a transaction.")
    workers, enrollments = _LOCK.read(worker_id)
    if not workers:
        raise ApparatusWorker.DoesNotExist(f"No worker {worker_id}.")
    if not enrollments:
        raise Enrollment.DoesNotExist(f"No enrollment for worker {worker_id}.")
    return _locked(cast(ApparatusWorker, workers[0]), cast(Enrollment, enrollments[0]), None)  # the reads' models


def _locked(worker: ApparatusWorker, enrollment: Enrollment, batch: BatchRows | None) -> LockedWorker:
    # The two dates are the read's annotations; they live on in the LockedWorker only.
    last_change: datetime.date | None = enrollment.__dict__.pop("last_change")
    open_from: datetime.date | None = enrollment.__dict__.pop("open_from")
    codes = [enrollment.__dict__.pop(name, None) for name in _REGION_CODES]
    if codes[0] is not None:  # one worker locked alone (`_lock_reads`)
        worker.region_codes = (worker.village_id, (codes[0], codes[1], codes[2], codes[3]))
    worker.enrollment = enrollment
    return LockedWorker(
        worker=worker,
        enrollment=enrollment,
        last_change=last_change,
        open_from=open_from,
        batch=batch,
        province_before=worker.province_id,
    )


def _lock_many(worker_ids: Sequence[int], batch: BatchRows) -> dict[int, LockedWorker]:
    """The workers, locked in the order of their ids (so two batches, or a batch and a single
    change, never wait for each other in a circle), each with what `_lock` reads for one."""
    if connection.get_autocommit():
        raise TransactionManagementError("Workers can only be locked inside a transaction.")
    locked: dict[int, LockedWorker] = {}
    for start in range(0, len(worker_ids), LOCK_CHUNK):
        chunk = worker_ids[start : start + LOCK_CHUNK]
        worker_reads, enrollment_reads = _locking(Q(pk__in=chunk))
        workers = list(worker_reads)  # the lock first; the enrollments as committed once it is held
        enrollments = {enrollment.pk: enrollment for enrollment in enrollment_reads}
        for worker in workers:
            enrollment = enrollments.get(worker.pk)
            if enrollment is None:
                raise Enrollment.DoesNotExist(f"No enrollment for worker {worker.pk}.")
            locked[worker.pk] = _locked(worker, enrollment, batch)
    missing = [worker_id for worker_id in worker_ids if worker_id not in locked]
    if missing:
        raise ApparatusWorker.DoesNotExist(f"No worker {missing[0]}.")
    return locked


def _sent(locked: LockedWorker) -> None:
    if locked.changed:
        # Any recorded change may change a coverage answer (figures, wages, premium) of the
        # provinces it was and is in, and only of those: their versions go last in the batch.
        data_version_bump(provinces=locked.provinces(), writes=locked.writes)
    locked.writes.send()


@contextmanager
def worker_locked(worker_id: int) -> Iterator[LockedWorker]:
    """A transaction holding the worker's row lock, for the block; its writes sent at the end.
    Directly inside an `all_or_nothing` transaction it takes no savepoint (core.db)."""
    with atomic():
        locked = _lock(worker_id)
        yield locked
        _sent(locked)


@contextmanager
def workers_locked(worker_ids: Iterable[int]) -> Iterator[dict[int, LockedWorker]]:
    """`worker_locked` for many workers: one transaction holding all their row locks, for the
    block, and their changes written in bulk at its end ({worker id: LockedWorker}). All or
    nothing: an exception leaves nothing written. Services change a batched worker as they
    change one alone (`LockedWorker.save`, `.record`, `.count`); a statement of their own
    (`locked.writes`) is refused."""
    with transaction.atomic():
        batch = BatchRows()
        locked = _lock_many(sorted(set(worker_ids)), batch)
        yield locked
        if any(len(one.writes) for one in locked.values()):
            raise TransactionManagementError("A batch of workers takes no statements of its own (locked.writes).")
        _written(batch)
        if batch.changed:
            data_version_bump(provinces=set().union(*(one.provinces() for one in locked.values())))


def _column_type(field: Field[Any, Any]) -> str:
    db_type = field.db_type(connection)
    if db_type is None:
        raise ValueError(f"{field.name} has no column type")
    return db_type


# Fields whose Python values psycopg writes as Django's PostgreSQL backend would prepare them.
_PLAIN = (BooleanField, CharField, DateField, IntegerField, AutoField, BigAutoField, ForeignKey)


def _column_name(field: Field[Any, Any]) -> str:
    if field.column is None:
        raise ValueError(f"{field.name} has no column")
    return field.column


def _update_rows(
    model: type[Model], key: str, names: Sequence[str], rows: Sequence[Sequence[Any]], *, open_only: bool = False
) -> None:
    """Set the fields `names` (attnames) of the rows whose `key` is each row's first value, to the
    row's other values: one statement on PostgreSQL (arrays unnested, one parameter a column),
    one prepared UPDATE run for every row elsewhere. `open_only`: of the open period (valid_to
    NULL) of each worker. Each row must change exactly one row of the table."""
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in (key, *names)]
    columns = [_column_name(cast("Field[Any, Any]", f)) for f in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    extra = f" AND {table}.{quote('valid_to')} IS NULL" if open_only else ""
    # Values as the database takes them: on PostgreSQL psycopg adapts these fields' values itself
    # (converting each of 50,000 rows' values through its field cost seconds).
    converters = [
        None if connection.vendor == "postgresql" and isinstance(f, _PLAIN) else cast("Field[Any, Any]", f)
        for f in fields
    ]
    prepared = [
        [
            value if f is None else f.get_db_prep_save(value, connection)
            for f, value in zip(converters, row, strict=True)
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            aliases = [f"c{i}" for i in range(len(columns))]
            arrays = ", ".join(f"%s::{_column_type(cast('Field[Any, Any]', f))}[]" for f in fields)
            sets = ", ".join(
                f"{quote(column)} = v.{alias}" for column, alias in zip(columns[1:], aliases[1:], strict=True)
            )
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({', '.join(aliases)}) "
                f"WHERE {table}.{quote(columns[0])} = v.c0{extra}",
                [list(column) for column in zip(*prepared, strict=True)],
            )
        else:
            sets = ", ".join(f"{quote(column)} = %s" for column in columns[1:])
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE {quote(columns[0])} = %s{extra}",
                [(*row[1:], row[0]) for row in prepared],
            )
        if cursor.rowcount != len(rows):
            raise DatabaseError(f"{cursor.rowcount} rows of {table} written, {len(rows)} expected.")


def _written(batch: BatchRows) -> None:
    """Write what a batch collected, in the order one change sends it: the workers' and
    enrollments' rows, the periods, the events, the counters."""
    groups: dict[tuple[type[Model], tuple[str, ...]], list[Model]] = {}
    for (model, _pk), (obj, saved_names) in batch.saved.items():
        groups.setdefault((model, tuple(saved_names)), []).append(obj)
    for model in (ApparatusWorker, Enrollment):  # the worker's row first, as `_transition` writes it
        for (group_model, names), objs in groups.items():
            if group_model is not model:
                continue
            fields = [cast("Field[Any, Any]", model._meta.get_field(name)) for name in names]
            rows = [[obj.pk, *(f.pre_save(obj, add=False) for f in fields)] for obj in objs]
            _update_rows(model, "id" if model is ApparatusWorker else "worker_id", [f.attname for f in fields], rows)
    state_names = list(PeriodState._fields)
    _update_rows(
        WorkerPeriod,
        "worker_id",
        state_names,
        [[worker_id, *state] for worker_id, state in batch.periods_replaced.items()],
        open_only=True,
    )
    _update_rows(
        WorkerPeriod,
        "worker_id",
        ["valid_to"],
        [[worker_id, date] for worker_id, date in batch.periods_closed.items()],
        open_only=True,
    )
    insert_rows(
        WorkerPeriod,
        PERIOD_COLUMNS,
        (
            (worker_id, valid_from, valid_to, *state)
            for worker_id, periods in batch.periods_new.items()
            for valid_from, valid_to, state in periods
        ),
    )
    if batch.events:
        columns = list(batch.events[0])
        insert_rows(EnrollmentEvent, columns, ([event[name] for name in columns] for event in batch.events))
    writes = WriteBatch()
    writes.extend(counters_moved(batch.counted))
    writes.send()


@contextmanager
def worker_created(worker: ApparatusWorker, enrollment: Enrollment) -> Iterator[LockedWorker]:
    """The same for a worker just created in the caller's transaction: nobody else sees it yet,
    it has no history and no period."""
    with transaction.atomic(savepoint=False):
        locked = LockedWorker(worker=worker, enrollment=enrollment, last_change=None, open_from=None)
        yield locked
        _sent(locked)
