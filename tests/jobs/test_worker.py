"""The runner itself, on PostgreSQL: real `manage.py run_worker` processes on the test database.
A worker killed (SIGKILL) in the middle of an import leaves nothing of it, and the job, found
again by another worker, ends exactly as a run never killed, its progress reported on the way;
two workers enqueue and run a scheduled job once per period; several workers share a queue,
each job run once."""

from __future__ import annotations

import datetime
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from access.scope import EVERYTHING
from coverage.models import CoverageSnapshot
from enrollment.choices import EventSource
from enrollment.models import ApparatusWorker, EnrollmentEvent, WorkerImport, WorkerPeriod
from jobs.models import Job
from jobs.services import job_enqueue
from tests.enrollment.test_imports import BIRTH, assert_counters_match_recount, csv_file, nik, worker_row

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

ROWS = 40_000


def wait_for(condition: Callable[[], Any], *, timeout: float = 120.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not reached within {timeout} s")


def many_rows(count: int) -> bytes:
    """`count` new workers, each with its own NIK (9,999 to a birth date)."""
    rows = []
    for serial in range(count):
        birth = BIRTH + datetime.timedelta(days=serial // 9_999)
        rows.append(worker_row(serial, nik=nik(serial % 9_999 + 1, birth=birth), birth_date=birth.isoformat()))
    return csv_file(rows)


def import_job(data: bytes) -> Job:
    admin = get_user_model().objects.create_superuser("admin-jobs", password="pw-admin-123")
    return job_enqueue(
        kind="import_workers",
        user=admin,
        scope=EVERYTHING,
        data=data,
        params={"file_name": "aparatur.csv", "dry_run": False, "all_or_nothing": True, "source": EventSource.IMPORT},
    )


def state(job: Job) -> Job:
    return Job.objects.defer("data").get(pk=job.pk)


def test_a_job_whose_worker_is_killed_mid_run_runs_again_and_writes_everything_once(regions, start_worker):
    job = import_job(many_rows(ROWS))
    first = start_worker("--no-schedules")

    # Progress is seen while the import's transaction is still open.
    running = wait_for(lambda: (j := state(job)).state == "running" and 0 < j.rows_done < ROWS and j)
    assert running.rows_total == ROWS
    assert running.phase == "check"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)

    # Nothing of the killed run is kept.
    wait_for(lambda: not _backend_of_killed_worker_alive())
    assert (ApparatusWorker.objects.count(), WorkerImport.objects.count(), EnrollmentEvent.objects.count()) == (0, 0, 0)
    assert state(job).state == "running"  # until another worker finds its heartbeat stale

    start_worker("--no-schedules")
    done = wait_for(lambda: (j := state(job)).state in ("succeeded", "failed") and j, timeout=240)

    assert done.state == "succeeded", done.result
    assert done.attempts == 2
    assert (done.rows_done, done.rows_total, done.percent) == (ROWS, ROWS, 100)
    record = WorkerImport.objects.get()
    assert done.result == {
        "import": record.pk,
        "rows": ROWS,
        "created": ROWS,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "committed": True,
        "dry_run": False,
        "errors": [],
        "errors_omitted": 0,
    }
    assert ApparatusWorker.objects.count() == ROWS
    assert ApparatusWorker.objects.values("nik").distinct().count() == ROWS
    assert EnrollmentEvent.objects.count() == ROWS  # one `registered` event each
    assert WorkerPeriod.objects.count() == ROWS
    assert_counters_match_recount()


def _backend_of_killed_worker_alive() -> bool:
    """Whether the killed worker's connections are still open (their transaction not yet undone)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def test_two_workers_enqueue_and_run_each_scheduled_job_once(regions, start_worker):
    start_worker()
    start_worker()

    jobs = wait_for(lambda: Job.objects.filter(state="succeeded").count() == 2 and list(Job.objects.all()), timeout=60)
    time.sleep(1.5)  # a few more upkeep rounds of both workers

    assert sorted(job.kind for job in Job.objects.all()) == ["expire_enrollments", "snapshot_coverage"]
    assert all(job.attempts == 1 for job in jobs)
    today = timezone.localdate().isoformat()
    assert {job.unique_key for job in Job.objects.all()} == {
        f"expire_enrollments:{today}",
        f"snapshot_coverage:{today}",
    }
    snapshot = Job.objects.get(kind="snapshot_coverage")
    assert snapshot.result == {"as_of": today, "regions": CoverageSnapshot.objects.filter(date=today).count()}


def test_several_workers_share_the_queue_and_run_each_job_once(regions, start_worker):
    from django_tasks_db.models import DBTaskResult

    jobs = [import_job_for(serial) for serial in range(1, 13)]
    workers = [start_worker("--no-schedules") for _ in range(3)]

    wait_for(lambda: Job.objects.filter(state="succeeded").count() == len(jobs), timeout=120)

    assert all(job.attempts == 1 for job in Job.objects.all())
    assert ApparatusWorker.objects.count() == len(jobs)
    assert WorkerImport.objects.count() == len(jobs)
    runs = DBTaskResult.objects.filter(task_path="jobs.tasks.run_job")
    assert runs.count() == len(jobs)
    assert all(len(run.worker_ids) == 1 for run in runs)
    assert all(worker.poll() is None for worker in workers)


def import_job_for(serial: int) -> Job:
    user, _created = get_user_model().objects.get_or_create(
        username="admin-share", defaults={"is_superuser": True, "is_staff": True}
    )
    return job_enqueue(
        kind="import_workers",
        user=user,
        scope=EVERYTHING,
        data=csv_file([worker_row(serial)]),
        params={"file_name": f"a{serial}.csv", "source": EventSource.IMPORT},
    )
