"""Who may see personal data (NIK, birth date, phone; UU 27/2022 on personal data protection),
decided in this one place for every entry point: API, exports, admin, commands and jobs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, Permission, PermissionsMixin
from django.db.models import Q

from .choices import Role

# The permission that unmasks NIK, birth date and phone, given per user or through a group.
PERSONAL_DATA_PERMISSION = ("enrollment", "view_personal_data")

# Roles that see personal data without the permission, by what their work needs: a BPJS
# Ketenagakerjaan branch officer registers and confirms memberships in BPJS's own system, which
# finds a person by NIK and birth date. Everyone else but superusers needs the permission, an
# administrator by role included (see README).
ROLES_WITH_PERSONAL_DATA = frozenset({Role.BRANCH_OFFICER})

# Where a user keeps the answer for the rest of the request (access.authentication sets it too).
_CACHED = "_ucj_personal_data"


def role_sees_personal_data(role: str | None) -> bool:
    return role in ROLES_WITH_PERSONAL_DATA


def may_see_personal_data(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Whether `user` sees full NIK, birth date and phone: superusers, the roles above, and
    holders of `enrollment.view_personal_data` (directly or through a group).

    One query at most, remembered on the user object (Django's `has_perm` loads every permission
    of the user and its groups); token callers arrive with it already read by
    `access.authentication.tokens_with_key`."""
    if not (user is not None and user.is_authenticated and user.is_active):
        return False
    if isinstance(user, PermissionsMixin) and user.is_superuser:
        return True
    cached: bool | None = getattr(user, _CACHED, None)
    if cached is None:
        profile = getattr(user, "access_profile", None)
        cached = role_sees_personal_data(profile.role if profile is not None else None) or (
            Permission.objects.filter(
                codename=PERSONAL_DATA_PERMISSION[1], content_type__app_label=PERSONAL_DATA_PERMISSION[0]
            )
            .filter(Q(user=user) | Q(group__user=user))
            .exists()
        )
        setattr(user, _CACHED, cached)
    return cached


def can_see_personal_data(request: Any) -> bool:
    """The same for the caller of a request: an API request or a plain Django one (the admin)."""
    return may_see_personal_data(getattr(request, "user", None))
