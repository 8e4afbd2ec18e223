"""The capability a page needs, checked as the API checks it (access.context's scope)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from access.choices import Capability
from access.context import scope_for

View = Callable[..., HttpResponseBase]


def capability_required(capability: str) -> Callable[[View], View]:
    """403 unless the caller's scope holds `capability` (a region outside it is a 404 later)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not scope_for(request.user).can(capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def export_required(request: HttpRequest) -> None:
    """A page's spreadsheet is an export, as the API's files are: 403 without `export`."""
    if not scope_for(request.user).can(Capability.EXPORT):
        raise PermissionDenied
