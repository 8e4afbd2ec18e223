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

On leaving the block the batch is sent (one round trip on PostgreSQL, see core.db) and, if a
change was recorded, the data version moves on once the transaction commits. An exception
leaves nothing written.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.transaction import TransactionManagementError

from core.data_version import data_version_bump
from core.db import PreparedRead

from .models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerPeriod
from .recording import LockedWorker


def _lock_reads(worker_id: int) -> list[QuerySet[Any]]:
    # The enrollment is read after the lock, in its own statement. Joined into the locking query,
    # a writer that waited for the lock got the worker's new row but the enrollment's old one
    # (PostgreSQL re-reads only the locked rows), so two transitions could both pass the state
    # check; the two dates would likewise come from before the wait. Both statements (and the
    # transaction's BEGIN) still go to PostgreSQL in one round trip: the server starts the
    # second once the first holds the lock.
    return [
        ApparatusWorker.objects.select_for_update().filter(pk=worker_id),
        Enrollment.objects.annotate(
            last_change=Subquery(
                EnrollmentEvent.objects.filter(worker_id=OuterRef("pk"))
                .order_by("-effective_date")
                .values("effective_date")[:1]
            ),
            open_from=Subquery(
                WorkerPeriod.objects.filter(worker_id=OuterRef("pk"), valid_to__isnull=True).values("valid_from")[:1]
            ),
        ).filter(pk=worker_id),
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
    worker, enrollment = cast(ApparatusWorker, workers[0]), cast(Enrollment, enrollments[0])  # the reads' models
    # The two dates are the read's annotations; they live on in the LockedWorker only.
    last_change: datetime.date | None = enrollment.__dict__.pop("last_change")
    open_from: datetime.date | None = enrollment.__dict__.pop("open_from")
    worker.enrollment = enrollment
    return LockedWorker(worker=worker, enrollment=enrollment, last_change=last_change, open_from=open_from)


def _sent(locked: LockedWorker) -> None:
    locked.writes.send()
    if locked.changed:
        data_version_bump()  # any recorded change may change a coverage answer (figures, wages, premium)


@contextmanager
def worker_locked(worker_id: int) -> Iterator[LockedWorker]:
    """A transaction holding the worker's row lock, for the block; its writes sent at the end."""
    with transaction.atomic():
        locked = _lock(worker_id)
        yield locked
        _sent(locked)


@contextmanager
def worker_created(worker: ApparatusWorker, enrollment: Enrollment) -> Iterator[LockedWorker]:
    """The same for a worker just created in the caller's transaction: nobody else sees it yet,
    it has no history and no period."""
    with transaction.atomic(savepoint=False):
        locked = LockedWorker(worker=worker, enrollment=enrollment, last_change=None, open_from=None)
        yield locked
        _sent(locked)
