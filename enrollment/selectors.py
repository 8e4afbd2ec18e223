"""Read querysets of workers and their history."""

import datetime
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connections
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.sql.compiler import SQLCompiler

from access.context import may_see_personal_data, scope_for
from access.scope import Scope
from core.db import Statement, fetch_along
from core.routing import PRIMARY, read_alias

from .choices import EnrollmentStatus, EventKind
from .models import ApparatusWorker, EnrollmentEvent, WorkerImport
from .transitions import MEMBERSHIP_FIELDS


def worker_list() -> QuerySet[ApparatusWorker]:
    """Workers with the rows their representation shows, in one query."""
    # select_related: village/district/regency/province (codes shown), enrollment (status etc.)
    return ApparatusWorker.objects.select_related("village", "district", "regency", "province", "enrollment")


REGIONS = ("village", "district", "regency", "province")


def worker_page() -> QuerySet[ApparatusWorker]:
    """Workers as a list shows them: with the codes of their regions (only those columns) in one
    query, and their enrollments in a second one, by the page's ids.

    The enrollment is not joined in: for a page of a big region in id order, PostgreSQL's
    estimate (from the ids of all workers, not the region's) made it merge the page with the
    enrollments from the first id on, reading millions of them for 50 rows.
    """
    worker_fields = [field.name for field in ApparatusWorker._meta.concrete_fields]
    return (
        ApparatusWorker.objects.select_related(*REGIONS)
        .only(*worker_fields, *(f"{region}__code" for region in REGIONS))
        .prefetch_related("enrollment")
    )


class WorkerRow(NamedTuple):
    """A worker as its representation reads it: its own columns, its regions' codes and its
    enrollment's columns, as one row (no model instances: a page of 50 workers built as
    instances cost more than reading them)."""

    id: int
    village: str
    district: str
    regency: str
    province: str
    nik: str
    full_name: str
    sex: str
    birth_date: datetime.date
    phone: str
    institution: str
    position: str
    term_start: datetime.date
    term_end: datetime.date | None
    term_started: bool
    wage_basis: str
    monthly_wage: int | None
    serving: bool
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    status: str
    kpj_number: str | None
    scheme: str
    npp: str
    program_jht: bool
    program_jp: bool
    funding_source: str
    coverage_start: datetime.date | None
    paid_until: datetime.date | None
    evidence_reconciliation: int | None
    village_id: int  # not shown: which village the codes are of

    @classmethod
    def of(cls, worker: ApparatusWorker, codes: "WorkerRow | None" = None) -> "WorkerRow":
        """The row of a worker as an instance holds it, with its enrollment, and its regions'
        codes: its regions' instances', or those of `codes` (a row of the same village)."""
        enrollment = worker.enrollment
        read = worker.region_codes
        if codes is None and read is not None and read[0] == worker.village_id:
            regions = read[1]  # as read with the worker's lock
        elif codes is None:
            regions = tuple(getattr(worker, name).code for name in REGIONS)
        elif codes.village_id == worker.village_id:
            regions = (codes.village, codes.district, codes.regency, codes.province)
        else:
            raise ValueError("the codes are of another village")
        return cls._make(
            [
                *(getattr(worker, name) for name in _OWN),
                *regions,
                *(getattr(worker, name) for name in _OWN_AFTER),
                *(getattr(enrollment, name) for name in _ENROLLMENT),
                worker.village_id,
            ]
        )


# WorkerRow's fields as columns: the worker's (id, then what follows the region codes), the
# regions' codes, the enrollment's.
_OWN = ("id",)
_OWN_AFTER = WorkerRow._fields[5:21]
_ENROLLMENT = ("status", *MEMBERSHIP_FIELDS, "evidence_reconciliation_id")
if tuple(name.removesuffix("_id") for name in _ENROLLMENT) != WorkerRow._fields[21:31]:
    raise ImproperlyConfigured("WorkerRow's enrollment fields are not those read, in their order")
_ROW_COLUMNS = (
    *_OWN,
    *(f"{region}__code" for region in REGIONS),
    *_OWN_AFTER,
    *(f"enrollment__{name}" for name in _ENROLLMENT),
    "village_id",
)


def worker_rows(workers: QuerySet[ApparatusWorker], ordering: Sequence[str] = ("id",)) -> list[WorkerRow]:
    """The rows of `workers` (a filtered queryset: by ids, or by a page's ids as a subquery), in
    `ordering`, read in one statement: the workers, their regions' codes and their enrollments
    joined (for a page's 50 ids PostgreSQL joins them by their keys)."""
    make = WorkerRow._make
    return [make(row) for row in workers.order_by(*ordering).values_list(*_ROW_COLUMNS)]


def page_rows(page_ids: QuerySet[ApparatusWorker, int] | Sequence[int], ordering: Sequence[str]) -> list[WorkerRow]:
    """The rows of a list's page: `page_ids` the page's ids (the list's filters, ordering and
    slice), `ordering` the list's, the rows read in one statement as `worker_rows` reads them.

    The statement around the page's ids is compiled once per ordering and kept (compiling it
    cost as much as running it); only the ids' subquery is compiled per page."""
    if not isinstance(page_ids, QuerySet):  # a page of a list beyond its count limit: read already
        return worker_rows(ApparatusWorker.objects.filter(pk__in=page_ids), ordering)
    try:
        ids_sql, params = page_ids.query.sql_with_params()
    except EmptyResultSet:  # an empty list's page
        return []
    alias = read_alias()
    kept = _page_rows_statement(tuple(ordering), alias)
    make = WorkerRow._make
    with connections[alias].cursor() as cursor:
        cursor.execute(kept.sql.replace(_PAGE_IDS, ids_sql, 1), params)
        rows: Iterable[Any] = cursor.fetchall()
    if kept.converters:  # what the database gives as other types (SQLite's dates as text)
        rows = kept.compiler.apply_converters(rows, kept.converters)
    return [make(row) for row in rows]


# A worker's id as the statement takes it: a bigint, the primary key's type.
LARGEST_WORKER_ID = 2**63 - 1


def worker_row(worker_id: int, scope: Scope) -> WorkerRow | None:
    """One worker's row, as a list's page of one reads it (the kept statement, its ids one
    value), or None: no such worker, or one outside `scope`, which does not exist for its
    caller. Neither the id's filter nor the scope's is compiled: the scope is asked of the
    row's regency."""
    if not 0 < worker_id <= LARGEST_WORKER_ID:
        return None
    alias = read_alias()
    kept, statement = _one_row_statement(worker_id, alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(*statement)
        rows: Iterable[Any] = cursor.fetchall()
    return _row_shown(kept, rows, scope)


def _one_row_statement(worker_id: int, alias: str) -> tuple["_Statement", Statement]:
    kept = _page_rows_statement(("id",), alias)
    return kept, (kept.sql.replace(_PAGE_IDS, "SELECT CAST(%s AS bigint)", 1), [worker_id])


def _row_shown(kept: "_Statement", rows: Iterable[Any], scope: Scope) -> WorkerRow | None:
    """The row read by `_one_row_statement`, if `scope` covers it."""
    if kept.converters:  # what the database gives as other types (SQLite's dates as text)
        rows = kept.compiler.apply_converters(rows, kept.converters)
    found = [WorkerRow._make(row) for row in rows]
    if not found or not scope.contains_code(found[0].regency):
        return None
    return found[0]


def worker_row_logged(
    worker_id: int, scope: Scope, log: Callable[[Statement], Statement]
) -> tuple[WorkerRow | None, bool]:
    """`worker_row`, and the access log of its showing in the same round trip, where the row is
    read on PostgreSQL's primary: `log(condition)` is the log's statement, which writes its row
    only where `condition` (SQL, parameters) holds, the worker existing in `scope`, and returns
    1 if it did (access.services.access_log_insert_where). Returns the row (None: none for the
    caller, nothing logged) and whether its showing was logged; if not (a replica's read,
    SQLite), the caller logs it. A row the log's condition refused is not shown."""
    if not 0 < worker_id <= LARGEST_WORKER_ID:
        return None, False
    alias = read_alias()
    if alias != PRIMARY or connections[alias].vendor != "postgresql":
        return worker_row(worker_id, scope), False
    kept, statement = _one_row_statement(worker_id, alias)
    workers = connections[alias].ops.quote_name(ApparatusWorker._meta.db_table)
    if scope.everything:
        condition: Statement = (f"EXISTS (SELECT 1 FROM {workers} WHERE id = %s)", [worker_id])
    else:
        condition = (
            f"EXISTS (SELECT 1 FROM {workers} WHERE id = %s "
            "AND (province_id = ANY(%s::bigint[]) OR regency_id = ANY(%s::bigint[])))",
            [worker_id, sorted(scope.province_ids), sorted(scope.regency_ids)],
        )
    rows, (logged,) = fetch_along(alias, statement, [log(condition)])
    row = _row_shown(kept, rows, scope)
    if row is None or logged is None:
        return None, logged is not None
    return row, True


class _Statement(NamedTuple):
    sql: str
    compiler: SQLCompiler
    converters: dict[int, Any]


# What stands for the page's ids in the kept statement: a subquery no list writes.
_PAGE_IDS = "SELECT -1 AS page_ids"


# The kept statements of each connection object (a thread's own: a compiler is not shared),
# gone with it; at most a few per connection (one per ordering asked for).
_kept_statements: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], _Statement]] = weakref.WeakKeyDictionary()


def _page_rows_statement(ordering: tuple[str, ...], alias: str) -> _Statement:
    kept = _kept_statements.setdefault(connections[alias], {})
    statement = kept.get(ordering)
    if statement is None:
        workers = ApparatusWorker.objects.filter(pk__in=RawSQL(_PAGE_IDS, ()))
        compiler = workers.order_by(*ordering).values_list(*_ROW_COLUMNS).query.get_compiler(alias)
        sql, params = compiler.as_sql()
        if params or sql.count(_PAGE_IDS) != 1:  # an ordering by an expression with parameters
            raise ValueError(f"cannot keep the statement of the ordering {ordering!r}")
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        if len(kept) >= 32:  # orderings are few (the view's fields, each way): never many
            kept.clear()
        statement = kept[ordering] = _Statement(sql, compiler, converters)
    return statement


def page_ordering(workers: QuerySet[ApparatusWorker]) -> tuple[str, ...]:
    """The ordering of a filtered list of workers, to order the rows of its page's ids again."""
    return tuple(str(term) for term in workers.query.order_by) or ("id",)


def worker_history(*, worker_id: int) -> QuerySet[EnrollmentEvent]:
    """A worker's events, oldest first."""
    return EnrollmentEvent.objects.filter(worker_id=worker_id).order_by("id")


def _last_event_date(kind: str) -> Subquery:
    """The effective date of the worker's latest event of `kind` (one row per worker: a subquery,
    not a join that would repeat the worker per event)."""
    events = EnrollmentEvent.objects.filter(worker_id=OuterRef("pk"), kind=kind).order_by("-id")
    return Subquery(events.values("effective_date")[:1])


def activation_queue() -> QuerySet[ApparatusWorker]:
    """Workers submitted to BPJS Ketenagakerjaan and waiting for activation, oldest submission
    first (the date the submission took effect, then the order they were registered);
    `submitted_on` is that date."""
    # select_related (worker_list): regions (names shown) and enrollment (status)
    return (
        worker_list()
        .filter(enrollment_status=EnrollmentStatus.SUBMITTED)
        .annotate(submitted_on=_last_event_date(EventKind.SUBMITTED))
        .order_by("submitted_on", "id")
    )


def memberships_due(*, as_of: datetime.date, days: int = 30) -> QuerySet[ApparatusWorker]:
    """Active memberships paid until a day from `as_of` to `days` after it, the soonest first: what
    a branch renews before people lose protection. A paid-until just passed but within the grace
    period (`UCJ_LAPSE_GRACE_DAYS`: not lapsed yet) counts too; one older than that is the daily
    `enrollments_expire`'s to lapse, not a renewal falling due."""
    earliest = as_of - datetime.timedelta(days=settings.UCJ_LAPSE_GRACE_DAYS)
    return (
        worker_list()
        .filter(
            enrollment_status=EnrollmentStatus.ACTIVE,
            enrollment__paid_until__gte=earliest,
            enrollment__paid_until__lte=as_of + datetime.timedelta(days),
        )
        .order_by("enrollment__paid_until", "id")
    )


def memberships_lapsed(*, as_of: datetime.date, days: int = 30) -> QuerySet[ApparatusWorker]:
    """Memberships lapsed in the `days` up to `as_of` (and not renewed since), the latest lapse
    first; `lapsed_on` is the date the lapse took effect."""
    return (
        worker_list()
        .filter(enrollment_status=EnrollmentStatus.LAPSED)
        .annotate(lapsed_on=_last_event_date(EventKind.LAPSED))
        .filter(lapsed_on__gte=as_of - datetime.timedelta(days), lapsed_on__lte=as_of)
        .order_by("-lapsed_on", "id")
    )


def terms_ended_serving(*, as_of: datetime.date) -> QuerySet[ApparatusWorker]:
    """Workers whose recorded term end is before `as_of` but whose service is still open, the
    oldest term end first: those the daily `terms_expire` has not ended (yet): it ends each on
    its next run, so this is what a person sees between a term end and that run, or what the run
    could not end."""
    return worker_list().filter(serving=True, term_end__lt=as_of).order_by("term_end", "id")


def terms_ending(*, as_of: datetime.date, days: int = 30) -> QuerySet[ApparatusWorker]:
    """Serving workers whose term ends within `days` from `as_of` (that day included), the soonest
    first: the daily `terms_expire` ends their service the day after, unless someone records a
    new term end (reappointed) first."""
    return (
        worker_list()
        .filter(serving=True, term_end__gte=as_of, term_end__lte=as_of + datetime.timedelta(days))
        .order_by("term_end", "id")
    )


def worker_imports_visible(*, user: Any) -> QuerySet[WorkerImport]:
    """The past imports `user` may see, newest first, without their files: all of them for an
    admin who may see personal data, one's own for everyone else (others' summaries quote their
    rows, a NIK's birth-date digits among them)."""
    # select_related: created_by (its username is shown); the file itself is deferred.
    queryset = WorkerImport.objects.select_related("created_by").defer("data").order_by("-id")
    if scope_for(user).everything and may_see_personal_data(user):
        return queryset
    return queryset.filter(created_by=user)
