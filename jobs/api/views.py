from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request

from access.api.permissions import CapabilityRequired
from core.api.permissions import PUBLIC
from jobs.models import Job
from jobs.selectors import job_file_for, jobs_visible

from .serializers import JobSerializer

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The files a job makes: the exports' formats (spreadsheets; DHIS2's JSON, ADX's XML).
FILE_ANSWER = {
    (200, XLSX_TYPE): OpenApiTypes.BINARY,
    (200, "text/csv"): OpenApiTypes.BINARY,
    (200, "application/json"): OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="A DHIS2 data value set (`/api/v1/coverage/exports/dhis2/` in the background).",
        examples=[
            OpenApiExample(
                "dhis2",
                summary="Kabupaten Bungo in December 2024, as DHIS2 imports it",
                value={
                    "dataSet": "UCJ_COVERAGE",
                    "dataValues": [
                        {"dataElement": "UCJ_SERVING", "period": "202412", "orgUnit": "15.08", "value": "8840"},
                        {"dataElement": "UCJ_PROTECTED", "period": "202412", "orgUnit": "15.08", "value": "2934"},
                    ],
                },
            )
        ],
    ),
    (200, "application/adx+xml"): OpenApiTypes.STR,
}


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Background jobs: one's own (all of them for an admin of every region who may see personal
    data), newest first; another's job is 404. Poll a job's address until `state` is `succeeded`
    or `failed`."""

    serializer_class = JobSerializer
    login_required = True  # any signed-in caller (its own jobs); an anonymous one gets 401
    queryset = Job.objects.none()  # see get_queryset
    permission_classes = [IsAuthenticated, CapabilityRequired]
    # The file's own rules (its owner's capability, regions, personal-data right) are job_file_for's.
    required_capabilities = {"list": PUBLIC, "retrieve": PUBLIC, "file": PUBLIC}
    error_statuses = {"file": {403}}  # the requester lost the right the file needs since
    ordering = ["-id"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return jobs_visible(user=self.request.user)

    @extend_schema(responses=FILE_ANSWER)
    @action(detail=True, methods=["get"])
    def file(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The file the job made (a large export), for the one who asked for it, until it
        expires (`UCJ_EXPORT_FILE_HOURS`, then 404); the job's `result.file` names this address."""
        found = job_file_for(user=request.user, job_id=int(pk or 0))
        response = HttpResponse(bytes(found.data), content_type=found.content_type)
        response["Content-Disposition"] = content_disposition_header(True, found.name)
        return response
