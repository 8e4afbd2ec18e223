"""Errors raised by the service layer when a request breaks a business rule.

They carry the field at fault and a machine code; the API turns them into the standard error
body (see `core.api.errors`), management commands and imports print their message.
"""

from __future__ import annotations

from typing import NamedTuple

from django.utils.translation import gettext as _


class FieldError(NamedTuple):
    field: str | None
    code: str
    message: str


class ServiceError(Exception):
    """A request that cannot be carried out as asked (HTTP 400)."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.default_code
        self.errors: list[FieldError] = [FieldError(self.field, self.code, self.message)]

    @classmethod
    def many(cls, errors: list[FieldError]) -> ServiceError:
        """One error listing several problems (the first gives message, field and code)."""
        first = errors[0]
        exc = cls(first.message, field=first.field, code=first.code)
        exc.errors = list(errors)
        return exc


class ConflictError(ServiceError):
    """The request is valid but clashes with the current state (HTTP 409)."""

    status_code = 409
    default_code = "conflict"


class StaleVersionError(ConflictError):
    """The caller edited an out-of-date version of the record (HTTP 409)."""

    default_code = "stale_version"


class NotFoundError(ServiceError):
    """A code or object the request names does not exist (HTTP 404)."""

    status_code = 404
    default_code = "not_found"


class OutOfScopeError(ServiceError):
    """A region, or a record in one, outside the caller's regions: to the caller it does not exist.

    Named by the request in a field (the village of a registration): 400 naming the field, as any
    unknown code would be. Addressed by the request (the worker of a transition): 404."""

    default_code = "out_of_scope"

    def __init__(self, *, field: str | None = None):
        if field == "village":
            message = _("No village with this code in your region.")
        elif field is not None:
            message = _("This is outside your region.")
        else:
            message = _("Not found.")
        super().__init__(message, field=field, code=self.default_code)
        self.status_code = 400 if field is not None else 404
