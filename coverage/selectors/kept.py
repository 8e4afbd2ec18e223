"""What the coverage selectors read of the country's structure — regions, targets — kept in the
process while it stays as it is.

Regions, their names, targets, premium rates and branches change only by writes that move the
version of everything but the workers (core.data_version: `Versions.everywhere`); the
activations, registrations and moves of workers all over the country leave it where it is. So a
reading request (which knows the versions: access.context) finds the regions of a level under a
parent, a region by its code or the year's targets as the last request under the same version
and day read them, and reads only the figures. Outside a request (commands, jobs) everything is
read afresh.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, TypeVar

from access.context import request_context, request_versions
from core.clock import today

T = TypeVar("T")

# Entries kept at most (a regency's villages, a code's region, a year's targets each count one).
MAX_ENTRIES = 20_000

_kept: dict[tuple[Any, ...], Any] = {}
_kept_under: list[tuple[int, datetime.date] | None] = [None]


def structural(compute: Callable[..., T], /, *args: Any) -> T:
    """`compute(*args)`, kept while the version of everything but the workers and the day stay
    the same (within a reading request; outside one, computed afresh)."""
    context = request_context()
    known = request_versions(context) if context is not None else None
    if known is None:
        return compute(*args)
    under = (known.everywhere, today())
    if _kept_under[0] != under:
        _kept.clear()
        _kept_under[0] = under
    key = (compute.__module__, compute.__qualname__, args)
    try:
        return _kept[key]  # type: ignore[no-any-return]
    except KeyError:
        pass
    if len(_kept) >= MAX_ENTRIES:
        _kept.clear()
    value = _kept[key] = compute(*args)
    return value


def structural_forget() -> None:
    """Empty what is kept (tests: every test starts at the same versions)."""
    _kept.clear()
    _kept_under[0] = None
