"""python manage.py run_worker: run background jobs (django-tasks' database worker) and, beside
them, the upkeep every worker shares: queue again the jobs whose worker died, enqueue the
scheduled jobs once per period, delete the jobs' files past their time (exports); and the polls
the apps registered (jobs.registry.POLLS: the webhook deliveries that became due), each at its
own short interval. Start as many as needed, on as many machines: they share the queue
(PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import logging
import threading
import time
from argparse import ArgumentParser
from typing import Any

from django.db import DatabaseError, connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from jobs.registry import POLLS
from jobs.services import job_files_expire, jobs_recover, schedules_enqueue

logger = logging.getLogger("jobs")


class Upkeep(threading.Thread):
    """Every `every` seconds: `jobs_recover`, `schedules_enqueue` and `job_files_expire`, on a
    connection of its own."""

    def __init__(self, every: float, schedules: bool):
        super().__init__(name="jobs-upkeep", daemon=True)
        self.every, self.schedules = every, schedules
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while True:
                self.once()
                if self.stopped.wait(self.every):
                    return
        finally:
            connections.close_all()

    def once(self) -> None:
        try:
            for job_id in jobs_recover():
                logger.warning("job %s queued again (its worker stopped)", job_id)
            if self.schedules:
                for job in schedules_enqueue():
                    logger.info("scheduled job %s enqueued (%s)", job.pk, job.unique_key)
            if expired := job_files_expire():
                logger.info("%s expired job files deleted", expired)
        except DatabaseError:
            logger.warning("upkeep skipped this round", exc_info=True)


class Polls(threading.Thread):
    """Runs each registered poll (jobs.registry.POLLS) every `poll.every()` seconds, on a
    connection of its own."""

    def __init__(self) -> None:
        super().__init__(name="jobs-polls", daemon=True)
        self.stopped = threading.Event()

    def run(self) -> None:
        due = dict.fromkeys(POLLS, 0.0)
        try:
            while not self.stopped.is_set():
                now = time.monotonic()
                for name, poll in POLLS.items():
                    if due.get(name, 0.0) > now:
                        continue
                    try:
                        poll.run()
                    except DatabaseError:
                        logger.warning("poll %s skipped this round", name, exc_info=True)
                    due[name] = time.monotonic() + max(0.05, poll.every())
                wait = min(due.values(), default=now + 1.0) - time.monotonic()
                self.stopped.wait(max(0.05, wait))
        finally:
            connections.close_all()


class Command(DbWorkerCommand):
    help = (
        "Run background jobs; also queue again jobs whose worker stopped, and enqueue scheduled jobs "
        "(snapshot_coverage, expire_enrollments) once per period."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--upkeep-interval", type=float, default=30.0, help="Seconds between upkeep rounds (default: 30)."
        )
        parser.add_argument("--no-schedules", action="store_false", dest="schedules", help="Enqueue no scheduled job.")
        for action in parser._actions:
            if action.dest == "worker_id":
                # A fresh id per process (the library draws one when the module is imported).
                action.default = None

    # Two options of its own on top of the library's, passed on to it.
    def handle(self, *args: Any, upkeep_interval: float, schedules: bool, **options: Any) -> None:  # type: ignore[override]
        options["worker_id"] = options.get("worker_id") or get_random_string(32)
        if options.get("reload") and not options.get("batch"):
            options["reload"] = False  # a reloaded worker would leave its job behind: restart it instead
        Upkeep(upkeep_interval, schedules).start()
        Polls().start()
        super().handle(*args, **options)
