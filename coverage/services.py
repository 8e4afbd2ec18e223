"""Writes to the coverage counters. Called by the enrollment services inside their transaction."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Count, F, Q

from enrollment.choices import EnrollmentStatus

from .models import CoverageSnapshot, VillageCoverage


class CounterKey(NamedTuple):
    """Where a worker counts: its village (with the denormalized parents) and institution."""

    village_id: int
    district_id: int
    regency_id: int
    province_id: int
    institution: str


class CounterState(NamedTuple):
    """How a worker counts: nowhere (None), or serving at `key`, protected or not."""

    key: CounterKey
    protected: bool


_UPSERT_SQL = None


def _upsert_sql() -> str:
    global _UPSERT_SQL
    if _UPSERT_SQL is None:
        table = connection.ops.quote_name(VillageCoverage._meta.db_table)
        _UPSERT_SQL = (
            f"INSERT INTO {table} (village_id, district_id, regency_id, province_id, institution, serving, protected) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (village_id, institution) DO UPDATE SET "
            f"serving = {table}.serving + excluded.serving, protected = {table}.protected + excluded.protected"
        )
    return _UPSERT_SQL


def counters_move(*, before: CounterState | None, after: CounterState | None) -> None:
    """Apply a worker's change from `before` to `after` to the counters.

    Each delta is one relative `INSERT ... ON CONFLICT DO UPDATE`, so concurrent writers add up
    instead of overwriting each other; rows are touched in key order so two moves in opposite
    directions cannot deadlock.
    """
    if before == after:
        return
    deltas: dict[CounterKey, list[int]] = defaultdict(lambda: [0, 0])
    if before is not None:
        deltas[before.key][0] -= 1
        deltas[before.key][1] -= int(before.protected)
    if after is not None:
        deltas[after.key][0] += 1
        deltas[after.key][1] += int(after.protected)
    with connection.cursor() as cursor:
        for key in sorted(deltas):
            serving, protected = deltas[key]
            if serving > 0:
                # A worker arrives: the row may not exist yet. (The inserted values must meet the
                # check constraint on their own, so this path only takes arrivals.)
                cursor.execute(_upsert_sql(), [*key, serving, protected])
            elif serving or protected:
                # The worker already counts here, so the row exists.
                VillageCoverage.objects.filter(village_id=key.village_id, institution=key.institution).update(
                    serving=F("serving") + serving, protected=F("protected") + protected
                )


def counters_add(deltas: dict[CounterKey, list[int]]) -> None:
    """Add workers arriving in bulk: {key: [serving, protected]} with serving > 0."""
    with connection.cursor() as cursor:
        for key in sorted(deltas):
            serving, protected = deltas[key]
            if serving > 0:
                cursor.execute(_upsert_sql(), [*key, serving, protected])


@transaction.atomic
def counters_recount() -> int:
    """Rebuild every counter from the worker rows; returns the number of counter rows."""
    from enrollment.models import ApparatusWorker

    VillageCoverage.objects.all().delete()
    rows = (
        ApparatusWorker.objects.filter(serving=True)
        .values("village_id", "district_id", "regency_id", "province_id", "institution")
        .annotate(
            serving_count=Count("pk"),
            protected_count=Count("pk", filter=Q(enrollment__status=EnrollmentStatus.ACTIVE)),
        )
        .order_by()
    )
    counters = [
        VillageCoverage(
            village_id=row["village_id"],
            district_id=row["district_id"],
            regency_id=row["regency_id"],
            province_id=row["province_id"],
            institution=row["institution"],
            serving=row["serving_count"],
            protected=row["protected_count"],
        )
        for row in rows.iterator(chunk_size=10_000)
    ]
    VillageCoverage.objects.bulk_create(counters, batch_size=5000)
    return len(counters)


@transaction.atomic
def snapshots_take(*, as_of: datetime.date) -> int:
    """Store every region's coverage on `as_of` (replacing any earlier snapshot of that date)."""
    from .selectors import snapshot_rows

    rows = snapshot_rows(as_of)
    CoverageSnapshot.objects.filter(date=as_of).delete()
    CoverageSnapshot.objects.bulk_create(rows, batch_size=5000)
    return len(rows)
