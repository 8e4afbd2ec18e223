"""An export job in real workers, on PostgreSQL: a worker killed (SIGKILL) while it writes a large
export leaves neither file nor access log of that run; another worker finds the job again and
makes the file once, the same file a run never killed makes, its workers logged once."""

from __future__ import annotations

import io
import signal

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook

from access.models import AccessLog
from access.scope import EVERYTHING
from enrollment import import_services
from enrollment.models import ApparatusWorker
from enrollment.services import Actor
from jobs.models import JobFile
from jobs.services import job_enqueue

from .test_worker import _backend_of_killed_worker_alive, many_rows, state, wait_for

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

ROWS = 30_000


def test_an_export_whose_worker_is_killed_mid_run_is_made_again_once(regions, start_worker):
    admin = get_user_model().objects.create_superuser("admin-export", password="pw-admin-123")
    import_services.workers_import(actor=Actor(user=admin), file_name="aparatur.csv", data=many_rows(ROWS))
    job = job_enqueue(
        kind="export_workers",
        user=admin,
        scope=EVERYTHING,
        rows_total=ROWS,
        params={"format": "xlsx", "path": "/api/v1/workers/", "query": "format=xlsx&background=true"},
    )
    first = start_worker("--no-schedules")

    # Progress is seen while the export's transaction is still open.
    running = wait_for(lambda: (j := state(job)).state == "running" and 0 < j.rows_done < ROWS and j)
    assert (running.phase, running.rows_total) == ("export", ROWS)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)

    # Nothing of the killed run is kept: no file, no access log of it.
    wait_for(lambda: not _backend_of_killed_worker_alive())
    assert (JobFile.objects.count(), AccessLog.objects.count()) == (0, 0)

    start_worker("--no-schedules")
    done = wait_for(lambda: (j := state(job)).state in ("succeeded", "failed") and j, timeout=240)

    assert done.state == "succeeded", done.result
    assert (done.attempts, done.rows_done, done.percent) == (2, ROWS, 100)
    stored = JobFile.objects.get()
    assert done.result["rows"] == ROWS
    sheet = load_workbook(io.BytesIO(bytes(stored.data)), read_only=True).worksheets[0]
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids == list(ApparatusWorker.objects.order_by("id").values_list("id", flat=True))
    log = AccessLog.objects.get()  # once: the killed run's was undone
    assert (log.kind, log.rows, len(log.worker_ids)) == ("export", ROWS, ROWS)
