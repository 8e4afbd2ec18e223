"""Coverage endpoints: read-only figures (targets and workforce figures are written by admins)."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar, cast

from django.contrib.auth.models import User
from django.http import HttpResponseBase, QueryDict
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.utils.encoders import JSONEncoder

from access.api.permissions import CapabilityRequired, signed_in_user
from access.choices import AccessKind, Capability
from access.context import scope_for
from access.scope import Scope
from access.services import access_log_export, access_log_record
from core.api.browsable import BrowsableAPIRendererWithoutStoredData
from core.api.pagination import StandardPagination
from core.api.parameters import PAGES
from core.api.renderers import ComposedJSONRenderer, CSVRenderer, GeoJSONRenderer, XLSXRenderer
from core.api.routers import RegionCodeInPath
from core.clock import today
from core.errors import NotFoundError, ServiceError
from core.routing import replica_reads
from coverage.caching import cached, conditional_answer
from coverage.filtersets import TargetFilterSet, WorkforceFilterSet
from coverage.models import Target, VillageCoverage, WorkforceFigure
from coverage.selectors.detail import RegionDetail, region_detail
from coverage.selectors.exports import PeriodRows, coverage_by_period
from coverage.selectors.rows import CoverageFigures, RegionRows, coverage_rows_listed
from coverage.selectors.source import check_as_of
from coverage.selectors.trend import trend
from coverage.selectors.unprotected import unprotected_villages
from coverage.selectors.workforce import workforce_enriched, workforce_summary
from jobs.api.background import BackgroundQuerySerializer, background_asked, job_accepted, queued_answer
from jobs.models import Job
from jobs.registry import Outcome, Progress
from jobs.services import job_enqueue, job_file_store
from villages.selectors import outlines_of
from villages.services import level_for_code

from .exports import ADX_MEDIA_TYPE, ADXRenderer, adx_document, data_value_set, figures_of
from .serializers import (
    CoverageDetailQuerySerializer,
    CoverageDetailSerializer,
    CoverageExportQuerySerializer,
    CoverageFeatureCollectionSerializer,
    CoverageGeoQuerySerializer,
    CoverageRowSerializer,
    CoverageRowsQuerySerializer,
    DataValueSetSerializer,
    TargetSerializer,
    TrendQuerySerializer,
    TrendSerializer,
    UnprotectedVillageSerializer,
    UnprotectedVillagesQuerySerializer,
    WorkforceFigureSerializer,
    WorkforceRowSerializer,
    WorkforceSummarySerializer,
)

EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_COVERAGE = "export_coverage"  # the background job of a coverage export (export_coverage_run)


READ_COVERAGE = {"get": Capability.READ_COVERAGE}


def region_asked(code: object) -> str | None:
    """The region code an answer is about, when the request names a well-formed one (an
    answer keyed by a code that names no region is a 404 and files nothing)."""
    if isinstance(code, str) and level_for_code(code) is not None:
        return code
    return None


def query(serializer_class: type[BaseSerializer[Any]], request: Request) -> dict[str, Any]:
    """The request's query, validated by `serializer_class` (a 400 naming the parameters wrong).

    What a query string validates to is kept for the day (a query's validation reads nothing
    but the string, and maybe the date): validating cost more than reading a small answer. A
    query refused is not kept, so its errors are written in each caller's language."""
    # A class is hashable, whatever the serializer stubs make of it.
    kept = _validated(serializer_class, today(), request.META.get("QUERY_STRING", ""))  # type: ignore[arg-type]
    return dict(kept)


@functools.lru_cache(maxsize=4096)
def _validated(serializer_class: type[BaseSerializer[Any]], day: datetime.date, query_string: str) -> Mapping[str, Any]:
    serializer = serializer_class(data=QueryDict(query_string))
    serializer.is_valid(raise_exception=True)
    return MappingProxyType(dict(serializer.validated_data))


class ExportMixin(GenericAPIView):
    """`?format=csv|xlsx` returns every row (no pagination) as a file; JSON is paginated."""

    renderer_classes: Sequence[type[BaseRenderer]] = [
        JSONRenderer,
        BrowsableAPIRendererWithoutStoredData,
        CSVRenderer,
        XLSXRenderer,
    ]
    export_name = "export"

    def is_export(self) -> bool:
        return getattr(self.request.accepted_renderer, "format", None) in EXPORT_FORMATS

    def list_response(self, rows: Any, serializer_class: type[BaseSerializer[Any]] | None = None) -> Response:
        """`rows` as JSON pages or a file; without `serializer_class`, rows are already data."""

        def shaped(items: Iterable[Any]) -> Any:
            return serializer_class(items, many=True).data if serializer_class else list(items)

        if self.is_export():  # the `export` capability was checked first (CapabilityRequired)
            data = shaped(rows)
            access_log_export(request=self.request, rows=len(data))
            extension = self.request.accepted_renderer.format
            filename = f"{self.export_name}.{extension}"
            return Response(data, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
        page = self.paginate_queryset(rows)
        assert page is not None  # every list is paginated (DEFAULT_PAGINATION_CLASS)
        return self.get_paginated_response(shaped(page))


class CoverageRowsView(ExportMixin, GenericAPIView):
    """Coverage of every region of a level (under a parent), on a date; sortable and filterable."""

    renderer_classes = [ComposedJSONRenderer, BrowsableAPIRendererWithoutStoredData, CSVRenderer, XLSXRenderer]
    permission_classes = [CapabilityRequired]
    required_capabilities = READ_COVERAGE
    serializer_class = CoverageRowSerializer
    queryset = VillageCoverage.objects.none()  # rows are computed; this only names the model for the schema
    export_name = "coverage"
    query_parameters = {"get": (CoverageRowsQuerySerializer, BackgroundQuerySerializer, *PAGES)}  # core.api.parameters

    def answer_region(self, request: Request, kwargs: dict[str, Any]) -> str | None:
        """The rows under a parent read that parent's province only (coverage.caching)."""
        return region_asked(request.query_params.get("parent"))

    @extend_schema(
        operation_id="v1_coverage_list",  # a list, though its answers are given by code
        parameters=[CoverageRowsQuerySerializer, BackgroundQuerySerializer],
        responses={
            200: CoverageRowSerializer(many=True),
            (202, "application/json"): queued_answer(EXPORT_COVERAGE, rows_total=None),
        },
    )
    @replica_reads()  # the figures may come from a replica (core.routing)
    @conditional_answer
    def get(self, request: Request) -> Response:
        params = query(CoverageRowsQuerySerializer, request)
        as_of = check_as_of(params.get("as_of"))
        scope = scope_for(request.user)
        if self.is_export() and background_asked(request):
            return self._export_enqueue(request)
        if background_asked(request, prefer=False):  # a preference may be ignored; a parameter not
            raise ServiceError(_("Only an export (?format=csv or xlsx) runs in the background."), field="background")
        if self.is_export() or not isinstance(request.accepted_renderer, ComposedJSONRenderer):
            return self.list_response(cached(coverage_rows_data, params, as_of, scope))
        # JSON: only the page's rows are represented, straight to JSON text (from their figures,
        # not made into rows, where they are today's: coverage.selectors.rows.RegionRows).
        paginator = cast("StandardPagination", self.paginator)
        page = paginator.page_of(cached(coverage_rows_found, params, as_of, scope), request)
        return paginator.get_composed_response(coverage_rows_json(page.object_list))

    def _export_enqueue(self, request: Request) -> Response:
        """The export as a background job for the caller (`export_coverage_run`): the query was
        checked now; the job computes the rows when it runs, with the caller's scope then."""
        user = signed_in_user(request)
        job = job_enqueue(
            kind=EXPORT_COVERAGE,
            user=user,
            scope=scope_for(user),
            params={
                "format": request.accepted_renderer.format,
                "path": request.path,
                "query": request.META.get("QUERY_STRING", ""),
            },
        )
        return job_accepted(request, job)


EXPORT_RENDERERS: dict[str, type[CSVRenderer | XLSXRenderer]] = {"csv": CSVRenderer, "xlsx": XLSXRenderer}


def export_coverage_run(job: Job, progress: Progress, prepared: object = None) -> Outcome:
    """`GET /api/v1/coverage/?format=csv|xlsx` (params: `format`, the request's `path` and
    `query`) as a background job: the same rows (`coverage_rows_data`) through the same renderer as
    the answer at once, for the requester's scope as it is now (its capabilities asked again), the
    export logged as the request's (`access_log_export`: coverage rows name no worker). The file is
    kept as the job's, in the job's one transaction."""
    user = job.created_by
    scope = scope_for(user)
    if not isinstance(user, User) or not (scope.can(Capability.READ_COVERAGE) and scope.can(Capability.EXPORT)):
        raise JobForbidden(_("You may not export lists."))
    params = job.params
    kind, path, query_string = str(params.get("format", "csv")), str(params.get("path", "")), str(params["query"])
    checked = CoverageRowsQuerySerializer(data=QueryDict(query_string))
    checked.is_valid(raise_exception=True)
    rows_asked = dict(checked.validated_data)
    progress.report("export", 0, None)
    data = coverage_rows_data(rows_asked, check_as_of(rows_asked.get("as_of")), scope)
    progress.report("export", len(data), len(data))
    access_log_record(user=user, kind=AccessKind.EXPORT, path=path, query=query_string, worker_ids=[], rows=len(data))
    renderer = EXPORT_RENDERERS[kind]
    result = job_file_store(
        job=job,
        name=f"coverage.{kind}",
        content_type=renderer.media_type + ("; charset=utf-8" if renderer.charset else ""),
        data=renderer().render(data),
        rows=len(data),
        personal_data=False,
        capability=Capability.EXPORT,
    )
    return Outcome(result)


class JobForbidden(ServiceError):
    status_code = 403
    default_code = "permission_denied"


def coverage_rows_data(params: dict[str, Any], as_of: datetime.date, scope: Scope) -> list[dict[str, Any]]:
    """The coverage rows asked for, serialized."""
    return [coverage_row_data(row) for row in coverage_rows_found(params, as_of, scope)]


def coverage_rows_found(params: dict[str, Any], as_of: datetime.date, scope: Scope) -> Sequence[CoverageFigures]:
    """The coverage rows asked for."""
    return coverage_rows_listed(
        level=params["level"],
        as_of=as_of,
        scope=scope,
        parent=params.get("parent"),
        institution=params.get("institution"),
        coverage_pct_lt=params.get("coverage_pct_lt"),
        coverage_pct_gte=params.get("coverage_pct_gte"),
        has_unprotected=params.get("has_unprotected"),
        ordering=params["ordering"],
    )


def coverage_row_data(row: CoverageFigures) -> dict[str, Any]:
    """A coverage row as `CoverageRowSerializer` (the schema's description of it) represents it,
    built directly: for a regency's hundreds of villages, the serializer's field machinery costs
    more than computing the rows. Percentages are already rounded to 2 places (coverage.figures,
    the targets' decimal field)."""
    return {
        "code": row.code,
        "name": row.name,
        "serving": row.serving,
        "protected": row.protected,
        "unprotected": row.unprotected,
        "coverage_pct": row.coverage_pct,
        "target_pct": row.target_pct,
        "gap_to_target": row.gap_to_target,
    }


# Region codes and names as JSON text, kept: the same few thousand are written again and again.
_encode_text = functools.lru_cache(maxsize=100_000)(JSONEncoder(ensure_ascii=False).encode)


def coverage_rows_json(rows: Iterable[CoverageFigures]) -> str:
    """Coverage rows as the JSON text DRF's renderer makes of `coverage_row_data` (a test holds
    them to it), written directly: for a regency's hundreds of villages the encoder's work per
    value costs more than reading them. Each row's text is a function of its five values, kept
    for the next answer that has the same (most rows of a regency stay as they were from one
    request to the next)."""
    if isinstance(rows, RegionRows):  # the page's text kept while its regions and figures stay
        return rows.kept(_region_rows_json)
    text = "[" + ",".join([_row_json(r.code, r.name, r.serving, r.protected, r.target_pct) for r in rows]) + "]"
    return _for_javascript(text)


def _region_rows_json(rows: RegionRows) -> str:
    return _for_javascript("[" + ",".join(rows.each(_row_json)) + "]")


def _for_javascript(text: str) -> str:
    """As DRF's renderer does: these two are valid JSON but not valid JavaScript."""
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@functools.lru_cache(maxsize=100_000)  # at most a row per village of the country, ~30 MB
def _row_json(code: str, name: str, serving: int, protected: int, target: Decimal | None) -> str:
    """One coverage row as JSON text. The percentages and the gap are computed from integers, as
    `coverage.figures` computes them with decimals (rounded half up)."""
    pct = "null" if serving <= 0 else repr((protected * 20000 + serving) // (2 * serving) / 100)
    if target is None:
        target_text = gap = "null"
    else:
        hundredths = int(target * 100)
        target_text = repr(float(target))
        gap = str(max(0, (2 * hundredths * serving + 10000) // 20000 - protected))
    return (
        f'{{"code":{_encode_text(code)},"name":{_encode_text(name)},"serving":{serving},'
        f'"protected":{protected},"unprotected":{serving - protected},"coverage_pct":{pct},'
        f'"target_pct":{target_text},"gap_to_target":{gap}}}'
    )


def detail_payload(detail: RegionDetail) -> dict[str, Any]:
    figures = detail.figures
    return {
        "code": detail.region.code,
        "name": detail.region.name,
        "level": detail.region.level,
        "as_of": detail.as_of,
        **CoverageRowSerializer(figures).data,
        "rank": detail.rank,
        "ranked_siblings": detail.siblings,
        "compare": detail.compare_date,
        "compare_coverage_pct": detail.compare_coverage_pct,
        "change_pct_points": detail.change_pct_points,
        "by_institution": detail.by_institution,
        "by_funding_source": detail.by_funding_source,
        "premium_estimate": detail.premium,
    }


def region_detail_data(
    *, code: str, as_of: datetime.date, compare: datetime.date | None, scope: Scope
) -> dict[str, Any]:
    """A region's detail as the answer shows it."""
    return detail_payload(region_detail(code=code, as_of=as_of, compare=compare, scope=scope))


class CoverageGeoView(GenericAPIView):
    """Coverage of every region of a level under a parent as a map: a GeoJSON FeatureCollection
    whose features are the regions (`id` their code, `properties` their coverage row, the
    geometry simplified for a map of them all; null for a region without a boundary)."""

    permission_classes = [CapabilityRequired]
    required_capabilities = READ_COVERAGE
    serializer_class = CoverageFeatureCollectionSerializer
    renderer_classes = [GeoJSONRenderer, ComposedJSONRenderer]
    queryset = VillageCoverage.objects.none()  # features are composed; this only names the model for the schema
    pagination_class = None
    query_parameters = {"get": (CoverageGeoQuerySerializer,)}  # core.api.parameters
    error_statuses = {"get": (404,)}  # a parent outside the caller's regions, or none

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Any:
        if response.status_code >= 400:  # errors in the API's one error shape, as JSON
            request.accepted_renderer = ComposedJSONRenderer()
            request.accepted_media_type = ComposedJSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def answer_region(self, request: Request, kwargs: dict[str, Any]) -> str | None:
        return region_asked(request.query_params.get("parent"))

    @extend_schema(parameters=[CoverageGeoQuerySerializer], responses=CoverageFeatureCollectionSerializer)
    @replica_reads()  # the figures may come from a replica (core.routing)
    @conditional_answer
    def get(self, request: Request) -> Response:
        params = query(CoverageGeoQuerySerializer, request)
        as_of = check_as_of(params.get("as_of"))
        # Composed as bytes and kept: the outlines are stored as GeoJSON text, never parsed.
        return Response(cached(coverage_geo_body, params, as_of, scope_for(request.user)))


def coverage_geo_body(params: dict[str, Any], as_of: datetime.date, scope: Scope) -> bytes:
    """The FeatureCollection asked for, as bytes: each region's row (as `GET /coverage/`
    serializes it) and its stored outline, by code."""
    rows = coverage_rows_data({**params, "ordering": "code"}, as_of, scope)
    outlines = outlines_of([row["code"] for row in rows], params["level"])
    encode = JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    features = ",".join(
        '{"type":"Feature","id":'
        + encode(row["code"])
        + ',"properties":'
        + encode(row)
        + ',"geometry":'
        + outlines.shapes.get(row["code"], "null")
        + "}"
        for row in rows
    )
    bbox = encode(list(outlines.bbox)) if outlines.bbox else "null"
    return ('{"type":"FeatureCollection","bbox":' + bbox + ',"features":[' + features + "]}").encode()


class CoverageDetailView(GenericAPIView):
    """One region (any level): figures, breakdowns, rank among siblings, change, premium estimate."""

    permission_classes = [CapabilityRequired]
    required_capabilities = READ_COVERAGE
    serializer_class = CoverageRowSerializer
    path_example = "15.08"
    region_code_in_path = True  # `<region:code>`: `1508` is `15.08` (core.codes); the schema says so
    query_parameters = {"get": (CoverageDetailQuerySerializer,)}

    def answer_region(self, request: Request, kwargs: dict[str, Any]) -> str | None:
        """A region below a province is ranked among its siblings, in its province; a province is
        ranked among all of them (coverage.caching)."""
        code = region_asked(kwargs.get("code"))
        return code if code is not None and "." in code else None

    @extend_schema(parameters=[CoverageDetailQuerySerializer], responses=CoverageDetailSerializer)
    @replica_reads()  # the figures may come from a replica (core.routing)
    @conditional_answer
    def get(self, request: Request, code: str) -> Response:
        params = query(CoverageDetailQuerySerializer, request)
        as_of = check_as_of(params.get("as_of"))
        detail = cached(
            region_detail_data,
            code=code,
            as_of=as_of,
            compare=params.get("compare"),
            scope=scope_for(request.user),
        )
        return Response(detail)


class CoverageTrendView(GenericAPIView):
    """A region's coverage over time, from stored snapshots: the last snapshot of each period."""

    permission_classes = [CapabilityRequired]
    required_capabilities = READ_COVERAGE
    serializer_class = CoverageRowSerializer
    path_example = "15.08"
    region_code_in_path = True  # `<region:code>`: `1508` is `15.08` (core.codes); the schema says so
    query_parameters = {"get": (TrendQuerySerializer,)}

    def answer_region(self, request: Request, kwargs: dict[str, Any]) -> str | None:
        """A trend reads the region's own snapshots (coverage.caching)."""
        return region_asked(kwargs.get("code"))

    @extend_schema(parameters=[TrendQuerySerializer], responses=TrendSerializer)
    @replica_reads()  # the figures may come from a replica (core.routing)
    @conditional_answer
    def get(self, request: Request, code: str) -> Response:
        params = query(TrendQuerySerializer, request)
        points = cached(
            trend,
            code=code,
            start=params["start"],
            end=params["end"],
            interval=params["interval"],
            scope=scope_for(request.user),
        )
        return Response({"code": code, "interval": params["interval"], "points": points})


class UnprotectedVillagesView(ExportMixin, GenericAPIView):
    """Villages with unprotected workers today, most unprotected first (JSON, CSV, XLSX)."""

    permission_classes = [CapabilityRequired]
    required_capabilities = READ_COVERAGE
    serializer_class = UnprotectedVillageSerializer
    queryset = VillageCoverage.objects.none()  # rows are computed; this only names the model for the schema
    export_name = "unprotected-villages"
    query_parameters = {"get": (UnprotectedVillagesQuerySerializer, *PAGES)}

    @extend_schema(parameters=[UnprotectedVillagesQuerySerializer], responses=UnprotectedVillageSerializer(many=True))
    @replica_reads()  # the figures may come from a replica (core.routing)
    @conditional_answer
    def get(self, request: Request) -> Response:
        # Conditional only, nothing `cached`: the rows are paged by the database, not computed whole.
        params = query(UnprotectedVillagesQuerySerializer, request)
        rows = unprotected_villages(
            scope=scope_for(request.user), branch=params.get("branch"), regency=params.get("regency")
        )
        return self.list_response(rows, UnprotectedVillageSerializer)


@method_decorator(replica_reads(), name="list")
@method_decorator(replica_reads(), name="retrieve")
class TargetViewSet(viewsets.ModelViewSet):
    """Coverage targets per year, region and kind; a region without one inherits its ancestor's."""

    queryset = Target.objects.none()  # names the model for the schema; get_queryset scopes the rows
    serializer_class = TargetSerializer
    permission_classes = [CapabilityRequired]
    required_capabilities = {
        "list": Capability.READ_COVERAGE,
        "retrieve": Capability.READ_COVERAGE,
        "create": Capability.MANAGE_TARGETS,
        "update": Capability.MANAGE_TARGETS,
        "partial_update": Capability.MANAGE_TARGETS,
        "destroy": Capability.MANAGE_TARGETS,
    }

    def get_queryset(self):
        # Targets of regions outside the caller's scope do not exist for it (404, never 403).
        return Target.objects.filter(scope_for(self.request.user).code_q())

    def _check_target_scope(self, region_code: str) -> None:
        """Province officers set targets of the regencies of their province; admins any."""
        scope = scope_for(self.request.user)
        if scope.everything:
            return
        if not (level_for_code(region_code) == "regency" and scope.contains_code(region_code)):
            raise ServiceError(
                _("You may set targets only for the regencies/cities of your province."),
                field="region_code",
                code="target_out_of_scope",
            )

    def perform_create(self, serializer):
        self._check_target_scope(serializer.validated_data["region_code"])
        serializer.save()

    def perform_update(self, serializer):
        self._check_target_scope(serializer.instance.region_code)
        self._check_target_scope(serializer.validated_data.get("region_code", serializer.instance.region_code))
        serializer.save()

    def perform_destroy(self, instance):
        self._check_target_scope(instance.region_code)
        instance.delete()

    filterset_class = TargetFilterSet
    ordering_fields = ["year", "region_code"]
    ordering = ["kind", "year", "region_code"]


AS_OF_SUMMARY = OpenApiParameter(
    "as_of", datetime.date, required=False, description="The date (default today): the latest figure on or before it."
)
AS_OF_FIGURE = OpenApiParameter("as_of", datetime.date, required=True, description="The date of the figure to change.")


@extend_schema_view(
    update=extend_schema(parameters=[AS_OF_FIGURE]),
    partial_update=extend_schema(parameters=[AS_OF_FIGURE]),
    destroy=extend_schema(parameters=[AS_OF_FIGURE]),
)
class WorkforceViewSet(RegionCodeInPath, viewsets.ModelViewSet):
    """UC Jamsostek workforce figures; `workforce/{code}/?as_of=` summarizes a region on a date."""

    queryset = WorkforceFigure.objects.all()
    serializer_class = WorkforceFigureSerializer
    permission_classes = [CapabilityRequired]
    required_capabilities = {
        "list": Capability.READ_COVERAGE,
        "retrieve": Capability.READ_COVERAGE,
        "create": Capability.ADMIN,
        "update": Capability.ADMIN,
        "partial_update": Capability.ADMIN,
        "destroy": Capability.ADMIN,
    }

    def get_queryset(self):
        return WorkforceFigure.objects.filter(scope_for(self.request.user).code_q())

    filterset_class = WorkforceFilterSet
    ordering_fields = ["date", "region_code"]
    ordering = ["region_code", "date"]
    path_example = "15"  # either spelling of the code (RegionCodeInPath)
    # A region's summary on a date; a figure to change, by its date.
    query_parameters = {action: ("as_of",) for action in ("retrieve", "update", "partial_update", "destroy")}

    @extend_schema(responses=WorkforceRowSerializer(many=True))
    @replica_reads()
    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(list(self.filter_queryset(self.get_queryset())))
        assert page is not None  # every list is paginated (DEFAULT_PAGINATION_CLASS)
        return self.get_paginated_response(workforce_enriched(page))

    @extend_schema(parameters=[AS_OF_SUMMARY], responses=WorkforceSummarySerializer)
    @replica_reads()
    def retrieve(self, request: Request, code: str | None = None, *args, **kwargs) -> Response:
        params = query(CoverageDetailQuerySerializer, request)
        as_of = check_as_of(params.get("as_of"))
        assert code is not None  # the route (workforce/{code}/) always passes it
        return Response(workforce_summary(code=code, as_of=as_of, scope=scope_for(self.request.user)))

    def get_object(self):
        # Writes address one figure by region code and the `date` query parameter.
        params = query(CoverageDetailQuerySerializer, self.request)
        date = params.get("as_of")
        if date is None:
            raise ServiceError(_("Name the figure's date with ?as_of=YYYY-MM-DD."), field="as_of")
        figure = self.get_queryset().filter(region_code=self.kwargs["code"], date=date).first()
        if figure is None:
            raise NotFoundError(_("No such workforce figure."), field="code")
        self.check_object_permissions(self.request, figure)
        return figure


# -- aggregate exports (coverage.api.exports) -------------------------------------------------


def coverage_periods_found(params: dict[str, Any], scope: Scope) -> list[PeriodRows]:
    """The coverage rows of every period asked for."""
    return coverage_by_period(
        level=params["level"],
        parent=params.get("parent"),
        start=params["start"],
        end=params.get("end"),
        period_type=params["period_type"],
        scope=scope,
    )


_Export = TypeVar("_Export", bound="CoverageExportView")


def queued_first(
    handler: Callable[[_Export, Request], HttpResponseBase],
) -> Callable[[_Export, Request], HttpResponseBase]:
    """An aggregate export's handler, but first the job that makes it if the request asks for one:
    queued before `conditional_answer` looks up an answer kept for the same query."""

    @functools.wraps(handler)  # its marks too (`conditional_answers`: the schema's 304)
    def get(view: _Export, request: Request) -> HttpResponseBase:
        return view.queued(request) or handler(view, request)

    return get


class CoverageExportView(GenericAPIView):
    """What both aggregate exports share: the query, the scope, the answer's region, and the
    same export made by a background job when asked (`background=true`, `Prefer: respond-async`)."""

    permission_classes = [CapabilityRequired]
    required_capabilities = READ_COVERAGE
    queryset = VillageCoverage.objects.none()  # values are computed; this only names the model for the schema
    pagination_class = None
    # core.api.parameters
    query_parameters = {"get": (CoverageExportQuerySerializer, BackgroundQuerySerializer)}
    error_statuses = {"get": (404,)}  # a parent outside the caller's regions, or none
    aggregate_format = ""  # "dhis2" or "adx": what `aggregate_file` makes

    def answer_region(self, request: Request, kwargs: dict[str, Any]) -> str | None:
        """The regions under a parent read that parent's province only (coverage.caching)."""
        return region_asked(request.query_params.get("parent"))

    def queued(self, request: Request) -> Response | None:
        """The 202 answer naming the job that makes this export, if the request asks for one (its
        query checked first: a bad one is the same 400 as at once); None to answer at once."""
        if not background_asked(request):
            return None
        query(CoverageExportQuerySerializer, request)
        user = signed_in_user(request)
        job = job_enqueue(
            kind=EXPORT_AGGREGATE,
            user=user,
            scope=scope_for(user),
            params={
                "format": self.aggregate_format,
                "path": request.path,
                "query": request.META.get("QUERY_STRING", ""),
            },
        )
        return job_accepted(request, job)


EXPORT_AGGREGATE = "export_aggregate"  # the background job of a DHIS2 or ADX export


def aggregate_file(kind: str, params: dict[str, Any], scope: Scope) -> tuple[bytes, str, str, int]:
    """A DHIS2 data value set (JSON) or an ADX message of the coverage `params` ask for, as a
    job keeps it: its bytes (those the endpoint answers), file name, content type and values."""
    found = coverage_periods_found(params, scope)
    values = sum(len(figures_of(row)) for period_rows in found for row in period_rows.rows)
    if kind == "dhis2":
        body = JSONRenderer().render(data_value_set(found, data_set=params["data_set"]))
        return body, "coverage-dhis2.json", "application/json", values
    body = adx_document(found, data_set=params["data_set"], exported=timezone.now())
    return body, "coverage-adx.xml", ADX_MEDIA_TYPE, values


def export_aggregate_run(job: Job, progress: Progress, prepared: object = None) -> Outcome:
    """`GET /api/v1/coverage/exports/dhis2/` or `/adx/` (params: `format`, the request's `path`
    and `query`) as a background job: the same figures and document (`aggregate_file`), for the
    requester's scope as it is now, its `read_coverage` asked again; the file kept as the job's
    (aggregates: no personal data, no access log, as the endpoints answer them)."""
    user = job.created_by
    scope = scope_for(user)
    if not isinstance(user, User) or not scope.can(Capability.READ_COVERAGE):
        raise JobForbidden(_("You may not read coverage figures."))
    checked = CoverageExportQuerySerializer(data=QueryDict(str(job.params["query"])))
    checked.is_valid(raise_exception=True)
    progress.report("export", 0, None)
    body, name, content_type, values = aggregate_file(str(job.params["format"]), dict(checked.validated_data), scope)
    progress.report("export", values, values)
    result = job_file_store(
        job=job,
        name=name,
        content_type=content_type,
        data=body,
        rows=values,
        personal_data=False,
        capability=Capability.READ_COVERAGE,
    )
    return Outcome(result)


class CoverageDhis2ExportView(CoverageExportView):
    """Coverage per region and period as a DHIS2 data value set (JSON), keyed by codes.

    The data elements `UCJ_SERVING`, `UCJ_PROTECTED`, `UCJ_UNPROTECTED` (whole numbers) and
    `UCJ_TARGET_PCT` (the region's target of the period's year, a percentage; absent without
    one); org units by Kemendagri code; periods as DHIS2 writes them (`202412`, `2024Q4`, `2024`).
    A period's figures are coverage as at its last day, or today for the period still running, as
    `GET /coverage/?as_of=` gives them. Import into DHIS2 with
    `POST /api/dataValueSets?idScheme=CODE` (or `dataElementIdScheme=CODE&orgUnitIdScheme=CODE`).
    """

    renderer_classes = [ComposedJSONRenderer]
    serializer_class = DataValueSetSerializer
    aggregate_format = "dhis2"

    @extend_schema(
        parameters=[CoverageExportQuerySerializer, BackgroundQuerySerializer],
        responses={200: DataValueSetSerializer, 202: queued_answer(EXPORT_AGGREGATE)},
    )
    @queued_first
    @replica_reads()  # the figures may come from a replica (core.routing)
    @conditional_answer
    def get(self, request: Request) -> Response:
        params = query(CoverageExportQuerySerializer, request)
        found = cached(coverage_periods_found, params, scope_for(request.user))
        return Response(data_value_set(found, data_set=params["data_set"]))


ADX_EXAMPLE = """<?xml version='1.0' encoding='utf-8'?>
<adx xmlns="urn:ihe:qrph:adx:2015" exported="2024-12-02T08:00:00Z">
<group orgUnit="15.08" period="2024-12-01/P1M" dataSet="UCJ_COVERAGE">
<dataValue dataElement="UCJ_SERVING" value="8840" />
<dataValue dataElement="UCJ_PROTECTED" value="2934" />
<dataValue dataElement="UCJ_UNPROTECTED" value="5906" />
<dataValue dataElement="UCJ_TARGET_PCT" value="55" />
</group>
</adx>"""


class CoverageAdxExportView(CoverageExportView):
    """Coverage per region and period as an IHE ADX message (XML), keyed by codes.

    One `group` per region (`orgUnit`, its Kemendagri code) and period (`period`, an ISO 8601 start
    and duration: `2024-12-01/P1M`, `2024-10-01/P3M`, `2024-01-01/P1Y`), in the data set `dataSet`,
    with the same data elements and values as the DHIS2 export. Import into DHIS2 with
    `POST /api/dataValueSets` and `Content-Type: application/adx+xml`, `?idScheme=CODE`.
    """

    renderer_classes = [ADXRenderer]
    aggregate_format = "adx"

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Any:
        if response.status_code >= 400:  # errors in the API's one error shape, as JSON
            request.accepted_renderer = ComposedJSONRenderer()
            request.accepted_media_type = ComposedJSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        parameters=[CoverageExportQuerySerializer, BackgroundQuerySerializer],
        responses={
            (200, ADX_MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.STR,
                description="An ADX message (namespace `urn:ihe:qrph:adx:2015`).",
                examples=[
                    OpenApiExample(
                        "bungo",
                        summary="Kabupaten Bungo in December 2024",
                        value=ADX_EXAMPLE,
                        media_type=ADX_MEDIA_TYPE,
                    )
                ],
            ),
            (202, "application/json"): queued_answer(EXPORT_AGGREGATE),
        },
    )
    @queued_first
    @replica_reads()  # the figures may come from a replica (core.routing)
    @conditional_answer
    def get(self, request: Request) -> Response:
        params = query(CoverageExportQuerySerializer, request)
        found = cached(coverage_periods_found, params, scope_for(request.user))
        return Response(adx_document(found, data_set=params["data_set"], exported=timezone.now()))
