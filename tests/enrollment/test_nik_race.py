"""A NIK taken by another transaction between a request's own check and its write (PostgreSQL:
the unique index on serving NIKs waits for that transaction, then refuses): the request is a 409
naming the field, as when the check itself finds the NIK, and writes nothing. The rival holds the
NIK uncommitted until the request's write waits on it, so the race is met every time."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.db import connection, transaction
from django.urls import reverse

from enrollment.models import ApparatusWorker, EnrollmentEvent

from .conftest import worker_data
from .factories import OTHER_REGENCY_VILLAGE, WorkerFactory, village
from .helpers import counter_rows, error_attrs, error_codes, recounted_rows

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

TAKEN = "1501011705800009"
WAIT_SECONDS = 30


class Rival(threading.Thread):
    """Another connection that gives worker `worker_id` the NIK `TAKEN` in a transaction it
    commits only once another backend waits for one of its locks (the request's write waiting
    on the unique index), or after WAIT_SECONDS."""

    def __init__(self, worker_id: int):
        super().__init__(daemon=True)
        self.worker_id = worker_id
        self.holding = threading.Event()
        self.saw_a_waiter = False

    def run(self) -> None:
        try:
            with transaction.atomic():
                ApparatusWorker.objects.filter(pk=self.worker_id).update(nik=TAKEN)
                self.holding.set()
                deadline = time.monotonic() + WAIT_SECONDS
                while time.monotonic() < deadline and not self.saw_a_waiter:
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                        )
                        self.saw_a_waiter = cursor.fetchone()[0] > 0
                    time.sleep(0.01)
        finally:
            connection.close()


def _race(request) -> tuple[object, Rival]:
    """`request()` while a rival holds `TAKEN` uncommitted for another worker."""
    rival = Rival(WorkerFactory(nik="1501011705800008", village=village(OTHER_REGENCY_VILLAGE)).pk)
    rival.start()
    assert rival.holding.wait(WAIT_SECONDS)
    response = request()
    rival.join(WAIT_SECONDS * 2)
    return response, rival


def test_an_edit_to_a_nik_taken_meanwhile_is_409_and_writes_nothing(admin_client, regions, caplog):
    caplog.set_level(logging.DEBUG)
    worker = WorkerFactory(nik="1501011705800001")

    response, rival = _race(
        lambda: admin_client.patch(
            reverse("worker-detail", args=[worker.pk]), {"nik": TAKEN}, format="json", HTTP_IF_MATCH='"1"'
        )
    )

    assert rival.saw_a_waiter  # the request's write met the rival's NIK: the race happened
    assert response.status_code == 409
    assert (error_codes(response), error_attrs(response)) == ({"nik_serving_elsewhere"}, {"nik"})
    assert TAKEN not in response.content.decode()
    assert TAKEN not in caplog.text  # the database's refusal names the NIK: no log line repeats it
    kept = ApparatusWorker.objects.get(pk=worker.pk)
    assert (kept.nik, kept.version) == ("1501011705800001", 1)
    assert EnrollmentEvent.objects.filter(worker=worker).count() == 1  # its registration alone
    assert ApparatusWorker.objects.filter(nik=TAKEN, serving=True).count() == 1


def test_a_registration_of_a_nik_taken_meanwhile_is_409_and_writes_nothing(admin_client, regions):
    workers = ApparatusWorker.objects.count()

    response, rival = _race(lambda: admin_client.post(reverse("worker-list"), worker_data(nik=TAKEN), format="json"))

    assert rival.saw_a_waiter
    assert response.status_code == 409
    assert (error_codes(response), error_attrs(response)) == ({"nik_serving_elsewhere"}, {"nik"})
    assert ApparatusWorker.objects.count() == workers + 1  # the rival's worker, not a second one
    assert counter_rows() == recounted_rows()
