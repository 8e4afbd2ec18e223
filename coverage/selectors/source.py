"""Where coverage figures come from, chosen once by their date.

Today's figures are SUMs over the maintained counters (`VillageCoverage`, `RegencyCoverage`)
and, for what the counters do not break down, the workers as they stand. A past date is
computed exactly from the workers' state periods (`WorkerPeriod`, written with every history
event): the periods that contain the date give each worker's village, institution, service and
membership on it, so one aggregate answers for any region.

`figure_source(as_of)` is the one place that tells the two apart: every selector asks the
source it returns, so a new figure answers for today and for a past date alike.
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Count, Model, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from core.clock import today
from core.errors import ServiceError
from core.routing import read_alias
from enrollment.choices import EnrollmentStatus, WageBasis
from enrollment.counting import FUNDING_SOURCES
from enrollment.models import WorkerPeriod

from ..models import TOTAL_COLUMNS, RegencyCoverage, RegencyTotals, VillageCoverage, VillageTotals

# A filter on counter rows or state periods, by the columns naming regions: {"regency_id": 12}.
# (The caller's access is a `Scope`, never one of these.)
Where = dict[str, Any]
# The columns the regency counters hold: a question asking only these is answered from them.
REGENCY_COUNTER_COLUMNS = {"province_id", "regency_id", "institution"}
# The totals' columns of protected workers by funding source, in the order of FUNDING_SOURCES.
FUNDING_COLUMNS = TOTAL_COLUMNS[2 : 2 + len(FUNDING_SOURCES)]


def check_as_of(as_of: datetime.date | None) -> datetime.date:
    """The date asked for (default today); a future date has no figures yet."""
    if as_of is None:
        return today()
    if as_of > today():
        raise ServiceError(_("as_of cannot be in the future."), field="as_of", code="future_date")
    return as_of


class FigureSource(ABC):
    """The workers as they were (or are) on one date, counted by region."""

    def __init__(self, as_of: datetime.date) -> None:
        self.as_of = as_of

    @abstractmethod
    def aggregate(self, *, where: Where, group: list[str], institution: str | None = None) -> list[dict[str, Any]]:
        """Serving and protected workers (`serving_sum`, `protected_sum`) of the rows `where`
        selects, grouped by region columns and/or institution."""

    def region_counts(self, *, where: Where, key: str, region_id: int) -> tuple[int, int]:
        """(serving, protected) of the one region `where` selects (`key` its column, `region_id` its id)."""
        for row in self.aggregate(where=where, group=[key]):
            if row[key] == region_id:
                return int(row["serving_sum"] or 0), int(row["protected_sum"] or 0)
        return 0, 0

    def protected_by_funding_source(self, *, where: Where) -> dict[str, int]:
        """Protected workers by the source funding their premium ("unknown" when none is recorded)."""
        return {source or "unknown": n for source, n in self._protected_funding(where).order_by()}

    @abstractmethod
    def _protected_funding(self, where: Where) -> QuerySet[Any]:
        """(funding source, protected workers) pairs."""

    @abstractmethod
    def unprotected_wages(self, *, where: Where) -> dict[str, Any]:
        """Unprotected workers (`n`), those of them paid a siltap with a known wage (`pu_n`, the
        wage earners) and the sum of those wages a month (`pu_wages`)."""


class Counters(FigureSource):
    """Today: the maintained counters per institution, and the totals of all institutions with
    the breakdowns by funding source and wage (`coverage.models.CoverageTotals`)."""

    def __init__(self, as_of: datetime.date) -> None:
        super().__init__(as_of)
        self._totals: dict[tuple[tuple[str, Any], ...], dict[str, int]] = {}

    def aggregate(self, *, where: Where, group: list[str], institution: str | None = None) -> list[dict[str, Any]]:
        # Province and regency figures from the regency rows: a few thousand rows for the whole
        # country instead of one per village; of all institutions, from the totals: one row per
        # village or regency instead of one per institution. Hand-written (as `totals`): the
        # ORM's compiling of an aggregate cost several times its running.
        columns = set(group) | set(where)
        regency_level = columns <= REGENCY_COUNTER_COLUMNS
        if institution or "institution" in columns:
            model: type[Model] = RegencyCoverage if regency_level else VillageCoverage
        else:
            model = RegencyTotals if regency_level else VillageTotals
        conditions, params = _conditions(model, {**where, **({"institution": institution} if institution else {})})
        grouped = [_column(model, name) for name in group]
        select = ", ".join([*grouped, "SUM(serving)", "SUM(protected)"])
        sql = f"SELECT {select} FROM {model._meta.db_table}{conditions}"
        if grouped:
            sql += " GROUP BY " + ", ".join(grouped)
        keys = [*group, "serving_sum", "protected_sum"]
        rows = _fetch(sql, params)
        if not grouped and rows and rows[0][0] is None:  # SUM of no rows: no group, as the ORM answers
            return []
        # SUM of an integer column is a bigint, of a bigint a numeric: counts are ints.
        return [dict(zip(keys, (*row[:-2], int(row[-2] or 0), int(row[-1] or 0)), strict=True)) for row in rows]

    def totals(self, where: Where) -> dict[str, int]:
        """The sums of every total (`TOTAL_COLUMNS`) of the region `where` selects, read once."""
        key = tuple(sorted(where.items()))
        if key not in self._totals:
            model = RegencyTotals if set(where) <= REGENCY_COUNTER_COLUMNS else VillageTotals
            conditions, params = _conditions(model, where)
            sums = ", ".join(f"SUM({_column(model, column)})" for column in TOTAL_COLUMNS)
            [row] = _fetch(f"SELECT {sums} FROM {model._meta.db_table}{conditions}", params)
            self._totals[key] = {column: int(value or 0) for column, value in zip(TOTAL_COLUMNS, row, strict=True)}
        return self._totals[key]

    def region_counts(self, *, where: Where, key: str, region_id: int) -> tuple[int, int]:
        # With the breakdowns the detail reads next, in one read of the totals.
        totals = self.totals(where)
        return totals["serving"], totals["protected"]

    def protected_by_funding_source(self, *, where: Where) -> dict[str, int]:
        totals = self.totals(where)
        counts = {
            source or "unknown": totals[column] for source, column in zip(FUNDING_SOURCES, FUNDING_COLUMNS, strict=True)
        }
        return {source: n for source, n in counts.items() if n}

    def _protected_funding(self, where: Where) -> QuerySet[Any]:
        raise NotImplementedError  # the totals answer (protected_by_funding_source)

    def unprotected_wages(self, *, where: Where) -> dict[str, Any]:
        totals = self.totals(where)
        return {
            "n": totals["serving"] - totals["protected"],
            "pu_n": totals["unprotected_wage_earners"],
            "pu_wages": totals["unprotected_wages"],
        }


class StatePeriods(FigureSource):
    """A past date: the workers' state periods that contain it."""

    def _protected(self) -> Q:
        grace = datetime.timedelta(days=settings.UCJ_LAPSE_GRACE_DAYS)
        return Q(status=EnrollmentStatus.ACTIVE, paid_until__gte=self.as_of - grace)

    def _serving(self) -> QuerySet[WorkerPeriod]:
        """The state period of every worker serving on the date."""
        return WorkerPeriod.objects.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=self.as_of), valid_from__lte=self.as_of, serving=True
        )

    def aggregate(self, *, where: Where, group: list[str], institution: str | None = None) -> list[dict[str, Any]]:
        rows = self._serving().filter(**where)
        if institution:
            rows = rows.filter(institution=institution)
        aggregates = {"serving_sum": Count("id"), "protected_sum": Count("id", filter=self._protected())}
        return list(rows.values(*group).annotate(**aggregates).order_by())

    def _protected_funding(self, where: Where) -> QuerySet[Any]:
        periods = self._serving().filter(self._protected(), **where)
        return periods.values_list("funding_source").annotate(n=Count("id"))

    def unprotected_wages(self, *, where: Where) -> dict[str, Any]:
        periods = self._serving().exclude(self._protected()).filter(**where)
        pu = Q(worker__wage_basis=WageBasis.SILTAP, worker__monthly_wage__isnull=False)
        return periods.aggregate(
            n=Count("id"), pu_n=Count("id", filter=pu), pu_wages=Sum("worker__monthly_wage", filter=pu)
        )


def _column(model: type[Model], name: str) -> str:
    """The column of a field of `model` (never a name from a request: an unknown one raises)."""
    column = model._meta.get_field(name).column  # type: ignore[union-attr]
    if not isinstance(column, str):
        raise ValueError(f"{name} has no column")
    return column


def _conditions(model: type[Model], where: Where) -> tuple[str, list[Any]]:
    names = sorted(where)
    if not names:
        return "", []
    return " WHERE " + " AND ".join(f"{_column(model, name)} = %s" for name in names), [where[name] for name in names]


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of a hand-written read, from where the request reads (a replica: core.routing)."""
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def figure_source(as_of: datetime.date) -> FigureSource:
    """The source of the figures on `as_of`: the counters today, the state periods before."""
    return Counters(as_of) if as_of >= today() else StatePeriods(as_of)
