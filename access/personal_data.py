"""The personal-data rule (NIK, birth date, phone; UU 27/2022): who may see them unmasked. The
API's serializers and views, the exports and the admin all ask `can_see_personal_data`."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import Q

from .authentication import PERSONAL_DATA_PERMISSION


def can_see_personal_data(request) -> bool:
    """Whether the caller holds `enrollment.view_personal_data`, directly or through a group.

    One query, remembered on the request's user (Django's `has_perm` loads every permission of
    the user and of its groups: two queries on each request that shows a worker). Token callers
    arrive with it already read by `access.authentication.tokens_with_key`. Works for API
    requests and plain Django requests (the admin) alike: only `request.user` is read."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_ucj_personal_data", None)
    if cached is None:
        cached = (
            Permission.objects.filter(
                codename=PERSONAL_DATA_PERMISSION[1], content_type__app_label=PERSONAL_DATA_PERMISSION[0]
            )
            .filter(Q(user=user) | Q(group__user=user))
            .exists()
        )
        user._ucj_personal_data = cached
    return cached
