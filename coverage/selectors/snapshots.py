"""The coverage of every region on a date, as the snapshots store it."""

from __future__ import annotations

import datetime
from collections import defaultdict

from ..models import CoverageSnapshot
from .regions import ID_FIELD, LEVELS, MODEL_BY_LEVEL
from .source import figure_source


def snapshot_rows(as_of: datetime.date) -> list[CoverageSnapshot]:
    """Snapshot rows of every region with serving workers on `as_of`, at all four levels."""
    source = figure_source(as_of)
    rows = source.aggregate(where={}, group=["province_id", "regency_id", "district_id", "village_id"])
    totals: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        for level in LEVELS:
            entry = totals[(level, row[ID_FIELD[level]])]
            entry[0] += row["serving_sum"] or 0
            entry[1] += row["protected_sum"] or 0
    snapshots = []
    for level in LEVELS:
        ids = [region_id for (lvl, region_id) in totals if lvl == level]
        codes = dict(MODEL_BY_LEVEL[level].objects.values_list("pk", "code"))
        for region_id in ids:
            serving, protected = totals[(level, region_id)]
            if serving:
                snapshots.append(
                    CoverageSnapshot(region_code=codes[region_id], date=as_of, serving=serving, protected=protected)
                )
    return snapshots
