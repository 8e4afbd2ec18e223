"""What every endpoint that may run its work as a background job shares: the `background` query
parameter (or the header `Prefer: respond-async`), and the 202 answer naming the job."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from jobs.models import Job

from .serializers import QUEUED_JOB_EXAMPLE, JobSerializer


class BackgroundQuerySerializer(serializers.Serializer):
    """Whether a file is made as a background job."""

    background = serializers.BooleanField(
        default=False,
        help_text=(
            "Make the file as a background job (as does the header `Prefer: respond-async`). The answer is "
            "202 with the job (`Location`); poll it for progress; once it has succeeded its `result.file` "
            "is the file's address (`/api/v1/jobs/{id}/file/`), for you only, until it expires."
        ),
    )


def background_asked(request: Request, *, prefer: bool = True) -> bool:
    """Whether the request asks for its work as a background job: `?background=true` (a bad value
    is a 400 naming it) or, with `prefer`, the header `Prefer: respond-async`."""
    # Most requests do not name it (its default is no): a serializer checks only a value given.
    if "background" in request.query_params:
        serializer = BackgroundQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["background"]:
            return True
    return prefer and "respond-async" in request.headers.get("Prefer", "")


def job_accepted(request: Request, job: Job) -> Response:
    """The 202 answer to a request whose work was queued: the job, its address in `Location`, as
    JSON whatever file was asked for."""
    request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    body = JobSerializer(job).data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


@extend_schema_serializer(many=False)  # one job, not a page of them, though a list answers it
class QueuedJobSerializer(JobSerializer):
    """A background job: its state and how far it got (rows done of rows in all)."""


def queued_answer(kind: str, rows_total: int | None = None) -> OpenApiResponse:
    """The 202 answer of an operation whose file may be made as a background job (schema)."""
    return OpenApiResponse(
        QueuedJobSerializer,
        description=(
            "The file queued as a background job (`background=true` or `Prefer: respond-async`); `Location`: "
            "the job. Poll it; once succeeded, its `result.file` is the file's address."
        ),
        examples=[
            OpenApiExample(
                "queued",
                summary="Queued: poll its address",
                value={**QUEUED_JOB_EXAMPLE, "kind": kind, "rows_total": rows_total},
            )
        ],
    )
