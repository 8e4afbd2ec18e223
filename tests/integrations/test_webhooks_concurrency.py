"""Webhook deliveries on PostgreSQL with real transactions: runs racing for one subscription never
send a change twice, nor two at once; a real worker (`manage.py run_worker`) delivers a committed
change within seconds with the default poll interval."""

from __future__ import annotations

import datetime
import json
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from integrations.delivering import subscription_deliver
from integrations.models import Delivery
from integrations.services import subscription_create
from tests.enrollment.factories import WorkerFactory, village
from tests.helpers import nik_for

from .receiver import Answer, receiver_running

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

BORN = datetime.date(1981, 3, 9)


@pytest.fixture
def receiver():
    yield from (r for r, _server in receiver_running())


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_superuser("hooks-owner", "owner@example.id", "pw-owner-123")


def test_runs_racing_for_one_subscription_send_each_change_once_and_one_at_a_time(regions, owner, receiver):
    subscription = subscription_create(owner=owner, url=receiver.url)
    lempur = village()
    workers = [
        WorkerFactory(village=lempur, nik=nik_for(BORN, "male", 201 + n), birth_date=BORN, sex="male") for n in range(6)
    ]
    receiver.default = Answer(204, sleep=0.1)  # slow enough for the runs to overlap
    start = threading.Barrier(4)
    done: list = []

    def run() -> None:
        try:
            start.wait(timeout=30)
            done.append(subscription_deliver(subscription_id=subscription.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(done) == 4
    assert sorted(run.sent for run in done) == [0, 0, 0, 6]
    assert sum(run.busy for run in done) == 3
    assert receiver.most_busy == 1  # never two requests at once
    assert len(receiver.ids) == len(set(receiver.ids)) == 6
    assert [json.loads(got.body)["data"]["worker_id"] for got in receiver.got] == [w.pk for w in workers]
    assert Delivery.objects.filter(subscription=subscription).count() == 6


def test_a_worker_delivers_a_committed_change_within_seconds(regions, owner, receiver, start_worker, settings):
    subscription = subscription_create(owner=owner, url=receiver.url)
    start_worker()
    time.sleep(2)  # the worker started and polled once: it is waiting for work

    made = time.monotonic()
    worker = WorkerFactory(village=village(), nik=nik_for(BORN, "female", 301), birth_date=BORN, sex="female")
    deadline = made + 30
    while not receiver.got and time.monotonic() < deadline:
        time.sleep(0.05)

    assert receiver.got, "nothing delivered within 30 s"
    latency = receiver.got[0].at - made
    assert json.loads(receiver.got[0].body)["data"]["worker_id"] == worker.pk
    assert latency < 5, f"delivered after {latency:.1f} s"
    print(f"delivered {latency:.2f} s after the commit")  # noqa: T201
    # The worker logs the delivery once the receiver has answered: the receiver may have the
    # request a moment before that log is committed.
    while not Delivery.objects.filter(subscription=subscription).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Delivery.objects.filter(subscription=subscription).count() == 1
