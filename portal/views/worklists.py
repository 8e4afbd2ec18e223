"""Worklists: what a branch or an office has to act on, each with its count and filters."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from access.choices import Capability
from access.context import scope_for
from core.clock import today
from coverage.selectors.unprotected import unprotected_villages
from villages.models import Regency

from ..language import in_portal_language
from ..permissions import capability_required

PAGE_SIZE = 50


@login_required
@in_portal_language
@capability_required(Capability.READ_COVERAGE)
def unprotected(request: HttpRequest) -> HttpResponse:
    """The villages with unprotected workers today, most unprotected first: the caller's (a
    branch's territory), or one of its regencies; a page of 50 at a time, with the count."""
    scope = scope_for(request.user)
    regencies = list(scope.filter(Regency.objects.all(), regency="pk").order_by("code").values_list("code", "name"))
    regency = request.GET.get("kabupaten") or None
    if regency not in {code for code, _name in regencies}:
        regency = None
    rows = unprotected_villages(scope=scope, regency=regency)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("halaman"))
    context = {
        "page": page,
        "count": page.paginator.count,
        "regencies": regencies,
        "regency": regency,
        "today": today(),
    }
    return render(request, "portal/unprotected.html", context)
