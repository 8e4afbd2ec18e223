"""Writes of background jobs: enqueue one, run it (claim, heartbeat, progress, finish), find the
jobs whose worker died and queue them again, enqueue the scheduled ones once per period.

What survives a crash: a job's row and its task are written in one transaction with whatever
asked for it (`job_enqueue`). A run first claims the job (queued -> running, `attempts` + 1);
a heartbeat thread then writes its progress and `heartbeat_at` every `UCJ_JOB_HEARTBEAT`
seconds on a connection of its own. An atomic kind (the default) writes everything it writes
in one transaction that also marks the job finished, on the condition that this run still owns
it: a worker killed mid-run leaves nothing of its writes, and the job, its heartbeat going stale,
is queued again by any worker (`jobs_recover`) and run from the start, at most
`UCJ_JOB_MAX_ATTEMPTS` times."""

from __future__ import annotations

import datetime
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from access.scope import EVERYTHING, Scope
from core.errors import ServiceError

from .choices import JobState
from .models import Job, JobFile
from .registry import KINDS, Outcome, Progress, job_kind

logger = logging.getLogger(__name__)


class JobLost(Exception):
    """The run no longer owns its job (it was queued again while this run was thought dead)."""


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def heartbeat_seconds() -> float:
    return float(_setting("UCJ_JOB_HEARTBEAT", 2.0))


def stale_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(_setting("UCJ_JOB_STALE_AFTER", 120)))


def max_attempts() -> int:
    return int(_setting("UCJ_JOB_MAX_ATTEMPTS", 3))


def export_file_hours() -> float:
    return float(_setting("UCJ_EXPORT_FILE_HOURS", 24))


def _enqueue_task(job: Job) -> str:
    # By name: the task module (jobs.tasks) imports this one.
    run_job = import_string("jobs.tasks.run_job")
    return str(run_job.enqueue(job.pk).id)


def job_enqueue(
    *,
    kind: str,
    user: User | None = None,
    scope: Scope | None = None,
    params: dict[str, Any] | None = None,
    data: bytes | None = None,
    rows_total: int | None = None,
    unique_key: str | None = None,
) -> Job:
    """Record a job of `kind` for `user` (None: the system, every region) and queue its task, in
    one transaction: no job without its task, no task without its job.

    This is the one way to run something in the background: register a kind
    (`jobs.registry.job_kind_register`) in the app's `ready()`, then call this. Raises
    `IntegrityError` for a `unique_key` already used (a scheduled job of the same period)."""
    job_kind(kind)  # an unknown kind is refused now, not by the worker
    scope = scope if scope is not None else EVERYTHING
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            params=params or {},
            data=data,
            rows_total=rows_total,
            created_by=user,
            everywhere=scope.everything,
            region_codes=sorted(scope.province_codes | scope.regency_codes),
            unique_key=unique_key,
        )
        task_id = _enqueue_task(job)
        # An immediate backend (the tests) has run the job already: keep what it wrote.
        Job.objects.filter(pk=job.pk).update(task_id=task_id)
    job.refresh_from_db()
    return job


class _Heartbeat(threading.Thread):
    """Writes a running job's progress and heartbeat every few seconds, on its own connection, so
    they are seen while the job's transaction is still open."""

    def __init__(self, job_id: int, attempt: int, progress: Progress, every: float):
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.job_id, self.attempt, self.progress, self.every = job_id, attempt, progress, every
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.every):
                self.beat()
        finally:
            connections.close_all()  # this thread's connections

    def beat(self) -> None:
        progress = self.progress
        try:
            Job.objects.filter(pk=self.job_id, state=JobState.RUNNING, attempts=self.attempt).update(
                heartbeat_at=timezone.now(), phase=progress.phase, rows_done=progress.done, rows_total=progress.total
            )
        except DatabaseError:  # SQLite while the job holds its write lock: the next beat
            logger.warning("Job %s: heartbeat not written", self.job_id, exc_info=True)

    def stop(self) -> None:
        self.stopped.set()
        self.join()


@contextmanager
def _heartbeat(job_id: int, attempt: int, progress: Progress) -> Iterator[None]:
    every = heartbeat_seconds()
    if every <= 0:  # off (the tests' immediate backend: the job runs inside the test's transaction)
        yield
        return
    beating = _Heartbeat(job_id, attempt, progress, every)
    beating.start()
    try:
        yield
    finally:
        beating.stop()


def _error_body(exc: ServiceError) -> dict[str, Any]:
    kind = "validation_error" if exc.status_code == 400 else "client_error"
    return {"type": kind, "errors": [{"code": e.code, "detail": e.message, "attr": e.field} for e in exc.errors]}


def _finish(job_id: int, attempt: int, outcome: Outcome, progress: Progress) -> None:
    """Mark the job finished if this run still owns it; otherwise `JobLost` (rolls back its writes)."""
    done = Job.objects.filter(pk=job_id, state=JobState.RUNNING, attempts=attempt).update(
        state=JobState.FAILED if outcome.failed else JobState.SUCCEEDED,
        result=outcome.result,
        outcome_status=outcome.status,
        phase=progress.phase,
        rows_done=progress.total if progress.total is not None and not outcome.failed else progress.done,
        rows_total=progress.total,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        data=None,  # the input is done with (an import keeps its own copy of the file)
    )
    if done != 1:
        raise JobLost(job_id)


class _Refused(Exception):
    def __init__(self, error: ServiceError):
        self.error = error


def job_run(job_id: int) -> str:
    """Run job `job_id` once, if it is still queued; returns the state it ends in. The task
    (`jobs.tasks.run_job`) calls this in a worker."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, attempts=F("attempts") + 1, started_at=now, heartbeat_at=now
    )
    if not claimed:  # finished, or running under another task: a duplicate
        return ""
    job = Job.objects.get(pk=job_id)
    attempt = job.attempts
    kind = job_kind(job.kind)
    progress = Progress()
    progress.total = job.rows_total
    try:
        with _heartbeat(job_id, attempt, progress):
            try:
                try:
                    prepared = kind.prepare(job, progress) if kind.prepare is not None else None
                except ServiceError as exc:
                    raise _Refused(exc) from exc
                with transaction.atomic() if kind.atomic else nullcontext():
                    try:
                        outcome = kind.run(job, progress, prepared)
                    except ServiceError as exc:
                        raise _Refused(exc) from exc
                    _finish(job_id, attempt, outcome, progress)
            except _Refused as refused:
                # Nothing of the run is kept; the refusal is the job's result, in the API's error shape.
                error = refused.error
                _finish(job_id, attempt, Outcome(_error_body(error), error.status_code, failed=True), progress)
    except JobLost:
        logger.warning("Job %s was queued again while this run was thought dead; its writes are undone", job_id)
        return ""
    except Exception:
        body = {
            "type": "server_error",
            "errors": [{"code": "error", "detail": _("The job failed unexpectedly."), "attr": None}],
        }
        with suppress(JobLost):
            _finish(job_id, attempt, Outcome(body, 500, failed=True), progress)
        raise
    return Job.objects.values_list("state", flat=True).get(pk=job_id)


def jobs_recover(*, now: datetime.datetime | None = None) -> list[int]:
    """Queue again the running jobs whose heartbeat is older than `UCJ_JOB_STALE_AFTER` (their
    worker died), or fail them after `UCJ_JOB_MAX_ATTEMPTS` runs; returns their ids. Any number of
    workers may call this at once: each job is taken by one (a conditional update)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    stale_before = now - stale_after()
    recovered = []
    for job in Job.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=stale_before).only(
        "pk", "attempts", "task_id"
    ):
        lost = {"heartbeat_at__lt": stale_before, "state": JobState.RUNNING, "attempts": job.attempts}
        with transaction.atomic():
            if job.attempts >= max_attempts():
                body = {
                    "type": "server_error",
                    "errors": [
                        {
                            "code": "worker_lost",
                            "detail": _("The worker running this job stopped %(times)d times; it is not tried again.")
                            % {"times": job.attempts},
                            "attr": None,
                        }
                    ],
                }
                taken = Job.objects.filter(pk=job.pk, **lost).update(
                    state=JobState.FAILED, result=body, outcome_status=500, finished_at=now, data=None
                )
            else:
                taken = Job.objects.filter(pk=job.pk, **lost).update(state=JobState.QUEUED)
                if taken:
                    Job.objects.filter(pk=job.pk).update(task_id=_enqueue_task(job))
            if not taken:
                continue
            recovered.append(job.pk)
            if not _is_uuid(job.task_id):  # not a task of the database backend
                continue
            # The task the dead worker held stays "running" in the runner's table: close it.
            DBTaskResult.objects.filter(id=job.task_id, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path="jobs.services.WorkerLost",
                traceback="The worker stopped without finishing the task (its job's heartbeat went stale).",
            )
    return recovered


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


PERIODS = {
    "hour": lambda moment: moment.strftime("%Y-%m-%dT%H"),
    "day": lambda moment: moment.date().isoformat(),
}


def schedules_enqueue(*, now: datetime.datetime | None = None) -> list[Job]:
    """Enqueue each scheduled kind (`UCJ_JOB_SCHEDULES`: kind -> "hour" or "day") once for the
    current period (local time), as the system; a period already enqueued, by this worker or
    another, is skipped (the job's unique key). Returns the jobs enqueued."""
    moment = timezone.localtime(now or timezone.now())
    enqueued = []
    for kind, every in _setting("UCJ_JOB_SCHEDULES", {}).items():
        if kind not in KINDS:
            continue
        key = f"{kind}:{PERIODS[every](moment)}"
        if Job.objects.filter(unique_key=key).exists():
            continue
        try:
            enqueued.append(job_enqueue(kind=kind, unique_key=key, params={"as_of": moment.date().isoformat()}))
        except IntegrityError:  # another worker enqueued it meanwhile
            continue
    return enqueued


def job_file_address(job_id: int) -> str:
    """Where a job's file is downloaded (`GET /api/v1/jobs/{id}/file/`)."""
    return f"/api/v1/jobs/{job_id}/file/"


def job_file_store(
    *,
    job: Job,
    name: str,
    content_type: str,
    data: bytes,
    rows: int,
    personal_data: bool,
    capability: str,
) -> dict[str, Any]:
    """Keep the file job `job` made, for its requester, until `UCJ_EXPORT_FILE_HOURS` from now;
    returns the job's result naming it. Call it from the kind's run, inside the job's transaction:
    the file is then kept with the job's success or not at all, and a job run again (its worker
    died) replaces it: one file per job, written once."""
    expires_at = timezone.now() + datetime.timedelta(hours=export_file_hours())
    JobFile.objects.update_or_create(
        job_id=job.pk,
        defaults={
            "name": name,
            "content_type": content_type,
            "data": data,
            "size": len(data),
            "rows": rows,
            "personal_data": personal_data,
            "capability": capability,
            "expires_at": expires_at,
        },
    )
    return {
        "file": job_file_address(job.pk),
        "file_name": name,
        "content_type": content_type,
        "size": len(data),
        "rows": rows,
        "expires_at": expires_at.isoformat(),
    }


def job_files_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete the jobs' files past their `expires_at`; returns how many. Every worker's upkeep
    runs it (`manage.py run_worker`); a file past its time is refused before then anyway."""
    deleted, _by_model = JobFile.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
