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
from villages.models import Regency

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


# Events of the feed a filtered read looks through at most, per page: a reader of a small region
# (or of a rare type) pages through the history a window at a time instead of the whole history
# for each page; a window without `limit` matches gives a short (even empty) page whose cursor is
# the window's end, and the reader follows `next` at once.
WINDOW = 10_000


class FeedRead(NamedTuple):
    """What `changes_after` found: the changes, the position after them (the end of the window
    looked through when it held fewer than `limit`), and whether nothing more is visible yet."""

    events: list[FeedEvent]
    position: Position | None  # None: the position asked (nothing looked through)
    up_to_date: bool


def finished_below(using: str = "default") -> int | None:
    """The feed's horizon now (core.commit_order.FINISHED_BELOW): only events of transactions
    below it are served. None where id order is commit order (SQLite)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        # pg_stat_activity is read once per transaction and kept: a reader inside a transaction
        # would judge other databases' transactions by a stale list (holding itself back).
        if not connection.get_autocommit():
            cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(f"SELECT {FINISHED_BELOW}")
        below: int = cursor.fetchone()[0]
        return below


def _between(
    events: QuerySet[EnrollmentEvent], after: Position, until: tuple[int, int] | None, below: int | None
) -> QuerySet[EnrollmentEvent]:
    """The events after `after`, up to `until` (included) if given, below the horizon `below`."""
    table = connections[events.db].ops.quote_name(EnrollmentEvent._meta.db_table)
    where = [f"({table}.xact, {table}.id) > (%s, %s)"]
    params: list[Any] = [after.xact, after.id]
    if until is not None:
        where.append(f"({table}.xact, {table}.id) <= (%s, %s)")
        params += list(until)
    if below is not None:
        where.append(f"{table}.xact < %s")
        params.append(below)
    return events.extra(where=where, params=params).order_by("xact", "id")


def _moved_out_q(code: str) -> Q:
    """Moves whose old village lies in the region of `code` (the history names villages by code)."""
    if code.count(".") == 3:
        return _MOVED & Q(changes__village__0=code)
    return _MOVED & Q(changes__village__0__startswith=f"{code}.")


# A lane: the events of one province or regency (by where the worker was when each was written),
# or the moves out of one region, each walked in the feed's order by an index of its own.
Lane = Q
# A reader of more provinces and regencies than this reads the country's order, a window at a time.
MAX_LANES = 12


def _lanes(scope: Scope, region: RegionAsked | None, using: str) -> list[Lane] | None:
    """The lanes that hold every change `scope` and `region` may see, or None: the country's."""
    if region is not None:
        if region.level == "province":
            lanes = [Q(worker_province_id=region.id)]
        elif region.level == "regency":
            lanes = [Q(worker_regency_id=region.id)]
        else:  # a district or village: the events of its regency, narrowed by `_region_q`
            regency = Regency.objects.using(using).filter(code=region.code[:5]).values_list("pk", flat=True).first()
            lanes = [Q(worker_regency_id=regency)]
        return [*lanes, _moved_out_q(region.code)]
    if scope.everything:
        return None
    lanes = [Q(worker_province_id=pk) for pk in sorted(scope.province_ids)]
    lanes += [Q(worker_regency_id=pk) for pk in sorted(scope.regency_ids)]
    if len(lanes) > MAX_LANES:
        return None
    moved_out = Q(pk__in=[])  # the moves out of any of them: one walk through the moves
    for code in sorted(scope.province_codes | scope.regency_codes):
        moved_out |= _moved_out_q(code)
    return [*lanes, moved_out]


def _lane_heads(
    lanes: list[Lane], after: Position, below: int | None, limit: int, using: str
) -> list[tuple[int, int, datetime.datetime]]:
    """The first `limit` events after `after` of all the lanes together, in the feed's order:
    (xact, id, recorded_at), each lane read by its index up to `limit` events."""
    everything = EnrollmentEvent.objects.using(using).all()
    heads: set[tuple[int, int, datetime.datetime]] = set()
    for lane in lanes:
        lane_events = _between(everything.filter(lane), after, None, below)
        heads.update(lane_events.values_list("xact", "id", "recorded_at")[:limit])
    return sorted(heads)[:limit]


def changes_after(
    *,
    scope: Scope,
    after: Position,
    types: Iterable[str] = TYPES,
    region: RegionAsked | None = None,
    limit: int,
    using: str = "default",
) -> FeedRead:
    """The first `limit` changes after `after` in the feed's order that `scope` sees, of the
    `types` asked, within `region` if given.

    A reader of a few provinces or regencies (by its scope or `region`) reads their lanes: the
    events written while the worker was there, and the moves out of them, each by an index; the
    changes are those of the lanes' next `limit` events that the reader sees (a worker that left
    since is not seen, but for the move itself). Other filtered reads (a type, across the country)
    look through the next `WINDOW` events at most (see WINDOW)."""
    below = finished_below(using)  # once, for every statement of the read
    everything = EnrollmentEvent.objects.using(using).all()
    events = everything.filter(_scope_q(scope))
    if region is not None:
        events = events.filter(_region_q(region))
    asked = set(types)
    if asked != set(TYPES):
        wanted = Q(pk__in=[])
        for name in sorted(asked):
            wanted |= TYPE_FILTERS[name]
        events = events.filter(wanted)
    lanes = _lanes(scope, region, using)
    if lanes is not None:
        heads = _lane_heads(lanes, after, below, limit, using)
        if not heads:
            return FeedRead([], None, True)
        ids = [head[1] for head in heads]
        rows = events.filter(pk__in=ids).order_by("xact", "id").values_list(*_COLUMNS)
        found = [FeedEvent._make(row) for row in rows]
        last = heads[-1]
        return FeedRead(found, Position(last[0], last[1], int(last[2].timestamp())), len(heads) < limit)
    end = None
    if events.query.where:
        # The end of the window: the WINDOW-th event after the position (None: fewer are left).
        window = _between(everything, after, None, below).values_list("xact", "id", "recorded_at")
        end = window[WINDOW - 1 : WINDOW].first()
    until = (end[0], end[1]) if end is not None else None
    rows = _between(events, after, until, below).values_list(*_COLUMNS)[:limit]
    found = [FeedEvent._make(row) for row in rows]
    if len(found) == limit:
        return FeedRead(found, found[-1].position(), False)
    if end is not None:  # the window held fewer: go on after its end
        return FeedRead(found, Position(end[0], end[1], int(end[2].timestamp())), False)
    return FeedRead(found, found[-1].position() if found else None, True)


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
    read = changes_after(scope=scope, after=after, types=types, region=region, limit=limit, using=using)
    events = read.events
    worker_ids = sorted({event.worker_id for event in events})
    workers = scope.filter(ApparatusWorker.objects.using(using).filter(pk__in=worker_ids))
    rows = {row.id: row for row in worker_rows(workers)} if worker_ids else {}
    shown: dict[int, dict[str, Any]] = {}
    zone = timezone.get_current_timezone()
    changes = []
    for event in events:
        row = rows.get(event.worker_id)
        if row is not None and row.id not in shown:
            shown[row.id] = worker_row_data(row, full=full, zone=zone)
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
    position = read.position or after
    if read.up_to_date:
        # Nothing after the position was visible now, so whatever follows it is newer than now.
        position = Position(position.xact, position.id, int(timezone.now().timestamp()))
    return FeedPage(
        changes=changes,
        position=position,
        up_to_date=read.up_to_date,
        shown_in_full=sorted({event.worker_id for event in events}) if full else [],
    )


def feed_end(using: str = "default") -> Position:
    """The position after the last change visible now (below the feed's horizon), whoever reads:
    a reader starting here gets every change made from now on and none before. The start of the
    feed when it is empty."""
    below = finished_below(using)
    events = EnrollmentEvent.objects.using(using).all()
    if below is not None:
        events = events.filter(xact__lt=below)
    last = events.order_by("-xact", "-id").values_list("xact", "id", "recorded_at").first()
    if last is None:
        return Position(0, 0, int(timezone.now().timestamp()))
    return Position(last[0], last[1], int(last[2].timestamp()))
