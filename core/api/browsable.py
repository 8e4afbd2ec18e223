"""The browsable API (`?format=api`, or a browser's `Accept: text/html`) without forms that
start from a stored object.

DRF fills a detail page's PUT/PATCH forms (the HTML form and the raw-data form) by serializing
the stored object through the *write* serializer, which knows nothing of masks: a caller who
may edit a worker but not see personal data would read the full NIK, birth date and phone in
the form's initial values. Here every form starts empty, so nothing on the page shows more
than the JSON answer shows the same caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from rest_framework.renderers import BrowsableAPIRenderer

if TYPE_CHECKING:
    from django import forms
    from rest_framework.request import Request
    from rest_framework.views import APIView


class BrowsableAPIRendererWithoutStoredData(BrowsableAPIRenderer):
    """DRF's browsable API whose forms are never bound to the object being shown."""

    # DRF finds the object to fill a form with through `data.serializer.instance`; given no
    # data it builds the form from the view's serializer alone, with its empty initial values.
    def get_rendered_html_form(
        self, data: Any, view: APIView, method: str, request: Request
    ) -> str | Literal[True] | None:
        return super().get_rendered_html_form(None, view, method, request)

    def get_raw_data_form(self, data: Any, view: APIView, method: str, request: Request) -> forms.Form | None:
        return super().get_raw_data_form(None, view, method, request)
