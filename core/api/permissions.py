"""Deny by default. What needs no roles lives here: the default permission, which answers no one,
and the marker of an action anyone may take. The check of a caller's capabilities is
access.api.permissions.CapabilityRequired."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

EXPORT_FORMATS = ("csv", "xlsx")

PUBLIC = "public"


class DenyAll(BasePermission):
    """The default: a view that does not declare its permissions answers no one."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return False
