"""Worker exports: one path from a worker list's query to its file, for the API's export answered
at once (`GET /api/v1/workers/?format=csv|xlsx`, streamed) and the same export run as a
background job (`enrollment.jobs.export_workers_run`, kept as the job's file).

Both read the workers the list gives for the query (`workers_listed`: the caller's scope, the
list's filters and ordering), bounded by `UCJ_LIST_COUNT_LIMIT` (`export_too_large`), name every
exported worker in the access log before a row is read, mask NIK, birth date and phone for a
caller without the personal-data right and neutralise formula-like text
(`enrollment.spreadsheets`): `workers_export` does all of it, whoever calls it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _
from django_filters.utils import translate_validation

from core.api.ordering import OrderingFilter
from core.errors import ServiceError

from . import spreadsheets
from .filtersets import WorkerFilterSet
from .models import ApparatusWorker

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
# The worker list's ordering (`?ordering=`): the fields it may be ordered by, and by default.
ORDERING_FIELDS = ["id", "full_name", "term_start", "created_at", "updated_at"]
DEFAULT_ORDERING = ["id"]
_LIST = SimpleNamespace(ordering_fields=ORDERING_FIELDS, ordering=DEFAULT_ORDERING)
# How often a job's progress is told (rows).
PROGRESS_EVERY = 1000


def workers_listed(
    *, queryset: QuerySet[ApparatusWorker], query: QueryDict, request: HttpRequest | None = None
) -> QuerySet[ApparatusWorker]:
    """`queryset` (the caller's workers) filtered and ordered as the worker list does it for
    `query`: its filters (`WorkerFilterSet`; a bad value is the list's 400) and its ordering
    (`core.api.ordering`, the id settling ties). The list's page, its export and an export job
    all read it. `request` counts a search by whole NIK as a lookup (the API's request; a job's
    was counted when it was asked for)."""
    filterset = WorkerFilterSet(data=query, queryset=queryset, request=request)
    if not filterset.is_valid():
        # DRF's ValidationError, the list's 400 (the stubs have it return a dict).
        raise cast(Exception, translate_validation(filterset.errors))
    listed: QuerySet[ApparatusWorker] = filterset.qs
    # Any: DRF's filter reads `query_params` of a request and two attributes of a view.
    ordering = OrderingFilter().get_ordering(SimpleNamespace(query_params=query), listed, _LIST)  # type: ignore[arg-type]
    return listed.order_by(*ordering) if ordering else listed


def _too_large(limit: int) -> ServiceError:
    return ServiceError(
        _("An export holds at most %(limit)d workers; narrow it with filters (a province, a regency).")
        % {"limit": limit},
        code="export_too_large",
    )


def workers_export_count(queryset: QuerySet[ApparatusWorker]) -> int:
    """How many workers an export of `queryset` holds, counted up to the limit: a list larger
    than `UCJ_LIST_COUNT_LIMIT` is refused (`export_too_large`), as the export itself refuses it,
    before a job is queued for it."""
    limit: int = settings.UCJ_LIST_COUNT_LIMIT
    count = queryset.order_by().values("pk")[: limit + 1].count()
    if count > limit:
        raise _too_large(limit)
    return count


def workers_export_ids(queryset: QuerySet[ApparatusWorker]) -> list[int]:
    """The ids of the workers an export of `queryset` holds, in its order. Every exported worker
    is named in the access log before a row is read, so an export is bounded like a list's count
    (`UCJ_LIST_COUNT_LIMIT`, else `export_too_large`): a national one would be millions of ids
    held and logged. The portal's worker reports are bounded by it too."""
    limit: int = settings.UCJ_LIST_COUNT_LIMIT
    ids = list(queryset.values_list("pk", flat=True)[: limit + 1])
    if len(ids) > limit:
        raise _too_large(limit)
    return ids


@dataclass(frozen=True)
class WorkerExport:
    """An export under way: the workers it holds (already logged), its file's bytes as they are
    made (read once), the file's name and type."""

    ids: list[int]
    chunks: Iterator[bytes]
    file_name: str
    content_type: str


Progress = Callable[[str, int, int | None], None]
_Row = TypeVar("_Row")


def workers_export(
    *,
    queryset: QuerySet[ApparatusWorker],
    kind: str,
    personal_data: bool,
    logged: Callable[[list[int]], object],
    progress: Progress | None = None,
) -> WorkerExport:
    """Every worker of `queryset` (as `workers_listed` gives it) as a CSV or XLSX file (`kind`),
    its NIK, birth date and phone masked unless `personal_data`. The workers' ids are read first,
    at most `UCJ_LIST_COUNT_LIMIT` of them (else `export_too_large`), and given to `logged`, which
    writes them to the access log before any row is read: an export names whose data left. The
    rows are then read in chunks as the bytes are made (never the whole list in memory);
    `progress` is told every `PROGRESS_EVERY` rows."""
    if kind not in FORMATS:
        raise ValueError(f"No export format {kind!r}")
    queryset = queryset.prefetch_related(None)  # rows are read as values
    ids = workers_export_ids(queryset)
    logged(ids)
    rows: Iterator[list[Any]] = spreadsheets.export_rows(queryset, ids=ids, personal_data=personal_data)
    if progress is not None:
        rows = rows_counted(rows, total=len(ids), report=progress)
    if kind == "csv":
        chunks = spreadsheets.stream_csv(spreadsheets.EXPORT_COLUMNS, rows)
        return WorkerExport(ids=ids, chunks=chunks, file_name="workers.csv", content_type=CSV_TYPE)
    chunks = spreadsheets.stream_xlsx(spreadsheets.EXPORT_COLUMNS, rows)
    return WorkerExport(ids=ids, chunks=chunks, file_name="workers.xlsx", content_type=XLSX_TYPE)


def rows_counted(rows: Iterable[_Row], *, total: int, report: Progress) -> Iterator[_Row]:
    """`rows` as they are read, telling `report` how many so far (phase `export`) every
    `PROGRESS_EVERY` rows, and at the start and the end: how an export moves its job's bar."""
    done = 0
    report("export", 0, total)
    for row in rows:
        yield row
        done += 1
        if done % PROGRESS_EVERY == 0:
            report("export", done, total)
    report("export", done, total)
