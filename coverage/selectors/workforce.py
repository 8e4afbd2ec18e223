"""UC Jamsostek workforce figures (potential workers and active participants of a region),
enriched with coverage, change, targets and rank."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from access.scope import Scope
from core.errors import NotFoundError
from villages.choices import RegionLevel

from ..choices import CoverageKind
from ..figures import change_points, coverage_pct, gap_to_target
from ..models import Target, WorkforceFigure
from .targets import TargetResolver


def _workforce_level(code: str) -> str:
    return RegionLevel.PROVINCE if "." not in code else RegionLevel.REGENCY


def workforce_enriched(figures: list[WorkforceFigure]) -> list[dict[str, Any]]:
    """Figures with coverage, change since the region's previous figure, the year's target and
    gap, and rank among the regions of the same level that have a figure on the same date."""
    codes = {f.region_code for f in figures}
    dates = {f.date for f in figures}
    history: dict[str, list[WorkforceFigure]] = defaultdict(list)
    for f in WorkforceFigure.objects.filter(region_code__in=codes).order_by("date"):
        history[f.region_code].append(f)
    same_day: dict[tuple[datetime.date, str], list[Decimal]] = defaultdict(list)
    for f in WorkforceFigure.objects.filter(date__in=dates):
        pct = coverage_pct(f.active_participants, f.potential_workers)
        if pct is not None:
            same_day[(f.date, _workforce_level(f.region_code))].append(pct)
    resolvers: dict[int, TargetResolver] = {}
    rows = []
    for f in figures:
        pct = coverage_pct(f.active_participants, f.potential_workers)
        earlier = [e for e in history[f.region_code] if e.date < f.date]
        previous = earlier[-1] if earlier else None
        year = f.date.year
        resolver = resolvers.setdefault(year, TargetResolver(kind=CoverageKind.WORKFORCE, year=year))
        target = resolver.for_code(f.region_code)
        peers = same_day[(f.date, _workforce_level(f.region_code))]
        rows.append(
            {
                "id": f.pk,
                "region_code": f.region_code,
                "date": f.date,
                "potential_workers": f.potential_workers,
                "active_participants": f.active_participants,
                "source": f.source,
                "coverage_pct": pct,
                "previous_date": previous.date if previous else None,
                "change_pct_points": change_points(
                    f.active_participants,
                    f.potential_workers,
                    previous.active_participants,
                    previous.potential_workers,
                )
                if previous
                else None,
                "target_pct": target,
                "gap_to_target": gap_to_target(target, f.potential_workers, f.active_participants),
                "rank": 1 + sum(p > pct for p in peers) if pct is not None else None,
                "ranked_regions": len(peers),
            }
        )
    return rows


def workforce_summary(*, code: str, as_of: datetime.date, scope: Scope | None = None) -> dict[str, Any]:
    """The region's latest workforce figure on or before `as_of`, enriched, with every target
    from that year on and the gap to each."""
    figure = WorkforceFigure.objects.filter(region_code=code, date__lte=as_of).order_by("-date").first()
    if figure is None or (scope is not None and not scope.contains_code(code)):
        raise NotFoundError(
            _("No workforce figure for %(code)s on or before %(date)s.") % {"code": code, "date": as_of.isoformat()},
            field="code",
        )
    row = workforce_enriched([figure])[0]
    years = sorted(
        set(
            Target.objects.filter(kind=CoverageKind.WORKFORCE, year__gte=figure.date.year).values_list(
                "year", flat=True
            )
        )
    )
    row["targets"] = []
    for year in years:
        target = TargetResolver(kind=CoverageKind.WORKFORCE, year=year).for_code(code)
        if target is not None:
            row["targets"].append(
                {
                    "year": year,
                    "target_pct": target,
                    "gap_to_target": gap_to_target(target, figure.potential_workers, figure.active_participants),
                }
            )
    row["as_of"] = as_of
    return row
