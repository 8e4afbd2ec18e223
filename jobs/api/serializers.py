from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from jobs.models import Job

JOB_EXAMPLE = {
    "id": 7,
    "url": "/api/v1/jobs/7/",
    "kind": "import_workers",
    "state": "running",
    "phase": "check",
    "rows_done": 40000,
    "rows_total": 100000,
    "percent": 40,
    "created_by": "pmd.bungo",
    "everywhere": False,
    "region_codes": ["15.08"],
    "attempts": 1,
    "outcome_status": None,
    "result": None,
    "created_at": "2026-12-06T09:00:00+07:00",
    "started_at": "2026-12-06T09:00:01+07:00",
    "finished_at": None,
    "heartbeat_at": "2026-12-06T09:00:07+07:00",
}

# A job as the request that queues it answers (202).
QUEUED_JOB_EXAMPLE = {
    **JOB_EXAMPLE,
    "state": "queued",
    "phase": "",
    "rows_done": 0,
    "rows_total": None,
    "percent": None,
    "attempts": 0,
    "started_at": None,
    "heartbeat_at": None,
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("running", summary="An import, 40% checked", value=JOB_EXAMPLE),
        OpenApiExample(
            "succeeded",
            summary="An import, written",
            value={
                **JOB_EXAMPLE,
                "state": "succeeded",
                "phase": "write",
                "rows_done": 100000,
                "percent": 100,
                "outcome_status": 201,
                "result": {"import": 43, "rows": 100000, "created": 100000, "committed": True},
                "finished_at": "2026-12-06T09:00:21+07:00",
            },
        ),
    ]
)
class JobSerializer(serializers.ModelSerializer):
    """A background job: its state and how far it got (rows done of rows in all)."""

    url = serializers.SerializerMethodField(help_text="This job's address: poll it until `state` is final.")
    created_by = serializers.CharField(
        source="created_by.username", default=None, allow_null=True, help_text="Who asked for it (null: a schedule)."
    )
    percent = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="rows_done of rows_total, 0 to 100 (null: total not known yet)."
    )
    region_codes = serializers.ListField(
        child=serializers.CharField(), help_text="The requester's regions when it was asked for (empty: every region)."
    )
    result = serializers.JSONField(
        allow_null=True,
        help_text=(
            "Once finished: the answer the same work gives synchronously (an import's summary, or the "
            "error body with its rows' errors), with `outcome_status` its HTTP status."
        ),
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "url",
            "kind",
            "state",
            "phase",
            "rows_done",
            "rows_total",
            "percent",
            "created_by",
            "everywhere",
            "region_codes",
            "attempts",
            "outcome_status",
            "result",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
        ]
        extra_kwargs = {
            "state": {"help_text": "queued, running, succeeded or failed."},
            "phase": {"help_text": "What the job is doing (an import: read, check, write)."},
            "attempts": {"help_text": "Runs started (more than one: a worker stopped and the job ran again)."},
            "outcome_status": {"help_text": "The HTTP status the same work answers synchronously."},
            "heartbeat_at": {"help_text": "When its worker last said it was alive."},
        }

    def get_url(self, job: Job) -> str:
        return f"/api/v1/jobs/{job.pk}/"
