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


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
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
        return selected
