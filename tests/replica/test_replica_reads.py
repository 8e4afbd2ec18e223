"""Coverage and list reads on a real streaming replica (core.routing): served there when it has
replayed what the caller may have seen, from the primary when it is behind or out of reach,
never older than the caller's own writes; writes and their requests never touch it."""

from __future__ import annotations

import datetime
import logging
import socket

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import AccessLog
from enrollment.models import ApparatusWorker
from tests import helpers
from tests.enrollment.factories import WorkerFactory, bring_to, next_kpj

from .conftest import REPLICA, caught_up, replay_paused, replica_sql, replica_test, token_client

pytestmark = replica_test

COVERAGE = reverse("coverage-list")
WORKERS = reverse("worker-list")


@pytest.fixture
def admin(regions):
    return get_user_model().objects.create_superuser("admin", "admin@example.id", "pw-admin-123")


def jambi_protected(client) -> tuple[int, str | None]:
    """Jambi's protected workers as the coverage rows answer, and where they were read."""
    response = client.get(COVERAGE, {"level": "province"})
    assert response.status_code == 200
    row = next(row for row in response.json()["results"] if row["code"] == "15")
    return row["protected"], response.headers.get("X-Read-From")


def activation_body() -> dict:
    today = helpers.today()
    return {
        "kpj_number": next_kpj(),
        "scheme": "bpu",
        "programs": ["jkk", "jkm"],
        "funding_source": "apbdes",
        "coverage_start": (today - datetime.timedelta(days=10)).isoformat(),
        "paid_until": (today + datetime.timedelta(days=60)).isoformat(),
    }


def tables_read(queries) -> str:
    return " ".join(query["sql"] for query in queries)


def test_a_coverage_read_is_served_by_a_caught_up_replica(admin):
    bring_to(WorkerFactory(), "active")
    bring_to(WorkerFactory(), "submitted")
    client = token_client(admin)
    caught_up()

    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        protected, read_from = jambi_protected(client)

    assert protected == 1
    assert read_from == "replica"
    # The provinces' figures: the regencies' totals (coverage.selectors.rows).
    assert "coverage_regencytotals" in tables_read(on_replica)
    assert "coverage_regencytotals" not in tables_read(on_primary)
    # The token, its rate count, the data version and the primary's position: one statement's
    # round trip on the primary, nothing more of the request's reads there.
    assert "pg_current_wal_flush_lsn" in tables_read(on_primary)


def test_a_worker_list_is_served_by_a_caught_up_replica(admin):
    worker = bring_to(WorkerFactory(), "submitted")
    client = token_client(admin)
    caught_up()

    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = client.get(WORKERS, {"regency": "15.01", "status": "submitted"})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [worker.pk]
    assert response.headers["X-Read-From"] == "replica"
    assert "enrollment_apparatusworker" in tables_read(on_replica)


def test_a_read_right_after_the_callers_own_write_sees_it(admin):
    client = token_client(admin)
    workers = [bring_to(WorkerFactory(), "submitted") for _ in range(5)]
    caught_up()

    for done, worker in enumerate(workers, start=1):
        written = client.post(reverse("worker-activate", args=[worker.pk]), activation_body(), format="json")
        assert written.status_code == 200
        # At once: whichever answers (the replica only once it has replayed the activation).
        assert jambi_protected(client)[0] == done
        listed = client.get(WORKERS, {"status": "active"})
        assert listed.status_code == 200
        assert listed.json()["count"] == done


def test_a_replica_held_behind_leaves_the_reads_on_the_primary_and_the_answer_current(admin):
    worker = bring_to(WorkerFactory(), "submitted")
    client = token_client(admin)
    caught_up()
    assert jambi_protected(client) == (0, "replica")

    with replay_paused():
        written = client.post(reverse("worker-activate", args=[worker.pk]), activation_body(), format="json")
        assert written.status_code == 200
        # The replica still holds the worker as submitted: an answer from it would be stale.
        assert replica_sql("SELECT enrollment_status FROM enrollment_apparatusworker WHERE id = %s", [worker.pk]) == (
            "submitted",
        )

        protected, read_from = jambi_protected(client)
        listed = client.get(WORKERS, {"status": "active"})

    assert (protected, read_from) == (1, "primary")
    assert listed.status_code == 200
    assert listed.headers["X-Read-From"] == "primary"
    assert [row["id"] for row in listed.json()["results"]] == [worker.pk]

    caught_up()
    caches["coverage"].clear()  # the same question again, computed afresh
    assert jambi_protected(client) == (1, "replica")


def test_a_replica_out_of_reach_leaves_the_reads_on_the_primary_without_an_error(admin, settings, caplog):
    bring_to(WorkerFactory(), "active")
    client = token_client(admin)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings_dict = connections[REPLICA].settings_dict
    port = settings_dict["PORT"]
    settings.UCJ_REPLICA_RETRY_SECONDS = 0  # tried on every request, for the test
    connections[REPLICA].close()
    settings_dict["PORT"] = closed_port
    try:
        with caplog.at_level(logging.WARNING, logger="core.routing"):
            first = jambi_protected(client)
            caches["coverage"].clear()
            second = jambi_protected(client)
    finally:
        connections[REPLICA].close()
        settings_dict["PORT"] = port

    assert first == (1, "primary")
    assert second == (1, "primary")
    assert [r.getMessage()[:40] for r in caplog.records] == ["The read replica is out of reach; reads "]
    caught_up()
    caches["coverage"].clear()
    assert jambi_protected(client) == (1, "replica")


def test_writes_never_go_to_the_replica(admin):
    client = token_client(admin)
    worker = bring_to(WorkerFactory(), "submitted")
    caught_up()

    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        written = client.post(reverse("worker-activate", args=[worker.pk]), activation_body(), format="json")
        edited = client.patch(
            reverse("worker-detail", args=[worker.pk]),
            {"full_name": "Siti Aminah"},
            format="json",
            HTTP_IF_MATCH=written.headers["ETag"],
        )
    assert written.status_code == 200
    assert edited.status_code == 200
    assert "X-Read-From" not in written.headers
    assert len(on_replica) == 0
    assert ApparatusWorker.objects.get(pk=worker.pk).full_name == "Siti Aminah"

    # A list showing personal data logs it: a write in a reading request, on the primary.
    caught_up()
    logged = AccessLog.objects.count()
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        listed = client.get(WORKERS, {"regency": "15.01"})
    assert listed.status_code == 200
    assert listed.headers["X-Read-From"] == "replica"
    assert AccessLog.objects.count() == logged + 1
    assert all(query["sql"].lstrip().upper().startswith("SELECT") for query in on_replica)


def test_a_portal_page_reads_the_replica_with_its_session(admin):
    bring_to(WorkerFactory(), "active")
    client = Client()
    assert client.login(username="admin", password="pw-admin-123")
    caught_up()

    response = client.get(reverse("portal:coverage", args=["15"]))

    assert response.status_code == 200
    assert response.headers["X-Read-From"] == "replica"


def test_a_caller_without_a_token_or_session_reads_the_primary(regions):
    caught_up()

    response = Client().get(reverse("province-list"))

    assert response.status_code == 200
    # Nothing read the primary's position with the caller: nothing to hold the replica to.
    assert response.headers["X-Read-From"] == "primary"


def test_a_request_that_wrote_or_is_in_a_transaction_reads_the_primary(admin, rf):
    """The rule itself, in a reading request of its own that writes halfway (no endpoint does)."""
    from django.db import transaction
    from django.http import HttpResponse

    from core.routing import ReplicaReadsMiddleware, position_read, position_statement, read_alias, replica_reads
    from tests.enrollment.factories import activate

    worker = bring_to(WorkerFactory(), "submitted")
    caught_up()
    seen = {}

    def view(request):
        with connections["default"].cursor() as cursor:  # as the token's check reads it
            cursor.execute(*position_statement())
            position_read(cursor.fetchone())
        with replica_reads():
            with transaction.atomic():
                seen["in a transaction"] = read_alias()
            seen["before the write"] = read_alias()
            activate(worker)
            seen["after the write"] = read_alias()
            seen["status"] = ApparatusWorker.objects.get(pk=worker.pk).enrollment_status
        return HttpResponse()

    response = ReplicaReadsMiddleware(view)(rf.get("/"))

    assert seen == {
        "in a transaction": "default",
        "before the write": "replica",
        "after the write": "default",
        "status": "active",
    }
    assert response.headers["X-Read-From"] == "replica"
