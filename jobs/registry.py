"""The kinds of background job: what runs a job of each kind.

An app above this one registers its kinds in its `ready()` (`job_kind_register`), as coverage
registers its counters with enrollment: this app runs them without importing them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .models import Job


@dataclass
class Outcome:
    """What a job's run gives: its result (JSON), the HTTP status the same work would have answered
    synchronously, and whether it failed (a refused import: its errors are in `result`)."""

    result: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    failed: bool = False


class Progress:
    """How far a running job is, as its runner reports it (`report`). The worker's heartbeat
    writes it to the job's row (`jobs.services`), outside the job's own transaction."""

    def __init__(self) -> None:
        self.phase = ""
        self.done = 0
        self.total: int | None = None
        self.moved = True

    def report(self, phase: str, done: int, total: int | None) -> None:
        self.phase, self.done, self.total, self.moved = phase, done, total, True


# A runner is given the job, its progress and what the kind's `prepare` returned (None without one).
Runner = Callable[[Job, Progress, Any], Outcome]
# Run before the job's transaction, committed on its own: e.g. reading the input and counting
# what must be counted once however many times the job runs (an import's NIK lookups).
Preparer = Callable[[Job, Progress], Any]


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Runner
    # All of the job's writes in one transaction with its completion: a run cut short writes
    # nothing and is simply run again. Without, the runner must be safe to run again itself.
    atomic: bool = True
    prepare: Preparer | None = None


KINDS: dict[str, JobKind] = {}


def job_kind_register(name: str, run: Runner, *, atomic: bool = True, prepare: Preparer | None = None) -> None:
    KINDS[name] = JobKind(name=name, run=run, atomic=atomic, prepare=prepare)


def job_kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"No job kind {name!r} is registered.") from None


@dataclass(frozen=True)
class Poll:
    """Something every worker does every few seconds beside running jobs (`run_worker`): cheap
    when there is nothing to do, safe to run on several workers at once (e.g. queue the webhook
    deliveries that became due). `every` gives the interval in seconds, read each round."""

    name: str
    run: Callable[[], object]
    every: Callable[[], float]


POLLS: dict[str, Poll] = {}


def job_poll_register(name: str, run: Callable[[], object], *, every: Callable[[], float]) -> None:
    POLLS[name] = Poll(name=name, run=run, every=every)
