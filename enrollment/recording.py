"""What one recorded change writes, defined once: its history event, the worker's state period and
the coverage counters.

Two forms share every rule here:
- one change of a locked worker (`LockedWorker.record`), which the services make inside
  `worker_locked` / `worker_created` (enrollment.writing): the rows join the write batch;
- whole new histories built in memory (`NewHistory`), which the import and the demo write in
  bulk. The synthetic generator writes the same rows with SQL of its own; a test replays its
  workers through `NewHistory` and compares every row (tests/seed/test_synthetic_recording.py).

What a change records as `changes` is {field: [old, new]} of every field it changed, values as
JSON (`json_value`): a registration records each field it was given a value for.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model

from access.context import may_see_personal_data, scope_for
from access.scope import EVERYTHING, Scope
from core.db import WriteBatch
from enrollment.counting import CounterKey, CounterState, counter_statements
from villages.models import Village

from . import transitions
from .choices import EnrollmentStatus, EventKind, EventSource, WageBasis
from .models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerPeriod

Diff = Mapping[str, tuple[Any, Any]]
ACTIVE = str(EnrollmentStatus.ACTIVE)


@dataclass(frozen=True)
class Actor:
    """Who makes a change and through what: a user or an API client, and the source.

    Every write service refuses a region outside the actor's `scope` (`Scope.require`): its
    user's (access.context), or everything for the system itself; an operator's command may
    limit it to a region (`region_scope`)."""

    user: AbstractBaseUser | None = None
    label: str = ""
    source: str = EventSource.API
    import_id: int | None = None
    reconciliation_id: int | None = None  # the reconciliation whose accepted rows the change applies
    region_scope: Scope | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(label="system", source=EventSource.SYSTEM)

    @property
    def scope(self) -> Scope:
        if self.region_scope is not None:
            return self.region_scope
        return scope_for(self.user) if self.user is not None else EVERYTHING

    @property
    def personal_data(self) -> bool:
        """Whether the actor sees personal data (access.context): the system does."""
        return self.user is None or may_see_personal_data(self.user)


# --- the history event's changes ----------------------------------------------------------------


def json_value(value: Any) -> Any:
    """A field's value as the history stores it: dates as ISO text, a village as its code."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Village):
        return value.code
    return value


def changes_json(diff: Diff) -> dict[str, list[Any]]:
    """The `changes` of an event: {field: [old, new]}."""
    return {name: [json_value(old), json_value(new)] for name, (old, new) in diff.items()}


_CONSTANTS = {None: "null", True: "true", False: "false"}
_KEYS: dict[str, str] = {}  # field names as JSON keys, encoded once


def _text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)  # what json.dumps itself uses for a str
    if value is None or kind is bool:
        return _CONSTANTS[value]
    if kind is datetime.date:
        return f'"{value.isoformat()}"'
    if kind is int:
        return str(value)
    return json.dumps(json_value(value))


def _key(name: str) -> str:
    text = _KEYS.get(name)
    if text is None:
        text = _KEYS[name] = encode_basestring_ascii(name)
    return text


def changes_text(diff: Diff) -> str:
    """`json.dumps(changes_json(diff))`, quicker: a bulk import of 100,000 new workers writes over
    a million changed values, and encoding them one dict at a time was most of its cost."""
    pairs = (f"{_key(name)}: [{_text(old)}, {_text(new)}]" for name, (old, new) in diff.items())
    return "{" + ", ".join(pairs) + "}"


def registration_changes(data: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """What a registration records: each of the worker's fields it was given a value for."""
    return {name: (None, value) for name, value in data.items() if value is not None and value != ""}


# --- a transition applied ------------------------------------------------------------------------


class Applied(NamedTuple):
    """A transition applied to an enrollment: the status it leads to, the history's diff, and the
    enrollment and worker fields to write (only those that change, for the enrollment)."""

    to_status: str
    diff: dict[str, tuple[Any, Any]]
    enrollment: dict[str, Any]
    worker: dict[str, Any]


def transition_applied(
    kind: str,
    *,
    status: str,
    enrollment: Mapping[str, Any],
    worker: Mapping[str, Any],
    date: datetime.date,
    params: Mapping[str, Any],
) -> Applied:
    """What `transitions.TABLE[kind]` does from `status`, given the enrollment's and the worker's
    current field values and what the caller sent. The table's own rules are not checked here
    (`Transition.validator`): the services check them first; bulk writers check them per row."""
    rule = transitions.TABLE[kind]
    to_status = rule.target(status)
    diff: dict[str, tuple[Any, Any]] = {"status": (status, to_status)}
    enrollment_set: dict[str, Any] = {}
    if rule.enrollment_values is not None:
        for name, value in rule.enrollment_values(params).items():
            if enrollment[name] != value:
                diff[name] = (enrollment[name], value)
                enrollment_set[name] = value
    worker_set: dict[str, Any] = {}
    for name, value in rule.worker_sets.items():
        value = date if value is transitions.EFFECTIVE_DATE else value
        if name in rule.worker_recorded:
            diff[name] = (worker[name], value)
        worker_set[name] = value
    return Applied(to_status, diff, enrollment_set, worker_set)


# --- the state period and the counters ---------------------------------------------------------


@dataclass(slots=True)
class WorkerFacts:
    """A new worker as bulk writers hold it (they write its row themselves): what a history
    reads and what a transition may set."""

    pk: int
    village_id: int
    district_id: int
    regency_id: int
    province_id: int
    institution: str
    serving: bool
    term_started: bool
    term_end: datetime.date | None
    wage_basis: str = ""
    monthly_wage: int | None = None

    @classmethod
    def of(
        cls,
        worker_id: int,
        village: Village,
        *,
        institution: str,
        term_started: bool,
        term_end: datetime.date | None,
        wage_basis: str = "",
        monthly_wage: int | None = None,
    ) -> WorkerFacts:
        return cls(
            worker_id,
            village.pk,
            village.district_id,
            village.regency_id,
            village.province_id,
            institution,
            True,
            term_started,
            term_end,
            wage_basis,
            monthly_wage,
        )


class PeriodState(NamedTuple):
    """A worker's state over a period: where it serves, whether, and its enrollment."""

    village_id: int
    district_id: int
    regency_id: int
    province_id: int
    institution: str
    serving: bool
    status: str
    funding_source: str
    paid_until: datetime.date | None


# The columns of `NewHistory.period_rows`.
PERIOD_COLUMNS = ("worker_id", "valid_from", "valid_to", *PeriodState._fields)


# What the period and the counters read of a worker: a saved one, or a new one held in bulk.
WorkerLike = ApparatusWorker | WorkerFacts


def period_state(
    worker: WorkerLike, *, status: str, funding_source: str, paid_until: datetime.date | None
) -> PeriodState:
    """The state a change leaves the worker in (the funding source counts only while active)."""
    return PeriodState(
        worker.village_id,
        worker.district_id,
        worker.regency_id,
        worker.province_id,
        worker.institution,
        worker.serving,
        status,
        funding_source if status == ACTIVE else "",
        paid_until,
    )


def replaces_open_period(open_from: datetime.date | None, date: datetime.date) -> bool:
    """Whether a change on `date` replaces the state of the open period (which starts at
    `open_from`) instead of closing it and opening one: a second change on the same day replaces
    that day's state, and so does a change before the open period starts (a worker registered
    ahead of its term start has one period from that start; before it, it serves nowhere)."""
    return open_from is not None and open_from >= date


def counter_state(worker: WorkerLike, status: str, funding_source: str) -> CounterState | None:
    """Where and how the worker counts: nowhere unless serving and its term has started (a worker
    registered ahead of its term start counts once `services.terms_start` has started it); when
    protected, by its enrollment's funding source; when not, by its wage if it earns one."""
    if not (worker.serving and worker.term_started):
        return None
    key = CounterKey(worker.village_id, worker.district_id, worker.regency_id, worker.province_id, worker.institution)
    if status == ACTIVE:
        return CounterState(key, True, funding_source)
    earns = worker.wage_basis == WageBasis.SILTAP and worker.monthly_wage is not None
    return CounterState(key, False, "", worker.monthly_wage if earns else None)


def event_values(
    *,
    worker_id: int,
    kind: str,
    effective_date: datetime.date,
    actor: Actor,
    from_status: str,
    to_status: str,
    changes: Any,
) -> dict[str, Any]:
    """An event's fields (by attname) but its id and time of recording."""
    user = actor.user
    return {
        "worker_id": worker_id,
        "kind": str(kind),
        "effective_date": effective_date,
        "actor_id": user.pk if user is not None and user.is_authenticated else None,
        "actor_label": actor.label or (user.get_username() if user is not None else ""),
        "source": str(actor.source),
        "from_status": from_status,
        "to_status": to_status,
        "changes": changes,
        "import_batch_id": actor.import_id,
        "reconciliation_id": actor.reconciliation_id,
    }


# --- one change, under the worker's lock ---------------------------------------------------------


@dataclass
class BatchRows:
    """What the changes of many locked workers write (`enrollment.writing.workers_locked`),
    collected as rows to be written in bulk once every change is made: the same rows, decided
    by the same code (`LockedWorker.record`), as one worker's change sends as statements.

    A worker changed twice in the batch has its rows merged as the statements would have left
    them: its row saved once with every field named, a period it opened in the batch replaced
    or closed in memory."""

    saved: dict[tuple[type[Model], int], tuple[Model, dict[str, None]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    periods_closed: dict[int, datetime.date] = field(default_factory=dict)  # worker: valid_to of its stored open period
    periods_replaced: dict[int, PeriodState] = field(default_factory=dict)  # worker: new state of its stored open one
    periods_new: dict[int, list[list[Any]]] = field(default_factory=dict)  # worker: [valid_from, valid_to, state]
    counted: list[tuple[CounterState | None, CounterState | None]] = field(default_factory=list)
    changed: bool = False

    def save(self, obj: Model, update_fields: list[str]) -> None:
        _obj, fields = self.saved.setdefault((type(obj), obj.pk), (obj, {}))
        fields.update(dict.fromkeys(update_fields))

    def period(self, worker_id: int, open_from: datetime.date | None, start: datetime.date, state: PeriodState) -> None:
        """The period rows of a change from `start` (see `LockedWorker.record`)."""
        opened = self.periods_new.get(worker_id)
        if replaces_open_period(open_from, start):
            if opened:
                opened[-1][2] = state
            else:
                self.periods_replaced[worker_id] = state
            return
        if open_from is not None:
            if opened:
                opened[-1][1] = start
            else:
                self.periods_closed[worker_id] = start
        self.periods_new.setdefault(worker_id, []).append([start, None, state])


@dataclass
class LockedWorker:
    """A worker locked for writing (or just created) in the current transaction, with what the
    lock read beside it, and where its writes go: `writes`, a batch of statements that
    `enrollment.writing` sends when the service returns (one worker), or `batch`, the rows of
    many workers' changes written in bulk at the end (`writing.workers_locked`). Either way the
    data version moves on once."""

    worker: ApparatusWorker
    enrollment: Enrollment
    last_change: datetime.date | None  # the effective date of its last event
    open_from: datetime.date | None  # where its open state period starts
    writes: WriteBatch = field(default_factory=WriteBatch)
    changed: bool = False  # whether anything was recorded (and the data version must move)
    batch: BatchRows | None = None  # set when the worker is one of a batch
    province_before: int | None = None  # the worker's province when locked (None: new)

    def provinces(self) -> set[int]:
        """The provinces whose figures the worker's changes may move: where it was, where it is."""
        return {p for p in (self.province_before, self.worker.province_id) if p is not None}

    def counted(self) -> CounterState | None:
        return counter_state(self.worker, self.enrollment.status, self.enrollment.funding_source)

    def save(self, obj: ApparatusWorker | Enrollment, *, update_fields: list[str]) -> None:
        """`obj.save(update_fields=...)` of the worker's or its enrollment's row, with the others."""
        if self.batch is None:
            self.writes.save(obj, update_fields=update_fields)
        else:
            self.batch.save(obj, update_fields)

    def record(
        self,
        *,
        kind: str,
        actor: Actor,
        effective_date: datetime.date,
        from_status: str,
        diff: Diff,
        counted_before: CounterState | None,
        period_from: datetime.date | None = None,
    ) -> None:
        """Add what the change writes after the worker's and enrollment's own rows: the state
        period (from `period_from` when given, a registration ahead of its term start; otherwise
        from the effective date), the history event and the counters."""
        worker, enrollment = self.worker, self.enrollment
        to_status = enrollment.status
        state = period_state(
            worker, status=to_status, funding_source=enrollment.funding_source, paid_until=enrollment.paid_until
        )
        start = period_from or effective_date
        batch = self.batch
        if batch is not None:
            batch.period(worker.pk, self.open_from, start, state)
        else:
            open_period = {"worker_id": worker.pk, "valid_to__isnull": True}
            if replaces_open_period(self.open_from, start):
                self.writes.update_where(WorkerPeriod, open_period, rows=1, **state._asdict())
            else:
                if self.open_from is not None:
                    self.writes.update_where(WorkerPeriod, open_period, rows=1, valid_to=start)
                self.writes.insert(WorkerPeriod(worker_id=worker.pk, valid_from=start, **state._asdict()))
        if not replaces_open_period(self.open_from, start):
            self.open_from = start
        self.last_change = effective_date
        event = event_values(
            worker_id=worker.pk,
            kind=kind,
            effective_date=effective_date,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            changes=changes_json(diff),
        )
        if batch is not None:
            batch.events.append(event)
        else:
            self.writes.insert(EnrollmentEvent(**event))
        self.count(counted_before)

    def count(self, counted_before: CounterState | None) -> None:
        """Move the counters from how the worker counted before to how it counts now."""
        if self.batch is not None:
            self.batch.counted.append((counted_before, self.counted()))
            self.batch.changed = True
        else:
            self.writes.extend(counter_statements(before=counted_before, after=self.counted()))
        self.changed = True


# --- whole new histories, in bulk ----------------------------------------------------------------


class Event(NamedTuple):
    kind: str
    effective_date: datetime.date
    from_status: str
    to_status: str
    diff: dict[str, tuple[Any, Any]]


class Period(NamedTuple):
    valid_from: datetime.date
    valid_to: datetime.date | None
    state: PeriodState


# A new enrollment's membership fields, as `Enrollment.objects.create(worker=...)` leaves them.
ENROLLMENT_START: dict[str, Any] = {
    field.name: field.get_default()
    for field in Enrollment._meta.concrete_fields
    if field.name in transitions.MEMBERSHIP_FIELDS
}


class NewHistory:
    """A new worker's history built in memory, change by change, exactly as the services would
    record it through `LockedWorker.record`: its events, its state periods, and how it counts in
    the end. `worker` is the new worker as registered (a transition may change it)."""

    def __init__(self, worker: WorkerLike) -> None:
        self.worker = worker
        self.status = str(transitions.INITIAL_STATUS)
        self.enrollment: dict[str, Any] = dict(ENROLLMENT_START)
        self.events: list[Event] = []
        self.periods: list[Period] = []

    def register(self, data: Mapping[str, Any], *, effective_date: datetime.date, period_from: datetime.date) -> None:
        """The registration, recording `data` (the worker's own fields as given)."""
        self._record(EventKind.REGISTERED, effective_date, "", registration_changes(data), period_from)

    def apply(self, kind: str, *, effective_date: datetime.date, params: Mapping[str, Any] | None = None) -> None:
        """A transition (its rules already checked by the caller; `IllegalTransition` if the table
        does not allow it from the current status)."""
        transitions.target(kind, self.status)
        worker = self.worker
        applied = transition_applied(
            kind,
            status=self.status,
            enrollment=self.enrollment,
            worker={name: getattr(worker, name) for name in transitions.WORKER_FIELDS_SET},
            date=effective_date,
            params=params or {},
        )
        self.enrollment.update(applied.enrollment)
        for name, value in applied.worker.items():
            setattr(worker, name, value)
        from_status, self.status = self.status, applied.to_status
        self._record(kind, effective_date, from_status, applied.diff, effective_date)

    def _record(
        self, kind: str, date: datetime.date, from_status: str, diff: dict[str, tuple[Any, Any]], start: datetime.date
    ) -> None:
        self.events.append(Event(str(kind), date, from_status, self.status, diff))
        state = period_state(
            self.worker,
            status=self.status,
            funding_source=self.enrollment["funding_source"],
            paid_until=self.enrollment["paid_until"],
        )
        periods = self.periods
        if periods and replaces_open_period(periods[-1].valid_from, start):
            periods[-1] = periods[-1]._replace(state=state)
        else:
            if periods:
                periods[-1] = periods[-1]._replace(valid_to=start)
            periods.append(Period(start, None, state))

    def counted(self) -> CounterState | None:
        return counter_state(self.worker, self.status, self.enrollment["funding_source"])

    def enrollment_row(self) -> tuple[Any, ...]:
        """(status, *MEMBERSHIP_FIELDS) of the enrollment in the end."""
        enrollment = self.enrollment
        return (self.status, *(enrollment[name] for name in transitions.MEMBERSHIP_FIELDS))

    def period_rows(self) -> Iterator[tuple[Any, ...]]:
        """(worker_id, valid_from, valid_to, *PeriodState) of each period."""
        worker_id = self.worker.pk
        for period in self.periods:
            yield (worker_id, period.valid_from, period.valid_to, *period.state)
