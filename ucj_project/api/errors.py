"""One error shape everywhere: drf-standardized-errors' body, also for service-layer errors.

{"type": "validation_error" | "client_error", "errors": [{"code", "detail", "attr"}]}
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.utils.translation import gettext as _
from drf_standardized_errors.handler import exception_handler as standardized_exception_handler
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from ucj_project.errors import ServiceError


def exception_handler(exc, context):
    """Render ServiceError in the standard shape; everything else goes to drf-standardized-errors.

    Errors are always JSON, also when a CSV or XLSX export was asked for.
    """
    request = context.get("request")
    if getattr(getattr(request, "accepted_renderer", None), "format", None) in ("csv", "xlsx"):
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    if isinstance(exc, ServiceError):
        error_type = "validation_error" if exc.status_code == 400 else "client_error"
        errors = [{"code": e.code, "detail": e.message, "attr": e.field} for e in exc.errors]
        body = {"type": error_type, "errors": errors}
        return Response(body, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        detail = _("The request body is larger than %(size)d bytes.") % {"size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        return _client_error(413, "request_too_large", detail)
    if isinstance(exc, SuspiciousOperation):
        return _client_error(400, "bad_request", str(exc))
    return standardized_exception_handler(exc, context)


def _client_error(status: int, code: str, detail: str) -> Response:
    return Response({"type": "client_error", "errors": [{"code": code, "detail": detail, "attr": None}]}, status=status)
