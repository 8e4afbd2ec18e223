"""Content negotiation: `?format=` naming a format the address does not produce is a 400 naming
the formats it does (DRF answers 404, as if the address did not exist)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            formats = [r.format for r in renderers if not isinstance(r, BrowsableAPIRenderer)]
            param = self.settings.URL_FORMAT_OVERRIDE
            message = _("This address answers in: %(formats)s.") % {"formats": ", ".join(formats)}
            raise ValidationError({param: [message]}) from None
