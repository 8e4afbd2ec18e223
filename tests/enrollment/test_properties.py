"""Property: after any sequence of writes (legal or refused), the maintained coverage counters
equal a full recount, and every worker's history ends in its current status."""

import contextlib
import datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ServiceError
from enrollment import services
from enrollment.choices import Institution
from enrollment.models import ApparatusWorker, EnrollmentEvent
from tests.helpers import nik_for

from .factories import (
    OTHER_REGENCY_VILLAGE,
    OTHER_VILLAGE_SAME_DISTRICT,
    VILLAGE,
    WorkerFactory,
    activate,
    end_service,
    lapse,
    position_for,
    renew,
    submit,
    village,
)
from .helpers import counter_rows, recounted_rows

pytestmark = pytest.mark.django_db

VILLAGES = [VILLAGE, OTHER_VILLAGE_SAME_DISTRICT, OTHER_REGENCY_VILLAGE]
INSTITUTIONS = ["pemerintah_desa", "bpd", "posyandu", "linmas"]
NIKS = 6  # few NIKs, so registrations also meet "already serving elsewhere"
BORN = datetime.date(1980, 5, 17)
DAY = datetime.timedelta(days=1)

worker_index = st.integers(min_value=0, max_value=9)
operations = st.one_of(
    st.tuples(
        st.just("register"),
        st.integers(0, NIKS - 1),
        st.sampled_from(VILLAGES),
        st.sampled_from(INSTITUTIONS),
        st.sampled_from([None, None, 10]),  # days until the term starts (None: long started)
    ),
    # The daily start of terms registered ahead, run as if that many days had passed.
    st.tuples(st.just("start_terms"), st.integers(0, 20)),
    st.tuples(st.just("move_term_start"), worker_index, st.sampled_from([-30, 0, 5, 15])),
    st.tuples(st.just("move_village"), worker_index, st.sampled_from(VILLAGES)),
    st.tuples(st.just("move_institution"), worker_index, st.sampled_from(INSTITUTIONS)),
    st.tuples(st.sampled_from(["submit", "activate", "renew", "lapse", "end_service"]), worker_index),
    # What the totals break down: the wage of an unprotected wage earner, the funding of a premium.
    st.tuples(
        st.just("change_wage"),
        worker_index,
        st.sampled_from([("siltap", 1_000_000), ("siltap", None), ("honorarium", 750_000), ("siltap", 3_100_000)]),
    ),
    st.tuples(st.just("renew_funded_by"), worker_index, st.sampled_from(["apbd_kabupaten", "self_paid", "apbdes"])),
)


def _apply(operation: tuple, workers: list[ApparatusWorker]) -> None:
    name, *args = operation
    if name == "register":
        nik, code, institution, days_ahead = args
        term_start = datetime.date(2024, 1, 1) if days_ahead is None else services.today() + DAY * days_ahead
        workers.append(
            WorkerFactory(
                nik=nik_for(BORN, "male", 100 + nik),
                village=village(code),
                institution=institution,
                position=position_for(institution),
                term_start=term_start,
            )
        )
        return
    if name == "start_terms":
        services.terms_start(as_of=services.today() + DAY * args[0])
        return
    if not workers:
        return
    worker = workers[args[0] % len(workers)]
    if name == "move_term_start":
        services.worker_update(
            actor=services.Actor(),
            worker_id=worker.pk,
            changes={"term_start": services.today() + DAY * args[1]},
            expected_version=None,
        )
    elif name == "move_village":
        services.worker_update(
            actor=services.Actor(), worker_id=worker.pk, changes={"village": village(args[1])}, expected_version=None
        )
    elif name == "move_institution":
        institution = Institution(args[1])
        services.worker_update(
            actor=services.Actor(),
            worker_id=worker.pk,
            changes={"institution": institution, "position": position_for(institution)},
            expected_version=None,
        )
    elif name == "change_wage":
        wage_basis, monthly_wage = args[1]
        services.worker_update(
            actor=services.Actor(),
            worker_id=worker.pk,
            changes={"wage_basis": wage_basis, "monthly_wage": monthly_wage},
            expected_version=None,
        )
    elif name == "renew_funded_by":
        worker.enrollment.refresh_from_db()
        paid_until = worker.enrollment.paid_until or services.today()
        renew(worker, paid_until=paid_until + datetime.timedelta(days=30), funding_source=args[1])
    elif name == "renew":
        worker.enrollment.refresh_from_db()
        if worker.enrollment.paid_until is None:
            renew(worker, paid_until=services.today() + datetime.timedelta(days=90))
        else:
            renew(worker)
    else:
        {"submit": submit, "activate": activate, "lapse": lapse, "end_service": end_service}[name](worker)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(operations, min_size=1, max_size=25))
def test_counters_equal_recount_after_any_sequence(regions, sequence):
    # Each example runs in a savepoint rolled back at its end, so examples do not see each other.
    with transaction.atomic():
        workers: list[ApparatusWorker] = []
        for operation in sequence:
            # An illegal step (wrong state, NIK serving elsewhere, ...) must change nothing.
            with contextlib.suppress(ServiceError):
                _apply(operation, workers)

        maintained = counter_rows()
        for worker in ApparatusWorker.objects.select_related("enrollment"):
            last = EnrollmentEvent.objects.filter(worker=worker).latest("id")
            assert last.to_status == worker.enrollment.status
            assert worker.serving == (worker.enrollment.status != "ended")
        assert ApparatusWorker.objects.filter(serving=True).values("nik").distinct().count() == (
            ApparatusWorker.objects.filter(serving=True).count()
        )
        assert maintained == recounted_rows()
        transaction.set_rollback(True)
