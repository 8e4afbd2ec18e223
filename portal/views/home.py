"""The home page: the caller's regions today."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from access.context import scope_for
from core.clock import today
from core.errors import ServiceError
from core.routing import replica_reads
from coverage.caching import remembered
from coverage.selectors.detail import RegionDetail, region_detail
from coverage.selectors.rows import CoverageFigures, coverage_rows_listed

from ..language import in_portal_language
from .common import date_param, figures_cached, page_kept


@login_required
@in_portal_language
@page_kept
@replica_reads()  # the figures may come from a replica (core.routing)
def home(request: HttpRequest) -> HttpResponse:
    """The caller's regions today: serving, protected, unprotected, coverage, this year's target
    and the gap to it, the change since a chosen date, the monthly premium to protect the rest."""
    scope = scope_for(request.user)
    as_of = today()
    since = date_param(request.GET.get("sejak"))
    error = None
    if request.GET.get("sejak") and (since is None or since >= as_of):
        error = _("Choose a date before today.")
        since = None
    details: list[RegionDetail] = []
    provinces: Sequence[CoverageFigures] = []
    if scope.everything:
        provinces = remembered(coverage_rows_listed, level="province", as_of=as_of, scope=scope, ordering="code")
    else:
        codes = sorted(scope.province_codes) + sorted(scope.regency_codes)
        for code in codes:
            try:
                details.append(remembered(region_detail, code=code, as_of=as_of, compare=since, scope=scope))
            except ServiceError:
                continue  # a region gone from the list
    context = {
        **figures_cached(request, scope),
        "as_of": as_of,
        "since": since,
        "error": error,
        "details": details,
        "provinces": provinces,
        "national": _national(provinces) if provinces else None,
        "scope_names": [detail.region.name for detail in details],
    }
    return render(request, "portal/home.html", context)


def _national(rows: Sequence[CoverageFigures]) -> CoverageFigures:
    return CoverageFigures(serving=sum(r.serving for r in rows), protected=sum(r.protected for r in rows))
