"""Writes to the coverage counters. The enrollment services reach them, inside their transaction,
through enrollment.counting, where coverage.apps registers `counter_statements`."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import NamedTuple

from django.db import connection, transaction

from core.bulk import bulk_insert, next_ids
from core.data_version import data_version_bump
from core.db import Statement
from enrollment.choices import EnrollmentStatus, FundingSource, WageBasis
from enrollment.counting import FUNDING_SOURCES, Deltas

from .models import TOTAL_COLUMNS, CoverageSnapshot, RegencyCoverage, RegencyTotals, VillageCoverage, VillageTotals

_SQL: dict[str, str] = {}
_VILLAGE_COLUMNS = "village_id, district_id, regency_id, province_id, institution, serving, protected"


def _totals_sql(table: str, keys: list[str]) -> tuple[str, str]:
    """The upsert and the update adding a delta to a row of totals keyed by `keys[0]`."""
    columns = ", ".join([*keys, *TOTAL_COLUMNS])
    marks = ", ".join(["%s"] * (len(keys) + len(TOTAL_COLUMNS)))
    added = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in TOTAL_COLUMNS)
    upsert = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({keys[0]}) DO UPDATE SET {added}"
    update = f"UPDATE {table} SET {', '.join(f'{c} = {c} + %s' for c in TOTAL_COLUMNS)} WHERE {keys[0]} = %s"
    return upsert, update


def _sql(name: str) -> str:
    """The counter statements, built once (table names are quoted for the database in use)."""
    if not _SQL:
        village = connection.ops.quote_name(VillageCoverage._meta.db_table)
        regency = connection.ops.quote_name(RegencyCoverage._meta.db_table)
        _SQL["village_upsert"] = (
            f"INSERT INTO {village} ({_VILLAGE_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (village_id, institution) DO UPDATE SET "
            f"serving = {village}.serving + excluded.serving, protected = {village}.protected + excluded.protected"
        )
        _SQL["village_add"] = (
            f"UPDATE {village} SET serving = serving + %s, protected = protected + %s "
            "WHERE village_id = %s AND institution = %s"
        )
        _SQL["regency_upsert"] = (
            f"INSERT INTO {regency} (regency_id, province_id, institution, serving, protected) "
            "VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (regency_id, institution) DO UPDATE SET "
            f"serving = {regency}.serving + excluded.serving, protected = {regency}.protected + excluded.protected"
        )
        _SQL["regency_add"] = (
            f"UPDATE {regency} SET serving = serving + %s, protected = protected + %s "
            "WHERE regency_id = %s AND institution = %s"
        )
        _SQL["village_totals_upsert"], _SQL["village_totals_add"] = _totals_sql(
            connection.ops.quote_name(VillageTotals._meta.db_table),
            ["village_id", "district_id", "regency_id", "province_id"],
        )
        _SQL["regency_totals_upsert"], _SQL["regency_totals_add"] = _totals_sql(
            connection.ops.quote_name(RegencyTotals._meta.db_table), ["regency_id", "province_id"]
        )
    return _SQL[name]


def counter_statements(deltas: Deltas) -> list[Statement]:
    """The statements adding {key: values} (`enrollment.counting.counter_values`) to the rows
    per village and institution, to the villages' totals, to the rows per regency and
    institution and to the regencies' totals.

    Each delta is one relative `INSERT ... ON CONFLICT DO UPDATE` (or `UPDATE`), so concurrent
    writers add up instead of overwriting each other. Every writer touches the four tables in
    that order, each in key order, so two moves in opposite directions cannot deadlock (the
    server runs statements sent together in the order sent, see core.db). A delta with a
    positive serving count may create its row (the inserted values must meet the check
    constraints on their own); any other delta is for a worker who already counts there, so the
    row exists.
    """
    statements: list[Statement] = []
    width = len(TOTAL_COLUMNS)
    village_totals: dict[tuple[int, int, int, int], list[int]] = defaultdict(lambda: [0] * width)
    regencies: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    regency_totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * width)
    provinces: dict[int, int] = {}
    for key in sorted(deltas):
        delta = deltas[key]
        serving, protected = delta[0], delta[1]
        for totals in (village_totals[key[:4]], regency_totals[(key.regency_id, key.province_id)]):
            for i, value in enumerate(delta):
                totals[i] += value
        regency = regencies[(key.regency_id, key.institution)]
        regency[0] += serving
        regency[1] += protected
        provinces[key.regency_id] = key.province_id
        if serving > 0:
            statements.append((_sql("village_upsert"), [*key, serving, protected]))
        elif serving or protected:
            statements.append((_sql("village_add"), [serving, protected, key.village_id, key.institution]))
    for village, totals in sorted(village_totals.items()):
        if totals[0] > 0:
            statements.append((_sql("village_totals_upsert"), [*village, *totals]))
        elif any(totals):
            statements.append((_sql("village_totals_add"), [*totals, village[0]]))
    for (regency_id, institution), (serving, protected) in sorted(regencies.items()):
        if serving > 0:
            statements.append(
                (_sql("regency_upsert"), [regency_id, provinces[regency_id], institution, serving, protected])
            )
        elif serving or protected:
            statements.append((_sql("regency_add"), [serving, protected, regency_id, institution]))
    for (regency_id, province_id), totals in sorted(regency_totals.items()):
        if totals[0] > 0:
            statements.append((_sql("regency_totals_upsert"), [regency_id, province_id, *totals]))
        elif any(totals):
            statements.append((_sql("regency_totals_add"), [*totals, regency_id]))
    return statements


def totals_select(worker: str, enrollment: str) -> tuple[str, list[str]]:
    """The SELECT of every village's totals from the worker rows (as `counters_recount` writes
    them), in the totals' column order after the four region columns, and its parameters."""
    known = [source for source in FUNDING_SOURCES if source not in ("", FundingSource.OTHER)]
    protected = "e.status = %s"
    funding = [
        f"SUM(CASE WHEN {protected} AND e.funding_source = %s THEN 1 ELSE 0 END)"
        if source != FundingSource.OTHER
        # A source no choice names counts as another source.
        else f"SUM(CASE WHEN {protected} AND e.funding_source NOT IN ({', '.join(['%s'] * (len(known) + 1))}) "
        "THEN 1 ELSE 0 END)"
        for source in FUNDING_SOURCES
    ]
    params: list[str] = [EnrollmentStatus.ACTIVE]
    for source in FUNDING_SOURCES:
        params += [EnrollmentStatus.ACTIVE, *((*known, "") if source == FundingSource.OTHER else (source,))]
    earner = f"NOT ({protected}) AND w.wage_basis = %s AND w.monthly_wage IS NOT NULL"
    params += [EnrollmentStatus.ACTIVE, WageBasis.SILTAP, EnrollmentStatus.ACTIVE, WageBasis.SILTAP]
    sql = (
        f"SELECT w.village_id, w.district_id, w.regency_id, w.province_id, COUNT(*), "
        f"SUM(CASE WHEN {protected} THEN 1 ELSE 0 END), {', '.join(funding)}, "
        f"SUM(CASE WHEN {earner} THEN 1 ELSE 0 END), SUM(CASE WHEN {earner} THEN w.monthly_wage ELSE 0 END) "
        f"FROM {worker} w JOIN {enrollment} e ON e.worker_id = w.id WHERE w.serving AND w.term_started "
        "GROUP BY w.village_id, w.district_id, w.regency_id, w.province_id"
    )
    return sql, params


@transaction.atomic
def counters_recount() -> int:
    """Rebuild every counter from the worker rows; returns the number of village counter rows.

    Four `INSERT ... SELECT`s: the database aggregates the workers itself, with nothing
    travelling through Python (at national scale that is millions of workers).
    """
    from enrollment.models import ApparatusWorker, Enrollment

    quote = connection.ops.quote_name
    worker = quote(ApparatusWorker._meta.db_table)
    enrollment = quote(Enrollment._meta.db_table)
    village = quote(VillageCoverage._meta.db_table)
    regency = quote(RegencyCoverage._meta.db_table)
    village_totals = quote(VillageTotals._meta.db_table)
    regency_totals = quote(RegencyTotals._meta.db_table)
    data_version_bump()
    for model in (RegencyTotals, VillageTotals, RegencyCoverage, VillageCoverage):
        model.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {village} ({_VILLAGE_COLUMNS}) "
            "SELECT w.village_id, w.district_id, w.regency_id, w.province_id, w.institution, COUNT(*), "
            "SUM(CASE WHEN e.status = %s THEN 1 ELSE 0 END) "
            f"FROM {worker} w JOIN {enrollment} e ON e.worker_id = w.id WHERE w.serving AND w.term_started "
            "GROUP BY w.village_id, w.district_id, w.regency_id, w.province_id, w.institution "
            # Written in the order a regency's villages are read: a regency's counters then sit
            # on a few pages together, not one page per row (hundreds of pages per answer).
            "ORDER BY w.regency_id, w.village_id, w.institution",
            [EnrollmentStatus.ACTIVE],
        )
        rows: int = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {regency} (regency_id, province_id, institution, serving, protected) "
            f"SELECT regency_id, province_id, institution, SUM(serving), SUM(protected) FROM {village} "
            "GROUP BY regency_id, province_id, institution"
        )
        select, params = totals_select(worker, enrollment)
        columns = ", ".join(TOTAL_COLUMNS)
        cursor.execute(
            f"INSERT INTO {village_totals} (village_id, district_id, regency_id, province_id, {columns}) "
            f"{select} ORDER BY w.regency_id, w.village_id",
            params,
        )
        cursor.execute(
            f"INSERT INTO {regency_totals} (regency_id, province_id, {columns}) "
            f"SELECT regency_id, province_id, {', '.join(f'SUM({c})' for c in TOTAL_COLUMNS)} "
            f"FROM {village_totals} GROUP BY regency_id, province_id"
        )
    return rows


class CounterDifference(NamedTuple):
    """One counter row that differs from a recount: where, and both pairs of figures."""

    level: str  # "village" or "regency"
    code: str
    name: str
    institution: str  # "" for the totals of all institutions
    counted: tuple[int, ...]  # (serving, protected[, the other totals]) as maintained
    recounted: tuple[int, ...]  # the same from the worker rows


def counters_differences() -> list[CounterDifference]:
    """Every village and regency counter row that differs from a full recount, reading only.

    A missing row and a row at zero mean the same (a worker who leaves a village leaves a zero
    row behind, which a recount does not create). Ordered by level, then region code.
    """
    from django.db.models import Count, Q

    from enrollment.models import ApparatusWorker
    from villages.models import Regency, Village

    recounted = (
        ApparatusWorker.objects.filter(serving=True, term_started=True)
        .values("village_id", "regency_id", "institution")
        .annotate(
            serving_sum=Count("id"), protected_sum=Count("id", filter=Q(enrollment__status=EnrollmentStatus.ACTIVE))
        )
        .values_list("village_id", "regency_id", "institution", "serving_sum", "protected_sum")
    )
    villages: dict[tuple[int, str], list[list[int]]] = defaultdict(lambda: [[0, 0], [0, 0]])
    regencies: dict[tuple[int, str], list[list[int]]] = defaultdict(lambda: [[0, 0], [0, 0]])
    for village_id, regency_id, institution, serving, protected in recounted.order_by():
        villages[(village_id, institution)][1] = [serving, protected]
        regency = regencies[(regency_id, institution)][1]
        regency[0] += serving
        regency[1] += protected
    for village_id, institution, serving, protected in VillageCoverage.objects.values_list(
        "village_id", "institution", "serving", "protected"
    ):
        villages[(village_id, institution)][0] = [serving, protected]
    for regency_id, institution, serving, protected in RegencyCoverage.objects.values_list(
        "regency_id", "institution", "serving", "protected"
    ):
        regencies[(regency_id, institution)][0] = [serving, protected]

    width = len(TOTAL_COLUMNS)
    from enrollment.models import Enrollment

    quote = connection.ops.quote_name
    select, params = totals_select(quote(ApparatusWorker._meta.db_table), quote(Enrollment._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(select, params)
        for village_id, _district, regency_id, _province, *values in cursor.fetchall():
            villages[(village_id, "")][1] = [int(v) for v in values]
            regency = regencies[(regency_id, "")][1]
            if len(regency) < width:
                regency[:] = [0] * width
            for i, value in enumerate(values):
                regency[i] += int(value)
    for model, rows, key in ((VillageTotals, villages, "village_id"), (RegencyTotals, regencies, "regency_id")):
        for pk, *values in model.objects.values_list(key, *TOTAL_COLUMNS):
            rows[(pk, "")][0] = values
    for rows in (villages, regencies):
        for (_pk, institution), pair in rows.items():
            if institution == "":  # a missing row of totals and a row at zero mean the same
                pair[:] = [side if len(side) == width else [0] * width for side in pair]

    differences: list[CounterDifference] = []
    for level, rows, region_model in (("village", villages, Village), ("regency", regencies, Regency)):
        differing = {key: pair for key, pair in rows.items() if pair[0] != pair[1]}
        names = dict(
            (pk, (code, name))
            for pk, code, name in region_model.objects.filter(pk__in={key[0] for key in differing}).values_list(
                "pk", "code", "name"
            )
        )
        found = [
            CounterDifference(level, *names.get(pk, (f"#{pk}", "")), institution, tuple(counted), tuple(recount))
            for (pk, institution), (counted, recount) in differing.items()
        ]
        differences.extend(sorted(found, key=lambda d: (d.code, d.institution)))
    return differences


@transaction.atomic
def snapshots_take(*, as_of: datetime.date) -> int:
    """Store every region's coverage on `as_of` (replacing any earlier snapshot of that date)."""
    from .selectors.snapshots import snapshot_rows

    data_version_bump()
    rows = snapshot_rows(as_of)
    CoverageSnapshot.objects.filter(date=as_of).delete()
    ids = iter(next_ids(CoverageSnapshot, len(rows)))
    return bulk_insert(
        CoverageSnapshot,
        (
            {"id": next(ids), "region_code": r.region_code, "date": r.date, "serving": r.serving}
            | {"protected": r.protected}
            for r in rows
        ),
    )
