"""Deny by default: every view names the capability each of its actions needs."""

from rest_framework.permissions import BasePermission

from access.scope import scope_for

PUBLIC = "public"


class DenyAll(BasePermission):
    """The default: a view that does not declare its permissions answers no one."""

    def has_permission(self, request, view) -> bool:
        return False


class CapabilityRequired(BasePermission):
    """`view.required_capabilities` maps an action (viewsets) or method (views) to a capability;
    an action missing from the map is denied."""

    def has_permission(self, request, view) -> bool:
        required = getattr(view, "required_capabilities", {})
        key = getattr(view, "action", None) or request.method.lower()
        capability = required.get(key)
        if capability is None:
            # A method the view does not implement at all runs nothing: let DRF answer 405
            # (Method Not Allowed) instead of a misleading 403. Implemented but undeclared: denied.
            method = request.method.lower()
            return method not in view.http_method_names or not hasattr(view, method)
        if capability == PUBLIC:
            return True
        return scope_for(request.user).can(capability)
