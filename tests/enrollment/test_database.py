"""What the database itself is told about the worker table (PostgreSQL)."""

import pytest
from django.db import connection

from enrollment.models import ApparatusWorker

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db]


def test_worker_table_is_vacuumed_after_a_fixed_number_of_changes_with_index_cleanup():
    """Counts by region and status are index-only scans: they stay so only while autovacuum
    marks written pages all-visible again soon, whatever the table's size."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [ApparatusWorker._meta.db_table])
        options = dict(option.split("=", 1) for option in cursor.fetchone()[0])

    assert options["autovacuum_vacuum_scale_factor"] == "0"
    assert int(options["autovacuum_vacuum_threshold"]) <= 10_000
    assert options["autovacuum_vacuum_insert_scale_factor"] == "0"
    assert options["vacuum_index_cleanup"] == "on"


def test_worker_region_indexes_lead_with_the_region_and_end_with_the_id():
    """A region's page in id order walks one index; no plain region index competes with it."""
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, ApparatusWorker._meta.db_table)
    columns = [tuple(index["columns"]) for index in indexes.values() if index["index"]]

    assert ("regency_id", "id") in columns
    assert ("province_id", "id") in columns
    assert ("regency_id",) not in columns
    assert ("province_id",) not in columns
