"""One error shape everywhere: drf-standardized-errors' body, also for service-layer errors.

{"type": "validation_error" | "client_error", "errors": [{"code", "detail", "attr"}]}
"""

from drf_standardized_errors.handler import exception_handler as standardized_exception_handler
from rest_framework.response import Response

from ucj_project.errors import ServiceError


def exception_handler(exc, context):
    """Render ServiceError in the standard shape; everything else goes to drf-standardized-errors."""
    if isinstance(exc, ServiceError):
        error_type = "validation_error" if exc.status_code == 400 else "client_error"
        errors = [{"code": e.code, "detail": e.message, "attr": e.field} for e in exc.errors]
        body = {"type": error_type, "errors": errors}
        return Response(body, status=exc.status_code)
    return standardized_exception_handler(exc, context)
