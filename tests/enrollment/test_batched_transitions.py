"""The batched write path (`services.enrollments_transition`, `writing.workers_locked`) against
the per-worker services: the same transitions, applied both ways to the same state, leave the
same history, periods, enrollments, workers and counters; and all or nothing."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction

from core.errors import ConflictError, ServiceError, StaleVersionError
from coverage.models import RegencyCoverage, VillageCoverage
from enrollment import counting, services
from enrollment.choices import EnrollmentStatus, EventKind, EventSource
from enrollment.counting import CounterKey, CounterState
from enrollment.models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerPeriod
from enrollment.services import Actor, TransitionAsked
from tests.enrollment.factories import (
    OTHER_REGENCY_VILLAGE,
    OTHER_VILLAGE_SAME_DISTRICT,
    WorkerFactory,
    activation,
    bring_to,
    village,
)
from tests.enrollment.helpers import counter_rows, db_state, recounted_rows

S = EnrollmentStatus
ACTOR = Actor(label="batch", source=EventSource.RECONCILIATION)


def _state() -> dict:
    """Everything a change writes, but ids and times of writing."""
    return {
        "events": sorted(
            EnrollmentEvent.objects.values_list(
                "worker_id",
                "kind",
                "effective_date",
                "actor_label",
                "source",
                "from_status",
                "to_status",
                "changes",
                "reconciliation_id",
            ).order_by("worker_id", "id"),
            key=lambda row: (row[0],),  # per worker, in the order written
        ),
        "periods": sorted(
            WorkerPeriod.objects.values_list(
                "worker_id",
                "valid_from",
                "valid_to",
                "village_id",
                "institution",
                "serving",
                "status",
                "funding_source",
                "paid_until",
            )
        ),
        "enrollments": [
            {k: v for k, v in row.items() if k != "updated_at"} for row in Enrollment.objects.order_by("pk").values()
        ],
        "workers": [
            {k: v for k, v in row.items() if k != "updated_at"}
            for row in ApparatusWorker.objects.order_by("pk").values()
        ],
        "counters": counter_rows(),
    }


def _one_by_one(asked: list[TransitionAsked]) -> None:
    for one in asked:
        params = dict(one.params or {})
        common = {
            "actor": ACTOR,
            "worker_id": one.worker_id,
            "expected_version": one.expected_version,
            "effective_date": one.effective_date,
        }
        if one.kind == EventKind.SUBMITTED:
            services.enrollment_submit(**common)
        elif one.kind == EventKind.ACTIVATED:
            services.enrollment_activate(**common, **params)
        elif one.kind == EventKind.RENEWED:
            services.enrollment_renew(**common, **params)
        elif one.kind == EventKind.LAPSED:
            services.enrollment_lapse(**common)
        else:
            services.worker_end_service(**common)


def _both_ways(apply_batch) -> tuple[dict, dict]:
    """The state after the per-worker services and after `apply_batch`, each from the same start
    (the first rolled back)."""
    with transaction.atomic():
        apply_batch(one_by_one=True)
        by_one = _state()
        transaction.set_rollback(True)
    with transaction.atomic():
        apply_batch(one_by_one=False)
        batched = _state()
    return by_one, batched


@pytest.fixture
def workers(regions):
    """Workers in every status, in three villages of two regencies, one registered ahead of its
    term start (its one period starts there: a change before replaces it)."""
    made = {}
    for n, (status, code) in enumerate(
        [
            (S.NOT_REGISTERED, None),
            (S.SUBMITTED, None),
            (S.SUBMITTED, OTHER_VILLAGE_SAME_DISTRICT),
            (S.ACTIVE, None),
            (S.ACTIVE, OTHER_REGENCY_VILLAGE),
            (S.ACTIVE, OTHER_REGENCY_VILLAGE),
            (S.LAPSED, None),
            (S.ACTIVE, OTHER_VILLAGE_SAME_DISTRICT),
            (S.NOT_REGISTERED, OTHER_REGENCY_VILLAGE),
        ]
    ):
        worker = WorkerFactory(village=village(code) if code else village())
        made[n] = bring_to(worker, status)
    ahead = services.today() + datetime.timedelta(days=10)
    made["ahead"] = WorkerFactory(term_start=ahead)
    return made


def membership(**overrides) -> dict:
    """What `enrollment_activate` hands the transition table, for a valid activation."""
    return services.activation_params(**activation(**overrides))


def _asked(workers: dict) -> list[TransitionAsked]:
    today = services.today()
    yesterday = today - datetime.timedelta(days=1)

    def version(key) -> int:
        return ApparatusWorker.objects.get(pk=workers[key].pk).version

    def paid(key, days: int) -> dict:
        enrollment = Enrollment.objects.get(pk=workers[key].pk)
        return services.renewal_params(paid_until=enrollment.paid_until + datetime.timedelta(days=days))

    return [
        TransitionAsked(workers[0].pk, EventKind.ACTIVATED, version(0), today, membership()),
        TransitionAsked(workers[1].pk, EventKind.ACTIVATED, None, today, membership()),
        TransitionAsked(workers[2].pk, EventKind.ACTIVATED, version(2), None, membership()),
        TransitionAsked(workers[3].pk, EventKind.RENEWED, version(3), today, paid(3, 90)),
        TransitionAsked(workers[4].pk, EventKind.LAPSED, version(4), today),
        TransitionAsked(workers[5].pk, EventKind.SERVICE_ENDED, version(5), today),
        TransitionAsked(workers[6].pk, EventKind.RENEWED, version(6), today, paid(6, 120)),
        # One worker changed twice in a batch: a renewal, then a lapse the same day (its period
        # replaced in memory), and one submitted then activated.
        TransitionAsked(workers[7].pk, EventKind.RENEWED, version(7), today, paid(7, 30)),
        TransitionAsked(workers[7].pk, EventKind.LAPSED, None, today),
        TransitionAsked(workers[8].pk, EventKind.SUBMITTED, version(8), yesterday),
        TransitionAsked(workers[8].pk, EventKind.ACTIVATED, None, today, membership()),
        TransitionAsked(workers["ahead"].pk, EventKind.SUBMITTED, version("ahead"), today),
    ]


def test_batch_leaves_the_same_history_periods_enrollments_and_counters_as_one_by_one(workers):
    asked = _asked(workers)

    def apply(*, one_by_one: bool) -> None:
        if one_by_one:
            _one_by_one(asked)
        else:
            services.enrollments_transition(actor=ACTOR, asked=asked)

    by_one, batched = _both_ways(apply)

    assert batched == by_one
    assert len(batched["events"]) == EnrollmentEvent.objects.count()
    kinds = {row[1] for row in batched["events"]}
    assert {"submitted", "activated", "renewed", "lapsed", "service_ended"} <= kinds
    assert counter_rows() == recounted_rows()


def test_batch_returns_the_workers_changed_with_their_enrollments(workers):
    asked = _asked(workers)[:2]

    returned = services.enrollments_transition(actor=ACTOR, asked=asked)

    assert [w.pk for w in returned] == [workers[0].pk, workers[1].pk]
    assert [w.enrollment.status for w in returned] == [S.ACTIVE, S.ACTIVE]
    stored = ApparatusWorker.objects.filter(pk__in=[workers[0].pk, workers[1].pk]).order_by("pk")
    assert [w.version for w in returned] == [w.version for w in stored]


@pytest.mark.parametrize(
    ("bad", "error", "code"),
    [
        (lambda w: TransitionAsked(w[6].pk, EventKind.LAPSED), ConflictError, "illegal_transition"),
        (lambda w: TransitionAsked(w[3].pk, EventKind.LAPSED, expected_version=1), StaleVersionError, None),
        (
            lambda w: TransitionAsked(
                w[3].pk, EventKind.LAPSED, effective_date=services.today() - datetime.timedelta(days=400)
            ),
            ServiceError,
            "before_last_event",
        ),
    ],
)
def test_batch_with_one_refused_change_writes_nothing(workers, bad, error, code):
    asked = _asked(workers)
    asked.insert(5, bad(workers))
    before = db_state()
    events = list(EnrollmentEvent.objects.values_list("pk", flat=True))

    with pytest.raises(error) as refused:
        services.enrollments_transition(actor=ACTOR, asked=asked)

    if code is not None:
        assert refused.value.code == code
    assert db_state() == before
    assert list(EnrollmentEvent.objects.values_list("pk", flat=True)) == events


def test_batch_refuses_a_kpj_number_recorded_for_another_worker_and_writes_nothing(workers):
    taken = Enrollment.objects.get(pk=workers[3].pk).kpj_number
    asked = [
        TransitionAsked(workers[1].pk, EventKind.ACTIVATED, None, None, membership()),
        TransitionAsked(workers[0].pk, EventKind.ACTIVATED, None, None, membership(kpj_number=taken)),
    ]
    before = db_state()

    with pytest.raises(ConflictError) as refused:
        services.enrollments_transition(actor=ACTOR, asked=asked)

    assert refused.value.code == "kpj_taken"
    assert db_state() == before


def test_batch_refuses_a_kpj_number_given_twice(workers):
    kpj = activation()["kpj_number"]
    asked = [
        TransitionAsked(workers[0].pk, EventKind.ACTIVATED, None, None, membership(kpj_number=kpj)),
        TransitionAsked(workers[1].pk, EventKind.ACTIVATED, None, None, membership(kpj_number=kpj)),
    ]

    with pytest.raises(ConflictError) as refused:
        services.enrollments_transition(actor=ACTOR, asked=asked)

    assert refused.value.code == "kpj_taken"


def test_batch_of_an_unknown_worker_writes_nothing(workers):
    before = db_state()

    with pytest.raises(ApparatusWorker.DoesNotExist):
        services.enrollments_transition(
            actor=ACTOR,
            asked=[TransitionAsked(workers[0].pk, EventKind.SUBMITTED), TransitionAsked(10**9, EventKind.SUBMITTED)],
        )

    assert db_state() == before


def test_summed_counter_deltas_that_cannot_be_inserted_are_sent_as_removals_then_arrivals(regions):
    """Two protected workers arrive at a row one unprotected worker leaves: the summed delta
    (+1 serving, +2 protected) would break the counters' check as an inserted row."""
    from villages.models import Village

    here = Village.objects.get(code="15.01.01.2001")
    there = Village.objects.get(code="15.01.01.2002")

    def key(v: Village) -> CounterKey:
        return CounterKey(v.pk, v.district_id, v.regency_id, v.province_id, "pemerintah_desa")

    start = [(None, CounterState(key(here), False)), (None, CounterState(key(there), True))]
    moved = [
        (CounterState(key(here), False), None),
        (CounterState(key(there), True), CounterState(key(here), True)),
        (None, CounterState(key(here), True)),
    ]
    from core.db import WriteBatch

    for changes in (start, moved):
        writes = WriteBatch()
        writes.extend(counting.counters_moved(changes))
        writes.send()

    village_rows = {
        row[0]: row[1:] for row in VillageCoverage.objects.values_list("village_id", "serving", "protected")
    }
    assert village_rows == {here.pk: (2, 2), there.pk: (0, 0)}
    assert list(RegencyCoverage.objects.values_list("serving", "protected")) == [(2, 2)]
