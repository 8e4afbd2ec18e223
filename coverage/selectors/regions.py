"""Regions as the coverage API addresses them: any level, by code, within the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from access.scope import Scope
from core.errors import NotFoundError
from villages.choices import RegionLevel
from villages.models import District, Province, Regency, Village
from villages.services import level_for_code

from .kept import structural

LEVELS: list[str] = [RegionLevel.PROVINCE, RegionLevel.REGENCY, RegionLevel.DISTRICT, RegionLevel.VILLAGE]
MODEL_BY_LEVEL: dict[str, type[Province | Regency | District | Village]] = {
    RegionLevel.PROVINCE: Province,
    RegionLevel.REGENCY: Regency,
    RegionLevel.DISTRICT: District,
    RegionLevel.VILLAGE: Village,
}
# The column of a counter row (or of a state period) naming the region of each level.
ID_FIELD: dict[str, str] = {
    RegionLevel.PROVINCE: "province_id",
    RegionLevel.REGENCY: "regency_id",
    RegionLevel.DISTRICT: "district_id",
    RegionLevel.VILLAGE: "village_id",
}


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
    def where(self) -> dict[str, Any]:
        """The filter on counter rows (or state periods) that selects this region."""
        return {ID_FIELD[self.level]: self.id}


def _region_read(code: str) -> Region | None:
    """The region with this code at any level, or None."""
    level = level_for_code(code)
    if level is None:
        return None
    columns = ["id", "name"]
    if level != RegionLevel.PROVINCE:
        columns += ["province_id"]
    if level in (RegionLevel.DISTRICT, RegionLevel.VILLAGE):
        columns += ["regency_id"]
    row = MODEL_BY_LEVEL[level].objects.filter(code=code).values(*columns).first()
    if row is None:
        return None
    province_id = row.get("province_id", row["id"])
    regency_id = row["id"] if level == RegionLevel.REGENCY else row.get("regency_id")
    return Region(level, row["id"], code, row["name"], province_id, regency_id)


def region_get(code: str, *, scope: Scope | None = None, field: str = "code") -> Region:
    """The region with this code at any level, or a 404 naming the code; with a scope, a region
    the caller does not cover is just as unknown. (Read once while the regions stay as they are:
    coverage.selectors.kept.)"""
    region = structural(_region_read, code)
    if region is not None and (
        scope is None or scope.contains(province_id=region.province_id, regency_id=region.regency_id)
    ):
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
