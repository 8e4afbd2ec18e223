"""The change feed: the workers' append-only history (enrollment.EnrollmentEvent) read in commit
order after a position, within a caller's regions, as other systems consume it.

`changes_after` is the read itself (the events after a position, for a scope, types and region,
at most `limit`): the API's feed pages with it and a webhook delivery job can keep its own
position over the same order (the history row is the outbox). `feed_page` adds what a page shows:
each change with the worker's present state, personal data masked unless the caller may see it.

Order: (transaction id, event id) on PostgreSQL, serving only events whose writing transactions
have all finished (core.commit_order), so a position never has an unseen change before it; the id
on SQLite (one writer at a time). Events written before the feed existed share transaction 0.

Scope: a change is the caller's when its worker lies in the caller's regions now, or when it moved
the worker out of them (an update whose old village is theirs): a reader then learns that the
worker left. `region` narrows the same way to one region.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connections
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from access.scope import Scope
from core.commit_order import FINISHED_BELOW
from enrollment.api.serializers import worker_row_data
from enrollment.choices import EventKind, EventSource
from enrollment.masking import changes_masked
from enrollment.models import ApparatusWorker, EnrollmentEvent
from enrollment.selectors import WorkerRow, worker_rows

from .cursor import Position

# The kinds of change a reader may ask for (`types`), each a set of history events.
WORKER = "worker"  # the worker registered, edited (moved: its village changed), its service ended
ENROLLMENT = "enrollment"  # the enrollment's status changed, or its membership was renewed
REGION = "region"  # the worker moved by a decree's change of regions (apply_region_changes)
COVERAGE = "coverage"  # the change may move the coverage figures of the regions it names
TYPES = (WORKER, ENROLLMENT, REGION, COVERAGE)

WORKER_KINDS = (EventKind.REGISTERED, EventKind.UPDATED, EventKind.SERVICE_ENDED)
# A worker's fields whose change moves coverage counters (enrollment.counting: where it counts, how).
COUNTED_FIELDS = ["village", "institution", "wage_basis", "monthly_wage", "term_start", "term_end"]

_MOVED = Q(kind=EventKind.UPDATED, changes__has_key="village")
TYPE_FILTERS: dict[str, Q] = {
    WORKER: Q(kind__in=WORKER_KINDS),
    ENROLLMENT: ~Q(from_status=F("to_status")) | Q(kind=EventKind.RENEWED),
    REGION: _MOVED & Q(source=EventSource.SYSTEM),
    COVERAGE: ~Q(kind=EventKind.UPDATED) | Q(changes__has_any_keys=COUNTED_FIELDS),
}

_COLUMNS = (
    "xact",
    "id",
    "worker_id",
    "kind",
    "effective_date",
    "recorded_at",
    "source",
    "actor_label",
    "from_status",
    "to_status",
    "changes",
)


class FeedEvent(NamedTuple):
    """One history event as the feed reads it."""

    xact: int
    id: int
    worker_id: int
    kind: str
    effective_date: datetime.date
    recorded_at: datetime.datetime
    source: str
    actor_label: str
    from_status: str
    to_status: str
    changes: dict[str, Any]

    def position(self) -> Position:
        return Position(self.xact, self.id, int(self.recorded_at.timestamp()))

    def types(self) -> list[str]:
        """The types of change the event is (see TYPES), as `TYPE_FILTERS` decides them."""
        kind, changes = self.kind, self.changes
        moved = kind == EventKind.UPDATED and "village" in changes
        found = {
            WORKER: kind in WORKER_KINDS,
            ENROLLMENT: self.from_status != self.to_status or kind == EventKind.RENEWED,
            REGION: moved and self.source == EventSource.SYSTEM,
            COVERAGE: kind != EventKind.UPDATED or any(name in changes for name in COUNTED_FIELDS),
        }
        return [name for name in TYPES if found[name]]


@dataclass(frozen=True)
class RegionAsked:
    """A region a reader narrows the feed to: its level, id and code."""

    level: str
    id: int
    code: str


def _region_q(region: RegionAsked) -> Q:
    if region.level == "village":
        moved_out = Q(changes__village__0=region.code)
    else:
        moved_out = Q(changes__village__0__startswith=f"{region.code}.")
    return Q(**{f"worker__{region.level}_id": region.id}) | (_MOVED & moved_out)


def _scope_q(scope: Scope) -> Q:
    if scope.everything:
        return Q()
    return scope.q(province="worker__province_id", regency="worker__regency_id") | (
        _MOVED & scope.code_q("changes__village__0")
    )


def _events(
    *, scope: Scope, after: Position, types: Iterable[str], region: RegionAsked | None, using: str
) -> QuerySet[EnrollmentEvent, tuple[Any, ...]]:
    events = EnrollmentEvent.objects.using(using).filter(_scope_q(scope))
    if region is not None:
        events = events.filter(_region_q(region))
    asked = set(types)
    if asked != set(TYPES):
        wanted = Q(pk__in=[])
        for name in sorted(asked):
            wanted |= TYPE_FILTERS[name]
        events = events.filter(wanted)
    table = connections[using].ops.quote_name(EnrollmentEvent._meta.db_table)
    where = [f"({table}.xact, {table}.id) > (%s, %s)"]
    if connections[using].vendor == "postgresql":
        where.append(f"{table}.xact < {FINISHED_BELOW}")
    return events.extra(where=where, params=[after.xact, after.id]).order_by("xact", "id").values_list(*_COLUMNS)


def changes_after(
    *,
    scope: Scope,
    after: Position,
    types: Iterable[str] = TYPES,
    region: RegionAsked | None = None,
    limit: int,
    using: str = "default",
) -> list[FeedEvent]:
    """The first `limit` changes after `after` in the feed's order that `scope` sees, of the
    `types` asked, within `region` if given. Fewer than `limit`: the reader is up to date (no
    other change after them is visible yet)."""
    rows = _events(scope=scope, after=after, types=types, region=region, using=using)[:limit]
    return [FeedEvent._make(row) for row in rows]


@dataclass(frozen=True)
class FeedPage:
    """A page of the feed as a reader gets it: its changes and where to go on from."""

    changes: list[dict[str, Any]]
    position: Position  # after the last change (the position asked, re-stamped, when none)
    up_to_date: bool
    shown_in_full: list[int]  # the workers whose personal data the page shows (for the access log)


def _datetime(value: datetime.datetime, zone: datetime.tzinfo) -> str:
    """As DRF's DateTimeField writes it (and the worker's own times): the current time zone, `Z` for UTC."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _region_chain(code: str) -> list[str]:
    parts = code.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def regions_touched(event: FeedEvent, row: WorkerRow | None, scope: Scope) -> list[str]:
    """The regions whose present coverage figures the change may move, within `scope`: the village
    the worker is in now and its district, regency and province, and for a move both ends' (as
    the history names them)."""
    villages: list[str] = []
    moved = event.changes.get("village")
    if isinstance(moved, list):
        villages.extend(code for code in moved if isinstance(code, str))
    if row is not None and row.village not in villages:
        villages.append(row.village)
    codes: list[str] = []
    for village in villages:
        codes.extend(code for code in _region_chain(village) if code not in codes)
    return [code for code in codes if scope.contains_code(code)]


def feed_page(
    *,
    scope: Scope,
    after: Position,
    types: Sequence[str],
    region: RegionAsked | None,
    limit: int,
    full: bool,
) -> FeedPage:
    """A page of changes as the feed shows them (`changes_after`), each with its worker as the
    worker list shows it now (null when the worker lies outside the caller's regions now: it
    moved out), personal data in full only if `full`. Two statements: the events, their workers."""
    using = "default"  # the primary: a reader paging on must not go back in time on a lagging replica
    events = changes_after(scope=scope, after=after, types=types, region=region, limit=limit, using=using)
    worker_ids = sorted({event.worker_id for event in events})
    rows = (
        {
            row.id: row
            for row in worker_rows(scope.filter(ApparatusWorker.objects.using(using).filter(pk__in=worker_ids)))
        }
        if worker_ids
        else {}
    )
    shown: dict[int, dict[str, Any]] = {}
    zone = timezone.get_current_timezone()
    changes = []
    for event in events:
        row = rows.get(event.worker_id)
        if row is not None and row.id not in shown:
            shown[row.id] = worker_row_data(row, full=full)
        changes.append(
            {
                "cursor": event.position(),
                "types": event.types(),
                "kind": event.kind,
                "worker_id": event.worker_id,
                "effective_date": event.effective_date.isoformat(),
                "recorded_at": _datetime(event.recorded_at, zone),
                "source": event.source,
                "actor": event.actor_label,
                "from_status": event.from_status or None,
                "to_status": event.to_status,
                "changes": event.changes if full else changes_masked(event.changes),
                "regions": regions_touched(event, row, scope),
                "worker": shown.get(event.worker_id) if row is not None else None,
            }
        )
    up_to_date = len(events) < limit
    if events and not up_to_date:
        position = events[-1].position()
    else:
        # Up to date: nothing after the position was visible now, so whatever follows it is newer.
        last = events[-1].position() if events else after
        position = Position(last.xact, last.id, int(timezone.now().timestamp()))
    return FeedPage(
        changes=changes,
        position=position,
        up_to_date=up_to_date,
        shown_in_full=sorted({event.worker_id for event in events}) if full else [],
    )
