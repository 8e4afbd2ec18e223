"""Concurrent writers on PostgreSQL (real transactions, one connection per thread): counters lose
no update, a NIK serves once, and transitions on one worker are serialized."""

import datetime
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from core.errors import ConflictError
from coverage.models import VillageCoverage
from enrollment import services
from enrollment.models import ApparatusWorker, EnrollmentEvent
from tests.helpers import nik_for

from .factories import (
    OTHER_REGENCY_VILLAGE,
    OTHER_VILLAGE_SAME_DISTRICT,
    VILLAGE,
    WorkerFactory,
    activate,
    lapse,
    renew,
    submit,
    village,
)
from .helpers import counter_rows, counters, recounted_rows

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

BORN = datetime.date(1980, 5, 17)
THREADS = 8


def run_together(jobs: list[Callable]) -> list:
    """Start every job at the same moment, each in its own thread and database connection;
    return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index: int, job: Callable) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread raised
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_concurrent_writers_in_one_village_lose_no_update(regions):
    lempur = village()
    per_thread = 5

    def writer(thread: int) -> int:
        workers = [
            WorkerFactory(village=lempur, nik=nik_for(BORN, "male", 100 * (thread + 1) + n)) for n in range(per_thread)
        ]
        for worker in workers:
            activate(worker)
        for worker in workers[:2]:
            lapse(worker)
        return len(workers)

    results = run_together([lambda t=t: writer(t) for t in range(THREADS)])

    assert results == [per_thread] * THREADS
    serving, protected = THREADS * per_thread, THREADS * (per_thread - 2)
    assert counters() == {(VILLAGE, "pemerintah_desa"): (serving, protected)}
    assert EnrollmentEvent.objects.count() == serving * 2 + THREADS * 2
    assert counter_rows() == recounted_rows()


def test_concurrent_mixed_writers_match_recount(regions):
    villages = [village(VILLAGE), village(OTHER_VILLAGE_SAME_DISTRICT), village(OTHER_REGENCY_VILLAGE)]
    institutions = ["pemerintah_desa", "bpd", "posyandu"]

    def writer(thread: int) -> None:
        for n in range(4):
            worker = WorkerFactory(
                village=villages[0],
                institution=institutions[(thread + n) % 3],
                nik=nik_for(BORN, "male", 100 * (thread + 1) + n),
            )
            submit(worker)
            activate(worker)
            if n % 2:
                lapse(worker)
                renew(worker)
            services.worker_update(
                actor=services.Actor(label=f"thread {thread}"),
                worker_id=worker.pk,
                changes={"village": villages[(thread + n) % 3]},
                expected_version=None,
            )

    results = run_together([lambda t=t: writer(t) for t in range(THREADS)])

    assert results == [None] * THREADS
    assert sum(serving for serving, _protected in counters().values()) == THREADS * 4
    assert sum(protected for _serving, protected in counters().values()) == THREADS * 4
    assert counter_rows() == recounted_rows()


def test_concurrent_registration_of_one_nik_has_one_winner(regions):
    nik = nik_for(BORN, "male", 1)
    codes = [VILLAGE, OTHER_VILLAGE_SAME_DISTRICT, OTHER_REGENCY_VILLAGE] * 2
    places = [village(code) for code in codes]

    results = run_together([lambda v=v: WorkerFactory(village=v, nik=nik) for v in places])

    winners = [r for r in results if isinstance(r, ApparatusWorker)]
    losers = [r for r in results if not isinstance(r, ApparatusWorker)]
    assert len(winners) == 1
    assert all(isinstance(r, ConflictError) and r.code == "nik_serving_elsewhere" for r in losers), losers
    winner_code = ApparatusWorker.objects.get().village.code
    assert all(winner_code in r.message for r in losers)
    assert sum(row.serving for row in VillageCoverage.objects.all()) == 1
    assert counter_rows() == recounted_rows()


def test_concurrent_activations_of_one_worker_have_one_winner(regions):
    worker = submit(WorkerFactory())

    results = run_together([lambda: activate(worker) for _ in range(6)])

    winners = [r for r in results if isinstance(r, ApparatusWorker)]
    assert len(winners) == 1, results
    assert all(isinstance(r, ConflictError) and r.code == "illegal_transition" for r in results if r not in winners)
    assert EnrollmentEvent.objects.filter(worker=worker, kind="activated").count() == 1
    assert ApparatusWorker.objects.get(pk=worker.pk).version == 3
    assert counters() == {(VILLAGE, "pemerintah_desa"): (1, 1)}


def test_concurrent_lapse_and_move_keep_counters_exact(regions):
    """A move that waited for a lapse on the same worker must count the worker as lapsed."""
    workers = [activate(WorkerFactory(nik=nik_for(BORN, "male", 10 + n))) for n in range(6)]
    destination = village(OTHER_REGENCY_VILLAGE)

    def move(worker):
        return services.worker_update(
            actor=services.Actor(label="mover"),
            worker_id=worker.pk,
            changes={"village": destination},
            expected_version=None,
        )

    jobs = [job for worker in workers for job in (lambda w=worker: lapse(w), lambda w=worker: move(w))]
    results = run_together(jobs)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert counters() == {(OTHER_REGENCY_VILLAGE, "pemerintah_desa"): (6, 0)}
    assert counter_rows() == recounted_rows()


def test_concurrent_opposite_moves_do_not_deadlock(regions):
    here, there = village(VILLAGE), village(OTHER_REGENCY_VILLAGE)
    going = [activate(WorkerFactory(village=here, nik=nik_for(BORN, "male", 10 + n))) for n in range(4)]
    coming = [activate(WorkerFactory(village=there, nik=nik_for(BORN, "male", 20 + n))) for n in range(4)]

    def move(worker, to):
        def run():
            for _ in range(3):
                current = ApparatusWorker.objects.get(pk=worker.pk).village_id
                target = to if current != to.pk else (here if to == there else there)
                services.worker_update(
                    actor=services.Actor(), worker_id=worker.pk, changes={"village": target}, expected_version=None
                )

        return run

    results = run_together([move(w, there) for w in going] + [move(w, here) for w in coming])

    assert results == [None] * 8
    assert sum(serving for serving, _protected in counters().values()) == 8
    assert counter_rows() == recounted_rows()
