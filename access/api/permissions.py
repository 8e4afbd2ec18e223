"""Deny by default: every view names the capability each of its actions needs (the default,
`DenyAll`, and the `PUBLIC` marker are in core.api.permissions, which needs no roles)."""

from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from access.choices import Capability
from access.context import scope_for
from core.api.parameters import dot_region_codes, refuse_unknown_parameters
from core.api.permissions import EXPORT_FORMATS, PUBLIC, DenyAll

__all__ = ["PUBLIC", "CapabilityRequired", "DenyAll", "signed_in_user"]


def signed_in_user(request: Request) -> User:
    """The caller of an action that records who acted: `CapabilityRequired` lets no anonymous
    caller in, so this only makes that known to the type checker (and refuses one all the same)."""
    user = request.user
    if isinstance(user, AnonymousUser):
        raise NotAuthenticated()
    return user


class CapabilityRequired(BasePermission):
    """`view.required_capabilities` maps an action (viewsets) or method (views) to a capability;
    an action missing from the map is denied. An answer as a file (`?format=csv|xlsx`) also needs
    the `export` capability, checked here, before the view looks anything up: a caller who may not
    export gets 403 whatever it asked for, never a 404 that depends on the object.

    A caller allowed in is then held to the query parameters the view documents
    (`core.api.parameters`): an unknown or repeated one is a 400 naming it."""

    def has_permission(self, request, view) -> bool:
        allowed = self._action_allowed(request, view)
        if allowed and self._is_export(request) and not scope_for(request.user).can(Capability.EXPORT):
            raise PermissionDenied(_("You may not export lists."))
        # Not for the copies of the request that DRF makes to ask whether a form or an OPTIONS
        # answer may offer another method: those carry the parameters of the request made.
        # A method the view does not implement is DRF's 405 (with Allow), whatever the query says.
        if allowed and request.method == request._request.method and self._implemented(request, view):
            refuse_unknown_parameters(request, view)
            dot_region_codes(request, view)
        return allowed

    @staticmethod
    def _implemented(request, view) -> bool:
        method = request.method.lower()
        return method in view.http_method_names and hasattr(view, method)

    @staticmethod
    def _is_export(request) -> bool:
        return getattr(getattr(request, "accepted_renderer", None), "format", None) in EXPORT_FORMATS

    @staticmethod
    def _action_allowed(request, view) -> bool:
        required = getattr(view, "required_capabilities", {})
        key = getattr(view, "action", None) or request.method.lower()
        if key in ("metadata", "options"):
            if request.method == "OPTIONS":
                # What may I do here? Answered to whoever may do any of it (the answer then lists
                # the writes it may make); DRF asks again for each write it describes.
                scope = scope_for(request.user)
                return any(c == PUBLIC or scope.can(c) for c in required.values())
            key = getattr(view, "action_map", {}).get(request.method.lower(), request.method.lower())
        capability = required.get(key)
        if capability is None:
            # A method the view does not implement at all runs nothing: let DRF answer 405
            # (Method Not Allowed) instead of a misleading 403. Implemented but undeclared: denied.
            method = request.method.lower()
            return method not in view.http_method_names or not hasattr(view, method)
        if capability == PUBLIC:
            return True
        return scope_for(request.user).can(capability)
