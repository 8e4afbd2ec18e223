"""What every portal template may ask of the caller."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from access.context import scope_for


def capabilities(request: HttpRequest) -> dict[str, object]:
    """`portal_capabilities`: the caller's capabilities (access.choices.Capability values), so a
    template shows a link only to those who may follow it. Computed only if a template asks."""
    return {"portal_capabilities": SimpleLazyObject(lambda: scope_for(request.user).capabilities)}
