"""Reconciliation endpoints: upload a BPJS extract (a dry run: outcomes by row), read the result
(JSON pages or XLSX), apply the accepted outcomes, download the extract's template."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpResponse, StreamingHttpResponse
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
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.permissions import CapabilityRequired, signed_in_user
from access.choices import AccessKind, Capability
from access.context import can_see_personal_data, scope_for
from access.services import access_log_write, nik_lookups_record
from core.api.parameters import PAGES
from core.api.renderers import CSVRenderer, XLSXRenderer
from core.errors import ServiceError
from enrollment import reconcile_services, spreadsheets
from enrollment.choices import EventSource, ReconciliationOutcome
from enrollment.imports import UPLOAD_OVERHEAD, ImportFileError, upload_size_check
from enrollment.jobs import JobForbidden, lookups_count_once
from enrollment.models import Reconciliation, ReconciliationRow
from enrollment.nik import birth_date_mask, nik_mask
from enrollment.recording import Actor
from jobs.api.serializers import QUEUED_JOB_EXAMPLE, JobSerializer
from jobs.models import Job
from jobs.registry import Outcome, Progress
from jobs.services import job_enqueue

from .imports import XLSX_TYPE, PayloadTooLarge

RECONCILE = "reconcile"  # the kind of background job of an extract reconciled (`reconcile_run`)

COUNTS = {"same": 2, "activate": 1, "lapse": 1, "renew": 1, "not_in_registry": 1, "probable_match": 1, "bad_row": 1}
SUMMARY = {
    "id": 7,
    "created_at": "2026-12-05T10:02:51.903114+07:00",
    "created_by": "bpjs.muara-bungo",
    "upload_date": "2026-12-05",
    "file_name": "sanding-data-bungo.xlsx",
    "size": 18231,
    "checksum": "9b2f7c0d41e6a8f35b1c9e07d2a4f68c3e5b7a9d1f0c2e4a6b8d0f1e3c5a7b9d",
    "nik_hashed": False,
    "state": "checked",
    "counts": COUNTS,
    "applied": {},
    "applied_at": None,
}
ROW = {
    "id": 301,
    "row_number": 2,
    "outcome": "activate",
    "worker": 98991,
    "nik": "1508************",
    "full_name": "Siti Aminah",
    "birth_date": None,
    "sex": "female",
    "bpjs_status": "aktif",
    "programs": "jkk,jkm",
    "paid_until": "2027-03-31",
    "kpj_number": "",
    "npp": "",
    "employer_name": "Pemerintah Desa Rantau Keloyang",
    "proposed": "activated",
    "proposed_values": {
        "effective_date": "2026-12-05",
        "coverage_start": "2026-12-05",
        "paid_until": "2027-03-31",
        "scheme": "bpu",
        "npp": "",
        "programs": ["jkk", "jkm"],
        "kpj_number": None,
    },
    "candidates": [],
    "column": "",
    "message": "",
    "decision": "pending",
    "applied_event": None,
}
TEMPLATE_HEADER = [
    "nik",
    "nama",
    "tanggal_lahir",
    "jenis_kelamin",
    "status",
    "program",
    "bayar_sampai",
    "kpj",
    "npp",
    "nama_pemberi_kerja",
]
TEMPLATE_EXAMPLE = [
    "1508015708850001",
    "Siti Aminah",
    "1985-08-17",
    "P",
    "aktif",
    "jkk,jkm",
    "2027-03-31",
    "",
    "",
    "Pemerintah Desa Rantau Keloyang",
]
FILE_ANSWER = {(200, XLSX_TYPE): OpenApiTypes.BINARY, (200, "text/csv"): OpenApiTypes.BINARY}


class ReconciliationUploadSerializer(serializers.Serializer):
    """A BPJS Ketenagakerjaan extract to reconcile with the registry in the caller's territory."""

    file = serializers.FileField(help_text="CSV (UTF-8) or XLSX with the template's columns (Indonesian or English).")
    nik_hashed = serializers.BooleanField(
        default=False, help_text="The column nik_hash holds HMAC-SHA256(branch secret, NIK) instead of the NIK."
    )
    background = serializers.BooleanField(
        default=False,
        help_text=(
            "Reconcile as a background job (as does the header `Prefer: respond-async`): the answer is 202 with "
            "the job (`Location`); its `result` is this endpoint's answer."
        ),
    )


class ApplySerializer(serializers.Serializer):
    """What to apply: every row of some outcomes, or chosen rows."""

    outcomes = serializers.ListField(
        child=serializers.ChoiceField(choices=["activate", "renew", "lapse"]),
        required=False,
        help_text="Apply every row of these outcomes.",
    )
    rows = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=100_000, help_text="Apply these rows."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("outcomes" in attrs) == ("rows" in attrs):
            raise serializers.ValidationError({"outcomes": _("Send either outcomes or rows.")})
        return attrs


class RejectSerializer(serializers.Serializer):
    """Which rows' proposals to reject."""

    rows = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=100_000,
        help_text="Reject these rows (activate, renew, lapse or probable_match).",
    )


@extend_schema_serializer(examples=[OpenApiExample("checked", summary="An extract checked", value=SUMMARY)])
class ReconciliationSerializer(serializers.ModelSerializer):
    """One reconciliation: who uploaded which extract when, the counts by outcome, what was applied."""

    created_by = serializers.CharField(
        source="created_by.username", default=None, allow_null=True, help_text="Who uploaded it."
    )

    class Meta:
        model = Reconciliation
        fields = [
            "id",
            "created_at",
            "created_by",
            "upload_date",
            "file_name",
            "size",
            "checksum",
            "nik_hashed",
            "state",
            "counts",
            "applied",
            "applied_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "counts": {"help_text": "Rows by outcome: " + ", ".join(ReconciliationOutcome.values) + "."},
            "applied": {"help_text": "Rows applied, by outcome."},
        }


@extend_schema_serializer(examples=[OpenApiExample("activate", summary="A proposed activation", value=ROW)])
class ReconciliationRowSerializer(serializers.ModelSerializer):
    """One outcome: the extract's row (none for a worker BPJS does not list), what BPJS says, the
    worker matched, the proposal and the decision. NIK and birth date masked without the
    personal-data right."""

    worker = serializers.IntegerField(source="worker_id", allow_null=True, read_only=True)
    birth_date = serializers.CharField(
        allow_null=True, read_only=True, help_text="Null without the personal-data right."
    )
    applied_event = serializers.IntegerField(source="applied_event_id", allow_null=True, read_only=True)
    proposed_values = serializers.DictField(read_only=True, help_text="The proposed change's values (dates ISO).")
    candidates = serializers.ListField(
        child=serializers.DictField(), read_only=True, help_text="Probable matches: worker, score, reason."
    )

    class Meta:
        model = ReconciliationRow
        fields = list(ROW)
        read_only_fields = fields

    def to_representation(self, row: ReconciliationRow) -> dict[str, Any]:
        full = can_see_personal_data(self.context.get("request"))
        data = super().to_representation(row)
        data["birth_date"] = (
            (row.birth_date.isoformat() if row.birth_date else None)
            if full
            else (birth_date_mask(row.birth_date) if row.birth_date else None)
        )
        if not full:
            data["nik"] = nik_mask(row.nik) if len(row.nik) == 16 else (row.nik[:8] + "…" if row.nik else "")
        return data


APPLIED = inline_serializer(
    "ReconciliationApplied", {o: serializers.IntegerField() for o in ("activate", "renew", "lapse")}
)

REJECTED = inline_serializer("ReconciliationRejected", {"rejected": serializers.IntegerField()})


class RowQuerySerializer(serializers.Serializer):
    """The rows' filter."""

    outcome = serializers.ChoiceField(choices=ReconciliationOutcome.values, required=False)


class ReconciliationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reconciliations with BPJS Ketenagakerjaan's membership list, in the caller's territory.
    Another branch's or province's are not found (404)."""

    serializer_class = ReconciliationSerializer
    queryset = Reconciliation.objects.none()  # see get_queryset
    permission_classes = [CapabilityRequired]
    required_capabilities = {
        "list": Capability.RECONCILE,
        "retrieve": Capability.RECONCILE,
        "create": Capability.RECONCILE,
        "rows": Capability.RECONCILE,
        "template": Capability.RECONCILE,
        "apply": Capability.MANAGE_ENROLLMENT,
        "reject": Capability.MANAGE_ENROLLMENT,
    }
    query_parameters = {"rows": (("outcome",), RowQuerySerializer, PAGES)}
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]
    error_statuses = {"apply": {409}, "reject": {409}}
    ordering = ["-id"]
    ordering_fields = ["id", "created_at"]
    path_example = 7

    def get_renderers(self):
        renderers = super().get_renderers()
        if getattr(self, "action", None) in ("rows", "template"):
            return renderers
        return [r for r in renderers if isinstance(r, JSONRenderer)]

    def get_parsers(self):
        # The upload is a file (multipart); everything else takes JSON.
        request = getattr(self, "request", None)
        if request is not None and self.action_map.get(request.method.lower()) == "create":
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    def get_queryset(self):
        user = self.request.user
        return reconcile_services.reconciliations_visible(user=user, scope=scope_for(user))

    @extend_schema(
        request={"multipart/form-data": ReconciliationUploadSerializer},
        responses={
            201: OpenApiResponse(ReconciliationSerializer, description="Checked: the counts by outcome."),
            202: OpenApiResponse(
                JobSerializer, description="Queued as a background job (`background`, `Prefer: respond-async`)."
            ),
        },
        examples=[
            OpenApiExample(
                "upload",
                summary="Check a branch's extract",
                value={"file": "sanding-data-bungo.xlsx", "nik_hashed": False},
                media_type="multipart/form-data",
                request_only=True,
            ),
            OpenApiExample("checked", summary="Checked", value=SUMMARY, status_codes=["201"]),
            OpenApiExample(
                "queued",
                summary="Queued as a background job: poll its address",
                value={**QUEUED_JOB_EXAMPLE, "kind": RECONCILE},
                status_codes=["202"],
            ),
        ],
    )
    def create(self, request: Request) -> Response:
        """Upload a BPJS extract: every row is matched on NIK in your territory and its outcome
        recorded (nothing else is written). Apply the accepted outcomes with `apply`."""
        limit = settings.UCJ_RECONCILE_MAX_BYTES
        try:
            upload_size_check(int(request.META.get("CONTENT_LENGTH") or 0), overhead=UPLOAD_OVERHEAD, limit=limit)
            serializer = ReconciliationUploadSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            upload = serializer.validated_data["file"]
            upload_size_check(upload.size, limit=limit)
        except ImportFileError as exc:
            raise PayloadTooLarge(exc.message, field="file") from exc
        if serializer.validated_data["background"] or "respond-async" in request.headers.get("Prefer", ""):
            user = signed_in_user(request)
            job = job_enqueue(
                kind=RECONCILE,
                user=user,
                scope=scope_for(user),
                data=upload.read(),
                params={
                    "file_name": upload.name,
                    "nik_hashed": serializer.validated_data["nik_hashed"],
                    "count_lookups": not can_see_personal_data(request),
                    "field": "file",
                    "path": request.path,
                    "query": request.META.get("QUERY_STRING", ""),
                },
            )
            body = JobSerializer(job).data
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})
        try:
            record = reconcile_services.reconciliation_record(
                actor=Actor(user=signed_in_user(request), source=EventSource.RECONCILIATION),
                file_name=upload.name,
                data=upload.read(),
                nik_hashed=serializer.validated_data["nik_hashed"],
                before_matching=None
                if can_see_personal_data(request)
                else lambda rows, checksum: nik_lookups_record(
                    request=request, lookups=rows, field="file", looked_up=f"file_sha256={checksum}"
                ),
            )
        except ImportFileError as exc:
            raise ServiceError(exc.message, field="file", code=exc.code) from exc
        return Response(ReconciliationSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("outcome", str, enum=ReconciliationOutcome.values, required=False),
            OpenApiParameter("format", str, enum=["json", "xlsx"], required=False),
        ],
        responses={
            (200, "application/json"): ReconciliationRowSerializer(many=True),
            (200, XLSX_TYPE): OpenApiTypes.BINARY,
        },
        filters=False,
    )
    @action(detail=True, methods=["get"])
    def rows(self, request: Request, pk: Any = None) -> Response | StreamingHttpResponse:
        """The outcomes row by row (`?outcome=` one of them), as pages of JSON or `?format=xlsx`."""
        record = self.get_object()
        query = RowQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user = request.user
        rows = reconcile_services.rows_visible(record, user=user, scope=scope_for(user)).order_by("id")
        outcome = query.validated_data.get("outcome")
        if outcome:
            rows = rows.filter(outcome=outcome)
        full = can_see_personal_data(request)
        if getattr(request.accepted_renderer, "format", None) == "xlsx":
            worker_ids = list(rows.exclude(worker_id=None).values_list("worker_id", flat=True))
            if full:
                access_log_write(request=request, kind=AccessKind.PERSONAL_DATA, worker_ids=worker_ids)
            context = {"request": request}
            lines = (
                [value for value in ReconciliationRowSerializer(row, context=context).data.values()]
                for row in rows.iterator(chunk_size=2000)
            )
            response = StreamingHttpResponse(
                spreadsheets.stream_xlsx(list(ROW), ([_cell(v) for v in line] for line in lines)),
                content_type=XLSX_TYPE,
            )
            response["Content-Disposition"] = f'attachment; filename="reconciliation-{record.pk}.xlsx"'
            return response
        page = self.paginate_queryset(rows)
        data = ReconciliationRowSerializer(page, many=True, context={"request": request}).data
        worker_ids = [row["worker"] for row in data if row["worker"] is not None]
        if worker_ids and full:
            access_log_write(request=request, kind=AccessKind.PERSONAL_DATA, worker_ids=worker_ids)
        return self.get_paginated_response(data)

    @extend_schema(
        request=ApplySerializer,
        responses={200: OpenApiResponse(APPLIED, description="Rows applied, by outcome.")},
        examples=[
            OpenApiExample(
                "outcomes",
                summary="Apply every activation and renewal",
                value={"outcomes": ["activate", "renew"]},
                request_only=True,
            ),
            OpenApiExample(
                "applied", summary="Applied", value={"activate": 1, "renew": 1, "lapse": 0}, response_only=True
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: Any = None) -> Response:
        """Apply the chosen rows' proposals (`{"outcomes": [...]}`, or `{"rows": [ids]}`), all or
        nothing, as ordinary transitions (source
        `reconciliation`). 409 if a row was already applied or its worker changed since the check."""
        record = self.get_object()
        body = ApplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        applied = reconcile_services.reconciliation_apply(
            actor=Actor(user=signed_in_user(request), source=EventSource.RECONCILIATION),
            reconciliation=record,
            outcomes=body.validated_data.get("outcomes"),
            row_ids=body.validated_data.get("rows"),
        )
        return Response(applied)

    @extend_schema(
        request=RejectSerializer,
        responses={200: OpenApiResponse(REJECTED, description="How many rows were newly rejected.")},
        examples=[
            OpenApiExample("rows", summary="Reject a proposed activation", value={"rows": [301]}, request_only=True),
            OpenApiExample("rejected", summary="Rejected", value={"rejected": 1}, response_only=True),
        ],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: Any = None) -> Response:
        """Reject the chosen rows' proposals (`{"rows": [ids]}`: activate, renew, lapse or
        probable_match rows): their decision becomes `rejected`, nothing else is written. All or
        nothing; 409 if a row was already applied; rejecting a rejected row again changes nothing."""
        record = self.get_object()
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rejected = reconcile_services.reconciliation_rows_reject(
            actor=Actor(user=signed_in_user(request), source=EventSource.RECONCILIATION),
            reconciliation=record,
            row_ids=body.validated_data["rows"],
        )
        return Response({"rejected": rejected})

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["xlsx", "csv"], required=False)],
        responses=FILE_ANSWER,
        filters=False,
    )
    @action(detail=False, methods=["get"])
    def template(self, request: Request) -> HttpResponse:
        """The extract's template: XLSX (default) with a help sheet, or `?format=csv`."""
        if request.GET.get("format") == "csv":
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(TEMPLATE_HEADER)
            writer.writerow(TEMPLATE_EXAMPLE)
            response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="sanding-data-template.csv"'
            return response
        response = HttpResponse(template_xlsx(), content_type=XLSX_TYPE)
        response["Content-Disposition"] = 'attachment; filename="sanding-data-template.xlsx"'
        return response


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return str(value) if value else ""
    return value


HELP = [
    ("nik / nik_hash", "NIK, 16 digits as text; or with nik_hashed=true: HMAC-SHA256(branch secret, NIK), hex"),
    ("nama / name", "The participant's name"),
    ("tanggal_lahir / birth_date", "YYYY-MM-DD or DD/MM/YYYY"),
    ("jenis_kelamin / sex", "L or P (optional: used for probable matches)"),
    ("status", "aktif, non aktif, nonaktif, tidak aktif, meninggal, keluar, pindah (active/inactive)"),
    ("program / programs", "jkk, jkm, jht, jp"),
    ("bayar_sampai / paid_until", "Contributions paid up to (YYYY-MM-DD)"),
    ("kpj / kpj_number", "Optional: 11 digits"),
    ("npp", "Optional: the employer's NPP (a PU membership)"),
    ("nama_pemberi_kerja / employer_name", "Optional"),
]


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = "sanding-data"
    sheet.append(TEMPLATE_HEADER)
    sheet.append(TEMPLATE_EXAMPLE)
    for column in sheet.columns:
        for cell in column:
            cell.number_format = "@"
    help_sheet = book.create_sheet("petunjuk")
    help_sheet.append(["kolom / column", "isi / content"])
    for row in HELP:
        help_sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- as a background job (jobs.registry; registered in EnrollmentConfig.ready) -------------------


def _reconciler(job: Job) -> User:
    user = job.created_by
    if not isinstance(user, User) or not user.is_active or not scope_for(user).can(Capability.RECONCILE):
        raise JobForbidden(_("You may not reconcile."))
    return user


def reconcile_prepare(job: Job, progress: Progress) -> None:
    """The extract's rows counted as NIK lookups of a requester without the personal-data right,
    once per job and before its transaction (as the endpoint counts them before matching)."""
    user = _reconciler(job)
    if not job.params.get("count_lookups"):
        return
    data = bytes(job.data or b"")
    try:
        lookups = reconcile_services.extract_rows_count(file_name=str(job.params.get("file_name", "")), data=data)
    except ImportFileError as exc:
        raise ServiceError(exc.message, field="file", code=exc.code) from exc
    lookups_count_once(job, user=user, lookups=lookups, field="file", data=data)


def reconcile_run(job: Job, progress: Progress, prepared: object) -> Outcome:
    """The upload endpoint's reconciliation, for the job's requester with its scope as it is now;
    its result the endpoint's answer (201)."""
    user = _reconciler(job)
    progress.report("match", 0, None)
    try:
        record = reconcile_services.reconciliation_record(
            actor=Actor(user=user, source=EventSource.RECONCILIATION),
            file_name=str(job.params.get("file_name", "")),
            data=bytes(job.data or b""),
            nik_hashed=bool(job.params.get("nik_hashed", False)),
        )
    except ImportFileError as exc:
        raise ServiceError(exc.message, field="file", code=exc.code) from exc
    body = dict(ReconciliationSerializer(record).data)
    rows = sum(int(count) for count in (body.get("counts") or {}).values())
    progress.report("match", rows, rows)
    return Outcome(body, status.HTTP_201_CREATED)
