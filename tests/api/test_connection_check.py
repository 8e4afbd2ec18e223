"""A request's first statement (its caller's lookup: a token's, or a session's) also checks the
persistent connection it runs on, instead of the statement Django sends before it
(`CONN_HEALTH_CHECKS`, core.db.checking_the_connection): one round trip fewer on every request,
and a connection cut while idle is still replaced and the request answered.

Django's test client does not start a request as a server does (it keeps the test's connection),
so each request here is started as a server starts it: `close_old_connections()`, which asks for
the connection's health to be checked again."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.helpers import token_client
from tests.wire import round_trips

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

ME = reverse("auth-me")
HOME = reverse("portal:home")


@pytest.fixture(name="token_client")
def _token_client(admin_user) -> APIClient:
    return token_client(admin_user)


@pytest.fixture
def session_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _request(client, path: str):
    close_old_connections()  # as a server starts each request (django.core.signals.request_started)
    return client.get(path)


def _cut(pid: int) -> None:
    """End the server process of connection `pid` from another connection, and wait until it
    is gone (a server restarted, or a connection cut while idle)."""

    def cut() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                    if cursor.fetchone()[0] == 0:
                        return
                    time.sleep(0.01)
        finally:
            connection.close()

    thread = threading.Thread(target=cut)
    thread.start()
    thread.join(30)


def test_a_token_request_on_a_kept_connection_takes_one_round_trip(token_client, through_proxy, monkeypatch):
    through_proxy()
    # Statements run more than a few times on a connection are prepared once (UCJ_DB_PREPARED):
    # a round trip of its own, done before measuring.
    for _ in range(7):
        assert _request(token_client, ME).status_code == 200
    assert connection.health_check_enabled  # the connection is kept and checked (settings)

    measured = [round_trips(lambda: _request(token_client, ME), monkeypatch) for _ in range(3)]
    trips, waited = min(measured)  # the fewest of three: a busy machine only adds

    # The token's lookup, with its rate count and the data version: no statement before it.
    assert round(trips) == 1, "\n".join([f"{trips:.2f} round trips:", *waited])


@pytest.mark.parametrize("caller", ["token", "session"])
def test_a_connection_cut_while_idle_is_replaced_and_the_request_answered(caller, token_client, session_client):
    client, path = (token_client, ME) if caller == "token" else (session_client, HOME)
    assert _request(client, path).status_code == 200
    pid = connection.connection.info.backend_pid

    _cut(pid)
    response = _request(client, path)

    assert response.status_code == 200
    assert connection.connection.info.backend_pid != pid
    assert _request(client, path).status_code == 200  # and the next request on the new one
