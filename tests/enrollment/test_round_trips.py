"""Round trips to PostgreSQL of one transition, measured on the wire: the test's connection goes
through a proxy that holds back everything the client sends by DELAY, so each round trip costs
DELAY and the time a transition takes, divided by DELAY, is the number of its round trips.

The write path promises (enrollment.writing, core.db): the BEGIN (psycopg waits for its answer
before it sends anything else of the transaction); the lock and the enrollment's read in one;
every write (worker, enrollment, period, event, counters) in one; the COMMIT; the data version
moved on after the commit. Five. (Before the reads waited inside their pipeline, seven.)"""

from __future__ import annotations

import pytest

from enrollment import services
from tests.wire import round_trips

from .factories import WorkerFactory, activation, bring_to

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]


def test_an_activation_takes_five_round_trips(regions, through_proxy, monkeypatch):
    actor = services.Actor(label="test")
    workers = [bring_to(WorkerFactory(), "submitted") for _ in range(10)]
    through_proxy()
    # Statements run more than a few times on a connection are prepared once (UCJ_DB_PREPARED),
    # which costs a round trip of its own: measured once that is done, as on a working server.
    for worker in workers[:7]:
        services.enrollment_activate(actor=actor, worker_id=worker.pk, **activation())

    # The fewest of three: a wait that is not the write path's (the machine busy) only adds.
    measured = [
        round_trips(
            lambda w=worker: services.enrollment_activate(actor=actor, worker_id=w.pk, **activation()), monkeypatch
        )
        for worker in workers[7:]
    ]
    trips, waited = min(measured)

    assert round(trips) == 5, "\n".join([f"{trips:.2f} round trips:", *waited])
