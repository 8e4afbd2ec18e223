"""Worker endpoints. Thin: shape checks in serializers, every write through `enrollment.services`."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from typing import cast
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.permissions import CapabilityRequired, signed_in_user
from access.choices import AccessKind, Capability
from access.context import request_context, request_versions, scope_for
from access.services import access_log_insert_where, access_log_write, nik_lookups_record
from core.api.browsable import BrowsableAPIRendererWithoutStoredData
from core.api.pagination import StandardPagination
from core.api.parameters import PAGES
from core.api.renderers import CSVRenderer, XLSXRenderer
from core.codes import region_code
from core.db import all_or_nothing
from core.errors import OutOfScopeError, ServiceError, StaleVersionError
from core.routing import replica_reads
from enrollment import exports, selectors, services
from enrollment.choices import EventSource
from enrollment.filtersets import WorkerFilterSet
from enrollment.jobs import EXPORT_WORKERS
from enrollment.models import ApparatusWorker
from enrollment.selectors import WorkerRow
from jobs.api.background import BackgroundQuerySerializer, background_asked, job_accepted, queued_answer
from jobs.services import job_enqueue

from . import examples
from .serializers import (
    ActivateSerializer,
    EnrollmentEventSerializer,
    RenewSerializer,
    TransitionSerializer,
    WorkerSerializer,
    WorkerWriteSerializer,
    can_see_personal_data,
    worker_row_data,
)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The version you read (the ETag, e.g. `"3"`): the change is refused with 412 if the worker '
    "changed since. Instead of `version` in the body.",
)
ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200, 201],
    required=True,
    description='The worker\'s version, e.g. `"3"`: send it back as If-Match to edit.',
)


class PreconditionRequired(ServiceError):
    status_code = 428
    default_code = "version_required"


class PreconditionFailed(ServiceError):
    """A stale If-Match (HTTP's own precondition): 412. A stale `version` in the body stays a 409."""

    status_code = 412
    default_code = "stale_version"


@contextmanager
def stale_if_match_is_412(request: Request):
    """Run a write; if the version it was given came from If-Match and is stale, answer 412."""
    try:
        yield
    except StaleVersionError as exc:
        if not request.headers.get("If-Match", "").strip():
            raise
        raise PreconditionFailed(exc.message, field="If-Match") from exc


def actor_for(request: Request) -> services.Actor:
    return services.Actor(user=signed_in_user(request), source=EventSource.API)


def _worker_id(pk: object) -> int:
    """The worker id of a URL (404 for what cannot be one)."""
    try:
        worker_id = int(str(pk))
    except ValueError:
        raise Http404 from None
    if not 0 < worker_id <= selectors.LARGEST_WORKER_ID:
        raise Http404
    return worker_id


def expected_version(request: Request, body_version: int | None) -> int | None:
    """The version the caller acted on: the If-Match header (an ETag) or `version` in the body."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return body_version
    value = header.removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit() and len(value) <= 18):  # "²" is a digit to isdigit()
        raise ServiceError(_('If-Match must be the worker\'s version, e.g. "3".'), field="If-Match")
    return int(value)


def _region_filtered(request: Request) -> str | None:
    """A region the list is filtered to (its workers are all in it), or None."""
    for name in ("village", "district", "regency", "province"):
        code = region_code(request.query_params.get(name))  # either spelling, as the filter reads it
        if code is not None:
            return code
    return None


@extend_schema_view(
    list=extend_schema(
        parameters=[BackgroundQuerySerializer],
        responses={
            200: WorkerSerializer(many=True),
            (202, "application/json"): queued_answer(EXPORT_WORKERS, rows_total=8840),
        },
    ),
    partial_update=extend_schema(
        request=WorkerWriteSerializer,
        responses={200: WorkerSerializer},
        parameters=[IF_MATCH, ETAG],
        examples=examples.PARTIAL_UPDATE_EXAMPLES,
    ),
)
class WorkerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Village apparatus workers and their enrollment. Workers are never deleted: end their service."""

    queryset = selectors.worker_list()  # select_related: regions (codes) and enrollment (status)
    serializer_class = WorkerSerializer
    filterset_class = WorkerFilterSet
    permission_classes = [CapabilityRequired]
    required_capabilities = {
        "list": Capability.READ_WORKERS,
        "retrieve": Capability.READ_WORKERS,
        "history": Capability.READ_WORKERS,
        "create": Capability.WRITE_WORKERS,
        "update": Capability.WRITE_WORKERS,
        "partial_update": Capability.WRITE_WORKERS,
        "submit": Capability.WRITE_WORKERS,
        "end_service": Capability.WRITE_WORKERS,
        "activate": Capability.MANAGE_ENROLLMENT,
        "renew": Capability.MANAGE_ENROLLMENT,
        "lapse": Capability.MANAGE_ENROLLMENT,
    }
    ordering_fields = exports.ORDERING_FIELDS
    path_example = 1
    ordering = exports.DEFAULT_ORDERING
    search_fields: list[str] = []  # `search` is the filterset's (name or full NIK)
    # Besides the list's (core.api.parameters).
    query_parameters = {"history": PAGES, "list": (BackgroundQuerySerializer,)}
    renderer_classes = [JSONRenderer, BrowsableAPIRendererWithoutStoredData, CSVRenderer, XLSXRenderer]
    # Besides the statuses every operation may answer (core.api.schema).
    error_statuses = {
        "create": {409},
        "update": {409, 412, 428},
        "partial_update": {409, 412, 428},
        **{transition: {409, 412} for transition in ("submit", "activate", "renew", "lapse", "end_service")},
    }

    def get_renderers(self):
        # Only the list is a file too (an export); one worker, its history and writes are JSON.
        renderers = super().get_renderers()
        if getattr(self, "action", None) == "list":
            return renderers
        return [r for r in renderers if not isinstance(r, (CSVRenderer, XLSXRenderer))]

    def get_queryset(self):
        # Workers outside the caller's regions do not exist for it (404, never 403). A list, and
        # one worker read, read their rows (selectors.worker_rows), not instances.
        queryset = ApparatusWorker.objects.all() if self.action in ("list", "retrieve") else super().get_queryset()
        return scope_for(self.request.user).filter(queryset)

    def filter_queryset(self, queryset):
        # The list's filters and ordering, as its export job reads them (enrollment.exports); the
        # filter backends document them. A worker addressed by id is found by id (and scope).
        if self.action != "list":
            return queryset
        return exports.workers_listed(queryset=queryset, query=self.request.query_params, request=self.request)

    def _log_personal_data(self, worker_ids: list[int]) -> None:
        if worker_ids and can_see_personal_data(self.request):
            access_log_write(request=self.request, kind=AccessKind.PERSONAL_DATA, worker_ids=worker_ids)

    # An export streams its rows; DRF's dispatch returns any HttpResponse as it is.
    @replica_reads()  # the page may come from a replica (core.routing); an export's streamed rows do not
    def list(self, request: Request, *args, **kwargs) -> Response | StreamingHttpResponse:  # type: ignore[override]
        export = getattr(request.accepted_renderer, "format", None)
        if export in exports.FORMATS:
            return self._export_enqueue(export) if background_asked(request) else self._export(export)
        if background_asked(request, prefer=False):  # a preference may be ignored; a parameter not
            raise ServiceError(_("Only an export (?format=csv or xlsx) runs in the background."), field="background")
        context = request_context()
        known = request_versions(context) if context is not None else None
        if known is not None:
            # The rows listed are a function of the filters, the caller (its scope) and the data:
            # the count is kept under all three, so a list's later pages are not counted again.
            # A list within one region reads that province's workers only: its version, and
            # everything else's, are the data's (core.data_version).
            filters = sorted((k, v) for k, v in request.query_params.lists() if k not in ("page", "page_size"))
            version = known.of(_region_filtered(request))
            cast(StandardPagination, self.paginator).count_key = (
                "workers:"
                + hashlib.blake2b(
                    repr((version, request.path, filters, request.user.pk)).encode(), digest_size=12
                ).hexdigest()
            )
        # The page's ids are chosen by the filters and ordering alone (by an index), and the page's
        # rows read by them: one statement, the rows of the page only.
        workers = self.filter_queryset(self.get_queryset())
        paginator = cast(StandardPagination, self.paginator)
        page = paginator.page_of(workers.values_list("pk", flat=True), request)
        rows = selectors.page_rows(
            cast(QuerySet[ApparatusWorker, int], page.object_list), selectors.page_ordering(workers)
        )
        full = can_see_personal_data(request)
        zone = timezone.get_current_timezone()
        response = paginator.get_paginated_response([worker_row_data(row, full=full, zone=zone) for row in rows])
        self._log_personal_data([row.id for row in rows])
        return response

    def _export(self, kind: str) -> StreamingHttpResponse:
        """Every matching worker as CSV or XLSX, streamed; masked as the caller's rights require
        (enrollment.exports: the same export a background job makes)."""
        # The `export` capability was checked before anything else (CapabilityRequired).
        request = self.request
        export = exports.workers_export(
            queryset=self.filter_queryset(self.get_queryset()),
            kind=kind,
            personal_data=can_see_personal_data(request),
            logged=lambda ids: access_log_write(request=request, kind=AccessKind.EXPORT, worker_ids=ids),
        )
        response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
        return response

    def _export_enqueue(self, kind: str) -> Response:
        """The export as a background job for the caller (enrollment.jobs.export_workers_run): a
        list too large for an export is refused now, as the export would refuse it; the job reads
        the list again when it runs, with the caller's scope and rights as they are then."""
        request = self.request
        user = signed_in_user(request)
        total = exports.workers_export_count(self.filter_queryset(self.get_queryset()))
        job = job_enqueue(
            kind=EXPORT_WORKERS,
            user=user,
            scope=scope_for(user),
            rows_total=total,
            params={"format": kind, "path": request.path, "query": request.META.get("QUERY_STRING", "")},
        )
        return job_accepted(request, job)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return WorkerWriteSerializer
        return WorkerSerializer

    def _row(self, pk: object) -> WorkerRow:
        """The worker as the caller may read it (404 outside its regions), as a row: a list's
        page of one, read by the kept statement (enrollment.selectors.worker_row)."""
        row = selectors.worker_row(_worker_id(pk), scope_for(self.request.user))
        if row is None:
            raise Http404
        return row

    def _respond(self, row: WorkerRow, status_code: int = status.HTTP_200_OK, *, logged: bool = False) -> Response:
        data = worker_row_data(row, full=can_see_personal_data(self.request))
        if not logged:
            self._log_personal_data([row.id])
        return Response(data, status=status_code, headers={"ETag": f'"{row.version}"'})

    def _respond_written(
        self, worker: ApparatusWorker, status_code: int = status.HTTP_200_OK, *, before: WorkerRow | None = None
    ) -> Response:
        """The worker as written: the service's instance is complete (its enrollment with it:
        enrollment.writing) but for its regions' codes, which its lock read, or the row read
        `before` the write, gives while the village is the same; else (a registration, a move) it
        is read again."""
        if worker.region_codes is not None and worker.region_codes[0] == worker.village_id:
            return self._respond(WorkerRow.of(worker), status_code)
        if before is not None and before.village_id == worker.village_id:
            return self._respond(WorkerRow.of(worker, codes=before), status_code)
        return self._respond(self._row(worker.pk), status_code)

    @extend_schema(parameters=[ETAG])
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        if not can_see_personal_data(request):
            return self._respond(self._row(kwargs["pk"]))
        # Shown in full: the worker's read and the access log of its showing in one round trip.
        worker_id = _worker_id(kwargs["pk"])
        row, logged = selectors.worker_row_logged(
            worker_id,
            scope_for(request.user),
            log=lambda condition: access_log_insert_where(
                request=request, kind=AccessKind.PERSONAL_DATA, worker_ids=[worker_id], condition=condition
            ),
        )
        if row is None:
            raise Http404
        return self._respond(row, logged=logged)

    @extend_schema(
        request=WorkerWriteSerializer,
        responses={201: WorkerSerializer},
        parameters=[ETAG],
        examples=examples.CREATE_EXAMPLES,
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = WorkerWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        nik_lookups_record(request=request, lookups=1, looked_up=urlencode({"nik": data["nik"]}))
        with all_or_nothing():  # the worker, and the log of the answer showing it: one commit
            worker = services.worker_register(actor=actor_for(request), **data)
            return self._respond_written(worker, status.HTTP_201_CREATED)

    @extend_schema(
        request=WorkerWriteSerializer,
        responses={200: WorkerSerializer},
        parameters=[IF_MATCH, ETAG],
        examples=examples.UPDATE_EXAMPLES,
    )
    def update(self, request: Request, *args, **kwargs) -> Response:
        worker = self._row(kwargs["pk"])
        serializer = WorkerWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        version = expected_version(request, changes.pop("version", None))
        if version is None:
            raise PreconditionRequired(
                _("Send the version you edited, as If-Match or as `version`, so no one else's change is lost."),
                field="version",
            )
        if not kwargs.get("partial", False):
            # Only absent fields take their default: get_default() of a required field raises SkipField.
            changes = {
                f: changes[f] if f in changes else serializer.fields[f].get_default() for f in services.WORKER_FIELDS
            }
        if "nik" in changes:
            nik_lookups_record(request=request, lookups=1, looked_up=urlencode({"nik": changes["nik"]}))
        with stale_if_match_is_412(request), all_or_nothing():  # as `create`: one commit
            written = services.worker_update(
                actor=actor_for(request), worker_id=worker.id, changes=changes, expected_version=version
            )
            return self._respond_written(written, before=worker)

    def _transition(self, request: Request, service, serializer_class=TransitionSerializer) -> Response:
        worker_id = _worker_id(self.kwargs["pk"])
        # The worker is not read before the change: the service reads it with its lock, and a
        # worker that does not exist for the caller is the same 404 either way. A request refused
        # on its own (its body, its If-Match) is answered 404 first all the same when the worker
        # does not exist for the caller, as if it had been read first.
        try:
            serializer = serializer_class(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            version = expected_version(request, data.pop("version", None))
        except (APIException, ServiceError):
            self._row(worker_id)
            raise
        if "programs" in data:
            data["programs"] = sorted(data["programs"])
        # The change and the access log of the answer that shows it are committed together: one
        # commit (a flush of the write-ahead log) for both, not one each; an error is the answer,
        # and nothing of either is kept (no savepoint is needed: core.db.all_or_nothing).
        with stale_if_match_is_412(request), all_or_nothing():
            try:
                written = service(actor=actor_for(request), worker_id=worker_id, expected_version=version, **data)
            except ApparatusWorker.DoesNotExist:
                raise Http404 from None
            except OutOfScopeError as exc:
                if exc.field is not None:
                    raise
                raise Http404 from None
            return self._respond_written(written)

    @extend_schema(
        request=TransitionSerializer,
        responses={200: WorkerSerializer},
        parameters=[IF_MATCH, ETAG],
        examples=examples.SUBMIT_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk=None) -> Response:
        """Submit the worker to BPJS Ketenagakerjaan for enrollment (not registered -> submitted)."""
        return self._transition(request, services.enrollment_submit)

    @extend_schema(
        request=ActivateSerializer,
        responses={200: WorkerSerializer},
        parameters=[IF_MATCH, ETAG],
        examples=examples.ACTIVATE_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk=None) -> Response:
        """Record the membership (KPJ number, scheme, programs, funding, period): -> active."""
        return self._transition(request, services.enrollment_activate, ActivateSerializer)

    @extend_schema(
        request=RenewSerializer,
        responses={200: WorkerSerializer},
        parameters=[IF_MATCH, ETAG],
        examples=examples.RENEW_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, pk=None) -> Response:
        """Extend paid-until; a lapsed membership becomes active again."""
        return self._transition(request, services.enrollment_renew, RenewSerializer)

    @extend_schema(
        request=TransitionSerializer,
        responses={200: WorkerSerializer},
        parameters=[IF_MATCH, ETAG],
        examples=examples.LAPSE_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def lapse(self, request: Request, pk=None) -> Response:
        """Contributions stopped: active -> lapsed."""
        return self._transition(request, services.enrollment_lapse)

    @extend_schema(
        request=TransitionSerializer,
        responses={200: WorkerSerializer},
        parameters=[IF_MATCH, ETAG],
        examples=examples.END_SERVICE_EXAMPLES,
    )
    @action(detail=True, methods=["post"], url_path="end-service")
    def end_service(self, request: Request, pk=None) -> Response:
        """The worker leaves office; the record and its history stay."""
        return self._transition(request, services.worker_end_service)

    @extend_schema(responses={200: EnrollmentEventSerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=None)
    def history(self, request: Request, pk=None) -> Response:
        """The worker's append-only history, oldest first."""
        worker = self._row(pk)
        page = self.paginate_queryset(selectors.worker_history(worker_id=worker.id))
        serializer = EnrollmentEventSerializer(page, many=True, context=self.get_serializer_context())
        self._log_personal_data([worker.id])
        return self.get_paginated_response(serializer.data)
