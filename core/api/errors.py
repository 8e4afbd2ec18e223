"""One error shape everywhere: drf-standardized-errors' body, also for service-layer errors.

    {"type": "validation_error" | "client_error" | "server_error",
     "errors": [{"code", "detail", "attr"}]}

`UcjExceptionHandler` is plugged into drf-standardized-errors (EXCEPTION_HANDLER_CLASS), so the
library still documents every error response in the OpenAPI schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.errors import ServiceError

if TYPE_CHECKING:
    from rest_framework.request import Request


def _client_error(status: int, code: str, detail: str, attr: str | None = None, kind: str = "client_error") -> Response:
    return Response({"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}, status=status)


class UcjExceptionHandler(ExceptionHandler):
    """Service errors and oversized bodies in the standard shape; errors always as JSON."""

    def run(self) -> Response | None:
        request: Request | None = self.context.get("request")
        renderer = getattr(request, "accepted_renderer", None)
        if request is not None and getattr(renderer, "format", None) in ("csv", "xlsx"):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        exc = self.exc
        if isinstance(exc, ServiceError):
            error_type = "validation_error" if exc.status_code == 400 else "client_error"
            errors = [{"code": e.code, "detail": e.message, "attr": e.field} for e in exc.errors]
            retry_after = getattr(exc, "retry_after", None)
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
            return Response({"type": error_type, "errors": errors}, status=exc.status_code, headers=headers)
        if isinstance(exc, RequestDataTooBig):
            detail = _("The request body is larger than %(size)d bytes.") % {
                "size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            }
            return _client_error(413, "request_too_large", detail)
        if isinstance(exc, SuspiciousOperation):
            return _client_error(400, "bad_request", str(exc))
        return super().run()


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a URL under /api/ that matches no route (`workers/abc/`, a region code with odd
    characters, a path that does not exist) answers the API's error shape, like a 404 raised by a
    view; other paths get Django's page."""
    if request.path.startswith("/api/"):
        error = {"code": NotFound.default_code, "detail": str(NotFound.default_detail), "attr": None}
        return JsonResponse({"type": "client_error", "errors": [error]}, status=404)
    return defaults.page_not_found(request, exception)
