"""Without DATABASE_REPLICA_URL nothing changes: no `replica` connection, no router, no routing
middleware, and a coverage read makes the statements it made before replicas existed."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .conftest import token_client

pytestmark = pytest.mark.skipif(
    "replica" in settings.DATABASES, reason="a read replica is configured (DATABASE_REPLICA_URL)"
)


def test_without_a_replica_there_is_no_replica_connection_router_or_middleware():
    assert list(connections) == ["default"]
    assert settings.DATABASE_ROUTERS == []
    assert not [name for name in settings.MIDDLEWARE if "routing" in name]


@pytest.mark.django_db
def test_without_a_replica_a_coverage_read_makes_the_statements_it_made_before(regions, admin_user):
    client = token_client(admin_user)
    path = reverse("coverage-list")
    assert client.get(path, {"level": "regency", "parent": "15"}).status_code == 200  # the caller's scope, kept

    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, {"level": "province"})

    assert response.status_code == 200
    assert "X-Read-From" not in response.headers
    # The token with its rate count and the versions (one statement on PostgreSQL: core.db.
    # fetch_joined; three elsewhere); the provinces; their figures (the year's targets were read
    # by the first request and are kept: coverage.selectors.kept).
    token_check = 1 if connection.vendor == "postgresql" else 3
    assert len(queries) == token_check + 2, [query["sql"][:80] for query in queries]
