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
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access.context import scope_for
from core.clock import today
from core.errors import ServiceError
from coverage.selectors.detail import RegionDetail, region_detail
from coverage.selectors.rows import CoverageFigures, coverage_rows_listed
from villages.models import Province, Regency

from .forms import LoginForm
from .language import CHOICES, in_portal_language, language_set


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
