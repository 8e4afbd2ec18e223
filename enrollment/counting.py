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

from .choices import FundingSource


class CounterKey(NamedTuple):
    """Where a worker counts: its village (with the denormalized parents) and institution."""

    village_id: int
    district_id: int
    regency_id: int
    province_id: int
    institution: str


class CounterState(NamedTuple):
    """How a worker counts: nowhere (None), or serving at `key`, protected or not; a protected
    worker by the source funding its premium ("" when none is recorded), an unprotected one by
    its monthly wage when it earns one (a siltap with a known wage: the premium that would
    protect it is a percent of that wage)."""

    key: CounterKey
    protected: bool
    funding_source: str = ""
    wage: int | None = None


# What a worker adds to its counters, in this order: serving, protected, protected by each
# funding source (FUNDING_SOURCES), unprotected wage earners, their monthly wages. The counter
# rows per institution hold the first two; the rows of all institutions together hold them all.
FUNDING_SOURCES: tuple[str, ...] = (*FundingSource.values, "")
VALUES = 2 + len(FUNDING_SOURCES) + 2
WAGE_EARNERS = 2 + len(FUNDING_SOURCES)

# {key: [serving, protected, ...]} (the values above): what to add to each counter row.
Deltas = Mapping[CounterKey, list[int]]


def counter_values(state: CounterState) -> list[int]:
    """What a worker counting as `state` adds to its counters (the values above)."""
    values = [0] * VALUES
    values[0] = 1
    if state.protected:
        values[1] = 1
        # A source no choice names counts as another source (as the recount counts it).
        source = state.funding_source if state.funding_source in FUNDING_SOURCES else FundingSource.OTHER
        values[2 + FUNDING_SOURCES.index(source)] = 1
    elif state.wage is not None:
        values[WAGE_EARNERS] = 1
        values[WAGE_EARNERS + 1] = state.wage
    return values


def _added(delta: list[int], values: list[int], sign: int) -> None:
    for i, value in enumerate(values):
        delta[i] += sign * value


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
    for state, sign in ((before, -1), (after, 1)):
        if state is not None:
            _added(deltas.setdefault(state.key, [0] * VALUES), counter_values(state), sign)
    return {key: delta for key, delta in deltas.items() if any(delta)}


def counter_statements(*, before: CounterState | None, after: CounterState | None) -> list[Statement]:
    """The statements that move the counters for a worker's change from `before` to `after`."""
    if before == after:
        return []
    return _builder()(counter_deltas(before=before, after=after))


def _sums(deltas: Deltas) -> list[list[int]]:
    """The deltas and their sums per regency and institution: the counter rows they move."""
    sums: dict[tuple[str, int, str], list[int]] = {}
    for key, delta in deltas.items():
        for row in (
            ("village", key.village_id, ""),
            ("regency", key.regency_id, key.institution),
            ("regency", key.regency_id, ""),
        ):
            _added(sums.setdefault(row, [0] * VALUES), delta, 1)
    return [*deltas.values(), *sums.values()]


def _insertable(delta: list[int]) -> bool:
    # A delta adding serving workers may insert its row (the builder's upsert): the values must
    # then meet the counters' check constraints on their own. Others only update rows that exist.
    serving, protected = delta[0], delta[1]
    return serving <= 0 or (0 <= protected <= serving and all(value >= 0 for value in delta))


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
                _added(deltas.setdefault(state.key, [0] * VALUES), counter_values(state), sign)
    net: dict[CounterKey, list[int]] = {key: list(delta) for key, delta in removed.items()}
    for key, values in arrived.items():
        _added(net.setdefault(key, [0] * VALUES), values, 1)
    net = {key: delta for key, delta in net.items() if any(delta)}
    if not net:
        return []
    if all(_insertable(delta) for delta in _sums(net)):
        return _builder()(net)
    return [*(_builder()(removed) if removed else []), *(_builder()(arrived) if arrived else [])]


def counters_add(deltas: Deltas) -> None:
    """Add workers arriving in bulk ({key: values} with serving > 0), at once."""
    writes = WriteBatch()
    writes.extend(_builder()({key: delta for key, delta in deltas.items() if delta[0] > 0}))
    writes.send()
    data_version_bump()
