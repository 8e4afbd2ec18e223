"""Personal data (NIK, birth date, phone) as shown to a caller without the right to see it: the
API's serializers, the audit trail and the admin all mask through these, so a change to a mask
reaches every page."""

from __future__ import annotations

from typing import Any

from .services import PERSONAL_FIELDS

HIDDEN = "***"


def changes_masked(changes: dict[str, Any]) -> dict[str, Any]:
    """An event's `changes` ({field: [old, new]}) with every NIK, birth date and phone value
    hidden; an empty value stays empty (it shows that none was given, not what it was)."""
    return {
        field: [HIDDEN if value else value for value in values] if field in PERSONAL_FIELDS else values
        for field, values in changes.items()
    }
