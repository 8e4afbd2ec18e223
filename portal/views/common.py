"""What the portal's pages share: reading a date from a query, naming the caller's regions,
keeping the rendered figures."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from access.scope import Scope
from coverage.caching import shown_key


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
