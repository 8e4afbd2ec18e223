"""What the portal's pages share: reading a date from a query."""

from __future__ import annotations

import datetime


def date_param(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None
