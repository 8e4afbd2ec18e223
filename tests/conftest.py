"""Fixtures shared by every test folder: the region tree, the admin, a frozen "today"."""

import datetime
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient

from tests import helpers
from tests.wire import through_proxy  # noqa: F401 (a fixture: round trips measured on the wire)

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
REGIONS_CSV = SHARED_DATA / "regions.csv"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Two provinces; Jambi with two kabupaten (one with two districts) and a kota.
REGIONS = b"""code,name
15,Jambi
15.01,Kabupaten Kerinci
15.01.01,Gunung Raya
15.01.01.2001,Lempur Tengah
15.01.01.2002,Lempur Mudik
15.01.02,Danau Kerinci
15.01.02.2001,Pulau Tengah
15.08,Kabupaten Bungo
15.08.01,Pelepat
15.08.01.2001,Rantau Keloyang
15.08.01.1001,Kelurahan Pelepat
15.71,Kota Jambi
15.71.01,Kota Baru
15.71.01.1001,Simpang III Sipin
16,Sumatera Selatan
16.01,Kabupaten Ogan Komering Ulu
16.01.01,Baturaja Timur
16.01.01.2001,Tanjung Baru
"""

# Every answer of the v1 API a test gets is checked against the API's schema (tests/contract.py).
pytest_plugins = ["tests.contract"]


def pytest_collection_modifyitems(config, items):
    """Skip `requires_postgres` tests when the database is not PostgreSQL, and `requires_replica`
    tests when no read replica is configured."""
    from django.conf import settings

    skips = {}
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        skips["requires_postgres"] = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); running on SQLite")
    if "replica" not in settings.DATABASES:
        skips["requires_replica"] = pytest.mark.skip(
            reason="needs a streaming read replica of the PostgreSQL DATABASE_URL (set DATABASE_REPLICA_URL)"
        )
    for item in items:
        for marker, skip in skips.items():
            if marker in item.keywords:
                item.add_marker(skip)
                break


@pytest.fixture(autouse=True)
def _replica_reads_where_asked(request):
    """With a replica configured, only the replica's own tests (`requires_replica`) read there:
    the others read the primary, as they were written to (Django lets a test touch only the
    databases it names)."""
    from django.conf import settings
    from django.test import override_settings

    if "replica" not in settings.DATABASES or request.node.get_closest_marker("requires_replica"):
        yield
        return
    with override_settings(UCJ_REPLICA_READS=False):
        yield


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

    from access.scope import regions_forget
    from coverage.selectors.kept import structural_forget

    caches["coverage"].clear()
    caches["counts"].clear()  # the counts of lists too
    regions_forget()  # the regions of profiles are kept under the data version too
    structural_forget()  # and the regions and targets coverage reads
    yield
    caches["coverage"].clear()
    caches["counts"].clear()
    regions_forget()
    structural_forget()


@pytest.fixture
def regions(db):
    """The small region tree above, written through the real import, and one branch office
    (Muara Bungo) serving Kabupaten Bungo."""
    from villages.models import BranchOffice, Regency
    from villages.services import regions_import

    regions_import(data=REGIONS)
    branch = BranchOffice.objects.create(code="muara-bungo", name="Cabang Muara Bungo")
    branch.regencies.set(Regency.objects.filter(code="15.08"))


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("admin", "admin@example.id", "pw-admin-123")


@pytest.fixture
def admin_client(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    return api_client


@pytest.fixture
def actor(admin_user):
    from enrollment.services import Actor

    return Actor(user=admin_user)


@pytest.fixture(name="today")
def today_fixture() -> datetime.date:
    """Today as the services see it (tests.helpers.today, as a fixture)."""
    return helpers.today()


@pytest.fixture
def set_today(monkeypatch):
    """Freeze "today" wherever the code reads it: every module asks core.clock.today, which reads
    the date through `core.clock.localdate`."""
    from core import clock

    def freeze(day: datetime.date) -> datetime.date:
        monkeypatch.setattr(clock, "localdate", lambda: day)
        return day

    return freeze


def serve_test_database(monkeypatch) -> None:
    """A server started by a test (gunicorn, by the benchmark) serves the test database, and reads
    it on the replica, which receives it, when one is configured (core.routing)."""
    from django.db import connection, connections

    def url(server: dict) -> str:  # of the test database, on `server`
        return (
            f"postgres://{server['USER']}:{server['PASSWORD']}@{server['HOST'] or '127.0.0.1'}:"
            f"{server['PORT'] or 5432}/{connection.settings_dict['NAME']}"
        )

    monkeypatch.setenv("DATABASE_URL", url(connection.settings_dict))
    if "replica" in connections.settings:
        monkeypatch.setenv("DATABASE_REPLICA_URL", url(connections.settings["replica"]))
    else:
        monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)


# -- background jobs: real workers (`manage.py run_worker`) on the test database -----------------


@pytest.fixture
def database_backend(settings):
    """Jobs enqueued here go to the database queue, where the workers started below find them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def start_worker(monkeypatch, database_backend) -> Iterator[Callable[..., subprocess.Popen]]:
    serve_test_database(monkeypatch)
    started: list[subprocess.Popen] = []

    def start(*arguments: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ucj_project.settings.test",
            "UCJ_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "UCJ_JOB_HEARTBEAT": "0.2",
            "UCJ_JOB_STALE_AFTER": "2",
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_worker",
                "--no-startup-delay",
                "--interval",
                "0.1",
                "--upkeep-interval",
                "0.3",
                *arguments,
            ],
            cwd=Path(__file__).resolve().parents[1],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(os.environ.get("UCJ_TEST_WORKER_LOG", os.devnull), "a"),  # noqa: SIM115
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
