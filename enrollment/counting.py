"""Where a worker counts, and the hook through which its changes reach the coverage counters.

The enrollment services and the import record a change and say how the worker's count moves;
the counters that sum workers per village and regency are coverage's (coverage.services), which
registers its writers here when the app is ready (coverage.apps). So enrollment never imports
coverage, the app above it, and the writes still happen in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured

from core.db import WriteBatch


class CounterKey(NamedTuple):
    """Where a worker counts: its village (with the denormalized parents) and institution."""

    village_id: int
    district_id: int
    regency_id: int
    province_id: int
    institution: str


class CounterState(NamedTuple):
    """How a worker counts: nowhere (None), or serving at `key`, protected or not."""

    key: CounterKey
    protected: bool


class CounterWriters(NamedTuple):
    move: Callable[..., None]
    add: Callable[[dict[CounterKey, list[int]]], None]


_writers: CounterWriters | None = None


def counters_register(*, move: Callable[..., None], add: Callable[[dict[CounterKey, list[int]]], None]) -> None:
    """Install the counter writers (coverage does, once, in its `ready`)."""
    global _writers
    _writers = CounterWriters(move=move, add=add)


def _registered() -> CounterWriters:
    if _writers is None:
        raise ImproperlyConfigured("No coverage counters registered: is the coverage app installed?")
    return _writers


def counters_move(*, before: CounterState | None, after: CounterState | None, writes: WriteBatch | None = None) -> None:
    """Apply a worker's change from `before` to `after` to the counters (as part of `writes`,
    when given)."""
    _registered().move(before=before, after=after, writes=writes)


def counters_add(deltas: dict[CounterKey, list[int]]) -> None:
    """Add workers arriving in bulk: {key: [serving, protected]} with serving > 0."""
    _registered().add(deltas)
