"""Coverage rows: a region's figures on a date, and one row per region of a level, filtered and
sorted as the caller asked."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any, TypeVar, overload

from django.db import connections
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from access.scope import Scope
from core.clock import today
from core.db import binary_results
from core.errors import ServiceError
from core.routing import read_alias
from villages.choices import RegionLevel
from villages.models import in_force_on

from ..choices import CoverageKind
from ..figures import coverage_pct, gap_to_target
from ..models import RegencyCoverage, RegencyTotals, VillageCoverage, VillageTotals
from .kept import structural
from .regions import ID_FIELD, LEVELS, MODEL_BY_LEVEL, Region, parent_get
from .source import FigureSource, Where, figure_source
from .targets import TargetResolver


@dataclass(slots=True)
class CoverageFigures:
    """Serving and protected workers of a region and everything derived from them."""

    serving: int = 0
    protected: int = 0
    target_pct: Decimal | None = None
    code: str = ""
    name: str = ""

    @property
    def unprotected(self) -> int:
        return self.serving - self.protected

    @property
    def coverage_pct(self) -> Decimal | None:
        return coverage_pct(self.protected, self.serving)

    @property
    def gap_to_target(self) -> int | None:
        return gap_to_target(self.target_pct, self.serving, self.protected)


def counts_by(
    source: FigureSource, *, where: Where, key: str, institution: str | None = None
) -> dict[Any, CoverageFigures]:
    """{value of `key`: figures} for the rows selected by `where`."""
    return {
        row[key]: CoverageFigures(row["serving_sum"] or 0, row["protected_sum"] or 0)
        for row in source.aggregate(where=where, group=[key], institution=institution)
    }


def region_figures(region: Region, source: FigureSource) -> CoverageFigures:
    """The region's figures on the source's date, with the year's target."""
    serving, protected = source.region_counts(where=region.where, key=ID_FIELD[region.level], region_id=region.id)
    figures = CoverageFigures(serving, protected, code=region.code, name=region.name)
    year = source.as_of.year
    figures.target_pct = TargetResolver(kind=CoverageKind.VILLAGE_APPARATUS, year=year).for_code(region.code)
    return figures


def coverage_rows(
    *,
    level: str,
    parent: Region | None,
    as_of: datetime.date,
    institution: str | None = None,
    scope: Scope | None = None,
) -> Sequence[CoverageFigures]:
    """One row per region of `level` in force on `as_of` (under `parent` when given), regions
    without workers included, in the order of their codes (today's: made as they are read,
    `RegionRows`)."""
    if parent is not None and LEVELS.index(parent.level) >= LEVELS.index(level):
        raise ServiceError(
            _("parent %(code)s is a %(parent)s; it must be above the level %(level)s.")
            % {"code": parent.code, "parent": parent.level, "level": level},
            field="parent",
            code="parent_level",
        )
    if as_of >= today():
        return _rows_today(level=level, parent=parent, as_of=as_of, institution=institution, scope=scope)
    where = parent.where if parent else {}
    # The regions as they stood on the date: one a decree retired shows on the dates it was in
    # force (with its figures then), one it created from its first day (villages.region_changes).
    regions = (
        MODEL_BY_LEVEL[level].objects.filter(in_force_on(as_of)).order_by("code").values_list("id", "code", "name")
    )
    if parent is not None:
        regions = regions.filter(**({"pk": parent.id} if parent.level == level else where))
    if scope is not None and not scope.everything:
        # Only the regions the caller covers: a province row holds other regencies' workers.
        if level == RegionLevel.PROVINCE:
            regions = regions.filter(pk__in=scope.province_ids)
        elif level == RegionLevel.REGENCY:
            regions = regions.filter(Q(province_id__in=scope.province_ids) | Q(pk__in=scope.regency_ids))
        else:
            regions = regions.filter(scope.q())
    counts = counts_by(figure_source(as_of), where=where, key=ID_FIELD[level], institution=institution)
    targets = TargetResolver(kind=CoverageKind.VILLAGE_APPARATUS, year=as_of.year)
    rows = []
    for region_id, code, name in regions:
        figures = counts.get(region_id) or CoverageFigures()
        rows.append(CoverageFigures(figures.serving, figures.protected, targets.for_code(code), code, name))
    return rows


# A region as `_rows_today` lists it: id, code, name, province id, regency id (None above), the
# year's target.
RegionRow = tuple[int, str, str, int, int | None, Decimal | None]
T = TypeVar("T")
NO_FIGURES = (0, 0)


class RegionRows(Sequence[CoverageFigures]):
    """The rows `_rows_today` answers: the regions, in code order, and their figures as read,
    each row made only when it is asked for.

    The rows of a regency's villages are counted, and a page of them shown: making the 852
    rows of the largest regency's villages cost more in a request than reading their figures
    (0.5–0.75 ms, measured in-process), and a page of them written as JSON needs no row at all
    (`each`). Filters and orderings other than by code read every row (`coverage_rows_listed`)."""

    __slots__ = ("_figures", "_made_of", "_regions")

    def __init__(
        self,
        regions: Sequence[RegionRow],
        figures: dict[int, tuple[int, int]],
        made_of: tuple[Any, ...] | None = None,
    ) -> None:
        self._regions = regions
        self._figures = figures
        # What `kept` knows the rows by: the regions (and the slice of them) they were made of.
        self._made_of = (regions,) if made_of is None else made_of

    def __len__(self) -> int:
        return len(self._regions)

    @overload
    def __getitem__(self, index: int) -> CoverageFigures: ...

    @overload
    def __getitem__(self, index: slice) -> RegionRows: ...

    def __getitem__(self, index: int | slice) -> CoverageFigures | RegionRows:
        if isinstance(index, slice):  # a page: still not made
            made_of = (*self._made_of, index.indices(len(self._regions)))
            return RegionRows(self._regions[index], self._figures, made_of)
        region_id, code, name, _province, _regency, target = self._regions[index]
        return CoverageFigures(*self._figures.get(region_id, NO_FIGURES), target, code, name)

    def __iter__(self) -> Iterator[CoverageFigures]:
        figures = self._figures
        for region_id, code, name, _province, _regency, target in self._regions:
            yield CoverageFigures(*figures.get(region_id, NO_FIGURES), target, code, name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RegionRows | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # as a list's

    def __repr__(self) -> str:
        return f"RegionRows({list(self)!r})"

    def each(self, make: Callable[[str, str, int, int, Decimal | None], T]) -> list[T]:
        """`make(code, name, serving, protected, target_pct)` of each row, in order, without
        making the rows."""
        figures = self._figures
        return [
            make(code, name, *figures.get(region_id, NO_FIGURES), target)
            for region_id, code, name, _province, _regency, target in self._regions
        ]

    def kept(self, build: Callable[[RegionRows], T]) -> T:
        """`build(self)`, kept for the next rows made of the same things: the same regions (the
        same list while the country's structure stays: coverage.selectors.kept), the same slice
        of them and the same figures (the same dict while their statement reads the same rows:
        `_figures_of`). `build` must depend on nothing else: the JSON text of a page of them,
        say, which for a regency's 500 villages costs 0.2–0.3 ms to write again."""
        figures = self._figures
        key = (*map(id, self._made_of[:1]), *self._made_of[1:], id(figures), build)
        found = _built.get(key)
        if found is not None and found[0] is self._made_of[0] and found[1] is figures:
            return found[2]  # type: ignore[no-any-return]
        value = build(self)
        if len(_built) >= MAX_BUILT:
            _built.clear()
        _built[key] = (self._made_of[0], figures, value)
        return value


# What `RegionRows.kept` made, with the regions and figures it was made of (held, so that their
# ids stay theirs): at most a few pages of a few regions' rows.
_built: dict[tuple[Any, ...], tuple[Any, Any, Any]] = {}
MAX_BUILT = 64

# The rows each statement of figures read last, and the dict made of them (`_figures_of`).
_last_read: dict[tuple[Any, ...], tuple[list[Any], dict[int, tuple[int, int]]]] = {}
MAX_LAST_READ = 128  # at most ~900 rows each (a regency's villages): some 25 MB at worst


def _figures_of(statement: tuple[Any, ...], rows: list[Any]) -> dict[int, tuple[int, int]]:
    """{region id: (serving, protected)} of the rows a statement of figures read: the dict made of
    its last read when the rows are the same (comparing them costs a fraction of making it), so
    that what was made of them can be used again (`RegionRows.kept`). The dict is never changed."""
    last = _last_read.get(statement)
    if last is not None and last[0] == rows:
        return last[1]
    figures = {region_id: (serving, protected) for region_id, serving, protected in rows}
    if len(_last_read) >= MAX_LAST_READ:
        _last_read.clear()
    _last_read[statement] = (rows, figures)
    return figures


def _regions_in_force(
    level: str, parent_level: str | None, parent_id: int | None, as_of: datetime.date
) -> list[RegionRow]:
    """The regions of `level` in force on `as_of` (under the parent when given), in code order
    (as Python orders the codes, whatever the database's collation: `sorted_rows` counts on it),
    each with its target of the year."""
    found = sorted(_regions_read(level, parent_level, parent_id, as_of), key=itemgetter(1))
    target_of = TargetResolver(kind=CoverageKind.VILLAGE_APPARATUS, year=as_of.year).for_codes(
        [region[1] for region in found]
    )
    return [(*region, target_of[region[1]]) for region in found]


def _regions_read(
    level: str, parent_level: str | None, parent_id: int | None, as_of: datetime.date
) -> list[tuple[int, str, str, int, int | None]]:
    model = MODEL_BY_LEVEL[level]
    regions: QuerySet[Any] = model.objects.filter(in_force_on(as_of)).order_by("code")
    if parent_level is not None:
        regions = regions.filter(
            **({"pk": parent_id} if parent_level == level else {ID_FIELD[parent_level]: parent_id})
        )
    if level == RegionLevel.PROVINCE:
        return [(pk, code, name, pk, None) for pk, code, name in regions.values_list("id", "code", "name")]
    if level == RegionLevel.REGENCY:
        found = regions.values_list("id", "code", "name", "province_id")
        return [(pk, code, name, province_id, pk) for pk, code, name, province_id in found]
    return list(regions.values_list("id", "code", "name", "province_id", "regency_id"))


def _rows_today(
    *, level: str, parent: Region | None, as_of: datetime.date, institution: str | None, scope: Scope | None
) -> RegionRows:
    """`coverage_rows` on today's counters: the regions of the level (kept while the regions
    stay as they are: coverage.selectors.kept) with their figures, read in one statement from
    one row of totals each (the villages' or regencies' rows of all institutions, or of the one
    asked for), summed for districts and provinces."""
    regions_of = (level, parent.level if parent else None, parent.id if parent else None, as_of)
    if scope is None or scope.everything:
        regions = structural(_regions_in_force, *regions_of)
    else:
        # Only the regions the caller covers, kept as all of them are: the same list for every
        # caller who covers the same regions (what RegionRows.kept knows them by).
        regions = structural(_regions_covered, *regions_of, scope.province_ids, scope.regency_ids)
    id_column = ID_FIELD[level]
    regency_level = level in (RegionLevel.PROVINCE, RegionLevel.REGENCY)
    figures_model = (
        (RegencyCoverage if regency_level else VillageCoverage)
        if institution
        else (RegencyTotals if regency_level else VillageTotals)
    )
    conditions: list[str] = []
    params: list[Any] = []
    if institution:
        conditions.append("institution = %s")
        params.append(institution)
    if parent is not None:
        conditions.append(f"{ID_FIELD[parent.level]} = %s")
        params.append(parent.id)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    # Hand-written: a replica read asks where to go (core.routing).
    reading = connections[read_alias()]
    table = reading.ops.quote_name(figures_model._meta.db_table)
    if level in (RegionLevel.REGENCY, RegionLevel.VILLAGE):  # one row of figures per region
        sql = f"SELECT {id_column}, serving, protected FROM {table}{where}"
    else:
        sql = f"SELECT {id_column}, SUM(serving), SUM(protected) FROM {table}{where} GROUP BY {id_column}"
    with reading.cursor() as cursor:
        binary_results(cursor)
        cursor.execute(sql, params)
        # Integers as read: the columns are integers, and so are their sums (bigint).
        figures = _figures_of((reading.alias, sql, *params), cursor.fetchall())
    return RegionRows(regions, figures)


def _regions_covered(
    level: str,
    parent_level: str | None,
    parent_id: int | None,
    as_of: datetime.date,
    provinces: frozenset[int],
    regencies: frozenset[int],
) -> list[RegionRow]:
    """The regions of `_regions_in_force` that a caller of these provinces and regencies covers
    (a province row holds other regencies' workers)."""
    regions = structural(_regions_in_force, level, parent_level, parent_id, as_of)
    if level == RegionLevel.PROVINCE:
        return [region for region in regions if region[0] in provinces]
    return [region for region in regions if region[3] in provinces or region[4] in regencies]


def coverage_rows_listed(
    *,
    level: str,
    as_of: datetime.date,
    scope: Scope,
    parent: str | None = None,
    institution: str | None = None,
    coverage_pct_lt: Decimal | None = None,
    coverage_pct_gte: Decimal | None = None,
    has_unprotected: bool | None = None,
    ordering: str = "code",
) -> Sequence[CoverageFigures]:
    """The coverage rows a caller asked for: the regions of `level` it covers (under the region
    coded `parent`), those whose figures pass the filters, sorted by `ordering` (a row figure,
    `-` before it for descending), the regions without a value of it last."""
    region = parent_get(parent, scope=scope) if parent else None
    rows = coverage_rows(level=level, parent=region, as_of=as_of, institution=institution, scope=scope)
    if coverage_pct_lt is not None:
        rows = [r for r in rows if r.coverage_pct is not None and r.coverage_pct < coverage_pct_lt]
    if coverage_pct_gte is not None:
        rows = [r for r in rows if r.coverage_pct is not None and r.coverage_pct >= coverage_pct_gte]
    if has_unprotected is not None:
        rows = [r for r in rows if (r.unprotected > 0) == has_unprotected]
    return sorted_rows(rows, ordering)


def sorted_rows(rows: Sequence[CoverageFigures], ordering: str) -> Sequence[CoverageFigures]:
    """`rows` sorted by a row figure (`-` before it for descending), ties by code, the rows
    without a value of it last whichever the direction."""
    field, reverse = ordering.lstrip("-"), ordering.startswith("-")
    if field == "code":  # every row has one, and no two the same (the default: a regency's villages)
        if isinstance(rows, RegionRows) and not reverse:
            return rows  # in code order already, and not made yet
        return sorted(rows, key=attrgetter("code"), reverse=reverse)
    value = attrgetter(field)
    present = [r for r in rows if value(r) is not None]
    absent = [r for r in rows if value(r) is None]
    if reverse:
        # A stable sort of rows in code order: ties stay in code order.
        present.sort(key=value, reverse=True)
    else:
        present.sort(key=attrgetter(field, "code"))
    return present + absent


def rank_among(rows: Sequence[CoverageFigures], code: str) -> int | None:
    """Competition rank (1 = best coverage) of `code` among `rows`; None when it has no figure."""
    mine = next((row.coverage_pct for row in rows if row.code == code), None)
    if mine is None:
        return None
    return 1 + sum(1 for row in rows if row.coverage_pct is not None and row.coverage_pct > mine)
