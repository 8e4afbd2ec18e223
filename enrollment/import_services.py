"""The write path of spreadsheet imports.

Rows are checked with the same rules as the API (`rules.rule_worker`,
`rules.rule_membership`, `rules.rule_period`, NIK and KPJ uniqueness), matched on NIK, and then:
new workers are written in bulk (worker, enrollment, `registered` and, with membership
columns, `activated` history events, state periods and counters, exactly as the services
write them), changed workers go through `worker_update` / `enrollment_activate` /
`enrollment_renew` one by one. Every event carries the source `import` and the import record.
All of it is one transaction: with `all_or_nothing`, one rejected row means nothing is written.
The worker rows of new workers are written while the rows are still being checked (see
`_NewWorkers`); a rejected row in an all-or-nothing import rolls them back with the rest.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from access.choices import Capability
from access.scope import Scope
from core.bulk import insert_rows, next_ids, row_writer
from core.clock import today
from core.errors import ConflictError, OutOfScopeError, ServiceError
from enrollment import counting
from enrollment.counting import CounterKey, counters_add
from villages.models import IN_FORCE, Village

from . import rules, services, transitions
from .choices import EventKind, EventSource, Scheme
from .imports import MAX_ERRORS, NO_VALUES, ParsedRow, RowError, Values, read_rows
from .models import ApparatusWorker, Enrollment, EnrollmentEvent, WorkerImport, WorkerPeriod
from .recording import Actor, NewHistory, WorkerFacts, changes_text, event_values
from .transitions import MEMBERSHIP_FIELDS

CHUNK = 5000
PROGRESS_EVERY = 1000  # rows checked between two reports to `progress`
COMPARED_FIELDS = [f for f in services.WORKER_FIELDS if f != "village"]
EXISTING_FIELDS = [
    "pk",
    "village_id",
    "village__code",
    "village__name",
    "regency_id",
    "province_id",
    "version",
    "enrollment__status",
    "enrollment__paid_until",
    *COMPARED_FIELDS,
]
FIELD_TO_COLUMN = {"village": "village_code"}
ProgressCallback = Callable[[str, int, int], None]


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    committed: bool = False
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    errors_omitted: int = 0

    def add_errors(self, row: ParsedRow) -> None:
        room = max(MAX_ERRORS - len(self.errors), 0)
        self.errors.extend(row.errors[:room])
        self.errors_omitted += max(len(row.errors) - room, 0) + row.errors_omitted

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "committed": self.committed,
            "dry_run": self.dry_run,
            "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in self.errors],
            "errors_omitted": self.errors_omitted,
        }


@dataclass(slots=True)
class _Plan:
    row: ParsedRow
    village: Village
    data: Mapping[str, Any]
    membership: Mapping[str, Any] | None
    existing: Any = None  # the serving worker with this NIK: a row of EXISTING_FIELDS


def _reject(row: ParsedRow, exc: ServiceError) -> None:
    for error in exc.errors:
        column = FIELD_TO_COLUMN.get(error.field or "", error.field)
        row.errors.append(RowError(row.number, column, error.message))


def _worker_data(values: Mapping[str, Any], village: Village) -> dict[str, Any]:
    return {
        "village": village,
        "nik": values["nik"],
        "full_name": " ".join(values["full_name"].split()),
        "sex": values["sex"],
        "birth_date": values["birth_date"],
        "phone": values.get("phone") or "",
        "institution": values["institution"],
        "position": values["position"],
        "term_start": values["term_start"],
        "term_end": values.get("term_end"),
        "wage_basis": values["wage_basis"],
        "monthly_wage": values.get("monthly_wage"),
    }


def _membership(values: Mapping[str, Any]) -> dict[str, Any]:
    programs = set(values["programs"])
    scheme = values["scheme"]
    return {
        "kpj_number": values["kpj_number"],
        "scheme": scheme,
        "npp": values.get("npp") or "" if scheme == Scheme.PU else "",
        "programs": sorted(programs),
        "funding_source": values["funding_source"],
        "coverage_start": values["coverage_start"],
        "paid_until": values["paid_until"],
    }


def _registration_date(data: Mapping[str, Any], now: datetime.date) -> datetime.date:
    term_start: datetime.date = data["term_start"]
    return min(term_start, now)


def _activation_date(data: Mapping[str, Any], membership: Mapping[str, Any], now: datetime.date) -> datetime.date:
    coverage_start: datetime.date = membership["coverage_start"]
    return max(_registration_date(data, now), min(coverage_start, now))


def _chunks(numbers: list[str]) -> Iterator[list[str] | RawSQL]:
    """`numbers` (NIKs or KPJ numbers: digits only, as `read_rows` leaves them) as right-hand
    sides of `__in` lookups. PostgreSQL: all of them at once, as one comma-separated parameter
    split by the database; 100,000 separate parameters, or a list adapted to an array, cost
    seconds to build, send and plan. Other databases: lists of CHUNK numbers (SQLite caps the
    parameters of a statement)."""
    if not numbers:
        return
    if connection.vendor == "postgresql":
        joined = ",".join(numbers)
        if joined.count(",") == len(numbers) - 1:  # no number contains the separator
            yield RawSQL("SELECT unnest(string_to_array(%s, ','))", (joined,))
            return
    for start in range(0, len(numbers), CHUNK):
        yield numbers[start : start + CHUNK]


class _RowChecker:
    """Checks rows one by one against the rules and the database; rows with problems get errors.

    The database is read once, up front, for every row (villages, serving NIKs, KPJ owners), so
    checking the rows themselves runs no query: new workers can be written while it goes on.
    """

    def __init__(self, rows: list[ParsedRow], scope: Scope):
        codes = {row.values.get("village_code") for row in rows if not row.rejected}
        self.villages = {v.code: v for v in Village.objects.filter(IN_FORCE, code__in=[c for c in codes if c])}
        niks = [row.values["nik"] for row in rows if not row.rejected]
        # Named tuples rather than dicts: a re-imported file holds 100,000 of them at once.
        self.existing: dict[str, Any] = {}
        for chunk in _chunks(niks):
            for worker in (
                ApparatusWorker.objects.filter(nik__in=chunk, serving=True)
                .values_list(*EXISTING_FIELDS, named=True)
                .iterator(chunk_size=CHUNK)
            ):
                self.existing[worker.nik] = worker
        kpjs: list[str] = [kpj for row in rows if not row.rejected and (kpj := row.values.get("kpj_number"))]
        self.kpj_owner: dict[str, int] = {}
        for chunk in _chunks(kpjs):
            self.kpj_owner.update(
                # The KPJ numbers are not None: `kpj_number__in` matches no NULL.
                cast(
                    "Iterable[tuple[str, int]]",
                    Enrollment.objects.filter(kpj_number__in=chunk).values_list("kpj_number", "worker_id"),
                )
            )
        # At most this many rows can make new workers (fewer if some are refused).
        self.new_at_most = len(set(niks) - self.existing.keys())
        self.scope = scope
        self.seen_nik: dict[str, int] = {}
        self.seen_kpj: dict[str, int] = {}
        self.now = today()
        self.may_enroll = scope.can(Capability.MANAGE_ENROLLMENT)
        self.indexes: dict[tuple[str, ...], dict[str, int]] = {}  # see imports.Values.of

    def check(self, row: ParsedRow) -> _Plan | None:
        """The plan for a row read without errors, or None when the row is refused."""
        scope, existing, kpj_owner = self.scope, self.existing, self.kpj_owner
        seen_nik, seen_kpj, now = self.seen_nik, self.seen_kpj, self.now
        values = row.values
        village = self.villages.get(values["village_code"])
        try:  # an unknown code is answered as one outside the region: the same rule as the services'
            if village is None:
                raise OutOfScopeError(field="village")
            scope.require(province_id=village.province_id, regency_id=village.regency_id, field="village")
        except OutOfScopeError as exc:
            _reject(row, exc)
            return None
        nik = values["nik"]
        if nik in seen_nik:
            row.errors.append(
                RowError(row.number, "nik", _("The same NIK is on row %(row)d of this file.") % {"row": seen_nik[nik]})
            )
            return None
        seen_nik[nik] = row.number
        data = _worker_data(values, village)
        try:
            rules.rule_worker(data, now=now)
        except ServiceError as exc:
            _reject(row, exc)
            return None
        membership = None
        has_enrollment = row.has_enrollment
        if has_enrollment and not self.may_enroll:
            row.errors.append(
                RowError(
                    row.number,
                    "kpj_number",
                    _("Membership columns may be filled only by those who manage enrollments (BPJS branch)."),
                )
            )
            return None
        if has_enrollment:
            membership = _membership(values)
            try:
                rules.rule_membership(
                    kpj_number=membership["kpj_number"],
                    scheme=membership["scheme"],
                    programs=set(membership["programs"]),
                    npp=membership["npp"],
                )
                rules.rule_period(
                    membership["coverage_start"],
                    membership["paid_until"],
                    _activation_date(data, membership, now),
                    now=now,
                )
            except ServiceError as exc:
                _reject(row, exc)
                return None
            kpj = membership["kpj_number"]
            if kpj in seen_kpj:
                row.errors.append(
                    RowError(
                        row.number,
                        "kpj_number",
                        _("The same KPJ number is on row %(row)d of this file.") % {"row": seen_kpj[kpj]},
                    )
                )
                return None
            seen_kpj[kpj] = row.number
        worker = existing.get(nik)
        if worker is not None and worker.village_id != village.pk:
            row.errors.append(
                RowError(
                    row.number,
                    "nik",
                    services.nik_serving_elsewhere(
                        scope=scope,
                        province_id=worker.province_id,
                        regency_id=worker.regency_id,
                        village_code=worker.village__code,
                        village_name=worker.village__name,
                        worker_id=None,
                    ),
                )
            )
            return None
        worker_id = worker.pk if worker else None
        if membership and kpj_owner.get(membership["kpj_number"], worker_id) != worker_id:
            row.errors.append(
                RowError(row.number, "kpj_number", _("The KPJ number is already recorded for another worker."))
            )
            return None
        # The plan keeps what the row's values became, as compactly (Values): a file's plans are
        # all held until its new workers are written, and the row's own values are let go.
        plan = _Plan(
            row, village, Values.of(data, self.indexes), membership and Values.of(membership, self.indexes), worker
        )
        row.values = NO_VALUES
        if worker is not None and membership is not None and _membership_action(plan):
            # enrollment_activate / enrollment_renew take effect today (not on the activation date
            # checked above): refuse the row now rather than fail the whole import while writing.
            try:
                rules.rule_period(membership["coverage_start"], membership["paid_until"], now, now=now)
            except ServiceError as exc:
                _reject(row, exc)
                return None
        return plan


def _worker_changes(plan: _Plan) -> dict[str, Any]:
    worker = plan.existing
    return {f: plan.data[f] for f in COMPARED_FIELDS if getattr(worker, f) != plan.data[f]}


def _membership_action(plan: _Plan) -> Literal["activate", "renew"] | None:
    """What the row asks of an existing worker's membership: None, 'activate' or 'renew'."""
    if not plan.membership:
        return None
    status, paid_until = plan.existing.enrollment__status, plan.existing.enrollment__paid_until
    if transitions.TABLE[EventKind.ACTIVATED].allows(status):
        return "activate"
    # A renewal that would not pay further is no change asked for, not an error.
    if transitions.TABLE[EventKind.RENEWED].allows(status) and plan.membership["paid_until"] > paid_until:
        return "renew"
    return None


# The worker's own fields (as `worker_register` takes them) with the village's parents.
WORKER_COLUMNS = (
    "id",
    "village_id",
    "district_id",
    "regency_id",
    "province_id",
    *COMPARED_FIELDS,
    "enrollment_status",
    "term_started",
)
ENROLLMENT_COLUMNS = ("worker_id", "status", *MEMBERSHIP_FIELDS)
# Events and periods leave out their id: nothing links to them, and the database numbers them
# in the order written, so a worker's `registered` event still comes before its `activated`.
EVENT_COLUMNS = (
    "worker_id",
    "kind",
    "effective_date",
    "from_status",
    "to_status",
    "changes",
    "actor_id",
    "actor_label",
    "source",
    "import_batch_id",
)
PERIOD_COLUMNS = (
    "worker_id",
    "valid_from",
    "valid_to",
    "village_id",
    "district_id",
    "regency_id",
    "province_id",
    "institution",
    "serving",
    "status",
    "funding_source",
    "paid_until",
)
# Plain strings: the rows below are built 100,000 times over, and these go straight to the database.
# A new worker with membership columns is registered, then activated (`transitions.target` checks
# that this path is legal).
NOT_REGISTERED = str(transitions.INITIAL_STATUS)
ACTIVE = str(transitions.target(EventKind.ACTIVATED, NOT_REGISTERED))
ACTIVATED = EventKind.ACTIVATED.value


class _NewWorkers:
    """New workers written in bulk, shaped exactly as `worker_register` (+ `enrollment_activate`).

    The worker rows are written as the rows are checked (`add`, inside `writing()`): on
    PostgreSQL the database stores them while the rest of the file is still being checked. The
    enrollments, history events, periods and counters follow once every row is checked
    (`finish`), generated while they are written, so memory holds the plans only.
    """

    def __init__(self, actor: Actor, count: int):
        """`count`: at least as many workers as will be added (their ids are drawn now)."""
        self.actor = actor
        self.now = today()
        self.ids = iter(next_ids(ApparatusWorker, count))
        self.plans: list[_Plan] = []
        self.worker_ids: list[int] = []
        self._write: Callable[[Sequence[Any]], None] | None = None

    @contextmanager
    def writing(self) -> Iterator[None]:
        with row_writer(ApparatusWorker, WORKER_COLUMNS) as write:
            self._write = write
            try:
                yield
            finally:
                self._write = None

    def add(self, plan: _Plan) -> None:
        worker_id = next(self.ids)
        self.plans.append(plan)
        self.worker_ids.append(worker_id)
        data, village = plan.data, plan.village
        assert self._write is not None, "add() is called inside writing()"
        self._write(
            (
                worker_id,
                village.pk,
                village.district_id,
                village.regency_id,
                village.province_id,
                data["nik"],
                data["full_name"],
                data["sex"],
                data["birth_date"],
                data["phone"],
                data["institution"],
                data["position"],
                data["term_start"],
                data["term_end"],
                data["wage_basis"],
                data["monthly_wage"],
                ACTIVE if plan.membership else NOT_REGISTERED,
                data["term_start"] <= self.now,  # see `worker_register`: a future term counts from its start
            )
        )

    def _history(self, worker_id: int, plan: _Plan) -> NewHistory:
        """The worker's history as `worker_register` (+ `enrollment_activate`) records it."""
        data, membership, now = plan.data, plan.membership, self.now
        term_start = data["term_start"]
        worker = WorkerFacts.of(
            worker_id,
            plan.village,
            institution=data["institution"],
            term_started=term_start <= now,
            term_end=data["term_end"],
            wage_basis=data["wage_basis"],
            monthly_wage=data.get("monthly_wage"),
        )
        history = NewHistory(worker)
        registered = _registration_date(data, now)
        # As `worker_register`: a future term start opens the worker's one period at that start.
        history.register(data, effective_date=registered, period_from=max(term_start, registered))
        if membership:
            history.apply(ACTIVATED, effective_date=_activation_date(data, membership, now), params=membership)
        return history

    def finish(self, progress: ProgressCallback | None) -> int:
        """Write the rest for the workers added; returns their number."""
        actor, plans = self.actor, self.plans
        total = len(plans)
        tail = event_values(
            worker_id=0, kind="", effective_date=self.now, actor=actor, from_status="", to_status="", changes=None
        )
        event_tail = tuple(tail[name] for name in EVENT_COLUMNS[6:])
        # Each history is built once, while its events are written (the largest rows, streamed);
        # the enrollment and period rows it gives are kept (a few tens of bytes each) and written
        # after, with the counters' deltas.
        enrollments: list[tuple[Any, ...]] = []
        periods: list[tuple[Any, ...]] = []
        deltas: dict[CounterKey, list[int]] = defaultdict(lambda: [0] * counting.VALUES)

        def events() -> Iterator[tuple[Any, ...]]:
            for worker_id, plan in zip(self.worker_ids, plans, strict=True):
                history = self._history(worker_id, plan)
                enrollments.append((worker_id, *history.enrollment_row()))
                periods.extend(history.period_rows())
                counted = history.counted()
                if counted is not None:  # a future term counts once `terms_start` has started it
                    delta = deltas[counted.key]
                    for i, value in enumerate(counting.counter_values(counted)):
                        delta[i] += value
                for event in history.events:
                    yield (worker_id, *event[:4], changes_text(event.diff), *event_tail)

        if progress:
            progress("write", 0, total)
        if plans:
            insert_rows(EnrollmentEvent, EVENT_COLUMNS, events(), json_text=True)
            insert_rows(Enrollment, ENROLLMENT_COLUMNS, enrollments)
            insert_rows(WorkerPeriod, PERIOD_COLUMNS, periods)
        counters_add(deltas)  # one round trip on PostgreSQL: see coverage.services.counter_statements
        if progress:
            progress("write", total, total)
        return total


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block. Reading and checking 100,000 rows
    allocates millions of small objects, none of them in reference cycles, and the collector
    scanning them again and again took a fifth of the import's Python time. Reference counting
    still frees everything; the collector resumes (if it was on) when the block ends."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _concurrent_change(exc: IntegrityError) -> ConflictError:
    return ConflictError(
        _("Another change registered one of these NIKs or KPJ numbers meanwhile; upload the file again."),
        code="concurrent_change",
    )


def _check_and_write_new(
    rows: list[ParsedRow],
    scope: Scope,
    actor: Actor,
    summary: ImportSummary,
    *,
    dry_run: bool,
    all_or_nothing: bool,
    progress: ProgressCallback | None,
) -> tuple[int, list[_Plan], bool]:
    """Check every row, counting the unchanged ones, and write the new workers if the import
    writes; returns the number of new rows, the changed rows' plans and whether the import writes."""
    checker = _RowChecker(rows, scope)
    # New workers are written as soon as their row is checked, unless nothing will be written
    # anyway (a dry run, or rows already refused in an all-or-nothing import).
    stream = not dry_run and not (all_or_nothing and any(row.rejected for row in rows))
    new_workers = _NewWorkers(actor, checker.new_at_most if stream else 0)
    # Only changed rows, and new ones being written, keep their plan: a re-imported file is
    # mostly unchanged, and a dry run of 200,000 new rows held 200,000 plans just to count them.
    new = 0
    changed: list[_Plan] = []
    try:
        with new_workers.writing() if stream and checker.new_at_most else nullcontext():
            for number, row in enumerate(rows, 1):
                if progress and not number % PROGRESS_EVERY:
                    progress("check", number, len(rows))
                if row.rejected:
                    continue
                plan = checker.check(row)
                if plan is None:
                    # All or nothing: this import will write nothing, stop writing now.
                    stream = stream and not all_or_nothing
                elif plan.existing is None:
                    new += 1
                    if stream:
                        new_workers.add(plan)
                elif _worker_changes(plan) or _membership_action(plan):
                    changed.append(plan)
                else:
                    summary.unchanged += 1
        if progress:
            progress("check", len(rows), len(rows))
        write = not dry_run and not (all_or_nothing and any(row.rejected for row in rows))
        if write:
            new_workers.finish(progress)
    except IntegrityError as exc:
        raise _concurrent_change(exc) from exc
    return new, changed, write


def read_file_rows(*, file_name: str, data: bytes, progress: ProgressCallback | None = None) -> list[ParsedRow]:
    """The rows of an import's file, read (`imports.ImportFileError` for a file refused as a whole)."""
    if progress:
        progress("read", 0, 0)
    with _cyclic_gc_paused():
        return read_rows(name=file_name, data=data)


def workers_import(
    *,
    actor: Actor,
    file_name: str,
    data: bytes,
    dry_run: bool = False,
    all_or_nothing: bool = True,
    progress: ProgressCallback | None = None,
    before_matching: Callable[[int, str], None] | None = None,
    rows: list[ParsedRow] | None = None,
) -> tuple[WorkerImport, ImportSummary]:
    """Import a worker spreadsheet; returns the import record and its summary.

    `before_matching` is called with the number of rows read and the file's SHA-256, before any
    row is matched on NIK and before the import's transaction (the API counts them there as NIK lookups of a caller
    without the personal-data right: whether a row matches a worker tells that NIK's holder).
    Raises `imports.ImportFileError` for a file refused as a whole (nothing is recorded then).
    `rows`: the file's rows, read already (`read_file_rows`, `data` then only recorded).
    A row whose village is outside the actor's scope (`actor.scope`) is refused, as the services
    refuse it; the changed rows go through the services themselves.
    """
    if rows is None:  # `rows`: the file already read (`read_file_rows`), by a background job
        rows = read_file_rows(file_name=file_name, data=data, progress=progress)
    if progress:
        progress("check", 0, len(rows))
    checksum = hashlib.sha256(data).hexdigest()
    if before_matching is not None:
        before_matching(len(rows), checksum)
    summary = ImportSummary(rows=len(rows), dry_run=dry_run)
    user = actor.user
    record = WorkerImport.objects.create(
        # A signed-in user is a User (AUTH_USER_MODEL); a command or the system has none.
        created_by=user if isinstance(user, User) and user.is_authenticated else None,
        source=EventSource.IMPORT if actor.source == EventSource.API else actor.source,
        file_name=file_name[:255],
        size=len(data),
        checksum=checksum,
        data=b"",  # stored at the end, once the rows are let go: see below
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
    )
    import_actor = dataclasses.replace(actor, source=EventSource.IMPORT, import_id=record.pk)
    changed: list[_Plan] = []
    rejected: list[ParsedRow] = []
    try:
        with transaction.atomic():
            with _cyclic_gc_paused():
                new, changed, write = _check_and_write_new(
                    rows,
                    actor.scope,
                    import_actor,
                    summary,
                    dry_run=dry_run,
                    all_or_nothing=all_or_nothing,
                    progress=progress,
                )
            rejected = [row for row in rows if row.rejected]
            if write:
                for plan in changed:
                    _apply_changes(import_actor, plan)
            summary.created, summary.updated = new, len(changed)
            for row in rejected:
                summary.add_errors(row)
            summary.rejected = len(rejected)
            summary.committed = write
            if not write:
                transaction.set_rollback(True)
    finally:
        record.summary = summary.as_dict()
        # Sending the file to the database takes about three copies of it on the way (30 MB at
        # most, so some 90 MB): not while the rows are held as well.
        del rows, changed, rejected
        record.data = data
        record.committed = summary.committed
        record.save(update_fields=["committed", "summary", "data"])
    return record, summary


def _apply_changes(actor: Actor, plan: _Plan) -> None:
    worker_id = plan.existing.pk
    changes = _worker_changes(plan)
    if changes:
        # The row gave the NIK (it matched this worker's) and the birth date, which agree: say so
        # to the service, which checks an edit by a caller who may not see them against nothing
        # else it was not given.
        changes.update(nik=plan.data["nik"], birth_date=plan.data["birth_date"])
        services.worker_update(
            actor=actor, worker_id=worker_id, changes=changes, expected_version=plan.existing.version
        )
    action = _membership_action(plan)
    if action is None:
        return
    membership = plan.membership
    assert membership is not None  # an action is asked only by a row with membership columns
    if action == "activate":
        services.enrollment_activate(
            actor=actor,
            worker_id=worker_id,
            kpj_number=membership["kpj_number"],
            scheme=membership["scheme"],
            programs=membership["programs"],
            funding_source=membership["funding_source"],
            coverage_start=membership["coverage_start"],
            paid_until=membership["paid_until"],
            npp=membership["npp"],
        )
    elif action == "renew":
        services.enrollment_renew(
            actor=actor,
            worker_id=worker_id,
            paid_until=membership["paid_until"],
            funding_source=membership["funding_source"],
        )
