"""Content negotiation: `?format=` naming a format the address does not produce is a 400 naming
the formats it does (DRF answers 404, as if the address did not exist)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer

if TYPE_CHECKING:
    from rest_framework.request import Request


# What was chosen for a list of renderer classes, a format and an Accept header: the renderer's
# place in the list and the media type. Nearly every request asks as the last one with the same
# view did; the Accept header is the client's to choose, so the entries are bounded.
_chosen: dict[tuple[object, ...], tuple[int, str]] = {}
CHOSEN_ENTRIES = 1_000


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        key = (
            tuple(type(renderer) for renderer in renderers),
            format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE or ""),
            request.META.get("HTTP_ACCEPT", "*/*"),
        )
        chosen = _chosen.get(key)
        if chosen is not None:  # DRF's choice depends on nothing else
            return renderers[chosen[0]], chosen[1]
        try:
            selected: tuple[BaseRenderer, str] = super().select_renderer(request, renderers, format_suffix)
        except Http404:
            view = (getattr(request, "parser_context", None) or {}).get("view")
            method = (request.method or "").lower()
            if view is not None and not (method in view.http_method_names and hasattr(view, method)):
                return renderers[0], renderers[0].media_type  # a method the view lacks: its 405 comes next
            formats = [r.format for r in renderers if not isinstance(r, BrowsableAPIRenderer)]
            param = self.settings.URL_FORMAT_OVERRIDE
            message = _("This address answers in: %(formats)s.") % {"formats": ", ".join(formats)}
            raise ValidationError({param: [message]}) from None
        if len(_chosen) >= CHOSEN_ENTRIES:
            _chosen.clear()
        _chosen[key] = (renderers.index(selected[0]), selected[1])
        return selected
