"""One region in detail: its figures, breakdowns, rank among its siblings, change since an
earlier date and the premium that would protect its unprotected workers."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from access.scope import Scope
from core.errors import ServiceError
from enrollment.choices import Scheme
from villages.choices import RegionLevel
from villages.services import parent_code

from ..choices import RateKind
from ..figures import change_points
from ..models import PremiumRate
from .kept import structural
from .regions import Region, region_get
from .rows import CoverageFigures, counts_by, coverage_rows, rank_among, region_figures
from .source import FigureSource, figure_source


def rates_on(as_of: datetime.date) -> dict[tuple[str, str], PremiumRate]:
    """The premium rate of each (scheme, program) valid on `as_of` (read once while the rates
    stay as they are: coverage.selectors.kept)."""
    return structural(_rates_read, as_of)


def _rates_read(as_of: datetime.date) -> dict[tuple[str, str], PremiumRate]:
    rates = PremiumRate.objects.filter(valid_from__lte=as_of).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=as_of))
    return {(rate.scheme, rate.program): rate for rate in rates.order_by("valid_from")}


def premium_estimate(region: Region, source: FigureSource) -> dict[str, Any]:
    """Estimated monthly premium to protect the region's unprotected workers with JKK and JKM.

    Workers paid a siltap (fixed income) with a known wage count as wage earners (PU: a percent
    of the wage); the others as non-wage earners (BPU: a fixed amount a month).
    """
    totals = source.unprotected_wages(where=region.where)
    rates = rates_on(source.as_of)
    pu_pct = sum(
        (r.value for (scheme, _p), r in rates.items() if scheme == Scheme.PU and r.program in ("jkk", "jkm")),
        Decimal(0),
    )
    bpu_fixed = sum(
        (
            r.value
            for (scheme, _p), r in rates.items()
            if scheme == Scheme.BPU and r.program in ("jkk", "jkm") and r.kind == RateKind.FIXED
        ),
        Decimal(0),
    )
    pu_wages = totals["pu_wages"] or 0
    bpu_n = totals["n"] - totals["pu_n"]
    pu_premium = (Decimal(pu_wages) * pu_pct / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    bpu_premium = bpu_fixed * bpu_n
    return {
        "unprotected_workers": totals["n"],
        "pu_workers": totals["pu_n"],
        "pu_monthly_wages": pu_wages,
        "pu_rate_pct": pu_pct,
        "pu_monthly_premium": int(pu_premium),
        "bpu_workers": bpu_n,
        "bpu_monthly_rate": int(bpu_fixed),
        "bpu_monthly_premium": int(bpu_premium),
        "monthly_premium": int(pu_premium + bpu_premium),
    }


@dataclass
class RegionDetail:
    """A region's coverage on a date with everything the detail answer shows about it."""

    region: Region
    as_of: datetime.date
    figures: CoverageFigures
    by_institution: list[dict[str, Any]] = field(default_factory=list)
    by_funding_source: list[dict[str, Any]] = field(default_factory=list)
    rank: int | None = None
    siblings: int = 0
    compare_date: datetime.date | None = None
    compare_coverage_pct: Decimal | None = None
    change_pct_points: Decimal | None = None
    premium: dict[str, Any] = field(default_factory=dict)


def region_detail(
    *, code: str, as_of: datetime.date, compare: datetime.date | None = None, scope: Scope | None = None
) -> RegionDetail:
    """A region's figures with breakdowns, rank among the siblings the caller covers, change
    since `compare`, premium estimate."""
    region = region_get(code, scope=scope)
    source = figure_source(as_of)
    figures = region_figures(region, source)
    detail = RegionDetail(region=region, as_of=as_of, figures=figures)
    by_institution = counts_by(source, where=region.where, key="institution")
    detail.by_institution = [
        {
            "institution": institution,
            "serving": f.serving,
            "protected": f.protected,
            "unprotected": f.unprotected,
            "coverage_pct": f.coverage_pct,
        }
        for institution, f in sorted(by_institution.items())
        if f.serving
    ]
    by_funding_source = source.protected_by_funding_source(where=region.where)
    detail.by_funding_source = [
        {"funding_source": funding_source, "protected": n} for funding_source, n in sorted(by_funding_source.items())
    ]
    parent = region_get(parent_code(code)) if region.level != RegionLevel.PROVINCE else None
    siblings = list(coverage_rows(level=region.level, parent=parent, as_of=as_of, scope=scope))  # read thrice
    detail.rank = rank_among(siblings, code)
    detail.siblings = sum(1 for row in siblings if row.coverage_pct is not None)
    if compare is not None:
        if compare > as_of:
            raise ServiceError(_("compare must be on or before as_of."), field="compare", code="compare_after_as_of")
        earlier = region_figures(region, figure_source(compare))
        detail.compare_date = compare
        detail.compare_coverage_pct = earlier.coverage_pct
        detail.change_pct_points = change_points(figures.protected, figures.serving, earlier.protected, earlier.serving)
    detail.premium = premium_estimate(region, source)
    return detail
