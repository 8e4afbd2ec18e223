"""Where a worker counts, and the hook through which its changes reach the coverage counters.

The enrollment services and the import record a change and say how the worker's count moves;
the counters that sum workers per village and regency are coverage's (coverage.services), which
registers its statement builder here when the app is ready (coverage.apps). So enrollment never
imports coverage, the app above it, and the statements still run in the caller's transaction:
they join the caller's write batch (enrollment.recording) or run at once (`counters_add`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured

from core.data_version import data_version_bump
from core.db import Statement, WriteBatch


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


# {key: [serving, protected]}: what to add to each counter row.
Deltas = Mapping[CounterKey, list[int]]
StatementBuilder = Callable[[Deltas], list[Statement]]

_statements: StatementBuilder | None = None


def counters_register(statements: StatementBuilder) -> None:
    """Install the builder of the counters' statements (coverage does, once, in its `ready`)."""
    global _statements
    _statements = statements


def _builder() -> StatementBuilder:
    if _statements is None:
        raise ImproperlyConfigured("No coverage counters registered: is the coverage app installed?")
    return _statements


def counter_deltas(*, before: CounterState | None, after: CounterState | None) -> dict[CounterKey, list[int]]:
    """What a worker's change from `before` to `after` adds to each counter row."""
    deltas: dict[CounterKey, list[int]] = {}
    if before is not None:
        delta = deltas.setdefault(before.key, [0, 0])
        delta[0] -= 1
        delta[1] -= int(before.protected)
    if after is not None:
        delta = deltas.setdefault(after.key, [0, 0])
        delta[0] += 1
        delta[1] += int(after.protected)
    return {key: delta for key, delta in deltas.items() if delta != [0, 0]}


def counter_statements(*, before: CounterState | None, after: CounterState | None) -> list[Statement]:
    """The statements that move the counters for a worker's change from `before` to `after`."""
    if before == after:
        return []
    return _builder()(counter_deltas(before=before, after=after))


def _sums(deltas: Deltas) -> list[list[int]]:
    """The deltas and their sums per regency and institution: the counter rows they move."""
    regencies: dict[tuple[int, str], list[int]] = {}
    for key, (serving, protected) in deltas.items():
        regency = regencies.setdefault((key.regency_id, key.institution), [0, 0])
        regency[0] += serving
        regency[1] += protected
    return [*deltas.values(), *regencies.values()]


def _insertable(delta: list[int]) -> bool:
    # A delta adding serving workers may insert its row (the builder's upsert): the values must
    # then meet the counters' check constraint on their own. Others only update rows that exist.
    serving, protected = delta
    return serving <= 0 or 0 <= protected <= serving


def counters_moved(changes: Iterable[tuple[CounterState | None, CounterState | None]]) -> list[Statement]:
    """The statements that move the counters for many workers' changes (before, after) at once:
    their deltas summed, so each counter row is written once, not once per worker.

    When a summed delta could not be inserted as it is (more protected than serving workers
    arriving at a row, say), the removals are sent first and the arrivals after, each a delta
    the builder writes as it does one worker's."""
    removed: dict[CounterKey, list[int]] = {}
    arrived: dict[CounterKey, list[int]] = {}
    for before, after in changes:
        if before == after:
            continue
        for state, sign, deltas in ((before, -1, removed), (after, 1, arrived)):
            if state is not None:
                delta = deltas.setdefault(state.key, [0, 0])
                delta[0] += sign
                delta[1] += sign * int(state.protected)
    net: dict[CounterKey, list[int]] = {key: list(delta) for key, delta in removed.items()}
    for key, (serving, protected) in arrived.items():
        delta = net.setdefault(key, [0, 0])
        delta[0] += serving
        delta[1] += protected
    net = {key: delta for key, delta in net.items() if delta != [0, 0]}
    if not net:
        return []
    if all(_insertable(delta) for delta in _sums(net)):
        return _builder()(net)
    return [*(_builder()(removed) if removed else []), *(_builder()(arrived) if arrived else [])]


def counters_add(deltas: Deltas) -> None:
    """Add workers arriving in bulk ({key: [serving, protected]} with serving > 0), at once."""
    writes = WriteBatch()
    writes.extend(_builder()({key: delta for key, delta in deltas.items() if delta[0] > 0}))
    writes.send()
    data_version_bump()
