"""The portal's pages: login, logout, the language switch and the home page.

Every figure comes from the same selectors as the API's (coverage.selectors), for the regions
of the caller's scope (access.context): a page computes nothing the API does not."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access.choices import Capability
from access.context import scope_for
from core.clock import today
from core.errors import ServiceError
from coverage.selectors.detail import RegionDetail, region_detail
from coverage.selectors.regions import LEVELS
from coverage.selectors.rows import CoverageFigures, coverage_rows_listed
from coverage.selectors.trend import trend
from coverage.selectors.unprotected import unprotected_villages
from enrollment.choices import Institution
from villages.models import Province, Regency

from .forms import LoginForm
from .language import CHOICES, in_portal_language, language_set
from .permissions import capability_required


@method_decorator(in_portal_language, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Sent here from a page while holding a session cookie that no longer logs in: the session ended.
        if request.GET.get("next") and settings.SESSION_COOKIE_NAME in request.COOKIES:
            messages.info(request, _("Your session has ended. Log in again to go on."))
        return super().get(request, *args, **kwargs)


@method_decorator(in_portal_language, name="dispatch")
class LogoutView(auth_views.LogoutView):
    template_name = "portal/logged_out.html"


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch the portal's language (remembered for the user), back to the page it was asked from."""
    language = request.POST.get("language", "")
    target = request.POST.get("next") or reverse("portal:home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("portal:home")
    response = HttpResponseRedirect(target)
    if language in CHOICES:
        language_set(request, response, language)
    return response


def _date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
@in_portal_language
def home(request: HttpRequest) -> HttpResponse:
    """The caller's regions today: serving, protected, unprotected, coverage, this year's target
    and the gap to it, the change since a chosen date, the monthly premium to protect the rest."""
    scope = scope_for(request.user)
    as_of = today()
    since = _date(request.GET.get("sejak"))
    error = None
    if request.GET.get("sejak") and (since is None or since >= as_of):
        error = _("Choose a date before today.")
        since = None
    details: list[RegionDetail] = []
    provinces: list[CoverageFigures] = []
    if scope.everything:
        provinces = coverage_rows_listed(level="province", as_of=as_of, scope=scope, ordering="code")
    else:
        codes = sorted(scope.province_codes) + sorted(scope.regency_codes)
        for code in codes:
            try:
                details.append(region_detail(code=code, as_of=as_of, compare=since, scope=scope))
            except ServiceError:
                continue  # a region gone from the list
    context = {
        "as_of": as_of,
        "since": since,
        "error": error,
        "details": details,
        "provinces": provinces,
        "national": _national(provinces) if provinces else None,
        "scope_names": _scope_names(scope.province_ids, scope.regency_ids),
    }
    return render(request, "portal/home.html", context)


def _national(rows: list[CoverageFigures]) -> CoverageFigures:
    return CoverageFigures(serving=sum(r.serving for r in rows), protected=sum(r.protected for r in rows))


def _scope_names(province_ids: frozenset[int], regency_ids: frozenset[int]) -> list[str]:
    names = list(Province.objects.filter(pk__in=province_ids).order_by("code").values_list("name", flat=True))
    names += Regency.objects.filter(pk__in=regency_ids).order_by("code").values_list("name", flat=True)
    return names


# --- coverage, drill-down ------------------------------------------------------------------------

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
    as_of = _date(request.GET.get("tanggal")) or today()
    if as_of > today():
        as_of = today()
    institution = request.GET.get("lembaga") or None
    if institution not in Institution.values:
        institution = None
    sort = request.GET.get("urut", "name")
    if sort.removeprefix("-") not in SORTS:
        sort = "name"
    try:
        detail = region_detail(code=code, as_of=as_of, scope=scope)
    except ServiceError as exc:
        if exc.status_code == 404:
            raise Http404(str(exc)) from exc
        raise
    region = detail.region
    level = _child_level(region.level)
    rows = (
        coverage_rows_listed(
            level=level, as_of=as_of, scope=scope, parent=region.code, institution=institution, ordering=sort
        )
        if level is not None
        else []
    )
    points = trend(
        code=region.code, start=_months_before(today(), TREND_MONTHS), end=today(), interval="month", scope=scope
    )
    parent = region.code.rsplit(".", 1)[0] if "." in region.code else None
    context = {
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


# --- worklists -----------------------------------------------------------------------------------

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
