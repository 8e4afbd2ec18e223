"""The coverage app's background jobs (jobs.registry): the daily snapshot of every region's
coverage. Registered in `CoverageConfig.ready()`."""

from __future__ import annotations

import datetime

from core.clock import today
from jobs.models import Job
from jobs.registry import Outcome, Progress

from .services import snapshots_take

SNAPSHOT_COVERAGE = "snapshot_coverage"


def snapshot_coverage_run(job: Job, progress: Progress, prepared: object = None) -> Outcome:
    """`manage.py snapshot_coverage` for the day the schedule enqueued it (params `as_of`):
    idempotent for a date, so running it again after a crash writes the same rows once."""
    as_of = datetime.date.fromisoformat(job.params["as_of"]) if job.params.get("as_of") else today()
    as_of = min(as_of, today())
    progress.report("snapshot", 0, None)
    regions = snapshots_take(as_of=as_of)
    progress.report("snapshot", regions, regions)
    return Outcome({"as_of": as_of.isoformat(), "regions": regions})
