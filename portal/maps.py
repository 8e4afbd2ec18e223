"""Coverage maps drawn by the server: an SVG choropleth of regions from their stored outlines
(villages.selectors.outlines_of), each region a link with its name and figures, coloured by its
coverage or by its unprotected workers, with a legend, and the regions without an outline
named beside it. Nothing is fetched from elsewhere; it prints as it shows."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from villages import geometry
from villages.selectors import outlines_of

# Coverage (%), classes of 10 points (the last 80-100), light to dark green; no one serving: grey.
COVERAGE_COLOURS = ("#ffffe5", "#f7fcb9", "#d9f0a3", "#addd8e", "#78c679", "#41ab5d", "#238443", "#006837", "#004529")
COVERAGE_STEP = 10
# Unprotected workers, five classes up to the most of any region drawn, light to dark red.
UNPROTECTED_COLOURS = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
NO_DATA = "#d9d9d9"
MEASURES = ("coverage", "unprotected")


def coverage_colour(pct: Decimal | float | None) -> str:
    """The class colour of a coverage percentage: [0, 10), [10, 20), ... [80, 100]."""
    if pct is None:
        return NO_DATA
    return COVERAGE_COLOURS[min(int(float(pct) // COVERAGE_STEP), len(COVERAGE_COLOURS) - 1)]


def unprotected_classes(most: int) -> list[int]:
    """The upper bounds of the five classes of unprotected workers, for a map whose region with
    the most has `most` (rounded up to a readable step)."""
    step = max(1, math.ceil(most / len(UNPROTECTED_COLOURS)))
    magnitude = 10 ** max(0, len(str(step)) - 2)
    step = math.ceil(step / magnitude) * magnitude
    return [step * (i + 1) for i in range(len(UNPROTECTED_COLOURS))]


def unprotected_colour(count: int, bounds: Sequence[int]) -> str:
    for bound, colour in zip(bounds, UNPROTECTED_COLOURS, strict=True):
        if count <= bound:
            return colour
    return UNPROTECTED_COLOURS[-1]


def _figure(value: Any) -> str:
    return number_format(value, force_grouping=True) if value is not None else "—"


def choropleth(rows: Sequence[Any], level: str, *, measure: str, link: Callable[[str], str]) -> dict[str, Any] | None:
    """What `portal/map.html` draws for `rows` (coverage rows of regions of `level`): None when
    no region has an outline. `link(code)` is where a region leads."""
    if not rows:
        return None
    outlines = outlines_of([row.code for row in rows], level, form="path")
    if outlines.bbox is None:
        return None
    scale = geometry.unit(geometry.DECIMALS[outlines.detail or 0])  # the paths' units in a degree
    west, south, east, north = (value * scale for value in outlines.bbox)
    squeeze = math.cos(math.radians((south + north) / 2 / scale))  # a degree of longitude, in latitude's
    width, height = (east - west) * squeeze, north - south
    margin = max(width, height) * 0.01
    bounds = unprotected_classes(max((row.unprotected for row in rows), default=0))
    regions, without = [], []
    for row in rows:
        pct = row.coverage_pct
        if measure == "unprotected":
            fill = unprotected_colour(row.unprotected, bounds) if row.serving else NO_DATA
        else:
            fill = coverage_colour(pct if row.serving else None)
        label = _("%(name)s: %(pct)s%% covered, %(protected)s of %(serving)s protected, %(unprotected)s not") % {
            "name": row.name,
            "pct": number_format(pct, decimal_pos=2) if pct is not None else "—",
            "protected": _figure(row.protected),
            "serving": _figure(row.serving),
            "unprotected": _figure(row.unprotected),
        }
        entry = {"code": row.code, "name": row.name, "href": link(row.code), "fill": fill, "label": label, "row": row}
        path = outlines.shapes.get(row.code)
        if path is None:
            without.append(entry)
        else:
            regions.append({**entry, "path": path})
    if measure == "unprotected":
        lower = [0, *(b + 1 for b in bounds[:-1])]
        legend = [
            {"colour": colour, "label": f"{_figure(low)}–{_figure(high)}"}
            for colour, low, high in zip(UNPROTECTED_COLOURS, lower, bounds, strict=True)
        ]
    else:
        legend = [{"colour": colour, "label": f"{i * 20}–{(i + 1) * 20}%"} for i, colour in enumerate(COVERAGE_COLOURS)]
    legend.append({"colour": NO_DATA, "label": _("no one serving")})
    return {
        "view_box": f"{west * squeeze - margin:.1f} {-north - margin:.1f} {width + 2 * margin:.1f} "
        f"{height + 2 * margin:.1f}",
        "squeeze": f"{squeeze:.6f}",
        "aspect": f"{(width + 2 * margin) / (height + 2 * margin):.4f}",
        "regions": regions,
        "without": without,
        "legend": legend,
        "measure": measure,
        "title": _("Coverage (%)") if measure == "coverage" else _("Unprotected workers"),
    }
