"""Fixtures shared by every test folder."""

from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
REGIONS_CSV = SHARED_DATA / "regions.csv"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Every answer of the v1 API a test gets is checked against the API's schema (tests/contract.py).
pytest_plugins = ["tests.contract"]


def pytest_collection_modifyitems(config, items):
    """Skip `requires_postgres` tests when the database is not PostgreSQL."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); running on SQLite")
    for item in items:
        if "requires_postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def regions_csv() -> Path:
    """The official national region list from ../shared/data, or a skip saying it is absent."""
    if not REGIONS_CSV.is_file():
        pytest.skip(f"{REGIONS_CSV} is absent: the national region list is not available here")
    return REGIONS_CSV


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_coverage_cache():
    """Computed coverage answers are kept per process under the data version; every test starts
    with a database rolled back to the same version, so it must not find another test's answers."""
    from django.core.cache import caches

    caches["coverage"].clear()
    yield
    caches["coverage"].clear()
