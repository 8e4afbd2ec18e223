"""Coverage, drill-down: a region's figures, the regions one level down, its trend."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from access.choices import Capability
from access.context import scope_for
from access.services import access_log_export
from core.clock import today
from core.errors import ServiceError
from core.routing import replica_reads
from coverage.caching import remembered
from coverage.selectors.detail import region_detail
from coverage.selectors.regions import LEVELS
from coverage.selectors.rows import CoverageFigures, coverage_rows_listed
from coverage.selectors.trend import trend
from enrollment.choices import Institution

from ..language import in_portal_language
from ..maps import choropleth
from ..permissions import capability_required, export_required
from ..reports import Column, Report, title_details, xlsx_response
from .common import codes_dotted, date_param, figures_cached, page_kept

# The level below a region, as a column of its table is headed.
LEVEL_LABELS = {
    "regency": _lazy("Regency/city"),
    "district": _lazy("District"),
    "village": _lazy("Village"),
}
# `?peta=`: what the map's colours show.
MAP_MEASURES = {"cakupan": "coverage", "belum": "unprotected"}
MAP_MEASURE_LABELS = {"coverage": _lazy("Coverage (%)"), "unprotected": _lazy("Unprotected workers")}
SORTS = ("name", "serving", "protected", "unprotected", "coverage_pct", "gap_to_target")
TREND_MONTHS = 24


def _child_level(level: str) -> str | None:
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


@login_required
@codes_dotted()
@in_portal_language
@capability_required(Capability.READ_COVERAGE)
@page_kept
@replica_reads()  # the figures may come from a replica (core.routing)
def coverage(request: HttpRequest, code: str) -> HttpResponse:
    """A region (in the caller's scope, else 404): its figures, the regions one level down
    (sortable, filtered by institution, on any date) with a bar against the target, and its
    monthly trend. Every region's name leads one level further down. `?unduh=xlsx`: the table
    as a spreadsheet for people (an export: the `export` capability, logged)."""
    context = _drill_down(request, code)
    if request.GET.get("unduh") == "xlsx":
        return _coverage_report(request, context)
    return render(request, "portal/coverage.html", context)


@login_required
@codes_dotted()
@in_portal_language
@capability_required(Capability.READ_COVERAGE)
@page_kept
@replica_reads()
def recap(request: HttpRequest, code: str) -> HttpResponse:
    """The region on one printed page, for a coordination meeting's screen: its figures, the
    target and the gap to it, the premium to protect the rest, the regions one level down with
    their bars, and the trend; the same figures (and the same query) as the coverage page."""
    return render(request, "portal/recap.html", {**_drill_down(request, code), "generated": localtime()})


def _drill_down(request: HttpRequest, code: str) -> dict[str, Any]:
    """What the coverage page and its recap show of the region coded `code`, for the date,
    institution and order the query asks (404 outside the caller's scope)."""
    scope = scope_for(request.user)
    as_of = date_param(request.GET.get("tanggal")) or today()
    if as_of > today():
        as_of = today()
    institution = request.GET.get("lembaga") or None
    if institution not in Institution.values:
        institution = None
    sort = request.GET.get("urut", "name")
    if sort.removeprefix("-") not in SORTS:
        sort = "name"
    try:
        detail = remembered(region_detail, code=code, as_of=as_of, scope=scope)
    except ServiceError as exc:
        if exc.status_code == 404:
            raise Http404(str(exc)) from exc
        raise
    region = detail.region
    level = _child_level(region.level)
    rows = (
        remembered(
            coverage_rows_listed,
            level=level,
            as_of=as_of,
            scope=scope,
            parent=region.code,
            institution=institution,
            ordering=sort,
        )
        if level is not None
        else []
    )
    points = remembered(
        trend, code=region.code, start=_months_before(as_of, TREND_MONTHS), end=as_of, interval="month", scope=scope
    )
    parent = region.code.rsplit(".", 1)[0] if "." in region.code else None
    query = {"tanggal": as_of.isoformat(), "urut": sort, **({"lembaga": institution} if institution else {})}
    measure = MAP_MEASURES.get(request.GET.get("peta", ""), "coverage")
    day = as_of.isoformat()
    drawn = (
        choropleth(
            rows, level, measure=measure, link=lambda code: f"{reverse('portal:coverage', args=[code])}?tanggal={day}"
        )
        if level is not None
        else None
    )
    return {
        **figures_cached(request, scope),
        "detail": detail,
        "figures": detail.figures,
        "rows": rows,
        "child_level": level,
        "child_label": LEVEL_LABELS[level] if level else None,
        "as_of": as_of,
        "today": today(),
        "institution": institution,
        "institution_label": Institution(institution).label if institution else None,
        "institutions": Institution.choices,
        "sort": sort,
        "query": urlencode(query),
        "headers": _headers(sort, as_of, institution),
        "parent": parent if parent and scope.contains_code(parent) else None,
        # The workers behind today's numbers (the worker list has no past dates).
        "workers_url": reverse("portal:workers") if scope.can(Capability.READ_WORKERS) and as_of == today() else None,
        "chart": trend_chart(points, target=detail.figures.target_pct),
        "map": drawn,
        "map_switch": [(value, MAP_MEASURE_LABELS[m]) for value, m in MAP_MEASURES.items()],
        "map_query": urlencode(query),
        "may_export": scope.can(Capability.EXPORT),
    }


def _coverage_report(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    """The table of the regions one level down, as shown (date, institution, order), as a
    spreadsheet for people: a title naming the region and the date, real numbers and percents."""
    export_required(request)
    detail, as_of = context["detail"], context["as_of"]
    region = str(detail.region.name)
    details = title_details(region=region, as_of=as_of, user=request.user, generated=localtime())
    if context["institution_label"]:
        details.append((_("Institution"), str(context["institution_label"])))
    report = Report(
        title=_("Coverage of %(region)s by %(level)s, %(date)s")
        % {
            "region": region,
            "level": str(context["child_label"] or _("region")).lower(),
            "date": date_format(as_of, "j F Y"),
        },
        details=details,
        columns=[
            Column(_("Region code"), width=15),
            Column(str(context["child_label"] or _("Region"))),
            Column(_("Serving"), "integer"),
            Column(_("Protected"), "integer"),
            Column(_("Unprotected"), "integer"),
            Column(_("Coverage"), "percent"),
            Column(_("This year's target"), "percent"),
            Column(_("Gap to target"), "integer"),
        ],
        sheet=_("Coverage"),
    )
    rows: list[CoverageFigures] = context["rows"]
    listed = [
        (row.code, row.name, row.serving, row.protected, row.unprotected, row.coverage_pct, row.target_pct,
         row.gap_to_target)
        for row in rows
    ]  # fmt: skip
    access_log_export(request=request, rows=len(listed))
    filename = f"cakupan-{detail.region.code}-{as_of.isoformat()}.xlsx"
    return xlsx_response(report.workbook(listed), filename)


def _headers(sort: str, as_of: datetime.date, institution: str | None) -> list[dict[str, str]]:
    """The table's column headers, each a link that sorts by it (again: the other way)."""
    labels = {
        "name": _("Region"),
        "serving": _("Serving"),
        "protected": _("Protected"),
        "unprotected": _("Unprotected"),
        "coverage_pct": _("Coverage"),
        "gap_to_target": _("Gap to target"),
    }
    headers = []
    for key in SORTS:
        descending = key != "name"  # figures: the largest first
        order = key if (sort == f"-{key}") or (sort != key and not descending) else f"-{key}"
        query = urlencode(
            {"urut": order, "tanggal": as_of.isoformat(), **({"lembaga": institution} if institution else {})}
        )
        marker = " ▲" if sort == key else " ▼" if sort == f"-{key}" else ""
        headers.append({"key": key, "label": f"{labels[key]}{marker}", "href": f"?{query}"})
    return headers


def _months_before(day: datetime.date, months: int) -> datetime.date:
    month = day.year * 12 + day.month - 1 - months
    return datetime.date(month // 12, month % 12 + 1, 1)


def trend_chart(
    points: list[dict[str, Any]], width: int = 640, height: int = 160, target: Decimal | None = None
) -> dict[str, Any] | None:
    """The monthly coverage as an SVG polyline (drawn by the server: nothing fetched, prints well);
    with a `target` (a percentage), the height of its line too."""
    values = [float(p["coverage_pct"]) for p in points if p["coverage_pct"] is not None]
    if len(values) < 2:
        return None
    top = max(100.0, max(values))
    step = width / (len(values) - 1)
    coordinates = " ".join(f"{i * step:.1f},{height - v / top * height:.1f}" for i, v in enumerate(values))
    dated = [p for p in points if p["coverage_pct"] is not None]
    return {
        "width": width,
        "height": height,
        "points": coordinates,
        "first": dated[0],
        "last": dated[-1],
        "target_y": f"{height - float(target) / top * height:.1f}" if target is not None else None,
    }
