"""Who may see personal data (NIK, birth date, phone; UU 27/2022 on personal data protection),
decided in this one place for every entry point: API, exports, admin, commands and jobs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Q

from .choices import Role

# The permission that unmasks NIK, birth date and phone, given per user or through a group.
PERSONAL_DATA_PERMISSION = ("enrollment", "view_personal_data")

# Roles that see personal data without the permission, by what their work needs: a BPJS
# Ketenagakerjaan branch officer registers and confirms memberships in BPJS's own system, which
# finds a person by NIK and birth date. Everyone else but superusers needs the permission, an
# administrator by role included (see README).
ROLES_WITH_PERSONAL_DATA = frozenset({Role.BRANCH_OFFICER})


def personal_data_decided(*, is_superuser: bool, role: str | None, has_permission: bool) -> bool:
    """The rule itself: superusers, the roles above, and holders of the permission."""
    return is_superuser or role in ROLES_WITH_PERSONAL_DATA or has_permission


def personal_data_right(user: Any) -> bool:
    """Whether an active, authenticated `user` sees full NIK, birth date and phone: the rule,
    with the permission read in one query (Django's `has_perm` would load every permission of the
    user and its groups). Asked through `access.context.may_see_personal_data`, which keeps the
    answer for the request; a token's check reads the permission with the token
    (`access.authentication.tokens_with_key`) and decides with the same rule."""
    if user.is_superuser:
        return True
    profile = getattr(user, "access_profile", None)
    role = profile.role if profile is not None else None
    if role in ROLES_WITH_PERSONAL_DATA:
        return True
    has_permission = (
        Permission.objects.filter(
            codename=PERSONAL_DATA_PERMISSION[1], content_type__app_label=PERSONAL_DATA_PERMISSION[0]
        )
        .filter(Q(user=user) | Q(group__user=user))
        .exists()
    )
    return personal_data_decided(is_superuser=False, role=role, has_permission=has_permission)
