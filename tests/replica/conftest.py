"""A real PostgreSQL streaming replica (DATABASE_REPLICA_URL), as `.ci/run` starts one: the
test database is created on the primary and reaches the replica by replication, so the
`replica` connection is pointed at that database's name on the replica server; nothing is
created or flushed there (ucj_project/settings/test.py). The tests commit (transaction=True):
only committed data reaches a replica."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connections
from knox.models import AuthToken
from rest_framework.test import APIClient

REPLICA = "replica"
# What a test may wait for a replica's replay (it takes milliseconds on one machine).
WAIT_SECONDS = 30

# Every test here reads the replica: PostgreSQL, committed data, both connections allowed.
replica_test = [
    pytest.mark.requires_postgres,
    pytest.mark.requires_replica,
    pytest.mark.django_db(transaction=True, databases=["default", REPLICA]),
    pytest.mark.usefixtures("replica_replaying"),
]


@pytest.fixture(scope="session")
def replica_database(django_db_setup, django_db_blocker) -> str:
    """The `replica` connection, on the replica server, at the test database (its name on the
    primary: Django named the test database after the connections were made)."""
    settings_dict = connections.settings[REPLICA]  # what every thread's connection is made from
    settings_dict["NAME"] = connections["default"].settings_dict["NAME"]
    connection = connections[REPLICA]
    connection.close()
    connection.settings_dict = settings_dict  # Django had made it a mirror of the primary
    return settings_dict["NAME"]


@pytest.fixture
def replica_replaying(replica_database):
    """Each test starts with the replica holding what the primary holds, replaying."""
    yield
    resume()
    caught_up()


def primary_position() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_flush_lsn()::text")
        return cursor.fetchone()[0]


def replica_sql(sql: str, params: list | None = None):
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()


def caught_up() -> None:
    """Wait until the replica has replayed everything the primary holds now."""
    position = primary_position()
    deadline = time.monotonic() + WAIT_SECONDS
    while not replica_sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])[0]:
        assert time.monotonic() < deadline, f"the replica did not replay up to {position} in {WAIT_SECONDS} s"
        time.sleep(0.02)


def resume() -> None:
    replica_sql("SELECT pg_wal_replay_resume()")


@contextmanager
def replay_paused() -> Iterator[None]:
    """The replica replays nothing in the block: it falls behind every commit made in it."""
    replica_sql("SELECT pg_wal_replay_pause()")
    deadline = time.monotonic() + WAIT_SECONDS
    while replica_sql("SELECT pg_get_wal_replay_pause_state()")[0] != "paused":
        assert time.monotonic() < deadline, "the replica's replay did not pause"
        time.sleep(0.02)
    try:
        yield
    finally:
        resume()


def token_client(user) -> APIClient:
    """A client with a real token (the token's check reads the primary's position with it)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")
    return client
