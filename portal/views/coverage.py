"""Coverage, drill-down: a region's figures, the regions one level down, its trend."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from access.choices import Capability
from access.context import scope_for
from core.clock import today
from core.errors import ServiceError
from coverage.caching import remembered
from coverage.selectors.detail import region_detail
from coverage.selectors.regions import LEVELS
from coverage.selectors.rows import coverage_rows_listed
from coverage.selectors.trend import trend
from enrollment.choices import Institution

from ..language import in_portal_language
from ..permissions import capability_required
from .common import date_param, figures_cached

SORTS = ("name", "serving", "protected", "unprotected", "coverage_pct", "gap_to_target")
TREND_MONTHS = 24


def _child_level(level: str) -> str | None:
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


@login_required
@in_portal_language
@capability_required(Capability.READ_COVERAGE)
def coverage(request: HttpRequest, code: str) -> HttpResponse:
    """A region (in the caller's scope, else 404): its figures, the regions one level down
    (sortable, filtered by institution, on any date) with a bar against the target, and its
    monthly trend. Every region's name leads one level further down."""
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
        trend, code=region.code, start=_months_before(today(), TREND_MONTHS), end=today(), interval="month", scope=scope
    )
    parent = region.code.rsplit(".", 1)[0] if "." in region.code else None
    context = {
        **figures_cached(request, scope),
        "detail": detail,
        "figures": detail.figures,
        "rows": rows,
        "child_level": level,
        "as_of": as_of,
        "today": today(),
        "institution": institution,
        "institutions": Institution.choices,
        "sort": sort,
        "headers": _headers(sort, as_of, institution),
        "parent": parent if parent and scope.contains_code(parent) else None,
        "chart": trend_chart(points),
        # The workers behind today's numbers (the worker list has no past dates).
        "workers_url": reverse("portal:workers") if scope.can(Capability.READ_WORKERS) and as_of == today() else None,
    }
    return render(request, "portal/coverage.html", context)


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


def trend_chart(points: list[dict[str, Any]], width: int = 640, height: int = 160) -> dict[str, Any] | None:
    """The monthly coverage as an SVG polyline (drawn by the server: nothing fetched, prints well)."""
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
    }
