"""Region outlines for maps: each boundary simplified once per level of detail, and the level of
detail a map of a given extent needs.

A map of Indonesia's provinces spans some 46 degrees; a map of a district's villages a few
hundredths of one. Drawn some 800 pixels wide, a point closer than extent / 800 to the line of
its neighbours is invisible, so each outline is kept at a few tolerances (`TOLERANCES`, a
factor 4 apart) and a map takes the coarsest that is still finer than a pixel. Islands smaller
than a few pixels are dropped, a region's largest part is always kept.

Simplification is shapely's (GEOS): `make_valid`, then `simplify` preserving topology, then
snap-rounding to a grid of a quarter of the tolerance, so that coordinates carry no digits a
map cannot show. Outlines are kept as GeoJSON text (RFC 7946: longitude, latitude; exterior
rings counter-clockwise), served as they are, and as SVG path data in whole units of the detail's
grid (x = longitude, y = -latitude, relative steps: a few characters a point), which a map
scales with its viewBox.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .choices import RegionLevel

# Degrees; detail 0 is the coarsest.
TOLERANCES: tuple[float, ...] = (0.04, 0.01, 0.0025, 0.000625, 0.00016)
# Decimals kept at each detail: a grid of about a quarter of its tolerance.
DECIMALS: tuple[int, ...] = (2, 3, 4, 4, 5)
# The details kept for each level: those its maps can ask for (a village is never drawn on a
# map of a whole country; a province never needs a district's precision).
DETAILS: Mapping[str, tuple[int, ...]] = {
    RegionLevel.PROVINCE: (0, 1, 2),
    RegionLevel.REGENCY: (0, 1, 2, 3),
    RegionLevel.DISTRICT: (1, 2, 3),
    RegionLevel.VILLAGE: (2, 3, 4),
}
MAP_PIXELS = 800  # the width a map is simplified for


@dataclass(frozen=True)
class Outline:
    """One region's outline at one level of detail."""

    detail: int
    geometry: str  # GeoJSON geometry (a MultiPolygon), as text
    path: str  # SVG path data, degrees, y = -latitude
    points: int
    bbox: tuple[float, float, float, float]  # west, south, east, north


def detail_for(level: str, extent: float) -> int:
    """The detail a map of regions of `level`, spanning `extent` degrees (its larger side),
    needs: the coarsest whose tolerance is below a pixel, within those kept for the level."""
    wanted = extent / MAP_PIXELS if extent > 0 else TOLERANCES[-1]
    fine_enough = [d for d, tolerance in enumerate(TOLERANCES) if tolerance <= wanted]
    detail = fine_enough[0] if fine_enough else len(TOLERANCES) - 1
    kept = DETAILS[level]
    return min(max(detail, kept[0]), kept[-1])


def _polygons(geometry: Any) -> list[Any]:
    kind = geometry.geom_type
    if kind == "Polygon":
        return [] if geometry.is_empty else [geometry]
    if kind in ("MultiPolygon", "GeometryCollection"):
        return [polygon for part in geometry.geoms for polygon in _polygons(part)]
    return []  # lines and points left by make_valid: nothing to fill


def parse(geometry: Mapping[str, Any]) -> Any:
    """A valid shapely (Multi)Polygon from a GeoJSON geometry; ValueError if it holds no area."""
    import shapely
    from shapely.geometry import shape

    try:
        shaped = shape(dict(geometry))
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"not a GeoJSON geometry ({exc})") from exc
    if shaped.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"a {shaped.geom_type}, not a Polygon or MultiPolygon")
    polygons = _polygons(shapely.make_valid(shaped))
    if not polygons:
        raise ValueError("no area")
    return shapely.MultiPolygon(polygons)


def outlines(shape: Any, level: str) -> Iterator[Outline]:
    """`shape` (from `parse`) at each detail kept for `level`."""
    import shapely

    parts = list(shape.geoms)
    largest = max(parts, key=lambda part: part.area)
    west, south, east, north = (round(value, 5) for value in shape.bounds)
    for detail in DETAILS[level]:
        tolerance = TOLERANCES[detail]
        kept = [part for part in parts if part is largest or part.area >= (2 * tolerance) ** 2]
        simplified = shapely.simplify(shapely.MultiPolygon(kept), tolerance, preserve_topology=True)
        rounded = shapely.set_precision(simplified, 10.0 ** -DECIMALS[detail])
        polygons = _polygons(rounded)
        on_grid = bool(polygons)
        if not on_grid:  # smaller than the grid: its simplified form, rounded point by point
            polygons = _polygons(simplified)
        multi = shapely.orient_polygons(shapely.MultiPolygon(polygons))
        text = shapely.to_geojson(multi)
        if not on_grid:
            text = json.dumps(_rounded(json.loads(text), DECIMALS[detail]), separators=(",", ":"))
        coordinates = json.loads(text)["coordinates"]
        yield Outline(
            detail=detail,
            geometry=text,
            path=svg_path(coordinates, DECIMALS[detail]),
            points=int(shapely.get_num_coordinates(multi)),
            bbox=(west, south, east, north),
        )


def _rounded(geometry: dict[str, Any], decimals: int) -> dict[str, Any]:
    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        return round(value, decimals) if isinstance(value, float) else value

    return {**geometry, "coordinates": walk(geometry["coordinates"])}


def svg_path(coordinates: list[Any], decimals: int) -> str:
    """SVG path data of MultiPolygon coordinates in whole units of 10^-`decimals` degrees
    (x = longitude, y = -latitude): each ring its first point, then relative steps, which are
    small integers (a map's viewBox is in the same units, `unit`). Each ring is closed with z;
    holes are cut out, being oppositely wound."""
    scale = unit(decimals)
    rings = []
    for polygon in coordinates:
        for ring in polygon:
            points: list[tuple[int, int]] = []
            for x, y in ring:
                point = (round(x * scale), round(-y * scale))
                if not points or point != points[-1]:
                    points.append(point)
            if len(points) > 1 and points[0] == points[-1]:
                points.pop()
            if len(points) < 3:
                continue
            steps = " ".join(f"{x - px} {y - py}" for (px, py), (x, y) in zip(points, points[1:], strict=False))
            rings.append(f"M{points[0][0]} {points[0][1]}l{steps}z")
    return "".join(rings)


def unit(decimals: int) -> int:
    """How many units of an SVG path (`svg_path`) make a degree."""
    return int(10**decimals)


def extent(bbox: tuple[float, float, float, float]) -> float:
    """The larger side of a bounding box, in degrees, longitude shrunk by the latitude's cosine
    (as a map draws it)."""
    west, south, east, north = bbox
    middle = math.radians((south + north) / 2)
    return max((east - west) * math.cos(middle), north - south)
