"""Read side of coverage: figures for any region on any date, from counters or from history.

Today's figures are SUMs over the maintained `VillageCoverage` counters. A past date is
computed exactly from the workers' state periods (`WorkerPeriod`, written with every history
event): the periods that contain the date give each worker's village, institution, service
and membership on it, so one aggregate answers for any region.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from access.scope import Scope
from core.clock import today
from core.errors import NotFoundError, ServiceError
from enrollment.choices import EnrollmentStatus, Scheme, WageBasis
from enrollment.models import ApparatusWorker, WorkerPeriod
from villages.choices import RegionLevel
from villages.models import BranchOffice, District, Province, Regency, Village
from villages.services import level_for_code, parent_code

from .choices import CoverageKind, Interval, RateKind
from .figures import change_points, coverage_pct, gap_to_target
from .models import CoverageSnapshot, PremiumRate, RegencyCoverage, Target, VillageCoverage, WorkforceFigure

LEVELS = [RegionLevel.PROVINCE, RegionLevel.REGENCY, RegionLevel.DISTRICT, RegionLevel.VILLAGE]
MODEL_BY_LEVEL = {
    RegionLevel.PROVINCE: Province,
    RegionLevel.REGENCY: Regency,
    RegionLevel.DISTRICT: District,
    RegionLevel.VILLAGE: Village,
}
# The column of a counter row (or of an event's village) naming the region of each level.
ID_FIELD = {
    RegionLevel.PROVINCE: "province_id",
    RegionLevel.REGENCY: "regency_id",
    RegionLevel.DISTRICT: "district_id",
    RegionLevel.VILLAGE: "village_id",
}
REGENCY_COUNTER_COLUMNS = {"province_id", "regency_id", "institution"}
MAX_POINTS = {Interval.DAY: 366, Interval.WEEK: 260, Interval.MONTH: 240}


@dataclass(frozen=True)
class Region:
    """A region of any level, as the coverage API addresses it."""

    level: str
    id: int
    code: str
    name: str
    province_id: int
    regency_id: int | None

    @property
    def scope(self) -> dict[str, int]:
        """The filter on counter rows that selects this region."""
        return {ID_FIELD[self.level]: self.id}


def region_get(code: str, *, scope: Scope | None = None, field: str = "code") -> Region:
    """The region with this code at any level, or a 404 naming the code; with a scope, a region
    the caller does not cover is just as unknown."""
    level = level_for_code(code)
    row = None
    if level:
        columns = ["id", "name"]
        if level != RegionLevel.PROVINCE:
            columns += ["province_id"]
        if level in (RegionLevel.DISTRICT, RegionLevel.VILLAGE):
            columns += ["regency_id"]
        row = MODEL_BY_LEVEL[level].objects.filter(code=code).values(*columns).first()
    if row is not None:
        province_id = row.get("province_id", row["id"])
        regency_id = row["id"] if level == RegionLevel.REGENCY else row.get("regency_id")
        region = Region(level, row["id"], code, row["name"], province_id, regency_id)
        if scope is None or scope.contains(province_id=province_id, regency_id=regency_id):
            return region
    raise NotFoundError(_("No region has the code %(code)s.") % {"code": code}, field=field)


def parent_get(code: str, *, scope: Scope) -> Region:
    """A `parent` filter: a covered region, or a province holding a covered regency."""
    region = region_get(code, field="parent")
    if scope.contains(province_id=region.province_id, regency_id=region.regency_id) or (
        region.level == RegionLevel.PROVINCE and region.id in scope.parent_province_ids
    ):
        return region
    raise NotFoundError(_("No region has the code %(code)s.") % {"code": code}, field="parent")


def check_as_of(as_of: datetime.date | None) -> datetime.date:
    """The date asked for (default today); a future date has no figures yet."""
    if as_of is None:
        return today()
    if as_of > today():
        raise ServiceError(_("as_of cannot be in the future."), field="as_of", code="future_date")
    return as_of


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


def _protected_on(as_of: datetime.date) -> Q:
    grace = datetime.timedelta(days=settings.UCJ_LAPSE_GRACE_DAYS)
    return Q(status=EnrollmentStatus.ACTIVE, paid_until__gte=as_of - grace)


def _states_on(as_of: datetime.date) -> QuerySet[WorkerPeriod]:
    """The state period of every worker serving on `as_of`."""
    return WorkerPeriod.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=as_of), valid_from__lte=as_of, serving=True
    )


def _aggregate(
    *, as_of: datetime.date, scope: dict[str, Any], group: list[str], institution: str | None = None
) -> list[dict[str, Any]]:
    """Serving and protected workers on `as_of`, grouped by region columns and/or institution."""
    if as_of >= today():
        # Province and regency figures from the regency counters: a few thousand rows for the
        # whole country instead of one per village and institution.
        regency_level = set(group) | set(scope) <= REGENCY_COUNTER_COLUMNS
        rows = (RegencyCoverage if regency_level else VillageCoverage).objects.filter(**scope)
        aggregates = {"serving_sum": Sum("serving"), "protected_sum": Sum("protected")}
    else:
        rows = _states_on(as_of).filter(**scope)
        aggregates = {"serving_sum": Count("id"), "protected_sum": Count("id", filter=_protected_on(as_of))}
    if institution:
        rows = rows.filter(institution=institution)
    return list(rows.values(*group).annotate(**aggregates).order_by())


def counts_by(
    *, as_of: datetime.date, scope: dict[str, Any], key: str, institution: str | None = None
) -> dict[Any, CoverageFigures]:
    """{value of `key`: figures} for the rows selected by `scope`."""
    return {
        row[key]: CoverageFigures(row["serving_sum"] or 0, row["protected_sum"] or 0)
        for row in _aggregate(as_of=as_of, scope=scope, group=[key], institution=institution)
    }


def region_figures(region: Region, *, as_of: datetime.date) -> CoverageFigures:
    rows = counts_by(as_of=as_of, scope=region.scope, key=ID_FIELD[region.level])
    figures = rows.get(region.id, CoverageFigures())
    figures.code, figures.name = region.code, region.name
    figures.target_pct = TargetResolver(kind=CoverageKind.VILLAGE_APPARATUS, year=as_of.year).for_code(region.code)
    return figures


class TargetResolver:
    """Targets of one kind and year; a region without its own inherits the nearest ancestor's."""

    def __init__(self, *, kind: str, year: int):
        self.targets = dict(Target.objects.filter(kind=kind, year=year).values_list("region_code", "target_pct"))

    def for_code(self, code: str) -> Decimal | None:
        while True:
            if code in self.targets:
                return self.targets[code]
            if "." not in code:
                return None
            code = parent_code(code)


def coverage_rows(
    *,
    level: str,
    parent: Region | None,
    as_of: datetime.date,
    institution: str | None = None,
    scope: Scope | None = None,
) -> list[CoverageFigures]:
    """One row per region of `level` (under `parent` when given), regions without workers included."""
    if parent is not None and LEVELS.index(parent.level) >= LEVELS.index(level):
        raise ServiceError(
            _("parent %(code)s is a %(parent)s; it must be above the level %(level)s.")
            % {"code": parent.code, "parent": parent.level, "level": level},
            field="parent",
            code="parent_level",
        )
    caller = scope
    scope = parent.scope if parent else {}
    regions = MODEL_BY_LEVEL[level].objects.order_by("code").values_list("id", "code", "name")
    if parent is not None:
        regions = regions.filter(**({"pk": parent.id} if parent.level == level else scope))
    if caller is not None and not caller.everything:
        # Only the regions the caller covers: a province row holds other regencies' workers.
        if level == RegionLevel.PROVINCE:
            regions = regions.filter(pk__in=caller.province_ids)
        elif level == RegionLevel.REGENCY:
            regions = regions.filter(Q(province_id__in=caller.province_ids) | Q(pk__in=caller.regency_ids))
        else:
            regions = regions.filter(caller.q())
    counts = counts_by(as_of=as_of, scope=scope, key=ID_FIELD[level], institution=institution)
    targets = TargetResolver(kind=CoverageKind.VILLAGE_APPARATUS, year=as_of.year)
    rows = []
    for region_id, code, name in regions:
        figures = counts.get(region_id) or CoverageFigures()
        rows.append(CoverageFigures(figures.serving, figures.protected, targets.for_code(code), code, name))
    return rows


def rank_among(rows: list[CoverageFigures], code: str) -> int | None:
    """Competition rank (1 = best coverage) of `code` among `rows`; None when it has no figure."""
    mine = next((row.coverage_pct for row in rows if row.code == code), None)
    if mine is None:
        return None
    return 1 + sum(1 for row in rows if row.coverage_pct is not None and row.coverage_pct > mine)


def _funding_breakdown(region: Region, as_of: datetime.date) -> dict[str, int]:
    if as_of >= today():
        # Counted as the counters count: serving, term started.
        workers = ApparatusWorker.objects.filter(
            serving=True, term_started=True, enrollment_status=EnrollmentStatus.ACTIVE
        )
        rows = workers.filter(**region.scope).values_list("enrollment__funding_source").annotate(n=Count("pk"))
    else:
        periods = _states_on(as_of).filter(_protected_on(as_of), **region.scope)
        rows = periods.values_list("funding_source").annotate(n=Count("id"))
    return {source or "unknown": n for source, n in rows.order_by()}


def rates_on(as_of: datetime.date) -> dict[tuple[str, str], PremiumRate]:
    """The premium rate of each (scheme, program) valid on `as_of`."""
    rates = PremiumRate.objects.filter(valid_from__lte=as_of).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=as_of))
    return {(rate.scheme, rate.program): rate for rate in rates.order_by("valid_from")}


def premium_estimate(region: Region, *, as_of: datetime.date) -> dict[str, Any]:
    """Estimated monthly premium to protect the region's unprotected workers with JKK and JKM.

    Workers paid a siltap (fixed income) with a known wage count as wage earners (PU: a percent
    of the wage); the others as non-wage earners (BPU: a fixed amount a month).
    """
    if as_of >= today():
        workers = (
            ApparatusWorker.objects.filter(serving=True, term_started=True, **region.scope)
            .exclude(enrollment_status=EnrollmentStatus.ACTIVE)
            .values_list("wage_basis", "monthly_wage")
        )
        pu = Q(wage_basis=WageBasis.SILTAP, monthly_wage__isnull=False)
        totals = workers.aggregate(n=Count("pk"), pu_n=Count("pk", filter=pu), pu_wages=Sum("monthly_wage", filter=pu))
    else:
        periods = _states_on(as_of).exclude(_protected_on(as_of)).filter(**region.scope)
        pu = Q(worker__wage_basis=WageBasis.SILTAP, worker__monthly_wage__isnull=False)
        totals = periods.aggregate(
            n=Count("id"), pu_n=Count("id", filter=pu), pu_wages=Sum("worker__monthly_wage", filter=pu)
        )
    rates = rates_on(as_of)
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
    figures = region_figures(region, as_of=as_of)
    detail = RegionDetail(region=region, as_of=as_of, figures=figures)
    by_institution = counts_by(as_of=as_of, scope=region.scope, key="institution")
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
    detail.by_funding_source = [
        {"funding_source": source, "protected": n} for source, n in sorted(_funding_breakdown(region, as_of).items())
    ]
    parent = region_get(parent_code(code)) if region.level != RegionLevel.PROVINCE else None
    siblings = coverage_rows(level=region.level, parent=parent, as_of=as_of, scope=scope)
    detail.rank = rank_among(siblings, code)
    detail.siblings = sum(1 for row in siblings if row.coverage_pct is not None)
    if compare is not None:
        if compare > as_of:
            raise ServiceError(_("compare must be on or before as_of."), field="compare", code="compare_after_as_of")
        earlier = region_figures(region, as_of=compare)
        detail.compare_date = compare
        detail.compare_coverage_pct = earlier.coverage_pct
        detail.change_pct_points = change_points(figures.protected, figures.serving, earlier.protected, earlier.serving)
    detail.premium = premium_estimate(region, as_of=as_of)
    return detail


def period_start(date: datetime.date, interval: str) -> datetime.date:
    if interval == Interval.MONTH:
        return date.replace(day=1)
    if interval == Interval.WEEK:
        return date - datetime.timedelta(days=date.weekday())
    return date


def trend(
    *, code: str, start: datetime.date, end: datetime.date, interval: str, scope: Scope | None = None
) -> list[dict[str, Any]]:
    """The region's stored snapshots from `start` to `end`, the last one of each period."""
    region_get(code, scope=scope)
    if start > end:
        raise ServiceError(_("start must be on or before end."), field="start", code="start_after_end")
    periods = len({period_start(start + datetime.timedelta(days=d), interval) for d in range((end - start).days + 1)})
    if periods > MAX_POINTS[interval]:
        raise ServiceError(
            _("The range has %(n)d %(interval)s periods; at most %(max)d are allowed.")
            % {"n": periods, "interval": interval, "max": MAX_POINTS[interval]},
            field="end",
            code="range_too_long",
        )
    snapshots = CoverageSnapshot.objects.filter(region_code=code, date__range=(start, end)).order_by("date")
    last_of_period: dict[datetime.date, CoverageSnapshot] = {}
    for snapshot in snapshots:
        last_of_period[period_start(snapshot.date, interval)] = snapshot
    return [
        {
            "period": period,
            "date": s.date,
            "serving": s.serving,
            "protected": s.protected,
            "unprotected": s.serving - s.protected,
            "coverage_pct": coverage_pct(s.protected, s.serving),
        }
        for period, s in sorted(last_of_period.items())
    ]


def unprotected_villages(*, regency_ids: list[int] | None = None, scope: Scope | None = None) -> QuerySet:
    """Villages with unprotected workers today, most unprotected first, with their regions."""
    rows = VillageCoverage.objects.all() if scope is None else scope.filter(VillageCoverage.objects.all())
    if regency_ids is not None:
        rows = rows.filter(regency_id__in=regency_ids)
    return (
        rows.values(
            "village__code",
            "village__name",
            "district__code",
            "district__name",
            "regency__code",
            "regency__name",
            "province__code",
        )
        .annotate(serving_sum=Sum("serving"), protected_sum=Sum("protected"))
        .annotate(unprotected=F("serving_sum") - F("protected_sum"))
        .filter(unprotected__gt=0)
        .order_by("-unprotected", "village__code")
    )


def branch_regency_ids(code: str, *, scope: Scope | None = None) -> list[int]:
    """The regencies a branch serves (those the caller covers); 404 when it covers none."""
    branch = BranchOffice.objects.filter(code=code).first()
    regencies = branch.regencies.all() if branch else Regency.objects.none()
    if scope is not None:
        regencies = scope.filter(regencies, regency="pk")
    ids = list(regencies.values_list("pk", flat=True))
    if not ids:
        raise NotFoundError(_("No branch office has the code %(code)s.") % {"code": code}, field="branch")
    return ids


def snapshot_rows(as_of: datetime.date) -> list[CoverageSnapshot]:
    """Snapshot rows of every region with serving workers on `as_of`, at all four levels."""
    rows = _aggregate(as_of=as_of, scope={}, group=["province_id", "regency_id", "district_id", "village_id"])
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
                "rank": 1 + sum(1 for p in peers if pct is not None and p > pct) if pct is not None else None,
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
