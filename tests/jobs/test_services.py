"""Background jobs' bookkeeping, on any database: a job whose heartbeat went stale is queued
again (and run again from the start) or, after the last attempt, failed; a run that lost its job
keeps nothing; scheduled jobs are enqueued once per period."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError
from django.utils import timezone

from access.scope import EVERYTHING
from enrollment.choices import EventSource
from enrollment.models import ApparatusWorker, WorkerImport
from jobs.models import Job
from jobs.registry import Outcome, job_kind_register
from jobs.services import job_enqueue, job_run, jobs_recover, schedules_enqueue
from tests.enrollment.test_imports import csv_file, worker_row

pytestmark = pytest.mark.usefixtures("regions")


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_superuser("admin-jobs", password="pw-admin-123")


def import_params() -> dict:
    return {"file_name": "aparatur.csv", "dry_run": False, "all_or_nothing": True, "source": EventSource.IMPORT}


def as_if_killed_mid_run(job: Job, *, attempts: int, seconds_ago: float) -> None:
    """The job as a worker that died while running it leaves it: running, heartbeat stale."""
    Job.objects.filter(pk=job.pk).update(
        state="running", attempts=attempts, heartbeat_at=timezone.now() - datetime.timedelta(seconds=seconds_ago)
    )


@pytest.fixture
def queued_import(admin, settings):
    """An import job recorded but not run (as if its worker never picked it up)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    job = job_enqueue(
        kind="import_workers", user=admin, scope=EVERYTHING, data=csv_file([worker_row(1)]), params=import_params()
    )
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return job


def test_a_job_whose_heartbeat_went_stale_is_run_again_from_the_start(queued_import, settings):
    settings.UCJ_JOB_STALE_AFTER = 60
    as_if_killed_mid_run(queued_import, attempts=1, seconds_ago=61)

    assert jobs_recover() == [queued_import.pk]

    job = Job.objects.get(pk=queued_import.pk)
    assert (job.state, job.attempts, job.outcome_status) == ("succeeded", 2, 201)
    assert ApparatusWorker.objects.count() == 1
    assert WorkerImport.objects.count() == 1


def test_a_running_job_with_a_recent_heartbeat_is_left_alone(queued_import, settings):
    settings.UCJ_JOB_STALE_AFTER = 60
    as_if_killed_mid_run(queued_import, attempts=1, seconds_ago=59)

    assert jobs_recover() == []
    assert Job.objects.get(pk=queued_import.pk).state == "running"


def test_after_the_last_attempt_a_lost_job_fails_saying_why(queued_import, settings):
    settings.UCJ_JOB_STALE_AFTER = 60
    settings.UCJ_JOB_MAX_ATTEMPTS = 3
    as_if_killed_mid_run(queued_import, attempts=3, seconds_ago=61)

    assert jobs_recover() == [queued_import.pk]

    job = Job.objects.get(pk=queued_import.pk)
    assert (job.state, job.outcome_status) == ("failed", 500)
    assert job.result["errors"][0]["code"] == "worker_lost"
    assert ApparatusWorker.objects.count() == 0


def test_a_job_already_claimed_is_not_run_twice(queued_import):
    assert job_run(queued_import.pk) == "succeeded"
    assert job_run(queued_import.pk) == ""  # a duplicate task of the same job

    assert ApparatusWorker.objects.count() == 1
    assert Job.objects.get(pk=queued_import.pk).attempts == 1


def test_a_run_that_lost_its_job_keeps_none_of_its_writes(queued_import, admin):
    def runner(job, progress, prepared):
        ApparatusWorker.objects.update(full_name="Ditulis dua kali")  # a write, to be undone
        # Meanwhile the job was taken for dead, queued again and claimed by another run.
        Job.objects.filter(pk=job.pk).update(attempts=job.attempts + 1)
        return Outcome({"done": True})

    job_kind_register("test_lost", runner)
    job_enqueue(
        kind="import_workers", user=admin, data=csv_file([worker_row(2)]), params=import_params()
    )  # one worker to keep
    lost = Job.objects.create(kind="test_lost")

    assert job_run(lost.pk) == ""

    assert list(ApparatusWorker.objects.values_list("full_name", flat=True)) == ["Pekerja 2"]
    assert Job.objects.get(pk=lost.pk).state == "running"  # the other run's to finish


def test_progress_is_reported_to_the_end(queued_import):
    job_run(queued_import.pk)

    job = Job.objects.get(pk=queued_import.pk)
    assert (job.phase, job.rows_done, job.rows_total, job.percent) == ("write", 1, 1, 100)


def test_each_scheduled_job_is_enqueued_once_a_day():
    first = schedules_enqueue()
    again = schedules_enqueue()
    tomorrow = schedules_enqueue(now=timezone.now() + datetime.timedelta(days=1))

    assert sorted(job.kind for job in first) == ["expire_enrollments", "snapshot_coverage"]
    assert again == []
    assert len(tomorrow) == 2
    assert all(job.state == "succeeded" for job in Job.objects.all())


def test_a_period_enqueued_by_another_worker_is_refused_by_its_key():
    key = f"snapshot_coverage:{timezone.localdate().isoformat()}"
    job_enqueue(kind="snapshot_coverage", unique_key=key)

    with pytest.raises(IntegrityError):
        job_enqueue(kind="snapshot_coverage", unique_key=key)
    assert Job.objects.filter(unique_key=key).count() == 1


def test_an_unknown_kind_is_refused_when_enqueued():
    with pytest.raises(LookupError):
        job_enqueue(kind="no_such_kind")
    assert Job.objects.count() == 0
