"""Coverage rows: a region's figures on a date, and one row per region of a level, filtered and
sorted as the caller asked."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from access.scope import Scope
from core.errors import ServiceError
from villages.choices import RegionLevel
from villages.models import in_force_on

from ..choices import CoverageKind
from ..figures import coverage_pct, gap_to_target
from .regions import ID_FIELD, LEVELS, MODEL_BY_LEVEL, Region, parent_get
from .source import FigureSource, Where, figure_source
from .targets import TargetResolver


@dataclass
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
    rows = counts_by(source, where=region.where, key=ID_FIELD[region.level])
    figures = rows.get(region.id, CoverageFigures())
    figures.code, figures.name = region.code, region.name
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
) -> list[CoverageFigures]:
    """One row per region of `level` in force on `as_of` (under `parent` when given), regions
    without workers included, in the order of their codes."""
    if parent is not None and LEVELS.index(parent.level) >= LEVELS.index(level):
        raise ServiceError(
            _("parent %(code)s is a %(parent)s; it must be above the level %(level)s.")
            % {"code": parent.code, "parent": parent.level, "level": level},
            field="parent",
            code="parent_level",
        )
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
) -> list[CoverageFigures]:
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


def sorted_rows(rows: list[CoverageFigures], ordering: str) -> list[CoverageFigures]:
    """`rows` sorted by a row figure (`-` before it for descending), ties by code, the rows
    without a value of it last whichever the direction."""
    field, reverse = ordering.lstrip("-"), ordering.startswith("-")
    present = [r for r in rows if getattr(r, field) is not None]
    absent = [r for r in rows if getattr(r, field) is None]
    if reverse:
        # A stable sort of rows in code order: ties stay in code order.
        present.sort(key=lambda r: getattr(r, field), reverse=True)
    else:
        present.sort(key=lambda r: (getattr(r, field), r.code))
    return present + absent


def rank_among(rows: list[CoverageFigures], code: str) -> int | None:
    """Competition rank (1 = best coverage) of `code` among `rows`; None when it has no figure."""
    mine = next((row.coverage_pct for row in rows if row.code == code), None)
    if mine is None:
        return None
    return 1 + sum(1 for row in rows if row.coverage_pct is not None and row.coverage_pct > mine)
