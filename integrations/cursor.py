"""A position in the change feed, as the caller holds it: an opaque, versioned token.

The position is the last change served, (transaction id, event id) in the feed's order
(core.commit_order), and a stamp: when what follows the position was last known to be kept (the
time of the last change served, or of the read that found the caller up to date). Only a
retention setting (`UCJ_CHANGE_FEED_RETENTION_DAYS`) reads the stamp: nothing is pruned today.
"""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple

VERSION = "c1"


class Position(NamedTuple):
    """After the change (xact, id); `stamp`: seconds since the epoch (see the module)."""

    xact: int
    id: int
    stamp: int


START = Position(0, 0, 0)


class BadCursor(ValueError):
    """Not a cursor this feed gave out."""


def cursor_encode(position: Position) -> str:
    text = f"{VERSION}.{position.xact}.{position.id}.{position.stamp}"
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def cursor_decode(token: str) -> Position:
    """The position a cursor names; `BadCursor` for anything else."""
    if not token or len(token) > 200 or not token.isascii():
        raise BadCursor(token)
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadCursor(token) from exc
    parts = text.split(".")
    if len(parts) != 4 or parts[0] != VERSION or not all(p.isdigit() and len(p) <= 19 for p in parts[1:]):
        raise BadCursor(token)
    xact, id_, stamp = (int(p) for p in parts[1:])
    if max(xact, id_) >= 2**63:
        raise BadCursor(token)
    return Position(xact, id_, stamp)
