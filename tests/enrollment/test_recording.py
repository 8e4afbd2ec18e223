"""The two forms of recording a change write the same rows: a history made change by change
through the services (`LockedWorker.record`, under the lock) and the same history built in memory
for bulk writers (`NewHistory`: the import and the demo) give the same events, periods,
enrollment and counters."""

import datetime
import json

import pytest

from enrollment import services
from enrollment.choices import EventKind
from enrollment.models import ApparatusWorker, EnrollmentEvent, WorkerPeriod
from enrollment.recording import (
    PERIOD_COLUMNS,
    NewHistory,
    WorkerFacts,
    changes_json,
    changes_text,
    counter_state,
)
from enrollment.transitions import MEMBERSHIP_FIELDS, IllegalTransition

from .factories import WorkerFactory, activation

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = datetime.timedelta(days=1)
ACTOR = services.Actor(label="test")


# The service that records each kind of step.
SERVICES = {
    EventKind.SUBMITTED: services.enrollment_submit,
    EventKind.ACTIVATED: services.enrollment_activate,
    EventKind.RENEWED: services.enrollment_renew,
    EventKind.LAPSED: services.enrollment_lapse,
    EventKind.SERVICE_ENDED: services.worker_end_service,
}


def sent_to_services(worker: ApparatusWorker, steps: list[tuple[str, datetime.date, dict]]) -> None:
    """The steps, each sent to its service as a caller would."""
    for kind, date, params in steps:
        SERVICES[kind](actor=ACTOR, worker_id=worker.pk, effective_date=date, **params)


def replayed(worker: ApparatusWorker, steps: list[tuple[str, datetime.date, dict]]) -> NewHistory:
    """The worker's history as the bulk form builds it, from what was sent to the services."""
    history = NewHistory(
        WorkerFacts.of(
            worker.pk,
            worker.village,
            institution=worker.institution,
            term_started=True,
            term_end=None,
            wage_basis=worker.wage_basis,
            monthly_wage=worker.monthly_wage,
        )
    )
    registered = EnrollmentEvent.objects.filter(worker=worker, kind=EventKind.REGISTERED).get()
    data = {name: getattr(worker, name) for name in services.WORKER_FIELDS} | {"term_end": None}
    history.register(data, effective_date=registered.effective_date, period_from=registered.effective_date)
    for kind, date, params in steps:
        history.apply(kind, effective_date=date, params=params)
    return history


def test_the_services_and_the_bulk_form_record_the_same_history(regions, today):
    start = today - 200 * DAY
    worker = WorkerFactory(term_start=start, phone="0812345678", monthly_wage=1_500_000)
    membership = activation(scheme="pu", npp="12345678", programs=["jkk", "jkm", "jht"])
    membership["coverage_start"] = start + 20 * DAY
    steps = [
        (EventKind.SUBMITTED, start + 10 * DAY, {}),
        (EventKind.ACTIVATED, start + 20 * DAY, membership),
        (EventKind.RENEWED, start + 20 * DAY, {"paid_until": membership["paid_until"] + 30 * DAY}),  # same day
        (EventKind.LAPSED, start + 90 * DAY, {}),
        (
            EventKind.RENEWED,
            start + 120 * DAY,
            {"paid_until": membership["paid_until"] + 90 * DAY, "funding_source": "apbd_kabupaten"},
        ),
        (EventKind.SERVICE_ENDED, start + 150 * DAY, {}),
    ]
    sent_to_services(worker, steps)

    history = replayed(worker, steps)
    worker = ApparatusWorker.objects.select_related("enrollment").get(pk=worker.pk)
    events = EnrollmentEvent.objects.filter(worker=worker).order_by("id")

    assert [(e.kind, e.effective_date, e.from_status, e.to_status, changes_json(e.diff)) for e in history.events] == [
        (e.kind, e.effective_date, e.from_status, e.to_status, e.changes) for e in events
    ]
    assert list(history.period_rows()) == list(
        WorkerPeriod.objects.filter(worker=worker).order_by("valid_from").values_list(*PERIOD_COLUMNS)
    )
    enrollment = worker.enrollment
    assert history.enrollment_row() == (enrollment.status, *(getattr(enrollment, f) for f in MEMBERSHIP_FIELDS))
    assert (history.worker.serving, history.worker.term_end) == (worker.serving, worker.term_end)
    assert history.counted() is None  # ended: counted nowhere, as the worker row says
    assert counter_state(worker, enrollment.status, enrollment.funding_source) is None


@pytest.mark.parametrize(
    ("wage_basis", "steps_taken", "expected"),
    [
        # Active: counted protected, by the source funding its premium.
        ("siltap", 3, (True, "apbdes", None)),
        # Lapsed, paid a siltap: an unprotected wage earner, by its wage.
        ("siltap", 4, (False, "", 1_500_000)),
        # Lapsed, paid an honorarium: unprotected, no wage counted.
        ("honorarium", 4, (False, "", None)),
    ],
)
def test_the_services_and_the_bulk_form_count_a_worker_alike(regions, today, wage_basis, steps_taken, expected):
    start = today - 200 * DAY
    worker = WorkerFactory(term_start=start, wage_basis=wage_basis, monthly_wage=1_500_000)
    membership = activation(scheme="bpu", programs=["jkk", "jkm"], funding_source="apbdes")
    membership["coverage_start"] = start + 20 * DAY
    steps = [
        (EventKind.SUBMITTED, start + 10 * DAY, {}),
        (EventKind.ACTIVATED, start + 20 * DAY, membership),
        (EventKind.RENEWED, start + 30 * DAY, {"paid_until": membership["paid_until"] + 30 * DAY}),
        (EventKind.LAPSED, start + 90 * DAY, {}),
    ][:steps_taken]
    sent_to_services(worker, steps)
    worker = ApparatusWorker.objects.select_related("enrollment").get(pk=worker.pk)
    counted = counter_state(worker, worker.enrollment.status, worker.enrollment.funding_source)

    assert counted is not None
    assert (counted.protected, counted.funding_source, counted.wage) == expected
    assert replayed(worker, steps).counted() == counted


def test_the_bulk_form_refuses_a_transition_the_table_does_not_allow(regions):
    worker = WorkerFactory()
    history = replayed(worker, [])

    with pytest.raises(IllegalTransition):
        history.apply(EventKind.LAPSED, effective_date=worker.term_start)


@pytest.mark.parametrize(
    "diff",
    [
        {"status": ("submitted", "active"), "kpj_number": (None, "12345678901"), "program_jht": (False, True)},
        {"full_name": (None, 'Siti "Ani" Rahmawati \u00e9\u2014'), "monthly_wage": (None, 2_022_200)},
        {"term_start": (D(2024, 1, 1), D(2024, 2, 29)), "term_end": (None, None), "phone": ("", "0812")},
    ],
)
def test_changes_as_text_are_the_json_of_the_changes(diff):
    assert json.loads(changes_text(diff)) == changes_json(diff)
