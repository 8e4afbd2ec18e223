"""Spreadsheet endpoints: the import template, uploads, and the record of past imports."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.permissions import CapabilityRequired, signed_in_user
from access.choices import AccessKind, Capability
from access.context import may_see_personal_data, scope_for
from access.services import access_log_write, nik_lookups_record
from core.api.renderers import CSVRenderer, XLSXRenderer
from core.errors import ServiceError
from enrollment import import_services, spreadsheets
from enrollment.choices import EventSource
from enrollment.imports import UPLOAD_OVERHEAD, ImportFileError, upload_size_check
from enrollment.jobs import IMPORT_WORKERS, import_body
from enrollment.models import WorkerImport
from enrollment.selectors import worker_imports_visible
from enrollment.services import Actor
from jobs.api.serializers import QUEUED_JOB_EXAMPLE, JobSerializer
from jobs.services import job_enqueue

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PayloadTooLarge(ServiceError):
    status_code = 413
    default_code = "file_too_large"


class ImportUploadSerializer(serializers.Serializer):
    """A spreadsheet of workers to import, and how."""

    file = serializers.FileField(help_text="CSV (UTF-8, comma or semicolon) or XLSX, with the template's columns.")
    dry_run = serializers.BooleanField(default=False, help_text="Check every row and write nothing.")
    all_or_nothing = serializers.BooleanField(
        default=True, help_text="Write no row if any is invalid (false: write the valid rows)."
    )
    background = serializers.BooleanField(
        default=False,
        help_text=(
            "Run the import as a background job (as does the header `Prefer: respond-async`): the answer is "
            "202 with the job (`Location`); poll it for progress, its `result` is this endpoint's answer."
        ),
    )


# A dry run of a file with one row: the worker the worker examples register (enrollment.api.examples).
IMPORT_SUMMARY = {
    "import": 42,
    "rows": 1,
    "created": 1,
    "updated": 0,
    "unchanged": 0,
    "rejected": 0,
    "committed": False,
    "dry_run": True,
    "errors": [],
    "errors_omitted": 0,
}
UPLOAD_EXAMPLES = [
    OpenApiExample(
        "dry-run",
        summary="Check a file of one worker without writing it",
        value={"file": "aparatur-pedukun.csv", "dry_run": True, "all_or_nothing": True},
        media_type="multipart/form-data",
        request_only=True,
    ),
    OpenApiExample(
        "checked", summary="Checked: one worker would be created", value=IMPORT_SUMMARY, status_codes=["200"]
    ),
    OpenApiExample(
        "written",
        summary="Written: one worker created",
        value={**IMPORT_SUMMARY, "import": 43, "committed": True, "dry_run": False},
        status_codes=["201"],
    ),
    OpenApiExample(
        "queued",
        summary="Queued as a background job (`background=true`): poll its address",
        value=QUEUED_JOB_EXAMPLE,
        status_codes=["202"],
    ),
]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "written",
            summary="A file of one worker, written",
            value={
                "id": 43,
                "created_at": "2026-12-05T10:02:51.903114+07:00",
                "created_by": "pmd.bungo",
                "source": "import",
                "file_name": "aparatur-pedukun.csv",
                "size": 213,
                "checksum": "9b2f7c0d41e6a8f35b1c9e07d2a4f68c3e5b7a9d1f0c2e4a6b8d0f1e3c5a7b9d",
                "dry_run": False,
                "all_or_nothing": True,
                "committed": True,
                "summary": {key: value for key, value in UPLOAD_EXAMPLES[2].value.items() if key != "import"},
            },
        )
    ]
)
class WorkerImportSerializer(serializers.ModelSerializer):
    """One past import: who uploaded which file when, and what it did."""

    created_by = serializers.CharField(
        source="created_by.username", default=None, allow_null=True, help_text="Who uploaded it (null: a command)."
    )

    class Meta:
        model = WorkerImport
        fields = [
            "id",
            "created_at",
            "created_by",
            "source",
            "file_name",
            "size",
            "checksum",
            "dry_run",
            "all_or_nothing",
            "committed",
            "summary",
        ]
        extra_kwargs = {"summary": {"help_text": "The import's answer: counts of rows and the errors found."}}


ROW_ERROR = inline_serializer(
    "ImportRowError",
    {
        "row": serializers.IntegerField(help_text="The row's number in the file (the header is row 1)."),
        "column": serializers.CharField(allow_null=True, help_text="The column at fault, if one is."),
        "message": serializers.CharField(),
    },
)
SUMMARY_FIELDS: dict[str, serializers.Field] = {
    "import": serializers.IntegerField(help_text="The import's id (`/api/v1/imports/{id}/`)."),
    "rows": serializers.IntegerField(),
    "created": serializers.IntegerField(),
    "updated": serializers.IntegerField(),
    "unchanged": serializers.IntegerField(),
    "rejected": serializers.IntegerField(),
    "committed": serializers.BooleanField(help_text="Whether the rows were written."),
    "dry_run": serializers.BooleanField(),
    "errors_omitted": serializers.IntegerField(help_text="Row errors found beyond those listed."),
}
IMPORT_RESULT = inline_serializer("ImportResult", {**SUMMARY_FIELDS, "errors": serializers.ListField(child=ROW_ERROR)})
# Rows refused (all or nothing): the error body, each error naming its row, with the summary.
IMPORT_REJECTED = inline_serializer(
    "ImportRejected",
    {
        **{name: type(field)(required=False, help_text=field.help_text) for name, field in SUMMARY_FIELDS.items()},
        "type": serializers.ChoiceField(choices=["validation_error", "client_error"]),
        "errors": serializers.ListField(
            child=inline_serializer(
                "ImportError",
                {
                    "code": serializers.CharField(),
                    "detail": serializers.CharField(),
                    "attr": serializers.CharField(allow_null=True),
                    "row": serializers.IntegerField(required=False, help_text="The row at fault, for a row's error."),
                },
            )
        ),
    },
)
FILE_ANSWER = {(200, XLSX_TYPE): OpenApiTypes.BINARY, (200, "text/csv"): OpenApiTypes.BINARY}


class WorkerImportUploadView(GenericAPIView):
    """Upload a CSV (UTF-8, comma or semicolon) or XLSX of workers. All or nothing by default;
    `dry_run=true` checks without writing. Rows are matched on NIK, so uploading the same file
    again changes nothing."""

    permission_classes = [CapabilityRequired]
    required_capabilities = {"post": Capability.WRITE_WORKERS}
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ImportUploadSerializer
    error_statuses = {"post": {409}}  # a row's worker changed by someone else meanwhile

    @extend_schema(
        examples=UPLOAD_EXAMPLES,
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            201: OpenApiResponse(IMPORT_RESULT, description="Written: the summary."),
            200: OpenApiResponse(IMPORT_RESULT, description="Checked only (`dry_run`): the summary."),
            400: OpenApiResponse(
                IMPORT_REJECTED, description="The file or some of its rows are invalid; nothing was written."
            ),
            202: OpenApiResponse(
                JobSerializer,
                description="Queued as a background job (`background`, `Prefer: respond-async`); `Location`: the job.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        try:
            upload_size_check(int(request.META.get("CONTENT_LENGTH") or 0), overhead=UPLOAD_OVERHEAD)
            serializer = ImportUploadSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            upload = serializer.validated_data["file"]
            upload_size_check(upload.size)
        except ImportFileError as exc:
            raise PayloadTooLarge(exc.message, field="file") from exc
        if serializer.validated_data["background"] or "respond-async" in request.headers.get("Prefer", ""):
            return self._enqueue(request, serializer.validated_data, upload.name, upload.read())
        try:
            record, summary = import_services.workers_import(
                actor=Actor(user=signed_in_user(request), source=EventSource.IMPORT),
                file_name=upload.name,
                data=upload.read(),
                dry_run=serializer.validated_data["dry_run"],
                all_or_nothing=serializer.validated_data["all_or_nothing"],
                before_matching=lambda rows, checksum: nik_lookups_record(
                    request=request, lookups=rows, field="file", looked_up=f"file_sha256={checksum}"
                ),
            )
        except ImportFileError as exc:
            raise ServiceError(exc.message, field="file", code=exc.code) from exc
        body, answer_status = import_body(record.pk, summary)
        return Response(body, status=answer_status)

    @staticmethod
    def _enqueue(request: Request, options: dict, file_name: str, data: bytes) -> Response:
        """The import as a background job for the caller (enrollment.jobs.import_workers_run)."""
        user = signed_in_user(request)
        job = job_enqueue(
            kind=IMPORT_WORKERS,
            user=user,
            scope=scope_for(user),
            data=data,
            params={
                "file_name": file_name,
                "dry_run": options["dry_run"],
                "all_or_nothing": options["all_or_nothing"],
                "source": EventSource.IMPORT,
                "field": "file",
                "path": request.path,
                "query": request.META.get("QUERY_STRING", ""),
            },
        )
        body = JobSerializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class WorkerImportTemplateView(GenericAPIView):
    """The spreadsheet to fill: XLSX (default) with a sheet of allowed values, or `?format=csv`."""

    permission_classes = [CapabilityRequired]
    required_capabilities = {"get": Capability.WRITE_WORKERS}
    serializer_class = ImportUploadSerializer
    # The file is built by hand below; these renderers only let `?format=` through negotiation
    # (and render errors as JSON).
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["xlsx", "csv"], required=False)],
        responses=FILE_ANSWER,
    )
    def get(self, request: Request) -> HttpResponse:
        if request.GET.get("format") == "csv":
            response = HttpResponse(spreadsheets.template_csv(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="ucj-desa-template.csv"'
            return response
        response = HttpResponse(spreadsheets.template_xlsx(), content_type=XLSX_TYPE)
        response["Content-Disposition"] = 'attachment; filename="ucj-desa-template.xlsx"'
        return response


class WorkerImportViewSet(viewsets.ReadOnlyModelViewSet):
    """Past imports: who, when, file, checksum, summary. Admins who may see personal data see
    all, others their own."""

    serializer_class = WorkerImportSerializer
    queryset = WorkerImport.objects.none()  # see get_queryset
    permission_classes = [CapabilityRequired]
    required_capabilities = {
        "list": Capability.WRITE_WORKERS,
        "retrieve": Capability.WRITE_WORKERS,
        "file": Capability.WRITE_WORKERS,
    }
    ordering = ["-id"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return worker_imports_visible(user=self.request.user)

    @extend_schema(responses=FILE_ANSWER)
    @action(detail=True, methods=["get"])
    def file(self, request: Request, pk=None) -> HttpResponse:
        """The original file, as uploaded."""
        record = self.get_object()
        if record.created_by_id != request.user.pk and not may_see_personal_data(request.user):
            # The file holds full NIKs, birth dates and phones: for its uploader, or those who may see them.
            raise PermissionDenied(_("The original file holds personal data you may not see."))
        data = WorkerImport.objects.filter(pk=record.pk).values_list("data", flat=True).get()
        access_log_write(request=request, kind=AccessKind.PERSONAL_DATA, worker_ids=[])
        content_type = XLSX_TYPE if record.file_name.lower().endswith(".xlsx") else "text/csv"
        response = HttpResponse(bytes(data), content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, record.file_name)
        return response
