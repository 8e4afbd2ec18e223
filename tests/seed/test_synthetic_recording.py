"""The synthetic generator's SQL writes what `enrollment.recording` writes for the same changes:
each sampled worker's history, replayed through `NewHistory` from what the generator decided
(its worker and enrollment rows and its events' kinds and dates), gives the generator's events
(their `changes` included), state periods and enrollment, row for row (PostgreSQL)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command

from coverage.services import counters_differences
from enrollment import services
from enrollment.choices import EventKind, Program
from enrollment.models import ApparatusWorker, EnrollmentEvent, WorkerPeriod
from enrollment.recording import PERIOD_COLUMNS, NewHistory, WorkerFacts, changes_json
from enrollment.transitions import MEMBERSHIP_FIELDS

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 5000
END = datetime.date(2026, 6, 30)
YEAR = datetime.timedelta(days=365)


@pytest.fixture
def jambi(regions_csv, tmp_path):
    lines = regions_csv.read_text("utf-8-sig").splitlines()
    path = tmp_path / "regions.csv"
    path.write_text("\n".join([lines[0], *(line for line in lines[1:] if line.startswith("15"))]) + "\n", "utf-8")
    return path


def replayed(worker: ApparatusWorker, events: list[EnrollmentEvent]) -> NewHistory:
    """The worker's history through the primitive, from the generator's decisions."""
    enrollment = worker.enrollment
    renewed = any(event.kind == EventKind.RENEWED for event in events)
    history = NewHistory(
        WorkerFacts.of(worker.pk, worker.village, institution=worker.institution, term_started=True, term_end=None)
    )
    data = {name: getattr(worker, name) for name in services.WORKER_FIELDS} | {"term_end": None}
    history.register(data, effective_date=events[0].effective_date, period_from=worker.term_start)
    for event in events[1:]:
        params = {}
        if event.kind == EventKind.ACTIVATED:
            params = {
                "kpj_number": enrollment.kpj_number,
                "scheme": enrollment.scheme,
                "npp": enrollment.npp,
                "programs": [Program.JKK, Program.JKM, *([Program.JHT] if enrollment.program_jht else [])],
                "funding_source": enrollment.funding_source,
                "coverage_start": enrollment.coverage_start,
                # a renewal paid a year further
                "paid_until": enrollment.paid_until - YEAR if renewed else enrollment.paid_until,
            }
        elif event.kind == EventKind.RENEWED:
            params = {"paid_until": enrollment.paid_until}
        history.apply(event.kind, effective_date=event.effective_date, params=params)
    return history


def test_the_generator_writes_what_the_recording_primitive_writes(jambi):
    call_command(
        "generate_synthetic",
        *("--workers", str(WORKERS), "--seed", "3", "--end", END.isoformat(), "--regions", str(jambi)),
        stdout=io.StringIO(),
    )
    sample = list(ApparatusWorker.objects.select_related("village", "enrollment").order_by("id")[:: WORKERS // 400])
    kinds = set()
    for worker in sample:
        events = list(EnrollmentEvent.objects.filter(worker=worker).order_by("id"))
        kinds.update(event.kind for event in events)
        history = replayed(worker, events)

        assert [
            (e.kind, e.effective_date, e.from_status, e.to_status, changes_json(e.diff)) for e in history.events
        ] == [(e.kind, e.effective_date, e.from_status, e.to_status, e.changes) for e in events], worker.pk
        assert list(history.period_rows()) == list(
            WorkerPeriod.objects.filter(worker=worker).order_by("valid_from").values_list(*PERIOD_COLUMNS)
        ), worker.pk
        enrollment = worker.enrollment
        assert history.enrollment_row() == (enrollment.status, *(getattr(enrollment, f) for f in MEMBERSHIP_FIELDS))
        assert (history.worker.serving, history.worker.term_end) == (worker.serving, worker.term_end)
    # Every kind of change was compared, and the counters are what the workers count.
    assert kinds == {k.value for k in EventKind} - {EventKind.UPDATED}
    assert counters_differences() == []
