"""The change feed while writers run (PostgreSQL, real transactions, one connection per thread):
a change whose transaction is still open holds back the changes after it, so a reader paging
with small pages sees every change exactly once, in the feed's order, whatever order the
writers commit in."""

from __future__ import annotations

import datetime
import random
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from enrollment import services
from enrollment.models import EnrollmentEvent
from tests.enrollment.factories import OTHER_REGENCY_VILLAGE, VILLAGE, WorkerFactory, activate, lapse, submit, village
from tests.helpers import nik_for

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

FEED = reverse("changes")
BORN = datetime.date(1980, 5, 17)


@pytest.fixture
def reader(db):
    user = get_user_model().objects.create_superuser("feed-reader", "r@example.id", "pw-reader-123")
    client = APIClient()
    client.force_authenticate(user)
    return client


def _page(client: APIClient, after: str | None, size: int) -> dict:
    url = f"{FEED}?page_size={size}" + (f"&after={after}" if after else "")
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def _all_after(client: APIClient, after: str | None) -> tuple[list[dict], str | None]:
    changes: list[dict] = []
    while True:
        page = _page(client, after, 2)
        changes += page["results"]
        after = page["cursor"]
        if page["up_to_date"]:
            return changes, after


def test_a_change_committed_before_an_older_open_one_waits_for_it(regions, reader):
    lempur = village()
    _seen, cursor = _all_after(reader, None)
    holding, release = threading.Event(), threading.Event()
    held: dict[str, int] = {}

    def holder() -> None:
        try:
            with transaction.atomic():
                worker = WorkerFactory(village=lempur, nik=nik_for(BORN, "male", 101))
                held["event"] = EnrollmentEvent.objects.get(worker=worker).pk
                holding.set()
                assert release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(timeout=30)
    # Committed at once: in another province, so it waits for none of the held one's row locks
    # (the village's counters, the province's data version).
    later = WorkerFactory(village=village("16.01.01.2001"), nik=nik_for(BORN, "male", 102))
    later_event = EnrollmentEvent.objects.get(worker=later).pk
    assert later_event > held["event"]

    # The later change is committed, but an older transaction is still open: nothing is served yet
    # (a reader paging by id would take the later one now and never see the held one).
    waiting = _page(reader, cursor, 10)
    assert waiting["results"] == []
    assert waiting["up_to_date"] is True

    release.set()
    thread.join(timeout=30)
    changes, _cursor = _all_after(reader, waiting["cursor"])
    assert [change["worker_id"] for change in changes] == [
        EnrollmentEvent.objects.get(pk=held["event"]).worker_id,
        later.pk,
    ]


def test_a_reader_paging_while_writers_commit_out_of_order_sees_every_change_once(regions, reader):
    villages = [village(VILLAGE), village(OTHER_REGENCY_VILLAGE)]
    writers, per_writer = 4, 6
    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[dict] = []

    def write(index: int) -> None:
        rng = random.Random(index)
        try:
            for n in range(per_writer):
                # Each change in its own transaction, some held open a while after their events are
                # written, so transactions commit in an order other than their ids'.
                with transaction.atomic():
                    worker = WorkerFactory(village=villages[n % 2], nik=nik_for(BORN, "male", 1000 + 100 * index + n))
                    time.sleep(rng.uniform(0, 0.05))
                submit(worker)
                with transaction.atomic():
                    worker = activate(worker)
                    time.sleep(rng.uniform(0, 0.05))
                if n % 2:
                    lapse(worker)
                if n % 3 == 0:
                    services.worker_update(
                        actor=services.Actor(label="writer"),
                        worker_id=worker.pk,
                        changes={"full_name": f"Renamed {index}-{n}"},
                        expected_version=None,
                    )
        except BaseException as exc:  # noqa: BLE001 - the test reports what a writer raised
            errors.append(exc)
        finally:
            connection.close()

    def read() -> None:
        after = None
        try:
            while True:
                finished = done.is_set()  # read before the page: a page after the end sees everything
                page = _page(reader, after, 3)
                seen.extend(page["results"])
                after = page["cursor"]
                if finished and page["up_to_date"]:
                    return
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    reading = threading.Thread(target=read)
    reading.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    reading.join(timeout=120)
    assert not reading.is_alive()
    assert errors == []

    written = list(EnrollmentEvent.objects.order_by("xact", "id").values_list("xact", "id", "worker_id", "kind"))
    # Each worker registered, submitted and activated; every other one lapsed, every third renamed.
    assert len(written) == writers * (3 * per_writer + per_writer // 2 + len(range(0, per_writer, 3)))
    # Every change exactly once, in (transaction, id) order.
    assert [(c["worker_id"], c["kind"]) for c in seen] == [(worker, kind) for _x, _id, worker, kind in written]
    assert len({c["cursor"] for c in seen}) == len(written)
    # ... which is not id order: the writers committed out of it.
    assert [event_id for _x, event_id, _w, _k in written] != sorted(event_id for _x, event_id, _w, _k in written)
