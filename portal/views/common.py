"""What the portal's pages share: reading a date from a query."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _


def date_param(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def scope_label(user: Any) -> str:
    """Whose figures these are, as a title names them: the branch office, the regency or the
    province of the caller's account; every province for an administrator."""
    profile = getattr(user, "access_profile", None)
    if profile is not None:
        for region in (profile.branch, profile.regency, profile.province):
            if region is not None:
                return str(region.name)
    return _("All provinces")
