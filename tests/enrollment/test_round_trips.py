"""Round trips to PostgreSQL of one transition, measured on the wire: the test's connection goes
through a proxy that holds back everything the client sends by DELAY, so each round trip costs
DELAY and the time a transition takes, divided by DELAY, is the number of its round trips.

The write path promises (enrollment.writing, core.db): the lock and the enrollment's read in one,
with the transaction's BEGIN (psycopg would send it alone and wait for its answer); every write
(worker, enrollment, period, event, counters) in one; the COMMIT; the data version moved on after
the commit. Four. (Before the reads waited inside their pipeline, seven; before the BEGIN went
with the lock, five.)"""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, connection

from enrollment import services
from enrollment.models import EnrollmentEvent
from tests.wire import round_trips

from .factories import WorkerFactory, activation, bring_to

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]


def test_an_activation_takes_four_round_trips(regions, through_proxy, monkeypatch):
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

    assert round(trips) == 4, "\n".join([f"{trips:.2f} round trips:", *waited])


@pytest.fixture
def access_log_refused():
    """PostgreSQL refuses every row of the access log (a trigger), as a full disk or a lost
    connection would at that statement; dropped after the test."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'access log refused'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse BEFORE INSERT ON access_accesslog FOR EACH ROW EXECUTE FUNCTION test_refuse()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_refuse ON access_accesslog")
        cursor.execute("DROP FUNCTION test_refuse()")


def test_an_api_transition_is_committed_with_the_access_log_of_its_answer(regions, admin_client, access_log_refused):
    """A transition through the API and the access log of its answer (which shows the worker's
    personal data) are one transaction: one flush of the write-ahead log, not two, and never a
    change whose answer went unlogged. When the log cannot be written, the change is not."""
    worker = bring_to(WorkerFactory(), "submitted")
    events = EnrollmentEvent.objects.count()
    body = {key: str(value) if isinstance(value, datetime.date) else value for key, value in activation().items()}

    with pytest.raises(DatabaseError, match="access log refused"):
        admin_client.post(f"/api/v1/workers/{worker.pk}/activate/", body, format="json")

    worker.refresh_from_db()
    assert worker.enrollment_status == "submitted"
    assert EnrollmentEvent.objects.count() == events


def test_an_activation_through_the_api_takes_three_round_trips(regions, admin_user, through_proxy, monkeypatch):
    """The whole request, with a token: the token's check (with its rate count); the lock and the
    enrollment's read (with the BEGIN, and the codes of the worker's regions its answer shows:
    the worker is not read before); and the writes, their row counts checked by the server, the
    access log of the answer, the COMMIT and the data version moved on after it, together
    (core.db.all_or_nothing, WriteBatch.send). Before the write went without a savepoint
    (core.db.all_or_nothing), ten; before the worker's read before the write went, and the
    COMMIT took the access log and the data version with it, eight; before the writes went with
    the COMMIT, four."""
    workers = [bring_to(WorkerFactory(), "submitted") for _ in range(10)]

    def activate(client, worker):
        body = {k: str(v) if isinstance(v, datetime.date) else v for k, v in activation().items()}  # a KPJ each
        return client.post(f"/api/v1/workers/{worker.pk}/activate/", body, format="json")

    trips, waited = _fewest_round_trips_with_a_token(admin_user, workers, activate, through_proxy, monkeypatch)

    assert round(trips) == 3, "\n".join([f"{trips:.2f} round trips:", *waited])


def test_a_workers_detail_shown_in_full_takes_two_round_trips(regions, admin_user, through_proxy, monkeypatch):
    """With a token that may see personal data: the token's check (with its rate count and the
    data version), then the worker's read and the access log of its showing together
    (enrollment.selectors.worker_row_logged). Before, the log was a round trip of its own."""
    from access.models import AccessLog

    workers = [WorkerFactory() for _ in range(10)]

    def detail(client, worker):
        return client.get(f"/api/v1/workers/{worker.pk}/")

    trips, waited = _fewest_round_trips_with_a_token(admin_user, workers, detail, through_proxy, monkeypatch)

    assert round(trips) == 2, "\n".join([f"{trips:.2f} round trips:", *waited])
    assert sorted(w for entry in AccessLog.objects.all() for w in entry.worker_ids) == sorted(w.pk for w in workers)


def _fewest_round_trips_with_a_token(admin_user, workers, ask, through_proxy, monkeypatch):
    """The round trips of `ask(client, worker)` through the API with a token, each answered 200:
    the fewest of the last three workers' (a wait that is not the request's only adds), once the
    first seven have had their statements prepared (UCJ_DB_PREPARED), as on a working server."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    _token, key = AuthToken.objects.create(admin_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    through_proxy()

    def asked(worker) -> None:
        response = ask(client, worker)
        assert response.status_code == 200, response.content

    for worker in workers[:7]:
        asked(worker)
    return min(round_trips(lambda w=worker: asked(w), monkeypatch) for worker in workers[7:])
