"""What the portal's pages share: reading a date from a query, naming the caller's regions,
keeping the rendered figures."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponsePermanentRedirect
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.translation import gettext as _

from access.context import scope_for
from access.scope import Scope
from core.codes import region_code
from coverage.caching import keeping, page_about, shown_key
from villages.choices import RegionLevel
from villages.services import level_for_code


def date_param(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def scope_label(user: Any) -> str:
    """Whose figures these are, as a title names them: the branch office, the regency or the
    province of the caller's account; every province for an administrator."""
    profile = getattr(user, "access_profile", None)
    if profile is not None:
        for region in (profile.branch, profile.regency, profile.province):
            if region is not None:
                return str(region.name)
    return _("All provinces")


def figures_cached(request: HttpRequest, scope: Scope) -> dict[str, Any]:
    """What a page's template needs to keep the part that shows figures as rendered
    (`{% cache figures_seconds "figures" figures_key using="coverage" %}`): rendering a table of
    hundreds of regions costs more than computing it. Kept as long as the API's answers are
    (`UCJ_COVERAGE_CACHE_SECONDS`; 0 keeps nothing), under the data version."""
    return {
        "figures_key": shown_key(request.path, sorted(request.GET.lists()), scope=scope),
        "figures_seconds": settings.CACHES["coverage"].get("TIMEOUT", 300),
    }


def page_region(code: object, scope: Scope) -> str | None:
    """The region a page of figures is about, whose province's version its figures are kept
    under (coverage.caching.page_about): the region of its address below a province (a region's
    page ranks it among its siblings, all in its province); without one, the caller's regencies
    when they are all in one province (its home page shows them). None, the country's version:
    a province's page (it ranks the province among all), or a caller of several provinces."""
    if isinstance(code, str):
        return code if level_for_code(code) not in (None, RegionLevel.PROVINCE) else None
    if scope.everything or scope.province_codes or not scope.regency_codes:
        return None
    provinces = {regency[:2] for regency in scope.regency_codes}
    return min(scope.regency_codes) if len(provinces) == 1 else None


# A kept page holds this where each request's own CSRF token goes.
TOKEN_HOLE = "\x00csrf\x00"
_TOKENS = re.compile(r'(?<=name="csrfmiddlewaretoken" value=")[^"]+|(?<="X-CSRFToken": ")[^"]+')


def page_kept(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A page of figures kept whole as rendered for its caller, under the same data version,
    day, path, query, regions, capabilities and language as its figures (`shown_key`), and the
    caller itself (its name is on the page): asked again, it costs the checks that ran before
    it (login, capability, rate) and a cache lookup. Each answer gets its own CSRF token. Not
    kept: a page showing messages, an htmx request, anything but a 200 HTML answer."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        scope = scope_for(request.user)
        with page_about(page_region(kwargs.get("code"), scope)):
            return _answered(request, scope, *args, **kwargs)

    def _answered(request: HttpRequest, scope: Scope, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method != "GET" or getattr(request, "htmx", False) or len(get_messages(request)) or not keeping():
            return view(request, *args, **kwargs)
        key = "page:" + shown_key(request.path, sorted(request.GET.lists()), request.user.pk, scope=scope)
        cache = caches["coverage"]
        kept = cache.get(key)
        if kept is not None:
            return HttpResponse(kept.replace(TOKEN_HOLE, get_token(request)))
        response = view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and isinstance(response, HttpResponse)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            cache.set(key, _TOKENS.sub(TOKEN_HOLE, response.content.decode()))
        return response

    return wrapped


def codes_dotted(*names: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """A page whose address names regions by code (`/cakupan/1508/`, `?kabupaten=1508`): one
    written as other systems write it is sent on (301) to the same page with the dotted code
    (core.codes), so a page has one address, one set of links and one kept copy. `names` are the
    query parameters that take a code; a path's code comes from the `<region:...>` converter, which
    has dotted it already. A value that is no code is left for the page to answer."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method in ("GET", "HEAD"):
                dotted = _dotted_address(request, names)
                if dotted is not None:
                    return HttpResponsePermanentRedirect(dotted)
            return view(request, *args, **kwargs)

        return page

    return decorate


def _dotted_address(request: HttpRequest, names: tuple[str, ...]) -> str | None:
    """The request's address with its region codes dotted, or None when they already are."""
    path = request.path
    match = request.resolver_match
    if match is not None and match.kwargs:
        path = reverse(match.view_name, args=match.args, kwargs=match.kwargs)
    query = request.GET.copy()
    for name in names:
        if name in query:
            query.setlist(name, [region_code(value) or value for value in query.getlist(name)])
    if path == request.path and query == request.GET:
        return None
    return f"{path}?{query.urlencode()}" if query else path
