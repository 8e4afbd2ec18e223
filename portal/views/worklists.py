"""Worklists: what a branch or an office has to act on, each with its count and filters."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from access.choices import Capability
from access.context import scope_for
from access.services import access_log_export
from core.clock import today
from coverage.figures import coverage_pct
from coverage.selectors.unprotected import UnprotectedVillageRow, unprotected_villages
from villages.models import Regency

from ..language import in_portal_language
from ..permissions import capability_required, export_required
from ..reports import Column, Report, title_details, xlsx_response
from .common import scope_label

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
    if request.GET.get("unduh") == "xlsx":
        return _unprotected_report(request, rows, regency=dict(regencies).get(regency) if regency else None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("halaman"))
    context = {
        "page": page,
        "count": page.paginator.count,
        "regencies": regencies,
        "regency": regency,
        "today": today(),
        "may_export": scope.can(Capability.EXPORT),
    }
    return render(request, "portal/unprotected.html", context)


def _unprotected_report(
    request: HttpRequest, rows: Iterable[UnprotectedVillageRow], regency: str | None
) -> HttpResponse:
    """The worklist as a spreadsheet for people: every village of the list (not a page of it)."""
    export_required(request)
    region = scope_label(request.user) + (f" — {regency}" if regency else "")
    report = Report(
        title=_("Villages with unprotected workers — %(region)s, %(date)s")
        % {"region": region, "date": date_format(today(), "j F Y")},
        details=title_details(region=region, as_of=today(), user=request.user, generated=localtime()),
        columns=[
            Column(_("Village code"), width=15),
            Column(_("Village")),
            Column(_("District")),
            Column(_("Regency/city")),
            Column(_("Serving"), "integer"),
            Column(_("Protected"), "integer"),
            Column(_("Unprotected"), "integer"),
            Column(_("Coverage"), "percent"),
        ],
        sheet=_("Unprotected villages"),
    )
    listed = [
        (
            row["village__code"],
            row["village__name"],
            row["district__name"],
            row["regency__name"],
            row["serving_sum"],
            row["protected_sum"],
            row["unprotected"],
            coverage_pct(row["protected_sum"], row["serving_sum"]),
        )
        for row in rows
    ]
    access_log_export(request=request, rows=len(listed))
    return xlsx_response(report.workbook(listed), f"desa-belum-terlindungi-{today().isoformat()}.xlsx")
