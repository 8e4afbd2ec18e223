"""Read querysets of the region hierarchy, with the joins each representation needs."""

from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Max, Min, Prefetch, QuerySet
from django.utils.translation import gettext as _

from core.codes import region_code
from core.errors import NotFoundError

from . import geometry
from .models import IN_FORCE, Boundary, BranchOffice, District, Province, Regency, Village
from .services import MODEL_BY_LEVEL, level_for_code

RegionT = TypeVar("RegionT", Province, Regency, District, Village)


def province_list() -> QuerySet[Province]:
    """All provinces by code."""
    return Province.objects.all()


def regency_list() -> QuerySet[Regency]:
    """Regencies with their province (its code is shown)."""
    return Regency.objects.select_related("province")


def district_list() -> QuerySet[District]:
    """Districts with their regency and province (their codes are shown)."""
    return District.objects.select_related("regency", "province")


def village_list() -> QuerySet[Village]:
    """Villages with district, regency and province (their codes are shown)."""
    return Village.objects.select_related("district", "regency", "province")


def regions_listed(regions: QuerySet[RegionT], *, action: str | None) -> QuerySet[RegionT]:
    """The regions an API action shows: a list only those in force (a region a decree retired,
    villages.region_changes, is gone from today's lists), one region by its code any of them (past
    figures still name a retired code)."""
    return regions if action == "retrieve" else regions.filter(IN_FORCE)


def branch_office_list() -> QuerySet[BranchOffice]:
    """Branch offices with the regencies they serve, fetched in one extra query."""
    return BranchOffice.objects.prefetch_related(Prefetch("regencies", queryset=Regency.objects.order_by("code")))


def region_by_code(code: str, *, field: str = "code") -> tuple[str, int]:
    """The level and id of the region with this code (either spelling: `1508` is `15.08`,
    core.codes) at any level, or a 404 naming the code."""
    code = region_code(code) or code
    level = level_for_code(code)
    pk = MODEL_BY_LEVEL[level].objects.filter(code=code).values_list("pk", flat=True).first() if level else None
    if level is None or pk is None:
        raise NotFoundError(_("No region has the code %(code)s.") % {"code": code}, field=field)
    return level, pk


@dataclass(frozen=True)
class Outlines:
    """The outlines of some regions of one level, at the detail a map of them all needs."""

    detail: int | None  # None: none of them has a boundary
    shapes: dict[str, str]  # code -> GeoJSON geometry text, or SVG path data (`outlines_of`)
    bbox: tuple[float, float, float, float] | None  # west, south, east, north of them all


def outlines_of(codes: list[str], level: str, *, form: str = "geometry") -> Outlines:
    """The outlines of the regions `codes` (of `level`) that have one, as `form` ("geometry":
    GeoJSON text; "path": SVG path data), simplified for a map of them all (villages.geometry)."""
    if not codes:
        return Outlines(None, {}, None)
    coarsest = geometry.DETAILS[level][0]
    bounds = Boundary.objects.filter(code__in=codes, detail=coarsest).aggregate(
        west=Min("west"), south=Min("south"), east=Max("east"), north=Max("north")
    )
    if bounds["west"] is None:
        return Outlines(None, {}, None)
    bbox = (bounds["west"], bounds["south"], bounds["east"], bounds["north"])
    detail = geometry.detail_for(level, geometry.extent(bbox))
    shapes = dict(Boundary.objects.filter(code__in=codes, detail=detail).values_list("code", form))
    return Outlines(detail, shapes, bbox)
