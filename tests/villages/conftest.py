"""Region fixtures, built through the real import service and the real demo loader."""

import pytest

from villages.demo import demo_load
from villages.services import RegionImportReport, regions_import

from .helpers import SMALL_CSV

DEMO_PASSWORD = "demo-admin-pw-2024"


@pytest.fixture
def small_regions(db) -> RegionImportReport:
    """tests/fixtures/regions_small.csv imported: 2 provinces, 3 regencies, 3 districts, 6 villages."""
    return regions_import(data=SMALL_CSV.read_bytes())


@pytest.fixture
def demo(db) -> list[str]:
    """Jambi, its 11 regencies/cities and the two branch offices (villages.demo)."""
    return demo_load(admin_password=DEMO_PASSWORD)
